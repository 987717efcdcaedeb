import { hasNicknameLine } from '../jitsi-load-balancing/steps/patch-jvb-sh.js';
import {
  LAUNCHER,
  effectiveShard,
  layoutOf,
  legacyShards,
  type BridgeFiles,
} from '../jitsi-load-balancing/bridge-files.js';
import { bridgeSctpEnabled, serverIdOf, websocketSetting } from '../jitsi-load-balancing/bridge-channel.js';
import { chosenLocation, type ColibriLocation } from '../jitsi-load-balancing/colibri-routes.js';
import { listensFor, type ProsodyConfig } from '../jitsi-load-balancing/prosody-config.js';
import {
  accountFile,
  iterationProblem,
  passwordMatches,
  type ScramAccount,
} from '../jitsi-load-balancing/prosody-account.js';
import type { JicofoBridgeView } from '../jitsi-load-balancing/brewery.js';
import { upstreamVersion, type BridgePin } from '../jitsi-load-balancing/packages.js';
import { isPublicAddress } from './addresses.js';
import { parseHarvest, type HarvestView } from './harvest-log.js';
import { mediaPortOf, staticMappingsOf, stunServersOf } from '../jitsi-load-balancing/media-config.js';

/*
 * Pure: every problem operators hit that can be checked over SSH, one check each. A check says ok,
 * or names the problem with its evidence (a log line, a config value, never a secret) and the fix.
 */

export const CHECKS = {
  'xmpp-login': "the bridge's password against Prosody's account",
  certificate: "the meet host's certificate in the bridge's trust store",
  'brewery-jid': "MUC_JIDS against Jicofo's brewery-jid",
  'legacy-config': 'legacy shard lines that win over jvb.conf',
  websockets: 'colibri websockets against what the meet host routes',
  'xmpp-reach': "the bridge reaching Prosody's client port",
  version: "the bridge's version against the meet host's",
  nickname: 'a nickname of its own in the brewery',
  'rest-api': 'the REST API for what needs it',
  'valid-address': 'the addresses the bridge offers, by its health answer and its harvest log',
  'jvb-sh': 'the jvb.sh patch',
  'bridge-channel': 'a bridge channel for clients: SCTP on, or colibri websockets on',
  'jicofo-operational': "Jicofo's operational mark against the bridge's own health",
  'relay-release': "the bridge's release against Jicofo's when relays (octo) are on",
} as const;

export type CheckId = keyof typeof CHECKS;

export interface Finding {
  check: CheckId;
  host: string;
  ok: boolean;
  /** ok: what was checked; a problem: what is wrong. */
  text: string;
  evidence?: string;
  fix?: string;
}

/** What one command on a bridge read for the doctor. */
export interface BridgeProbe {
  /** TCP to the meet host's client port from the bridge. */
  reach: 'open' | 'closed';
  /** Lines of jvb.log since the bridge last started that name a failure. */
  log: string[];
  health: { code: number; body: string };
  colibriStatsCode: number;
  /** Every address on the bridge's interfaces. */
  addresses: string[];
  /** jvb.log's lines since the start about the addresses it gathered (see harvest-log.ts). */
  harvest: string[];
  /** The meet host's certificate against the bridge's trust store; null when not asked. */
  trust: { trusted: boolean; detail: string } | null;
  /** What on the bridge needs the REST API (a sidecar, an exporter, a shutdown hook). */
  restConsumers: string[];
}

export interface BridgeRead {
  name: string;
  /** The address the meet host reaches it on. */
  address: string;
  lost?: string;
  packages: Record<string, string>;
  files: BridgeFiles;
  /** /usr/share/jitsi-videobridge/jvb.sh as it is now, and whether the inventory wants it patched. */
  launcher: string | null;
  perStartNickname: boolean;
  probe: BridgeProbe | null;
}

