import { existsSync } from 'node:fs';
import { natDown } from './lab-nat.js';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildStandinPackage, writeAptRepo } from '../standin-jvb/build-package.js';
import { buildJicofoPackage, JICOFO_STANDIN_VERSION } from '../standin-jicofo/build-package.js';
import { buildMetaPackage, PAIRED_BRIDGE_VERSION } from '../standin-jitsi-meet/build-package.js';
import { mapLimit } from '../../../src/engine/pool.js';
import {
  BRIDGE_DEV,
  CLIENT_KEY,
  DEFAULT_PROFILE,
  DOMAIN,
  INVENTORY_FILE,
  KNOWN_HOSTS,
  LAB_DIR,
  LAB_SSH_CONFIG,
  MAX_BRIDGES,
  PROFILE_RELEASE,
  REPO_DIR,
  STATE_FILE,
  plannedHosts,
  type Era,
  type Init,
  type LabHost,
  type LabState,
  type Profile,
} from './lab-config.js';
import { createBridge, rebootHost, removeCgroups, startHost } from './lab-hosts.js';
import { buildDebianMirror } from './debian-mirror.js';
import { ensureRootfs, writeReleaseRepo, type Release, type Rootfs } from './debian-root.js';
import { profileScript } from './profiles.js';
import { ensureDebianPackages } from '../../support/debian-packages.js';
import { overSsh, preparePackageHost, provisionMeet, startMeet, startMeetWithoutBridge } from './provision-meet.js';
import { inHost, run } from './run.js';

/**
 * Debian packages the lab itself runs on, installed on this machine when missing. The firewall
 * tools are not among them: each host gets those from the lab's own repository (debian-mirror.ts),
 * as its profile says.
 */
export const LAB_NEEDS: Record<string, string> = {
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/bin/ssh-keygen': 'openssh-client',
  '/usr/bin/prosodyctl': 'prosody',
  '/usr/bin/openssl': 'openssl',
  '/usr/bin/nsenter': 'util-linux',
  '/usr/bin/dpkg-deb': 'dpkg',
  '/usr/bin/sudo': 'sudo',
  '/usr/sbin/start-stop-daemon': 'dpkg',
  '/usr/bin/tini': 'tini',
  '/usr/sbin/update-ca-certificates': 'ca-certificates',
};

export class LabError extends Error {
  override name = 'LabError';
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new LabError(
      'the lab needs root: it creates network namespaces, mounts and sshd processes (run it with sudo, or as root)',
    );
}

