import type { Drift } from '../../src/engine/inspect.js';
import { upstreamVersion } from '../jitsi-load-balancing/packages.js';
import type { Occupant, BridgeProbe, MeetProbe, JicofoBridgeView } from './probes.js';

/*
 * Pure: the shard as status shows it, from what the inspection and the probes read. Every
 * problem is a sentence naming the host; the exit code follows from them.
 */

export interface BridgeStatus {
  host: string;
  address: string;
  reachable: boolean;
  /** The nickname its config gives (what it joins the brewery as); null when it has none. */
  nickname: string | null;
  /** In the brewery as Prosody sees it; null when Prosody could not be asked. */
  inBrewery: boolean | null;
  /** healthy, unhealthy (with the HTTP code), or no answer on the bridge's private API. */
  health: 'healthy' | 'unhealthy' | 'no answer' | null;
  /** The installed jitsi-videobridge2 package, and what the bridge's /about/version says. */
  version: string | null;
  reportedVersion: string | null;
  drain: boolean | null;
  stress: number | null;
  conferences: number | null;
  endpoints: number | null;
  /** Where the load figures came from. */
  loadFrom: ('presence' | 'metrics' | 'colibri-stats')[];
  /** Whether /colibri/stats answers (the REST API is on). */
  restApi: boolean | null;
  /** Jicofo's view, when Jicofo answers; null otherwise. */
  jicofo: { listed: boolean; healthy: boolean | null; operational: boolean | null } | null;
  /** The UDP port its config gives it for media, and whether it listens there (null: not known). */
  mediaPort: number | null;
  mediaListening: boolean | null;
  drift: Drift[];
  problems: string[];
}

export interface MeetStatus {
  host: string;
  address: string;
  reachable: boolean;
  prosody: string | null;
  jicofo: { installed: string | null; answering: boolean; stats: Record<string, unknown> | null };
  /** The meet host's own videobridge package, the version the bridges should run. */
  bridgeVersion: string | null;
  drift: Drift[];
  problems: string[];
}

export interface StatusDoc {
  time: string;
  domain: string | null;
  brewery: string | null;
  meet: MeetStatus;
  bridges: BridgeStatus[];
  /** Brewery occupants with a bridge's statistics that no inventory host accounts for. */
  strangers: { nickname: string; jid: string; version: string | null }[];
  /** Every problem, "host: sentence". */
  problems: string[];
  /** 0 all well, 2 something is wrong, 3 a host could not be reached. */
  exitCode: 0 | 2 | 3;
}

export interface HostRead {
  name: string;
  address: string;
  /** Why it could not be read (unreachable, or a failed read or plan). */
  lost?: { status: 'unreachable' | 'failed'; reason: string };
  packages: Record<string, string>;
  drift: Drift[];
}

export interface BridgeRead extends HostRead {
  nickname: string | null;
  /** The media port its config gives it (null: unreadable or not read). */
  mediaPort?: number | null;
  probe: BridgeProbe | null;
  probeError?: string;
}

export interface StatusInput {
  time: Date;
  domain: string | null;
  brewery: string | null;
  /** Discovery refused to read the shard: why (the meet host lacks Prosody…). */
  refused: string | null;
  meet: HostRead & { probe: MeetProbe | null; probeError?: string };
  bridges: BridgeRead[];
  /** The meet host's own bridge nickname, if it runs one (it accounts for that occupant). */
  meetBridgeNickname: string | null;
  /** --limit: the bridges to report (all are read: nicknames and strangers need every one). */
  shown?: ReadonlySet<string>;
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};
const bool = (v: unknown): boolean | null =>
  v === true || v === 'true' ? true : v === false || v === 'false' ? false : null;

/** The upstream version: no epoch, no Debian revision. */
export const shortVersion = (v: string | null | undefined): string | null => (v ? upstreamVersion(v) : null);

interface Load {
  drain: boolean | null;
  stress: number | null;
  conferences: number | null;
  endpoints: number | null;
  loadFrom: BridgeStatus['loadFrom'];
}

/** Where a source keeps each figure: the bridge's /metrics, its /colibri/stats, its presence. */
const SOURCES = {
  metrics: {
    conferences: ['jitsi_jvb_conferences'],
    endpoints: ['jitsi_jvb_local_endpoints', 'jitsi_jvb_endpoints'],
    stress: ['jitsi_jvb_stress'],
    drain: ['jitsi_jvb_drain_mode'],
  },
  'colibri-stats': {
    conferences: ['conferences'],
    endpoints: ['local_endpoints', 'participants'],
    stress: ['stress_level'],
    drain: ['drain'],
  },
  presence: {
    conferences: ['conferences'],
    endpoints: ['local_endpoints', 'participants'],
    stress: ['stress_level'],
    drain: ['drain'],
  },
} as const;

