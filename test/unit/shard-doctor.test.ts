import { colibriLocations, editSiteRoutes } from '../../playbooks/jitsi-load-balancing/colibri-routes.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPublicAddress } from '../../playbooks/shard-doctor/addresses.js';
import { runChecks, type BridgeRead, type MeetRead } from '../../playbooks/shard-doctor/checks.js';
import { doctorLines } from '../../playbooks/shard-doctor/doctor-lines.js';
import { jicofoOctoOf, parseDoctorProbe } from '../../playbooks/shard-doctor/gather.js';
import { parseHarvest } from '../../playbooks/shard-doctor/harvest-log.js';
import { bridgeFiles } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { nicknameLine } from '../../playbooks/jitsi-load-balancing/steps/patch-jvb-sh.js';
import { BREWERY, DOMAIN, SECRET, bridge, jvbConf, meet, probe } from '../support/doctor-reads.js';

const failures = async (m: MeetRead, bs: BridgeRead[]) =>
  (await runChecks(m, bs))
    .filter((f) => !f.ok)
    .map((f) => `${f.host} ${f.check}`)
    .sort();

describe('doctor: each check names its cause, and only it', () => {
  test('a healthy bridge passes all fourteen checks', async () => {
    const findings = await runChecks(meet(), [bridge('jvb1')]);
    assert.equal(findings.length, 14);
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

  test('websockets on and routed to the meet host only: a problem only when clients use the websocket', async () => {
    const on = bridge('jvb1', {}, jvbConf({ MUC_NICKNAME: 'nick-jvb1' }).replace('enabled = false', 'enabled = true'));
    // SCTP on at both ends and preferSctp left at its default: clients never open the websocket.
    assert.deepEqual(await failures(meet(), [on]), []);
    assert.deepEqual(await failures(meet({ preferSctp: false }), [on]), ['jvb1 websockets']);
    assert.deepEqual(await failures(meet({ jicofoSctp: false }), [on]), ['jvb1 websockets']);
    const sctpOff = bridge(
      'jvb1',
      {},
      jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.sctp.enabled = false\n').replace(
        'enabled = false',
        'enabled = true',
      ),
    );
    assert.deepEqual(await failures(meet(), [sctpOff]), ['jvb1 websockets']);
    // A route by the path's own host part (the template's commented "additional JVBs" block, live).
    const byPath = colibriLocations(
      'location ~ ^/colibri-ws/([^/]+)/(.*) {\n proxy_pass http://$1:9090/colibri-ws/$1/$2$is_args$args;\n}\n',
    );
    assert.deepEqual(await failures(meet({ preferSctp: false, colibriLocations: colibriLocations('') }), [on]), [
      'jvb1 websockets',
    ]);
    assert.deepEqual(await failures(meet({ preferSctp: false, colibriLocations: byPath }), [on]), []);
    assert.deepEqual(await failures(meet({ preferSctp: false, colibriLocations: null }), [on]), []);
  });

  test("websockets on with the bridge's own route from setup: fine even when clients use the websocket", async () => {
    const conf = jvbConf({ MUC_NICKNAME: 'nick-jvb1' })
      .replace('enabled = false', 'enabled = true, server-id = jvb1')
      .concat('videobridge.sctp.enabled = false\n');
    const on = bridge('jvb1', {}, conf);
    const site = editSiteRoutes(
      'server {\n    listen 443 ssl;\n    server_name meet.example.org;\n}\n',
      [{ serverId: 'jvb1', address: on.address, port: 9090 }],
      'meet.example.org',
    ) as { text: string };
    assert.deepEqual(await failures(meet({ colibriLocations: colibriLocations(site.text) }), [on]), []);
    // Another bridge's route is not this one's.
    const other = bridge('jvb2', {}, conf);
    assert.deepEqual(await failures(meet({ colibriLocations: colibriLocations(site.text) }), [other]), [
      'jvb2 websockets',
    ]);
  });

  test('SCTP off with websockets off: no bridge channel at all', async () => {
    const noChannel = bridge('jvb1', {}, jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.sctp.enabled = false\n'));
    assert.deepEqual(await failures(meet(), [noChannel]), ['jvb1 bridge-channel']);
    const [f] = (await runChecks(meet(), [noChannel])).filter((x) => !x.ok);
    assert.match(f!.evidence!, /videobridge\.sctp\.enabled = false.*websockets/);
    assert.match(f!.fix!, /jitsi_bridge_channel: websocket/);
    // Jicofo's SCTP off counts the same; websockets on (even unrouted) is a channel, judged by the websockets check.
    assert.deepEqual(await failures(meet({ jicofoSctp: false }), [bridge('jvb1')]), ['jvb1 bridge-channel']);
    const legacyOn = bridge('jvb1', {
      files: bridgeFiles(
        'jvb1',
        jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.sctp.enabled = false\n'),
        'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=false\n',
      ),
    });
    assert.deepEqual(await failures(meet(), [legacyOn]), ['jvb1 websockets']);
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

  // Lines as the bridge logs them (jitsi-utils JitsiLogFormatter), with ice4j's own messages.
  const at = (cls: string, msg: string) => `2026-12-04 01:02:03.456 INFO: [23] org.ice4j.ice.harvest.${cls}: ${msg}`;
  const BOUND = at(
    'SinglePortUdpHarvester.<init>#112',
    'Initialized SinglePortUdpHarvester with address 10.0.0.11:10000/udp',
  );
  const STUN_OK = [
    BOUND,
    at(
      'StunMappingCandidateHarvester.discover#103',
      'Discovered public address 203.0.113.7:40312/udp from STUN server meet-jit-si-turnrelay.jitsi.net:443/udp using local address 10.0.0.11:0/udp',
    ),
    at(
      'MappingCandidateHarvesters.initialize#156',
      'Initialized mapping harvesters (delay=212ms).  stunDiscoveryFailed=false',
    ),
  ];
  const STUN_FAILED = [
    BOUND,
    at('StunMappingCandidateHarvester.discover#111', 'We failed to obtain addresses for the following reason: '),
    at(
      'MappingCandidateHarvesters.initialize#156',
      'Initialized mapping harvesters (delay=3004ms).  stunDiscoveryFailed=true',
    ),
  ];
  const STUN_CONF = jvbConf(
    { MUC_NICKNAME: 'nick-jvb1' },
    'ice4j.harvest.mapping.stun.addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]\n',
  );
  const NO_IP = { code: 500, body: '{"error":"No valid IP addresses available for harvesting."}' };

  test('a STUN-mapped cloud bridge with a healthy answer passes, and the finding says what it offers', async () => {
    const cloud = probe({ addresses: ['127.0.0.1', '10.0.0.11'], harvest: STUN_OK });
    const findings = await runChecks(meet(), [bridge('jvb1', { probe: cloud }, STUN_CONF)]);
    const f = findings.find((x) => x.check === 'valid-address')!;
    assert.equal(f.ok, true);
    assert.match(f.text, /203\.0\.113\.7 \(found through STUN meet-jit-si-turnrelay\.jitsi\.net:443\)/);
    assert.deepEqual(
      findings.filter((x) => !x.ok).map((x) => x.check),
      [],
    );
  });

  test('a harvest that failed fails, though the host has a public address on another interface', async () => {
    const multi = probe({ addresses: ['10.0.0.11', '203.0.113.11'], health: NO_IP, harvest: STUN_FAILED });
    const [f] = (await runChecks(meet(), [bridge('jvb1', { probe: multi }, STUN_CONF)])).filter((x) => !x.ok);
    assert.equal(f!.check, 'valid-address');
    assert.match(
      f!.text,
      /no address it may offer \(STUN \(meet-jit-si-turnrelay\.jitsi\.net:443\) found no public address\)/,
    );
    assert.match(
      f!.evidence!,
      /^\/about\/health answers 500: .*No valid IP.*; .*We failed to obtain addresses.*; addresses: 10\.0\.0\.11, 203\.0\.113\.11$/,
    );
    assert.match(f!.fix!, /jitsi_public_address/);
  });

  test('a media port another process holds: the bind failure named, with the port from the config', async () => {
    const conf = jvbConf({ MUC_NICKNAME: 'nick-jvb1' }, 'videobridge.ice.udp.port = 12000\n');
    const held = probe({
      health: { code: 500, body: '{"error":"Failed to bind single-port"}' },
      harvest: [
        at(
          'SinglePortUdpHarvester.createHarvesters#80',
          'Failed to create SinglePortUdpHarvester for address 10.0.0.11: java.net.BindException: Address already in use',
        ),
      ],
    });
    const [f] = (await runChecks(meet(), [bridge('jvb1', { probe: held }, conf)])).filter((x) => !x.ok);
    assert.equal(f!.check, 'valid-address');
    assert.match(f!.text, /could not bind its media port \(UDP 12000\)/);
    assert.match(f!.fix!, /free UDP 12000/);
  });

  test('no health answer and no log: judged by the addresses and the config, as before', async () => {
    const priv = probe({
      addresses: ['10.0.0.11', '192.168.1.5', '127.0.0.1', 'fe80::1'],
      health: { code: 0, body: '' },
    });
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

  test('a health that fails for another reason is not blamed on the addresses', async () => {
    const other = probe({ health: { code: 500, body: '{"error":"not joined"}' }, harvest: STUN_OK });
    const f = (await runChecks(meet(), [bridge('jvb1', { probe: other }, STUN_CONF)])).find(
      (x) => x.check === 'valid-address',
    )!;
    assert.equal(f.ok, true);
    assert.match(f.text, /not what fails its health \(500\)/);
  });

  test('the harvest log parsed: bound ports, static mappings in use, STUN answers and failures', () => {
    const v = parseHarvest([
      BOUND,
      at(
        'MappingCandidateHarvesters.initialize#111',
        'Adding a static mapping: StaticMapping(localAddress=10.0.0.11, publicAddress=198.51.100.11, localPort=null, publicPort=null, name=jitsi-scale)',
      ),
      at(
        'MappingCandidateHarvesters.initialize#154',
        'Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=10.0.0.11:9/udp, mask=198.51.100.11:9/udp)',
      ),
      ...STUN_FAILED.slice(1),
      '2026-12-04 01:02:03.456 INFO: [1] Main: unrelated',
    ]);
    assert.deepEqual(v.bound, ['10.0.0.11:10000/udp']);
    assert.deepEqual(v.staticMappings, [{ local: '10.0.0.11', public: '198.51.100.11' }]);
    assert.equal(v.stunFailed, true);
    assert.equal(v.lines.length, 5);
    assert.match(v.lines[0]!, /^INFO: \[23\] /);
  });

  test("Jicofo's view joins the evidence when Jicofo answers", async () => {
    const priv = probe({ addresses: ['10.0.0.11'], health: NO_IP });
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
      '@@harvest',
      '@@@INFO: odd',
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
      harvest: ['@@INFO: odd'],
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
