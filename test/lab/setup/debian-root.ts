import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAptRepo } from '../standin-jvb/build-package.js';
import { ensureDebianPackages } from '../../support/debian-packages.js';
import { MIRROR_PACKAGES } from './debian-mirror.js';
import { PROJECT_ROOT } from './lab-config.js';
import { run } from './run.js';

/*
 * A Debian release other than this machine's, for lab hosts of its profile: a real root
 * filesystem built from Debian's registry with mmdebstrap (the same mirror this machine's apt
 * uses), cached below .lab-cache like the lab's packages, so a machine builds it once and every
 * later lab reuses it. A host of such a profile has this tree, not this machine's, as the lower
 * layer of its /etc, /usr, /var, /opt and /root overlays (both are merged-usr: /bin, /sbin, /lib
 * are links into /usr). Next to the tree, the release's own .debs of what the tool and the
 * profiles may install (MIRROR_PACKAGES and what they need beyond the tree) are kept, and served to
 * those hosts as their one package source, as the lab serves this machine's release to the others.
 */

export const ROOTFS_CACHE = join(PROJECT_ROOT, '.lab-cache', 'rootfs');

/**
 * What the tree holds: a Debian server's base (minbase), what the lab runs on every host (sshd,
 * sudo, tini, the tools the tool's probes use), and Prosody with its Recommends, as apt installs it.
 */
export const ROOTFS_PACKAGES = [
  'openssh-server',
  'openssh-client',
  'sudo',
  'tini',
  'openssl',
  'ca-certificates',
  'iproute2',
  'procps',
  'curl',
  'sysvinit-utils',
  'prosody',
  'lua5.4-event',
  'lua5.4-readline',
  'lua5.4-unbound',
];

/** The releases the lab can build, by the suite name Debian's registry serves them under. */
export const RELEASES = { trixie: 'Debian 13' } as const;
export type Release = keyof typeof RELEASES;

/** Pure: the Debian mirror in this machine's apt sources (deb822 or one-line), else Debian's CDN. */
export function debianMirror(sources: string): string {
  const deb822 = /^URIs:\s*(\S+)/im.exec(
    sources.split(/\n\s*\n/).find((b) => /Components:.*\bmain\b/.test(b) && !/security/.test(b)) ?? '',
  );
  if (deb822) return deb822[1]!.replace(/\/$/, '');
  const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+.*\bmain\b/m.exec(
    sources
      .split('\n')
      .filter((l) => !/security/.test(l))
      .join('\n'),
  );
  return line ? line[1]!.replace(/\/$/, '') : 'http://deb.debian.org/debian';
}

/** Pure: the cache entry's name: the release, and a digest of what it is built from. */
export function rootfsKey(
  release: Release,
  mirror: string,
  packages: readonly string[],
  extra: readonly string[],
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([release, mirror, [...packages].sort(), [...extra].sort()]))
    .digest('hex')
    .slice(0, 12);
  return `${release}-${digest}`;
}

async function machineSources(): Promise<string> {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => /\.(sources|list)$/.test(f)) : [];
  const texts = await Promise.all(
    ['/etc/apt/sources.list', ...files.map((f) => join(dir, f))].map((f) => readFile(f, 'utf8').catch(() => '')),
  );
  // Debian's own entries only (a machine may list other vendors' repositories too)
  return texts.filter((t) => /debian/.test(t)).join('\n\n');
}

export interface Rootfs {
  release: Release;
  /** The tree the hosts' overlays lie on. */
  tree: string;
  /** The release's .debs of what the tool and the profiles may install. */
  debs: string[];
  /** Seconds the build took, when this call built it (absent: from the cache). */
  builtIn?: number;
}

// Downloads into the tree's own cache directory what the tool and profiles may install that the
// tree lacks, with the tree's apt (its release's candidates), one package at a time (ufw Breaks
// iptables-persistent: together they have no solution); then moves them out of the tree.
const DOWNLOAD_HOOK = (packages: readonly string[]) =>
  `set -e; mkdir -p "$1/var/cache/lab-debs/partial"; for p in ${packages.join(' ')}; do chroot "$1" apt-get install -y -q --download-only --no-install-recommends -o Dir::Cache::archives=/var/cache/lab-debs/ "$p"; done; mv "$1/var/cache/lab-debs" "$1.debs"; rm -rf "$1.debs/partial" "$1.debs/lock"`;

/** /etc/hosts as Debian's installer writes it (without the host's own name, which each lab host sets). */
const ETC_HOSTS =
  '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n';

/** The release's tree (built with mmdebstrap the first time, from the cache after). */
export async function ensureRootfs(release: Release, log: (line: string) => void): Promise<Rootfs> {
  const mirror = debianMirror(await machineSources());
  const extra = MIRROR_PACKAGES;
  const key = rootfsKey(release, mirror, ROOTFS_PACKAGES, extra);
  const dir = join(ROOTFS_CACHE, key);
  const done = join(dir, 'complete');
  let builtIn: number | undefined;
  if (!existsSync(done)) {
    await ensureDebianPackages({ '/usr/bin/mmdebstrap': 'mmdebstrap' }, log);
    log(
      `building a ${RELEASES[release]} (${release}) root filesystem from ${mirror} with mmdebstrap (cached in ${dir})`,
    );
    const work = `${dir}.part-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const started = Date.now();
    // mmdebstrap's own log goes to a file (its stdin from /dev/null: with a closed pipe it stops)
    const buildLog = `${work}.log`;
    const r = await run(
      'sh',
      [
        '-c',
        'log=$1; shift; exec mmdebstrap "$@" </dev/null >"$log" 2>&1',
        'mmdebstrap',
        buildLog,
        '--mode=root',
        '--variant=minbase',
        '--format=directory',
        `--include=${ROOTFS_PACKAGES.join(',')}`,
        `--customize-hook=${DOWNLOAD_HOOK(extra)}`,
        release,
        join(work, 'tree'),
        mirror,
      ],
      { allowFail: true },
    );
    if (r.code !== 0)
      throw new Error(
        `building the ${release} root filesystem failed (mmdebstrap from ${mirror}): ${(await readFile(buildLog, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' / ')} (see ${buildLog})`,
      );
    await rename(join(work, 'tree.debs'), join(work, 'debs'));
    builtIn = Math.round((Date.now() - started) / 100) / 10;
    await writeFile(join(work, 'complete'), `${new Date().toISOString()} built in ${builtIn} s from ${mirror}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    await rm(buildLog, { force: true });
    log(`the ${release} root filesystem was built in ${builtIn} s`);
  }
  // mmdebstrap writes no /etc/hosts; Debian's installer does (localhost resolves through it), so the tree gets one
  const hosts = join(dir, 'tree', 'etc', 'hosts');
  if (!existsSync(hosts)) await writeFile(hosts, ETC_HOSTS);
  const debs = (await readdir(join(dir, 'debs'))).filter((f) => f.endsWith('.deb')).map((f) => join(dir, 'debs', f));
  return { release, tree: join(dir, 'tree'), debs, ...(builtIn !== undefined ? { builtIn } : {}) };
}

/** Writes the release's flat apt repository (its hosts' one package source) into `repoDir`. */
export async function writeReleaseRepo(rootfs: Rootfs, repoDir: string): Promise<number> {
  await writeAptRepo(repoDir, rootfs.debs);
  return rootfs.debs.length;
}
