/**
 * Pure: a bridge's media settings, read and edited in either era: the UDP port its single-port
 * harvester binds, and the static NAT mapping that makes it advertise a public address.
 *
 * Sources (read at jitsi/jitsi-videobridge a29d97d, jitsi/ice4j 6da2b08):
 * - the port: jvb/src/main/kotlin/org/jitsi/videobridge/ice/IceConfig.kt reads
 *   `org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT` from the legacy config
 *   (sip-communicator.properties) first, then `videobridge.ice.udp.port` from jvb.conf (default
 *   10000, jvb/src/main/resources/reference.conf): a legacy line wins.
 * - the mappings: ice4j's src/main/kotlin/org/ice4j/ice/harvest/HarvestConfig.kt reads
 *   `ice4j.harvest.mapping.static-mappings` (a list of { local-address, public-address, optional
 *   local-port/public-port, optional name }, src/main/resources/reference.conf) and merges the
 *   legacy pair `org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS`/`NAT_HARVESTER_PUBLIC_ADDRESS`
 *   into it; the bridge copies every `org.ice4j.*` line of sip-communicator.properties into system
 *   properties for that (jvb/src/main/kotlin/org/jitsi/videobridge/Main.kt,
 *   getSystemPropertyDefaults).
 * - STUN: `ice4j.harvest.mapping.stun.addresses` (legacy `STUN_MAPPING_HARVESTER_ADDRESSES`,
 *   comma-separated); the package's postinst writes `["meet-jit-si-turnrelay.jitsi.net:443"]`
 *   into a new jvb.conf (jitsi-videobridge debian/postinst). It is never touched here.
 */
import { isIP } from 'node:net';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import type { Node } from '../../src/modules/hocon/hocon-values.js';
import { editHocon, insertRaw, HoconEditError } from '../../src/modules/hocon/set-hocon.js';
import { getProperty, setProperties } from '../../src/modules/properties/properties.js';
import type { BridgeFiles } from './bridge-files.js';
import { isPublicAddress } from './valid-address.js';

export const DEFAULT_MEDIA_PORT = 10000;
export const UDP_PATH = ['videobridge', 'ice', 'udp'];
export const LEGACY_PORT_KEY = 'org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT';
export const MAPPING_BASE = ['ice4j', 'harvest', 'mapping'];
export const STATIC_MAPPINGS = [...MAPPING_BASE, 'static-mappings'];
export const LEGACY_NAT_LOCAL = 'org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS';
export const LEGACY_NAT_PUBLIC = 'org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS';
export const LEGACY_STUN = 'org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES';
/** The name our mapping carries, so that a later run finds it again (and only it). */
export const MAPPING_NAME = 'jitsi-scale';

export interface StaticMapping {
  local: string;
  public: string;
  name?: string;
  /** Set when the entry names ports (it then maps one port only). */
  ports?: string;
  /** Where it is: jvb.conf or sip-communicator.properties. */
  from: 'jvb.conf' | 'sip-communicator.properties';
}

/** The port the bridge binds for media, and where that comes from. */
export function mediaPortOf(files: BridgeFiles): { port: number | null; from: string } {
  const legacy = getProperty(files.properties ?? '', LEGACY_PORT_KEY)?.trim();
  if (legacy !== undefined)
    return {
      port: /^\d+$/.test(legacy) ? Number(legacy) : null,
      from: `sip-communicator.properties ${LEGACY_PORT_KEY}`,
    };
  const defined = files.jvb?.definitions(UDP_PATH, 'port').length ?? 0;
  const v = files.jvb?.get([...UDP_PATH, 'port']);
  if (defined)
    return { port: v !== undefined && /^\d+$/.test(v) ? Number(v) : null, from: 'jvb.conf videobridge.ice.udp.port' };
  return { port: DEFAULT_MEDIA_PORT, from: 'the default' };
}

export interface MediaWant {
  port: number;
  /** local → public, when the inventory sets jitsi_public_address. */
  mapping?: { local: string; public: string };
}