export interface MeetRead {
  name: string;
  address: string;
  packages: Record<string, string>;
  prosody: ProsodyConfig;
  c2sPort: number;
  domain: string;
  breweryJid: string;
  /** Prosody's accounts, by user@host as the bridges log in (null: no such account). */
  accounts: ReadonlyMap<string, ScramAccount | null>;
  /** The active (uncommented) /colibri-ws locations of nginx's enabled sites, in file order; null: no site. */
  colibriLocations: ColibriLocation[] | null;
  /** jicofo.conf `jicofo.sctp.enabled` (default true). */
  jicofoSctp: boolean;
  /** config.js `bridgeChannel.preferSctp` on the meet host; undefined when it sets none (default true). */
  preferSctp: boolean | undefined;
  meetNickname: string | null;
  /** Jicofo's view of the bridges (its /debug, by lower-cased member JID), when Jicofo answers. */
  jicofo: ReadonlyMap<string, JicofoBridgeView> | null;
  /** The bridge version the meet host's Jitsi release pairs with (see packages.ts); absent: not known. */
  pin?: BridgePin;
  /** jicofo.octo.enabled in jicofo.conf (null: no jicofo.conf), and allow-mixed-versions. */
  jicofoOcto?: { enabled: boolean; mixedVersions: boolean } | null;
}

/** What Jicofo says of a bridge, for evidence: nothing when Jicofo is not there to ask. */
function jicofoSays(b: BridgeRead, meet: MeetRead): string {
  if (!meet.jicofo) return '';
  const nick = shardOf(b)?.values.MUC_NICKNAME;
  const v = nick ? meet.jicofo.get(`${meet.breweryJid}/${nick}`.toLowerCase()) : undefined;
  if (!v) return `; Jicofo does not list ${b.name} among its bridges`;
  return `; Jicofo sees it as ${v.healthy === false ? 'unhealthy' : 'healthy'} and ${v.operational === false ? 'not operational' : 'operational'}`;
}

const SETUP = 'run `jitsi-scale setup`';
const logLine = (log: string[], pattern: RegExp) =>
  log
    .filter((l) => pattern.test(l))
    .pop()
    ?.replace(/^\d{4}-\d\d-\d\d \S+ /, '');

/** Whether a bridge's password is the one Prosody holds, or why it was not checked. */
type LoginVerdict = boolean | { problem: string };

type Check = (
  b: BridgeRead,
  meet: MeetRead,
  all: readonly BridgeRead[],
  logins: ReadonlyMap<string, LoginVerdict>,
) => Omit<Finding, 'check' | 'host'>;

const shardOf = (b: BridgeRead) => effectiveShard(b.files);

/** The account a bridge logs in with (user@host, lower-cased) and its password; null when its config names none. */
function loginOf(b: BridgeRead, meet: MeetRead): { user: string; password: string } | null {
  const s = shardOf(b)?.values;
  if (!s?.USERNAME || !s.PASSWORD) return null;
  return { user: `${s.USERNAME}@${s.DOMAIN ?? `auth.${meet.domain}`}`.toLowerCase(), password: s.PASSWORD };
}

/** Each bridge's password against its Prosody account: PBKDF2 off the event loop, a count beyond the cap refused. */
async function loginVerdicts(meet: MeetRead, bridges: readonly BridgeRead[]): Promise<Map<string, LoginVerdict>> {
  const out = new Map<string, LoginVerdict>();
  await Promise.all(
    bridges.map(async (b) => {
      const login = loginOf(b, meet);
      const account = login ? meet.accounts.get(login.user) : null;
      if (!login || !account) return;
      const [name, host] = login.user.split('@') as [string, string];
      const problem = iterationProblem(account, meet.name, accountFile(name, host));
      out.set(b.name, problem ? { problem } : await passwordMatches(account, login.password));
    }),
  );
  return out;
}

