import type { Host } from '../../transport/host.js';
import type { FirewallKind } from './detect-firewall.js';
import { planFirewalld } from './firewalld.js';
import { planIptables } from './iptables.js';
import { planNftables, type FirewallPlan } from './nftables.js';
import type { PortRule } from './port-rule.js';
import { planUfw } from './ufw.js';

export interface PortRuleOptions {
  /** ufw's state on the host. */
  ufw: 'active' | 'inactive' | 'absent';
  /** The SSH port in use, kept open when a firewall is turned on. */
  sshPort: number;
  /** The inventory allows turning on a default-deny firewall (jitsi_firewall_enable). */
  allowEnable: boolean;
  /** The inventory allows an install to remove packages (jitsi_allow_package_removal). */
  allowRemoval: boolean;
  /** The user loads the rules at boot themselves (jitsi_firewall_boot: manual). */
  manualBoot?: boolean;
}

/** The changes that make `rule` true with the firewall in charge of the host. */
export async function planPortRule(
  host: Host,
  kind: FirewallKind,
  rule: PortRule,
  opts: PortRuleOptions,
): Promise<FirewallPlan> {
  switch (kind) {
    case 'ufw':
      return planUfw(host, rule, {
        active: opts.ufw === 'active',
        sshPort: opts.sshPort,
        allowEnable: opts.allowEnable,
        ...(opts.manualBoot ? { manualBoot: true } : {}),
      });
    case 'firewalld':
      return planFirewalld(host, rule, opts);
    case 'nftables': {
      const plan = await planNftables(host, rule, opts);
      if (opts.ufw === 'inactive') {
        plan.notes.unshift(
          'ufw is installed but inactive, so it filters nothing: the rule goes into an nftables table of its own, loaded at boot by the nftables service. ' +
            'Not iptables-persistent, which would remove ufw (Breaks), and not `ufw enable`, which would deny all other incoming traffic (set jitsi_firewall: ufw and jitsi_firewall_enable: true for that)',
        );
      }
      return plan;
    }
    case 'iptables':
      return planIptables(host, rule, opts);
    case 'none': {
      const plan = await planNftables(host, rule, opts);
      plan.notes.unshift(
        'no firewall tool is installed: nftables is installed for this rule (its table filters this one port, and nothing else)',
      );
      return plan;
    }
  }
}
