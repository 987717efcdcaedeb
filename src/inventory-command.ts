import { existsSync } from 'node:fs';
import { COMMANDS, DEFAULT_COMMAND } from '../playbooks/index.js';
import { EXIT } from './engine/exit-codes.js';
import { SECRET_NAME } from './engine/mask-secret-values.js';
import { REDACTED } from './engine/redactor.js';
import { inventorySchema } from './main.js';
import { loadInventory } from './inventory/load-inventory.js';
import { InventoryError, type HostSpec, type Inventory, type InventorySchema } from './inventory/types.js';
import { resolveTarget, type Endpoint, type SshResolver, type SshTarget } from './transport/ssh/endpoint.js';
import { MatchExecHeldBack, sshResolver } from './transport/ssh/resolver.js';
import { isDefaultKey } from './transport/ssh/ssh-config.js';

export interface InventoryCommandOptions {
  inventory: string;
  /** One host (--host NAME), or every host and group (--list). */
  host?: string;
  json: boolean;
  sshConfig?: string;
  knownHosts?: string;
  /** --ssh-exec: let the ssh config run its Match exec commands to settle a host's settings. */
  sshExec?: boolean;
}

/** What a host's connection resolves to, as `inventory` shows it (never a secret). */
export interface ConnectionView {
  connection: 'ssh' | 'local';
  address: string;
  port: number;
  user: string;
  /** In the order they are offered: the agent first when it is used, then the key files found. */
  keys: string[];
  /** Key files ssh would look for that are not there (passed over). */
  keysMissing: string[];
  jumps: { user: string; address: string; port: number; proxyCommand?: string }[];
  proxyCommand?: string;
  become: { enabled: boolean; user: string; password: 'set' | 'none' };
  knownHosts: string[];
  globalKnownHosts: string[];
  hostKeyAlias?: string;
  hostKeyChecking: Endpoint['hostKeyPolicy'];
  /** Why the connection cannot be resolved (an ssh config error). */
  error?: string;
  /** The Match exec commands the ssh config would run to settle it, not run (no --ssh-exec). */
  heldBack?: readonly string[];
}

/** Pure: a host's variables as YAML gave them, every secret masked. */
export function shownVars(h: HostSpec, schema: InventorySchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h.written)) {
    const secret = schema.variables[k]?.secret || SECRET_NAME.test(k);
    out[k] = secret && v !== null && v !== '' ? REDACTED : v;
  }
  return out;
}

/** Pure: the document `ansible-inventory --list` prints, for this inventory (secrets masked). */
export function listDocument(inv: Inventory, schema: InventorySchema): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    _meta: { hostvars: Object.fromEntries(inv.everyHost.map((h) => [h.name, shownVars(h, schema)])) },
  };
  for (const g of inv.tree) {
    const entry: Record<string, string[]> = {};
    if (g.hosts.length) entry.hosts = g.hosts;
    if (g.children.length) entry.children = g.children;
    if (Object.keys(entry).length) doc[g.name] = entry;
  }
  return doc;
}

/** Pure: the connection view of a resolved target. */
export function connectionView(h: HostSpec, t: SshTarget | null, keysFound: (f: string) => boolean): ConnectionView {
  const become = {
    enabled: h.vars.ansible_become === undefined ? (t?.user ?? h.user) !== 'root' : h.become,
    user: h.becomeUser,
    password: h.becomePassword ? ('set' as const) : ('none' as const),
  };
  if (!t) {
    return {
      connection: h.connection,
      address: h.address,
      port: h.port,
      user: h.user,
      keys: [],
      keysMissing: [],
      jumps: [],
      become,
      knownHosts: [],
      globalKnownHosts: [],
      hostKeyChecking: 'ask',
    };
  }
  const agent = process.env.SSH_AUTH_SOCK && !t.identitiesOnly ? ['ssh-agent'] : [];
  return {
    connection: 'ssh',
    address: t.address,
    port: t.port,
    user: t.user,
    keys: [...agent, ...t.identityFiles.filter(keysFound)],
    keysMissing: t.identityFiles.filter((f) => !keysFound(f)),
    jumps: t.jumps.map((j) => ({
      user: j.user,
      address: j.address,
      port: j.port,
      ...(j.proxyCommand ? { proxyCommand: j.proxyCommand } : {}),
    })),
    ...(t.proxyCommand ? { proxyCommand: t.proxyCommand } : {}),
    become,
    knownHosts: t.knownHostsFiles,
    globalKnownHosts: t.globalKnownHostsFiles,
    ...(t.hostKeyAlias ? { hostKeyAlias: t.hostKeyAlias } : {}),
    hostKeyChecking: t.hostKeyPolicy,
  };
}

async function resolveView(h: HostSpec, r: SshResolver, o: InventoryCommandOptions): Promise<ConnectionView> {
  if (h.connection === 'local') return connectionView(h, null, () => false);
  try {
    const t = await resolveTarget(h, r, {
      acceptNewHostKeys: false,
      ...(o.knownHosts ? { knownHostsFile: o.knownHosts } : {}),
      ...(o.sshConfig ? { sshConfigFile: o.sshConfig } : {}),
    });
    return connectionView(h, t, existsSync);
  } catch (e) {
    const heldBack = e instanceof MatchExecHeldBack ? { heldBack: e.commands } : {};
    return { ...connectionView(h, null, () => false), error: (e as Error).message, ...heldBack };
  }
}