export interface MediaEdit {
  text: string;
  notes: string[];
}

/** The media settings refused: one sentence naming the file and the key. */
export class MediaConfigError extends Error {
  override name = 'MediaConfigError';
}

const leafText = (n: Node | undefined): string | undefined => (n?.t === 'leaf' && n.type !== 'NULL' ? n.v : undefined);

/** The entries of jvb.conf's static-mappings as the bridge resolves them; null when it is not a readable list. */
function hoconMappings(doc: HoconDoc | null): { entries: Map<string, Node>[]; list: boolean } | null {
  const n = doc?.node(STATIC_MAPPINGS);
  if (!n) return { entries: [], list: false };
  if (n.t !== 'arr' || n.a.some((e) => e.t !== 'obj')) return null;
  return { entries: n.a.map((e) => (e.t === 'obj' ? e.m : new Map<string, Node>())), list: true };
}

function toMapping(m: Map<string, Node>): StaticMapping {
  const lp = leafText(m.get('local-port'));
  const pp = leafText(m.get('public-port'));
  const name = leafText(m.get('name'));
  return {
    local: leafText(m.get('local-address')) ?? '',
    public: leafText(m.get('public-address')) ?? '',
    ...(name !== undefined ? { name } : {}),
    ...(lp !== undefined || pp !== undefined ? { ports: `${lp ?? '?'}→${pp ?? '?'}` } : {}),
    from: 'jvb.conf',
  };
}

/** Every static mapping the bridge reads, from either file (the legacy pair merged in, as ice4j does). */
export function staticMappingsOf(files: BridgeFiles): StaticMapping[] {
  const out: StaticMapping[] = [];
  const p = files.properties ?? '';
  const local = getProperty(p, LEGACY_NAT_LOCAL)?.trim();
  const pub = getProperty(p, LEGACY_NAT_PUBLIC)?.trim();
  if (local && pub) out.push({ local, public: pub, from: 'sip-communicator.properties' });
  for (const m of hoconMappings(files.jvb)?.entries ?? []) out.push(toMapping(m));
  return out;
}

/** The STUN servers the bridge asks for its public address (empty: STUN mapping is off). */
export function stunServersOf(files: BridgeFiles): string[] {
  const legacy = getProperty(files.properties ?? '', LEGACY_STUN);
  if (legacy !== undefined)
    return legacy
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const n = files.jvb?.node([...MAPPING_BASE, 'stun', 'addresses']);
  return n?.t === 'arr' ? n.a.flatMap((e) => (leafText(e) !== undefined ? [leafText(e)!] : [])) : [];
}

const hoconString = (v: string) => JSON.stringify(v);

function renderEntry(m: Map<string, Node>): string {
  const parts: string[] = [];
  for (const [k, v] of m) {
    if (v.t !== 'leaf')
      throw new MediaConfigError(
        `jvb.conf: a static mapping holds ${k} as a block or list, which this tool does not rewrite; edit ice4j.harvest.mapping.static-mappings by hand`,
      );
    parts.push(
      `${/^[A-Za-z][A-Za-z0-9-]*$/.test(k) ? k : hoconString(k)} = ${v.type === 'STRING' ? hoconString(v.v) : v.v}`,
    );
  }
  return `{ ${parts.join(', ')} }`;
}

const ours = (local: string, pub: string) =>
  `{ local-address = ${hoconString(local)}, public-address = ${hoconString(pub)}, name = ${hoconString(MAPPING_NAME)} }`;

/**
 * jvb.conf with our static mapping (named jitsi-scale) in `ice4j.harvest.mapping.static-mappings`:
 * the user's own entries are kept as the bridge reads them; a mapping of the same addresses that
 * is already there (ours or the user's) is left alone; an older one of ours is replaced.
 */
