import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BRIDGE_DEV, GATEWAY, LAB_DIR, PUBLIC_PREFIX, type LabState } from './lab-config.js';
import { inHost, run } from './run.js';

/*
 * A lab NAT: a bridge that holds only its private address, behind a public one that exists on the
 * lab machine's side only, as on a cloud host with 1:1 NAT. The lab machine (the root namespace,
 * the lab bridge's gateway) translates UDP to the public address to the bridge's private one and
 * masquerades it, so replies come back the same way; it forwards between lab hosts and nowhere
 * else. `natDown` undoes all of it.
 */

const TABLE = 'jsl_nat';
const FORWARD_FILE = join(LAB_DIR, 'nat-ip-forward');

/** The bridge's public address behind the NAT. */
export const publicAddressOf = (lab: LabState, bridge: string): string =>
  `${PUBLIC_PREFIX}.${lab.hosts
    .find((h) => h.name === bridge)!
    .address.split('.')
    .pop()}`;

export async function natUp(lab: LabState, bridge: string): Promise<{ public: string; private: string }> {
  const host = lab.hosts.find((h) => h.name === bridge)!;
  const pub = publicAddressOf(lab, bridge);
  // Private only, as on such a host: its public IPv4 goes, and its unique-local IPv6 too (Java
  // counts fd00::/8 as an address a bridge may offer).
  await inHost(
    host.sshdPid,
    'ip addr del "$1/32" dev eth0 2>/dev/null; ip addr del "$2/64" dev eth0 2>/dev/null; exit 0',
    [pub, host.address6],
  );
  const ruleset = `table ip ${TABLE} {
  chain pre { type nat hook prerouting priority dstnat; policy accept; iifname "${BRIDGE_DEV}" ip daddr ${pub} dnat to ${host.address}; }
  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "${BRIDGE_DEV}" ct status dnat masquerade; }
  chain lab_forward { type filter hook forward priority 0; policy accept; iifname "${BRIDGE_DEV}" oifname != "${BRIDGE_DEV}" drop; iifname != "${BRIDGE_DEV}" oifname "${BRIDGE_DEV}" drop; }
}
`;
  await run('nft', ['delete', 'table', 'ip', TABLE], { allowFail: true });
  await run('nft', ['-f', '-'], { input: ruleset });
  const forward = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
  await writeFile(FORWARD_FILE, forward);
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  // The other lab hosts reach the public address through the gateway, as the internet would.
  for (const h of lab.hosts.filter((x) => x.name !== bridge))
    await inHost(h.sshdPid, 'ip route replace "$1/32" via "$2" dev eth0', [pub, GATEWAY], { allowFail: true });
  return { public: pub, private: host.address };
}

export async function natDown(): Promise<void> {
  await run('nft', ['delete', 'table', 'ip', TABLE], { allowFail: true });
  const saved = await readFile(FORWARD_FILE, 'utf8').catch(() => null);
  if (saved !== null) {
    await writeFile('/proc/sys/net/ipv4/ip_forward', saved.trim() || '0');
    await rm(FORWARD_FILE, { force: true });
  }
}
