import { FINGERPRINT_FN } from '../../src/engine/fingerprint.js';
import { splitSections } from '../../src/modules/probe-sections.js';
import { HTTP_GET, UDP_PORTS, jsonBody, parseHttp, parseUdpPorts } from '../jitsi-load-balancing/host-shell.js';
import {
  jicofoBridgesOf,
  parseBrewery,
  type JicofoBridgeView,
  type Occupant,
} from '../jitsi-load-balancing/brewery.js';

export { breweryLua, parseBrewery, type JicofoBridgeView, type Occupant } from '../jitsi-load-balancing/brewery.js';

/*
 * What status asks each host, one command per host per look: the bridge's private HTTP API on the
 * bridge, Prosody's view of the brewery and Jicofo's REST API on the meet host. Every request is
 * answered on the host itself (127.0.0.1), so nothing but SSH needs to be open.
 */

/** On a bridge: health, version, drain, the load metrics, /colibri/stats and its UDP ports; then the fingerprint of "$@". */
export const BRIDGE_PROBE = `${HTTP_GET}${FINGERPRINT_FN}${UDP_PORTS}
b=http://127.0.0.1:8080
echo '@@health'; get $b/about/health | head -n 2 | cut -c 1-200
echo '@@version'; get $b/about/version
echo '@@drain'; get $b/colibri/drain
echo '@@metrics'; get $b/metrics | grep -E '^(HTTP |jitsi_jvb_(conferences|local_endpoints|endpoints|stress|drain_mode|healthy) )'
echo '@@stats'; get $b/colibri/stats
echo '@@udp'; udp_ports
echo '@@fingerprint'; fingerprint "$@"
echo '@@end'`;

/**
 * On the meet host: the brewery as Prosody sees it ($1: Lua for its shell), Jicofo when $2 is 1,
 * then the fingerprint of the rest of the arguments.
 */
export const MEET_PROBE = `${HTTP_GET}${FINGERPRINT_FN}
echo '@@brewery'; timeout 20 prosodyctl shell "$1" 2>&1 | grep -E 'brewery:|no-room|no-muc' | head -n 1
if [ "$2" = 1 ]; then
  echo '@@jicofo-stats'; get http://127.0.0.1:8888/stats
  echo '@@jicofo-debug'; get http://127.0.0.1:8888/debug
fi
shift 2
echo '@@fingerprint'; fingerprint "$@"
echo '@@end'`;

/** Pure: `name value` lines of Prometheus text → name → number. */
export function parsePrometheus(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && !line.startsWith('#')) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** What a bridge's own API says. Absent fields: the API did not answer (or is off). */
export interface BridgeProbe {
  health: number;
  /** What a failing /about/health says (its `error`, or its text). */
  healthText?: string;
  version?: string;
  drain?: boolean;
  metrics: Record<string, number> | null;
  /** /colibri/stats: null with its status code when off (404) or not answering. */
  colibriStats: Record<string, unknown> | null;
  colibriStatsCode: number;
  /** The UDP ports something listens on; null when the probe did not say. */
  udpPorts?: number[] | null;
  /** What the host's plan depends on, as it is now (see fingerprint.ts). */
  fingerprint: string;
}

/** Pure: the bridge probe's output; null when it did not run to its end. */
export function parseBridgeProbe(stdout: string): BridgeProbe | null {
  const s = splitSections(stdout);
  if (!s.has('end')) return null;
  const version = jsonBody(parseHttp(s.get('version')));
  const drain = jsonBody(parseHttp(s.get('drain')));
  const metrics = parseHttp(s.get('metrics'));
  const stats = parseHttp(s.get('stats'));
  const health = parseHttp(s.get('health'));
  const healthDoc =
    health.code === 200
      ? null
      : (() => {
          try {
            return JSON.parse(health.body) as unknown;
          } catch {
            return null;
          }
        })();
  const healthText =
    healthDoc && typeof (healthDoc as { error?: unknown }).error === 'string'
      ? (healthDoc as { error: string }).error
      : health.body.trim();
  return {
    health: health.code,
    ...(health.code !== 200 && health.code !== 0 && healthText ? { healthText } : {}),
    ...(typeof version?.version === 'string' ? { version: version.version } : {}),
    ...(typeof drain?.drain === 'boolean' ? { drain: drain.drain } : {}),
    metrics: metrics.code === 200 ? parsePrometheus(metrics.body) : null,
    colibriStats: jsonBody(stats),
    colibriStatsCode: stats.code,
    udpPorts: s.has('udp') ? parseUdpPorts(s.get('udp')) : null,
    fingerprint: (s.get('fingerprint') ?? []).join('\n'),
  };
}

export interface MeetProbe {
  /** null: Prosody could not be asked. */
  occupants: Occupant[] | null;
  /** null: Jicofo is not installed, or its REST API did not answer. */
  jicofo: {
    stats: Record<string, unknown>;
    /** By member JID, lower-cased. */
    bridges: Map<string, JicofoBridgeView>;
  } | null;
  /** Why Jicofo could not be asked, when it is installed. */
  jicofoError?: string;
  fingerprint: string;
}

/** Pure: the meet probe's output; null when it did not run to its end. */
export function parseMeetProbe(stdout: string, jicofoAsked: boolean): MeetProbe | null {
  const s = splitSections(stdout);
  if (!s.has('end')) return null;
  const occupants = parseBrewery((s.get('brewery') ?? []).join('\n'));
  const fingerprint = (s.get('fingerprint') ?? []).join('\n');
  if (!jicofoAsked) return { occupants, jicofo: null, fingerprint };
  const statsAnswer = parseHttp(s.get('jicofo-stats'));
  const stats = jsonBody(statsAnswer);
  const debug = jsonBody(parseHttp(s.get('jicofo-debug')));
  if (!stats || !debug)
    return {
      occupants,
      jicofo: null,
      fingerprint,
      jicofoError:
        statsAnswer.code === 0
          ? "Jicofo's REST API (127.0.0.1:8888) does not answer"
          : `Jicofo's /stats answers ${statsAnswer.code}`,
    };
  return {
    occupants,
    jicofo: { stats, bridges: jicofoBridgesOf(debug) ?? new Map<string, JicofoBridgeView>() },
    fingerprint,
  };
}
