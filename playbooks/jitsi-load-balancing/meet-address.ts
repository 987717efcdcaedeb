import { isIP } from 'node:net';
import type { HostSpec } from '../../src/inventory/types.js';

/*
 * The address the bridges log in to Prosody on. When jitsi-scale runs on the meet host itself
 * (ansible_connection: local), the inventory's address for it is loopback, which every bridge would
 * then try to reach on itself. The meet host is asked instead which source address its route to
 * each bridge takes (`ip -o route get <bridge>`): the address the bridge sees it from.
 */

/** Pure: is this a loopback address (127.0.0.0/8, ::1, their IPv4-mapped form) or the name localhost? */
export function isLoopback(address: string): boolean {
  const a = address
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  return /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(a);
}

/** Pure: the `src` of one line of `ip -o route get` output, if it names one. */
export function routeSource(line: string): string | undefined {
  return /\bsrc\s+(\S+)/.exec(line)?.[1];
}

/** Shell, on the meet host: one line per argument, "<bridge address> <route line>" (the route may be empty). */
export const ROUTE_PROBE = `for a in "$@"; do printf '%s %s\\n' "$a" "$(ip -o route get "$a" 2>/dev/null | head -n 1)"; done; exit 0`;

/** Pure: each bridge address's route source from ROUTE_PROBE's output. */
export function parseRoutes(stdout: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const line of stdout.split('\n')) {
    const [address, ...route] = line.trim().split(/\s+/);
    if (address) out.set(address, routeSource(route.join(' ')));
  }
  return out;
}

export interface RemoteBridge {
  name: string;
  address: string;
}

/**
 * The bridges on other hosts than the meet host: those reached on an address that is not
 * loopback (a bridge reached on loopback shares the meet host's, as in an all-in-one test setup).
 */
export function remoteBridges(bridges: readonly HostSpec[], addressOf: (b: HostSpec) => string): RemoteBridge[] {
  return bridges.map((b) => ({ name: b.name, address: addressOf(b) })).filter((b) => !isLoopback(b.address));
}

const SET_IT = 'set private_address for it in the inventory (the address the bridges reach it on)';

/**
 * Pure: the meet host's address for the bridges, given what the inventory says (`given`: its
 * private_address, `address`: what privateAddress makes of it) and, when that is loopback, the
 * route sources the meet host reported for each remote bridge. Either an address that is never
 * loopback for a remote bridge, or the sentence that refuses.
 */
export function chooseMeetAddress(
  meetName: string,
  given: string | undefined,
  address: string,
  remote: readonly RemoteBridge[],
  routes: ReadonlyMap<string, string | undefined> | null,
): { address: string; derived?: string } | { refuse: string } {
  if (!isLoopback(address) || remote.length === 0) return { address };
  if (given !== undefined)
    return {
      refuse: `private_address of ${meetName} is ${given}, a loopback address, which the bridges (${remote.map((b) => b.name).join(', ')}) would take for themselves; set it to the address they reach ${meetName} on`,
    };
  const named = remote.find((b) => isIP(b.address) === 0);
  if (named)
    return {
      refuse: `${meetName} is reached on loopback (${address}) and ${named.name}'s address "${named.address}" is a name, so the route towards it cannot be asked; ${SET_IT}`,
    };
  const sources = remote.map((b) => ({ ...b, src: routes?.get(b.address) }));
  const none = sources.find((s) => !s.src || isLoopback(s.src));
  if (none)
    return {
      refuse: `${meetName} is reached on loopback (${address}) and has no route towards ${none.name} (${none.address}) with a source address of its own${none.src ? ` (it says ${none.src})` : ''}; ${SET_IT}`,
    };
  const distinct = [...new Set(sources.map((s) => s.src!))];
  if (distinct.length > 1)
    return {
      refuse: `${meetName} is reached on loopback (${address}) and reaches its bridges from different addresses (${sources.map((s) => `${s.src} towards ${s.name}`).join(', ')}); ${SET_IT}`,
    };
  return { address: distinct[0]!, derived: `the source of ${meetName}'s route towards its bridges` };
}
