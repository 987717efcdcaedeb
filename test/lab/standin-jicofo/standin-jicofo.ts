/**
 * TEST STAND-IN for Jicofo, shipped by the lab's stand-in jicofo package. It is not Jicofo: it reads
 * jicofo.conf as Jicofo does, logs in to Prosody as the focus user, joins the brewery, follows the
 * bridges' presence (their `<stats>`), health-checks each bridge over XMPP as Jicofo does, marks a
 * bridge non-operational when a check fails (until the reset threshold has passed and a check
 * succeeds again), and serves /stats and /debug on 127.0.0.1:8888 in Jicofo's shapes.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import { attr, esc, login, XmppFailure, type Session } from '../standin-xmpp/xmpp-session.js';

const CONF = '/etc/jitsi/jicofo/jicofo.conf';
const LOG = process.env.JICOFO_LOG_FILE ?? '/var/log/jitsi/jicofo.log';
const HEALTH_MS = Number(process.env.JICOFO_HEALTH_INTERVAL_MS ?? 10_000);
const RESET_MS = Number(process.env.JICOFO_FAILURE_RESET_MS ?? 60_000);
const RETRY_MS = 5000;

function log(level: 'INFO' | 'WARNING' | 'SEVERE', where: string, msg: string, cause?: string): void {
  const stamp = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const line = `Jicofo ${stamp} ${level}: [${process.pid}] ${where}: ${msg}\n${cause ? `${cause}\n` : ''}`;
  try {
    appendFileSync(LOG, line);
  } catch {
    process.stderr.write(line);
  }
}

interface Bridge {
  jid: string;
  stats: Record<string, string>;
  healthy: boolean;
  operational: boolean;
  failedAt: number | null;
}

const text = readFileSync(CONF, 'utf8');
const doc = new HoconDoc(text);
const get = (...path: string[]) => doc.get(['jicofo', ...path]);
const domain = get('xmpp', 'client', 'domain') ?? `auth.${get('xmpp', 'client', 'xmpp-domain') ?? 'localhost'}`;
const brewery = get('bridge', 'brewery-jid') ?? '';
// As Jicofo reads it (jicofo-common JicofoConfig.kt, `jicofo.sctp.enabled`, default true in reference.conf).
const sctp = !/^(false|no|off)$/i.test(get('sctp', 'enabled') ?? 'true');
const bridges = new Map<string, Bridge>();
let session: Session | null = null;
let lost = 0;

function onPresence(stanza: string): void {
  const from = attr(stanza, 'from') ?? '';
  if (!from.toLowerCase().startsWith(`${brewery.toLowerCase()}/`) || from.endsWith('/focus')) return;
  if (attr(stanza, 'type') === 'unavailable') {
    if (bridges.delete(from)) log('INFO', 'BridgeSelector', `Removing bridge: ${from}`);
    return;
  }
  const stats = Object.fromEntries(
    [...stanza.matchAll(/<stat\s+name=['"]([^'"]*)['"]\s+value=['"]([^'"]*)['"]/g)].map((m) => [m[1]!, m[2]!]),
  );
  const known = bridges.get(from);
  if (known) known.stats = stats;
  else {
    bridges.set(from, { jid: from, stats, healthy: true, operational: true, failedAt: null });
    log('INFO', 'BridgeSelector', `Added new videobridge: ${from}`);
  }
}

const pending = new Map<string, (ok: boolean) => void>();
let nextId = 0;

function check(b: Bridge): void {
  if (!session) return;
  const id = `hc-${++nextId}`;
  const timer = setTimeout(() => answer(false), 5000);
  const answer = (ok: boolean) => {
    clearTimeout(timer);
    pending.delete(id);
    b.healthy = ok;
    if (!ok) {
      if (b.operational) log('WARNING', 'JvbDoctor', `Health check failed for ${b.jid}: marking it non-operational`);
      b.operational = false;
      b.failedAt = Date.now();
    } else if (!b.operational && b.failedAt !== null && Date.now() - b.failedAt >= RESET_MS) {
      b.operational = true;
      b.failedAt = null;
      log('INFO', 'JvbDoctor', `${b.jid} is healthy again: operational`);
    }
  };
  pending.set(id, answer);
  session.send(
    `<iq type='get' to='${esc(b.jid)}' id='${id}'><healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>`,
  );
}

function onIq(stanza: string): void {
  const done = pending.get(attr(stanza, 'id') ?? '');
  if (done) done(attr(stanza, 'type') === 'result');
}

async function connect(): Promise<void> {
  try {
    const s = await login({
      host: get('xmpp', 'client', 'hostname') ?? 'localhost',
      port: Number(get('xmpp', 'client', 'port') ?? 5222),
      domain,
      username: get('xmpp', 'client', 'username') ?? 'focus',
      password: get('xmpp', 'client', 'password') ?? '',
      verify: !/^true$/i.test(get('xmpp', 'client', 'disable-certificate-verification') ?? 'false'),
    });
    s.onStanza((st) => (st.startsWith('<presence') ? onPresence(st) : st.startsWith('<iq') ? onIq(st) : undefined));
    await s.join(`${brewery}/focus`);
    session = s;
    log('INFO', 'BridgeMucDetector', `Joined the bridge brewery ${brewery} as ${s.jid}`);
    s.sock.once('close', () => {
      session = null;
      lost += bridges.size;
      bridges.clear();
      log('WARNING', 'XmppProvider', 'connection to the XMPP server lost; reconnecting');
      setTimeout(() => void connect(), RETRY_MS);
    });
  } catch (e) {
    if (e instanceof XmppFailure) log('SEVERE', 'XmppProvider', e.message, e.logged);
    else log('SEVERE', 'XmppProvider', (e as Error).message);
    setTimeout(() => void connect(), RETRY_MS);
  }
}

const num = (v: string | undefined) => (v === undefined ? 0 : Number(v));

function debugOf(b: Bridge): Record<string, unknown> {
  return {
    drain: b.stats.drain === 'true',
    endpoints: num(b.stats.participants),
    'graceful-shutdown': b.stats.graceful_shutdown === 'true',
    healthy: b.healthy,
    operational: b.operational,
    region: b.stats.region ?? 'null',
    'relay-id': b.stats.relay_id ?? 'null',
    release: b.stats.release ?? 'null',
    'shutting-down': b.stats.shutting_down === 'true',
    stress: num(b.stats.stress_level),
    version: b.stats.version ?? 'null',
  };
}

createServer((req, res) => {
  const all = [...bridges.values()];
  const send = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/stats')
    send({
      bridge_selector: {
        bridge_count: all.length,
        operational_bridge_count: all.filter((b) => b.operational).length,
        in_shutdown_bridge_count: all.filter((b) => b.stats.graceful_shutdown === 'true').length,
        lost_bridges: lost,
        bridge_version_count: new Set(all.map((b) => b.stats.version)).size,
      },
    });
  else if (req.method === 'GET' && req.url === '/debug')
    send({
      bridge_selector: {
        strategy: 'SplitBridgeSelectionStrategy',
        lab_standin_sctp: sctp,
        bridge: Object.fromEntries(all.map((b) => [b.jid, debugOf(b)])),
      },
    });
  else if (req.method === 'GET' && req.url === '/about/health') res.writeHead(session ? 200 : 500).end();
  else res.writeHead(404).end();
}).listen(8888, '127.0.0.1');

log('INFO', 'Main', 'jitsi-scale lab TEST STAND-IN jicofo starting (not Jicofo)');
log('INFO', 'JicofoConfig', `SCTP ${sctp ? 'enabled' : 'disabled'} (jicofo.sctp.enabled)`);
setInterval(() => bridges.forEach(check), HEALTH_MS);
void connect();
