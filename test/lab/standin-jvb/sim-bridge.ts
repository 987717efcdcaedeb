/**
 * TEST STAND-IN for the Jitsi Videobridge daemon, shipped by the lab's stand-in
 * jitsi-videobridge2 package. It is not a videobridge: it reads the config the real bridge would
 * read, logs in to Prosody over STARTTLS with those credentials, joins the brewery MUC under its
 * nickname, serves /about/health on 127.0.0.1:8080, and logs failures (not-authorized, refused
 * connections, certificate errors) the way an operator would look for them.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readShards, type ShardConfig } from './bridge-config.js';

const LOG = process.env.JVB_LOG_FILE ?? '/var/log/jitsi/jvb.log';
const RETRY_MS = Number(process.env.JVB_RETRY_MS ?? 5000);

function log(level: 'INFO' | 'WARNING' | 'SEVERE', where: string, msg: string): void {
  const line = `${new Date().toISOString().replace('T', ' ').replace('Z', '')} ${level}: [${where}] ${msg}\n`;
  try {
    appendFileSync(LOG, line);
  } catch {
    process.stderr.write(line);
  }
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function configPath(): string {
  const m = /-Dconfig\.file=(\S+)/.exec(process.env.JAVA_SYS_PROPS ?? '');
  return m ? m[1]! : '/etc/jitsi/videobridge/jvb.conf';
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** Reads from a socket until `done` matches the text received so far. */
function waitFor(
  sock: Socket | TLSSocket,
  state: { buf: string },
  done: RegExp,
  timeoutMs = 10_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = done.exec(state.buf);
      if (m) {
        state.buf = state.buf.slice(m.index + m[0].length);
        cleanup();
        resolve(m);
        return true;
      }
      const err = /<stream:error>([\s\S]*?)<\/stream:error>/.exec(state.buf);
      if (err) {
        cleanup();
        reject(new Error(`stream error: ${/<([a-z-]+)[ /]/.exec(err[1]!)?.[1] ?? 'unknown'}`));
        return true;
      }
      return false;
    };
    const onData = (d: Buffer) => {
      state.buf += d.toString('utf8');
      check();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('connection closed by the server'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('timed out waiting for the server'));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
    };
    sock.on('data', onData);
    sock.on('close', onClose);
    check();
  });
}

function openStream(sock: Socket | TLSSocket, domain: string): void {
  sock.write(
    `<?xml version='1.0'?><stream:stream to='${esc(domain)}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
  );
}

interface Joined {
  sock: TLSSocket;
}

async function join(shard: ShardConfig): Promise<Joined> {
  const where = `MucClient id=${shard.id} hostname=${shard.hostname}`;
  const plain = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: shard.hostname, port: shard.port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const state = { buf: '' };
  openStream(plain, shard.domain);
  await waitFor(plain, state, /<\/stream:features>/);
  plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await waitFor(plain, state, /<proceed[^>]*\/>/);
  const sock = await new Promise<TLSSocket>((resolve, reject) => {
    const t = tlsConnect({
      socket: plain,
      servername: shard.domain,
      rejectUnauthorized: !shard.disableCertificateVerification,
    });
    t.once('secureConnect', () => resolve(t));
    t.once('error', (e: Error) => reject(new Error(`TLS: ${e.message}`)));
  });
  const tls = { buf: '' };
  openStream(sock, shard.domain);
  const features = await waitFor(sock, tls, /<stream:features>([\s\S]*?)<\/stream:features>/);
  if (!/PLAIN/.test(features[1]!)) throw new Error('the server offers no PLAIN mechanism over TLS');
  const auth = Buffer.from(`\0${shard.username}\0${shard.password}`).toString('base64');
  sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  const result = await waitFor(
    sock,
    tls,
    /<success[^>]*\/>|<success[^>]*>[\s\S]*?<\/success>|<failure[^>]*>([\s\S]*?)<\/failure>/,
  );
  if (result[0].startsWith('<failure')) {
    const condition = /<([a-z-]+)\s*\/>/.exec(result[1] ?? '')?.[1] ?? 'failure';
    throw new Error(`Failed to login: ${condition}`);
  }
  openStream(sock, shard.domain);
  await waitFor(sock, tls, /<\/stream:features>/);
  sock.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  const bound = await waitFor(sock, tls, /<iq[^>]*id=['"]bind1['"][^>]*>([\s\S]*?)<\/iq>/);
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound[1]!)?.[1] ?? '?';
  log('INFO', where, `Logged in as ${jid}`);
  const room = `${shard.mucJids.split(',')[0]!.trim()}/${shard.nickname}`;
  sock.write(`<presence to='${esc(room)}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
  const presence = await waitFor(
    sock,
    tls,
    /<presence[^>]*from=['"]([^'"]+)['"][^>]*>([\s\S]*?)<\/presence>|<presence[^>]*type=['"]error['"][\s\S]*?<\/presence>/,
  );
  if (/type=['"]error['"]/.test(presence[0])) {
    const condition = /<error[^>]*>\s*<([a-z-]+)/.exec(presence[0])?.[1] ?? 'error';
    throw new Error(`Failed to join the MUC ${room}: ${condition}`);
  }
  log('INFO', where, `Joined MUC: ${room}`);
  return { sock };
}

async function main(): Promise<void> {
  const jvbConfPath = configPath();
  const propsPath = '/etc/jitsi/videobridge/sip-communicator.properties';
  const { shards, notes } = readShards(readOrNull(jvbConfPath), jvbConfPath, readOrNull(propsPath), propsPath);
  log('INFO', 'Main', 'jitsi-scale lab TEST STAND-IN videobridge starting (not a real videobridge)');
  for (const n of notes) log('INFO', 'XmppClientConnectionConfig', n);
  if (shards.length === 0)
    log('WARNING', 'XmppClientConnectionConfig', 'no usable xmpp-client config: the bridge will not join any brewery');
  const joined = new Set<string>();

  const health = createServer((req, res) => {
    if (req.url === '/about/health') {
      const ok = shards.length > 0 && joined.size === shards.length;
      res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? {} : { error: 'not joined to every brewery' }));
      return;
    }
    if (req.url === '/about/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ name: 'JVB (jitsi-scale lab stand-in)', version: process.env.JVB_STANDIN_VERSION ?? 'lab' }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  health.listen(8080, '127.0.0.1');

  for (const shard of shards) {
    const where = `MucClient id=${shard.id} hostname=${shard.hostname}`;
    const loop = async (): Promise<void> => {
      try {
        const { sock } = await join(shard);
        joined.add(shard.id);
        sock.once('close', () => {
          joined.delete(shard.id);
          log('WARNING', where, 'connection to the XMPP server lost; reconnecting');
          setTimeout(() => void loop(), RETRY_MS);
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const msg =
          err.code === 'ECONNREFUSED'
            ? `Failed to connect to ${shard.hostname}:${shard.port}: Connection refused`
            : err.message;
        log('SEVERE', where, msg);
        setTimeout(() => void loop(), RETRY_MS);
      }
    };
    void loop();
  }
}

void main();
