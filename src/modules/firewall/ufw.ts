import type { Change } from '../../engine/types.js';
import type { Host } from '../../transport/host.js';
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
    out.push({ action: action.replace(/_.*/, ''), proto, dport, dst, sport, src, direction, comment: hexDecode(comment), v6 });
  }
  return out;
}

const isAnySource = (src: string) => src === '0.0.0.0/0' || src === '::/0' || src === 'any';
const coversPort = (t: UfwTuple, rule: PortRule) => t.dport === String(rule.port) && (t.proto === rule.proto || t.proto === 'any') && t.direction === 'in';

/** Pure: the ufw commands (argv) that make the rule true, given the current tuples. */
export function planUfwCommands(tuples: UfwTuple[], rule: PortRule): string[][] {
  const tag = ruleId(rule);
  const port = String(rule.port);
  const cmds: string[][] = [];
  const wanted = rule.sources === 'any' ? ['any'] : [...rule.sources];
  const ours = tuples.filter((t) => t.comment === tag);
  // Anything else that opens the port to everyone breaks "from these sources only".
  const publicOpen = rule.sources === 'any' ? [] : tuples.filter((t) => t.comment !== tag && t.action === 'allow' && coversPort(t, rule) && isAnySource(t.src));
  for (const t of publicOpen) cmds.push(['ufw', 'delete', 'allow', ...(t.proto === 'any' ? [port] : [`${port}/${t.proto}`])]);
  for (const t of ours) {
    const keep = t.action === 'allow' ? wanted.includes(isAnySource(t.src) ? 'any' : t.src) : rule.sources !== 'any';
    if (!keep) cmds.push(['ufw', 'delete', t.action, ...(isAnySource(t.src) ? [] : ['from', t.src]), 'to', 'any', 'port', port, 'proto', rule.proto]);
  }
  const hasAllow = (src: string) => ours.some((t) => t.action === 'allow' && (src === 'any' ? isAnySource(t.src) : t.src === src));
  const missing = wanted.filter((s) => !hasAllow(s));
  const remaining = tuples.length - publicOpen.length;
  for (const s of missing) {
    // Allows go before our deny (ufw stops at the first match); "insert 1" needs an existing rule.
    const where = remaining > 0 || cmds.some((c) => c[1] === 'allow' || c[1] === 'insert') ? ['insert', '1'] : [];
    cmds.push(['ufw', ...where, 'allow', ...(s === 'any' ? [] : ['from', s]), 'to', 'any', 'port', port, 'proto', rule.proto, 'comment', tag]);
  }
  if (rule.sources !== 'any' && !ours.some((t) => t.action === 'deny')) {
    cmds.push(['ufw', 'deny', 'to', 'any', 'port', port, 'proto', rule.proto, 'comment', tag]);
  }
  return cmds;
}

export async function planUfw(host: Host, rule: PortRule): Promise<Change[]> {
  const tuples = [...parseUfwRules(await host.readFile(UFW_FILES.v4), false), ...parseUfwRules(await host.readFile(UFW_FILES.v6), true)];
  return planUfwCommands(tuples, rule).map((argv) => commandChange(`${argv.join(' ')}   (${describeRule(rule)})`, argv, { what: argv.join(' ') }));
}
