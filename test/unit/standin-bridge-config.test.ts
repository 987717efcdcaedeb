import {
  addressProblem,
  apiSwitches,
  initialState,
  presenceStats,
  prometheusText,
} from '../lab/standin-jvb/bridge-state.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readShards } from '../lab/standin-jvb/bridge-config.js';
import { candidatesOf, harvestLogLines, readMedia } from '../lab/standin-jvb/bridge-media.js';
import { parseHarvest } from '../../playbooks/shard-doctor/harvest-log.js';
import { fixture } from '../support/fixtures.js';

describe('lab stand-in bridge: which config it reads', () => {
  const jvb = fixture('jitsi/jvb.conf');
  const props = fixture('jitsi/sip-communicator.properties');

  test('jvb.conf shard blocks, keys in any case', () => {
    const { shards } = readShards(jvb.replace('HOSTNAME=localhost', 'hostname=10.0.0.10'), 'jvb.conf', null, 'p');
    assert.equal(shards.length, 1);
    assert.deepEqual(
      {
        id: shards[0]!.id,
        hostname: shards[0]!.hostname,
        user: shards[0]!.username,
        muc: shards[0]!.mucJids,
        verify: shards[0]!.disableCertificateVerification,
      },
      {
        id: 'shard',
        hostname: '10.0.0.10',
        user: 'jvb',
        muc: 'jvbbrewery@internal.auth.meet.example.test',
        verify: false,
      },
    );
  });

  test('legacy properties win over jvb.conf, as in the real bridge', () => {
    const { shards, notes } = readShards(
      jvb,
      'jvb.conf',
      props.replace('shard.HOSTNAME=localhost', 'shard.HOSTNAME=10.9.9.9'),
      'sip.properties',
    );
    assert.equal(shards[0]!.hostname, '10.9.9.9');
    assert.equal(shards[0]!.source, 'sip.properties');
    assert.match(notes[0]!, /legacy shard settings in sip\.properties; jvb\.conf's are ignored/);
  });

  test('a block missing a required key is ignored, and said so', () => {
    const { shards, notes } = readShards(jvb.replace(/\s+PASSWORD="[^"]*"/, ''), 'jvb.conf', null, 'p');
    assert.deepEqual(shards, []);
    assert.match(notes[0]!, /shard shard lacks PASSWORD; ignored/);
  });
});

describe('TEST STAND-IN bridge: what it reports about itself', () => {
  const state = { ...initialState(null, '2.3.1'), conferences: 3, endpoints: 17, healthy: true, healthError: null };
  test('presence <stats> in the COLIBRI namespace, and Prometheus text in the jitsi_jvb namespace', () => {
    assert.match(
      presenceStats(state),
      /^<stats xmlns='http:\/\/jitsi\.org\/protocol\/colibri'><stat name='stress_level' value='0\.17'\/>/,
    );
    assert.match(presenceStats(state), /<stat name='participants' value='17'\/>/);
    const text = prometheusText(state);
    assert.match(text, /^# TYPE jitsi_jvb_conferences gauge\njitsi_jvb_conferences 3\.0$/m);
    assert.match(text, /^jitsi_jvb_stress 0\.17$/m);
    assert.match(text, /^jitsi_jvb_drain_mode 0\.0$/m);
  });
  test("the REST API's switches: /colibri/stats off by default, the rest on; initial drain from the config", () => {
    assert.deepEqual(apiSwitches(null), {
      colibri: false,
      drain: true,
      prometheus: true,
      version: true,
      health: true,
      debug: true,
    });
    const conf =
      'videobridge {\n  apis.rest.enabled = true\n  rest.drain.enabled = false\n  initial-drain-mode = true\n}\n';
    assert.equal(apiSwitches(conf).colibri, true);
    assert.equal(apiSwitches(conf).drain, false);
    assert.equal(initialState(conf, 'x').drain, true);
  });
  test('health needs an address that is not private, unless mapped or not required', () => {
    assert.equal(
      addressProblem(['10.0.0.5', '127.0.0.1', 'fe80::1'], null, null),
      'No valid IP addresses available for harvesting.',
    );
    assert.equal(addressProblem(['10.0.0.5', '198.51.100.5'], null, null), null);
    assert.equal(
      addressProblem(['10.0.0.5', 'fd77::5'], null, null),
      null,
      'unique-local IPv6 is not site-local to Java',
    );
    assert.equal(
      addressProblem(
        ['10.0.0.5'],
        'ice4j.harvest.mapping.static-mappings = [{ local-address = "10.0.0.5", public-address = "203.0.113.9" }]',
        null,
      ),
      null,
    );
    assert.equal(
      addressProblem(
        ['10.0.0.5'],
        null,
        'org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS=10.0.0.5\norg.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS=203.0.113.9\n',
      ),
      null,
    );
    // ice4j takes the legacy pair only whole (HarvestConfig.kt).
    assert.match(
      addressProblem(['10.0.0.5'], null, 'org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS=203.0.113.9\n')!,
      /No valid IP/,
    );
    assert.equal(addressProblem(['10.0.0.5'], 'videobridge.health.require-valid-address = false', null), null);
  });
});

describe('TEST STAND-IN bridge: media settings read as the real bridge reads them', () => {
  const conf = `videobridge.ice.udp.port = 12000
ice4j.harvest.mapping {
  stun.addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]
  static-mappings = [{ local-address = "10.0.0.5", public-address = "203.0.113.5", name = "jitsi-scale" }]
}
`;
  test('port and mappings from jvb.conf; the legacy lines win for the port and join the mappings', () => {
    assert.deepEqual(readMedia(conf, null), {
      port: 12000,
      mappings: [{ local: '10.0.0.5', public: '203.0.113.5', name: 'jitsi-scale' }],
      stun: ['meet-jit-si-turnrelay.jitsi.net:443'],
    });
    const props =
      'org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT=13000\norg.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS=10.0.0.5\norg.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS=203.0.113.6\n';
    const m = readMedia(conf, props);
    assert.equal(m.port, 13000);
    assert.deepEqual(
      m.mappings.map((x) => x.public),
      ['203.0.113.6', '203.0.113.5'],
    );
    assert.equal(readMedia(null, null).port, 10000);
  });

  test('the candidates it advertises, and harvest lines the doctor reads as ice4j wrote them', () => {
    const m = readMedia(conf, null);
    assert.deepEqual(candidatesOf(m, ['10.0.0.5']), {
      host: ['10.0.0.5:12000'],
      srflx: [{ address: '203.0.113.5:12000', from: 'static mapping of 10.0.0.5' }],
    });
    const lines = harvestLogLines(m, ['10.0.0.5'], null).map(
      (l) => `2026-12-04 01:02:03.456 INFO: [7] ${l.where}: ${l.msg}`,
    );
    const v = parseHarvest(lines);
    assert.deepEqual(v.bound, ['10.0.0.5:12000/udp']);
    assert.deepEqual(v.staticMappings, [{ local: '10.0.0.5', public: '203.0.113.5' }]);
    assert.equal(v.stunFailed, true, 'the lab reaches no STUN server');
    const failed = parseHarvest(
      harvestLogLines(m, [], 'java.net.BindException: Address already in use').map(
        (l) => `2026-12-04 01:02:03.456 INFO: [7] ${l.where}: ${l.msg}`,
      ),
    );
    assert.equal(failed.bound.length, 0);
    assert.equal(failed.bindFailures.length, 2);
  });

  test('a mapping to a public address makes the health check pass on a private-only bridge', () => {
    assert.equal(addressProblem(['10.0.0.5'], conf, null), null);
    assert.match(addressProblem(['10.0.0.5'], 'videobridge {}', null)!, /No valid IP/);
  });
});
