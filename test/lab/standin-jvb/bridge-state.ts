import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import { readMedia } from './bridge-media.js';

/**
 * TEST STAND-IN. What the simulated bridge reports about itself: drain, load and health, in the
 * names a real videobridge uses in its brewery presence (`<stats>`), its `/metrics` (namespace
 * `jitsi_jvb`) and its `/colibri/stats`.
 */
export interface BridgeState {
  version: string;
  region: string | null;
  drain: boolean;
  conferences: number;
  endpoints: number;
  /** Set by the lab control; otherwise derived from the endpoints. */
  stress: number | null;
  healthy: boolean;
  /** Why the health check fails, as /about/health says it. */
  healthError: string | null;
  xmppDisconnects: number;
}

/** Which of the bridge's private HTTP APIs its jvb.conf turns on (a real bridge's defaults). */
export interface ApiSwitches {
  /** `videobridge.apis.rest.enabled`: /colibri/stats and the other COLIBRI REST routes. Off by default. */
  colibri: boolean;
  drain: boolean;
  prometheus: boolean;
  version: boolean;
  health: boolean;
  debug: boolean;
}

const on = (v: string | undefined, dflt: boolean): boolean => (v === undefined ? dflt : /^(true|yes|on)$/i.test(v));

export function apiSwitches(jvbConf: string | null): ApiSwitches {
  const doc = jvbConf ? new HoconDoc(jvbConf) : null;
  const get = (...path: string[]) => doc?.get(['videobridge', ...path]);
  const rest = (api: string) => on(get('rest', api, 'enabled'), true);
  return {
    colibri: on(get('apis', 'rest', 'enabled'), false),
    drain: rest('drain'),
    prometheus: rest('prometheus'),
    version: rest('version'),
    health: rest('health'),
    debug: rest('debug'),
  };
}

export function initialState(jvbConf: string | null, version: string): BridgeState {
  const doc = jvbConf ? new HoconDoc(jvbConf) : null;
  const get = (...path: string[]) => doc?.get(['videobridge', ...path]);
  return {
    version,
    region: get('relay', 'region') ?? null,
    drain: on(get('initial-drain-mode'), false),
    conferences: 0,
    endpoints: 0,
    stress: null,
    healthy: false,
    healthError: 'starting',
    xmppDisconnects: 0,
  };
}

export const stressOf = (s: BridgeState): number => s.stress ?? Math.min(1, s.endpoints / 100);

/** The statistics a real bridge publishes (in presence and /colibri/stats), as name → value. */
export function statsOf(s: BridgeState): Record<string, string | number | boolean> {
  return {
    stress_level: stressOf(s),
    drain: s.drain,
    graceful_shutdown: false,
    shutting_down: false,
    healthy: s.healthy,
    version: s.version,
    conferences: s.conferences,
    participants: s.endpoints,
    local_endpoints: s.endpoints,
    largest_conference: s.conferences > 0 ? Math.ceil(s.endpoints / s.conferences) : 0,
    ...(s.region ? { region: s.region } : {}),
  };
}

const xmlAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

/** The `<stats>` element of the bridge's brewery presence (the COLIBRI stats extension). */
export function presenceStats(s: BridgeState): string {
  const stats = Object.entries(statsOf(s))
    .map(([k, v]) => `<stat name='${xmlAttr(k)}' value='${xmlAttr(String(v))}'/>`)
    .join('');
  return `<stats xmlns='http://jitsi.org/protocol/colibri'>${stats}</stats>`;
}

/** A number as Prometheus' Java client writes it: always with a fraction (3.0, 0.17). */
const float = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(n));

/** Prometheus text, in the names (and `jitsi_jvb` namespace) of the bridge's metrics container. */
export function prometheusText(s: BridgeState): string {
  const gauge = (name: string, help: string, value: number | boolean) =>
    `# HELP jitsi_jvb_${name} ${help}\n# TYPE jitsi_jvb_${name} gauge\njitsi_jvb_${name} ${float(Number(value))}\n`;
  return (
    gauge('conferences', 'The current number of conferences.', s.conferences) +
    gauge('local_endpoints', 'The number of local endpoints.', s.endpoints) +
    gauge('endpoints', 'The number of endpoints, including relayed ones.', s.endpoints) +
    gauge('stress', 'Current stress (between 0 and 1).', stressOf(s)) +
    gauge('drain_mode', 'Whether the bridge is in drain shutdown mode.', s.drain) +
    gauge('graceful_shutdown', 'Whether the bridge is in graceful shutdown mode.', false) +
    gauge('healthy', 'Whether the bridge is healthy.', s.healthy) +
    `# HELP jitsi_jvb_xmpp_disconnects_total Number of XMPP disconnects.\n# TYPE jitsi_jvb_xmpp_disconnects_total counter\njitsi_jvb_xmpp_disconnects_total ${float(s.xmppDisconnects)}\n`
  );
}

/** IPv4 ranges Java calls loopback, link-local or site-local: [first octet, second from, second to]. */
const NOT_VALID_V4: [number, number, number][] = [
  [127, 0, 255],
  [10, 0, 255],
  [172, 16, 31],
  [192, 168, 168],
  [169, 254, 254],
];

/** Java's view of an address as the health check uses it: site-local, link-local and loopback are not valid. */
export function isValidAddress(address: string): boolean {
  if (address.includes(':')) {
    const head = parseInt(address.split(':')[0] || '0', 16);
    // ::1, fe80::/10 (link-local) and fec0::/10 (site-local) are out; fc00::/7 is not site-local to Java.
    return address !== '::1' && (head & 0xffc0) !== 0xfe80 && (head & 0xffc0) !== 0xfec0;
  }
  const [a, b] = address.split('.').map(Number) as [number, number];
  return !NOT_VALID_V4.some(([first, from, to]) => a === first && b >= from && b <= to);
}

/**
 * Why the bridge's health check fails for want of an address it could offer, or null: with
 * `videobridge.health.require-valid-address` on (the default), a bridge needs a local address
 * that is not private, or a static NAT mapping to a public one.
 */
export function addressProblem(
  localAddresses: readonly string[],
  jvbConf: string | null,
  properties: string | null,
): string | null {
  const required = on(
    jvbConf ? new HoconDoc(jvbConf).get(['videobridge', 'health', 'require-valid-address']) : undefined,
    true,
  );
  if (!required) return null;
  // Any mapping harvester with a valid public address counts (JvbHealthChecker.hasValidAddress).
  const mapped = readMedia(jvbConf, properties)
    .mappings.filter((m) => m.local !== m.public)
    .map((m) => m.public);
  if ([...localAddresses, ...mapped].some(isValidAddress)) return null;
  return 'No valid IP addresses available for harvesting.';
}
