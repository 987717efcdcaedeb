import type { Playbook } from '../../src/engine/types.js';
import { restartHandler } from '../../src/modules/service/service.js';
import { discoverShard, type ShardFacts } from './discover.js';
import { bindProsody } from './steps/bind-prosody.js';
import { firewall } from './steps/firewall.js';

/**
 * The classic Jitsi Meet load-balancing recipe, step by step. The bridge-side steps (install the
 * videobridge, its shard config, the jvb.sh nickname patch, verification) come next.
 */
export const jitsiLoadBalancing: Playbook<ShardFacts> = {
  name: 'jitsi-load-balancing',
  discover: discoverShard,
  steps: [bindProsody, firewall],
  handlers: {
    'restart prosody': restartHandler('prosody'),
  },
};