/** The bridge's load: from its own API where it answers, else from its brewery presence. */
function loadOf(probe: BridgeProbe | null, occupant: Occupant | undefined): Load {
  const load: Load = { drain: null, stress: null, conferences: null, endpoints: null, loadFrom: [] };
  const found: [keyof typeof SOURCES, Record<string, unknown> | null | undefined][] = [
    ['metrics', probe?.metrics],
    ['colibri-stats', probe?.colibriStats],
    ['presence', occupant?.stats],
  ];
  for (const [source, values] of found) {
    if (!values || Object.keys(values).length === 0) continue;
    load.loadFrom.push(source);
    const first = (keys: readonly string[]) => keys.map((k) => values[k]).find((v) => v !== undefined);
    const names = SOURCES[source];
    load.conferences ??= num(first(names.conferences));
    load.endpoints ??= num(first(names.endpoints));
    load.stress ??= num(first(names.stress));
    const drain = first(names.drain);
    load.drain ??= drain === 1 || drain === 0 ? drain === 1 : bool(drain);
  }
  if (probe?.drain !== undefined) load.drain = probe.drain;
  return load;
}

const driftSentence = (d: Drift[]): string => {
  const what = [...new Set(d.map((x) => x.description))];
  return `drift: ${what.length === 1 ? what[0] : `${what.length} changes (${what.slice(0, 2).join('; ')}${what.length > 2 ? '; …' : ''})`} (run jitsi-scale setup)`;
};

function jicofoView(meet: MeetProbe | null, member: string | null): BridgeStatus['jicofo'] {
  if (!meet?.jicofo) return null;
  const v: JicofoBridgeView | undefined = member ? meet.jicofo.bridges.get(member) : undefined;
  return { listed: !!v, healthy: v ? (v.healthy ?? null) : null, operational: v ? (v.operational ?? null) : null };
}

// eslint-disable-next-line complexity -- one row, one branch per thing that can be wrong with a bridge
function bridgeStatus(
  b: BridgeRead,
  input: StatusInput,
  occupants: Occupant[] | null,
  twins: Map<string, string[]>,
): BridgeStatus {
  const problems: string[] = [];
  const member = b.nickname && input.brewery ? `${input.brewery}/${b.nickname}`.toLowerCase() : null;
  const occupant = member ? occupants?.find((o) => o.jid.toLowerCase() === member) : undefined;
  const inBrewery = occupants === null || !b.nickname ? (occupants === null ? null : false) : !!occupant;
  const probe = b.lost ? null : b.probe;
  const load = loadOf(probe, occupant);
  const version = b.packages['jitsi-videobridge2'] ?? null;
  const reference = input.meet.packages['jitsi-videobridge2'] ?? null;
  const health: BridgeStatus['health'] = b.lost
    ? null
    : !probe || probe.health === 0
      ? 'no answer'
      : probe.health === 200
        ? 'healthy'
        : 'unhealthy';
  const jicofo = b.lost ? null : jicofoView(input.meet.probe, member);
  const mediaPort = b.mediaPort ?? null;
  const listening = mediaPort === null || !probe?.udpPorts ? null : probe.udpPorts.includes(mediaPort);
  if (b.lost) problems.push(b.lost.status === 'unreachable' ? `unreachable: ${b.lost.reason}` : b.lost.reason);
  else {
    if (!version) problems.push('jitsi-videobridge2 is not installed (run jitsi-scale setup)');
    else if (!b.nickname) problems.push('its config names no shard to join (run jitsi-scale setup)');
    const shared = b.nickname ? (twins.get(b.nickname.toLowerCase()) ?? []).filter((h) => h !== b.name) : [];
    if (shared.length)
      problems.push(
        `nickname ${b.nickname} is also used by ${shared.join(', ')}: only one of them can be in the brewery`,
      );
    if (version && inBrewery === false && b.nickname) problems.push(`not in the brewery as ${b.nickname}`);
    if (version && health === 'unhealthy')
      problems.push(
        `unhealthy: /about/health answers ${probe!.health}${probe!.healthText ? ` (${probe!.healthText})` : ''}`,
      );
    if (version && health === 'no answer')
      problems.push(`its private API (127.0.0.1:8080) does not answer${b.probeError ? `: ${b.probeError}` : ''}`);
    if (version && reference && shortVersion(version) !== shortVersion(reference))
      problems.push(
        `runs ${shortVersion(version)} while the meet host runs ${shortVersion(reference)}: Jicofo does not mix versions`,
      );
    if (jicofo && version && b.nickname) {
      if (!jicofo.listed) problems.push('Jicofo does not list it among its bridges');
      else if (jicofo.healthy === false) problems.push('Jicofo sees it as unhealthy');
      else if (jicofo.operational === false) problems.push('Jicofo sees it as not operational');
    }
    if (version && health === 'healthy' && listening === false)
      problems.push(`nothing listens on UDP ${b.mediaPort}, its media port: clients get no media`);
    if (b.drift.length) problems.push(driftSentence(b.drift));
  }
  return {
    host: b.name,
    address: b.address,
    reachable: b.lost?.status !== 'unreachable',
    nickname: b.nickname,
    inBrewery: b.lost ? null : inBrewery,
    health,
    version,
    reportedVersion: probe?.version ?? null,
    ...load,
    restApi: probe ? probe.colibriStatsCode === 200 : null,
    jicofo,
    mediaPort,
    mediaListening: listening,
    drift: b.drift,
    problems,
  };
}

