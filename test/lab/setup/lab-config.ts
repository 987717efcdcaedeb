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
/**
 * An ssh config for the hosts reached through the bastion: ssh's own jump takes only -F, -l and
 * -p from the command line, so the bastion's key and known_hosts are given here, as a user would.
 */
export const LAB_SSH_CONFIG = join(LAB_DIR, 'ssh_config');
export const REPO_DIR = join(LAB_DIR, 'repo');
/** The lab's own Debian repository: the packages its hosts may install (they reach no mirror). */
export const DEBIAN_REPO_DIR = join(LAB_DIR, 'debian');
/** Downloaded .debs, kept across `lab down` so that the next `lab up` needs no network. */
export const PACKAGE_CACHE = join(PROJECT_ROOT, '.lab-cache', 'debs');

export const NET_PREFIX = '10.77.0';
/** The lab's IPv6 prefix (unique local), on the same bridge. */
export const NET6_PREFIX = 'fd77:7::';
/**
 * Each host also holds an address from TEST-NET-2 (never routed): the public address a cloud
 * server has, which a bridge needs for its health check (require-valid-address).
 */
export const PUBLIC_PREFIX = '198.51.100';
export const GATEWAY = `${NET_PREFIX}.1`;
export const BRIDGE_DEV = 'jsl-br0';
export const DOMAIN = 'meet.lab.test';
/** The bridges' XMPP password on the lab's meet host. Test data only. */
export const LAB_SECRET = 'Lab-Jvb-S3cret-7f2c';
export const MAX_BRIDGES = 60;

export type Era = 'current' | 'legacy';
export type Role = 'meet' | 'jvb' | 'outsider' | 'bastion';

/** The shapes of real servers a lab host can take (see profiles.ts). */
export const PROFILES = [
  'debian-nft',
  'iptables',
  'ubuntu-ufw',
  'ufw-inactive',
  'firewalld',
  'bare',
  'systemd',
  'trixie',
  'ubuntu-needrestart',
] as const;
export type Profile = (typeof PROFILES)[number];
export const DEFAULT_PROFILE: Profile = 'debian-nft';

/**
 * The Debian release a profile's hosts run when it is not this machine's: their files come from
 * that release's own root filesystem (debian-root.ts). The others run this machine's.
 */
export const PROFILE_RELEASE: Partial<Record<Profile, 'trixie'>> = { trixie: 'trixie' };

/** Profiles that boot with systemd as PID 1 whatever the lab's init. */
export const SYSTEMD_PROFILES: readonly Profile[] = ['systemd', 'ubuntu-needrestart'];

/**
 * How a host boots: `systemd` as PID 1 of its own PID namespace (units, real reboots, what loads
 * the firewall at boot), or `none`, a container's shape: services through their init scripts, and
 * at boot only what an init script with an rc link starts. The `systemd` profile is debian-nft
 * booted with systemd.
 */
export type Init = 'systemd' | 'none';

export interface LabHost {
  name: string;
  role: Role;
  ns: string;
  address: string;
  /** The host's IPv6 address on the lab bridge. */
  address6: string;
  /** The server shape the host was made into (meet and bridges; others are plain). */
  profile: Profile;
  init: Init;
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
  /** The profile each host was made with (also on each host). */
  profile: Profile;
  profiles?: Record<string, Profile>;
  /** The meet host and the bridges boot with systemd (the systemd profile always does). */
  init?: Init;
  /** The meet host has no bridge of its own, and runs Jicofo's stand-in (the handbook's layout). */
  noMeetBridge?: boolean;
}

export type PlannedHost = Omit<LabHost, 'sshdPid'>;

/**
 * The lab's hosts. `profiles` maps a host name or a role (meet, jvb) to a profile; a host name
 * wins over its role, and hosts named by neither get `fallback`.
 */
export function plannedHosts(
  bridges: number,
  fallback: Profile = DEFAULT_PROFILE,
  profiles: Readonly<Record<string, Profile>> = {},
  init: Init = 'none',
): PlannedHost[] {
  const host = (name: string, role: Role, n: number): PlannedHost => {
    const server = role === 'meet' || role === 'jvb';
    const profile = server ? (profiles[name] ?? profiles[role] ?? fallback) : DEFAULT_PROFILE;
    return {
      name,
      role,
      ns: `jsl-${name}`,
      address: `${NET_PREFIX}.${n}`,
      address6: `${NET6_PREFIX}${n.toString(16)}`,
      profile,
      // a host of another release has only that release's tree, without systemd: it boots as a container
      init:
        SYSTEMD_PROFILES.includes(profile) || (server && init === 'systemd' && !PROFILE_RELEASE[profile])
          ? 'systemd'
          : 'none',
    };
  };
  const hosts = [host('meet', 'meet', 10)];
  for (let i = 1; i <= bridges; i++) hosts.push(host(`jvb${i}`, 'jvb', 10 + i));
  hosts.push(host('outsider', 'outsider', 200), host('bastion', 'bastion', 250));
  return hosts;
}

/** Pure: `--profile` values (`P`, or `NAME=P` for a host or a role) to a fallback and a map. */
export function parseProfileArgs(values: readonly string[]): { fallback: Profile; profiles: Record<string, Profile> } {
  let fallback: Profile = DEFAULT_PROFILE;
  const profiles: Record<string, Profile> = {};
  const check = (p: string): Profile => {
    if (!(PROFILES as readonly string[]).includes(p))
      throw new Error(`unknown profile "${p}": choose one of ${PROFILES.join(', ')}`);
    return p as Profile;
  };
  for (const v of values) {
    const m = /^([\w-]+)=(.+)$/.exec(v);
    if (m) profiles[m[1]!] = check(m[2]!);
    else fallback = check(v);
  }
  return { fallback, profiles };
}
