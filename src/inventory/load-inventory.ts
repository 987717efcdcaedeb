import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  LineCounter,
  Pair,
  Scalar,
  YAMLMap,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
} from 'yaml';
import { closest } from './did-you-mean.js';
import { expandHostPattern, splitHostPort } from './host-pattern.js';
import { CONNECTION_VARIABLES, SPELLINGS, coerce, valueText } from './known-variables.js';
import {
  InventoryError,
  formatProblem,
  type Connection,
  type GroupNode,
  type HostSpec,
  type Inventory,
  type InventoryProblem,
  type InventorySchema,
  type SourcePosition,
  type VarSpec,
} from './types.js';
import { duplicates, positionOf } from './unique.js';
import { pyyamlTags } from './yaml11.js';

const GROUP_KEYS = ['hosts', 'children', 'vars'] as const;

interface VarDef {
  name: string;
  /** Converted to its type when the variable is known. */
  value: unknown;
  /** As YAML gave it. */
  raw: unknown;
  at: SourcePosition;
}

interface Group {
  name: string;
  at: SourcePosition;
  vars: VarDef[];
  /** ansible_group_priority: among groups of one depth, a higher one's variables win. */
  priority: number;
  hosts: string[];
  children: Set<string>;
  parents: Set<string>;
  /** Where each child was named, for error positions. */
  childAt: Map<string, SourcePosition>;
}

interface HostDef {
  at: SourcePosition;
  vars: VarDef[];
  /** Where the host was listed, per group. */
  listedAt: Map<string, SourcePosition>;
}

export interface LoadOptions {
  /** Login user when the inventory names none (Ansible's default: the local user). */
  defaultUser?: string;
  /** Check the playbook's groups (default); false reads any inventory, as `jitsi-scale inventory` does. */
  roles?: boolean;
  /** Where a relative key path starts (Ansible's ssh: the working directory). */
  cwd?: string;
}

/** Reads and validates an inventory file; throws InventoryError listing every problem found. */
export async function loadInventory(file: string, schema: InventorySchema, opts: LoadOptions = {}): Promise<Inventory> {
  let text: string;
  try {
    const st = await stat(file);
    if (st.isDirectory())
      throw problemAt(
        file,
        `is a directory; pass the inventory file itself (e.g. ${file.replace(/\/$/, '')}/inventory.yaml)`,
      );
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof InventoryError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw problemAt(
        file,
        'no such file; pass your inventory with -i PATH (see inventory.yaml in the project for an example)',
      );
    if (code === 'EACCES') throw problemAt(file, 'permission denied reading the inventory');
    throw problemAt(file, `cannot read the inventory: ${(e as Error).message}`);
  }
  return parseInventory(text, file, schema, opts);
}

function problemAt(file: string, message: string): InventoryError {
  return new InventoryError([{ file, line: 1, col: 1, message }]);
}

/** Parses inventory text; `file` is used in messages and to resolve relative key paths. */
export function parseInventory(text: string, file: string, schema: InventorySchema, opts: LoadOptions = {}): Inventory {
  return new InventoryReader(text, file, schema, opts).read();
}

