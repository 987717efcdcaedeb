import { HoconDoc } from '../../../src/modules/hocon/hocon-doc.js';
import type { Node } from '../../../src/modules/hocon/hocon-values.js';
import { getProperty } from '../../../src/modules/properties/properties.js';

/**
 * TEST STAND-IN. How the real videobridge finds its media settings, read on their own here (not
 * with the product's code, so that a mistake in one is not in both):
 * - the port: `org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT` in sip-communicator.properties
 *   first, then `videobridge.ice.udp.port`, default 10000 (jitsi-videobridge IceConfig.kt);
 * - static mappings: the legacy NAT_HARVESTER_LOCAL/PUBLIC_ADDRESS pair merged with the list
 *   `ice4j.harvest.mapping.static-mappings` (ice4j HarvestConfig.kt); ice4j drops a mapping whose
 *   two addresses are the same (MappingCandidateHarvesters.maybeAdd);
 * - STUN servers: `ice4j.harvest.mapping.stun.addresses` (legacy STUN_MAPPING_HARVESTER_ADDRESSES).
 */
export interface MediaConfig {
  port: number;
  mappings: { local: string; public: string; name: string | null }[];
  stun: string[];
}

const leaf = (n: Node | undefined) => (n?.t === 'leaf' && n.type !== 'NULL' ? n.v : undefined);

export function readMedia(jvbConf: string | null, properties: string | null): MediaConfig {
  const doc = jvbConf ? new HoconDoc(jvbConf) : null;
  const props = properties ?? '';
  const legacyPort = getProperty(props, 'org.jitsi.videobridge.SINGLE_PORT_HARVESTER_PORT');
  const port = Number(legacyPort ?? doc?.get(['videobridge', 'ice', 'udp', 'port']) ?? 10000);
  const mappings: MediaConfig['mappings'] = [];
  const lLocal = getProperty(props, 'org.ice4j.ice.harvest.NAT_HARVESTER_LOCAL_ADDRESS');
  const lPublic = getProperty(props, 'org.ice4j.ice.harvest.NAT_HARVESTER_PUBLIC_ADDRESS');
  if (lLocal && lPublic) mappings.push({ local: lLocal.trim(), public: lPublic.trim(), name: null });
  const list = doc?.node(['ice4j', 'harvest', 'mapping', 'static-mappings']);
  if (list?.t === 'arr')
    for (const e of list.a) {
      if (e.t !== 'obj') continue;
      const local = leaf(e.m.get('local-address'));
      const pub = leaf(e.m.get('public-address'));
      if (local && pub) mappings.push({ local, public: pub, name: leaf(e.m.get('name')) ?? null });
    }
  const legacyStun = getProperty(props, 'org.ice4j.ice.harvest.STUN_MAPPING_HARVESTER_ADDRESSES');
  const stunNode = doc?.node(['ice4j', 'harvest', 'mapping', 'stun', 'addresses']);
  const stun =
    legacyStun !== undefined
      ? legacyStun.split(',').filter(Boolean)
      : stunNode?.t === 'arr'
        ? stunNode.a.flatMap((n) => (leaf(n) ? [leaf(n)!] : []))
        : [];
  return { port: Number.isInteger(port) ? port : 10000, mappings, stun };
}

/** The ICE candidates the bridge would offer: a host candidate per local address, a mapped one per matching mapping. */
export function candidatesOf(
  media: MediaConfig,
  local: readonly string[],
): { host: string[]; srflx: { address: string; from: string }[] } {
  const usable = media.mappings.filter((m) => m.local !== m.public);
  return {
    host: local.map((a) => `${a}:${media.port}`),
    srflx: usable
      .filter((m) => local.includes(m.local))
      .map((m) => ({ address: `${m.public}:${media.port}`, from: `static mapping of ${m.local}` })),
  };
}

/** Lines as ice4j logs them at start (its messages, the bridge's format), for the harvest the stand-in made. */
export function harvestLogLines(
  media: MediaConfig,
  bound: readonly string[],
  failed: string | null,
): { where: string; msg: string }[] {
  const at = (cls: string, msg: string) => [`org.ice4j.ice.harvest.${cls}`, msg];
  const out: string[][] = [];
  if (failed) {
    out.push(
      at(
        'SinglePortUdpHarvester.createHarvesters#80',
        `Failed to create SinglePortUdpHarvester for address 0.0.0.0: ${failed}`,
      ),
    );
    out.push([
      'org.jitsi.videobridge.ice.Harvesters.initializeStaticConfiguration#43',
      'No single-port harvesters created.',
    ]);
  }
  for (const a of bound)
    out.push(
      at('SinglePortUdpHarvester.<init>#112', `Initialized SinglePortUdpHarvester with address ${a}:${media.port}/udp`),
    );
  for (const m of media.mappings)
    out.push(
      at(
        'MappingCandidateHarvesters.initialize#111',
        `Adding a static mapping: StaticMapping(localAddress=${m.local}, publicAddress=${m.public}, localPort=null, publicPort=null, name=${m.name})`,
      ),
    );
  const used = media.mappings.filter((m) => m.local !== m.public);
  for (const m of media.mappings.filter((x) => x.local === x.public))
    out.push(
      at(
        'MappingCandidateHarvesters.maybeAdd#193',
        `Discarding a mapping harvester: org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=${m.local}:9/udp, mask=${m.public}:9/udp)`,
      ),
    );
  for (const s of media.stun) {
    const [host, port] = s.split(':');
    for (const a of bound)
      out.push(
        at(
          'MappingCandidateHarvesters.createStunHarvesters#261',
          `Using ${host}:${port}/udp for StunMappingCandidateHarvester (localAddress=${a}:0/udp).`,
        ),
      );
    // The lab reaches no STUN server (it sends nothing off the lab): discovery fails, as on a host with no way out.
    out.push(
      at('StunMappingCandidateHarvester.discover#111', 'We failed to obtain addresses for the following reason: '),
    );
  }
  for (const m of used)
    out.push(
      at(
        'MappingCandidateHarvesters.initialize#154',
        `Using org.ice4j.ice.harvest.StaticMappingCandidateHarvester(face=${m.local}:9/udp, mask=${m.public}:9/udp)`,
      ),
    );
  out.push(
    at(
      'MappingCandidateHarvesters.initialize#156',
      `Initialized mapping harvesters (delay=3ms).  stunDiscoveryFailed=${media.stun.length > 0}`,
    ),
  );
  return out.map(([where, msg]) => ({ where: where!, msg: msg! }));
}
