/*
 * Pure: masks the value of every setting whose name says it is secret, whatever the value is. The
 * redactor masks the secrets it was told of; this masks those it never was (the old password in a
 * bridge's config, a key in a file someone else wrote), in every syntax a run shows: HOCON and JSON
 * (`PASSWORD = "…"`, `"password": "…"`), .properties (`…PASSWORD=…`, continued lines too), shell
 * (`JVB_SECRET='…'`, quotes spanning lines), debconf selections (`pkg q/name password …`) and
 * debconf's own database (`Name: …secret` then `Value: …`), and a password in a URL.
 */

export const MASK = '********';

/** The end of a setting's name that makes it secret: *password, *passwd, *passphrase, *secret, *_pass, *_key, *_token. */
const SECRET_END = String.raw`(?:password|passwd|passphrase|secret|_pass|[_.-]key|[_.-]token)`;

/** A name that is secret on its own (an inventory variable, a JSON field, an object key). */
export const SECRET_NAME = new RegExp(String.raw`^(?:[\w.-]*${SECRET_END}|pass|token)$`, 'i');

/** `NAME =`, `NAME:`, `NAME +=`, `"NAME":`: group 1 is everything up to where the value starts. */
const ASSIGNMENT = new RegExp(String.raw`((?:^|[^\w.-])["']?[\w.-]*${SECRET_END}["']?[ \t]*(?:\+?=|:)[ \t]*)`, 'gi');

/** A .properties line whose dotted key is secret and whose separator is blanks alone (`a.b.PASSWORD value`). */
const SPACED_PROPERTY = new RegExp(
  String.raw`^([ \t]*[\w-]+(?:\.[\w-]+)*\.[\w-]*${SECRET_END}[ \t]+)(?=[^ \t=:])`,
  'i',
);

/** A debconf selection: owner, question, type, value (debconf-set-selections' line). */
const SELECTION = /^([ \t]*\S+[ \t]+(\S+\/\S+)[ \t]+(\S+)[ \t]+)(.*)$/;
/** A debconf question whose name ends as a secret setting's does (jitsi-videobridge/jvbsecret). */
const SECRET_QUESTION = new RegExp(`${SECRET_END.replace('[_.-]key', '[_./-]key')}$`, 'i');
/** debconf's database: the Name: line of a secret question, and the Value: line after it. */
const DB_NAME = /^[ \t]*Name:[ \t]*(\S+)/;
const DB_VALUE = /^([ \t]*Value:[ \t]*)(.*)$/;
/** user:password@ in a URL. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)([^\s/?#@]+)(?=@)/gi;

/** What a value left open on one line carries into the next. */
type Carry = { kind: 'continued' } | { kind: 'closing'; token: string } | { kind: 'db-value' } | null;

const oddBackslashes = (s: string) => (/\\+$/.exec(s)?.[0].length ?? 0) % 2 === 1;

/** Where the quote opened at `open` closes (after `from`), honouring backslash escapes except in '…'; -1 when not on this line. */
function closing(line: string, from: number, token: string): number {
  if (token === "'") return line.indexOf("'", from);
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\' && token === '"') i++;
    else if (line.startsWith(token, i)) return i;
  }
  return -1;
}

interface Span {
  from: number;
  to: number;
  next: number;
  carry: Carry;
}

/**
 * The part of `line` from `start` that is the value: the inside of its quotes when the value is
 * quoted and closes cleanly on this line; otherwise, to be safe, the rest of the line.
 */
function valueSpan(line: string, start: number): Span {
  const c = line.charAt(start);
  const token = line.startsWith('"""', start) ? '"""' : c === '"' || c === "'" ? c : '';
  if (token) {
    const end = closing(line, start + token.length, token);
    if (end < 0)
      return { from: start + token.length, to: line.length, next: line.length, carry: { kind: 'closing', token } };
    const after = line.slice(end + token.length);
    if (/^[ \t]*(?:$|[,;}\]]|#|\/\/)/.test(after))
      return { from: start + token.length, to: end, next: end + token.length, carry: null };
  }
  const to = line.replace(/[ \t]+$/, '').length;
  return {
    from: start,
    to: Math.max(start, to),
    next: line.length,
    carry: oddBackslashes(line) ? { kind: 'continued' } : null,
  };
}

