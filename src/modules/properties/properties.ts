import { joinLines, splitLines } from '../text/line-endings.js';

/** One logical entry of a Java .properties file, with the physical lines it spans. */
export interface PropertyEntry {
  key: string;
  value: string;
  /** First and last physical line (0-based, inclusive); continuation lines make them differ. */
  first: number;
  last: number;
  /** The separator as written ("=", " = ", ": ", " "), kept when the value is replaced. */
  separator: string;
  /** Leading whitespace of the entry's line. */
  indent: string;
}

const isComment = (line: string) => /^\s*[#!]/.test(line) || line.trim() === '';

/** A line continues onto the next when it ends in an odd number of backslashes. */
function continues(line: string): boolean {
  const m = /(\\+)$/.exec(line);
  return !!m && m[1]!.length % 2 === 1;
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

export function escapeKey(key: string): string {
  return key
    .replace(/([\\:= #!])/g, '\\$1')
    .replace(/\t/g, '\\t')
    .replace(/\n/g, '\\n');
}

export function escapeValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/^ /, '\\ ');
}

/** Pure parse of .properties text, following java.util.Properties.load. */
export function parseProperties(text: string): PropertyEntry[] {
  const { lines } = splitLines(text);
  const out: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isComment(line)) continue;
    const first = i;
    let logical = line.trimStart();
    const indent = line.slice(0, line.length - logical.length);
    while (continues(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i]!.trimStart();
    }
    // The key ends at the first unescaped '=', ':' or whitespace.
    let k = 0;
    while (k < logical.length && !/[=:\s]/.test(logical[k]!)) k += logical[k] === '\\' ? 2 : 1;
    const rawKey = logical.slice(0, k);
    const sepMatch = /^\s*[=:]?\s*/.exec(logical.slice(k))!;
    out.push({
      key: unescape(rawKey),
      value: unescape(logical.slice(k + sepMatch[0].length)),
      first,
      last: i,
      separator: sepMatch[0] || '=',
      indent,
    });
  }
  return out;
}

/** The effective value (the last definition wins, as in Java), or undefined. */
export function getProperty(text: string, key: string): string | undefined {
  const all = parseProperties(text).filter((e) => e.key === key);
  return all[all.length - 1]?.value;
}

/**
 * Pure: sets each key to its value (null: disable the key by commenting it out). The last
 * definition of a key is edited in place with its separator kept; earlier duplicates, which Java
 * ignores, are commented out so the file says one thing. Missing keys are appended. Comments,
 * order, escapes and line endings are kept; unchanged text is returned as is.
 */
export function setProperties(text: string | null, values: Readonly<Record<string, string | null>>): string {
  const source = text ?? '';
  const { lines, eol, finalEol } = splitLines(source);
  const entries = parseProperties(source);
  const replace = new Map<number, string[]>(); // first line → replacement lines
  const drop = new Set<number>();
  for (const [key, value] of Object.entries(values)) {
    const defs = entries.filter((e) => e.key === key);
    const lastDef = defs[defs.length - 1];
    const stale = value === null ? defs : defs.slice(0, -1);
    for (const d of stale) {
      replace.set(
        d.first,
        lines.slice(d.first, d.last + 1).map((l) => `#${l}`),
      );
      for (let n = d.first + 1; n <= d.last; n++) drop.add(n);
    }
    if (value === null || !lastDef) continue;
    if (lastDef.value === value && defs.length === 1) continue;
    if (lastDef.value !== value) {
      replace.set(lastDef.first, [`${lastDef.indent}${escapeKey(key)}${lastDef.separator}${escapeValue(value)}`]);
      for (let n = lastDef.first + 1; n <= lastDef.last; n++) drop.add(n);
    }
  }
  const out: string[] = [];
  lines.forEach((l, n) => {
    if (drop.has(n)) return;
    out.push(...(replace.get(n) ?? [l]));
  });
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && !entries.some((e) => e.key === key)) out.push(`${escapeKey(key)}=${escapeValue(value)}`);
  }
  const result = joinLines(out, eol, finalEol || lines.length === 0);
  return result === source ? (text ?? '') : result;
}
