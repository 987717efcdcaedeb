import type { Change } from '../../engine/types.js';
import { HostError, type Host } from '../../transport/host.js';
import type { FirewallKind } from './detect-firewall.js';
import { planFirewalld } from './firewalld.js';
import { planIptables } from './iptables.js';
import { planNftables } from './nftables.js';
import type { PortRule } from './port-rule.js';
import { planUfw } from './ufw.js';

/** The changes that make `rule` true with the firewall in charge of the host. */
export async function planPortRule(host: Host, kind: FirewallKind, rule: PortRule): Promise<Change[]> {
  switch (kind) {
    case 'ufw':
      return planUfw(host, rule);
    case 'firewalld':
      return planFirewalld(host, rule);
    case 'nftables':
      return planNftables(host, rule);
    case 'iptables':
      return planIptables(host, rule);
    case 'none':
      throw new HostError(host.name, 'no firewall tool (ufw, firewalld, nft or iptables) is installed; install one, or set jitsi_firewall: none to manage the firewall yourself');
  }
}