/** Why a listing did not run the ssh config's commands, and how to let it. */
export const HELD_BACK_NOTE =
  'listing an inventory runs no command: an ssh config is code, and Match exec runs it; --ssh-exec lets it run, as a run of the tool does';

/** Pure: one host as text. */
export function hostText(h: HostSpec, c: ConnectionView, vars: Record<string, unknown>): string[] {
  const lines = [`${h.name}${h.role ? ` (${h.role})` : ''}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(12)} ${v}`);
  if (c.heldBack)
    row(
      'connection',
      `held back: the ssh config runs ${c.heldBack.map((x) => `\`${x}\``).join(', ')} (Match exec) to settle it, and a listing runs nothing unless --ssh-exec`,
    );
  else if (c.error) row('connection', `cannot be resolved: ${c.error}`);
  else if (c.connection === 'local') row('connection', 'this machine (ansible_connection: local)');
  else {
    row('address', `${c.user}@${c.address}:${c.port}`);
    for (const j of c.jumps)
      row('through', `${j.user}@${j.address}:${j.port}${j.proxyCommand ? ` (reached with: ${j.proxyCommand})` : ''}`);
    if (c.proxyCommand) row('proxy', c.proxyCommand);
    row('keys', c.keys.length ? c.keys.join(', ') : 'none found');
    const named = c.keysMissing.filter((f) => !isDefaultKey(f));
    if (named.length) row('not found', `${named.join(', ')} (passed over, as ssh does)`);
    row('known_hosts', [...c.knownHosts, ...c.globalKnownHosts].join(', '));
    if (c.hostKeyAlias) row('host key as', c.hostKeyAlias);
    row('new keys', { ask: 'asked about', 'accept-new': 'recorded', yes: 'refused' }[c.hostKeyChecking]);
  }
  row(
    'become',
    c.become.enabled
      ? `sudo to ${c.become.user}${c.become.password === 'set' ? ' (password from the inventory, not shown)' : ''}`
      : 'no',
  );
  for (const n of h.notes) row('note', n);
  const names = Object.keys(vars).sort();
  if (names.length) {
    lines.push('  vars:');
    for (const k of names) lines.push(`    ${k}: ${JSON.stringify(vars[k])}`);
  }
  return lines;
}

/** Pure: the group tree as `ansible-inventory --graph` draws it. */
export function graphText(inv: Inventory): string[] {
  const byName = new Map(inv.tree.map((g) => [g.name, g]));
  const lines: string[] = [];
  const walk = (name: string, depth: number) => {
    const g = byName.get(name);
    if (!g) return;
    lines.push(`${'  |'.repeat(depth)}${depth ? '--' : ''}@${name}:`);
    for (const c of g.children) walk(c, depth + 1);
    for (const h of g.hosts) lines.push(`${'  |'.repeat(depth + 1)}--${h}`);
  };
  walk('all', 0);
  return lines;
}

/** `jitsi-scale inventory --list | --host NAME [--json]`; returns the exit code. */
export async function inventoryCommand(o: InventoryCommandOptions): Promise<number> {
  const playbook = await COMMANDS.find((c) => c.name === DEFAULT_COMMAND)!.load();
  const schema = inventorySchema(playbook);
  let inv: Inventory;
  try {
    inv = await loadInventory(o.inventory, schema, { roles: false });
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return EXIT.usage;
  }
  const hosts = o.host ? inv.everyHost.filter((h) => h.name === o.host) : inv.everyHost;
  for (const note of [...inv.notes, ...hosts.flatMap((h) => h.notes.map((n) => `${h.name}: ${n}`))])
    process.stderr.write(`jitsi-scale: note: ${note}\n`);
  if (o.host && hosts.length === 0) {
    process.stderr.write(`jitsi-scale: no host "${o.host}" in ${o.inventory}\n`);
    return EXIT.usage;
  }
  const r = sshResolver(undefined, { matchExec: o.sshExec ? 'run' : 'hold' });
  const views = await Promise.all(hosts.map((h) => resolveView(h, r, o)));
  const held = views.filter((v) => v.heldBack).length;
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (o.json) {
    const connections = Object.fromEntries(hosts.map((h, i) => [h.name, views[i]]));
    if (o.host) out(JSON.stringify({ vars: shownVars(hosts[0]!, schema), connection: views[0] }, null, 2));
    else {
      const doc = listDocument(inv, schema);
      (doc._meta as Record<string, unknown>).jitsi_scale = {
        ssh_settings_from: r.source,
        ...(held ? { match_exec_held_back: HELD_BACK_NOTE } : {}),
        connections,
      };
      out(JSON.stringify(doc, null, 2));
    }
    return EXIT.ok;
  }
  out(`${o.inventory}: ${inv.everyHost.length} hosts; ssh settings from ${r.source}`);
  if (held) out(`${held} host${held === 1 ? '' : 's'} not resolved: ${HELD_BACK_NOTE}`);
  if (!o.host) {
    out('');
    for (const l of graphText(inv)) out(l);
  }
  for (const [i, h] of hosts.entries()) {
    out('');
    for (const l of hostText(h, views[i]!, shownVars(h, schema))) out(l);
  }
  return EXIT.ok;
}
