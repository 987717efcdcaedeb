/**
 * The HOCON tokens, read as Typesafe Config's tokenizer reads them (the library the videobridge
 * reads jvb.conf with): the same whitespace, the same characters that end unquoted text, numbers
 * only where Java would parse one, JSON escapes in quoted strings and no raw control characters
 * there. Every problem is a HoconSyntaxError at the offset where it is.
 */

export class HoconSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly col: number,
    /** What is wrong, without the position. */
    readonly reason: string,
  ) {
    super(`line ${line}, column ${col}: ${reason}`);
    this.name = 'HoconSyntaxError';
  }
}

/** The 1-based line and column of an offset. */
export function positionOf(text: string, at: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let n = text.indexOf('\n'); n >= 0 && n < at; n = text.indexOf('\n', n + 1)) {
    line++;
    lineStart = n + 1;
  }
  return { line, col: at - lineStart + 1 };
}

export function syntaxError(text: string, at: number, reason: string): HoconSyntaxError {
  const { line, col } = positionOf(text, Math.min(at, text.length));
  return new HoconSyntaxError(line, col, reason);
}

export type TokenKind =
  | 'ws'
  | 'nl'
  | 'comment'
  | 'str'
  | 'unq'
  | 'num'
  | 'bool'
  | 'null'
  | 'subst'
  | '{'
  | '}'
  | '['
  | ']'
  | ':'
  | '='
  | '+='
  | ','
  | 'end';

export interface Token {
  k: TokenKind;
  /** Offsets of the token's text [s, e). */
  s: number;
  e: number;
  /** Strings: the value (unescaped); unquoted, numbers, booleans, null: the text. */
  v: string;
  /** Substitutions: the path and whether it is ${?optional}. */
  path?: string[];
  optional?: boolean;
}

/** Values that may stand next to each other in a concatenation or a key. */
export const SIMPLE: ReadonlySet<TokenKind> = new Set(['str', 'unq', 'num', 'bool', 'null', 'subst']);
const KEY_PART: ReadonlySet<TokenKind> = new Set(['str', 'unq', 'num', 'bool', 'null']);

// Java's Character.isWhitespace plus the no-break spaces and the BOM, as Typesafe Config has it.
// eslint-disable-next-line no-control-regex -- the separators U+001C-U+001F are whitespace to Java
const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const NOT_IN_UNQUOTED = '$"{}[]:=,+#`^?!@*&\\';
const NUMBER_CHARS = /[0-9eE+.-]/;
const JAVA_DOUBLE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Printable ASCII that may stand in unquoted text. */
const PLAIN_ASCII = Array.from(
  { length: 128 },
  (_, c) => !WHITESPACE.test(String.fromCharCode(c)) && !NOT_IN_UNQUOTED.includes(String.fromCharCode(c)),
);

export const isWhitespace = (c: string): boolean => WHITESPACE.test(c);

export class Lexer {
  private i = 0;
  private readonly ahead: Token[] = [];
  private inSubstitution = false;

  constructor(readonly text: string) {}

  fail(at: number, reason: string): never {
    throw syntaxError(this.text, at, reason);
  }

  next(): Token {
    return this.ahead.shift() ?? this.read();
  }

  /** The token n places ahead (0: the next one), without taking it. */
  peek(n = 0): Token {
    while (this.ahead.length <= n) this.ahead.push(this.read());
    return this.ahead[n]!;
  }

  private read(): Token {
    const t = this.text;
    const s = this.i;
    if (s >= t.length) return { k: 'end', s, e: s, v: '' };
    const c = t[s]!;
    if (c === '\n') return this.tok('nl', s + 1);
    if (WHITESPACE.test(c)) {
      let e = s + 1;
      while (e < t.length && t[e] !== '\n' && WHITESPACE.test(t[e]!)) e++;
      return this.tok('ws', e, t.slice(s, e));
    }
    if (c === '#' || (c === '/' && t[s + 1] === '/')) {
      const nl = t.indexOf('\n', s);
      return this.tok('comment', nl < 0 ? t.length : nl);
    }
    return this.readValueOrPunct(c, s);
  }

  private readValueOrPunct(c: string, s: number): Token {
    switch (c) {
      case '"':
        return this.readQuoted(s);
      case '$':
        if (this.inSubstitution) this.fail(s, 'a substitution cannot hold another substitution');
        return this.readSubstitution(s);
      case '+':
        if (this.text[s + 1] !== '=') this.fail(s, "'+' is not followed by '=' (quote the value if '+' is part of it)");
        return this.tok('+=', s + 2);
      case ':':
      case '=':
      case ',':
      case '{':
      case '}':
      case '[':
      case ']':
        return this.tok(c, s + 1);
    }
    if (/[0-9-]/.test(c)) return this.readNumber(s);
    if (NOT_IN_UNQUOTED.includes(c)) this.fail(s, `the character '${c}' is not allowed outside quotes`);
    return this.readUnquoted(s);
  }

  private tok(k: TokenKind, e: number, v = ''): Token {
    const s = this.i;
    this.i = e;
    return { k, s, e, v };
  }

  private readUnquoted(s: number): Token {
    const t = this.text;
    let e = s;
    while (e < t.length) {
      const code = t.charCodeAt(e);
      // Printable ASCII is decided by a table; anything else by the full rules.
      if (code < 128 ? !PLAIN_ASCII[code] : WHITESPACE.test(t[e]!)) break;
      if (code === 0x2f && t[e + 1] === '/') break;
      e++;
      // true, false and null are read as such at the start of unquoted text, whatever follows.
      const so = e - s === 4 || e - s === 5 ? t.slice(s, e) : '';
      if (so === 'true' || so === 'false') return this.tok('bool', e, so);
      if (so === 'null') return this.tok('null', e, so);
    }
    return this.tok('unq', e, t.slice(s, e));
  }

