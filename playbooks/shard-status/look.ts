import { fingerprintArgs } from '../../src/engine/fingerprint.js';
import type { Inspection, Inspector } from '../../src/engine/inspect.js';
import type { Playbook, RunHost } from '../../src/engine/playbook.js';
import { reasonOf } from '../../src/engine/reason.js';
import type { Inventory } from '../../src/inventory/types.js';
import { whyFailed } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import { JVB_CONF, SIP_PROPERTIES, bridgeFiles, effectiveShard } from '../jitsi-load-balancing/bridge-files.js';
import type { ShardFacts } from '../jitsi-load-balancing/discover.js';
import { mediaPortOf } from '../jitsi-load-balancing/media-config.js';
import { BRIDGE_PROBE, MEET_PROBE, breweryLua, parseBridgeProbe, parseMeetProbe, type MeetProbe } from './probes.js';
import { shardStatus, type BridgeRead, type HostRead, type StatusDoc } from './shard-status.js';

/** The nickname and media port a bridge's config gives it now (the files as the inspection read them). */
async function configOn(h: RunHost): Promise<{ nickname: string | null; mediaPort: number | null }> {
  const read = await h.host.readFiles([JVB_CONF, SIP_PROPERTIES]);
  const files = bridgeFiles(h.host.name, read.get(JVB_CONF) ?? null, read.get(SIP_PROPERTIES) ?? null);
  return { nickname: effectiveShard(files)?.values.MUC_NICKNAME ?? null, mediaPort: mediaPortOf(files).port };
}

type Probed<P> = { probe: P | null; probeError?: string };

interface Probes {
  meet: Probed<MeetProbe>;
  bridges: (Probed<NonNullable<BridgeRead['probe']>> & { nickname: string | null; mediaPort?: number | null })[];
}

/** One command per host: what only the running services can say, and the host's fingerprint. */
async function probeShard(
  inventory: Inventory,
  playbook: Playbook<ShardFacts>,
  inspection: Inspection<ShardFacts>,
): Promise<Probes> {
  const shared = inspection.shared;
  const meetSpec = inventory.hosts.find((h) => h.role === 'meet')!;
  const meetHost = inspection.hosts.get(meetSpec.name);
  const askMeet = async (): Promise<Probed<MeetProbe>> => {
    if (!meetHost || !shared) return { probe: null };
    try {
      const jicofo = !!meetHost.facts.packages.jicofo;
      const fp = fingerprintArgs(playbook, meetSpec, shared.prosody.files);
      const r = await meetHost.host.exec(
        shScript(MEET_PROBE, breweryLua(shared.breweryJid), jicofo ? '1' : '0', ...fp),
        { readOnly: true },
      );
      const probe = parseMeetProbe(r.stdout, jicofo);
      return probe ? { probe } : { probe: null, probeError: whyFailed(r) };
    } catch (e) {
      return { probe: null, probeError: reasonOf(e) };
    }
  };
  const bridgeSpecs = inventory.hosts.filter((h) => h.role === 'jvb');
  const [meet, ...bridges] = await Promise.all([
    askMeet(),
    ...bridgeSpecs.map(async (spec) => {
      const h = inspection.hosts.get(spec.name);
      if (!h || inspection.lost.has(spec.name)) return { nickname: null, probe: null };
      try {
        const { nickname, mediaPort } = await configOn(h);
        const r = await h.host.exec(shScript(BRIDGE_PROBE, ...fingerprintArgs(playbook, spec)), { readOnly: true });
        const probe = parseBridgeProbe(r.stdout);
        return { nickname, mediaPort, probe, ...(probe ? {} : { probeError: whyFailed(r) }) };
      } catch (e) {
        return { nickname: null, probe: null, probeError: reasonOf(e) };
      }
    }),
  ]);
  return { meet: meet, bridges: bridges };
}

/** Each host's fingerprint from its probe; a host not probed has none (and is looked at in full next time). */
function fingerprints(inventory: Inventory, p: Probes): Map<string, string> {
  const out = new Map<string, string>();
  const meet = inventory.hosts.find((h) => h.role === 'meet')!.name;
  if (p.meet.probe) out.set(meet, p.meet.probe.fingerprint);
  inventory.hosts
    .filter((h) => h.role === 'jvb')
    .forEach((spec, i) => {
      const probe = p.bridges[i]?.probe;
      if (probe) out.set(spec.name, probe.fingerprint);
    });
  return out;
}

function statusOf(
  inventory: Inventory,
  inspection: Inspection<ShardFacts>,
  p: Probes,
  shown: ReadonlySet<string> | null,
): StatusDoc {
  const shared = inspection.shared;
  const meetSpec = inventory.hosts.find((h) => h.role === 'meet')!;
  const hostRead = (name: string, address: string): HostRead => {
    const h = inspection.hosts.get(name);
    const lost = inspection.lost.get(name);
    return {
      name,
      address: h?.address ?? address,
      ...(lost ? { lost } : {}),
      packages: h?.facts.packages ?? {},
      drift: inspection.drift.get(name) ?? [],
    };
  };
  const bridgeSpecs = inventory.hosts.filter((h) => h.role === 'jvb');
  return shardStatus({
    time: new Date(),
    domain: shared?.domain ?? null,
    brewery: shared?.breweryJid ?? null,
    refused: inspection.refused,
    meet: { ...hostRead(meetSpec.name, meetSpec.address), ...p.meet },
    bridges: bridgeSpecs.map((spec, i) => ({ ...hostRead(spec.name, spec.address), ...p.bridges[i]! })),
    meetBridgeNickname: shared?.meetBridgeNickname ?? null,
    ...(shown ? { shown } : {}),
  });
}

export interface ShardLooker {
  /** One look at the shard. Reads only. */
  look(): Promise<StatusDoc>;
  /** Full looks (facts, discovery and the setup plan read again) and quick ones (the probe alone). */
  counts: { full: number; quick: number };
}

/**
 * Looks at the shard again and again over the same connections. The first look reads everything
 * and plans setup (drift); later looks probe each host once, and read and plan again only when a
 * host's fingerprint moved (a file, a package or the firewall changed) or a host was lost.
 */
export function shardLooker(
  inventory: Inventory,
  playbook: Playbook<ShardFacts>,
  inspector: Inspector<ShardFacts>,
  shown: ReadonlySet<string> | null = null,
): ShardLooker {
  let inspection: Inspection<ShardFacts> | null = null;
  let known = new Map<string, string>();
  const counts = { full: 0, quick: 0 };
  const full = async () => {
    counts.full++;
    inspection = await inspector.inspect();
    const p = await probeShard(inventory, playbook, inspection);
    known = fingerprints(inventory, p);
    return statusOf(inventory, inspection, p, shown);
  };
  return {
    counts,
    async look() {
      if (!inspection || inspection.lost.size > 0 || inspection.refused) return full();
      const p = await probeShard(inventory, playbook, inspection);
      const now = fingerprints(inventory, p);
      const moved = inventory.hosts.some(
        (h) => (h.role === 'meet' || h.role === 'jvb') && now.get(h.name) !== known.get(h.name),
      );
      if (moved) return full();
      counts.quick++;
      return statusOf(inventory, inspection, p, shown);
    },
  };
}
