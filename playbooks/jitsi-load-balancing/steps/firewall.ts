import type { Step } from '../../../src/engine/playbook.js';
import type { ShardFacts } from '../discover.js';
import { planShardRule } from '../shard-rule.js';

export { firewallFiles } from '../shard-rule.js';

export const firewall: Step<ShardFacts> = {
  id: 'firewall',
  title: 'Open XMPP to the bridges only, and media on the bridges',
  why:
    "Prosody's c2s port on the meet host must accept the bridges and nobody else: the bridges' account is shared, and with certificate checks off the port must stay private. " +
    'Each bridge needs its UDP media port open to everyone. Rules go to the firewall in charge of each host and are made to survive a reboot.',
  roles: ['meet', 'jvb'],
  plan: planShardRule,
};