export async function readState(): Promise<LabState | null> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as LabState;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function inventoryYaml(state: LabState): string {
  const meet = state.hosts.find((h) => h.role === 'meet')!;
  const bridges = state.hosts.filter((h) => h.role === 'jvb');
  const outsider = state.hosts.find((h) => h.role === 'outsider');
  const bastion = state.hosts.find((h) => h.role === 'bastion');
  const common = `-o UserKnownHostsFile=${KNOWN_HOSTS}`;
  return [
    '# The jitsi-scale lab (written by `npm run lab -- up`): hosts in network namespaces on this machine.',
    `# era: ${state.era}; the videobridge package is the lab's TEST STAND-IN from its own apt repository.`,
    'all:',
    '  vars:',
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: ${CLIENT_KEY}`,
    `    ansible_ssh_common_args: "${common}"`,
    `    jitsi_domain: ${DOMAIN}`,
    `    jitsi_apt_source: "deb [trusted=yes] file:${REPO_DIR} ./"`,
    '    jitsi_apt_key_url: ""',
    '  children:',
    '    meet:',
    '      hosts:',
    `        meet: { ansible_host: ${meet.address} }`,
    '    jvb:',
    ...(state.bastionOnly && bastion
      ? [
          '      # SSH to the bridges is allowed from the bastion only',
          `      vars: { ansible_ssh_common_args: "-F ${LAB_SSH_CONFIG} ${common} -J root@${bastion.address}" }`,
        ]
      : []),
    '      hosts:',
    ...bridges.map((b) => `        ${b.name}: { ansible_host: ${b.address} }`),
    ...(outsider ? ['    outsider:', '      hosts:', `        outsider: { ansible_host: ${outsider.address} }`] : []),
    ...(bastion ? ['    bastion:', '      hosts:', `        bastion: { ansible_host: ${bastion.address} }`] : []),
    '',
  ].join('\n');
}

/** nftables rule on a bridge: SSH from the bastion ($1) only, everyone else refused. */
const BASTION_ONLY = `
nft add table inet lab_bastion
nft add chain inet lab_bastion input '{ type filter hook input priority -10; policy accept; }'
nft add rule inet lab_bastion input ip saddr != "$1" tcp dport 22 reject with tcp reset`;

export interface UpOptions {
  bridges: number;
  era: Era;
  /** The profile of hosts not named in `profiles` (default debian-nft). */
  profile?: Profile;
  /** Profiles by host name or role (meet, jvb); a name wins over its role. */
  profiles?: Record<string, Profile>;
  /** The bridges accept SSH from the bastion host only; the inventory reaches them through it. */
  bastionOnly?: boolean;
  /** Prosody takes clients on loopback only (c2s_interfaces), so binding it is real work. */
  c2sLoopback?: boolean;
  /** The meet host and the bridges boot with systemd (default: none, as a container). */
  init?: Init;
  /**
   * false: the meet host has no bridge of its own (the handbook's scalable layout): Jicofo's
   * stand-in instead, and the Jitsi repository in its apt sources, as it was installed from it.
   */
  meetBridge?: boolean;
  log?: (line: string) => void;
}

/**
 * The root filesystems of the other releases the planned hosts run (built once, then cached), each
 * with its own flat repository in the lab.
 */
async function releaseTrees(
  planned: readonly { profile: Profile }[],
  log: (line: string) => void,
): Promise<Map<Release, { rootfs: Rootfs; repo: string }>> {
  const out = new Map<Release, { rootfs: Rootfs; repo: string }>();
  for (const p of planned) {
    const release = PROFILE_RELEASE[p.profile];
    if (!release || out.has(release)) continue;
    const rootfs = await ensureRootfs(release, log);
    const repo = join(LAB_DIR, `debian-${release}`);
    const n = await writeReleaseRepo(rootfs, repo);
    log(`the lab's ${release} repository serves ${n} packages to its ${release} hosts`);
    out.set(release, { rootfs, repo });
  }
  return out;
}

