import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jitsiLoadBalancing } from '../../playbooks/jitsi-load-balancing/index.js';
import { accountFile } from '../../playbooks/jitsi-load-balancing/prosody-account.js';
import { bridgeConfig } from '../../playbooks/jitsi-load-balancing/steps/bridge-config.js';
import { installBridge } from '../../playbooks/jitsi-load-balancing/steps/install-bridge.js';
import type { ShardFacts } from '../../playbooks/jitsi-load-balancing/discover.js';
import type { DiscoveryContext, HostPlan, Playbook, RunHost } from '../../src/engine/playbook.js';
import type { Redactor } from '../../src/engine/redactor.js';
import type { Inventory } from '../../src/inventory/types.js';
import { fixture } from './fixtures.js';
import { RootedLocalHost, plant } from './rooted-host.js';
import { parseShardInventory } from './shard-inventory.js';

export const DOMAIN = 'meet.example.org';

/**
 * The setup playbook with its real discovery and the two steps that carry the secret (the
 * package's preseeded answers and the bridge's config); the firewall steps would read this
 * machine's firewall, and the files come below each host's root, so nothing is read with the facts.
 */
export const secretSteps: Playbook<ShardFacts> = {
  ...jitsiLoadBalancing,
  steps: [installBridge, bridgeConfig],
  prefetch: undefined,
};

/** Prosody's internal_hashed account file for a password (SCRAM-SHA-1, as Prosody stores it). */
export function prosodyAccount(password: string, iterations: number | string = 10000): string {
  const salt = 'a1b2c3d4-salt';
  const n = Number(iterations);
  const salted = pbkdf2Sync(
    password.normalize('NFKC'),
    salt,
    Number.isSafeInteger(n) && n > 0 && n < 1e6 ? n : 1,
    20,
    'sha1',
  );
  const storedKey = createHash('sha1').update(createHmac('sha1', salted).update('Client Key').digest()).digest('hex');
  return `return {\n\t["stored_key"] = "${storedKey}";\n\t["iteration_count"] = ${iterations};\n\t["server_key"] = "00";\n\t["salt"] = "${salt}";\n};\n`;
}

/** The meet host's files: Prosody with auth.<domain> and its jvb account, Jicofo, its own bridge holding `secret`. */
export function meetFiles(secret: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    '/etc/prosody/prosody.cfg.lua': fixture('jitsi/prosody.cfg.lua'),
    [`/etc/prosody/conf.d/${DOMAIN}.cfg.lua`]: [
      `VirtualHost "${DOMAIN}"`,
      '    authentication = "anonymous"',
      `Component "internal.auth.${DOMAIN}" "muc"`,
      `VirtualHost "auth.${DOMAIN}"`,
      '    authentication = "internal_hashed"',
      '',
    ].join('\n'),
    '/etc/jitsi/jicofo/jicofo.conf': `jicofo {\n  xmpp.client.password = ${JSON.stringify(`focus-${secret}`)}\n  bridge.brewery-jid = "JvbBrewery@internal.auth.${DOMAIN}"\n}\n`,
    '/etc/jitsi/videobridge/jvb.conf': `videobridge.apis.xmpp-client.configs.shard {\n  HOSTNAME = localhost\n  DOMAIN = "auth.${DOMAIN}"\n  USERNAME = jvb\n  PASSWORD = ${JSON.stringify(secret)}\n  MUC_JIDS = "JvbBrewery@internal.auth.${DOMAIN}"\n  MUC_NICKNAME = meet-own\n}\n`,
    '/var/cache/debconf/passwords.dat': `Name: jitsi-videobridge/jvbsecret\nTemplate: jitsi-videobridge/jvbsecret\nValue: ${secret}\nOwners: jitsi-videobridge2\n\n`,
    [accountFile('jvb', `auth.${DOMAIN}`)]: prosodyAccount(secret),
    ...over,
  };
}

/** A bridge installed by hand long ago: its jvb.conf holds `old`, under a key spelled in lower case. */
export function oldBridgeFiles(old: string): Record<string, string> {
  return {
    '/etc/jitsi/videobridge/jvb.conf': `videobridge {\n  apis.xmpp-client.configs {\n    shard {\n      HOSTNAME = "10.0.0.1"\n      DOMAIN = "auth.${DOMAIN}"\n      USERNAME = jvb\n      password = ${JSON.stringify(old)}\n      MUC_JIDS = "JvbBrewery@internal.auth.${DOMAIN}"\n      MUC_NICKNAME = jvb1-nick\n    }\n  }\n}\n`,
  };
}

/** A meet host and one bridge below a temp root, the shard's secret on the meet host and an old one on the bridge. */
export async function rootedShard(
  pair: { old: string; new: string },
  meetOver: Record<string, string> = {},
  opts: { bridgeFiles?: Record<string, string>; bridgeVars?: string } = {},
): Promise<{ root: string; inventory: Inventory; inventoryFile: string }> {
  const root = await mkdtemp(join(tmpdir(), 'js-rooted-'));
  await plant(root, 'meet', meetFiles(pair.new, meetOver));
  await plant(root, 'jvb1', opts.bridgeFiles ?? oldBridgeFiles(pair.old));
  const text = [
    'all:',
    '  vars: { ansible_connection: local, ansible_user: root }',
    '  children:',
    '    meet: { hosts: { meet: { private_address: 10.0.0.1 } } }',
    `    jvb: { hosts: { jvb1: { private_address: 10.0.0.11${opts.bridgeVars ? `, ${opts.bridgeVars}` : ''} } } }`,
    '',
  ].join('\n');
  const inventoryFile = join(root, 'inventory.yaml');
  await writeFile(inventoryFile, text);
  return { root, inventory: parseShardInventory(text, inventoryFile), inventoryFile };
}

/** What discovery is given over the rooted hosts: every host connected, with plain facts; the failures recorded. */
export function rootedDiscovery(
  root: string,
  inventory: Inventory,
  secrets: Redactor,
  packages: Record<string, Record<string, string>> = {},
): DiscoveryContext & { failed: Map<string, string> } {
  const failed = new Map<string, string>();
  const hosts = new Map<string, RunHost>(
    inventory.hosts.map((spec) => [
      spec.name,
      {
        spec,
        host: new RootedLocalHost(spec.name, join(root, spec.name), join(root, 'backups', spec.name)),
        address: spec.address,
        facts: {
          os: { id: 'debian', versionId: '12', pretty: 'Debian GNU/Linux 12 (bookworm)' },
          init: 'systemd',
          firewall: 'none',
          ufw: 'absent',
          packages: packages[spec.name] ?? {},
          user: 'root',
          pending: [],
        },
      },
    ]),
  );
  return { inventory, hosts, secrets, failed, fail: (h, reason) => void failed.set(h, reason) };
}

/** The bridge-config step's plan on a rooted bridge, with what discovery found and a redactor of its own. */
export function planBridgeConfig(
  ctx: DiscoveryContext,
  bridge: string,
  shared: ShardFacts,
  secrets: Redactor,
): Promise<HostPlan> {
  return bridgeConfig.plan({
    mode: 'check',
    ...ctx.hosts.get(bridge)!,
    inventory: ctx.inventory,
    shared,
    secrets,
    hosts: ctx.hosts,
    earlier: () => undefined,
  });
}
