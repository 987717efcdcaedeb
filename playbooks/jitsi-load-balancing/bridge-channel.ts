/**
 * Pure: the bridge channel (the data channel between a client and its bridge), as the bridge and
 * Jicofo read their settings, and the edits that give a bridge the channel the inventory asks for.
 *
 * Upstream facts (jitsi/jitsi-videobridge @ a29d97d1, jitsi/jicofo @ 7ebb13dc, 2026-08):
 * - SCTP on the bridge: `videobridge.sctp.enabled`, read from jvb.conf only, default true
 *   (jvb/src/main/kotlin/org/jitsi/videobridge/sctp/SctpConfig.kt; jvb/src/main/resources/reference.conf).
 * - SCTP in Jicofo: `jicofo.sctp.enabled`, default true (jicofo-common/src/main/resources/reference.conf,
 *   read by jicofo-common/src/main/kotlin/org/jitsi/jicofo/JicofoConfig.kt). Jicofo allocates SCTP
 *   on a bridge only when it is on.
 * - Colibri websockets: `videobridge.websockets.enabled` (default false), but the legacy
 *   `org.jitsi.videobridge.rest.COLIBRI_WS_DISABLE` in sip-communicator.properties comes first and
 *   wins, inverted; likewise COLIBRI_WS_SERVER_ID / COLIBRI_WS_DOMAIN / COLIBRI_WS_TLS over
 *   `server-id` (default "default-id"), `domain` and `tls`
 *   (jvb/src/main/kotlin/org/jitsi/videobridge/websocket/config/WebsocketServiceConfig.kt). The
 *   bridge advertises `wss://<domain>/colibri-ws/<server-id>/…`
 *   (jvb/src/main/kotlin/org/jitsi/videobridge/websocket/ColibriWebSocketService.kt), served by
 *   its public HTTP server, `videobridge.http-servers.public.port`, -1 (off) by default; the
 *   package's jvb.conf of 2025-03 … 2026-05 set it to 9090 with `domain = "<domain>:443"` and
 *   `tls = true` (debian/postinst; doc/web-sockets.md).
 * - Clients (lib-jitsi-meet JitsiConference.ts `_setBridgeChannel`) use SCTP when the offer has
 *   it and `bridgeChannel.preferSctp` is not false (default true since 2d90500a, 2024-07-02), and
 *   the websocket otherwise.
 */