/** Brings the lab up; an already running lab of the same shape is left as it is. */
export async function labUp(opts: UpOptions): Promise<LabState> {
  const log = opts.log ?? (() => undefined);
  requireRoot();
  if (!Number.isInteger(opts.bridges) || opts.bridges < 1 || opts.bridges > MAX_BRIDGES)
    throw new LabError(`--bridges takes a number from 1 to ${MAX_BRIDGES}`);
  const planned = plannedHosts(opts.bridges, opts.profile ?? DEFAULT_PROFILE, opts.profiles ?? {}, opts.init);
  const existing = await readState();
  if (existing) {
    const up = existing.hosts.every((h) => alive(h.sshdPid));
    const sameProfiles = planned.every((p) => {
      const h = existing.hosts.find((x) => x.name === p.name);
      return h?.profile === p.profile && (h.init ?? 'none') === p.init;
    });
    if (
      up &&
      sameProfiles &&
      existing.bridges === opts.bridges &&
      existing.era === opts.era &&
      !!existing.bastionOnly === !!opts.bastionOnly &&
      !!existing.c2sLoopback === !!opts.c2sLoopback &&
      !existing.noMeetBridge === (opts.meetBridge ?? true)
    ) {
      log(`the lab is already up (${existing.bridges} bridges, ${existing.era} era)`);
      return existing;
    }
    log(
      up
        ? `a lab with ${existing.bridges} bridges (${existing.era}) is up: replacing it`
        : 'a stale lab was found: cleaning it up first',
    );
    await labDown(log);
  } else if ((await run('ip', ['netns', 'list'])).stdout.includes('jsl-')) {
    log('lab namespaces without a state file were found: cleaning them up first');
    await labDown(log);
  }
  await ensureDebianPackages(
    planned.some((h) => h.init === 'systemd') ? { ...LAB_NEEDS, '/lib/systemd/systemd': 'systemd' } : LAB_NEEDS,
    log,
  );
  await mkdir(LAB_DIR, { recursive: true });
  await writeFile(join(LAB_DIR, '.gitignore'), '*\n');
  await rm(CLIENT_KEY, { force: true });
  await rm(`${CLIENT_KEY}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'jitsi-scale-lab', '-f', CLIENT_KEY]);
  const [build, debs] = [join(LAB_DIR, 'build'), join(LAB_DIR, 'build', 'debs')];
  const deb = await buildStandinPackage(opts.era, build, debs);
  // The repository holds an older bridge too, the one the stand-in jitsi-meet release pairs with.
  await writeAptRepo(REPO_DIR, [
    deb,
    await buildStandinPackage(opts.era, build, debs, PAIRED_BRIDGE_VERSION[opts.era]),
    await buildJicofoPackage(build, debs),
    await buildMetaPackage(opts.era, build, debs),
  ]);
  const served = await buildDebianMirror(log);
  log(`the lab's Debian repository serves ${served} packages to its hosts`);
  const releases = await releaseTrees(planned, log);
  await createBridge();

  const hosts: LabHost[] = [];
  // Record each host as soon as it exists, so that `down` can clean up a half-made lab.
  const state: LabState = {
    era: opts.era,
    bridges: opts.bridges,
    created: new Date().toISOString(),
    hosts,
    profile: opts.profile ?? DEFAULT_PROFILE,
    ...(opts.profiles && Object.keys(opts.profiles).length ? { profiles: opts.profiles } : {}),
    ...(opts.bastionOnly ? { bastionOnly: true } : {}),
    ...(opts.c2sLoopback ? { c2sLoopback: true } : {}),
    ...(opts.init === 'systemd' ? { init: 'systemd' as const } : {}),
    ...(opts.meetBridge === false ? { noMeetBridge: true } : {}),
  };
  const save = () => writeFile(STATE_FILE, JSON.stringify(state, null, 2));
  await mapLimit(planned, 8, async (p) => {
    const release = PROFILE_RELEASE[p.profile];
    const h = await startHost(p, release && releases.get(release)!.rootfs.tree);
    hosts.push(h);
    await save();
    await preparePackageHost(h.sshdPid, undefined, release ? releases.get(release)!.repo : undefined);
    if (h.role === 'meet' || h.role === 'jvb') {
      const r = await inHost(h.sshdPid, profileScript(h.profile), [], { allowFail: true });
      if (r.code !== 0)
        throw new LabError(
          `making ${h.name} a ${h.profile} host failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}`,
        );
    }
    if (h.role === 'meet') await provisionMeet(h.sshdPid, opts.era, opts.c2sLoopback);
  });
  hosts.sort((a, b) => planned.findIndex((p) => p.name === a.name) - planned.findIndex((p) => p.name === b.name));
  await save();
  await writeFile(INVENTORY_FILE, inventoryYaml(state));
  const known = await Promise.all(
    hosts.map(
      async (h) => (await run('ssh-keyscan', ['-T', '5', '-t', 'ed25519', h.address], { allowFail: true })).stdout,
    ),
  );
  await writeFile(KNOWN_HOSTS, known.join(''));
  await writeFile(
    LAB_SSH_CONFIG,
    hosts
      .filter((h) => h.role === 'bastion')
      .map((b) => `Host ${b.address}\n  IdentityFile ${CLIENT_KEY}\n  UserKnownHostsFile ${KNOWN_HOSTS}\n`)
      .join(''),
  );
  const meetAddress = hosts.find((h) => h.role === 'meet')!.address;
  if (opts.meetBridge === false)
    await startMeetWithoutBridge(meetAddress, join(REPO_DIR, `jicofo_${JICOFO_STANDIN_VERSION}_all.deb`));
  else await startMeet(meetAddress, deb);
  if (opts.bastionOnly) {
    const bastion = hosts.find((h) => h.role === 'bastion')!;
    for (const b of hosts.filter((h) => h.role === 'jvb')) await inHost(b.sshdPid, BASTION_ONLY, [bastion.address]);
  }
  return state;
}

/** Removes everything `up` made: processes (by namespace), namespaces, links, files. Safe to repeat. */
export async function labDown(log: (line: string) => void = () => undefined): Promise<void> {
  requireRoot();
  await natDown();
  const namespaces = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('jsl-'));
  const state = await readState();
  for (const pass of ['TERM', 'KILL'] as const) {
    const pids = new Set<number>();
    for (const ns of namespaces) {
      const r = await run('ip', ['netns', 'pids', ns], { allowFail: true });
      for (const p of r.stdout.split(/\s+/).filter(Boolean)) pids.add(Number(p));
    }
    for (const h of state?.hosts ?? []) if (alive(h.sshdPid)) pids.add(h.sshdPid);
    if (pids.size === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, pass === 'TERM' ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, pass === 'TERM' ? 500 : 200));
  }
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns], { allowFail: true });
  await removeCgroups();
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && n.startsWith('jsl-'));
  for (const l of links) await run('ip', ['link', 'del', l], { allowFail: true });
  if (existsSync(LAB_DIR)) await rm(LAB_DIR, { recursive: true, force: true });
  if (namespaces.length || links.length) log(`removed ${namespaces.length} hosts and ${links.length} links`);
}

