/** What a piece of text means; the theme turns it into a colour (or none under NO_COLOR). */
export type Tone =
  'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable' | 'warn' | 'accent' | 'dim' | 'added' | 'removed' | 'hunk';

export interface Seg {
  text: string;
  tone?: Tone;
  bold?: boolean;
  /** Drawn as the spinner's current frame. */
  spinner?: boolean;
}

/** One terminal row. Screens are lists of these, so their height is known before drawing. */
export type Line = Seg[];

export const seg = (text: string, tone?: Tone, bold?: boolean): Seg => ({
  text,
  ...(tone ? { tone } : {}),
  ...(bold ? { bold } : {}),
});
export const plain = (text: string): Line => [seg(text)];
export const blank: Line = [];

/** Word-wraps text to width, breaking words longer than a row. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(10, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let row = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > w) {
        if (row) out.push(row);
        row = '';
        out.push(rest.slice(0, w));
        rest = rest.slice(w);
      }
      if (!row) row = rest;
      else if (row.length + 1 + rest.length <= w) row += ` ${rest}`;
      else {
        out.push(row);
        row = rest;
      }
    }
    out.push(row);
  }
  return out;
}

/** Wrapped text as lines with an indent and a tone. */
export function wrapped(text: string, width: number, indent = '', tone?: Tone): Line[] {
  return wrapText(text, width - indent.length).map((t) => [seg(indent + t, tone)]);
}

/**
 * At most `max` lines: when some must go, the last kept line says how many were left out and
 * how to see them.
 */
export function clip(lines: Line[], max: number, more: (hidden: number) => string): Line[] {
  if (lines.length <= max) return lines;
  const keep = Math.max(0, max - 1);
  return [...lines.slice(0, keep), [seg(more(lines.length - keep), 'dim')]];
}

/** Hosts whose lines are the same, together: thirty identical bridges read as one entry. */
export function groupByLines<T extends { host: string; lines: Line[] }>(
  items: T[],
): { hosts: string[]; lines: Line[] }[] {
  const groups = new Map<string, { hosts: string[]; lines: Line[] }>();
  for (const it of items) {
    const key = JSON.stringify(it.lines);
    const g = groups.get(key);
    if (g) g.hosts.push(it.host);
    else groups.set(key, { hosts: [it.host], lines: it.lines });
  }
  return [...groups.values()];
}

/** "a, b, c" or "a, b … and 27 more" so a group's name fits on one row. */
export function hostList(hosts: string[], width: number): string {
  let out = '';
  for (let i = 0; i < hosts.length; i++) {
    const next = out ? `${out}, ${hosts[i]}` : hosts[i]!;
    const rest = hosts.length - i - 1;
    const tail = rest > 0 ? ` and ${rest} more` : '';
    if (next.length + tail.length > width && out) return `${out} and ${hosts.length - i} more`;
    out = next;
  }
  return out;
}

export const lineText = (l: Line): string => l.map((s) => (s.spinner ? '*' : s.text)).join('');

/** Tabs to spaces (tab stops every 8 columns), so a row's width is what the terminal shows. */
export function expandTabs(text: string): string {
  if (!text.includes('\t')) return text;
  let out = '';
  for (const ch of text) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/**
 * One line as rows of at most `width` columns, breaking at spaces where it can; rows after the
 * first are indented under the line's own text, so wrapped lists still read as lists.
 */
export function wrapLine(line: Line, width: number): Line[] {
  const text = lineText(line);
  if (text.length <= width || line.some((s) => s.spinner)) return [line];
  const lead = /^\s*(?:[•│+✓✗!·-] )?/.exec(text)![0].length;
  const hang = ' '.repeat(Math.min(lead + 2, Math.floor(width / 2)));
  // Characters with their segment's style, then cut into rows.
  const chars = line.flatMap((s) => [...s.text].map((c) => ({ c, s })));
  const rows: Line[] = [];
  let i = 0;
  let first = true;
  while (i < chars.length) {
    const room = first ? width : width - hang.length;
    let end = Math.min(chars.length, i + room);
    if (end < chars.length) {
      const space = chars
        .slice(i, end)
        .map((x) => x.c)
        .lastIndexOf(' ');
      if (space > room / 3) end = i + space + 1;
    }
    const row: Line = first ? [] : [seg(hang)];
    for (const { c, s } of chars.slice(i, end)) {
      const last = row[row.length - 1];
      if (last && last.tone === s.tone && last.bold === s.bold && row.length > (first ? 0 : 1)) last.text += c;
      else row.push({ ...s, text: c });
    }
    rows.push(row);
    i = end;
    first = false;
  }
  return rows;
}
