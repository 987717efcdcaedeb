import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPublicAddress } from '../../playbooks/shard-doctor/addresses.js';
import { runChecks, type BridgeRead, type MeetRead } from '../../playbooks/shard-doctor/checks.js';
import { doctorLines } from '../../playbooks/shard-doctor/doctor-lines.js';
import { jicofoOctoOf, parseDoctorProbe } from '../../playbooks/shard-doctor/gather.js';
import { bridgeFiles } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { nicknameLine } from '../../playbooks/jitsi-load-balancing/steps/patch-jvb-sh.js';
import { BREWERY, DOMAIN, SECRET, bridge, jvbConf, meet, probe } from '../support/doctor-reads.js';

const failures = async (m: MeetRead, bs: BridgeRead[]) =>
  (await runChecks(m, bs))
    .filter((f) => !f.ok)
    .map((f) => `${f.host} ${f.check}`)
    .sort();

describe('doctor: each check names its cause, and only it', () => {
  test('a healthy bridge passes all thirteen checks', async () => {
    const findings = await runChecks(meet(), [bridge('jvb1')]);
    assert.equal(findings.length, 13);
    assert.deepEqual(
      findings.filter((f) => !f.ok),
      [],
    );
  });

  test('a wrong password, with the log line as evidence and never the password', async () => {
    const b = bridge(
      'jvb1',
      {
        probe: probe({
          log: [
            '2026-12-03 06:00:00.000 WARNING: x',
            'org.jivesoftware.smack.sasl.SASLErrorException: SASLError using SCRAM-SHA-1: not-authorized',
          ],
        }),
      },
      jvbConf({ PASSWORD: 'Wrong-9' }),
    );
    const [f] = (await runChecks(meet(), [b])).filter((x) => !x.ok);
    assert.equal(f?.check, 'xmpp-login');
    assert.match(f.evidence!, /SASLError using SCRAM-SHA-1: not-authorized/);
    assert.ok(!JSON.stringify(f).includes('Wrong-9'));
    assert.deepEqual(await failures(meet({ accounts: new Map([[`jvb@auth.${DOMAIN}`, null]]) }), [bridge('jvb1')]), [
      'jvb1 xmpp-login',
    ]);
  });

  test('verification on and the certificate untrusted (or PKIX logged); off is fine', async () => {
    const conf = jvbConf({ DISABLE_CERTIFICATE_VERIFICATION: 'false' });
    assert.deepEqual(
      await failures(meet(), [
        bridge(
          'jvb1',
          { probe: probe({ trust: { trusted: false, detail: 'unable to get local issuer certificate' } }) },
          conf,
        ),
      ]),
      ['jvb1 certificate'],
    );
    assert.deepEqual(
      await failures(meet(), [bridge('jvb1', { probe: probe({ trust: { trusted: true, detail: '' } }) }, conf)]),
      [],
    );
    assert.deepEqual(
      await failures(meet(), [bridge('jvb1', { probe: probe({ trust: { trusted: false, detail: 'x' } }) })]),
      [],
      'verification off',
    );
  });

  test("MUC_JIDS that misses Jicofo's brewery; the same in another case is fine", async () => {
    assert.deepEqual(await failures(meet(), [bridge('jvb1', {}, jvbConf({ MUC_JIDS: 'other@internal.auth.x' }))]), [
      'jvb1 brewery-jid',
    ]);
    assert.deepEqual(await failures(meet(), [bridge('jvb1', {}, jvbConf({ MUC_JIDS: BREWERY.toLowerCase() }))]), []);
  });

  test('legacy lines next to jvb.conf: named, with no password in the evidence', async () => {
    const properties = `org.jitsi.videobridge.xmpp.user.shard.HOSTNAME=10.0.0.1\norg.jitsi.videobridge.xmpp.user.shard.PASSWORD=${SECRET}\norg.jitsi.videobridge.xmpp.user.shard.USERNAME=jvb\norg.jitsi.videobridge.xmpp.user.shard.DOMAIN=auth.${DOMAIN}\norg.jitsi.videobridge.xmpp.user.shard.MUC_JIDS=${BREWERY}\norg.jitsi.videobridge.xmpp.user.shard.MUC_NICKNAME=nick-jvb1\n`;
    const b = bridge('jvb1', { files: bridgeFiles('jvb1', jvbConf({ MUC_NICKNAME: 'nick-jvb1' }), properties) });
    const f = (await runChecks(meet(), [b])).filter((x) => !x.ok);
    assert.deepEqual(
      f.map((x) => x.check),
      ['legacy-config'],
    );
    assert.ok(!f[0]!.evidence!.includes(SECRET));
  });

  test('websockets on: a problem when nginx routes default-id only, fine when it routes by bridge or there is no nginx', async () => {
    const on = bridge('jvb1', {}, jvbConf({ MUC_NICKNAME: 'nick-jvb1' }).replace('enabled = false', 'enabled = true'));
    assert.deepEqual(await failures(meet(), [on]), ['jvb1 websockets']);
    assert.deepEqual(
      await failures(meet({ colibriLocations: ['location ~ ^/colibri-ws/([0-9.]*)/(.*) {'] }), [on]),
      [],
    );
    assert.deepEqual(await failures(meet({ colibriLocations: null }), [on]), []);
  });

  test('5222 closed from the bridge, or Prosody on loopback only', async () => {
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { probe: probe({ reach: 'closed' }) })]), [
      'jvb1 xmpp-reach',
    ]);
    const loopback = meet({
      prosody: {
        files: [],
        c2sInterfaces: '{ "127.0.0.1" }',
        c2sInterfacesAt: { file: '/etc/prosody/prosody.cfg.lua', line: 3 },
      } as unknown as MeetRead['prosody'],
    });
    const [f] = (await runChecks(loopback, [bridge('jvb1')])).filter((x) => !x.ok);
    assert.equal(f?.check, 'xmpp-reach');
    assert.match(f.evidence!, /c2s_interfaces = \{ "127\.0\.0\.1" \} \(\/etc\/prosody\/prosody\.cfg\.lua:3\)/);
  });

  test('a version apart, twin nicknames (also with the meet host’s own bridge)', async () => {
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { packages: { 'jitsi-videobridge2': '2.0.9000-1' } })]), [
      'jvb1 version',
    ]);
    const twin = jvbConf({ MUC_NICKNAME: 'same' });
    assert.deepEqual(await failures(meet(), [bridge('jvb1', {}, twin), bridge('jvb2', {}, twin)]), [
      'jvb1 nickname',
      'jvb2 nickname',
    ]);
    assert.deepEqual(await failures(meet(), [bridge('jvb1', {}, jvbConf({ MUC_NICKNAME: 'MEET-OWN' }))]), [
      'jvb1 nickname',
    ]);
  });

  test('the REST API off is a problem only when something on the bridge needs it', async () => {
    assert.deepEqual(
      await failures(meet(), [bridge('jvb1', { probe: probe({ restConsumers: ['the autoscaler sidecar'] }) })]),
      ['jvb1 rest-api'],
    );
    assert.deepEqual(
      await failures(meet(), [bridge('jvb1', { probe: probe({ restConsumers: ['x'], colibriStatsCode: 200 }) })]),
      [],
    );
  });

  test('only private addresses: a problem unless mapped, or require-valid-address is off', async () => {
    const priv = probe({ addresses: ['10.0.0.11', '192.168.1.5', '127.0.0.1', 'fe80::1'] });
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { probe: priv })]), ['jvb1 valid-address']);
    const mapped = jvbConf(
      { MUC_NICKNAME: 'nick-jvb1' },
      'ice4j.harvest.mapping.static-mappings = [{ local-address = "10.0.0.11", public-address = "203.0.113.5" }]\n',
    );
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { probe: priv }, mapped)]), []);
    const off = jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.health.require-valid-address = false\n');
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { probe: priv }, off)]), []);
    assert.equal(isPublicAddress('172.20.0.1'), false);
    assert.equal(isPublicAddress('172.32.0.1'), true);
    assert.equal(isPublicAddress('fd77:7::c'), true, 'unique-local counts, as in Java');
    assert.equal(isPublicAddress('fec0::1'), false);
  });

  test("Jicofo's view joins the evidence when Jicofo answers", async () => {
    const priv = probe({ addresses: ['10.0.0.11'] });
    const jicofo = new Map([[`${BREWERY}/nick-jvb1`.toLowerCase(), { healthy: false, operational: false }]]);
    const [f] = (await runChecks(meet({ jicofo }), [bridge('jvb1', { probe: priv })])).filter((x) => !x.ok);
    assert.match(f!.evidence!, /; Jicofo sees it as unhealthy and not operational$/);
    const lost = (
      await runChecks(meet({ jicofo: new Map() }), [bridge('jvb1', {}, jvbConf({ MUC_JIDS: 'x@y' }))])
    ).filter((x) => !x.ok);
    assert.match(lost[0]!.evidence!, /; Jicofo does not list jvb1 among its bridges$/);
  });

  test('the jvb.sh patch: needed only with the per-start policy', async () => {
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { perStartNickname: true })]), ['jvb1 jvb-sh']);
    const patched = `#!/bin/bash\n${nicknameLine('current')}\nexec java\n`;
    assert.deepEqual(await failures(meet(), [bridge('jvb1', { perStartNickname: true, launcher: patched })]), []);
  });

  test('the report: a check per line, evidence and fix under a failure, a closing count', async () => {
    const lines = doctorLines(await runChecks(meet(), [bridge('jvb1', { probe: probe({ reach: 'closed' }) })]));
    assert.match(lines.join('\n'), /^jvb1:\n {2}✓ /);
    assert.match(
      lines.join('\n'),
      / {2}✗ the bridge reaching Prosody's client port: .*\n {6}evidence: .*\n {6}fix: run `jitsi-scale setup`/,
    );
    assert.equal(lines.at(-1), '1 problem(s) found on 1 bridge(s)');
  });

  test('the probe: sections parsed, escaped lines restored, a probe cut short is null', async () => {
    const out = [
      '@@reach',
      'open',
      '@@log',
      '@@@odd',
      '@@health',
      'HTTP 500',
      '{"error":"No valid IP"}',
      '@@stats',
      'HTTP 404',
      '@@addresses',
      '10.0.0.11/24',
      '@@trust',
      'untrusted error 20 at 0 depth lookup',
      '@@consumers',
      'the autoscaler sidecar',
      '@@end',
    ].join('\n');
    assert.deepEqual(parseDoctorProbe(out), {
      reach: 'open',
      log: ['@@odd'],
      health: { code: 500, body: '{"error":"No valid IP"}' },
      colibriStatsCode: 404,
      addresses: ['10.0.0.11'],
      trust: { trusted: false, detail: 'error 20 at 0 depth lookup' },
      restConsumers: ['the autoscaler sidecar'],
    });
    assert.equal(parseDoctorProbe('@@reach\nopen\n'), null);
  });
});