const masked = (line: string, from: number, to: number) =>
  to > from ? line.slice(0, from) + MASK + line.slice(to) : line;

/** One line whose value began on an earlier line: the part that is still the value, masked. */
function carried(body: string, carry: NonNullable<Carry>): { body: string; carry: Carry; rest: number } {
  const lead = /^[ \t]*/.exec(body)![0].length;
  if (carry.kind === 'continued') {
    const to = body.replace(/[ \t]+$/, '').length;
    return { body: masked(body, lead, to), carry: oddBackslashes(body) ? carry : null, rest: body.length };
  }
  if (carry.kind === 'db-value') {
    if (body.trim() === '') return { body, carry: null, rest: body.length };
    const v = DB_VALUE.exec(body);
    if (!v) return { body, carry, rest: 0 };
    return { body: masked(body, v[1]!.length, body.length), carry: null, rest: body.length };
  }
  const end = closing(body, 0, carry.token);
  if (end < 0) return { body: masked(body, 0, body.length), carry, rest: body.length };
  return { body: masked(body, 0, end), carry: null, rest: (end > 0 ? MASK.length : 0) + carry.token.length };
}

/** The `NAME = value` settings of one line from `from` on, each value masked. */
function assignments(body: string, from: number): { body: string; carry: Carry } {
  let out = body;
  let carry: Carry = null;
  ASSIGNMENT.lastIndex = from;
  for (let m = ASSIGNMENT.exec(out); m; m = ASSIGNMENT.exec(out)) {
    const span = valueSpan(out, m.index + m[1]!.length);
    const before = out.length;
    out = masked(out, span.from, span.to);
    ASSIGNMENT.lastIndex = Math.max(span.next + (out.length - before), m.index + 1);
    carry = span.carry;
  }
  return { body: out, carry };
}

/** One line: a debconf selection or database name, or settings; and what it carries into the next. */
function maskLine(body: string, carry: Carry): { body: string; carry: Carry } {
  let start = 0;
  let out = body;
  if (carry) {
    const c = carried(out, carry);
    if (c.carry) return { body: c.body, carry: c.carry };
    out = c.body;
    start = c.rest;
  }
  const sel = SELECTION.exec(out);
  if (start === 0 && sel && (sel[3] === 'password' || SECRET_QUESTION.test(sel[2]!)))
    return { body: masked(out, sel[1]!.length, out.length), carry: null };
  const db = DB_NAME.exec(out);
  if (start === 0 && db && SECRET_QUESTION.test(db[1]!)) return { body: out, carry: { kind: 'db-value' } };
  const spaced = start === 0 ? SPACED_PROPERTY.exec(out) : null;
  if (spaced) {
    const span = valueSpan(out, spaced[1]!.length);
    return { body: masked(out, span.from, span.to), carry: span.carry };
  }
  const a = assignments(out, start);
  return { body: a.body.replace(URL_PASSWORD, (_, head: string) => `${head}${MASK}`), carry: a.carry };
}

/**
 * The text with the value of every secret setting masked. In a unified diff (a line starting
 * "@@ "), each line's first character is the diff's own mark and stays.
 */
export function maskSecretValues(text: string): string {
  if (!/password|passwd|passphrase|secret|_pass|key|token|:\/\//i.test(text)) return text;
  const diff = /^@@ /m.test(text);
  let carry: Carry = null;
  return text
    .split('\n')
    .map((line) => {
      const mark = diff && /^[-+ ]/.test(line) ? line[0]! : '';
      const r = maskLine(line.slice(mark.length), carry);
      carry = r.carry;
      return mark + r.body;
    })
    .join('\n');
}
