/**
 * A HOCON reader with Typesafe Config's grammar (the videobridge reads jvb.conf with it) that keeps
 * source offsets, so that an edit can change one value and leave every other byte of the file
 * (comments, layout, substitutions) as it was. One pass over the text: the fields with their
 * spans (for edits) and the merged, resolved values (for reading). Whatever the input, it either
 * parses or throws a HoconSyntaxError with line and column; it never recurses without bound.
 */
import { HoconSyntaxError, Lexer, SIMPLE, describe, pathOf, positionOf, type Token } from './hocon-lexer.js';
import { HoconResolver, HoconTree, mergeInto, objNode, type Node, type ObjNode } from './hocon-values.js';

export { HoconSyntaxError, positionOf };

/**
 * How deep objects, lists and dotted keys may nest. A shard key of jvb.conf is 6 levels down; the
 * bridge's own defaults (jitsi-videobridge jvb/src/main/resources/reference.conf) nest 5 braces
 * and 6 path parts. 256 is far above any real config, and far below what the stack survives
 * (the recursion takes a few frames a level; Node gives some ten thousand).
 */
export const MAX_DEPTH = 256;

/**
 * How many fields may refer to their own path (`a += x`, `a = ${a} …`). Each one keeps what it
 * saw resolved, so a chain of them costs the square of its length; a real config has a handful.
 */
export const MAX_SELF_REFERENCES = 1024;

export interface HoconField {
  /** Full path from the root, dotted keys expanded ("a.b { c = 1 }" → [a, b, c]). */
  path: string[];
  kind: 'object' | 'array' | 'scalar';
  /** Offset of the first key character, and the whitespace that starts the key's line. */
  keyStart: number;
  indent: string;
  /** The separator ('' before a '{' with none) and where it starts. */
  sep: '' | '=' | ':' | '+=';
  sepStart: number;
  /** The value's span [start, end); for objects, from '{' to just after '}'. */
  valueStart: number;
  valueEnd: number;
  /** Objects: offset of the closing '}'. */
  closeBrace?: number;
  /** Scalars: the raw text, e.g. `"auth.example.org"` or `localhost` or `${X}`. */
  raw?: string;
}

export interface ParsedHocon {
  fields: HoconField[];
  /** Root braces, when the file wraps its content in { }. */
  rootClose: number | null;
  /** What the file means: merged and resolved. */
  root: ObjNode;
}

export interface ParseOptions {
  /** The environment substitutions fall back to; unknown (null) by default. */
  env?: Readonly<Record<string, string>> | null;
}

/** Parses and resolves; throws HoconSyntaxError (and nothing else) on anything the bridge would refuse. */
export function parseHocon(text: string, opts: ParseOptions = {}): ParsedHocon {
  const p = new HoconParser(text);
  const rootClose = p.document();
  new HoconResolver(text, p.tree.root, opts.env ?? null).resolveAll();
  return { fields: p.fields, rootClose, root: p.tree.root };
}

/** Where an object body's fields go: the file's tree (recorded for edits), or an object of its own. */
type Target = { root: true } | { root: false; obj: ObjNode };

const VALUE_START = new Set<string>([...SIMPLE, '{', '[']);

class HoconParser {
  private selfReferences = 0;
  readonly tree = new HoconTree((at) => {
    if (++this.selfReferences > MAX_SELF_REFERENCES)
      this.fail(
        at,
        `more than ${MAX_SELF_REFERENCES} fields refer to what was defined before them (+= or a substitution of their own path)`,
      );
  });
  readonly fields: HoconField[] = [];
  private readonly lx: Lexer;
  private depth = 0;

  constructor(private readonly text: string) {
    this.lx = new Lexer(text);
  }

  private fail(at: number, reason: string): never {
    return this.lx.fail(at, reason);
  }

  /** Whitespace, line breaks and comments. */
  private skipGaps(): void {
    for (let k = this.lx.peek().k; k === 'ws' || k === 'nl' || k === 'comment'; k = this.lx.peek().k) this.lx.next();
  }