class InventoryReader {
  private readonly lines = new LineCounter();
  private readonly problems: InventoryProblem[] = [];
  private readonly notes: string[] = [];
  private readonly groups = new Map<string, Group>();
  private readonly hosts = new Map<string, HostDef>();
  private doc!: Document.Parsed;
  private readonly known: Readonly<Record<string, VarSpec>>;
  private depthCache: Map<string, number> | undefined;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly schema: InventorySchema,
    private readonly opts: LoadOptions,
  ) {
    this.known = { ...CONNECTION_VARIABLES, ...schema.variables };
  }

  read(): Inventory {
    const docs = parseAllDocuments(this.text, {
      lineCounter: this.lines,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
      // Ansible reads inventories with PyYAML: YAML 1.1 scalars (yes/no, 0644, 1_000).
      version: '1.1',
      customTags: pyyamlTags,
    });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const d of list) {
      for (const e of d.errors) this.problem(this.posOfOffset(e.pos[0]), yamlMessage(e.code, e.message));
    }
    if (this.problems.length) throw new InventoryError(this.problems);
    if (list.length > 1) {
      const second = list[1]!;
      this.fail(
        this.posOfOffset(second.range[0]),
        'the file holds more than one YAML document; an inventory is one document',
      );
    }
    const doc = list[0];
    if (!doc || doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
      this.fail(
        { file: this.file, line: 1, col: 1 },
        `the inventory is empty; it needs an "all:" mapping with the groups ${this.schema.roles.map((r) => `"${r.name}"`).join(' and ')} (see inventory.yaml in the project)`,
      );
    }
    this.doc = doc!;
    const root = this.resolveNode(doc.contents);
    if (!isMap(root)) {
      this.fail(
        this.pos(root),
        `the inventory must be a mapping of groups (starting with "all:"), not ${kindOf(root)}`,
      );
    }
    this.group('all', this.pos(root));
    this.link('all', 'ungrouped', this.pos(root));
    for (const pair of this.pairs(root)) {
      const name = this.keyOf(pair);
      if (name === null) continue;
      if (name === 'all') this.readGroup('all', pair.value as Node | null, this.pos(pair.key));
      else {
        // Ansible treats every other top-level key as a group under "all".
        this.link('all', name, this.pos(pair.key));
        this.readGroup(name, pair.value as Node | null, this.pos(pair.key));
      }
    }
    if (!this.hasBlockingProblems()) this.checkCycles();
    this.reconcileUngrouped();
    const inventory = this.problems.length === 0 ? this.build() : null;
    if (this.problems.length) throw new InventoryError(this.sorted());
    return inventory!;
  }

  // ---- positions and problems

  private posOfOffset(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  private pos(node: unknown): SourcePosition {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.posOfOffset(range[0]) : { file: this.file, line: 1, col: 1 };
  }

  private problem(at: SourcePosition, message: string): void {
    this.problems.push({ ...at, message });
  }

  private fail(at: SourcePosition, message: string): never {
    this.problem(at, message);
    throw new InventoryError(this.sorted());
  }

  private hasBlockingProblems(): boolean {
    return this.problems.length > 0;
  }

  private sorted(): InventoryProblem[] {
    return [...this.problems].sort((a, b) => a.line - b.line || a.col - b.col);
  }

  // ---- YAML helpers

  private resolveNode(node: Node | null | undefined): Node | null {
    if (node && isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) {
        this.problem(this.pos(node), `unknown alias *${node.source}; define the anchor &${node.source} first`);
        return null;
      }
      return target;
    }
    return node ?? null;
  }

  /**
   * The pairs of a mapping, with YAML merge keys (<<) expanded as PyYAML does: an explicit key
   * wins over a merged one, and of `<<: [*a, *b]` the earlier mapping wins. A key keeps the
   * place it first took.
   */
  private pairs(node: Node | null): Pair[] {
    if (!node || !isMap(node)) return [];
    const merged: Pair[] = [];
    const own: Pair[] = [];
    for (const pair of node.items) {
      if (isScalar(pair.key) && (typeof pair.key.value === 'symbol' || pair.key.value === '<<')) {
        const v = this.resolveNode(pair.value as Node);
        const sources = isSeq(v) ? (v.items as Node[]).map((n) => this.resolveNode(n)) : [v];
        for (const s of sources.reverse()) merged.push(...this.pairs(s));
      } else {
        own.push(pair);
      }
    }
    const byKey = new Map<unknown, Pair>();
    const rest: Pair[] = [];
    for (const pair of [...merged, ...own]) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (key === undefined) rest.push(pair);
      else byKey.set(key, pair);
    }
    return [...byKey.values(), ...rest];
  }

  private keyOf(pair: Pair): string | null {
    const key = pair.key;
    if (isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number')) return String(key.value);
    this.problem(this.pos(key), 'a key here must be a plain name');
    return null;
  }

  private toJS(node: Node | null): unknown {
    const n = this.resolveNode(node);
    return n === null ? null : n.toJS(this.doc, { maxAliasCount: 100 });
  }

  // ---- groups, hosts, variables

  private group(name: string, at: SourcePosition): Group {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, at, vars: [], priority: 1, hosts: [], children: new Set(), parents: new Set(), childAt: new Map() };
      this.groups.set(name, g);
    }
    return g;
  }

  private link(parent: string, child: string, at: SourcePosition): void {
    const p = this.group(parent, at);
    const c = this.group(child, at);
    p.children.add(child);
    if (!p.childAt.has(child)) p.childAt.set(child, at);
    c.parents.add(parent);
  }

  private readGroup(name: string, raw: Node | null, at: SourcePosition): void {
    const group = this.group(name, at);
    const node = this.resolveNode(raw);
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      this.problem(
        this.pos(node),
        `group "${name}" must be a mapping with hosts:, children: or vars:, not ${kindOf(node)}`,
      );
      return;
    }
    for (const pair of this.pairs(node)) {
      const key = this.keyOf(pair);
      if (key === null) continue;
      const value = this.resolveNode(pair.value as Node);
      switch (key) {
        case 'hosts':
          this.readHosts(group, value);
          break;
        case 'children':
          this.readChildren(group, value);
          break;
        case 'vars':
          for (const v of this.readVars(value, `vars of group "${name}"`)) {
            // Ansible keeps a group's priority apart from its variables.
            if (v.name === 'ansible_group_priority') this.setPriority(group, v);
            else group.vars.push(v);
          }
          break;
        default: {
          const guess = closest(key, GROUP_KEYS, 2);
          // A near miss of hosts/children/vars would lose hosts without a word: an error. Anything
          // else is skipped with a note, as Ansible skips it with a warning.
          if (guess)
            this.problem(this.pos(pair.key), `unknown key "${key}" in group "${name}"; did you mean "${guess}"?`);
          else
            this.notes.push(
              `${formatProblem({ ...this.pos(pair.key), message: `skipped the key "${key}" in group "${name}": a group holds only hosts:, children: and vars:` })}`,
            );
        }
      }
    }
  }

  private readHosts(group: Group, raw: Node | null): void {
    const node = this.stringAsMap(raw);
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (isSeq(node)) {
      this.problem(
        this.pos(node),
        `hosts of group "${group.name}" must be a mapping: write each host as "name:" on its own line, not "- name"`,
      );
      return;
    }
    if (!isMap(node)) {
      this.problem(
        this.pos(node),
        `hosts of group "${group.name}" must be a mapping of host names, not ${kindOf(node)}`,
      );
      return;
    }
    for (const pair of this.pairs(node)) {
      const key = this.keyOf(pair);
      if (key === null) continue;
      const at = this.pos(pair.key);
      // "jvb1.example.org:2222" is the host jvb1.example.org on port 2222.
      const { pattern, port } = splitHostPort(key);
      const expanded = expandHostPattern(pattern);
      if ('error' in expanded) {
        this.problem(at, expanded.error);
        continue;
      }
      if (expanded.hosts.length === 0) {
        // Ansible silently adds no host here; a range that names none is a mistake worth a line.
        this.problem(at, `host range "${pattern}" names no host (it counts down, or its step skips past the end)`);
        continue;
      }
      const value = this.resolveNode(pair.value as Node);
      const isEmpty = value === null || (isScalar(value) && value.value === null);
      if (!isEmpty && !isMap(value)) {
        this.problem(
          this.pos(value),
          `host "${pattern}" must be followed by a mapping of its variables (or nothing), not ${kindOf(value)}`,
        );
        continue;
      }
      const vars = isEmpty ? [] : this.readVars(value, `host "${pattern}"`);
      for (const name of expanded.hosts) {
        let def = this.hosts.get(name);
        if (!def) {
          // The port of the host key is set when the host is first seen; its variables come after.
          const portVar = port === null ? [] : [{ name: 'ansible_port', value: port, raw: port, at }];
          def = { at, vars: portVar, listedAt: new Map() };
          this.hosts.set(name, def);
        }
        def.vars.push(...vars);
        if (!def.listedAt.has(group.name)) def.listedAt.set(group.name, at);
        if (!group.hosts.includes(name)) group.hosts.push(name);
      }
    }
  }

  private readChildren(group: Group, raw: Node | null): void {
    const node = this.stringAsMap(raw);
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      this.problem(
        this.pos(node),
        `children of group "${group.name}" must be a mapping of group names, not ${kindOf(node)}`,
      );
      return;
    }
    for (const pair of this.pairs(node)) {
      const child = this.keyOf(pair);
      if (child === null) continue;
      const at = this.pos(pair.key);
      if (child === 'all') {
        this.problem(at, '"all" cannot be a child group; it already holds every group');
        continue;
      }
      this.link(group.name, child, at);
      this.readGroup(child, pair.value as Node | null, at);
    }
  }

  private readVars(node: Node | null, where: string): VarDef[] {
    if (node === null || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) {
      this.problem(this.pos(node), `${where} must be a mapping of variables, not ${kindOf(node)}`);
      return [];
    }
    const out: VarDef[] = [];
    for (const pair of this.pairs(node)) {
      const raw = this.keyOf(pair);
      if (raw === null) continue;
      const keyAt = this.pos(pair.key);
      const valueNode = (pair.value as Node | null) ?? null;
      const valueAt = valueNode ? this.pos(valueNode) : keyAt;
      const value = this.toJS(valueNode);
      const spec = this.known[raw];
      if (spec) {
        const c = coerce(raw, spec, value);
        if (c.ok) out.push({ name: raw, value: c.value, raw: value, at: valueAt });
        else this.problem(valueAt, `${c.message} (in ${where})`);
        continue;
      }
      const unknown = this.unknownVariable(raw);
      if (unknown) {
        this.problem(keyAt, `${unknown.replace('{where}', where)}`);
        continue;
      }
      out.push({ name: raw, value, raw: value, at: valueAt });
    }
    return out;
  }

  /** `hosts: web1` is `hosts: { web1: }` to Ansible. */
  private stringAsMap(node: Node | null): Node | null {
    if (!node || !isScalar(node) || typeof node.value !== 'string') return node;
    const map = new YAMLMap<Scalar, Scalar>();
    const key = new Scalar(node.value);
    key.range = node.range;
    const value = new Scalar(null);
    value.range = node.range;
    map.items.push(new Pair(key, value));
    map.range = node.range;
    return map;
  }

  private setPriority(group: Group, v: VarDef): void {
    const n = typeof v.raw === 'number' ? v.raw : typeof v.raw === 'string' ? Number(v.raw.trim()) : NaN;
    if (Number.isInteger(n)) group.priority = n;
    else this.problem(v.at, `ansible_group_priority of group "${group.name}" must be a whole number`);
  }

  /**
   * Ansible's "ungrouped": the hosts in no group but "all" (those listed under all.hosts), and
   * only those: a host listed in ungrouped and in another group leaves ungrouped.
   */
  private reconcileUngrouped(): void {
    const ungrouped = this.groups.get('ungrouped')!;
    for (const [name, def] of this.hosts) {
      const listed = [...def.listedAt.keys()];
      const elsewhere = [...this.ancestors(listed)].some((g) => g !== 'all' && g !== 'ungrouped');
      if (elsewhere) ungrouped.hosts = ungrouped.hosts.filter((h) => h !== name);
      else if (!ungrouped.hosts.includes(name)) ungrouped.hosts.push(name);
    }
  }

  /** Why a name that is not a known variable is a mistake ({where} to fill in), or null: a user variable. */
  private unknownVariable(raw: string): string | null {
    const names = Object.keys(this.known);
    const family = this.schema.families?.find((f) => raw.startsWith(f.prefix));
    if (family) {
      const own = names.filter((n) => n.startsWith(family.prefix) || !n.startsWith('ansible_'));
      const guess = closest(raw, own, 4);
      return (
        `unknown ${family.label} variable "${raw}" in {where}; ` +
        (guess ? `did you mean "${guess}"?` : `known: ${own.join(', ')}`)
      );
    }
    const guess = closest(raw, names, raw.length >= 12 ? 2 : 1);
    return guess ? `unknown variable "${raw}" in {where}; did you mean "${guess}"?` : null;
  }

  private checkCycles(): void {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, trail: string[]): void => {
      const s = state.get(name);
      if (s === 'done') return;
      const g = this.groups.get(name)!;
      state.set(name, 'visiting');
      for (const child of g.children) {
        if (state.get(child) === 'visiting') {
          this.problem(
            g.childAt.get(child) ?? g.at,
            `groups contain each other: ${[...trail, name, child].join(' → ')}`,
          );
          continue;
        }
        visit(child, [...trail, name]);
      }
      state.set(name, 'done');
    };
    visit('all', []);
  }

  /** Longest path from "all": a child group's variables override its parents'. */
  private depths(): Map<string, number> {
    if (this.depthCache) return this.depthCache;
    const depth = new Map<string, number>();
    this.depthCache = depth;
    const walk = (name: string, d: number): void => {
      if ((depth.get(name) ?? -1) >= d) return;
      depth.set(name, d);
      for (const c of this.groups.get(name)?.children ?? []) walk(c, d + 1);
    };
    walk('all', 0);
    return depth;
  }

  /** A group's hosts, its descendants' included. */
  private members(name: string, seen = new Set<string>()): string[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const g = this.groups.get(name);
    if (!g) return [];
    const out = [...g.hosts];
    for (const c of g.children) for (const h of this.members(c, seen)) if (!out.includes(h)) out.push(h);
    return out;
  }

  private ancestors(groupsOfHost: string[]): Set<string> {
    const out = new Set<string>(['all']);
    const stack = [...groupsOfHost];
    while (stack.length) {
      const g = stack.pop()!;
      if (out.has(g)) continue;
      out.add(g);
      for (const p of this.groups.get(g)?.parents ?? []) stack.push(p);
    }
    return out;
  }

  /** Each role's hosts, checked against the schema's counts; a host plays one role. */
  private roleHosts(): Map<string, string[]> | null {
    const allAt = this.groups.get('all')!.at;
    const byRole = new Map(this.schema.roles.map((r) => [r.name, this.members(r.name)]));
    for (const role of this.schema.roles) {
      const group = this.groups.get(role.name);
      const hosts = byRole.get(role.name)!;
      if (role.count !== 'any' && hosts.length === 0) {
        this.problem(
          group?.at ?? allAt,
          `no host in group "${role.name}"; add ${role.what} under all.children.${role.name}.hosts`,
        );
      } else if (role.count === 'one' && hosts.length > 1) {
        this.problem(
          group!.at,
          `group "${role.name}" must hold exactly one host, but holds ${hosts.length}: ${hosts.join(', ')}`,
        );
      }
    }
    const roleOf = new Map<string, string>();
    for (const role of this.schema.roles) {
      for (const h of byRole.get(role.name)!) {
        const first = roleOf.get(h);
        if (first === undefined) {
          roleOf.set(h, role.name);
          continue;
        }
        const other = this.schema.roles.find((r) => r.name === first)!;
        this.problem(
          this.hosts.get(h)!.listedAt.get(role.name) ?? this.hosts.get(h)!.at,
          `host "${h}" is in both "${first}" and "${role.name}"; the ${role.label[1]} must be other hosts than the ${other.label[0]}`,
        );
      }
    }
    if (roleOf.size === 0 && this.problems.length === 0) {
      this.problem(allAt, `no host in any of the groups ${this.schema.roles.map((r) => `"${r.name}"`).join(', ')}`);
    }
    return this.problems.length ? null : byRole;
  }

  /** Variables after precedence (deeper groups over shallower, the host over its groups), with positions. */
  private hostVars(name: string, ordered: string[]): HostVars {
    const vars: Record<string, unknown> = {};
    const written: Record<string, unknown> = {};
    const varAt: Record<string, SourcePosition> = {};
    const defs = [...ordered.flatMap((g) => this.groups.get(g)!.vars), ...this.hosts.get(name)!.vars];
    for (const v of defs) {
      vars[v.name] = v.value;
      written[v.name] = v.raw;
      varAt[v.name] = v.at;
    }
    return { vars, written, varAt };
  }

  /** A host's groups in Ansible's order of precedence: by depth, then ansible_group_priority, then name. */
  private precedence(groups: Iterable<string>): string[] {
    const depth = this.depths();
    const prio = (g: string) => this.groups.get(g)?.priority ?? 1;
    return [...groups].sort(
      (a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || prio(a) - prio(b) || (a < b ? -1 : a > b ? 1 : 0),
    );
  }

  private build(): Inventory | null {
    const checkRoles = this.opts.roles !== false;
    const byRole = checkRoles
      ? this.roleHosts()
      : new Map(this.schema.roles.map((r) => [r.name, this.members(r.name)]));
    if (!byRole) return null;
    const roleOf = new Map<string, string>();
    for (const [role, names] of byRole) for (const n of names) if (!roleOf.has(n)) roleOf.set(n, role);
    const hostGroups = new Map<string, string[]>();
    for (const [gname, g] of this.groups)
      for (const h of g.hosts) hostGroups.set(h, [...(hostGroups.get(h) ?? []), gname]);

    const everyHost = [...this.hosts.keys()].map((name) => {
      const ordered = this.precedence(this.ancestors(hostGroups.get(name) ?? []));
      return this.hostSpec(name, roleOf.get(name) ?? '', ordered, this.hostVars(name, ordered));
    });
    const byName = new Map(everyHost.map((h) => [h.name, h]));
    const specs = [...byRole].flatMap(([role, names]) =>
      names.filter((n) => roleOf.get(n) === role).map((n) => byName.get(n)!),
    );
    if (checkRoles) {
      const sshKey = (h: HostSpec) => (h.connection === 'ssh' ? `${h.address}:${h.port}` : null);
      this.problems.push(...duplicates(specs, sshKey, 'address', (h) => positionOf(h, ...SPELLINGS.address)));
    }

    const groups: Record<string, string[]> = {};
    const inScope = new Set(specs.map((s) => s.name));
    for (const [gname] of this.groups) {
      const m = this.members(gname).filter((h) => inScope.has(h));
      if (m.length) groups[gname] = m;
    }
    const tree: GroupNode[] = [...this.groups.values()].map((g) => ({
      name: g.name,
      hosts: g.name === 'all' ? [] : [...g.hosts],
      children: [...g.children].sort(),
    }));
    const inventory: Inventory = {
      file: this.file,
      notes: this.notes,
      hosts: specs,
      everyHost,
      tree,
      byRole: Object.fromEntries([...byRole.keys()].map((r) => [r, specs.filter((s) => s.role === r)])),
      groups,
    };
    if (checkRoles) this.problems.push(...(this.schema.check?.(inventory) ?? []));
    return this.problems.length ? null : inventory;
  }

  private hostSpec(name: string, role: string, groups: string[], { vars: v, written, varAt }: HostVars): HostSpec {
    const str = (k: string): string | undefined => (v[k] === undefined ? undefined : valueText(v[k]));
    // Of several spellings set for the host, Ansible uses the first it knows (the old one).
    const pick = (names: readonly string[]) => names.map(str).find((x) => x !== undefined);
    const connection = (str('ansible_connection') ?? 'ssh') as Connection;
    const user = pick(SPELLINGS.user) ?? this.opts.defaultUser ?? safeUser();
    const port = pick(SPELLINGS.port);
    const key = pick(SPELLINGS.key);
    const notes: string[] = [];
    const becomePassword = pick(SPELLINGS.becomePassword);
    return {
      name,
      role,
      groups,
      connection,
      address: pick(SPELLINGS.address) ?? (connection === 'local' ? '127.0.0.1' : name),
      port: port === undefined ? 22 : Number(port),
      user,
      ...(key ? { privateKeyPath: this.keyPath(key, notes) } : {}),
      become: v.ansible_become === undefined ? user !== 'root' : Boolean(v.ansible_become),
      becomeUser: pick(SPELLINGS.becomeUser) ?? 'root',
      ...(becomePassword !== undefined ? { becomePassword } : {}),
      vars: v,
      written,
      varAt,
      notes,
      defined: this.hosts.get(name)!.at,
    };
  }

  /**
   * A key path as Ansible's ssh reads it: relative to the working directory. Earlier versions of
   * this tool read it from the inventory's folder, so a key found only there is used, with a note.
   */
  private keyPath(key: string, notes: string[]): string {
    const cwd = this.opts.cwd ?? process.cwd();
    const fromCwd = expandPath(key, cwd);
    if (isAbsolute(key) || key === '~' || key.startsWith('~/')) return fromCwd;
    const beside = expandPath(key, dirname(resolve(cwd, this.file)));
    if (!existsSync(fromCwd) && beside !== fromCwd && existsSync(beside)) {
      notes.push(
        `key ${key} is not in the working directory (${cwd}) but beside the inventory: using ${beside}; ` +
          'Ansible reads it from the working directory, so write the path from there or make it absolute',
      );
      return beside;
    }
    return fromCwd;
  }
}

interface HostVars {
  vars: Record<string, unknown>;
  written: Record<string, unknown>;
  varAt: Record<string, SourcePosition>;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(process.env.HOME ?? '/', p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

function kindOf(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return node.value === null ? 'nothing' : `the value ${JSON.stringify(node.value)}`;
  return 'something else';
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const hint: Record<string, string> = {
    DUPLICATE_KEY: ' (a key appears twice in the same mapping)',
    TAB_AS_INDENT: ' (indent with spaces)',
  };
  return `not valid YAML: ${first}${hint[code] ?? ''}`;
}
