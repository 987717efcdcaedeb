import type { Inspection } from '../../src/engine/inspect.js';
import type { RunHost } from '../../src/engine/playbook.js';
import { reasonOf } from '../../src/engine/reason.js';
import type { Inventory } from '../../src/inventory/types.js';
import { whyFailed } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import { JVB_CONF, SIP_PROPERTIES, effectiveShard } from '../jitsi-load-balancing/bridge-files.js';
import type { ShardFacts } from '../jitsi-load-balancing/discover.js';
import { BRIDGE_PROBE, MEET_PROBE, breweryLua, parseBridgeProbe, parseMeetProbe } from './probes.js';
import { shardStatus, type BridgeRead, type HostRead, type StatusDoc } from './shard-status.js';

/** The nickname a bridge's config gives it now (the files as the inspection read them). */
async function nicknameOn(h: RunHost): Promise<string | null> {
  const files = await h.host.readFiles([JVB_CONF, SIP_PROPERTIES]);
  return (
    effectiveShard({ jvbConf: files.get(JVB_CONF) ?? null, properties: files.get(SIP_PROPERTIES) ?? null })?.values
      .MUC_NICKNAME ?? null
  );
}

async function probeBridge(h: RunHost): Promise<Pick<BridgeRead, 'nickname' | 'probe' | 'probeError'>> {
  const nickname = await nicknameOn(h);
  const r = await h.host.exec(shScript(BRIDGE_PROBE), { readOnly: true, noBecome: true });
  const probe = parseBridgeProbe(r.stdout);
  return { nickname, probe, ...(probe ? {} : { probeError: whyFailed(r) }) };
}

/**
 * One look at the shard: the inspection (facts, discovery, the setup plan as drift), then one
 * command per host for what only the running services can say. Reads only.
 */
export async function lookAtShard(inventory: Inventory, inspection: Inspection<ShardFacts>): Promise<StatusDoc> {
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
  const meetHost = inspection.hosts.get(meetSpec.name);
  const askMeet = async () => {
    if (!meetHost || !shared) return { probe: null };
    try {
      const jicofo = !!meetHost.facts.packages.jicofo;
      const r = await meetHost.host.exec(shScript(MEET_PROBE, breweryLua(shared.breweryJid), jicofo ? '1' : '0'), {
        readOnly: true,
      });
      const probe = parseMeetProbe(r.stdout, jicofo);
      return probe ? { probe } : { probe: null, probeError: whyFailed(r) };
    } catch (e) {
      return { probe: null, probeError: reasonOf(e) };
    }
  };
  const bridgeSpecs = inventory.hosts.filter((h) => h.role === 'jvb');
  const [meetProbe, ...bridgeProbes] = await Promise.all([
    askMeet(),
    ...bridgeSpecs.map(async (spec) => {
      const h = inspection.hosts.get(spec.name);
      if (!h || inspection.lost.has(spec.name)) return { nickname: null, probe: null };
      try {
        return await probeBridge(h);
      } catch (e) {
        return { nickname: null, probe: null, probeError: reasonOf(e) };
      }
    }),
  ]);
  return shardStatus({
    time: new Date(),
    domain: shared?.domain ?? null,
    brewery: shared?.breweryJid ?? null,
    refused: inspection.refused,
    meet: { ...hostRead(meetSpec.name, meetSpec.address), ...meetProbe },
    bridges: bridgeSpecs.map((spec, i) => ({ ...hostRead(spec.name, spec.address), ...bridgeProbes[i]! })),
    meetBridgeNickname: shared?.meetBridgeNickname ?? null,
  });
}
