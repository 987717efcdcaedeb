import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assignServerIds,
  bridgeSctpEnabled,
  channelHoconEdits,
  channelLegacyEdit,
  jicofoSctpEnabled,
  planChannels,
  publicPortOf,
  serverIdOf,
  websocketSetting,
  type ChannelWant,
} from '../../playbooks/jitsi-load-balancing/bridge-channel.js';
import { editJvbConf } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { getProperty } from '../../src/modules/properties/properties.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

const JVB = fixture('jitsi/jvb.conf');
const doc = (t: string) => new HoconDoc(t);
const WANT = { HOSTNAME: '10.0.0.1', USERNAME: 'jvb', PASSWORD: 'pw', MUC_JIDS: 'b@x', MUC_NICKNAME: 'n1' };
const WS: ChannelWant = { channel: 'websocket', serverId: 'jvb-2', domain: 'meet.example.test' };

describe('SCTP and websockets as the bridge and Jicofo read them', () => {
  test('SCTP: on unless jvb.conf / jicofo.conf turns it off, in any HOCON spelling of false', () => {
    assert.equal(bridgeSctpEnabled(null), true);
    assert.equal(bridgeSctpEnabled(doc(JVB)), true);
    assert.equal(bridgeSctpEnabled(doc('videobridge.sctp.enabled = false')), false);
    assert.equal(bridgeSctpEnabled(doc('videobridge { sctp { enabled = off } }')), false);
    assert.equal(bridgeSctpEnabled(doc('videobridge.sctp.enabled = "no"')), false);
    assert.equal(jicofoSctpEnabled(null), true);
    assert.equal(jicofoSctpEnabled(doc('jicofo { bridge { brewery-jid = "x" } }')), true);
    assert.equal(jicofoSctpEnabled(doc('jicofo { sctp { enabled = false } }')), false);
  });

  test('websockets: the legacy COLIBRI_WS_DISABLE wins over jvb.conf, inverted', () => {
    assert.equal(websocketSetting(doc(JVB), null).enabled, true);
    assert.equal(websocketSetting(null, null).enabled, false);
    const disabled = 'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=true\n';
    assert.equal(websocketSetting(doc(JVB), disabled).enabled, false);
    assert.match(websocketSetting(doc(JVB), disabled).source, /COLIBRI_WS_DISABLE=true/);
    assert.equal(websocketSetting(null, 'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=false\n').enabled, true);
    // A commented-out line is no setting.
    assert.equal(websocketSetting(doc(JVB), '#org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=true\n').enabled, true);
  });

  test('server-id and public port: legacy first, default-id and no port by default', () => {
    assert.equal(serverIdOf(null, null), 'default-id');
    assert.equal(serverIdOf(doc('videobridge.websockets.server-id = jvb7'), null), 'jvb7');
    assert.equal(
      serverIdOf(
        doc('videobridge.websockets.server-id = jvb7'),
        'org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=old\n',
      ),
      'old',
    );
    assert.equal(publicPortOf(doc(JVB)), 9090);
    assert.equal(publicPortOf(doc('videobridge.http-servers.public.port = -1')), null);
    assert.equal(publicPortOf(null), null);
  });
});

describe('server-ids', () => {
  test('one per bridge: kept when safe and unique, else from the inventory name, never default-id', () => {
    const ids = assignServerIds([
      { name: 'jvb1', existing: 'edge-a' },
      { name: 'jvb2', existing: 'default-id' },
      { name: 'jvb3', existing: 'dup' },
      { name: 'jvb4', existing: 'dup' },
      { name: 'jvb1.example.org' },
    ]);
    assert.equal(ids.get('jvb1'), 'edge-a');
    assert.equal(ids.get('jvb2'), 'jvb2');
    assert.equal(ids.get('jvb3'), 'jvb3');
    assert.equal(ids.get('jvb4'), 'jvb4');
    assert.equal(ids.get('jvb1.example.org'), 'jvb1.example.org');
    assert.equal(new Set(ids.values()).size, 5);
  });

  test('shell and regex characters never reach a server-id', () => {
    const ids = assignServerIds([
      { name: 'a', existing: 'x/../y' },
      { name: 'b;rm -rf /', existing: '$(id)' },
      { name: '"$host"{}' },
      { name: '..' },
      { name: 'b-rm-rf' },
    ]);
    for (const id of ids.values()) assert.match(id, /^[A-Za-z0-9._-]+$/);
    assert.equal(ids.get('a'), 'a');
    assert.equal(ids.get('b;rm -rf /'), 'b-rm-rf');
    assert.equal(ids.get('b-rm-rf'), 'b-rm-rf-2');
    assert.equal(ids.get('"$host"{}'), 'host');
    assert.equal(ids.get('..'), 'jvb');
  });
});

