/**
 * Pure reading and editing of a videobridge's shard settings, in either layout: the
 * `videobridge.apis.xmpp-client.configs.<id>` block of jvb.conf (HOCON, keys case-insensitive) or
 * the legacy `org.jitsi.videobridge.xmpp.user.<id>.*` lines of sip-communicator.properties, which
 * win over jvb.conf when present.
 */
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { hoconFileProblem } from '../../src/modules/hocon/hocon-problem.js';
import { editHocon, type HoconEditResult } from '../../src/modules/hocon/set-hocon.js';
import { parseProperties, setProperties } from '../../src/modules/properties/properties.js';
import { HostError } from '../../src/transport/host.js';
import { channelHoconEdits, type ChannelWant } from './bridge-channel.js';

export const JVB_DIR = '/etc/jitsi/videobridge';
export const JVB_CONF = `${JVB_DIR}/jvb.conf`;
export const SIP_PROPERTIES = `${JVB_DIR}/sip-communicator.properties`;
export const LAUNCHER = '/usr/share/jitsi-videobridge/jvb.sh';
/** Where the 2020 recipe says the launcher is; real installs do not have it, some old ones might. */
export const OLD_LAUNCHER = '/usr/share/jitsi/jvb/jvb.sh';

/**
 * How jvb.conf or sip-communicator.properties is made when this tool creates it: it holds the
 * shard's secret, so not world-readable (0640), and readable by the bridge through its group. The
 * package runs the bridge as user jvb (debian/jitsi-videobridge2.service: User=jvb) whose primary
 * group is jitsi; its postinst makes jvb with `useradd -r -g jitsi`, deletes the old jvb group,
 * and chowns /etc/jitsi/videobridge to jvb:jitsi with mode 750 (jitsi/jitsi-videobridge,
 * debian/postinst, commit a29d97d). A file that exists keeps its owner and mode.
 */
export const SECRET_FILE = { mode: 0o640, group: 'jitsi' } as const;

export const CONFIGS_PATH = ['videobridge', 'apis', 'xmpp-client', 'configs'];
export const LEGACY_PREFIX = 'org.jitsi.videobridge.xmpp.user.';
export const SHARD_KEYS = [
  'HOSTNAME',
  'PORT',
  'DOMAIN',
  'USERNAME',
  'PASSWORD',
  'MUC_JIDS',
  'MUC_NICKNAME',
  'DISABLE_CERTIFICATE_VERIFICATION',
] as const;
export type ShardKey = (typeof SHARD_KEYS)[number];
export type ShardValues = Partial<Record<ShardKey, string>>;

export interface BridgeFiles {
  jvbConf: string | null;
  properties: string | null;
  /** jvb.conf parsed (once, by bridgeFiles), or null when there is none. */
  jvb: HoconDoc | null;
}

/**
 * The bridge's files as read from `host`, jvb.conf parsed once for every reader after. A jvb.conf
 * the bridge could not read either is refused with a HostError naming that host, the file, the
 * line and the column.
 */
export function bridgeFiles(host: string, jvbConf: string | null, properties: string | null): BridgeFiles {
  let jvb: HoconDoc | null = null;
  if (jvbConf !== null) {
    try {
      jvb = new HoconDoc(jvbConf);
    } catch (e) {
      throw new HostError(
        host,
        `${hoconFileProblem(JVB_CONF, host, e)}; fix it by hand (the bridge cannot read it either)`,
      );
    }
  }
  return { jvbConf, properties, jvb };
}

/** No bridge files at all. */
export const NO_BRIDGE_FILES: BridgeFiles = { jvbConf: null, properties: null, jvb: null };

export type Layout = 'current' | 'legacy' | 'both' | 'none';

export interface ShardSource {
  /** Block id ("shard" on package installs). */
  id: string;
  values: ShardValues;
}

/**
 * The shard blocks of jvb.conf, in file order, with their values (keys upper-cased, read without
 * regard to case as the bridge reads them: jitsi-videobridge's
 * jvb/src/main/kotlin/org/jitsi/videobridge/xmpp/config/XmppClientConnectionConfig.kt hands each
 * entry of the block to jicoco's setProperty, jicoco-mucclient/.../MucClientConfiguration.java,
 * which stores it under name.toUpperCase()). Of two spellings, the one defined last is shown;
 * the bridge may read the other (see set-hocon.ts), which is why an edit sets both.
 */
export function hoconShards(jvb: HoconDoc | null): ShardSource[] {
  if (!jvb) return [];
  return jvb.objectsUnder(CONFIGS_PATH).map((id) => {
    const values: ShardValues = {};
    for (const k of SHARD_KEYS) {
      const v = jvb.get([...CONFIGS_PATH, id, k], { ignoreCase: true });
      if (v !== undefined) values[k] = v;
    }
    return { id, values };
  });
}