describe("doctor: Jicofo's view and the release, from the field", () => {
  const seen = (over: Record<string, unknown>) =>
    new Map([[`${BREWERY}/nick-jvb1`.toLowerCase(), { healthy: true, operational: true, ...over }]]);

  test('Jicofo marks a bridge non-operational while its own health answers 200: a finding that says what to do', async () => {
    const m = meet({ jicofo: seen({ operational: false }) });
    const [f] = (await runChecks(m, [bridge('jvb1')])).filter((x) => !x.ok);
    assert.equal(f?.check, 'jicofo-operational');
    assert.match(f.text, /Jicofo marks it non-operational.*own \/about\/health answers 200/);
    assert.match(f.evidence!, /operational = false, healthy = true; GET 127\.0\.0\.1:8080\/about\/health on jvb1: 200/);
    assert.match(f.fix!, /jicofo\.log.*failure-reset-threshold/);
  });

  test('no finding when Jicofo agrees, when the bridge itself is unhealthy, or when Jicofo cannot be asked', async () => {
    assert.deepEqual(await failures(meet({ jicofo: seen({}) }), [bridge('jvb1')]), []);
    const sick = bridge('jvb1', { probe: probe({ health: { code: 500, body: 'no' } }) });
    assert.ok(
      !(await failures(meet({ jicofo: seen({ operational: false }) }), [sick])).includes('jvb1 jicofo-operational'),
    );
    assert.deepEqual(await failures(meet({ jicofo: null }), [bridge('jvb1')]), []);
  });

  const relays = jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.relay.enabled = true\n');
  const octo = { enabled: true, mixedVersions: false };
  const pin = {
    version: '2.0.9823-1',
    source: 'jicofo' as const,
    why: 'Jicofo 1.0-1 is of the release jitsi-meet 2.0.1',
  };

  test("relays on and a bridge of another release than Jicofo's: conferences are not split onto it", async () => {
    const m = meet({ packages: {}, pin, jicofoOcto: octo });
    const other = bridge('jvb1', { packages: { 'jitsi-videobridge2': '2.0.9000-1' } }, relays);
    const found = (await runChecks(m, [other])).filter((x) => !x.ok);
    assert.deepEqual(found.map((f) => f.check).sort(), ['relay-release', 'version']);
    const f = found.find((x) => x.check === 'relay-release')!;
    assert.match(f.text, /relays are on and it runs 2\.0\.9000, not 2\.0\.9823 of Jicofo's release/);
    assert.match(f.fix!, /jitsi-videobridge2=2\.0\.9823-1 on jvb1/);
    // The same bridge with relays off is a version finding only; allow-mixed-versions lets Jicofo mix them.
    const off = bridge('jvb1', { packages: { 'jitsi-videobridge2': '2.0.9000-1' } });
    assert.deepEqual(await failures(meet({ packages: {}, pin }), [off]), ['jvb1 version']);
    const mixed = meet({ packages: {}, pin, jicofoOcto: { enabled: true, mixedVersions: true } });
    assert.deepEqual(await failures(mixed, [other]), ['jvb1 version']);
  });

  test('relays on one side only: the two must agree', async () => {
    const m = meet({ jicofoOcto: octo });
    const [f] = (await runChecks(m, [bridge('jvb1')])).filter((x) => !x.ok);
    assert.equal(f?.check, 'relay-release');
    assert.match(f.text, /on in Jicofo and off on the bridge/);
    assert.deepEqual(await failures(meet({ jicofoOcto: octo }), [bridge('jvb1', {}, relays)]), []);
  });

  test("a meet host without a bridge no longer passes the version check vacuously: the release's pin counts", async () => {
    const m = meet({ packages: { jicofo: '1.0-1-1' }, pin });
    assert.deepEqual(await failures(m, [bridge('jvb1', { packages: { 'jitsi-videobridge2': '2.0.9000-1' } })]), [
      'jvb1 version',
    ]);
    assert.deepEqual(await failures(m, [bridge('jvb1')]), []);
  });

  test('Prosody bound to loopback and the address the bridges reach: reachable', async () => {
    const narrow = meet({
      prosody: {
        files: [],
        c2sInterfaces: '{ "127.0.0.1", "::1", "10.0.0.1" }',
      } as unknown as MeetRead['prosody'],
    });
    assert.deepEqual(await failures(narrow, [bridge('jvb1')]), []);
  });

  test('jicofo.octo from jicofo.conf', () => {
    assert.deepEqual(jicofoOctoOf('jicofo { octo { enabled = true } }'), { enabled: true, mixedVersions: false });
    assert.deepEqual(jicofoOctoOf('jicofo.octo.allow-mixed-versions = true'), { enabled: false, mixedVersions: true });
    assert.equal(jicofoOctoOf(null), null);
  });
});
