/**
 * What a HOCON file means, as Typesafe Config builds it: objects merge with earlier objects at the
 * same path, any other value replaces; a substitution (${a.b}, ${?x}) is looked up in the whole
 * file, then in the environment; one that names its own field (`a = ${a}x`, `a += x`) sees the
 * value defined before it. The environment of the service is not known here, so unless one is
 * given, a value that needs it is "unknown" rather than guessed.
 */
import { syntaxError } from './hocon-lexer.js';

export type HoconType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'NULL';

export interface ObjNode {
  t: 'obj';
  m: Map<string, Node>;
  /** Offset of the (last) definition, for "which spelling came last". */
  at: number;
}
export interface ArrNode {
  t: 'arr';
  a: Node[];
  at: number;
}
export interface LeafNode {
  t: 'leaf';
  type: HoconType;
  v: string;
  at: number;
  /** Whitespace between two values of a concatenation. */
  ws?: boolean;
}
export interface ConcatNode {
  t: 'concat';
  parts: Node[];
  at: number;
}
export interface SubstNode {
  t: 'subst';
  path: string[];
  optional: boolean;
  at: number;
  /** A self-reference with nothing defined before it: only the environment can answer. */
  envOnly?: boolean;
  /** The ${?path} that `path += x` stands for: with no environment known, absent. */
  implicit?: boolean;
}
/** An object defined over a value not resolved yet: merged if that value turns out an object. */
export interface MergeNode {
  t: 'merge';
  stack: Node[];
  at: number;
}
export interface UnknownNode {
  t: 'unknown';
  at: number;
}
export interface AbsentNode {
  t: 'absent';
  at: number;
}
export type Node = ObjNode | ArrNode | LeafNode | ConcatNode | SubstNode | MergeNode | UnknownNode | AbsentNode;

/** How many substitutions may wait on each other; a real file has a handful. */
export const MAX_CHAIN = 256;

export const objNode = (at: number): ObjNode => ({ t: 'obj', m: new Map(), at });
const ABSENT: AbsentNode = { t: 'absent', at: -1 };
const unresolved = (n: Node): n is ConcatNode | SubstNode | MergeNode =>
  n.t === 'concat' || n.t === 'subst' || n.t === 'merge';

/** `nw` defined over `old` (HOCON's merge): objects merge, anything else replaces, unless `nw` may vanish. */
export function mergeInto(old: Node | undefined, nw: Node): Node {
  if (!old || old.t === 'absent') return nw;
  if (nw.t === 'obj' && old.t === 'obj') {
    for (const [k, v] of nw.m) old.m.set(k, mergeInto(old.m.get(k), v));
    old.at = nw.at;
    return old;
  }
  // An object over a value not known yet, or a substitution that may turn out absent (${?x}):
  // decided when resolved.
  if ((nw.t === 'obj' && unresolved(old)) || unresolved(nw)) {
    return { t: 'merge', stack: old.t === 'merge' ? [...old.stack, nw] : [old, nw], at: nw.at };
  }
  return nw;
}

/** Objects built from the root down, one definition after the other, in file order. */
export class HoconTree {
  readonly root = objNode(0);

  /** `onSelfReference(at)`: told of each field that refers to its own path (`a += x`, `a = ${a}…`). */
  constructor(private readonly onSelfReference: (at: number) => void = () => undefined) {}

  /** `path = value` (or `path += value`), as the field at `at` defines it. */
  define(path: readonly string[], value: Node, plusEquals: boolean, at: number): void {
    let v: Node = plusEquals
      ? {
          t: 'concat',
          parts: [
            { t: 'subst', path: [...path], optional: true, implicit: true, at },
            { t: 'arr', a: [value], at },
          ],
          at,
        }
      : value;
    v = this.withoutSelfReference(v, path);
    for (let n = path.length - 1; n > 0; n--) {
      const o = objNode(at);
      o.m.set(path[n]!, v);
      v = o;
    }
    this.root.m.set(path[0]!, mergeInto(this.root.m.get(path[0]!), v));
  }

  /** A substitution of the field's own path stands for what was defined there before. */
  private withoutSelfReference(v: Node, path: readonly string[]): Node {
    if (v.t === 'subst' && samePath(v.path, path)) return this.before(v);
    if (v.t === 'concat') return { ...v, parts: v.parts.map((p) => this.withoutSelfReference(p, path)) };
    if (v.t === 'arr') return { ...v, a: v.a.map((p) => this.withoutSelfReference(p, path)) };
    return v;
  }

  private before(s: SubstNode): Node {
    this.onSelfReference(s.at);
    let cur: Node | undefined = this.root;
    for (const seg of s.path) cur = cur?.t === 'obj' ? cur.m.get(seg) : undefined;
    if (cur === undefined) return { ...s, envOnly: true };
    return clone(cur);
  }
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, n) => s === b[n]);

/**
 * What a self-reference sees: the value defined before it. Objects are copied, since a later
 * definition merges into them in place; every other node is shared, since nothing changes one
 * once it is built (and the resolver resolves each node once, whatever refers to it). Copying
 * those too made a chain of `a += x` lines double in size with each line.
 */
function clone(n: Node): Node {
  if (n.t === 'obj') return { ...n, m: new Map([...n.m].map(([k, v]) => [k, clone(v)])) };
  return n;
}