/** The legacy shard definitions of sip-communicator.properties, in file order. */
export function legacyShards(properties: string | null): ShardSource[] {
  const byId = new Map<string, ShardValues>();
  for (const e of parseProperties(properties ?? '')) {
    if (!e.key.startsWith(LEGACY_PREFIX)) continue;
    const rest = e.key.slice(LEGACY_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) continue;
    const id = rest.slice(0, dot);
    const key = rest.slice(dot + 1).toUpperCase() as ShardKey;
    if (!SHARD_KEYS.includes(key)) continue;
    if (!byId.has(id)) byId.set(id, {});
    byId.get(id)![key] = e.value;
  }
  return [...byId].map(([id, values]) => ({ id, values }));
}

/** Every password the files give, in any shard block of either layout (for the redactor). */
export function passwordsIn(files: BridgeFiles): string[] {
  return [...legacyShards(files.properties), ...hoconShards(files.jvb)].flatMap((s) =>
    s.values.PASSWORD ? [s.values.PASSWORD] : [],
  );
}

export function layoutOf(files: BridgeFiles): Layout {
  const legacy = legacyShards(files.properties).length > 0;
  const current = hoconShards(files.jvb).length > 0;
  if (legacy && current) return 'both';
  if (legacy) return 'legacy';
  if (current || files.jvbConf !== null) return 'current';
  return 'none';
}

/** The settings the bridge actually uses today: legacy lines win, as in the bridge itself. */
export function effectiveShard(files: BridgeFiles): ShardSource | undefined {
  return legacyShards(files.properties)[0] ?? hoconShards(files.jvb)[0];
}

const WEBSOCKETS = ['videobridge', 'websockets'];

/** Whether colibri websockets are switched on in jvb.conf. */
export function websocketsEnabled(jvb: HoconDoc | null): boolean {
  return !!jvb && /^true$/i.test(jvb.get([...WEBSOCKETS, 'enabled']) ?? '');
}

/**
 * jvb.conf with the shard block set and the bridge channel as asked (`channel`; or, without it,
 * websockets off when `websocketsOff`), in one pass over the parsed file; other bytes kept. The
 * notes say what the diff does not (a key spelled several ways).
 */
export function editJvbConf(
  jvb: HoconDoc | null,
  id: string,
  values: ShardValues,
  opts: { websocketsOff: boolean; channel?: ChannelWant },
): HoconEditResult {
  const doc = jvb ?? new HoconDoc('');
  const channel = opts.channel
    ? channelHoconEdits(doc, opts.channel)
    : opts.websocketsOff && websocketsEnabled(doc)
      ? [{ base: WEBSOCKETS, values: { enabled: false } }]
      : [];
  return editHocon(doc, [{ base: [...CONFIGS_PATH, id], values: toHocon(values), ignoreCase: true }, ...channel]);
}

function toHocon(values: ShardValues): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (k === 'PORT') out[k] = Number(v);
    else if (k === 'DISABLE_CERTIFICATE_VERIFICATION') out[k] = v === 'true';
    else out[k] = v;
  }
  return out;
}

/** sip-communicator.properties with the legacy shard keys set. */
export function editLegacyProperties(text: string | null, id: string, values: ShardValues): string {
  const entries: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) entries[`${LEGACY_PREFIX}${id}.${k}`] = v;
  return setProperties(text, entries);
}

/** sip-communicator.properties with every legacy shard line commented out (after a move to jvb.conf). */
export function disableLegacyShards(text: string | null): string {
  const keys: Record<string, null> = {};
  for (const e of parseProperties(text ?? '')) if (e.key.startsWith(LEGACY_PREFIX)) keys[e.key] = null;
  return setProperties(text, keys);
}

/**
 * Where a bridge's shard settings go: the layout it has (after the package is installed), or for a
 * bridge not installed yet, the layout its package version writes, which is the meet host's.
 */
export function targetLayout(layout: Layout, meetLayout: Layout): 'current' | 'legacy' | 'both' {
  if (layout === 'none') return meetLayout === 'legacy' || meetLayout === 'both' ? 'legacy' : 'current';
  return layout;
}

/**
 * Pure: shard blocks besides `id` that point at another XMPP server than `meetHost` (a bridge that
 * also serves another shard, or a leftover). They are kept, and named in a warning.
 */
export function otherShards(files: BridgeFiles, id: string, meetHost: string): ShardSource[] {
  return [...legacyShards(files.properties), ...hoconShards(files.jvb)].filter(
    (s) => s.id.toLowerCase() !== id.toLowerCase() && s.values.HOSTNAME !== undefined && s.values.HOSTNAME !== meetHost,
  );
}
