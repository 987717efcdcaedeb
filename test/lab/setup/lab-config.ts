import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * The lab: hosts in network namespaces on one bridge, on this machine only. The addresses are a
 * private /24 that exists nowhere but on the lab bridge.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const LAB_DIR = join(PROJECT_ROOT, '.lab');
export const STATE_FILE = join(LAB_DIR, 'state.json');
export const INVENTORY_FILE = join(LAB_DIR, 'inventory.yaml');
export const CLIENT_KEY = join(LAB_DIR, 'id_ed25519');
/** The lab hosts' keys, as ssh-keyscan saw them when the lab came up. */
export const KNOWN_HOSTS = join(LAB_DIR, 'known_hosts');
export const REPO_DIR = join(LAB_DIR, 'repo');

export const NET_PREFIX = '10.77.0';
export const GATEWAY = `${NET_PREFIX}.1`;
export const BRIDGE_DEV = 'jsl-br0';
export const DOMAIN = 'meet.lab.test';
/** The bridges' XMPP password on the lab's meet host. Test data only. */
export const LAB_SECRET = 'Lab-Jvb-S3cret-7f2c';
export const MAX_BRIDGES = 60;

export type Era = 'current' | 'legacy';
export type Role = 'meet' | 'jvb' | 'outsider' | 'bastion';

export interface LabHost {
  name: string;
  role: Role;
  ns: string;
  address: string;
  /** pid of the host's sshd, whose mount namespace holds the host's own /etc, /usr, /var. */
  sshdPid: number;
}

export interface LabState {
  era: Era;
  bridges: number;
  created: string;
  hosts: LabHost[];
  /** The bridges accept SSH from the bastion only. */
  bastionOnly?: boolean;
  /** Prosody was set up to take clients on loopback only. */
  c2sLoopback?: boolean;
}

export function plannedHosts(bridges: number): Omit<LabHost, 'sshdPid'>[] {
  const hosts: Omit<LabHost, 'sshdPid'>[] = [{ name: 'meet', role: 'meet', ns: 'jsl-meet', address: `${NET_PREFIX}.10` }];
  for (let i = 1; i <= bridges; i++) hosts.push({ name: `jvb${i}`, role: 'jvb', ns: `jsl-jvb${i}`, address: `${NET_PREFIX}.${10 + i}` });
  hosts.push({ name: 'outsider', role: 'outsider', ns: 'jsl-outsider', address: `${NET_PREFIX}.200` });
  hosts.push({ name: 'bastion', role: 'bastion', ns: 'jsl-bastion', address: `${NET_PREFIX}.250` });
  return hosts;
}