const login: Check = (b, meet, _all, logins) => {
  const l = loginOf(b, meet);
  if (!l) return { ok: false, text: 'its config names no shard account', fix: SETUP };
  const user = l.user;
  const account = meet.accounts.get(user);
  const evidence = logLine(b.probe?.log ?? [], /not-authorized/);
  if (account === undefined)
    return { ok: true, text: `not checked: ${user} is not an account on ${meet.name}'s auth host` };
  if (account === null)
    return {
      ok: false,
      text: `Prosody on ${meet.name} has no account ${user}`,
      ...(evidence ? { evidence } : {}),
      fix: SETUP,
    };
  const verdict = logins.get(b.name);
  if (typeof verdict === 'object') return { ok: false, text: `not checked: ${verdict.problem}` };
  if (verdict) return { ok: true, text: `its password is the one Prosody holds for ${user}` };
  return {
    ok: false,
    text: `its password is not the one Prosody holds for ${user} (SASL not-authorized)`,
    evidence: evidence ?? `checked against the stored key of ${user} on ${meet.name}`,
    fix: `${SETUP} (it writes the shard's secret on every bridge), or set it with prosodyctl passwd ${user} on ${meet.name}`,
  };
};

const certificate: Check = (b) => {
  const verify = !/^true$/i.test(shardOf(b)?.values.DISABLE_CERTIFICATE_VERIFICATION ?? 'false');
  const pkix = logLine(b.probe?.log ?? [], /PKIX/);
  if (!verify) return { ok: true, text: 'certificate verification is off for its shard' };
  if (!b.probe?.trust) return { ok: true, text: "not checked: the meet host's certificate could not be read" };
  if (b.probe.trust.trusted && !pkix) return { ok: true, text: "it trusts the meet host's certificate" };
  return {
    ok: false,
    text: "it does not trust the meet host's certificate (PKIX path building failed)",
    evidence: pkix ?? `openssl verify: ${b.probe.trust.detail}`,
    fix: `${SETUP} with jitsi_verify_certificate: true (it puts the certificate in the bridge's trust store)`,
  };
};

const breweryJid: Check = (b, meet) => {
  const jids = shardOf(b)?.values.MUC_JIDS;
  if (!jids) return { ok: false, text: 'its config names no brewery (MUC_JIDS)', fix: SETUP };
  const list = jids.split(',').map((j) => j.trim().toLowerCase());
  if (list.includes(meet.breweryJid.toLowerCase()))
    return { ok: true, text: `MUC_JIDS is Jicofo's brewery ${meet.breweryJid}` };
  return {
    ok: false,
    text: `it joins ${jids}, but Jicofo looks for bridges in ${meet.breweryJid} ("no operational bridges")`,
    evidence: `MUC_JIDS = ${jids}; jicofo.conf: brewery-jid = ${meet.breweryJid}${jicofoSays(b, meet)}`,
    fix: SETUP,
  };
};

const legacyConfig: Check = (b) => {
  if (layoutOf(b.files) !== 'both') return { ok: true, text: 'one place holds its shard settings' };
  const legacy = legacyShards(b.files.properties)[0]!;
  return {
    ok: false,
    text: 'legacy org.jitsi.videobridge.xmpp.user.* lines in sip-communicator.properties win over the shards of jvb.conf',
    evidence: `sip-communicator.properties: org.jitsi.videobridge.xmpp.user.${legacy.id}.HOSTNAME=${legacy.values.HOSTNAME ?? '?'}`,
    fix: `${SETUP} (it comments the legacy lines out)`,
  };
};

/** Why clients of this bridge would use its websocket rather than SCTP; empty when they use SCTP. */
function websocketUsers(b: BridgeRead, meet: MeetRead): string[] {
  return [
    ...(bridgeSctpEnabled(b.files.jvb) ? [] : ['videobridge.sctp.enabled = false in its jvb.conf']),
    ...(meet.jicofoSctp ? [] : [`jicofo.sctp.enabled = false on ${meet.name}`]),
    ...(meet.preferSctp === false ? [`bridgeChannel.preferSctp: false in ${meet.name}'s config.js`] : []),
  ];
}

