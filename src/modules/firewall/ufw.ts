import { HostError, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import type { FirewallPlan } from './nftables.js';
import { commandChange } from '../command-change.js';
import { describeRule, ruleId, type PortRule } from './port-rule.js';

/*
 * ufw keeps its rules in /etc/ufw/user.rules and user6.rules, one "### tuple ###" line per rule;
 * those files are read (pure parse) and changed only through the ufw command, which keeps them
 * and the live rules in step and persistent. Our rules carry a comment naming the rule, so rules
 * for bridges no longer in the inventory can be found and removed, and nobody else's are touched.
 */

export interface UfwTuple {
  action: string;
  proto: string;
  dport: string;
  dst: string;
  sport: string;
  src: string;
  direction: string;
  comment: string;
  v6: boolean;
}

export const UFW_FILES = { v4: '/etc/ufw/user.rules', v6: '/etc/ufw/user6.rules' };

function hexDecode(hex: string): string {
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** Pure: the rule tuples of a user.rules file, in order. */
export function parseUfwRules(text: string | null, v6: boolean): UfwTuple[] {
  const out: UfwTuple[] = [];
  for (const line of (text ?? '').split(/\r?\n/)) {
    const m = /^### tuple ### (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)(?: comment=([0-9a-f]*))?/.exec(line);
    if (!m) continue;
    const [, action = '', proto = '', dport = '', dst = '', sport = '', src = '', direction = '', comment = ''] = m;
    out.push({
      action: action.replace(/_.*/, ''),
      proto,
      dport,
      dst,
      sport,
      src,
      direction,
      comment: hexDecode(comment),
      v6,
    });
  }
  return out;
}

const isAnySource = (src: string) => src === '0.0.0.0/0' || src === '::/0' || src === 'any';
const coversPort = (t: UfwTuple, rule: PortRule) =>
  t.dport === String(rule.port) && (t.proto === rule.proto || t.proto === 'any') && t.direction === 'in';

/** Pure: the ufw commands (argv) that make the rule true, given the current tuples. */
export function planUfwCommands(tuples: UfwTuple[], rule: PortRule): string[][] {
  const tag = ruleId(rule);
  const port = String(rule.port);
  const cmds: string[][] = [];
  const wanted = rule.sources === 'any' ? ['any'] : [...rule.sources];
  const ours = tuples.filter((t) => t.comment === tag);
  // The user's own rules that open the port to everyone.
  const theirsPublic = tuples.filter(
    (t) => t.comment !== tag && t.action === 'allow' && coversPort(t, rule) && isAnySource(t.src),
  );
  // With sources, any of them breaks "from these sources only".
  const publicOpen = rule.sources === 'any' ? [] : theirsPublic;
  /** `ufw … to any port P proto X` from one source ('any': from everywhere). */
  const match = (src: string) => [
    ...(src === 'any' ? [] : ['from', src]),
    'to',
    'any',
    'port',
    port,
    'proto',
    rule.proto,
  ];
  // one `ufw delete` removes the v4 and the v6 tuple of a rule together
  for (const t of publicOpen) {
    const argv = ['ufw', 'delete', 'allow', ...(t.proto === 'any' ? [port] : [`${port}/${t.proto}`])];
    if (!cmds.some((c) => c.join(' ') === argv.join(' '))) cmds.push(argv);
  }
  for (const t of ours) {
    const keep = t.action === 'allow' ? wanted.includes(isAnySource(t.src) ? 'any' : t.src) : rule.sources !== 'any';
    if (!keep) cmds.push(['ufw', 'delete', t.action, ...match(isAnySource(t.src) ? 'any' : t.src)]);
  }
  // A port already open to everyone by a rule of the user's (a guide's `ufw allow 10000/udp`) needs
  // no rule of ours: theirs is left as it is.
  const theirsOpen = rule.sources === 'any' && theirsPublic.length > 0;
  const hasAllow = (src: string) =>
    (src === 'any' && theirsOpen) ||
    ours.some((t) => t.action === 'allow' && (src === 'any' ? isAnySource(t.src) : t.src === src));
  const missing = wanted.filter((s) => !hasAllow(s));
  const remaining = tuples.length - publicOpen.length;
  for (const s of missing) {
    // Allows go before our deny (ufw stops at the first match); "insert 1" needs an existing rule.
    const where = remaining > 0 || cmds.some((c) => c[1] === 'allow' || c[1] === 'insert') ? ['insert', '1'] : [];
    cmds.push(['ufw', ...where, 'allow', ...match(s), 'comment', tag]);
  }
  if (rule.sources !== 'any' && !ours.some((t) => t.action === 'deny')) {
    cmds.push(['ufw', 'deny', ...match('any'), 'comment', tag]);
  }
  return cmds;
}

export interface UfwOptions {
  /** ufw is active now (facts). */
  active: boolean;
  /** The SSH port the tool is connected on, allowed before ufw is turned on. */
  sshPort: number;
  /** The inventory allows turning ufw on (jitsi_firewall_enable). */
  allowEnable: boolean;
}

/** Pure: the sentence the plan shows for one ufw command. */
export function describeUfwCommand(argv: readonly string[], rule: PortRule): string {
  const line = argv.join(' ');
  if (argv[1] === 'delete' && !argv.includes('comment') && !argv.includes('from')) {
    return `${line}   (remove the public opening of ${rule.port}/${rule.proto}: it must reach ${describeRule(rule).replace(/^allow \S+ \d+ from /, '')})`;
  }
  if (argv.includes('enable'))
    return `${line}   (turn ufw on: it denies other incoming traffic; SSH was allowed first)`;
  if (argv.includes(SSH_TAG)) return `${line}   (keep SSH open before ufw is turned on)`;
  return `${line}   (${describeRule(rule)})`;
}

const SSH_TAG = 'jitsi-scale-ssh';

const SSHD_PORTS = `ss -Hltnp 2>/dev/null | grep '"sshd"' || true`;

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

export async function planUfw(host: Host, rule: PortRule, opts: UfwOptions): Promise<FirewallPlan> {
  const tuples = [
    ...parseUfwRules(await host.readFile(UFW_FILES.v4), false),
    ...parseUfwRules(await host.readFile(UFW_FILES.v6), true),
  ];
  const cmds = planUfwCommands(tuples, rule);
  const notes: string[] = [];
  if (!opts.active) {
    if (!opts.allowEnable) {
      throw new HostError(
        host.name,
        `ufw is installed but inactive, and jitsi_firewall says ufw: turning it on denies all other incoming traffic. Set jitsi_firewall_enable: true for ${host.name} to let jitsi-scale turn it on (it allows SSH port ${opts.sshPort} first), or set jitsi_firewall: auto`,
      );
    }
    // The ports sshd listens on, as the host sees them (behind a port forward the inventory's port
    // is not the one the host's firewall filters); the inventory's port when they cannot be read.
    const listening = sshdPorts((await host.exec(shScript(SSHD_PORTS), { readOnly: true })).stdout);
    const sshPorts = listening.length ? listening : [opts.sshPort];
    for (const port of [...sshPorts].reverse()) {
      const open = tuples.some(
        (t) =>
          t.action === 'allow' &&
          t.dport === String(port) &&
          (t.proto === 'tcp' || t.proto === 'any') &&
          isAnySource(t.src),
      );
      if (!open) cmds.unshift(['ufw', 'allow', `${port}/tcp`, 'comment', SSH_TAG]);
    }
    cmds.push(['ufw', '--force', 'enable']);
    notes.push(
      `ufw is inactive: jitsi_firewall_enable lets jitsi-scale turn it on, after allowing SSH (port ${sshPorts.join(', ')})`,
    );
  }
  return {
    changes: cmds.map((argv) => commandChange(describeUfwCommand(argv, rule), argv, { what: argv.join(' ') })),
    notes,
  };
}