import type { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import type { HoconEdit } from '../../src/modules/hocon/set-hocon.js';
import { getProperty, setProperties } from '../../src/modules/properties/properties.js';

export type BridgeChannel = 'sctp' | 'websocket';

export const WEBSOCKETS = ['videobridge', 'websockets'];
export const SCTP = ['videobridge', 'sctp'];
export const PUBLIC_HTTP = ['videobridge', 'http-servers', 'public'];
/** The public HTTP server's port the package used for websockets (debian/postinst 2025-03 … 2026-05). */
export const DEFAULT_WS_PORT = 9090;
export const DEFAULT_SERVER_ID = 'default-id';

const LEGACY_WS = 'org.jitsi.videobridge.rest.COLIBRI_WS_';
export const LEGACY_WS_DISABLE = `${LEGACY_WS}DISABLE`;

/** A HOCON boolean as the config library reads one (true/yes/on, false/no/off), else the default. */
function hoconBool(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (/^(true|yes|on)$/i.test(v.trim())) return true;
  if (/^(false|no|off)$/i.test(v.trim())) return false;
  return dflt;
}

/** Whether SCTP data channels are on in the bridge's jvb.conf (default on). */
export function bridgeSctpEnabled(jvb: HoconDoc | null): boolean {
  return hoconBool(jvb?.get([...SCTP, 'enabled']), true);
}

/** Whether Jicofo allocates SCTP (jicofo.conf `jicofo.sctp.enabled`, default on). */
export function jicofoSctpEnabled(jicofo: HoconDoc | null): boolean {
  return hoconBool(jicofo?.get(['jicofo', 'sctp', 'enabled']), true);
}

/** Where the bridge's websocket switch comes from, and its value. */
export interface WebsocketSetting {
  enabled: boolean;
  source: string;
}

/** Whether colibri websockets are on, as the bridge decides it: the legacy property first, then jvb.conf. */
export function websocketSetting(jvb: HoconDoc | null, properties: string | null): WebsocketSetting {
  const legacy = properties === null ? undefined : getProperty(properties, LEGACY_WS_DISABLE);
  if (legacy !== undefined)
    return {
      enabled: legacy.trim().toLowerCase() !== 'true',
      source: `sip-communicator.properties: ${LEGACY_WS_DISABLE}=${legacy.trim()}`,
    };
  const v = jvb?.get([...WEBSOCKETS, 'enabled']);
  return {
    enabled: hoconBool(v, false),
    source:
      v === undefined
        ? 'videobridge.websockets.enabled unset (off)'
        : `jvb.conf: videobridge.websockets.enabled = ${v}`,
  };
}

/** The server-id the bridge advertises in its websocket URLs (legacy property first). */
export function serverIdOf(jvb: HoconDoc | null, properties: string | null): string {
  const legacy = properties === null ? undefined : getProperty(properties, `${LEGACY_WS}SERVER_ID`);
  return legacy?.trim() || jvb?.get([...WEBSOCKETS, 'server-id']) || DEFAULT_SERVER_ID;
}

/** The port of the bridge's public HTTP server, where its websockets are served; null when it is off. */
export function publicPortOf(jvb: HoconDoc | null): number | null {
  const port = Number(jvb?.get([...PUBLIC_HTTP, 'port']) ?? -1);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

/**
 * A server-id nginx can route on and a URL path can carry as it is: letters, digits, dot, dash,
 * underscore. Anything else (a slash, a quote, `$`, a space, a brace) would need quoting in
 * nginx's config and escaping in the client's URL, so it is not used.
 */
const SAFE_SERVER_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function safeServerId(id: string): boolean {
  return SAFE_SERVER_ID.test(id) && id !== DEFAULT_SERVER_ID && !/^\.+$/.test(id);
}

/** A server-id made from an inventory name: unsafe characters become '-'. */
export function serverIdFrom(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48);
  return safeServerId(s) ? s : 'jvb';
}

/**
 * One server-id per bridge: the one it has when that is safe, not the package's `default-id`
 * (which the meet host's nginx routes to its own bridge) and no other bridge's; else one made
 * from its inventory name, made unique with a number. In inventory order, so a run gives the same
 * answer as the one before.
 */
export function assignServerIds(bridges: readonly { name: string; existing?: string }[]): Map<string, string> {
  const taken = new Set<string>();
  const out = new Map<string, string>();
  const keep = bridges.filter((b) => b.existing !== undefined && safeServerId(b.existing));
  const claimed = new Map<string, number>();
  for (const b of keep) claimed.set(b.existing!, (claimed.get(b.existing!) ?? 0) + 1);
  for (const b of bridges) {
    const own = b.existing !== undefined && safeServerId(b.existing) && claimed.get(b.existing) === 1;
    if (own) {
      out.set(b.name, b.existing!);
      taken.add(b.existing!);
    }
  }
  for (const b of bridges) {
    if (out.has(b.name)) continue;
    const base = serverIdFrom(b.name);
    let id = base;
    for (let n = 2; taken.has(id) || claimed.has(id); n++) id = `${base}-${n}`;
    out.set(b.name, id);
    taken.add(id);
  }
  return out;
}

/** What a bridge's channel settings are to become. */
export type ChannelWant = { channel: 'sctp' } | { channel: 'websocket'; serverId: string; domain: string };

/** The jvb.conf edits that give the bridge the channel it is to have (none when it has it already). */
export function channelHoconEdits(jvb: HoconDoc, want: ChannelWant): HoconEdit[] {
  if (want.channel === 'sctp') {
    // Off in jvb.conf only where jvb.conf turns them on; a legacy property is handled in the properties.
    return hoconBool(jvb.get([...WEBSOCKETS, 'enabled']), false)
      ? [{ base: WEBSOCKETS, values: { enabled: false } }]
      : [];
  }
  const values: Record<string, string | boolean> = {};
  const set = (key: string, value: string | boolean) => {
    if (jvb.get([...WEBSOCKETS, key]) !== String(value)) values[key] = value;
  };
  set('enabled', true);
  set('domain', `${want.domain}:443`);
  set('tls', true);
  set('server-id', want.serverId);
  const edits: HoconEdit[] = Object.keys(values).length ? [{ base: WEBSOCKETS, values }] : [];
  if (publicPortOf(jvb) === null) edits.push({ base: PUBLIC_HTTP, values: { port: DEFAULT_WS_PORT } });
  return edits;
}

/**
 * sip-communicator.properties with the legacy websocket keys it has made to agree with the channel
 * (they win over jvb.conf); keys it does not have are not added. Unchanged text when nothing is to do.
 */
export function channelLegacyEdit(properties: string | null, want: ChannelWant): string | null {
  if (properties === null) return null;
  const wanted: Record<string, string> =
    want.channel === 'sctp'
      ? { DISABLE: 'true' }
      : { DISABLE: 'false', SERVER_ID: want.serverId, DOMAIN: `${want.domain}:443`, TLS: 'true' };
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) {
    const have = getProperty(properties, `${LEGACY_WS}${k}`);
    const same = k === 'DISABLE' || k === 'TLS' ? have?.trim().toLowerCase() === v : have?.trim() === v;
    if (have !== undefined && !same) values[`${LEGACY_WS}${k}`] = v;
  }
  return Object.keys(values).length ? setProperties(properties, values) : properties;
}