function meetStatus(input: StatusInput): MeetStatus {
  const m = input.meet;
  const problems: string[] = [];
  if (m.lost) problems.push(m.lost.status === 'unreachable' ? `unreachable: ${m.lost.reason}` : m.lost.reason);
  else if (input.refused) problems.push(input.refused);
  else {
    if (m.probe && m.probe.occupants === null)
      problems.push("Prosody's shell (prosodyctl shell) could not be asked for the brewery");
    if (!m.probe && m.probeError) problems.push(`cannot read the brewery: ${m.probeError}`);
    if (m.packages.jicofo && m.probe?.jicofoError) problems.push(`Jicofo is installed, but ${m.probe.jicofoError}`);
    if (m.drift.length) problems.push(driftSentence(m.drift));
  }
  return {
    host: m.name,
    address: m.address,
    reachable: m.lost?.status !== 'unreachable',
    prosody: m.packages.prosody ?? null,
    jicofo: {
      installed: m.packages.jicofo ?? null,
      answering: !!m.probe?.jicofo,
      stats: m.probe?.jicofo?.stats ?? null,
    },
    bridgeVersion: m.packages['jitsi-videobridge2'] ?? null,
    drift: m.drift,
    problems,
  };
}

/** Pure: the whole status document. */
export function shardStatus(input: StatusInput): StatusDoc {
  const occupants = input.meet.lost || input.refused ? null : (input.meet.probe?.occupants ?? null);
  const twins = new Map<string, string[]>();
  for (const b of input.bridges)
    if (b.nickname && !b.lost)
      twins.set(b.nickname.toLowerCase(), [...(twins.get(b.nickname.toLowerCase()) ?? []), b.name]);
  const bridges = input.bridges
    .map((b) => bridgeStatus(b, input, occupants, twins))
    .filter((b) => !input.shown || input.shown.has(b.host));
  const known = new Set(
    [...input.bridges.map((b) => b.nickname), input.meetBridgeNickname]
      .filter((n): n is string => !!n)
      .map((n) => n.toLowerCase()),
  );
  // An occupant that publishes a bridge's statistics is a bridge; one that does not (Jicofo) is not.
  const strangers = (occupants ?? [])
    .filter((o) => Object.keys(o.stats).length > 0 && !known.has(o.nickname.toLowerCase()))
    .map((o) => ({ nickname: o.nickname, jid: o.jid, version: o.stats.version ?? null }));
  const meet = meetStatus(input);
  const problems = [
    ...meet.problems.map((p) => `${meet.host}: ${p}`),
    ...bridges.flatMap((b) => b.problems.map((p) => `${b.host}: ${p}`)),
    ...strangers.map(
      (s) =>
        `brewery: ${s.nickname} is in the brewery, but no host of the inventory is configured with that nickname (a forgotten or cloned bridge?)`,
    ),
  ];
  const unreachable = !meet.reachable || bridges.some((b) => !b.reachable);
  return {
    time: input.time.toISOString(),
    domain: input.domain,
    brewery: input.brewery,
    meet,
    bridges,
    strangers,
    problems,
    exitCode: unreachable ? 3 : problems.length ? 2 : 0,
  };
}