/** The location nginx picks for the bridge's websocket path (nginx's own order), and whether it leads to the bridge. */
function routeOf(b: BridgeRead, meet: MeetRead, id: string): { loc: ColibriLocation; toBridge: boolean } | null {
  const loc = chosenLocation(meet.colibriLocations ?? [], id);
  if (!loc) return null;
  const pass = loc.proxyPass ?? '';
  // A route by variable (http://$1:9090/…) leads wherever the path says: to the bridge, by its server-id.
  // Else it must name the bridge's address (an upstream name is not followed).
  return {
    loc,
    toBridge:
      (b.address !== '' && (pass.includes(`//${b.address}:`) || pass.includes(`//[${b.address}]:`))) ||
      /:\/\/\$\w/.test(pass),
  };
}

const websockets: Check = (b, meet) => {
  const ws = websocketSetting(b.files.jvb, b.files.properties);
  if (!ws.enabled) return { ok: true, text: 'colibri websockets are off' };
  const id = serverIdOf(b.files.jvb, b.files.properties);
  if (meet.colibriLocations === null)
    return { ok: true, text: `colibri websockets are on (no nginx site on ${meet.name} to compare)` };
  const route = routeOf(b, meet, id);
  if (route?.toBridge)
    return { ok: true, text: `colibri websockets are on, and ${meet.name}'s nginx routes /colibri-ws/${id}/ to it` };
  const users = websocketUsers(b, meet);
  const where = route
    ? `routes /colibri-ws/${id}/ elsewhere (${route.loc.text} → ${route.loc.proxyPass ?? '?'})`
    : `does not route /colibri-ws/${id}/`;
  if (!users.length)
    return {
      ok: true,
      text: `colibri websockets are on and ${meet.name}'s nginx ${where}; harmless while SCTP is on at the bridge and in Jicofo and config.js keeps preferSctp: only clients that cannot do SCTP lose their bridge channel`,
    };
  return {
    ok: false,
    text: `colibri websockets are on, but ${meet.name}'s nginx ${where}, and clients use the websocket (${users.join('; ')}): conferences on this bridge lose their bridge channel`,
    evidence: `${ws.source}; server-id ${id}${route ? `; nginx: ${route.loc.text}` : ''}`,
    fix: `${SETUP} with jitsi_bridge_channel: websocket (it routes /colibri-ws/<server-id>/ to each bridge), or turn SCTP on and run ${SETUP.replace('run ', '')}`,
  };
};

const bridgeChannel: Check = (b, meet) => {
  const off = [
    ...(bridgeSctpEnabled(b.files.jvb) ? [] : ['videobridge.sctp.enabled = false in its jvb.conf']),
    ...(meet.jicofoSctp ? [] : [`jicofo.sctp.enabled = false in ${meet.name}'s jicofo.conf`]),
  ];
  if (!off.length) return { ok: true, text: 'SCTP data channels are on at the bridge and in Jicofo' };
  const ws = websocketSetting(b.files.jvb, b.files.properties);
  if (ws.enabled)
    return { ok: true, text: `SCTP is off (${off.join(', ')}); colibri websockets carry the bridge channel` };
  return {
    ok: false,
    text: `SCTP is off and colibri websockets are off: clients of this bridge get no bridge channel (lib-jitsi-meet: "Neither SCTP nor a websocket is available")`,
    evidence: `${off.join('; ')}; ${ws.source}`,
    fix: `turn SCTP on (videobridge.sctp.enabled and jicofo.sctp.enabled), or ${SETUP} with jitsi_bridge_channel: websocket`,
  };
};

const reach: Check = (b, meet) => {
  const where = `${meet.address}:${meet.c2sPort}`;
  if (!listensFor(meet.prosody.c2sInterfaces, meet.address)) {
    const at = meet.prosody.c2sInterfacesAt;
    return {
      ok: false,
      text: `Prosody on ${meet.name} takes clients on ${meet.prosody.c2sInterfaces} only`,
      evidence: `c2s_interfaces = ${meet.prosody.c2sInterfaces}${at ? ` (${at.file}:${at.line})` : ''}`,
      fix: `${SETUP} (it binds Prosody for the bridges)`,
    };
  }
  if (b.probe?.reach === 'open') return { ok: true, text: `it reaches ${where}` };
  return {
    ok: false,
    text: `it cannot open TCP ${where}: a firewall is in the way`,
    evidence:
      logLine(b.probe?.log ?? [], /Connection refused|timed out|EndpointConnectionException/) ??
      `TCP connect from ${b.name} to ${where} failed`,
    fix: `${SETUP} (it opens ${meet.c2sPort}/tcp on ${meet.name} to the bridges)`,
  };
};