/** A new object: `over` merged over `under`, neither changed (they may be shared by substitutions). */
function mergedCopy(under: ObjNode, over: ObjNode): ObjNode {
  const m = new Map(under.m);
  for (const [k, v] of over.m) {
    const u = m.get(k);
    m.set(k, u?.t === 'obj' && v.t === 'obj' ? mergedCopy(u, v) : v);
  }
  return { t: 'obj', m, at: over.at };
}

/**
 * Resolves every substitution of the tree in place. `env`: the service's environment, or null
 * when it is not known (then what needs it is "unknown"). A substitution that cannot be resolved
 * with a known environment, or one that depends on itself, is a HoconSyntaxError at its place.
 */
export class HoconResolver {
  private readonly active = new Set<Node>();
  private readonly memo = new Map<Node, Node>();
  private readonly walked = new WeakSet<Node>();

  constructor(
    private readonly text: string,
    private readonly root: ObjNode,
    private readonly env: Readonly<Record<string, string>> | null,
  ) {}

  resolveAll(): void {
    this.res(this.root);
  }

  private res(n: Node): Node {
    if (n.t === 'obj' || n.t === 'arr') return this.walk(n);
    if (!unresolved(n)) return n;
    const done = this.memo.get(n);
    if (done) return done;
    if (this.active.has(n)) throw syntaxError(this.text, n.at, 'this substitution depends on itself (a cycle)');
    if (this.active.size >= MAX_CHAIN)
      throw syntaxError(this.text, n.at, `substitutions lead to substitutions more than ${MAX_CHAIN} deep`);
    this.active.add(n);
    let r = n.t === 'subst' ? this.subst(n) : n.t === 'concat' ? this.concat(n) : this.merge(n);
    if (r.t === 'obj' || r.t === 'arr') r = this.walk(r);
    this.active.delete(n);
    this.memo.set(n, r);
    return r;
  }

  private walk<T extends ObjNode | ArrNode>(n: T): T {
    if (this.walked.has(n)) return n;
    this.walked.add(n);
    if (n.t === 'arr') {
      n.a = n.a.map((v) => this.res(v)).filter((v) => v.t !== 'absent');
      return n;
    }
    for (const [k, v] of n.m) {
      const r = this.res(v);
      if (r.t === 'absent') n.m.delete(k);
      else if (r !== v) n.m.set(k, r);
    }
    return n;
  }

  private subst(s: SubstNode): Node {
    const found = s.envOnly ? undefined : this.lookup(s.path);
    if (found) return found;
    // Environment variables are one flat object (Typesafe Config's ConfigImpl.loadEnvVariables):
    // only a one-part path can be found there.
    const envName = s.path.length === 1 ? s.path[0]! : null;
    if (envName !== null && this.env === null) return s.implicit ? ABSENT : { t: 'unknown', at: s.at };
    const fromEnv = envName !== null ? this.env?.[envName] : undefined;
    if (fromEnv !== undefined) return { t: 'leaf', type: 'STRING', v: fromEnv, at: s.at };
    if (s.optional) return ABSENT;
    throw syntaxError(this.text, s.at, `\${${s.path.join('.')}} is set neither in the file nor in the environment`);
  }

  /** The value at `path`, its substitutions resolved; undefined when nothing is there. */
  private lookup(path: readonly string[]): Node | undefined {
    let cur: Node = this.root;
    for (const seg of path) {
      if (cur.t !== 'obj') return undefined;
      const child = cur.m.get(seg);
      if (child === undefined) return undefined;
      cur = child.t === 'obj' ? child : this.res(child);
      if (cur.t === 'absent') return undefined;
    }
    return cur;
  }

  private concat(c: ConcatNode): Node {
    const parts = c.parts.map((p) => this.res(p));
    const real = parts.filter((p) => p.t !== 'absent' && !(p.t === 'leaf' && p.ws));
    if (real.length === 0) return ABSENT;
    if (parts.some((p) => p.t === 'unknown')) return { t: 'unknown', at: c.at };
    const kept = parts.filter((p) => p.t !== 'absent');
    if (real.length === 1 && kept.length === 1) return real[0]!;
    if (kept.every((p) => p.t === 'leaf'))
      return { t: 'leaf', type: 'STRING', v: kept.map((p) => p.v).join(''), at: c.at };
    if (real.every((p) => p.t === 'obj')) return real.reduce((a, b) => mergedCopy(a, b));
    if (real.every((p) => p.t === 'arr')) return { t: 'arr', a: real.flatMap((p) => p.a), at: c.at };
    throw syntaxError(this.text, c.at, 'an object or a list cannot be joined with a string here');
  }

  private merge(m: MergeNode): Node {
    let acc: Node = ABSENT;
    for (const layer of m.stack) {
      const r = layer.t === 'obj' ? layer : this.res(layer);
      if (r.t === 'absent') continue;
      acc = acc.t === 'obj' && r.t === 'obj' ? mergedCopy(acc, r) : r;
    }
    return acc;
  }
}

export interface HoconLeaf {
  /** Keys, and list positions as numbers. */
  path: (string | number)[];
  type: HoconType | 'UNKNOWN';
  value: string;
}

/** Every scalar of a resolved tree, with its path. */
export function leavesOf(n: Node, path: (string | number)[] = [], out: HoconLeaf[] = []): HoconLeaf[] {
  if (n.t === 'obj') for (const [k, v] of n.m) leavesOf(v, [...path, k], out);
  else if (n.t === 'arr') n.a.forEach((v, i) => leavesOf(v, [...path, i], out));
  else if (n.t === 'leaf') out.push({ path, type: n.type, value: n.v });
  else out.push({ path, type: 'UNKNOWN', value: '' });
  return out;
}
