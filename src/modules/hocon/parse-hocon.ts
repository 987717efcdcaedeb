/**
 * A HOCON reader that keeps source offsets, so that edits can change one value and leave every
 * other byte of the file (comments, layout, substitutions) as it was. It understands what config
 * files like jvb.conf and jicofo.conf use: nested braces, dotted and quoted keys, =, : and +=,
 * quoted, triple-quoted and unquoted values, arrays, comments (# and //) and include lines.
 */

export interface HoconField {
  /** Full path from the root, dotted keys expanded ("a.b { c = 1 }" → [a, b, c]). */
  path: string[];
  kind: 'object' | 'array' | 'scalar';
  /** Offset of the first key character, and the whitespace that starts the key's line. */
  keyStart: number;
  indent: string;
  /** The value's span [start, end); for objects, from '{' to just after '}'. */
  valueStart: number;
  valueEnd: number;
  /** Objects: offset of the closing '}'. */
  closeBrace?: number;
  /** Scalars: the raw text, e.g. `"auth.example.org"` or `localhost` or `${X}`. */
  raw?: string;
}

export class HoconSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly col: number,
    message: string,
  ) {
    super(`line ${line}, column ${col}: ${message}`);
    this.name = 'HoconSyntaxError';
  }
}

export interface ParsedHocon {
  fields: HoconField[];
  /** Root braces, when the file wraps its content in { }. */
  rootClose: number | null;
}

const KEY_STOP = /[\s.=:{}[\],#"+]/;

// eslint-disable-next-line max-lines-per-function -- a recursive-descent parser: its helpers are closures over the cursor
export function parseHocon(text: string): ParsedHocon {
  let i = 0;
  const fields: HoconField[] = [];

  const fail = (at: number, message: string): never => {
    const before = text.slice(0, at).split('\n');
    throw new HoconSyntaxError(before.length, before[before.length - 1]!.length + 1, message);
  };

  const skipComment = (): boolean => {
    if (text[i] === '#' || (text[i] === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
      return true;
    }
    return false;
  };

  /** Skips whitespace, newlines, commas and comments between fields. */
  const skipGaps = (): void => {
    while (i < text.length) {
      if (/[\s,]/.test(text[i]!)) i++;
      else if (!skipComment()) return;
    }
  };

  const skipInlineSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };

  const readQuoted = (): string => {
    if (text.startsWith('"""', i)) {
      const end = text.indexOf('"""', i + 3);
      if (end < 0) fail(i, 'unterminated """ string');
      let close = end + 3;
      while (text[close] === '"') close++; // """…"""" : extra quotes belong to the string
      const s = text.slice(i + 3, close - 3);
      i = close;
      return s;
    }
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\n') fail(start, 'unterminated string');
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail(start, 'unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };

  const readKey = (): string[] => {
    const segs: string[] = [];
    for (;;) {
      if (text[i] === '"') segs.push(readQuoted());
      else {
        const start = i;
        while (i < text.length && !KEY_STOP.test(text[i]!) && !(text[i] === '/' && text[i + 1] === '/')) i++;
        if (i === start) fail(i, `expected a key, found ${JSON.stringify(text[i] ?? 'end of file')}`);
        segs.push(text.slice(start, i));
      }
      if (text[i] === '.') {
        i++;
        continue;
      }
      return segs;
    }
  };

  /** Skips a balanced [ … ] or { … } used as a value inside an array or concatenation. */
  const skipBalanced = (open: string, close: string): void => {
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        readQuoted();
        continue;
      }
      if (skipComment()) continue;
      if (c === open) depth++;
      else if (c === close) {
        depth--;
        if (depth === 0) {
          i++;
          return;
        }
      }
      i++;
    }
    fail(start, `unclosed ${open}`);
  };

  const lineIndent = (at: number): string => {
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    return /^[ \t]*/.exec(text.slice(lineStart))![0];
  };

  /** Reads fields until '}' (returns its offset) or end of input (returns null). */
  // eslint-disable-next-line complexity -- the object-body loop of the parser: one branch per HOCON construct
  const readObjectBody = (prefix: string[], braced: boolean): number | null => {
    for (;;) {
      skipGaps();
      if (i >= text.length) {
        if (braced) fail(i, 'missing }');
        return null;
      }
      if (text[i] === '}') {
        if (!braced) fail(i, 'unexpected }');
        return i;
      }
      if (text.startsWith('include', i) && /\s/.test(text[i + 7] ?? '')) {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      const keyStart = i;
      const path = [...prefix, ...readKey()];
      skipInlineSpace();
      if (text.startsWith('+=', i)) i += 2;
      else if (text[i] === '=' || text[i] === ':') i++;
      skipInlineSpace();
      const indent = lineIndent(keyStart);
      const valueStart = i;
      if (text[i] === '{') {
        i++;
        const close = readObjectBody(path, true)!;
        i = close + 1;
        fields.push({ path, kind: 'object', keyStart, indent, valueStart, valueEnd: i, closeBrace: close });
      } else if (text[i] === '[') {
        skipBalanced('[', ']');
        fields.push({ path, kind: 'array', keyStart, indent, valueStart, valueEnd: i });
      } else {
        // A scalar (possibly a concatenation) runs to the end of the line, a comma, a '}' or a comment.
        while (
          i < text.length &&
          text[i] !== '\n' &&
          text[i] !== ',' &&
          text[i] !== '}' &&
          text[i] !== '#' &&
          !(text[i] === '/' && text[i + 1] === '/')
        ) {
          if (text[i] === '"') readQuoted();
          else if (text[i] === '$' && text[i + 1] === '{') skipBalanced('{', '}');
          else i++;
        }
        let end = i;
        while (end > valueStart && /[ \t\r]/.test(text[end - 1]!)) end--;
        if (end === valueStart) fail(valueStart, `no value for ${path.join('.')}`);
        fields.push({
          path,
          kind: 'scalar',
          keyStart,
          indent,
          valueStart,
          valueEnd: end,
          raw: text.slice(valueStart, end),
        });
      }
    }
  };

  skipGaps();
  let rootClose: number | null = null;
  if (text[i] === '{') {
    i++;
    rootClose = readObjectBody([], true);
    i = rootClose! + 1;
    skipGaps();
    if (i < text.length) fail(i, 'text after the closing } of the root object');
  } else {
    readObjectBody([], false);
  }
  return { fields, rootClose };
}

/** The value a scalar's raw text stands for: quoted strings unescaped, unquoted text as is. */
export function scalarValue(raw: string): string {
  const t = raw.trim();
  if (t.startsWith('"""') && t.endsWith('"""') && t.length >= 6) return t.slice(3, -3);
  if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return JSON.parse(t) as string;
  return t;
}