/** The version a bridge should run: the release's pin, else the meet host's own bridge's. */
function wantedVersion(meet: MeetRead): { version: string; why: string } | null {
  if (meet.pin?.version) return { version: meet.pin.version, why: meet.pin.why };
  const own = meet.packages['jitsi-videobridge2'];
  return own ? { version: own, why: "the meet host's own bridge" } : null;
}

const version: Check = (b, meet) => {
  const mine = b.packages['jitsi-videobridge2'];
  const wanted = wantedVersion(meet);
  if (!mine) return { ok: false, text: 'jitsi-videobridge2 is not installed', fix: SETUP };
  if (!wanted) return { ok: true, text: `it runs ${upstreamVersion(mine)} (no release on ${meet.name} to compare)` };
  if (upstreamVersion(mine) === upstreamVersion(wanted.version))
    return { ok: true, text: `it runs ${upstreamVersion(mine)}, the version of ${meet.name}'s release` };
  return {
    ok: false,
    text: `it runs ${upstreamVersion(mine)} while ${meet.name}'s release pairs with ${upstreamVersion(wanted.version)} (${wanted.why})`,
    evidence: `dpkg: jitsi-videobridge2 ${mine} on ${b.name}; ${wanted.version} wanted`,
    fix: `${SETUP} (it installs that version), or apt-get install jitsi-videobridge2=${wanted.version} on ${b.name}`,
  };
};

const nickname: Check = (b, meet, all) => {
  const nick = shardOf(b)?.values.MUC_NICKNAME;
  if (!nick) return { ok: false, text: 'its config gives it no nickname', fix: SETUP };
  const same = all
    .filter((o) => o !== b && shardOf(o)?.values.MUC_NICKNAME?.toLowerCase() === nick.toLowerCase())
    .map((o) => o.name);
  if (meet.meetNickname?.toLowerCase() === nick.toLowerCase()) same.push(`${meet.name}'s own bridge`);
  if (!same.length) return { ok: true, text: `its nickname ${nick} is its own` };
  return {
    ok: false,
    text: `its nickname ${nick} is also used by ${same.join(', ')}: only one of them can be in the brewery`,
    evidence: `MUC_NICKNAME = ${nick} on ${[b.name, ...same].join(' and ')}`,
    fix: `${SETUP} (it gives each bridge a nickname of its own)`,
  };
};

const restApi: Check = (b) => {
  const on =
    b.probe?.colibriStatsCode === 200 ||
    /^true$/i.test(b.files.jvb?.get(['videobridge', 'apis', 'rest', 'enabled']) ?? '');
  const needs = b.probe?.restConsumers ?? [];
  if (on) return { ok: true, text: 'the REST API is on' };
  if (!needs.length) return { ok: true, text: 'the REST API is off, and nothing on the bridge needs it' };
  return {
    ok: false,
    text: `the REST API is off, but ${needs.join(', ')} needs it (/colibri/stats and graceful shutdown answer 404)`,
    evidence: `GET 127.0.0.1:8080/colibri/stats answers ${b.probe?.colibriStatsCode ?? 0}`,
    fix: 'set videobridge.apis.rest.enabled = true (and videobridge.rest.shutdown.enabled = true for graceful shutdown) in jvb.conf, then restart the bridge',
  };
};

