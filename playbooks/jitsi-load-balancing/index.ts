import type { Playbook } from '../../src/engine/types.js';
import { restartHandler } from '../../src/modules/service/service.js';
import { JVB_CONF, LAUNCHER, OLD_LAUNCHER, SIP_PROPERTIES } from './bridge-files.js';
import { describeShard } from './describe-shard.js';
import { DEBCONF_PASSWORDS, JICOFO_CONF, PROSODY_MAIN, discoverShard, type ShardFacts } from './discover.js';
import { bindProsody } from './steps/bind-prosody.js';
import { bridgeConfig } from './steps/bridge-config.js';
import { firewall, firewallFiles } from './steps/firewall.js';
import { APT_SOURCE_FILE, installBridge } from './steps/install-bridge.js';
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
  // Read with the facts: discovery and the steps' plans then cost no round trip of their own.
  prefetch: (spec) =>
    spec.role === 'meet'
      ? [PROSODY_MAIN, JICOFO_CONF, JVB_CONF, SIP_PROPERTIES, DEBCONF_PASSWORDS, ...firewallFiles(spec)]
      : [JVB_CONF, SIP_PROPERTIES, LAUNCHER, OLD_LAUNCHER, APT_SOURCE_FILE, ...firewallFiles(spec)],
};
