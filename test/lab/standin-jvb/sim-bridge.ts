/**
 * TEST STAND-IN for the Jitsi Videobridge daemon, shipped by the lab's stand-in
 * jitsi-videobridge2 package. It is not a videobridge: it reads the config the real bridge would
 * read, logs in to Prosody over STARTTLS with those credentials, joins the brewery MUC under its
 * nickname with its load in `<stats>` as a real bridge publishes it, serves the bridge's private
 * HTTP API on 127.0.0.1:8080 (health, version, drain, metrics, debug, and /colibri/stats when the
 * REST API is on), and logs failures (not-authorized, refused connections, certificate errors) in
 * the words a real bridge's log uses. It binds its media port (UDP, as configured) and echoes every
 * datagram sent there (the lab's media probe), and logs its harvest as ice4j does. `POST
 * /lab-standin/load` is the lab's control to set its conferences and endpoints, and `GET
 * /lab-standin/candidates` tells the candidates it would advertise; a real bridge has neither. `POST /lab-standin/xmpp-health` {"unanswered":true} leaves
 * Jicofo's health checks unanswered (as when they time out).
 */
import { createSocket } from 'node:dgram';
import { appendFileSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { attr, esc, login, XmppFailure, type Session } from '../standin-xmpp/xmpp-session.js';
import { readShards, type ShardConfig } from './bridge-config.js';
import { readChannel, serveColibriWs, type ChannelConfig } from './bridge-channel.js';
import { candidatesOf, harvestLogLines, readMedia, type MediaConfig } from './bridge-media.js';
import {
  addressProblem,
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

interface Joined {
  session: Session;
  room: string;
}

const HEALTH_NS = 'http://jitsi.org/protocol/healthcheck';
/** A lab control (POST /lab-standin/xmpp-health): Jicofo's health checks go unanswered, as when they time out. */
let healthChecksUnanswered = false;

/** Logs in with the shard's credentials and joins its brewery; answers Jicofo's health checks. */
async function join(shard: ShardConfig, bridge: BridgeState): Promise<Joined> {
  const session = await login({
    host: shard.hostname,
    port: shard.port,
    domain: shard.domain,
    username: shard.username,
    password: shard.password,
    verify: !shard.disableCertificateVerification,
  });
  log('INFO', mucClient(shard, 'run#351'), `Authenticated, resumed=false (as ${session.jid})`);
  const room = `${shard.mucJids.split(',')[0]!.trim()}/${shard.nickname}`;
  session.onStanza((stanza) => {
    if (!stanza.startsWith('<iq') || attr(stanza, 'type') !== 'get' || !stanza.includes(HEALTH_NS)) return;
    if (healthChecksUnanswered) return;
    const to = esc(attr(stanza, 'from') ?? '');
    const id = esc(attr(stanza, 'id') ?? '');
    session.send(
      bridge.healthy
        ? `<iq type='result' to='${to}' id='${id}'/>`
        : `<iq type='error' to='${to}' id='${id}'><error type='cancel'><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    );
  });
  await session.join(room, presenceStats(bridge));
  log('INFO', mucClient(shard, 'joinMuc#826'), `Joined MUC: ${room}`);
  return { session, room };
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

/** The media port bound, echoing each datagram to its sender; the error when it cannot be bound. */
function bindMedia(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const udp = createSocket('udp4');
    udp.on('message', (msg, from) => udp.send(msg, from.port, from.address));
    udp.once('error', (e: NodeJS.ErrnoException) =>
      resolve(e.code === 'EADDRINUSE' ? 'java.net.BindException: Address already in use' : String(e)),
    );
    udp.bind(port, '0.0.0.0', () => resolve(null));
  });
}

/** Binds the media port, logs the harvest as ice4j does; the bind failure, if any. */
async function harvest(media: MediaConfig, local: readonly string[]): Promise<string | null> {
  const failed = await bindMedia(media.port);
  const bound = failed ? [] : local;
  for (const l of harvestLogLines(media, bound, failed)) log('INFO', l.where, l.msg);
  const c = candidatesOf(media, bound);
  log(
    'INFO',
    'TEST STAND-IN',
    `advertised candidates: host ${c.host.join(', ') || 'none'}; mapped ${c.srflx.map((x) => x.address).join(', ') || 'none'}`,
  );
  return failed;
}

/** The bridge's private HTTP server: each route answers only when the bridge's config turns it on. */
function bridgeApi(
  state: BridgeState,
  apis: ApiSwitches,
  changed: () => void,
  channel: ChannelConfig,
  candidates: () => unknown,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'GET /about/health' && apis.health) {
      sendJson(res, state.healthy ? 200 : 500, state.healthy ? {} : { error: state.healthError });
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
      sendJson(res, 200, {
        shutdown_state: 'RUNNING',
        drain: state.drain,
        conferences: {},
        lab_standin_channel: channel,
      });
    } else if (route === 'GET /lab-standin/candidates') {
      sendJson(res, 200, candidates());
    } else if (route === 'POST /lab-standin/xmpp-health') {
      healthChecksUnanswered =
        (JSON.parse((await readBody(req)) || '{}') as { unanswered?: boolean }).unanswered === true;
      sendJson(res, 200, { unanswered: healthChecksUnanswered });
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
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  const props = readOrNull(propsPath);
  const media = readMedia(jvbConf, props);
  // Host candidates: every address but loopback and link-local (ice4j's defaults), IPv4 here.
  const hostAddresses = local.filter((a) => !a.includes(':') && !a.startsWith('127.') && !a.startsWith('169.254.'));
  const bindFailed = await harvest(media, hostAddresses);
  // In the real check's order: a valid address first, then the single-port bind (JvbHealthChecker.kt).
  const noAddress = addressProblem(local, jvbConf, props) ?? (bindFailed ? 'Failed to bind single-port' : null);
  if (noAddress) log('WARNING', 'JvbHealthChecker', `Health check failed: ${noAddress}`);
  const joined = new Map<string, Joined>();
  const publish = () => {
    state.healthError =
      noAddress ?? (shards.length > 0 && joined.size === shards.length ? null : 'not joined to every brewery');
    state.healthy = state.healthError === null;
    for (const j of joined.values()) j.session.send(`<presence to='${esc(j.room)}'>${presenceStats(state)}</presence>`);
  };
  setInterval(publish, PRESENCE_MS).unref();
  const channel = readChannel(jvbConf, readOrNull(propsPath));
  log(
    'INFO',
    'BridgeChannel',
    `SCTP ${channel.sctp ? 'enabled' : 'disabled'}; colibri websockets ${channel.websockets ? `enabled (server-id ${channel.serverId}, domain ${channel.domain ?? 'unset'})` : 'disabled'}`,
  );
  if (!channel.sctp && !channel.websockets)
    log('WARNING', 'BridgeChannel', 'neither SCTP nor colibri websockets: clients get no bridge channel');
  serveColibriWs(channel, shards[0]?.nickname ?? 'none', (m) => log('INFO', 'ColibriWebSocketService', m));
  const candidates = () => ({
    port: media.port,
    bound: !bindFailed,
    ...candidatesOf(media, bindFailed ? [] : hostAddresses),
  });
  createServer(
    (req, res) => void bridgeApi(state, apiSwitches(jvbConf), publish, channel, candidates)(req, res),
  ).listen(8080, '127.0.0.1');

  for (const shard of shards) {
    const where = mucClient(shard, 'run#697');
    const loop = async (): Promise<void> => {
      try {
        const j = await join(shard, state);
        joined.set(shard.id, j);
        publish();
        j.session.sock.once('close', () => {
          joined.delete(shard.id);
          state.xmppDisconnects++;
          publish();
          log('WARNING', where, 'Closed on error: connection to the XMPP server lost');
          setTimeout(() => void loop(), RETRY_MS);
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (e instanceof XmppFailure) log('WARNING', where, e.message, e.logged);
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
