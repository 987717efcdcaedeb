import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeShard } from '../../playbooks/jitsi-load-balancing/describe-shard.js';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import { installBridge } from '../../playbooks/jitsi-load-balancing/steps/install-bridge.js';
import type { HostPlan } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import { DOMAIN, oldBridgeFiles, planBridgeConfig, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';
import { secretScanner } from '../support/secret-scan.js';

/*
 * The bridge's password in every config layout setup meets (legacy properties, both, none yet, a
 * second shard), with the certificate and the package steps around it: the plan, as the redactor
 * lets it out, holds neither the old password nor the new one, in any form.
 */

const pair = { old: `0ld'pw "x" ü`, new: 'N3w$shard%pw' };
const OTHER = 'other-shard-pw-77';
const VERSION = '2.3.250-1';
const PROPS = '/etc/jitsi/videobridge/sip-communicator.properties';
const JVB = '/etc/jitsi/videobridge/jvb.conf';
const legacy = (pw: string, id = 'shard') =>
  `org.jitsi.videobridge.xmpp.user.${id}.HOSTNAME=10.0.0.1\norg.jitsi.videobridge.xmpp.user.${id}.PASSWORD=${pw}\norg.jitsi.videobridge.xmpp.user.${id}.MUC_NICKNAME=jvb1-nick\n`;

const { noLeak } = secretScanner();

/** Discovery and the two secret-carrying steps' plans on a rooted shard; what the run would show of them. */
async function planned(
  o: {
    meet?: Record<string, string>;
    bridge?: Record<string, string>;
    vars?: string;
    packages?: Record<string, Record<string, string>>;
  } = {},
) {
  const { root, inventory } = await rootedShard(pair, o.meet ?? {}, {
    ...(o.bridge ? { bridgeFiles: o.bridge } : {}),
    ...(o.vars ? { bridgeVars: o.vars } : {}),
  });
  const secrets = new Redactor();
  const ctx = rootedDiscovery(root, inventory, secrets, o.packages);
  const shared = await discoverShard(ctx);
  const config = await planBridgeConfig(ctx, 'jvb1', shared, secrets);
  const install = await installBridge.plan({
    mode: 'check',
    ...ctx.hosts.get('jvb1')!,
    inventory,
    shared,
    secrets,
    hosts: ctx.hosts,
    earlier: () => undefined,
  });
  const shown = (p: HostPlan) =>
    secrets.redactText([...(p.notes ?? []), ...p.changes.flatMap((c) => [c.description, c.diff ?? ''])].join('\n'));
  return { shared, config, install, secrets, shown: `${shown(config)}\n${shown(install)}` };
}

describe("the bridge's password in every layout", () => {
  test('legacy: the shard lines of sip-communicator.properties', async () => {
    const p = await planned({
      meet: { [JVB]: '', [PROPS]: legacy(pair.new) },
      bridge: { [PROPS]: legacy(pair.old) },
    });
    assert.match(p.shown, /legacy layout: the shard is set in/);
    assert.match(p.shown, /^-org\.jitsi\.videobridge\.xmpp\.user\.shard\.PASSWORD=\*{8}$/m);
    assert.match(p.shown, /^\+org\.jitsi\.videobridge\.xmpp\.user\.shard\.PASSWORD=\*{8}$/m);
    noLeak('legacy plan', p.shown, pair);
  });

  test('both: the old lines are commented out, passwords and all, and jvb.conf gets the shard', async () => {
    const p = await planned({ bridge: { ...oldBridgeFiles(pair.old), [PROPS]: legacy(pair.old) } });
    assert.equal(p.config.changes.length, 2);
    assert.match(p.shown, /^\+#\s*org\.jitsi\.videobridge\.xmpp\.user\.shard\.PASSWORD=\*{8}$/m);
    noLeak('both-layout plan', p.shown, pair);
  });

  test('none yet: the config the package writes is planned, created 0640 group jitsi', async () => {
    const p = await planned({ bridge: {} });
    assert.match(p.shown, /edited right after the install/);
    assert.match(p.shown, /it is created with mode 0640, group jitsi/);
    assert.match(p.shown, /^\+\s+PASSWORD = "\*{8}"$/m);
    noLeak('new-config plan', p.shown, pair);
  });

  test('a second shard pointing elsewhere is kept and named; its password is masked too', async () => {
    const two = `${oldBridgeFiles(pair.old)[JVB]!}videobridge.apis.xmpp-client.configs.other {\n  HOSTNAME = "10.9.9.9"\n  PASSWORD = "${OTHER}"\n  MUC_JIDS = "b@internal.auth.other.example"\n}\nvideobridge.websockets.enabled = true\n`;
    const p = await planned({ bridge: { [JVB]: two } });
    assert.match(p.shown, /the shard block "other" points at another server \(10\.9\.9\.9, brewery b@internal/);
    assert.match(p.shown, /colibri websockets are on/);
    assert.equal(p.secrets.redactText(`x ${OTHER} y`), 'x ******** y');
    noLeak('two-shard plan', p.shown, pair);
  });

  test("certificate verification on: the meet host's certificate is trusted, with no secret in its plan", async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ\n-----END CERTIFICATE-----\n';
    const p = await planned({
      meet: { [`/etc/prosody/certs/auth.${DOMAIN}.crt`]: pem },
      vars: 'jitsi_verify_certificate: true',
    });
    assert.match(p.shown, /trust the auth\.meet\.example\.org certificate/);
    assert.match(p.shown, /update the system trust store/);
    assert.match(p.shown, /DISABLE_CERTIFICATE_VERIFICATION = false/);
    noLeak('certificate plan', p.shown, pair);
  });

  test('the package: pinned, or installed already; and what discovery tells the start screen', async () => {
    const pinned = await planned({
      vars: `jitsi_videobridge_version: "${VERSION}", jitsi_apt_source: "deb http://repo.lan/ ./"`,
    });
    assert.match(
      pinned.shown,
      new RegExp(`version ${VERSION.replace(/\./g, '\\.')}, pinned by jitsi_videobridge_version in the inventory`),
    );
    assert.doesNotMatch(pinned.shown, /download the signing key/, 'a source of its own names its own key, or none');
    noLeak('pinned install plan', pinned.shown, pair);

    const installed = await planned({
      packages: { meet: { 'jitsi-videobridge2': VERSION, jicofo: '1.0' }, jvb1: { 'jitsi-videobridge2': VERSION } },
    });
    assert.deepEqual(installed.install.changes, []);
    assert.deepEqual(installed.install.notes, [`jitsi-videobridge2 ${VERSION} is installed`]);
    const found = JSON.stringify(describeShard(installed.shared));
    assert.match(found, /own bridge 2\.3\.250-1, jvb\.conf \(2\.1\+ layout\), nickname meet-own/);
    assert.match(found, /Jicofo installed/);
    assert.match(found, /bridges get version 2\.3\.250-1: the meet host's own bridge/);
    assert.match(found, /matches Prosody’s account/);
    assert.match(found, /bridge 2\.3\.250-1, jvb\.conf/);
    noLeak('what discovery found', found, pair);
  });
});
