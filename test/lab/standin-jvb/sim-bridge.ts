/**
 * TEST STAND-IN for the Jitsi Videobridge daemon, shipped by the lab's stand-in
 * jitsi-videobridge2 package. It is not a videobridge: it reads the config the real bridge would
 * read, logs in to Prosody over STARTTLS with those credentials, joins the brewery MUC under its
 * nickname with its load in `<stats>` as a real bridge publishes it, serves the bridge's private
 * HTTP API on 127.0.0.1:8080 (health, version, drain, metrics, debug, and /colibri/stats when the
 * REST API is on), and logs failures (not-authorized, refused connections, certificate errors) in
 * the words a real bridge's log uses. `POST /lab-standin/load` is the lab's control to set its
 * conferences and endpoints; a real bridge has no such route.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readShards, type ShardConfig } from './bridge-config.js';
import {
  apiSwitches,
  initialState,
  presenceStats,
  prometheusText,
  statsOf,
  type ApiSwitches,
  type BridgeState,
} from './bridge-state.js';

const LOG = process.env.JVB_LOG_FILE ?? '/var/log/jitsi/jvb.log';
const RETRY_MS = Number(process.env.JVB_RETRY_MS ?? 5000);

/** A line as the bridge's java.util.logging format writes it; `cause` is the exception's line after it. */
function log(level: 'INFO' | 'WARNING' | 'SEVERE', where: string, msg: string, cause?: string): void {
  const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const line = `${stamp} ${level}: [${process.pid}] ${where}: ${msg}\n${cause ? `${cause}\n` : ''}`;
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
  room: string;
}

/** Why a login or join failed, as the bridge's log shows it: a message, and the exception line. */
class BridgeFailure extends Error {
  constructor(
    message: string,
    readonly logged: string,
  ) {
    super(message);
  }
}

async function join(shard: ShardConfig, bridge: BridgeState): Promise<Joined> {
  const where = mucClient(shard, 'run#338');
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
    t.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT/.test(e.code ?? '')
          ? new BridgeFailure(
              'Error connecting:',
              'javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target',
            )
          : new Error(`TLS: ${e.message}`),
      ),
    );
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
    throw new BridgeFailure(
      'Failed to login. Disconnecting to trigger a re-connect.',
      `org.jivesoftware.smack.sasl.SASLErrorException: SASLError using PLAIN: ${condition}`,
    );
  }
  openStream(sock, shard.domain);
  await waitFor(sock, tls, /<\/stream:features>/);
  sock.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  const bound = await waitFor(sock, tls, /<iq[^>]*id=['"]bind1['"][^>]*>([\s\S]*?)<\/iq>/);
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound[1]!)?.[1] ?? '?';
  log('INFO', where, `Logged in as ${jid}`);
  const room = `${shard.mucJids.split(',')[0]!.trim()}/${shard.nickname}`;
  sock.write(
    `<presence to='${esc(room)}'><x xmlns='http://jabber.org/protocol/muc'/>${presenceStats(bridge)}</presence>`,
  );
  const presence = await waitFor(
    sock,
    tls,
    /<presence[^>]*from=['"]([^'"]+)['"][^>]*>([\s\S]*?)<\/presence>|<presence[^>]*type=['"]error['"][\s\S]*?<\/presence>/,
  );
  if (/type=['"]error['"]/.test(presence[0])) {
    const condition = /<error[^>]*>\s*<([a-z-]+)/.exec(presence[0])?.[1] ?? 'error';
    throw new Error(`Failed to join the MUC ${room}: ${condition}`);
  }
  log('INFO', mucClient(shard, 'joinMuc#826'), `Joined MUC: ${room}`);
  return { sock, room };
}

const mucClient = (shard: ShardConfig, at: string) =>
  `[hostname=${shard.hostname} id=${shard.id}] MucClient$${at.startsWith('run') ? '3.' : ''}${at}`;

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => resolve(body));
  });
}

