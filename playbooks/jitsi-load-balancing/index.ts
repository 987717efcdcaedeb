import type { Playbook } from '../../src/engine/types.js';
import { restartHandler } from '../../src/modules/service/service.js';
import { describeShard } from './describe-shard.js';
import { discoverShard, type ShardFacts } from './discover.js';
import { bindProsody } from './steps/bind-prosody.js';
import { bridgeConfig } from './steps/bridge-config.js';
import { firewall } from './steps/firewall.js';
import { installBridge } from './steps/install-bridge.js';
import { patchJvbSh } from './steps/patch-jvb-sh.js';
import { verify } from './steps/verify.js';

/** The Jitsi Meet load-balancing recipe, step by step, for servers of both config eras. */
export const jitsiLoadBalancing: Playbook<ShardFacts> = {
  name: 'jitsi-load-balancing',
  discover: discoverShard,
  describe: describeShard,
  steps: [bindProsody, firewall, installBridge, bridgeConfig, patchJvbSh, verify],
  handlers: {
    'restart prosody': restartHandler('prosody'),
    'restart jitsi-videobridge2': restartHandler('jitsi-videobridge2'),
  },
};
