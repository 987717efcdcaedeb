import { isIP } from 'node:net';
import type { Step } from '../../../src/engine/types.js';
import { HostError } from '../../../src/transport/host.js';
import { planPortRule } from '../../../src/modules/firewall/plan-port-rule.js';
import type { PortRule } from '../../../src/modules/firewall/port-rule.js';
import type { ShardFacts } from '../discover.js';

export const firewall: Step<ShardFacts> = {
  id: 'firewall',
  title: 'Open XMPP to the bridges only, and media on the bridges',
  why:
    "Prosody's c2s port on the meet host must accept the bridges and nobody else: the bridges' account is shared, and with certificate checks off the port must stay private. " +
    'Each bridge needs its UDP media port open to everyone. Rules go to the firewall in charge of each host and are made to survive a reboot.',
  roles: ['meet', 'jvb'],
  async plan(ctx) {
    const choice = ctx.spec.jitsi.firewall;
    if (choice === 'none') return { changes: [], skip: 'jitsi_firewall is none: you manage this firewall yourself' };
    const kind = choice === 'auto' ? ctx.facts.firewall : choice;
    if (ctx.spec.role === 'meet') {
      const named = ctx.inventory.bridges.find((b) => isIP(b.jitsi.privateAddress.replace(/\/\d+$/, '')) === 0);
      if (named) {
        throw new HostError(
          ctx.spec.name,
          `${named.name}'s address "${named.jitsi.privateAddress}" is a name, and firewall rules need an IP address: set private_address for ${named.name} in the inventory`,
        );
      }
    }
    const rule: PortRule =
      ctx.spec.role === 'meet'
        ? { proto: 'tcp', port: ctx.shared.c2sPort, sources: ctx.inventory.bridges.map((b) => b.jitsi.privateAddress) }
        : { proto: 'udp', port: ctx.spec.jitsi.mediaPort, sources: 'any' };
    const changes = await planPortRule(ctx.host, kind, rule);
    return { changes, notes: [`firewall in charge: ${kind}${choice === 'auto' ? ' (detected)' : ' (jitsi_firewall)'}`] };
  },
};
