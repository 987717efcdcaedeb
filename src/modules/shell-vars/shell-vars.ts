import { joinLines, splitLines } from '../text/line-endings.js';

/** One `KEY=value` assignment in a shell-variable file (/etc/default/*, /etc/jitsi/videobridge/config). */
export interface ShellAssignment {
  key: string;
  /** The value as the shell would see it, for plain quoting; raw text when it expands something. */
  value: string;
  line: number;
  exported: boolean;
}

const ASSIGNMENT = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Unquotes a value written in "…", '…' or bare form; leaves expansions ($X, `…`) as written. */
export function unquoteShell(raw: string): string {
  const v = raw.replace(/\s+#.*$/, '').trim();
  const dq = /^"((?:[^"\\]|\\.)*)"$/.exec(v);
  if (dq) return dq[1]!.replace(/\\([\\"$`])/g, '$1');
  const sq = /^'([^']*)'$/.exec(v);
  if (sq) return sq[1]!;
  return v.replace(/\\(.)/g, '$1');
}

/** Double-quoted, with the four characters special inside double quotes escaped. */
export function quoteShellValue(value: string): string {
  return `"${value.replace(/([\\"$`])/g, '\\$1')}"`;
}

export function parseShellVars(text: string): ShellAssignment[] {
  const { lines } = splitLines(text);
  const out: ShellAssignment[] = [];
  lines.forEach((l, line) => {
    const m = ASSIGNMENT.exec(l);
    if (m) out.push({ key: m[3]!, value: unquoteShell(m[4]!), line, exported: !!m[2] });
  });
  return out;
}

export function getShellVar(text: string, key: string): string | undefined {
  const defs = parseShellVars(text).filter((a) => a.key === key);
  return defs[defs.length - 1]?.value;
}

/**
 * Pure: KEY="value" for each entry (null: comment every assignment of KEY out). The last
 * assignment (the one the shell keeps) is edited in place, keeping `export`; earlier ones are
 * commented out; missing keys are appended. Unchanged text is returned as is.
 */
export function setShellVars(text: string | null, values: Readonly<Record<string, string | null>>): string {
  const source = text ?? '';
  const { lines, eol, finalEol } = splitLines(source);
  const defs = parseShellVars(source);
  const out = [...lines];
  const append: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const mine = defs.filter((d) => d.key === key);
    const last = mine[mine.length - 1];
    for (const d of value === null ? mine : mine.slice(0, -1)) out[d.line] = `#${lines[d.line]}`;
    if (value === null) continue;
    if (!last) append.push(`${key}=${quoteShellValue(value)}`);
    else if (last.value !== value) {
      const m = ASSIGNMENT.exec(lines[last.line]!)!;
      out[last.line] = `${m[1]}${m[2] ?? ''}${key}=${quoteShellValue(value)}`;
    }
  }
  const result = joinLines([...out, ...append], eol, finalEol || lines.length === 0);
  return result === source ? (text ?? '') : result;
}