describe('the channel each bridge is to have', () => {
  const input = (name: string, jvb: string | null, channel: 'sctp' | 'websocket' = 'sctp') => ({
    name,
    channel,
    jvb: jvb === null ? null : doc(jvb),
    properties: null,
  });

  test('sctp: websockets off only with SCTP on at both ends; else refused in one sentence naming the setting', () => {
    const r = planChannels(
      [input('jvb1', JVB), input('jvb2', 'videobridge.sctp.enabled = false'), input('jvb3', null)],
      true,
      'meet.example.test',
    );
    assert.deepEqual(r.channels.get('jvb1'), { channel: 'sctp' });
    assert.deepEqual(r.channels.get('jvb3'), { channel: 'sctp' });
    assert.equal(r.channels.has('jvb2'), false);
    const why = r.refused.get('jvb2')!;
    assert.match(why, /videobridge\.sctp\.enabled = false in jvb2's jvb\.conf/);
    assert.match(why, /jitsi_bridge_channel: websocket/);
    assert.equal(why.split('. ').length, 1);
    const jicofoOff = planChannels([input('jvb1', JVB)], false, 'meet.example.test');
    assert.match(jicofoOff.refused.get('jvb1')!, /jicofo\.sctp\.enabled = false/);
  });

  test('websocket: no refusal whatever SCTP says, and a server-id of its own', () => {
    const r = planChannels(
      [input('jvb1', 'videobridge.sctp.enabled = false', 'websocket'), input('jvb2', JVB, 'websocket')],
      false,
      'meet.example.test',
    );
    assert.equal(r.refused.size, 0);
    assert.deepEqual(r.channels.get('jvb1'), { channel: 'websocket', serverId: 'jvb1', domain: 'meet.example.test' });
    assert.equal((r.channels.get('jvb2') as { serverId: string }).serverId, 'jvb2');
  });
});

describe('the channel written into jvb.conf and sip-communicator.properties', () => {
  test('sctp: websockets off, the rest kept; a second run changes nothing', () => {
    const out = assertIdempotent(
      (t) => editJvbConf(doc(t), 'shard', WANT, { websocketsOff: true, channel: { channel: 'sctp' } }).text,
      JVB,
    );
    assert.equal(websocketSetting(doc(out), null).enabled, false);
    assert.match(out, /addresses = \["stun\.example\.test:443"\] {3}\/\/ keep me/);
    assert.deepEqual(channelHoconEdits(doc('videobridge.sctp.enabled = true'), { channel: 'sctp' }), []);
  });

  test('websocket: enabled, domain:443, tls, its server-id; the public port kept or set to 9090; idempotent', () => {
    const out = assertIdempotent(
      (t) => editJvbConf(doc(t), 'shard', WANT, { websocketsOff: true, channel: WS }).text,
      JVB,
    );
    const d = doc(out);
    assert.equal(d.get(['videobridge', 'websockets', 'enabled']), 'true');
    assert.equal(d.get(['videobridge', 'websockets', 'domain']), 'meet.example.test:443');
    assert.equal(d.get(['videobridge', 'websockets', 'tls']), 'true');
    assert.equal(d.get(['videobridge', 'websockets', 'server-id']), 'jvb-2');
    assert.equal(publicPortOf(d), 9090);
    const fresh = doc(editJvbConf(null, 'shard', WANT, { websocketsOff: true, channel: WS }).text);
    assert.equal(publicPortOf(fresh), 9090);
    const own = doc(
      editJvbConf(doc('videobridge.http-servers.public.port = 9443'), 'shard', WANT, {
        websocketsOff: true,
        channel: WS,
      }).text,
    );
    assert.equal(publicPortOf(own), 9443);
  });

  test('legacy keys that are there are made to agree (they win); none are added', () => {
    const props =
      'a=b\norg.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=false\norg.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=x\n';
    const sctp = channelLegacyEdit(props, { channel: 'sctp' })!;
    assert.equal(getProperty(sctp, 'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE'), 'true');
    assert.equal(channelLegacyEdit(sctp, { channel: 'sctp' }), sctp);
    const ws = channelLegacyEdit(props, WS)!;
    assert.equal(getProperty(ws, 'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE'), 'false');
    assert.equal(getProperty(ws, 'org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID'), 'jvb-2');
    assert.equal(getProperty(ws, 'org.jitsi.videobridge.rest.COLIBRI_WS_DOMAIN'), undefined);
    assert.equal(channelLegacyEdit('a=b\n', WS), 'a=b\n');
    // A path is case-sensitive: JVB-2 is not jvb-2. A boolean is not: TRUE is true.
    const upper = channelLegacyEdit('org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=JVB-2\n', WS)!;
    assert.equal(getProperty(upper, 'org.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID'), 'jvb-2');
    const shout = 'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=TRUE\n';
    assert.equal(channelLegacyEdit(shout, { channel: 'sctp' }), shout);
    assert.equal(channelLegacyEdit(null, WS), null);
  });
});
