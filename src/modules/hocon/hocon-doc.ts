/**
 * A jvb.conf (or any HOCON file) parsed once: read any value, list the blocks under a path, and
 * edit several keys at once, as often as needed, without reading the text again.
 */
import { leavesOf, type HoconLeaf, type Node } from './hocon-values.js';
import { parseHocon, positionOf, type HoconField, type ParseOptions } from './parse-hocon.js';

export interface HoconOptions {
  /** Match the last part of the path without regard to case (the bridge reads a shard block's keys so). */
  ignoreCase?: boolean;
}

const keyOf = (path: readonly string[]) => path.join('\u0000');

export class HoconDoc {
  readonly fields: HoconField[];
  readonly rootClose: number | null;
  private readonly root: Node;
  private byParent?: Map<string, HoconField[]>;
  private byPath?: Map<string, HoconField[]>;

  /** Throws HoconSyntaxError (line, column, what is wrong) on anything the bridge would refuse. */
  constructor(
    readonly text: string,
    opts: ParseOptions = {},
  ) {
    const p = parseHocon(text, opts);
    this.fields = p.fields;
    this.rootClose = p.rootClose;
    this.root = p.root;
  }

  /** The resolved value at `path` (exact spelling), or undefined. */
  node(path: readonly string[]): Node | undefined {
    let cur: Node | undefined = this.root;
    for (const seg of path) cur = cur?.t === 'obj' ? cur.m.get(seg) : undefined;
    return cur;
  }

  /**
   * The scalar at `path` as text (strings unquoted, numbers as written), or undefined when it is
   * missing, null, an object or list, or needs the service's environment. With `ignoreCase`, of
   * several spellings of the last key, the one defined last in the file.
   */
  get(path: readonly string[], opts: HoconOptions = {}): string | undefined {
    let exact = path;
    if (opts.ignoreCase) {
      const defs = this.definitions(path.slice(0, -1), path[path.length - 1]!, opts);
      if (defs.length) exact = defs[defs.length - 1]!.path;
    }
    const n = this.node(exact);
    return n?.t === 'leaf' && n.type !== 'NULL' ? n.v : undefined;
  }

  /** The names of the objects directly under `prefix`, in the order they first appear. */
  objectsUnder(prefix: readonly string[]): string[] {
    const n = this.node(prefix);
    return n?.t === 'obj' ? [...n.m].filter(([, v]) => v.t === 'obj').map(([k]) => k) : [];
  }

  /** Every scalar of the file, resolved, with its path. */
  leaves(): HoconLeaf[] {
    return leavesOf(this.root);
  }

  /** The fields that define `base.key` (every spelling of `key` with ignoreCase), in file order. */
  definitions(base: readonly string[], key: string, opts: HoconOptions = {}): HoconField[] {
    this.byParent ??= group(this.fields, (f) => keyOf(f.path.slice(0, -1)));
    const siblings = this.byParent.get(keyOf(base)) ?? [];
    const want = opts.ignoreCase ? key.toLowerCase() : key;
    return siblings.filter(
      (f) => (opts.ignoreCase ? f.path[f.path.length - 1]!.toLowerCase() : f.path[f.path.length - 1]) === want,
    );
  }

  /** The fields whose path is exactly `path`, in file order. */
  at(path: readonly string[]): HoconField[] {
    this.byPath ??= group(this.fields, (f) => keyOf(f.path));
    return this.byPath.get(keyOf(path)) ?? [];
  }

  lineOf(offset: number): number {
    return positionOf(this.text, offset).line;
  }
}

function group(fields: readonly HoconField[], by: (f: HoconField) => string): Map<string, HoconField[]> {
  const m = new Map<string, HoconField[]>();
  for (const f of fields) {
    const k = by(f);
    const list = m.get(k);
    if (list) list.push(f);
    else m.set(k, [f]);
  }
  return m;
}

/** Parses once; `null` (no file) reads as an empty one. */
export function parseHoconDoc(text: string | null, opts: ParseOptions = {}): HoconDoc {
  return new HoconDoc(text ?? '', opts);
}
