import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readShards } from '../lab/standin-jvb/bridge-config.js';
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