/** The bridge's private HTTP server: each route answers only when the bridge's config turns it on. */
function bridgeApi(state: BridgeState, apis: ApiSwitches, changed: () => void) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'GET /about/health' && apis.health) {
      sendJson(res, state.healthy ? 200 : 500, state.healthy ? {} : { error: 'not joined to every brewery' });
    } else if (route === 'GET /about/version' && apis.version) {
      sendJson(res, 200, { name: 'JVB (jitsi-scale lab stand-in)', version: state.version, os: 'Linux' });
    } else if (route === 'GET /colibri/drain' && apis.drain) {
      sendJson(res, 200, { drain: state.drain });
    } else if ((route === 'POST /colibri/drain/enable' || route === 'POST /colibri/drain/disable') && apis.drain) {
      state.drain = route.endsWith('enable');
      log('INFO', 'DrainResource', `Drain mode ${state.drain ? 'enabled' : 'disabled'}`);
      changed();
      res.writeHead(200).end();
    } else if (route === 'GET /metrics' && apis.prometheus) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(prometheusText(state));
    } else if (route === 'GET /colibri/stats' && apis.colibri) {
      sendJson(res, 200, statsOf(state));
    } else if (route === 'GET /debug' && apis.debug) {
      sendJson(res, 200, { shutdown_state: 'RUNNING', drain: state.drain, conferences: {} });
    } else if (route === 'POST /lab-standin/load') {
      const set = JSON.parse((await readBody(req)) || '{}') as Partial<
        Record<'conferences' | 'endpoints' | 'stress', number>
      >;
      if (set.conferences !== undefined) state.conferences = set.conferences;
      if (set.endpoints !== undefined) state.endpoints = set.endpoints;
      if (set.stress !== undefined) state.stress = set.stress;
      changed();
      sendJson(res, 200, statsOf(state));
    } else {
      res.writeHead(404).end();
    }
  };
}

/** How often the bridge publishes its stats in presence (a real bridge's stats interval). */
const PRESENCE_MS = 5000;

async function main(): Promise<void> {
  const jvbConfPath = configPath();
  const propsPath = '/etc/jitsi/videobridge/sip-communicator.properties';
  const jvbConf = readOrNull(jvbConfPath);
  const { shards, notes } = readShards(jvbConf, jvbConfPath, readOrNull(propsPath), propsPath);
  log('INFO', 'Main', 'jitsi-scale lab TEST STAND-IN videobridge starting (not a real videobridge)');
  for (const n of notes) log('INFO', 'XmppClientConnectionConfig', n);
  if (shards.length === 0)
    log('WARNING', 'XmppClientConnectionConfig', 'no usable xmpp-client config: the bridge will not join any brewery');
  const state = initialState(jvbConf, (process.env.JVB_STANDIN_VERSION ?? 'lab').replace(/-[^-]*$/, ''));
  const joined = new Map<string, Joined>();
  const publish = () => {
    state.healthy = shards.length > 0 && joined.size === shards.length;
    for (const j of joined.values()) j.sock.write(`<presence to='${esc(j.room)}'>${presenceStats(state)}</presence>`);
  };
  setInterval(publish, PRESENCE_MS).unref();
  createServer((req, res) => void bridgeApi(state, apiSwitches(jvbConf), publish)(req, res)).listen(8080, '127.0.0.1');

  for (const shard of shards) {
    const where = mucClient(shard, 'run#697');
    const loop = async (): Promise<void> => {
      try {
        const j = await join(shard, state);
        joined.set(shard.id, j);
        publish();
        j.sock.once('close', () => {
          joined.delete(shard.id);
          state.xmppDisconnects++;
          publish();
          log('WARNING', where, 'Closed on error: connection to the XMPP server lost');
          setTimeout(() => void loop(), RETRY_MS);
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (e instanceof BridgeFailure) log('WARNING', where, e.message, e.logged);
        else if (err.code === 'ECONNREFUSED')
          log(
            'WARNING',
            where,
            'Error connecting:',
            `org.jivesoftware.smack.SmackException$EndpointConnectionException: The following addresses failed: '${shard.hostname}:${shard.port}' failed because: java.net.ConnectException: Connection refused`,
          );
        else log('SEVERE', where, err.message);
        setTimeout(() => void loop(), RETRY_MS);
      }
    };
    void loop();
  }
}

void main();
