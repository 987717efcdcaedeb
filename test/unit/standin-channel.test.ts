import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { acceptKey, readChannel, serveColibriWs } from '../lab/standin-jvb/bridge-channel.js';

describe('TEST STAND-IN bridge: its channel settings and its colibri-ws endpoint', () => {
  test('reads SCTP and websockets as the bridge does: legacy properties first, defaults otherwise', () => {
    assert.deepEqual(readChannel(null, null), {
      sctp: true,
      websockets: false,
      serverId: 'default-id',
      domain: null,
      tls: null,
      publicPort: null,
    });
    const conf =
      'videobridge { sctp.enabled = false, websockets { enabled = true, server-id = a }, http-servers.public.port = 9090 }';
    assert.equal(readChannel(conf, null).sctp, false);
    assert.equal(readChannel(conf, null).serverId, 'a');
    const legacy =
      'org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE=true\norg.jitsi.videobridge.rest.COLIBRI_WS_SERVER_ID=b\n';
    assert.equal(readChannel(conf, legacy).websockets, false);
    assert.equal(readChannel(conf, legacy).serverId, 'b');
  });

  test("the handshake's accept key is RFC 6455's", () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('upgrades /colibri-ws/<its server-id>/… and says who it is; another server-id is 404', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const logs: string[] = [];
    const server = serveColibriWs(
      { sctp: true, websockets: true, serverId: 'jvb7', domain: null, tls: null, publicPort: port },
      'nick7',
      (m) => logs.push(m),
    );
    await new Promise((r) => setTimeout(r, 100));
    const ask = (path: string) =>
      new Promise<{ status: number; first: string }>((resolve) => {
        const req = request({
          host: '127.0.0.1',
          port,
          path,
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'Sec-WebSocket-Version': '13',
          },
        });
        req.on('upgrade', (res, socket, head: Buffer) => {
          const done = (d: Buffer) => {
            resolve({ status: res.statusCode ?? 0, first: d.subarray(2).toString('utf8') });
            socket.destroy();
          };
          // The first frame may come with the answer's head.
          if (head.length) done(head);
          else socket.once('data', done);
        });
        req.on('response', (res) => {
          resolve({ status: res.statusCode ?? 0, first: '' });
          res.resume();
        });
        req.end();
      });
    const ok = await ask('/colibri-ws/jvb7/conf/ep?pwd=x');
    assert.equal(ok.status, 101);
    assert.deepEqual(JSON.parse(ok.first), {
      colibriClass: 'ServerHello',
      standin: 'jitsi-scale lab stand-in',
      serverId: 'jvb7',
      nickname: 'nick7',
    });
    assert.equal((await ask('/colibri-ws/other/conf/ep')).status, 404);
    assert.ok(logs.some((l) => l.includes('colibri-ws opened: /colibri-ws/jvb7/conf/ep')));
    server!.close();
    server!.closeAllConnections();
  });
});