/** What the bridge offers, in words: the public addresses its log and its interfaces show. */
function offered(b: BridgeRead, view: HarvestView): string[] {
  const own = (b.probe?.addresses ?? []).filter(isPublicAddress);
  const bound = view.bound.map((a) => a.replace(/:\d+\/\w+$/, '').replace(/^\[(.*)\]$/, '$1'));
  return [
    ...view.stun.filter((s) => isPublicAddress(s.public)).map((s) => `${s.public} (found through STUN ${s.server})`),
    ...view.staticMappings
      .filter((m) => isPublicAddress(m.public))
      .map((m) => `${m.public} (static mapping of ${m.local})`),
    ...(bound.length ? own.filter((a) => bound.includes(a)) : own).map((a) => `${a} (its own)`),
  ];
}

/** The evidence: the health answer, the harvest lines that matter, the addresses, Jicofo's view. */
function addressEvidence(b: BridgeRead, meet: MeetRead, view: HarvestView): string {
  const health = b.probe?.health;
  const parts = [
    health && health.code
      ? `/about/health answers ${health.code}${health.body.trim() ? `: ${health.body.trim()}` : ''}`
      : '/about/health does not answer',
    ...view.lines.filter((l) => /failed|Failed|Discarding|No single-port|Not using STUN/.test(l)).slice(-3),
    `addresses: ${(b.probe?.addresses ?? []).join(', ') || 'none'}`,
  ];
  return parts.join('; ') + jicofoSays(b, meet);
}

const NAT_FIX =
  'set jitsi_public_address to the public address in front of it and run `jitsi-scale setup` (a static mapping), or set videobridge.health.require-valid-address = false';

/** The media port could not be bound, by the health answer or the log. */
function bindFailure(b: BridgeRead, view: HarvestView): { text: string; fix: string } | null {
  const health = b.probe?.health ?? { code: 0, body: '' };
  if (!/Failed to bind single-port/i.test(health.body) && !(view.bindFailures.length > 0 && view.bound.length === 0))
    return null;
  const port = mediaPortOf(b.files).port ?? '?';
  return {
    text: `it could not bind its media port (UDP ${port}): no media at all`,
    fix: `free UDP ${port} on the bridge (another process holds it), or choose another jitsi_media_port and run \`jitsi-scale setup\``,
  };
}

/** A harvest that failed, by the health answer (or, with no answer, by the log); null when it did not. */
function harvestFailure(b: BridgeRead, view: HarvestView, required: boolean): { text: string; fix: string } | null {
  const health = b.probe?.health ?? { code: 0, body: '' };
  const stun = stunServersOf(b.files);
  const servers = stun.join(', ') || 'its STUN servers';
  const bind = bindFailure(b, view);
  if (bind) return bind;
  if (/STUN failed/i.test(health.body))
    return {
      text: `address discovery through STUN (${servers}) failed while videobridge.health.require-stun is on`,
      fix: `let the bridge reach ${servers} over UDP, or set jitsi_public_address to the public address in front of it`,
    };
  const noAddress = health.code !== 200 && /valid IP/i.test(health.body);
  const byLog = health.code === 0 && required && view.lines.length > 0 && offered(b, view).length === 0;
  if (!noAddress && !byLog) return null;
  const why = !stun.length
    ? 'no STUN and no static mapping gives it one'
    : view.stunFailed === false
      ? 'STUN answered with no public address'
      : `STUN (${servers}) found no public address`;
  return {
    text: `it has no address it may offer (${why}): ${noAddress ? 'its health check fails' : 'its log shows none, and its health does not answer'}, and clients outside cannot reach its media`,
    fix: NAT_FIX,
  };
}

