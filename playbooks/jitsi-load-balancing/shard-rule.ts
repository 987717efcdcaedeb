import { jitsi, bridgesOf, privateAddress } from './settings.js';
import { isIP } from 'node:net';
import type { StepContext } from '../../src/engine/playbook.js';
import type { HostPlan } from '../../src/contract/change.js';
import { HostError } from '../../src/transport/host.js';
import { planPortRule } from '../../src/modules/firewall/plan-port-rule.js';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';
import type { ShardFacts } from './discover.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { NFT_PATHS, nftRulePath } from '../../src/modules/firewall/nftables.js';
import { PERSISTENT_FILES } from '../../src/modules/firewall/iptables.js';
import { UFW_FILES } from '../../src/modules/firewall/ufw.js';
import { DEFAULT_C2S_PORT } from './prosody-config.js';

/**
 * The files planning a host's rule may read, whichever firewall is in charge, to be read with the
 * host's facts (on the meet host, for Prosody's default port: another port is read when planned).
 */
export function firewallFiles(spec: HostSpec): string[] {
  const rule =
    spec.role === 'meet'
      ? { proto: 'tcp' as const, port: DEFAULT_C2S_PORT }
      : { proto: 'udp' as const, port: jitsi(spec).mediaPort };
  return [
    nftRulePath(rule),
    NFT_PATHS.mainConf,
    PERSISTENT_FILES.rulesV4,
    PERSISTENT_FILES.rulesV6,
    UFW_FILES.v4,
    UFW_FILES.v6,
  ];
}

/** A host's firewall plan, and why the rule would not keep the port closed for good (null: it would). */
export interface ShardRule {
  plan: HostPlan;
  unprotected: string | null;
}

/** The firewall changes that make a host's port rule true (the c2s port on the meet host, media on a bridge). */
export async function planShardRule(ctx: StepContext<ShardFacts>): Promise<HostPlan> {
  const { plan, unprotected } = await shardRule(ctx);
  if (!unprotected) return plan;
  const consequence =
    ctx.spec.role === 'meet' ? `; Prosody is not opened wider than it listens now, whatever else this run does` : '';
  return {
    ...plan,
    notes: [...(plan.notes ?? []), `the rule does not keep the port closed for good: ${unprotected}${consequence}`],
  };
}

export async function shardRule(ctx: StepContext<ShardFacts>): Promise<ShardRule> {
  const settings = jitsi(ctx.spec);
  const choice = settings.firewall;
  if (choice === 'none')
    return {
      plan: { changes: [], skip: 'jitsi_firewall is none: you manage this firewall yourself' },
      unprotected: null,
    };
  const kind = choice === 'auto' ? ctx.facts.firewall : choice;
  const bridges = bridgesOf(ctx.inventory).map((b) => ({
    name: b.name,
    address: privateAddress(b, ctx.hosts.get(b.name)),
  }));
  if (ctx.spec.role === 'meet') {
    const named = bridges.find((b) => isIP(b.address.replace(/\/\d+$/, '')) === 0);
    if (named) {
      throw new HostError(
        ctx.spec.name,
        `${named.name}'s address "${named.address}" is a name, and firewall rules need an IP address: set private_address for ${named.name} in the inventory`,
      );
    }
  }
  const rule: PortRule =
    ctx.spec.role === 'meet'
      ? { proto: 'tcp', port: ctx.shared.c2sPort, sources: bridges.map((b) => b.address) }
      : { proto: 'udp', port: settings.mediaPort, sources: 'any' };
  const { changes, notes, unprotected } = await planPortRule(ctx.host, kind, rule, {
    ufw: ctx.facts.ufw,
    sshPort: ctx.spec.port,
    allowEnable: settings.firewallEnable,
    allowRemoval: settings.allowPackageRemoval,
    manualBoot: settings.firewallBoot === 'manual',
  });
  return {
    plan: {
      changes,
      notes: [`firewall in charge: ${kind}${choice === 'auto' ? ' (detected)' : ' (jitsi_firewall)'}`, ...notes],
    },
    unprotected: unprotected ?? null,
  };
}