  document(): number | null {
    this.skipGaps();
    const first = this.lx.peek();
    let rootClose: number | null = null;
    if (first.k === '[') this.fail(first.s, 'the file holds a list; a config file must be an object');
    if (first.k === '{') {
      this.lx.next();
      rootClose = this.objectBody([], { root: true }, first)!;
    } else this.objectBody([], { root: true }, null);
    this.skipGaps();
    const rest = this.lx.peek();
    if (rest.k !== 'end') this.fail(rest.s, `${describe(rest)} after the end of the root object`);
    return rootClose;
  }

  private enter(at: number): void {
    if (++this.depth > MAX_DEPTH) this.fail(at, `objects and lists nest deeper than ${MAX_DEPTH} levels`);
  }

  /** Fields until '}' (returns its offset) or, without braces, the end (returns null). */
  private objectBody(prefix: string[], target: Target, open: Token | null): number | null {
    if (open) this.enter(open.s);
    for (;;) {
      this.skipGaps();
      const t = this.lx.peek();
      if (t.k === '}' || t.k === 'end') return this.closeObject(t, open);
      if (t.k === 'unq' && t.v === 'include') this.include();
      else this.field(prefix, target);
      if (this.separator()) continue;
      this.skipGaps();
      const after = this.lx.peek();
      if (after.k === '}' || after.k === 'end') return this.closeObject(after, open);
      this.fail(after.s, `expected a new line, ',' or '}' before ${describe(after)}`);
    }
  }

  private closeObject(t: Token, open: Token | null): number | null {
    if (t.k === '}' && !open) this.fail(t.s, "a '}' with no '{' before it");
    if (t.k === 'end' && open) {
      const { line } = positionOf(this.text, open.s);
      this.fail(t.s, `missing } (the '{' of line ${line} is not closed)`);
    }
    this.lx.next();
    if (open) this.depth--;
    return open ? t.s : null;
  }

  /** After a field: a ',' or at least one line break (comments and spaces around them). */
  private separator(): boolean {
    let saw = false;
    for (;;) {
      const t = this.lx.peek();
      if (t.k === 'ws' || t.k === 'comment') this.lx.next();
      else if (t.k === 'nl') {
        saw = true;
        this.lx.next();
      } else if (t.k === ',') {
        this.lx.next();
        return true;
      } else return saw;
    }
  }

  /** A key: its parts up to the first token that cannot be part of a key. */
  private key(): string[] {
    const parts: Token[] = [];
    for (;;) {
      const t = this.lx.peek();
      if (t.k === 'str' || t.k === 'unq' || t.k === 'num' || t.k === 'bool' || t.k === 'null')
        parts.push(this.lx.next());
      else if (t.k === 'ws' && parts.length && keyPart(this.lx.peek(1))) parts.push(this.lx.next());
      else break;
    }
    const t = this.lx.peek();
    if (!parts.length) this.fail(t.s, `expected a key, found ${describe(t)}`);
    return pathOf(this.lx, parts, parts[0]!.s, 'a key');
  }

  private field(prefix: string[], target: Target): void {
    const keyStart = this.lx.peek().s;
    const path = [...prefix, ...this.key()];
    if (path.length > MAX_DEPTH) this.fail(keyStart, `the key nests deeper than ${MAX_DEPTH} levels`);
    this.skipGaps(); // Typesafe Config allows line breaks and comments between a key and what follows
    const sepTok = this.lx.next();
    if (sepTok.k === '{')
      return this.objectField(prefix, path, target, { keyStart, open: sepTok, sep: '', sepStart: sepTok.s });
    if (sepTok.k !== '=' && sepTok.k !== ':' && sepTok.k !== '+=')
      this.fail(sepTok.s, `the key ${path.join('.')} must be followed by '=', ':' or '{', not ${describe(sepTok)}`);
    if (sepTok.k === '+=' && !target.root) this.fail(sepTok.s, "'+=' does not work inside a list");
    this.skipGaps(); // … and between the separator and the value
    const first = this.lx.peek();
    if (first.k === '{' && target.root && sepTok.k !== '+=') {
      this.lx.next();
      return this.objectField(prefix, path, target, { keyStart, open: first, sep: sepTok.k, sepStart: sepTok.s });
    }
    const v = this.value(first);
    if (!v) this.fail(first.s, `no value for ${path.join('.')} (found ${describe(first)})`);
    this.define(target, prefix, path, v.node, sepTok.k === '+=', keyStart);
    if (target.root)
      this.fields.push({
        path,
        kind: v.kind,
        keyStart,
        indent: this.indentAt(keyStart),
        sep: sepTok.k,
        sepStart: sepTok.s,
        valueStart: first.s,
        valueEnd: v.end,
        raw: this.text.slice(first.s, v.end),
      });
  }

