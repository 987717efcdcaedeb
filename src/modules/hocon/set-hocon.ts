import { eolOf } from '../text/line-endings.js';
import { parseHocon, scalarValue, type HoconField } from './parse-hocon.js';

export type HoconValue = string | number | boolean;

export interface HoconOptions {
  /** Compare keys without regard to case (the bridge reads shard-block keys that way). */
  ignoreCase?: boolean;
}

const samePath = (a: readonly string[], b: readonly string[], ignoreCase: boolean): boolean =>
  a.length === b.length && a.every((s, n) => (ignoreCase ? s.toLowerCase() === b[n]!.toLowerCase() : s === b[n]));

/** The effective scalar at `path` (HOCON: the last definition wins), or undefined. */
export function getHocon(text: string, path: readonly string[], opts: HoconOptions = {}): string | undefined {
  const found = parseHocon(text).fields.filter((f) => f.kind === 'scalar' && samePath(f.path, path, !!opts.ignoreCase));
  const last = found[found.length - 1];
  return last ? scalarValue(last.raw!) : undefined;
}

/** Every object found at `path`'s parent level whose path starts with `prefix`; for listing shard blocks. */
export function hoconObjectsUnder(text: string, prefix: readonly string[], opts: HoconOptions = {}): string[] {
  const names = new Set<string>();
  for (const f of parseHocon(text).fields) {
    if (f.path.length > prefix.length && samePath(f.path.slice(0, prefix.length), prefix, !!opts.ignoreCase))
      names.add(f.path[prefix.length]!);
  }
  return [...names];
}

// Values that stay unquoted when the old one was: start with a letter, so nothing reads as a number.
const SAFE_UNQUOTED = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function format(value: HoconValue, previousRaw: string | undefined): string {
  if (typeof value !== 'string') return String(value);
  const wasUnquoted = previousRaw !== undefined && !previousRaw.trim().startsWith('"');
  if (wasUnquoted && SAFE_UNQUOTED.test(value) && !/^(true|false|null|yes|no|on|off)$/i.test(value)) return value;
  return JSON.stringify(value);
}

/**
 * Pure: sets `base.KEY = value` for each entry. An existing definition (the last one) has only its
 * value replaced; missing keys go into the deepest existing object on the path (as nested blocks
 * for the part that does not exist yet). Every other byte stays as it was.
 */
export function setHocon(
  text: string | null,
  base: readonly string[],
  values: Readonly<Record<string, HoconValue>>,
  opts: HoconOptions = {},
): string {
  const source = text ?? '';
  const { fields, rootClose } = parseHocon(source);
  const ic = !!opts.ignoreCase;
  const edits: { at: number; end: number; text: string }[] = [];
  const missing: [string, HoconValue][] = [];
  for (const [key, value] of Object.entries(values)) {
    const path = [...base, key];
    const defs = fields.filter((f) => samePath(f.path, path, ic));
    const last = defs[defs.length - 1];
    if (!last) missing.push([key, value]);
    else if (last.kind !== 'scalar' || scalarValue(last.raw!) !== String(value)) {
      edits.push({ at: last.valueStart, end: last.valueEnd, text: format(value, last.raw) });
    }
  }
  if (missing.length > 0) edits.push(insertion(source, fields, rootClose, base, missing, ic));
  let out = source;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  return out === source ? (text ?? '') : out;
}

function insertion(
  source: string,
  fields: HoconField[],
  rootClose: number | null,
  base: readonly string[],
  missing: [string, HoconValue][],
  ic: boolean,
) {
  const eol = eolOf(source);
  const unit = indentUnit(fields);
  // The deepest existing object along `base` (last definition), if any.
  let host: HoconField | undefined;
  let depth = 0;
  for (let n = base.length; n > 0 && !host; n--) {
    const objs = fields.filter((f) => f.kind === 'object' && samePath(f.path, base.slice(0, n), ic));
    if (objs.length) {
      host = objs[objs.length - 1];
      depth = n;
    }
  }
  const innerIndent = host ? host.indent + unit : rootClose === null ? '' : unit;
  const rest = base.slice(depth);
  const lines: string[] = [];
  rest.forEach((seg, n) => lines.push(`${innerIndent}${unit.repeat(n)}${keyText(seg)} {`));
  for (const [k, v] of missing)
    lines.push(`${innerIndent}${unit.repeat(rest.length)}${keyText(k)} = ${format(v, undefined)}`);
  for (let n = rest.length - 1; n >= 0; n--) lines.push(`${innerIndent}${unit.repeat(n)}}`);
  const block = lines.join(eol) + eol;

  const close = host ? host.closeBrace! : rootClose;
  if (close === null) {
    // Braceless root: append at the end of the file.
    const needsEol = source.length > 0 && !source.endsWith('\n');
    return { at: source.length, end: source.length, text: (needsEol ? eol : '') + block };
  }
  const lineStart = source.lastIndexOf('\n', close - 1) + 1;
  if (/^[ \t]*$/.test(source.slice(lineStart, close))) return { at: lineStart, end: lineStart, text: block };
  // "{ a = 1 }" on one line: break the line before the closing brace.
  return { at: close, end: close, text: eol + block + (host?.indent ?? '') };
}

function keyText(seg: string): string {
  return /^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg);
}

/** The file's indent step: its smallest indentation (one level); four spaces by default. */
function indentUnit(fields: HoconField[]): string {
  const indents = fields.map((f) => f.indent).filter((x) => x.length > 0);
  return (
    indents.reduce<string | undefined>((min, x) => (min === undefined || x.length < min.length ? x : min), undefined) ??
    '    '
  );
}
