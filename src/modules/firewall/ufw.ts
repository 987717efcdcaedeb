import { createHash } from 'node:crypto';
import { HostError, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import type { Change } from '../../contract/change.js';
import { commandChange } from '../command-change.js';
import { splitSections } from '../probe-sections.js';
import { BOOT_STATE_FN, parseBootState, planBoot } from './boot.js';
import type { FirewallPlan } from './nftables.js';
import { describeRule, ruleId, sourcesByFamily, type PortRule } from './port-rule.js';
import {
  UFW_BEFORE,
  UFW_DEFAULTS,
  UFW_FILES,
  beforeRulesAccepting,
  concernsPort,
  describeTuple,
  entriesBefore,
  insertionIndex,
  isAnySource,
  parseUfwDefaults,
  parseUfwRules,
  ufwVerdict,
  type UfwTuple,
} from './ufw-rules.js';

export { UFW_FILES, parseUfwRules, type UfwTuple } from './ufw-rules.js';

/*
 * ufw: rules are changed only through the ufw command, which keeps the files and the live rules
 * in step and persistent. ufw stops at the first rule that matches, so ours go where they take
 * effect: at the top of each family's list, the bridges' allows first, then the deny for everyone
 * else, before any rule of the user's. A user rule that also admits the port (a range, a list,
 * `limit`, an application profile, an interface) then no longer does for anyone but the bridges; it
 * stays, and the plan names it. ufw takes a rule that differs from another only in its action for
 * the same rule (it "skips" or "updates" it), so such a rule is deleted first, and it is deleted by
 * its number, which fits every form it may have.
 */

/** One ufw command of a plan, and why. */
export interface UfwCommand {
  argv: string[];
  why: string;
}

export interface UfwState {
  v4: UfwTuple[];
  v6: UfwTuple[];
  /** ufw manages IPv6 too (IPV6=yes in /etc/default/ufw). */
  ipv6: boolean;
  defaultInput: 'accept' | 'deny';
}

const anyOf = (v6: boolean) => (v6 ? '::/0' : '0.0.0.0/0');

/** The tuple ufw keeps for one of our rules. */
function ours(rule: PortRule, action: 'allow' | 'deny', src: string, v6: boolean): UfwTuple {
  return {
    action,
    log: false,
    forward: false,
    proto: rule.proto,
    dport: String(rule.port),
    dst: anyOf(v6),
    sport: 'any',
    src,
    dapp: '',
    sapp: '',
    direction: 'in',
    iface: '',
    comment: ruleId(rule),
    v6,
  };
}

/** ufw's own notion of "the same rule": everything but the action, the logging and the comment. */
const sameRule = (a: UfwTuple, b: UfwTuple) =>
  a.v6 === b.v6 &&
  a.forward === b.forward &&
  a.proto === b.proto &&
  a.dport === b.dport &&
  a.dst === b.dst &&
  a.sport === b.sport &&
  a.src === b.src &&
  a.dapp === b.dapp &&
  a.sapp === b.sapp &&
  a.direction === b.direction &&
  a.iface === b.iface;

const exactly = (a: UfwTuple | undefined, b: UfwTuple) =>
  !!a && sameRule(a, b) && a.action === b.action && !a.log && a.comment === b.comment;

/** The user's own rule that opens exactly this port to everyone (a guide's `ufw allow 5222/tcp`). */
const isPublicOpening = (t: UfwTuple, rule: PortRule) =>
  (t.action === 'allow' || t.action === 'limit') &&
  !t.forward &&
  t.dport === String(rule.port) &&
  (t.proto === rule.proto || t.proto === 'any') &&
  t.direction === 'in' &&
  isAnySource(t.src) &&
  isAnySource(t.dst) &&
  t.sport === 'any' &&
  !t.iface &&
  !t.dapp &&
  !t.sapp;

/**
 * The list of both families as ufw numbers it (IPv4 first, an application rule's tuples as one),
 * changed command by command as ufw will change it, so that each command's number is the one ufw
 * will see then.
 */
class Model {
  readonly commands: UfwCommand[] = [];
  constructor(private readonly lists: { v4: UfwTuple[]; v6: UfwTuple[] }) {}

  list(v6: boolean): UfwTuple[] {
    return v6 ? this.lists.v6 : this.lists.v4;
  }

  /** The number ufw gives the tuple at `index` of a family's list (the entries before it, plus one). */
  private number(v6: boolean, index: number): number {
    return (v6 ? entriesBefore(this.lists.v4) : 0) + entriesBefore(this.list(v6), index) + 1;
  }

  delete(t: UfwTuple, why: string): void {
    const list = this.list(t.v6);
    const i = list.indexOf(t);
    this.commands.push({
      argv: ['ufw', '--force', 'delete', String(this.number(t.v6, i))],
      why: `${describeTuple(t)}: ${why}`,
    });
    list.splice(i, 1);
  }

  /** Puts a rule at `index` of its family's list: `insert N` inside the list, a plain add at its end. */
  insert(t: UfwTuple, index: number, why: string): void {
    const list = this.list(t.v6);
    const at = insertionIndex(list, index);
    const proto = t.proto === 'any' ? [] : ['proto', t.proto];
    const spec = [t.action, ...proto, 'from', t.src, 'to', 'any', 'port', t.dport, 'comment', t.comment];
    // ufw takes the position by tuples but bounds it by its numbered entries: past those it refuses.
    if (at < list.length && at + 1 > entriesBefore(list))
      throw new Error(
        `ufw cannot put "${describeTuple(t)}" before "${describeTuple(list[at]!)}": its numbering counts an application rule's tuples once and refuses that position; put the application rule below the others and run again`,
      );
    // Inside a family ufw counts an insert's position by tuples, after the IPv4 entries for IPv6.
    const position = (t.v6 ? entriesBefore(this.lists.v4) : 0) + at + 1;
    const where = at < list.length ? ['insert', String(position)] : [];
    this.commands.push({ argv: ['ufw', ...where, ...spec], why });
    list.splice(at, 0, t);
  }

  /**
   * Moves `misplaced` (a rule ufw takes for the same as `want`, so `want` cannot be added beside it)
   * to `index` as `want`, with no moment without it: a stand-in that ufw tells apart (any
   * protocol) holds its place while the old one is deleted and the new one put in.
   */
  move(misplaced: UfwTuple, want: UfwTuple, index: number, why: string): void {
    const standIn: UfwTuple = { ...want, proto: 'any', comment: `${want.comment}-moving` };
    const list = this.list(want.v6);
    const free = !list.some((t) => sameRule(t, standIn));
    if (free) this.insert(standIn, index, `${why}: held by a stand-in while it moves`);
    this.delete(misplaced, 'it moves up');
    const at = free ? list.indexOf(standIn) : index;
    this.insert(want, at, why);
    if (free) this.delete(standIn, 'the stand-in, no longer needed');
  }
}

const admits = (t: UfwTuple) => t.action === 'allow' || t.action === 'limit';
/** A rule that refuses everyone the port: ours, or the user's own `deny 5222/tcp`. */
const isCloser = (t: UfwTuple, rule: PortRule) =>
  (t.action === 'deny' || t.action === 'reject') && sameRule(t, ours(rule, 'deny', anyOf(t.v6), t.v6));

/** Pure: the ufw commands that make the rule true, and the user's rules that ours now come before. */
export function planUfwCommands(state: UfwState, rule: PortRule): { commands: UfwCommand[]; shadowed: UfwTuple[] } {
  const model = new Model({ v4: [...state.v4], v6: [...state.v6] });
  const shadowed: UfwTuple[] = [];
  for (const v6 of state.ipv6 ? [false, true] : [false]) {
    if (rule.sources === 'any') openToAll(model, state, rule, v6);
    else shadowed.push(...keepToSources(model, state, rule, v6));
  }
  return { commands: model.commands, shadowed };
}

/** Media on a bridge: open to everyone, unless the rules already admit everyone. */
function openToAll(model: Model, state: UfwState, rule: PortRule, v6: boolean): void {
  const knock = { proto: rule.proto, port: rule.port, from: 'outsider' as const };
  const open = () => ufwVerdict(model.list(v6), knock, state.defaultInput).admitted;
  if (open()) return;
  const want = ours(rule, 'allow', anyOf(v6), v6);
  const same = model.list(v6).find((t) => sameRule(t, want));
  if (same && same.comment !== ruleId(rule))
    model.delete(same, `it keeps ${rule.port}/${rule.proto} closed, and a bridge needs it open to everyone`);
  else if (same) model.delete(same, 'ours, below a rule that closes the port');
  if (!open()) model.insert(want, 0, describeRule(rule));
}

/**
 * The c2s port, kept to the sources. Each source's allow must be the first rule that matches it,
 * before any rule of the user's that concerns the port; then a rule that refuses everyone (ours,
 * or the user's own) before any rule that admits others. The sources' allows go in before
 * anything is taken away, so the bridges are never cut off. Returns the user's rules now shadowed.
 */
function keepToSources(model: Model, state: UfwState, rule: PortRule, v6: boolean): UfwTuple[] {
  const tag = ruleId(rule);
  const sources = sourcesByFamily(rule)[v6 ? 'v6' : 'v4'];
  const list = () => model.list(v6);
  const mine = (t: UfwTuple) => t.comment === tag;
  for (const t of list()
    .filter((x) => mine(x) && admits(x) && !sources.includes(x.src))
    .reverse())
    model.delete(t, 'ours, for a source no longer in the inventory');
  /** The first rule of the user's that concerns the port for someone who is not a source (not a closer). */
  const foreign = () =>
    list().findIndex(
      (t) => !mine(t) && !isCloser(t, rule) && concernsPort(t, rule) && !(admits(t) && sources.includes(t.src)),
    );
  const before = (i: number, limit: number) => i >= 0 && (limit < 0 || i < limit);
  for (const src of sources) {
    const want = ours(rule, 'allow', src, v6);
    const at = list().findIndex((t) => exactly(t, want));
    const first = ufwVerdict(list(), { proto: rule.proto, port: rule.port, from: src }, state.defaultInput).by;
    if (before(at, foreign()) && first === list()[at]) continue;
    const same = list().find((t) => sameRule(t, want));
    const why = `${describeRule(rule)}: ${src} first`;
    // After the sources' allows already in place, and before whatever decides for this source now.
    const after = list().reduce(
      (n, t, i) => (mine(t) && admits(t) && i < (foreign() < 0 ? Infinity : foreign()) ? i + 1 : n),
      0,
    );
    const decides = first && !mine(first) ? list().indexOf(first) : Infinity;
    const index = Math.min(after, decides);
    if (same) model.move(same, want, index, why);
    else model.insert(want, index, why);
  }
  closeToOthers(model, state, rule, v6);
  for (const t of list()
    .filter((x) => x.comment === `${tag}-moving`)
    .reverse())
    model.delete(t, 'a stand-in left by a run that was stopped');
  const open = list().filter((t) => !mine(t) && isPublicOpening(t, rule));
  for (const t of open.reverse())
    model.delete(t, `the public opening of ${rule.port}/${rule.proto}: it must reach ${sourcesText(rule)} only`);
  return list().filter((t) => !mine(t) && admits(t) && concernsPort(t, rule) && !sources.includes(t.src));
}

/** The rule that refuses everyone else, right after the sources' allows and before anything that admits others. */
function closeToOthers(model: Model, state: UfwState, rule: PortRule, v6: boolean): void {
  const tag = ruleId(rule);
  const list = () => model.list(v6);
  const want = ours(rule, 'deny', anyOf(v6), v6);
  const lastAllow = () => list().reduce((n, t, i) => (t.comment === tag && admits(t) ? i : n), -1);
  const closed = () => {
    const closer = list().findIndex((t, i) => i > lastAllow() && isCloser(t, rule));
    const opener = list().findIndex(
      (t, i) => i > lastAllow() && t.comment !== tag && admits(t) && concernsPort(t, rule),
    );
    return closer >= 0 && (opener < 0 || closer < opener);
  };
  if (
    closed() &&
    ufwVerdict(
      list(),
      { proto: rule.proto, port: rule.port, from: 'outsider' },
      state.defaultInput,
      rule.sources === 'any' ? [] : rule.sources,
    ).admitted === false
  )
    return;
  const same = list().find((t) => sameRule(t, want));
  const why = `${describeRule(rule)}: everyone else`;
  if (same && admits(same)) {
    // Only now that every source has its allow may the public opening go: the bridges are never cut off.
    model.delete(same, `the public opening of ${rule.port}/${rule.proto}: it must reach ${sourcesText(rule)} only`);
    model.insert(want, lastAllow() + 1, why);
  } else if (same) model.move(same, want, lastAllow() + 1, why);
  else model.insert(want, lastAllow() + 1, why);
}

const sourcesText = (rule: PortRule) => (rule.sources === 'any' ? 'everyone' : rule.sources.join(', '));

export interface UfwOptions {
  /** ufw is active now (facts). */
  active: boolean;
  /** The SSH port the tool is connected on, allowed before ufw is turned on. */
  sshPort: number;
  /** The inventory allows turning ufw on (jitsi_firewall_enable). */
  allowEnable: boolean;
  /** The user loads the rules at boot themselves (jitsi_firewall_boot: manual). */
  manualBoot?: boolean;
}

/** Pure: the sentence the plan shows for one ufw command. */
export function describeUfwCommand(c: UfwCommand): string {
  return `${c.argv.join(' ')}   (${c.why})`;
}

const SSH_TAG = 'jitsi-scale-ssh';

/** Pure: the TCP ports sshd listens on, from \`ss -Hltnp\` lines. */
export function sshdPorts(ssOutput: string): number[] {
  const ports = new Set<number>();
  for (const line of ssOutput.split('\n')) {
    if (!line.includes('"sshd"')) continue;
    const local = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(/:(\d+)$/.exec(local)?.[1]);
    if (port) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

// The files ufw plans from, how it starts at boot, and the ports sshd listens on.
const PROBE = `${BOOT_STATE_FN}
echo '@@conf'; grep -E '^ENABLED=' /etc/ufw/ufw.conf 2>/dev/null
echo '@@boot'; boot_state ufw.service ufw
echo '@@sshd'; ss -Hltnp 2>/dev/null | grep '"sshd"'
echo '@@end'`;

// $1 the planned hash; the ufw command follows. Refuses when the rules changed since the plan.
const GUARDED = `
want=$1; shift
have=$( { grep '^### tuple ###' ${UFW_FILES.v4} 2>/dev/null; echo; grep '^### tuple ###' ${UFW_FILES.v6} 2>/dev/null; } | sha256sum | cut -d' ' -f1)
if [ "$have" != "$want" ]; then echo "the ufw rules changed on the host since they were planned; run again to see the new plan" >&2; exit 7; fi
exec "$@"`;

// Hashes the lines the same way the guard does: grep prints each line with its newline, so the
// joined text ends in one, and an empty list is an empty string.
function guardHash(v4: string | null, v6: string | null): string {
  const lines = (t: string | null) =>
    (t ?? '')
      .split(/\r?\n/)
      .filter((l) => l.startsWith('### tuple ###'))
      .map((l) => `${l}\n`)
      .join('');
  return createHash('sha256')
    .update(`${lines(v4)}\n${lines(v6)}`)
    .digest('hex');
}

/** The plan, or the planner's refusal as a sentence on this host. */
function planOrRefuse(host: Host, state: UfwState, rule: PortRule): ReturnType<typeof planUfwCommands> {
  try {
    return planUfwCommands(state, rule);
  } catch (e) {
    throw new HostError(host.name, e instanceof Error ? e.message : String(e));
  }
}

export async function planUfw(host: Host, rule: PortRule, opts: UfwOptions): Promise<FirewallPlan> {
  const files = await host.readFiles([UFW_FILES.v4, UFW_FILES.v6, UFW_DEFAULTS, UFW_BEFORE.v4, UFW_BEFORE.v6]);
  const [v4Text, v6Text] = [files.get(UFW_FILES.v4) ?? null, files.get(UFW_FILES.v6) ?? null];
  const defaults = parseUfwDefaults(files.get(UFW_DEFAULTS) ?? null);
  const r = await host.exec(shScript(PROBE), { readOnly: true, what: 'reading how ufw starts' });
  const s = splitSections(r.stdout);
  if (!s.has('end')) throw new HostError(host.name, `cannot read ufw's state: ${r.stderr.trim() || `exit ${r.code}`}`);
  const state: UfwState = {
    v4: parseUfwRules(v4Text, false),
    v6: parseUfwRules(v6Text, true),
    ipv6: defaults.ipv6,
    defaultInput: defaults.input,
  };
  const { commands, shadowed } = planOrRefuse(host, state, rule);
  const notes = shadowed.map(
    (t) =>
      `your ufw rule "${describeTuple(t)}" also admits ${rule.port}/${rule.proto}; it stays, and ours come first, so it no longer does for anyone but ${sourcesText(rule)}`,
  );
  const unprotected: string[] = [];
  if (rule.sources !== 'any') {
    if (!defaults.ipv6)
      unprotected.push(
        `ufw filters IPv4 only here (IPV6=no in ${UFW_DEFAULTS}): ${rule.port}/${rule.proto} is not kept from IPv6 clients`,
      );
    for (const [file, text] of [UFW_BEFORE.v4, UFW_BEFORE.v6].map((f) => [f, files.get(f) ?? null] as const))
      for (const l of beforeRulesAccepting(text, rule.port, rule.proto))
        unprotected.push(`${file} accepts the port before any user rule ("${l.trim()}")`);
  }
  const enabling = enableSteps(host, opts, state, s.get('sshd') ?? [], notes);
  const enabled = /^ENABLED=yes/m.test((s.get('conf') ?? []).join('\n')) || enabling.length > 0;
  const boot = planBoot(parseBootState(s.get('boot')?.[0]), {
    name: 'ufw',
    keptIn: UFW_FILES.v4,
    service: { unit: 'ufw.service', script: 'ufw' },
    deniesByDefault: defaults.input === 'deny',
    allowEnable: opts.allowEnable,
    manual: !!opts.manualBoot,
  });
  if (!enabled && !opts.manualBoot) unprotected.push('ufw is not enabled at boot (ENABLED=no in /etc/ufw/ufw.conf)');
  if (boot.unprotected) unprotected.push(boot.unprotected);
  if (boot.note) notes.push(boot.note);
  const hash = guardHash(v4Text, v6Text);
  // ufw is off until the last command, so the order of the others does not matter for safety;
  // SSH's allows go after ours, so that our numbers are the ones ufw sees.
  const changes: Change[] = [
    ...[...commands, ...enabling].map((c, i) =>
      commandChange(describeUfwCommand(c), i === 0 ? shScript(GUARDED, hash, ...c.argv) : c.argv, {
        what: c.argv.join(' '),
      }),
    ),
    ...(boot.change ? [boot.change] : []),
  ];
  return { changes, notes, ...(unprotected.length ? { unprotected: unprotected.join('; ') } : {}) };
}

/**
 * An inactive ufw is turned on only when the inventory allows it: SSH is allowed first (the
 * ports sshd listens on, as the host sees them, else the inventory's), then ufw goes on last.
 */
function enableSteps(host: Host, opts: UfwOptions, state: UfwState, sshd: string[], notes: string[]): UfwCommand[] {
  if (opts.active) return [];
  if (!opts.allowEnable)
    throw new HostError(
      host.name,
      `ufw is installed but inactive, and jitsi_firewall says ufw: turning it on denies all other incoming traffic. Set jitsi_firewall_enable: true for ${host.name} to let jitsi-scale turn it on (it allows SSH port ${opts.sshPort} first), or set jitsi_firewall: auto`,
    );
  const listening = sshdPorts(sshd.join('\n'));
  const sshPorts = listening.length ? listening : [opts.sshPort];
  const cmds: UfwCommand[] = [];
  for (const port of sshPorts) {
    const knock = { proto: 'tcp' as const, port, from: 'outsider' as const };
    if (!ufwVerdict(state.v4, knock, 'deny').admitted)
      cmds.push({
        argv: ['ufw', 'allow', `${port}/tcp`, 'comment', SSH_TAG],
        why: 'keep SSH open before ufw is turned on',
      });
  }
  cmds.push({
    argv: ['ufw', '--force', 'enable'],
    why: 'turn ufw on: it denies other incoming traffic; SSH was allowed first',
  });
  notes.push(
    `ufw is inactive: jitsi_firewall_enable lets jitsi-scale turn it on, after allowing SSH (port ${sshPorts.join(', ')})`,
  );
  return cmds;
}