/** What discovery knows of one bridge, for its channel. */
export interface ChannelInput {
  name: string;
  channel: BridgeChannel;
  /** Its jvb.conf (null: none yet, as before its package is installed) and properties. */
  jvb: HoconDoc | null;
  properties: string | null;
}

/**
 * Pure: each bridge's channel as it is to be, or the one sentence that refuses it. With `sctp`,
 * websockets go off only where SCTP is on at both ends; where it is off (on the bridge or in
 * Jicofo) the bridge is refused, since its conferences would be left with no bridge channel, and
 * the sentence names the two ways out. Switching SCTP on is left to the user: it changes Jicofo
 * for every conference of the shard and needs a Jicofo restart, which ends the running ones.
 */
export function planChannels(
  bridges: readonly ChannelInput[],
  jicofoSctp: boolean,
  domain: string,
): { channels: Map<string, ChannelWant>; refused: Map<string, string> } {
  const channels = new Map<string, ChannelWant>();
  const refused = new Map<string, string>();
  const ws = bridges.filter((b) => b.channel === 'websocket');
  const ids = assignServerIds(
    ws.map((b) => {
      const id = serverIdOf(b.jvb, b.properties);
      return { name: b.name, ...(id !== DEFAULT_SERVER_ID ? { existing: id } : {}) };
    }),
  );
  for (const b of bridges) {
    if (b.channel === 'websocket') {
      channels.set(b.name, { channel: 'websocket', serverId: ids.get(b.name)!, domain });
      continue;
    }
    const off = [
      ...(bridgeSctpEnabled(b.jvb) ? [] : [`videobridge.sctp.enabled = false in ${b.name}'s jvb.conf`]),
      ...(jicofoSctp ? [] : ["jicofo.sctp.enabled = false in the meet host's jicofo.conf"]),
    ];
    if (off.length)
      refused.set(
        b.name,
        `SCTP is off (${off.join(', ')}), so turning colibri websockets off would leave ${b.name}'s conferences without a bridge channel: set jitsi_bridge_channel: websocket to keep websockets routed per bridge, or turn SCTP on there and run again`,
      );
    else channels.set(b.name, { channel: 'sctp' });
  }
  return { channels, refused };
}
