import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import { parseProperties } from '../../../src/modules/properties/properties.js';

/**
 * TEST STAND-IN. The bridge channel settings as the real videobridge reads them
 * (jitsi-videobridge: SctpConfig.kt reads `videobridge.sctp.enabled` from jvb.conf, default true;
 * WebsocketServiceConfig.kt reads the legacy `org.jitsi.videobridge.rest.COLIBRI_WS_*` properties
 * first, then `videobridge.websockets.*`; the public HTTP server's `videobridge.http-servers.public.port`
 * is -1, off, by default, reference.conf), written independently of the product's own reader.
 */
export interface ChannelConfig {
  sctp: boolean;
  websockets: boolean;
  serverId: string;
  domain: string | null;
  tls: boolean | null;
  /** The public HTTP server's port, or null when it is off. */
  publicPort: number | null;
}

const truthy = (v: string) => /^(true|yes|on)$/i.test(v.trim());

export function readChannel(jvbConf: string | null, properties: string | null): ChannelConfig {
  const doc = jvbConf ? new HoconDoc(jvbConf) : null;
  const get = (...p: string[]) => doc?.get(['videobridge', ...p]);
  const legacy = new Map(parseProperties(properties ?? '').map((e) => [e.key, e.value] as const));
  const old = (k: string) => legacy.get(`org.jitsi.videobridge.rest.COLIBRI_WS_${k}`);
  const disable = old('DISABLE');
  const ws = disable !== undefined ? !truthy(disable) : truthy(get('websockets', 'enabled') ?? 'false');
  const tls = old('TLS') ?? get('websockets', 'tls');
  const port = Number(get('http-servers', 'public', 'port') ?? -1);
  return {
    sctp: !/^(false|no|off)$/i.test(get('sctp', 'enabled') ?? 'true'),
    websockets: ws,
    serverId: old('SERVER_ID') ?? get('websockets', 'server-id') ?? 'default-id',
    domain: old('DOMAIN') ?? get('websockets', 'domain') ?? null,
    tls: tls === undefined ? null : truthy(tls),
    publicPort: port > 0 ? port : null,
  };
}

/** The WebSocket handshake's answer key (RFC 6455, section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** One unmasked text frame (server to client), payload under 64 KiB. */
function textFrame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head =
    body.length < 126
      ? Buffer.from([0x81, body.length])
      : Buffer.from([0x81, 126, body.length >> 8, body.length & 255]);
  return Buffer.concat([head, body]);
}

/**
 * The bridge's public HTTP server with its colibri-ws endpoint: `/colibri-ws/<server-id>/<conference>/<endpoint>`
 * upgrades to a WebSocket and says hello in a text frame naming this stand-in bridge; any other path is 404.
 * A real bridge opens its websockets only for endpoints it allocated; the stand-in accepts any.
 */
export function serveColibriWs(cfg: ChannelConfig, nickname: string, log: (msg: string) => void): Server | null {
  if (!cfg.websockets || cfg.publicPort === null) return null;
  const prefix = `/colibri-ws/${cfg.serverId}/`;
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const path = (req.url ?? '').split('?')[0]!;
    const key = req.headers['sec-websocket-key'];
    if (!path.startsWith(prefix) || typeof key !== 'string' || !/websocket/i.test(req.headers.upgrade ?? '')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    socket.write(
      textFrame(
        JSON.stringify({
          colibriClass: 'ServerHello',
          standin: 'jitsi-scale lab stand-in',
          serverId: cfg.serverId,
          nickname,
        }),
      ),
    );
    log(`colibri-ws opened: ${path}`);
    socket.on('error', () => undefined);
    setTimeout(() => socket.end(), 2000).unref();
  });
  server.listen(cfg.publicPort, '0.0.0.0');
  log(`colibri websockets on: ${prefix} on port ${cfg.publicPort}`);
  return server;
}