  private define(target: Target, prefix: string[], path: string[], node: Node, plus: boolean, at: number): void {
    if (target.root) this.tree.define(path, node, plus, at);
    else {
      let v = node;
      for (let n = path.length - 1; n > prefix.length; n--) {
        const o = objNode(at);
        o.m.set(path[n]!, v);
        v = o;
      }
      const k = path[prefix.length]!;
      target.obj.m.set(k, mergeInto(target.obj.m.get(k), v));
    }
  }

  /** `key { … }` or `key = { … }` in the file's tree: its fields are recorded too. */
  private objectField(
    prefix: string[],
    path: string[],
    target: Target,
    at: { keyStart: number; open: Token; sep: HoconField['sep']; sepStart: number },
  ): void {
    const { keyStart, open, sep, sepStart } = at;
    if (!target.root) {
      const obj = objNode(open.s);
      this.objectBody([], { root: false, obj }, open);
      this.define(target, prefix, path, obj, false, keyStart);
      return;
    }
    const field: HoconField = {
      path,
      kind: 'object',
      keyStart,
      indent: this.indentAt(keyStart),
      sep,
      sepStart,
      valueStart: open.s,
      valueEnd: 0,
    };
    this.fields.push(field);
    this.tree.define(path, objNode(keyStart), false, keyStart);
    field.closeBrace = this.objectBody(path, target, open)!;
    field.valueEnd = field.closeBrace + 1;
    if (sep !== '' && this.continuesValue()) {
      // `a = { … } { … }` or `a = { … } ${b}`: the rest merges over the first object.
      if (this.lx.peek().k === 'ws') this.lx.next();
      const rest = this.value(this.lx.peek())!;
      if (rest.node.t === 'leaf') this.fail(field.valueStart, 'an object cannot be joined with a string');
      this.tree.define(path, rest.node, false, keyStart);
      field.valueEnd = rest.end;
    }
  }

  /** Whether a value goes on after one just read (values on one line, spaces between). */
  private continuesValue(): boolean {
    const a = this.lx.peek();
    return VALUE_START.has(a.k) || (a.k === 'ws' && VALUE_START.has(this.lx.peek(1).k));
  }

  private indentAt(at: number): string {
    const lineStart = this.text.lastIndexOf('\n', at - 1) + 1;
    let e = lineStart;
    while (this.text[e] === ' ' || this.text[e] === '\t') e++;
    return this.text.slice(lineStart, e);
  }

  /**
   * A value: one or several on the same line, joined (strings with the spaces between them,
   * objects merged, lists appended). Null when no value starts here.
   */
  private value(first: Token): { node: Node; kind: HoconField['kind']; end: number } | null {
    if (!VALUE_START.has(first.k)) return null;
    const parts: Node[] = [];
    let end = first.s;
    let lastSimple = false;
    for (;;) {
      const t = this.lx.peek();
      if (t.k === 'ws' && parts.length && VALUE_START.has(this.lx.peek(1).k)) {
        this.lx.next();
        if (lastSimple && SIMPLE.has(this.lx.peek().k))
          parts.push({ t: 'leaf', type: 'STRING', v: t.v, at: t.s, ws: true });
        continue;
      }
      if (!VALUE_START.has(t.k)) break;
      parts.push(this.piece());
      lastSimple = SIMPLE.has(t.k);
      end = this.lastEnd;
    }
    const kind =
      parts.length === 1 && parts[0]!.t === 'obj'
        ? 'object'
        : parts.length === 1 && parts[0]!.t === 'arr'
          ? 'array'
          : 'scalar';
    return { node: this.joined(parts, first.s), kind, end };
  }

