import { eolOf } from '../text/line-endings.js';
import { HoconDoc, type HoconOptions } from './hocon-doc.js';
import type { HoconField } from './parse-hocon.js';

export type HoconValue = string | number | boolean;

/** Keys to set under one path. */
export interface HoconEdit extends HoconOptions {
  base: readonly string[];
  values: Readonly<Record<string, HoconValue>>;
}

export interface HoconEditResult {
  text: string;
  /** What the plan should say besides the diff (a key spelled several ways, all of them set). */
  notes: string[];
}

/** The editor's own output did not read back as meant: a bug, never written. */
export class HoconEditError extends Error {
  override name = 'HoconEditError';
}

interface Splice {
  at: number;
  end: number;
  text: string;
  order: number;
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
 * Pure: sets `base.KEY = value` for each entry of each edit, on the text the document was parsed
 * from. An existing definition (the last one) has only its value replaced; with `ignoreCase`,
 * every spelling of the key is (the bridge reads one of them, not the last: see keySpellingNote);
 * missing keys go into the deepest existing object on the path (as nested blocks for the part
 * that does not exist yet). Every other byte stays as it was. The result is read back before it
 * is returned: each key must read as the value it was given.
 */
export function editHocon(doc: HoconDoc, edits: readonly HoconEdit[]): HoconEditResult {
  const splices: Splice[] = [];
  const notes: string[] = [];
  const expect: [string[], string][] = [];
  edits.forEach((edit, order) => {
    const missing: [string, HoconValue][] = [];
    for (const [key, value] of Object.entries(edit.values)) {
      const spellings = lastOfEachSpelling(doc.definitions(edit.base, key, edit));
      if (spellings.length === 0) missing.push([key, value]);
      if (spellings.length > 1) notes.push(keySpellingNote(doc, edit.base, key, spellings));
      for (const def of spellings) {
        expect.push([def.path, String(value)]);
        if (doc.get(def.path) === String(value)) continue;
        const from = def.sep === '+=' ? def.sepStart : def.valueStart;
        const lead = def.sep === '+=' ? '= ' : '';
        splices.push({ at: from, end: def.valueEnd, text: lead + format(value, def.raw), order });
      }
    }
    if (missing.length > 0) {
      splices.push({
        ...insertion(
          doc,
          edit.base,
          missing.map(([k, v]): [string, string] => [k, format(v, undefined)]),
        ),
        order,
      });
      for (const [k, v] of missing) expect.push([[...edit.base, k], String(v)]);
    }
  });
  let out = doc.text;
  for (const s of splices.sort((a, b) => b.at - a.at || b.order - a.order))
    out = out.slice(0, s.at) + s.text + out.slice(s.end);
  if (out !== doc.text) checkReadsBack(out, expect);
  return { text: out, notes };
}

/** One edit: `setHocon(doc, base, values)`. */
export function setHocon(
  doc: HoconDoc,
  base: readonly string[],
  values: Readonly<Record<string, HoconValue>>,
  opts: HoconOptions = {},
): HoconEditResult {
  return editHocon(doc, [{ base, values, ...opts }]);
}

/** Of the definitions of one key, the last of each spelling, in file order. */
function lastOfEachSpelling(defs: readonly HoconField[]): HoconField[] {
  const last = new Map<string, HoconField>();
  for (const d of defs) last.set(d.path[d.path.length - 1]!, d);
  return [...last.values()].sort((a, b) => a.keyStart - b.keyStart);
}

/**
 * The bridge reads a shard block's keys without regard to case (jitsi-videobridge's
 * XmppClientConnectionConfig.kt passes each entry to jicoco's MucClientConfiguration.setProperty,
 * which upper-cases the name), but when two spellings are there it does not take the last: it
 * walks the block's entries as a HashSet yields them (Typesafe Config's
 * SimpleConfigObject.entrySet, the same in 1.3.1 and the 1.4.2 jicoco bundles) and the last one
 * it meets wins, an order set by the hashes of the keys and the values, not by the file. So
 * every spelling is set, and the plan says so.
 */
function keySpellingNote(doc: HoconDoc, base: readonly string[], key: string, defs: readonly HoconField[]): string {
  const named = defs.map((d) => `${d.path[d.path.length - 1]} (line ${doc.lineOf(d.keyStart)})`);
  return (
    `${base.join('.')}: ${key} is spelled ${defs.length} ways, ${named.join(' and ')}; ` +
    'the bridge reads one of them regardless of case, and which one depends on the keys and values, not on their order in the file, so all of them are set'
  );
}

function checkReadsBack(text: string, expect: readonly [string[], string][]): void {
  let doc: HoconDoc;
  try {
    doc = new HoconDoc(text);
  } catch (e) {
    throw new HoconEditError(`the edited file would not be valid HOCON (${(e as Error).message}); nothing is written`);
  }
  for (const [path, want] of expect) {
    const got = doc.get(path);
    if (got !== want)
      throw new HoconEditError(
        `after the edit ${path.join('.')} would read ${got === undefined ? 'as nothing' : JSON.stringify(got)}, not ${JSON.stringify(want)} (a later definition overrides it?); nothing is written`,
      );
  }
}

/**
 * Pure: the splice that adds `key = valueText` (already HOCON text, e.g. a list) under `base`, in
 * the deepest existing object on the path; the caller reads the result back.
 */
export function insertRaw(doc: HoconDoc, base: readonly string[], key: string, valueText: string): string {
  const s = insertion(doc, base, [[key, valueText]]);
  return doc.text.slice(0, s.at) + s.text + doc.text.slice(s.end);
}

function insertion(doc: HoconDoc, base: readonly string[], missing: [string, string][]) {
  const source = doc.text;
  const eol = eolOf(source);
  const unit = indentUnit(doc.fields);
  // The deepest existing object along `base` (last definition), if any.
  let host: HoconField | undefined;
  let depth = 0;
  for (let n = base.length; n > 0 && !host; n--) {
    const objs = doc.at(base.slice(0, n)).filter((f) => f.kind === 'object');
    if (objs.length) {
      host = objs[objs.length - 1];
      depth = n;
    }
  }
  const innerIndent = host ? host.indent + unit : doc.rootClose === null ? '' : unit;
  const rest = base.slice(depth);
  const lines: string[] = [];
  rest.forEach((seg, n) => lines.push(`${innerIndent}${unit.repeat(n)}${keyText(seg)} {`));
  for (const [k, v] of missing) lines.push(`${innerIndent}${unit.repeat(rest.length)}${keyText(k)} = ${v}`);
  for (let n = rest.length - 1; n >= 0; n--) lines.push(`${innerIndent}${unit.repeat(n)}}`);
  const block = lines.join(eol) + eol;

  const close = host ? host.closeBrace! : doc.rootClose;
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

/** A key as written: bare when it reads back as itself, quoted otherwise ("include" is a keyword). */
function keyText(seg: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg) && seg !== 'include' ? seg : JSON.stringify(seg);
}

/** The file's indent step: its smallest indentation (one level); four spaces by default. */
function indentUnit(fields: readonly HoconField[]): string {
  let min: string | undefined;
  for (const f of fields)
    if (f.indent.length > 0 && (min === undefined || f.indent.length < min.length)) min = f.indent;
  return min ?? '    ';
}