function withMapping(doc: HoconDoc, want: { local: string; public: string }): MediaEdit {
  const read = hoconMappings(doc);
  const at = doc.at(STATIC_MAPPINGS);
  if (!read)
    throw new MediaConfigError(
      `jvb.conf: ice4j.harvest.mapping.static-mappings (line ${doc.lineOf(at[at.length - 1]?.keyStart ?? 0)}) is not a list of mappings this tool can read; fix it or set the mapping there by hand`,
    );
  const notes: string[] = [];
  const mine = read.entries.filter((m) => leafText(m.get('name')) === MAPPING_NAME);
  const theirs = read.entries.filter((m) => leafText(m.get('name')) !== MAPPING_NAME);
  const same = (m: Map<string, Node>) =>
    leafText(m.get('local-address')) === want.local &&
    leafText(m.get('public-address')) === want.public &&
    !m.has('local-port') &&
    !m.has('public-port');
  for (const m of theirs) {
    const t = toMapping(m);
    if (t.local === want.local && !same(m))
      notes.push(
        `jvb.conf also maps ${t.local} to ${t.public}${t.name ? ` (mapping "${t.name}")` : ''}: kept, so the bridge advertises both addresses`,
      );
  }
  if (theirs.some(same)) {
    if (mine.length === 0)
      return {
        text: doc.text,
        notes: [...notes, `your own static mapping already maps ${want.local} to ${want.public}`],
      };
  } else if (mine.length === 1 && same(mine[0]!)) return { text: doc.text, notes };
  const entries = [...theirs.map(renderEntry), ...(theirs.some(same) ? [] : [ours(want.local, want.public)])];
  const list = `[${entries.join(', ')}]`;
  let text: string;
  const last = at[at.length - 1];
  if (last) {
    // The list as the bridge resolves it, written at its last definition (a `+=` becomes `=`).
    const from = last.sep === '+=' ? last.sepStart : last.valueStart;
    text = doc.text.slice(0, from) + (last.sep === '+=' ? '= ' : '') + list + doc.text.slice(last.valueEnd);
  } else text = insertRaw(doc, MAPPING_BASE, 'static-mappings', list);
  checkMappingReadsBack(text, entries.length, want);
  return { text, notes };
}

function checkMappingReadsBack(text: string, count: number, want: { local: string; public: string }): void {
  let doc: HoconDoc;
  try {
    doc = new HoconDoc(text);
  } catch (e) {
    throw new HoconEditError(
      `the edited jvb.conf would not be valid HOCON (${(e as Error).message}); nothing is written`,
    );
  }
  const got = hoconMappings(doc);
  const hit = got?.entries.some(
    (m) => leafText(m.get('local-address')) === want.local && leafText(m.get('public-address')) === want.public,
  );
  if (!got || got.entries.length !== count || !hit)
    throw new HoconEditError(
      'after the edit ice4j.harvest.mapping.static-mappings would not read as meant; nothing is written',
    );
}

/** Pure: jvb.conf with the media port and the static mapping set (current era). */
export function editMediaHocon(doc: HoconDoc, files: BridgeFiles, want: MediaWant): MediaEdit {
  const notes: string[] = [];
  const defs = doc.definitions(UDP_PATH, 'port');
  const now = doc.get([...UDP_PATH, 'port']);
  let text = doc.text;
  const differs = defs.length ? now === undefined || Number(now) !== want.port : want.port !== DEFAULT_MEDIA_PORT;
  if (differs) {
    if (defs.length && now === undefined)
      notes.push(
        `videobridge.ice.udp.port is set to a value read at start (${defs[defs.length - 1]!.raw ?? 'a substitution'}); it becomes ${want.port}`,
      );
    text = editHocon(doc, [{ base: UDP_PATH, values: { port: want.port } }]).text;
  }
  const legacy = getProperty(files.properties ?? '', LEGACY_PORT_KEY);
  if (legacy !== undefined && Number(legacy.trim()) !== want.port)
    notes.push(
      `sip-communicator.properties sets ${LEGACY_PORT_KEY}=${legacy.trim()}, which wins over jvb.conf: it is set to ${want.port} as well`,
    );
  if (want.mapping) {
    const m = withMapping(text === doc.text ? doc : new HoconDoc(text), want.mapping);
    text = m.text;
    notes.push(...m.notes);
  }
  return { text, notes };
}

