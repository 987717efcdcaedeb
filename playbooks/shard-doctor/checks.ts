import { hasNicknameLine } from '../jitsi-load-balancing/steps/patch-jvb-sh.js';
import {
  LAUNCHER,
  effectiveShard,
  layoutOf,
  legacyShards,
  websocketsEnabled,
  type BridgeFiles,
} from '../jitsi-load-balancing/bridge-files.js';
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
  'valid-address': 'an address the bridge may offer (require-valid-address)',
  'jvb-sh': 'the jvb.sh patch',
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
  /** The meet host's certificate against the bridge's trust store; null when not asked. */
  trust: { trusted: boolean; detail: string } | null;
  /** What on the bridge needs the REST API (a sidecar, an exporter, a shutdown hook). */
  restConsumers: string[];
}

export interface BridgeRead {
  name: string;
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
  /** nginx `location` lines for /colibri-ws on the meet host; null when nginx has no site config. */
  colibriLocations: string[] | null;
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

const websockets: Check = (b, meet) => {
  if (!websocketsEnabled(b.files.jvb)) return { ok: true, text: 'colibri websockets are off' };
  const routes = meet.colibriLocations;
  const localOnly = routes !== null && routes.length > 0 && routes.every((l) => /default-id/.test(l));
  if (!localOnly)
    return {
      ok: true,
      text:
        routes === null
          ? `colibri websockets are on (no nginx site on ${meet.name} to compare)`
          : 'colibri websockets are on, and nginx routes them by bridge',
    };
  return {
    ok: false,
    text: `colibri websockets are on, but ${meet.name}'s nginx routes /colibri-ws/ to its own bridge only: conferences on this bridge lose their bridge channel`,
    evidence: `jvb.conf: videobridge.websockets.enabled = true; nginx: ${routes[0]!.trim()}`,
    fix: `${SETUP} (it turns them off), or route /colibri-ws/<server-id>/ to each bridge in nginx`,
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

/** The public addresses a static NAT mapping in the bridge's config gives it. */
function mappedAddresses(files: BridgeFiles): string[] {
  return [
    ...(files.jvbConf ?? '').matchAll(/public-address\s*[=:]\s*"?([0-9a-fA-F.:]+)"?/g),
    ...(files.properties ?? '').matchAll(/^\s*org\.ice4j\.ice\.harvest\.NAT_HARVESTER_PUBLIC_ADDRESS\s*[=:]\s*(\S+)/gm),
  ].map((m) => m[1]!);
}

const validAddress: Check = (b, meet) => {
  const required = !/^false$/i.test(b.files.jvb?.get(['videobridge', 'health', 'require-valid-address']) ?? 'true');
  if (!required) return { ok: true, text: 'require-valid-address is off' };
  const addresses = b.probe?.addresses ?? [];
  const usable = [...addresses, ...mappedAddresses(b.files)].filter(isPublicAddress);
  if (usable.length) return { ok: true, text: `it has an address it may offer (${usable[0]})` };
  return {
    ok: false,
    text: 'it has only private addresses while videobridge.health.require-valid-address is on: its health check fails',
    evidence:
      (/valid IP/.test(b.probe?.health.body ?? '')
        ? `/about/health: ${b.probe!.health.body.trim()}`
        : `addresses: ${addresses.join(', ') || 'none'}`) + jicofoSays(b, meet),
    fix: 'map its public address (ice4j.harvest.mapping.static-mappings in jvb.conf), or set videobridge.health.require-valid-address = false',
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
