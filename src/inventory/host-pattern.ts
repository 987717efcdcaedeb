/**
 * Host keys of a YAML inventory, read as Ansible reads them: an optional `:port` after a host
 * name or IPv4 address (or after `[…]` around any address), then `[begin:end(:step)]` ranges that
 * multiply out. "jvb[01:10]" keeps the zero padding, "[a:C]" counts through a…z then A…Z,
 * "[:3]" starts at 0.
 */

const NUMERIC_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const I4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
const I6 = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const LABEL = String.raw`(?:[\p{L}\p{N}_]|${ALNUM_RANGE})(?:[\p{L}\p{N}_-]|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(`^(?:${I4}\\.){3}${I4}$`, 'iu');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${I6}:){7}${I6}`,
      `(?:${I6}:){1,6}:`,
      `(?:${I6}:)(?::${I6}){1,6}`,
      `(?:${I6}:){2}(?::${I6}){1,5}`,
      `(?:${I6}:){3}(?::${I6}){1,4}`,
      `(?:${I6}:){4}(?::${I6}){1,3}`,
      `(?:${I6}:){5}(?::${I6}){1,2}`,
      `(?:${I6}:){6}(?::${I6})`,
      `:(?::${I6}){1,6}`,
      `${I6}?::`,
      `(?:0:){6}(?:${I6}\\.){3}${I6}`,
      `::(?:ffff:)?(?:${I6}\\.){3}${I6}`,
      `(?:0:){5}ffff:(?:${I6}\\.){3}${I6}`,
    ].join('|') +
    ')$',
  'iu',
);
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

/** A host key split into the name pattern and the port written after it (null: none). */
export function splitHostPort(key: string): { pattern: string; port: number | null } {
  let address = key;
  let port: number | null = null;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(address);
    if (m) {
      address = m[1]!;
      port = Number(m[2]);
    }
  }
  // What is left must be an address or a host name; anything else is taken whole, port and all.
  if (![IPV4, IPV6, HOSTNAME].some((re) => re.test(address))) return { pattern: key, port: null };
  return { pattern: address, port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Python's int(): optional sign, digits and single underscores between them. */
function pyIntOf(text: string): number | null {
  const t = text.trim();
  return /^[-+]?\d+(?:_\d+)*$/.test(t) ? Number(t.replace(/_/g, '')) : null;
}

/** Letters from a to b (indexes into a…zA…Z), as Python slices them. */
function letterRange(a: number, b: number, step: number, fill: (x: string) => string): string[] | { error: string } {
  if (a > b) return { error: 'host range must have begin <= end' };
  const out: string[] = [];
  if (step > 0) for (let i = a; i <= b; i += step) out.push(fill(LETTERS[i]!));
  return out;
}

/** Numbers from `from` to `to` inclusive, as Python's range counts them. */
function numberRange(from: number, to: number, step: number, fill: (x: string) => string): string[] {
  const out: string[] = [];
  if (step > 0) for (let i = from; i <= to; i += step) out.push(fill(String(i)));
  else for (let i = from; i > to + 1; i += step) out.push(fill(String(i)));
  return out;
}

/** The values of one range "begin:end(:step)", or why Ansible refuses it. */
function rangeValues(range: string): string[] | { error: string } {
  const bounds = range.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) return { error: 'host range must be begin:end or begin:end:step' };
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  if (!end) return { error: 'host range must specify end value' };
  const step = bounds.length === 3 ? pyIntOf(bounds[2]!) : 1;
  let fill = (x: string) => x;
  if (beg.startsWith('0') && beg.length > 1) {
    if (beg.length !== end.length) return { error: 'host range must specify equal-length begin and end formats' };
    fill = (x) => x.padStart(beg.length, '0');
  }
  const a = LETTERS.indexOf(beg);
  const b = LETTERS.indexOf(end);
  if (a >= 0 && b >= 0 && step !== null && step !== 0) return letterRange(a, b, step, fill);
  const from = pyIntOf(beg);
  const to = pyIntOf(end);
  if (from === null || to === null || step === null || step === 0)
    return { error: `host range [${range}] must count numbers ([1:3]) or letters ([a:c])` };
  return numberRange(from, to, step, fill);
}

/** The names a pattern stands for, the first `[…]` expanded and the rest recursively. */
export function expandHostPattern(name: string): { hosts: string[] } | { error: string } {
  if (!name.includes('[')) return { hosts: [name] };
  const open = name.indexOf('[');
  const close = name.indexOf(']', open);
  const afterFirstClose = name.indexOf(']');
  // Ansible splits at the first "[" and the first "]"; a "]" before the "[" leaves no range.
  if (close < 0 || afterFirstClose < open) return { error: `host range in "${name}" is not closed with "]"` };
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  if (tail.includes('|') || head.includes('|')) return { error: `host range in "${name}" cannot be read` };
  const values = rangeValues(name.slice(open + 1, close));
  if ('error' in values) return { error: `${values.error} (in "${name}")` };
  const hosts: string[] = [];
  for (const v of values) {
    const rest = expandHostPattern(head + v + tail);
    if ('error' in rest) return rest;
    hosts.push(...rest.hosts);
  }
  return { hosts };
}