export interface LabStatus {
  up: boolean;
  state: LabState | null;
  hosts: { name: string; address: string; profile: string; sshd: boolean }[];
  leftovers: string[];
}

export async function labStatus(): Promise<LabStatus> {
  const state = await readState();
  const namespaces = (await run('ip', ['netns', 'list'], { allowFail: true })).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('jsl-'));
  const bridge = (await run('ip', ['link', 'show', BRIDGE_DEV], { allowFail: true })).code === 0;
  const hosts = (state?.hosts ?? []).map((h) => ({
    name: h.name,
    address: h.address,
    profile: h.profile ?? '',
    sshd: alive(h.sshdPid),
  }));
  const known = new Set((state?.hosts ?? []).map((h) => h.ns));
  const leftovers = [
    ...namespaces.filter((n) => !known.has(n)).map((n) => `namespace ${n}`),
    ...(bridge && !state ? [`link ${BRIDGE_DEV}`] : []),
  ];
  return { up: !!state && hosts.length > 0 && hosts.every((h) => h.sshd), state, hosts, leftovers };
}

/** Reboots lab hosts (systemd hosts only) and records their new pids; returns the new state. */
export async function labReboot(names: readonly string[]): Promise<LabState> {
  requireRoot();
  const state = await readState();
  if (!state) throw new LabError('the lab is not up');
  for (const name of names) {
    const i = state.hosts.findIndex((h) => h.name === name);
    if (i < 0) throw new LabError(`no lab host is called ${name}`);
    state.hosts[i] = await rebootHost(state.hosts[i]!);
  }
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2));
  return state;
}

/**
 * Puts the stand-in Jicofo on the meet host (installed and started, as the jicofo package is), or
 * takes it off (removed). Through the meet host's own sshd, so its daemon is that host's child.
 */
export async function labJicofo(on: boolean): Promise<void> {
  const state = await readState();
  const meet = state?.hosts.find((h) => h.role === 'meet');
  if (!meet) throw new LabError('the lab is not up (npm run lab -- up)');
  const deb = join(REPO_DIR, `jicofo_${JICOFO_STANDIN_VERSION}_all.deb`);
  const script = on ? 'DEBIAN_FRONTEND=noninteractive dpkg -i "$1" >/dev/null' : 'dpkg -r jicofo >/dev/null';
  try {
    await overSsh(meet.address, script, [deb], `jicofo ${on ? 'on' : 'off'}`);
  } catch (e) {
    throw new LabError((e as Error).message);
  }
}