const validAddress: Check = (b, meet) => {
  const required = !/^false$/i.test(b.files.jvb?.get(['videobridge', 'health', 'require-valid-address']) ?? 'true');
  const view = parseHarvest(b.probe?.harvest ?? []);
  const failure = harvestFailure(b, view, required);
  if (failure) return { ok: false, ...failure, evidence: addressEvidence(b, meet, view) };
  const offers = offered(b, view);
  const health = b.probe?.health.code ?? 0;
  if (health === 200)
    return { ok: true, text: `its health check passes${offers.length ? `; it offers ${offers.join(', ')}` : ''}` };
  if (health === 0 && !view.lines.length) {
    // No answer and no log to read: the addresses and the config are all there is.
    const mapped = staticMappingsOf(b.files).filter((m) => isPublicAddress(m.public));
    const own = (b.probe?.addresses ?? []).filter(isPublicAddress);
    if (!required || own.length || mapped.length || stunServersOf(b.files).length)
      return { ok: true, text: 'not checked by its health (no answer): its config gives it a way to a public address' };
    return {
      ok: false,
      text: 'it has only private addresses and no STUN or static mapping while require-valid-address is on: its health check fails',
      evidence: addressEvidence(b, meet, view),
      fix: NAT_FIX,
    };
  }
  return {
    ok: true,
    text: `its addresses are not what fails${health ? ` its health (${health})` : ''}${offers.length ? `; it offers ${offers.join(', ')}` : ''}`,
  };
};

const jvbSh: Check = (b) => {
  if (!b.perStartNickname)
    return { ok: true, text: 'the nickname policy is stable: jvb.sh is as the package ships it' };
  if (hasNicknameLine(b.launcher)) return { ok: true, text: 'jvb.sh carries the per-start nickname line' };
  return {
    ok: false,
    text: 'the per-start nickname line is gone from jvb.sh (a package install or upgrade rewrote the launcher)',
    evidence: `${LAUNCHER}: no "jitsi-scale: fresh MUC nickname" line`,
    fix: SETUP,
  };
};

/** Jicofo's entry for a bridge in its /debug, by the bridge's brewery nickname. */
function jicofoEntry(b: BridgeRead, meet: MeetRead): JicofoBridgeView | undefined {
  const nick = shardOf(b)?.values.MUC_NICKNAME;
  return nick ? meet.jicofo?.get(`${meet.breweryJid}/${nick}`.toLowerCase()) : undefined;
}

/*
 * Jicofo marks a bridge non-operational when one of its XMPP health checks fails or times out
 * (twice: it retries once), and keeps the mark for at least jicofo.bridge.failure-reset-threshold
 * (1 minute) after the last failure; a timed-out check moves no conference (jicofo
 * jicofo-selector/.../bridge/BridgeSelector.kt healthCheckTimedOut, Bridge.kt isOperational,
 * jicofo-selector/src/main/resources/reference.conf). /debug shows it per bridge as `operational`.
 */
const jicofoOperational: Check = (b, meet) => {
  if (!meet.jicofo) return { ok: true, text: `not checked: Jicofo on ${meet.name} did not answer /debug` };
  const v = jicofoEntry(b, meet);
  if (!v) return { ok: true, text: 'not checked: Jicofo does not list it among its bridges' };
  const health = b.probe?.health.code ?? 0;
  if (v.operational !== false) return { ok: true, text: 'Jicofo counts it as operational' };
  if (health !== 200)
    return {
      ok: true,
      text: `Jicofo marks it non-operational, and its own health answers ${health} too (see the other checks)`,
    };
  return {
    ok: false,
    text: `Jicofo marks it non-operational, so it gets no new conferences, while its own /about/health answers 200: Jicofo's health checks over XMPP fail or time out`,
    evidence: `Jicofo /debug: operational = false, healthy = ${v.healthy === false ? 'false' : 'true'}; GET 127.0.0.1:8080/about/health on ${b.name}: 200`,
    fix: `look in /var/log/jitsi/jicofo.log on ${meet.name} for its health checks of ${b.name} (timed out, or failed); a mark that lasts beyond jicofo.bridge.failure-reset-threshold (1 minute) means Jicofo's checks do not get an answer in time: check the XMPP path (Prosody's load on ${meet.name}, ${b.name}'s connection to ${meet.address}:${meet.c2sPort}); restarting the bridge makes Jicofo see it afresh`,
  };
};

/** Relays (octo) on the bridge: videobridge.relay.enabled, or the older videobridge.octo.enabled (jvb RelayConfig.kt). */
function bridgeRelays(b: BridgeRead): boolean {
  const get = (k: string) => b.files.jvb?.get(['videobridge', k, 'enabled']) ?? '';
  return /^true$/i.test(get('relay')) || /^true$/i.test(get('octo'));
}