/**
 * Pure: sip-communicator.properties with the media port (legacy era: there, it wins; current era:
 * only a legacy line already there is brought in line) and, legacy era, the NAT pair.
 */
export function editMediaProperties(
  text: string | null,
  files: BridgeFiles,
  want: MediaWant,
  era: 'current' | 'legacy',
): string {
  const values: Record<string, string> = {};
  const legacy = getProperty(text ?? '', LEGACY_PORT_KEY);
  if (
    legacy !== undefined
      ? Number(legacy.trim()) !== want.port
      : era === 'legacy' && mediaPortOf(files).port !== want.port
  )
    values[LEGACY_PORT_KEY] = String(want.port);
  if (era === 'legacy' && want.mapping) {
    values[LEGACY_NAT_LOCAL] = want.mapping.local;
    values[LEGACY_NAT_PUBLIC] = want.mapping.public;
  }
  return Object.keys(values).length ? setProperties(text, values) : (text ?? '');
}

/**
 * Why a jitsi_public_address value cannot be used, or null: ice4j takes the address as given, and
 * the bridge's health counts it only when it is not loopback, link-local or site-local
 * (jvb/src/main/kotlin/org/jitsi/videobridge/health/JvbHealthChecker.kt, isValid).
 */
export function publicAddressProblem(value: string): string | null {
  if (isIP(value) === 0)
    return `jitsi_public_address must be an IP address (the bridge advertises it as is), not "${value}"`;
  const lower = value.toLowerCase();
  if (/^::ffff:/.test(lower))
    return `jitsi_public_address ${value} is an IPv4 address written as IPv6; give it as IPv4 (${lower.slice(7)})`;
  if (unroutable(lower))
    return `jitsi_public_address ${value} is an unspecified, multicast or broadcast address, which no client can reach; give the public address in front of the bridge`;
  if (!isPublicAddress(value))
    return `jitsi_public_address ${value} is a loopback, link-local or private address; give the public address in front of the bridge`;
  return null;
}

/** 0.0.0.0/8, 224.0.0.0/4 and above (multicast, reserved, broadcast), ::, ff00::/8. */
function unroutable(a: string): boolean {
  if (a.includes(':')) return /^::$|^0*:0*:0*:0*:0*:0*:0*:0*$|^ff/.test(a) || a === '::0';
  const first = Number(a.split('.')[0]);
  return first === 0 || first >= 224;
}

/**
 * What a bridge without jitsi_public_address will advertise, when all its addresses are private;
 * null when it has a public address of its own or a mapping to one.
 */
export function advertiseWarning(host: string, addresses: readonly string[], files: BridgeFiles): string | null {
  const isPublic = isPublicAddress;
  const usable = addresses.filter((a) => isIP(a) !== 0 && !/^(127\.|::1$)/.test(a));
  if (!usable.length || usable.some(isPublic)) return null;
  const mapped = staticMappingsOf(files).filter((m) => isPublic(m.public));
  if (mapped.length) return null;
  const priv = usable.filter((a) => isIP(a) === 4).join(', ') || usable.join(', ');
  const stun = stunServersOf(files);
  if (stun.length)
    return `warning: ${host} has only private addresses (${priv}): it will advertise the public address STUN (${stun.join(', ')}) discovers, if that server answers; if it does not, its health check fails. To advertise a fixed address, set jitsi_public_address to the public address in front of it`;
  return `warning: ${host} has only private addresses (${priv}) and no STUN or static mapping: it will advertise ${priv} only, which clients outside cannot reach, and its health check fails (require-valid-address). Set jitsi_public_address to the public address in front of it`;
}