  private lastEnd = 0;

  private piece(): Node {
    const t = this.lx.next();
    this.lastEnd = t.e;
    switch (t.k) {
      case '{': {
        const obj = objNode(t.s);
        this.lastEnd = this.objectBody([], { root: false, obj }, t)! + 1;
        return obj;
      }
      case '[':
        return this.array(t);
      case 'subst':
        return { t: 'subst', path: t.path!, optional: !!t.optional, at: t.s };
      case 'num':
        return { t: 'leaf', type: 'NUMBER', v: t.v, at: t.s };
      case 'bool':
        return { t: 'leaf', type: 'BOOLEAN', v: t.v, at: t.s };
      case 'null':
        return { t: 'leaf', type: 'NULL', v: t.v, at: t.s };
      default:
        return { t: 'leaf', type: 'STRING', v: t.v, at: t.s };
    }
  }

  /** Pieces joined now when no substitution is among them; later (when resolved) otherwise. */
  private joined(parts: Node[], at: number): Node {
    if (parts.length === 1) return parts[0]!;
    if (parts.some((p) => p.t === 'subst')) return { t: 'concat', parts, at };
    if (parts.every((p) => p.t === 'leaf'))
      return { t: 'leaf', type: 'STRING', v: parts.map((p) => (p as { v: string }).v).join(''), at };
    const real = parts.filter((p) => !(p.t === 'leaf' && p.ws));
    if (real.every((p) => p.t === 'obj')) {
      const merged = objNode(at);
      for (const o of real) mergeInto(merged, o);
      return merged;
    }
    if (real.every((p) => p.t === 'arr')) return { t: 'arr', a: real.flatMap((p) => (p.t === 'arr' ? p.a : [])), at };
    return this.fail(at, 'an object or a list cannot be joined with a string');
  }

  private array(open: Token): Node {
    this.enter(open.s);
    const a: Node[] = [];
    for (;;) {
      this.skipGaps();
      const t = this.lx.peek();
      if (t.k === ']') break;
      const v = this.value(t);
      if (!v) this.fail(t.s, `expected a value or ']' in the list, found ${describe(t)}`);
      a.push(v.node);
      if (this.separator()) continue;
      this.skipGaps();
      const after = this.lx.peek();
      if (after.k !== ']') this.fail(after.s, `expected a new line, ',' or ']' before ${describe(after)}`);
    }
    const close = this.lx.next();
    this.lastEnd = close.e;
    this.depth--;
    return { t: 'arr', a, at: open.s };
  }

  /** `include "file"`, `include file("…")`, `include required(…)`: checked, not followed (no file here has one). */
  private include(): void {
    const kw = this.lx.next();
    this.skipGaps();
    let open = 0;
    let t = this.lx.next();
    while (t.k === 'unq' && /^(required\(|url\(|file\(|classpath\()+$/.test(t.v) && open < 2) {
      open += (t.v.match(/\(/g) ?? []).length;
      this.skipGaps();
      t = this.lx.next();
    }
    if (t.k !== 'str')
      this.fail(
        t.s,
        `include must be followed by a quoted name, file(), url(), classpath() or required(), not ${describe(t)}`,
      );
    let closed = 0;
    while (closed < open) {
      this.skipGaps();
      const c = this.lx.next();
      if (c.k !== 'unq' || !/^\)+$/.test(c.v))
        this.fail(c.s, `expected ')' to close the include of line ${positionOf(this.text, kw.s).line}`);
      closed += c.v.length;
    }
    if (closed !== open) this.fail(kw.s, 'unbalanced parentheses in this include');
  }
}

function keyPart(t: Token): boolean {
  return t.k === 'str' || t.k === 'unq' || t.k === 'num' || t.k === 'bool' || t.k === 'null';
}
