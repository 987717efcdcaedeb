import { quoteWord } from '../shell-quote.js';
import { SshConfigError } from './ssh-config.js';
import { hasControl } from './ssh-names.js';

/*
 * ssh fills %h, %r … into a ProxyCommand as plain text and hands the line to a shell, so a host
 * name holding "$(…)" runs a command. Here each value is quoted for the place where the shell
 * will read it: outside quotes, inside single quotes, inside double quotes. A value made only of
 * characters no shell reads goes in as it is, so an ordinary name gives the very line ssh runs.
 * Where the quoting cannot be followed with certainty (inside a command substitution, $'…', a
 * here-document), a value that needs quoting is refused instead.
 */

/** Characters no quoting context of sh or bash gives a meaning to. */
const INERT = /^[A-Za-z0-9_@%+=:,./-]*$/;

type Context = 'plain' | 'single' | 'double' | 'comment' | 'unsure';

interface Lexer {
  ctx: Context;
  /** The last character was an unquoted (or double-quoted) backslash. */
  escaped: boolean;
  /** The next character starts a word (for `#`). */
  wordStart: boolean;
  /** The last character was a `$` the shell reads: a value after it could become "$(…)". */
  afterDollar: boolean;
}

/** Moves the lexer over one character of the command as written. */
// eslint-disable-next-line complexity -- one arm per quoting rule of the shell; splitting them hides the table
function step(l: Lexer, c: string, next: string | undefined): void {
  const wordStart = l.wordStart;
  l.wordStart = false;
  l.afterDollar = false;
  if (l.ctx === 'comment' || l.ctx === 'unsure') return;
  if (l.escaped) {
    l.escaped = false;
    return;
  }
  if (l.ctx === 'single') {
    if (c === "'") l.ctx = 'plain';
    return;
  }
  const opens = c === '`' || (c === '$' && (next === '(' || next === '{' || (next === "'" && l.ctx === 'plain')));
  if (opens || (l.ctx === 'plain' && c === '<' && next === '<')) l.ctx = 'unsure';
  else if (c === '\\') l.escaped = true;
  else if (c === '$') l.afterDollar = true;
  else if (l.ctx === 'double') {
    if (c === '"') l.ctx = 'plain';
  } else if (c === "'") l.ctx = 'single';
  else if (c === '"') l.ctx = 'double';
  else if (c === '#' && wordStart) l.ctx = 'comment';
  else l.wordStart = /\s|[;&|()]/.test(c);
}

function quoteFor(l: Lexer, value: string, token: string, what: string): string {
  if (INERT.test(value)) return value;
  // No name or setting ssh reads holds a newline; one here could end a comment or a quote.
  if (hasControl(value))
    throw new SshConfigError(`${what}: the value of %${token} holds a control character: ${JSON.stringify(value)}`);
  const ctx: Context = l.escaped || l.afterDollar ? 'unsure' : l.ctx;
  if (ctx === 'plain') return quoteWord(value);
  if (ctx === 'single') return value.replace(/'/g, `'\\''`);
  if (ctx === 'double') return value.replace(/[$`"\\]/g, '\\$&');
  if (ctx === 'comment') return value;
  throw new SshConfigError(
    `${what}: %${token} stands where its quoting cannot be followed (a command substitution, $'…', a here-document, after a backslash or a $), and its value ${JSON.stringify(value)} holds characters a shell reads`,
  );
}

/**
 * Pure: `command` with each %X replaced by values[X], quoted for where it lands; %% is a percent
 * sign. An unknown token is refused, as ssh refuses it.
 */
export function expandShellTokens(command: string, values: Readonly<Record<string, string>>, what: string): string {
  const l: Lexer = { ctx: 'plain', escaped: false, wordStart: true, afterDollar: false };
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c !== '%') {
      step(l, c, command[i + 1]);
      out += c;
      continue;
    }
    const token = command[++i];
    if (token === '%') {
      step(l, '%', command[i + 1]);
      out += '%';
    } else if (token !== undefined && values[token] !== undefined) {
      out += quoteFor(l, values[token], token, what);
      Object.assign(l, { escaped: false, wordStart: false, afterDollar: false });
    } else throw new SshConfigError(`${what}: unknown token %${token ?? ''}`);
  }
  return out;
}
