import type { Change } from '../../contract/change.js';
import { HostError, execChecked, whyFailed, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { splitSections } from '../probe-sections.js';
import { describeRule, sourcesByFamily, type PortRule } from './port-rule.js';
import type { FirewallPlan } from './nftables.js';

/*
 * firewalld: rich rules in the default zone, made permanent and then reloaded so the running
 * firewall matches. A port or service that opens the port to everyone is removed when the rule
 * is "from these sources only".
 */

export interface FirewalldState {
  richRules: string[];
  ports: string[];
  services: string[];
}

export function richRule(source: string, rule: PortRule): string {
  const family = sourcesByFamily({ ...rule, sources: [source] }).v4.length ? 'ipv4' : 'ipv6';
  return `rule family="${family}" source address="${source}" port port="${rule.port}" protocol="${rule.proto}" accept`;
}

/** Services firewalld defines that open this tool's ports. */
const SERVICES_FOR: Record<string, string[]> = { '5222/tcp': ['xmpp-client'] };

/** Pure: the firewall-cmd argv lists that make the rule true. */
export function planFirewalldCommands(state: FirewalldState, rule: PortRule): string[][] {
  const portProto = `${rule.port}/${rule.proto}`;
  const cmds: string[][] = [];
  if (rule.sources === 'any') {
    if (!state.ports.includes(portProto)) cmds.push(['firewall-cmd', '--permanent', `--add-port=${portProto}`]);
    return cmds;
  }
  if (state.ports.includes(portProto)) cmds.push(['firewall-cmd', '--permanent', `--remove-port=${portProto}`]);
  for (const svc of SERVICES_FOR[portProto] ?? [])
    if (state.services.includes(svc)) cmds.push(['firewall-cmd', '--permanent', `--remove-service=${svc}`]);
  const wanted = rule.sources.map((s) => richRule(s, rule));
  const mine = (r: string) => r.includes(`port port="${rule.port}" protocol="${rule.proto}" accept`);
  for (const r of state.richRules)
    if (mine(r) && !wanted.includes(r)) cmds.push(['firewall-cmd', '--permanent', `--remove-rich-rule=${r}`]);
  for (const r of wanted)
    if (!state.richRules.includes(r)) cmds.push(['firewall-cmd', '--permanent', `--add-rich-rule=${r}`]);
  return cmds;
}

/** Pure: the plan's words for removing a public opening of the port (a port or a service). */
export function publicOpening(cmds: string[][], rule: PortRule): string {
  const removed = cmds
    .flat()
    .filter((a) => /^--remove-(port|service)=/.test(a))
    .map((a) => a.replace(/^--remove-(port|service)=/, ''));
  return removed.length
    ? `; removes the public opening of ${rule.port}/${rule.proto} (${removed.join(', ')}): it must stay private`
    : '';
}

const PROBE = `
echo '@@rich'; firewall-cmd --permanent --list-rich-rules || echo '@@error'
echo '@@ports'; firewall-cmd --permanent --list-ports || echo '@@error'
echo '@@services'; firewall-cmd --permanent --list-services || echo '@@error'
echo '@@end'`;

export async function planFirewalld(host: Host, rule: PortRule): Promise<FirewallPlan> {
  const r = await host.exec(shScript(PROBE), { readOnly: true });
  const s = splitSections(r.stdout);
  if (!s.has('end') || s.has('error'))
    throw new HostError(host.name, `cannot read the firewalld configuration: ${whyFailed(r)}`);
  const words = (k: string) => (s.get(k) ?? []).join(' ').split(/\s+/).filter(Boolean);
  const cmds = planFirewalldCommands(
    { richRules: s.get('rich') ?? [], ports: words('ports'), services: words('services') },
    rule,
  );
  if (cmds.length === 0) return { changes: [], notes: [] };
  const changes: Change[] = [
    {
      description: `firewalld: ${describeRule(rule)} (${cmds.length} permanent rule change${cmds.length > 1 ? 's' : ''}, then reload)${publicOpening(cmds, rule)}`,
      diff: cmds.map((c) => c.join(' ')).join('\n') + '\nfirewall-cmd --reload\n',
      async apply(h) {
        for (const argv of [...cmds, ['firewall-cmd', '--reload']]) {
          await execChecked(h, argv, argv.join(' '));
        }
      },
    },
  ];
  return { changes, notes: [] };
}
