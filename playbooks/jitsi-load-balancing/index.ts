import type { Playbook } from '../../src/engine/playbook.js';
import { JVB_CONF, LAUNCHER, OLD_LAUNCHER, SIP_PROPERTIES } from './bridge-files.js';
import { describeShard } from './describe-shard.js';
import { DEBCONF_PASSWORDS, JICOFO_CONF, PROSODY_MAIN, discoverShard, type ShardFacts } from './discover.js';
import { SHARD_PACKAGES } from './packages.js';
import { restartBridge, restartProsody } from './restarts.js';
import { SHARD_ROLES, checkShardInventory, jitsiLinkPolicy } from './settings.js';
import { bindProsody } from './steps/bind-prosody.js';
import { bridgeConfig } from './steps/bridge-config.js';
import { colibriRoutes, reloadNginx } from './steps/colibri-routes.js';
import { firewall, firewallFiles } from './steps/firewall.js';
import { APT_SOURCE_FILE, installBridge } from './steps/install-bridge.js';
import { patchJvbSh } from './steps/patch-jvb-sh.js';
import { verify } from './steps/verify.js';
import { JITSI_VARIABLES } from './variables.js';

/** The Jitsi Meet load-balancing recipe, step by step, for servers of both config eras. */
export const jitsiLoadBalancing: Playbook<ShardFacts> = {
  name: 'setup',
  roles: SHARD_ROLES,
  variables: JITSI_VARIABLES,
  checkInventory: checkShardInventory,
  watchPackages: SHARD_PACKAGES,
  discover: discoverShard,
  describe: describeShard,
  // The firewall comes first: Prosody is opened to the network only behind it.
  steps: [firewall, bindProsody, installBridge, bridgeConfig, colibriRoutes, patchJvbSh, verify],
  handlers: [
    // Nothing has to happen before Prosody's restart, so it may start while the bridges are set up.
    { name: 'restart prosody', mayStartEarly: true, ...restartProsody },
    { name: 'restart jitsi-videobridge2', ...restartBridge },
    { name: 'reload nginx', ...reloadNginx },
  ],
  closing: ({ proved, rerun }) =>
    `The shard is ready${proved ? `: ${proved} bridge${proved === 1 ? '' : 's'} proved in the brewery` : ''}. ` +
    `To grow it, add bridges to the inventory and run ${rerun} again.`,
  // Read with the facts: discovery and the steps' plans then cost no round trip of their own.
  linkPolicy: jitsiLinkPolicy,
  prefetch: (spec) =>
    spec.role === 'meet'
      ? [PROSODY_MAIN, JICOFO_CONF, JVB_CONF, SIP_PROPERTIES, DEBCONF_PASSWORDS, ...firewallFiles(spec)]
      : [JVB_CONF, SIP_PROPERTIES, LAUNCHER, OLD_LAUNCHER, APT_SOURCE_FILE, ...firewallFiles(spec)],
};
