import { isIP } from 'node:net';
import type { RunHost, StepContext } from '../../src/engine/playbook.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { HostError, type Host } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import type { BridgeFiles } from './bridge-files.js';
import type { ShardFacts } from './discover.js';
import {
  DEFAULT_MEDIA_PORT,
  MediaConfigError,
  advertiseWarning,
  mediaPortOf,
  stunServersOf,
  type MediaWant,
} from './media-config.js';
import { jitsi, privateAddress } from './settings.js';
import { sameAddress } from './valid-address.js';

/*
 * What the bridge-config step needs of a bridge's media settings beyond the pure edits of
 * media-config.ts: its interface addresses, the port and mapping it gets, the plan's words on them.
 */

/** The addresses on the bridge's interfaces (`ip -o addr show`), one a line, without prefix lengths. */
export function parseInterfaceAddresses(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim().replace(/\/\d+$/, ''))
    .filter((a) => a !== '' && isIP(a) !== 0);
}

const ADDRESSES = "ip -o addr show 2>/dev/null | awk '{ print $4 }' | head -n 256; exit 0";

/** Its interface addresses; [] when they cannot be read (then nothing is said about them). */
export async function interfaceAddresses(host: Host): Promise<string[]> {
  try {
    return parseInterfaceAddresses((await host.exec(shScript(ADDRESSES), { readOnly: true, what: 'ip addr' })).stdout);
  } catch {
    return [];
  }
}

/**
 * The media settings this bridge gets: the inventory's port, and with jitsi_public_address a
 * static mapping from the bridge's own address (refused when that address is not on the bridge:
 * ice4j maps a host candidate, so the local address must be one of its interfaces').
 */
export function mediaWant(
  spec: HostSpec,
  connected: Pick<RunHost, 'address'> | undefined,
  addresses: readonly string[],
): MediaWant {
  const j = jitsi(spec);
  if (!j.publicAddress) return { port: j.mediaPort };
  const local = privateAddress(spec, connected);
  if (isIP(local) !== isIP(j.publicAddress))
    throw new HostError(
      spec.name,
      `jitsi_public_address ${j.publicAddress} and the bridge's own address ${local} are of different IP families, and a static mapping maps within one; give the public address of ${local}'s family`,
    );
  if (addresses.length && !addresses.some((a) => sameAddress(a, local)))
    throw new HostError(
      spec.name,
      `jitsi_public_address needs the bridge's own private address to map from, but ${local} (private_address, else ansible_host) is not on its interfaces (${addresses.join(', ')}); set private_address to the address of its interface`,
    );
  return { port: j.mediaPort, mapping: { local, public: j.publicAddress } };
}

/** What the plan says about media: the port, the mapping, or what a bridge behind NAT will advertise. */
export function mediaNotes(host: string, files: BridgeFiles, want: MediaWant, addresses: readonly string[]): string[] {
  const notes: string[] = [];
  const now = mediaPortOf(files);
  if (want.port !== DEFAULT_MEDIA_PORT || now.port !== want.port)
    notes.push(
      `media port: UDP ${want.port}${now.port !== want.port ? ` (now ${now.port ?? 'unreadable'}, from ${now.from})` : ''}; the firewall opens the same port`,
    );
  if (want.mapping) {
    const stun = stunServersOf(files);
    notes.push(
      `NAT: the bridge advertises ${want.mapping.public} for its address ${want.mapping.local} (static mapping "jitsi-scale")${stun.length ? `; the package's STUN mapping (${stun.join(', ')}) is kept` : ''}`,
    );
  } else {
    const w = advertiseWarning(host, addresses, files);
    if (w) notes.push(w);
  }
  return notes;
}

/** Runs a pure media edit; what it refuses fails this host, named. */
export function media<T>(host: string, edit: () => T): T {
  try {
    return edit();
  } catch (e) {
    if (e instanceof MediaConfigError) throw new HostError(host, e.message);
    throw e;
  }
}

/** The media settings of the bridge `ctx` plans for, and its interface addresses. */
export async function bridgeMedia(ctx: StepContext<ShardFacts>): Promise<{ want: MediaWant; addresses: string[] }> {
  const addresses = await interfaceAddresses(ctx.host);
  return { want: mediaWant(ctx.spec, ctx.hosts.get(ctx.spec.name), addresses), addresses };
}