  private readNumber(s: number): Token {
    const t = this.text;
    let e = s + 1;
    while (e < t.length && NUMBER_CHARS.test(t[e]!)) e++;
    const n = t.slice(s, e);
    const isDouble = /[.eE]/.test(n);
    const ok = isDouble ? JAVA_DOUBLE.test(n) : /^-?\d+$/.test(n) && fitsLong(n);
    if (ok) return this.tok('num', e, n);
    // Not a number after all: unquoted text, unless it holds a '+'.
    if (n.includes('+')) this.fail(s + n.indexOf('+'), "the character '+' is not allowed outside quotes");
    return this.tok('unq', e, n);
  }

  private readQuoted(s: number): Token {
    const t = this.text;
    if (t.startsWith('"""', s)) return this.readTripleQuoted(s);
    let out = '';
    let e = s + 1;
    for (;;) {
      if (e >= t.length) this.fail(s, 'a quoted string is not closed');
      const c = t[e]!;
      if (c === '"') break;
      if (c === '\\') {
        const [v, len] = this.escape(e);
        out += v;
        e += len;
        continue;
      }
      if (c.charCodeAt(0) < 0x20)
        this.fail(
          e,
          c === '\n' ? 'a quoted string is not closed on its line' : `${controlName(c)} inside a quoted string`,
        );
      out += c;
      e++;
    }
    return this.tok('str', e + 1, out);
  }

  private escape(at: number): [string, number] {
    const t = this.text;
    const c = t[at + 1];
    if (c === undefined) this.fail(at, 'a backslash at the end of the file');
    if (c in ESCAPES) return [ESCAPES[c]!, 2];
    if (c === 'u') {
      const hex = t.slice(at + 2, at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex))
        this.fail(at, `\\u must be followed by 4 hex digits, not ${JSON.stringify(hex)}`);
      return [String.fromCharCode(parseInt(hex, 16)), 6];
    }
    return this.fail(at, `'\\${printable(c)}' is not a valid escape in a quoted string (write \\\\ for a backslash)`);
  }

  private readTripleQuoted(s: number): Token {
    const t = this.text;
    const end = t.indexOf('"""', s + 3);
    if (end < 0) this.fail(s, 'a """ string is not closed');
    let close = end + 3;
    while (t[close] === '"') close++; // """…"""" : the quotes before the last three belong to the string
    return this.tok('str', close, t.slice(s + 3, close - 3));
  }

  private readSubstitution(s: number): Token {
    const t = this.text;
    if (t[s + 1] !== '{') this.fail(s, "'$' is not followed by '{' (quote the value if '$' is part of it)");
    const optional = t[s + 2] === '?';
    this.i = s + (optional ? 3 : 2);
    const inner: Token[] = [];
    this.inSubstitution = true;
    for (let tk = this.read(); tk.k !== '}'; tk = this.read()) {
      if (tk.k === 'end') this.fail(s, 'a ${ substitution is not closed with }');
      inner.push(tk);
    }
    this.inSubstitution = false;
    const path = pathOf(this, inner, s, 'a substitution');
    return { k: 'subst', s, e: this.i, v: t.slice(s, this.i), path, optional };
  }
}

/**
 * A path expression (a key, or the inside of ${…}): unquoted parts split at dots, quoted parts
 * whole, whitespace between two parts kept, around them dropped.
 */
export function pathOf(lx: Lexer, tokens: readonly Token[], at: number, what: string): string[] {
  let first = 0;
  let last = tokens.length - 1;
  while (first <= last && tokens[first]!.k === 'ws') first++;
  while (last >= first && tokens[last]!.k === 'ws') last--;
  if (first > last) lx.fail(at, `${what} has no path`);
  const segs: { text: string; quoted: boolean }[] = [{ text: '', quoted: false }];
  for (const tk of tokens.slice(first, last + 1)) {
    if (tk.k !== 'ws' && !KEY_PART.has(tk.k))
      lx.fail(tk.s, `${what} cannot hold ${describe(tk)} (quote it if it is part of the name)`);
    const cur = segs[segs.length - 1]!;
    if (tk.k === 'str') {
      cur.text += tk.v;
      cur.quoted = true;
      continue;
    }
    const parts = tk.v.split('.');
    cur.text += parts[0]!;
    for (const p of parts.slice(1)) segs.push({ text: p, quoted: false });
  }
  if (segs.some((g) => g.text === '' && !g.quoted))
    lx.fail(at, `${what} has an empty part (a leading, trailing or doubled '.'; quote "" for an empty name)`);
  return segs.map((g) => g.text);
}

/** A token as a message names it. */
export function describe(tk: Token): string {
  if (tk.k === 'end') return 'the end of the file';
  if (tk.k === 'nl') return 'a line break';
  if (tk.k === 'subst') return `the substitution ${tk.v}`;
  if (tk.k === 'str' || tk.k === 'unq' || tk.k === 'num' || tk.k === 'bool' || tk.k === 'null')
    return `'${printable(tk.v.length > 40 ? `${tk.v.slice(0, 40)}…` : tk.v)}'`;
  if (tk.k === 'comment') return 'a comment';
  if (tk.k === 'ws') return 'whitespace';
  return `'${tk.k}'`;
}

function fitsLong(n: string): boolean {
  const b = BigInt(n);
  return b >= -(2n ** 63n) && b < 2n ** 63n;
}

function controlName(c: string): string {
  if (c === '\t') return 'a raw tab';
  if (c === '\r') return 'a raw carriage return';
  return `the control character U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is made visible
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