/*
 * With relays on, Jicofo puts bridges of one version only in a conference unless
 * jicofo.octo.allow-mixed-versions (testing only), comparing the version and release each bridge
 * reports (jicofo jicofo-common/src/main/resources/reference.conf `octo`, BridgeSelector.kt); and
 * jicofo.octo.enabled must agree with the bridges' relay setting (the same reference.conf; jvb
 * jvb/src/main/resources/reference.conf `videobridge.relay.enabled`).
 */
const relayRelease: Check = (b, meet) => {
  const jicofo = meet.jicofoOcto?.enabled ?? false;
  const mine = bridgeRelays(b);
  if (!jicofo && !mine) return { ok: true, text: 'relays (octo) are off' };
  if (jicofo !== mine)
    return {
      ok: false,
      text: `relays are ${jicofo ? 'on in Jicofo and off on the bridge' : 'on on the bridge and off in Jicofo'}: the two must agree, or conferences split across bridges fail`,
      evidence: `jicofo.conf: jicofo.octo.enabled = ${jicofo}; jvb.conf: videobridge.relay.enabled = ${mine}`,
      fix: jicofo
        ? `set videobridge.relay.enabled = true (with a relay-id and region) in ${b.name}'s jvb.conf and restart it, or turn jicofo.octo.enabled off`
        : `set jicofo.octo.enabled = true in ${meet.name}'s jicofo.conf, or videobridge.relay.enabled = false on ${b.name}`,
    };
  const wanted = wantedVersion(meet);
  const runs = b.packages['jitsi-videobridge2'];
  if (!wanted || !runs || upstreamVersion(runs) === upstreamVersion(wanted.version) || meet.jicofoOcto?.mixedVersions)
    return { ok: true, text: `relays are on, and it runs ${runs ? upstreamVersion(runs) : 'an unknown version'}` };
  const seen = jicofoEntry(b, meet);
  return {
    ok: false,
    text: `relays are on and it runs ${upstreamVersion(runs)}, not ${upstreamVersion(wanted.version)} of Jicofo's release: Jicofo does not put bridges of different versions in one conference, so conferences are not split onto it`,
    evidence: `dpkg: jitsi-videobridge2 ${runs} on ${b.name}; ${wanted.why}: ${wanted.version}${seen?.version ? `; Jicofo /debug: version ${seen.version}${seen.release ? `, release ${seen.release}` : ''}` : ''}`,
    fix: `${SETUP} (it installs ${wanted.version}), or apt-get install jitsi-videobridge2=${wanted.version} on ${b.name}`,
  };
};

const BY_ID: Record<CheckId, Check> = {
  'xmpp-login': login,
  certificate,
  'brewery-jid': breweryJid,
  'legacy-config': legacyConfig,
  websockets,
  'xmpp-reach': reach,
  version,
  nickname,
  'rest-api': restApi,
  'valid-address': validAddress,
  'jvb-sh': jvbSh,
  'bridge-channel': bridgeChannel,
  'jicofo-operational': jicofoOperational,
  'relay-release': relayRelease,
};

/** Every check on every bridge that could be read; a bridge that could not is one finding. */
export async function runChecks(meet: MeetRead, bridges: readonly BridgeRead[]): Promise<Finding[]> {
  const logins = await loginVerdicts(meet, bridges);
  return bridges.flatMap((b): Finding[] => {
    if (b.lost) return [{ check: 'xmpp-reach', host: b.name, ok: false, text: `cannot be checked: ${b.lost}` }];
    if (!b.packages['jitsi-videobridge2'])
      return [{ check: 'version', host: b.name, ok: false, text: 'jitsi-videobridge2 is not installed', fix: SETUP }];
    return (Object.keys(BY_ID) as CheckId[]).map((check) => ({
      check,
      host: b.name,
      ...BY_ID[check](b, meet, bridges, logins),
    }));
  });
}
