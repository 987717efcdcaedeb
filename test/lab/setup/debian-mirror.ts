import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAptRepo } from '../standin-jvb/build-package.js';
import { DEBIAN_REPO_DIR, PACKAGE_CACHE } from './lab-config.js';
import { run } from './run.js';

/*
 * The lab's hosts reach no package mirror, as the lab has no network beyond its own bridge. Every
 * Debian package the tool or a host profile may install on a host is therefore served by the lab
 * itself: a flat apt repository holding those packages and their dependencies (those this
 * machine, and so every host's overlay of it, does not have), fetched with `apt-get download`
 * into a cache that outlives `lab down`. Each host's apt sources name only this repository.
 */

/** What the tool may install on a host (nftables, iptables-persistent) and what profiles install. */
export const MIRROR_PACKAGES = [
  'nftables',
  'iptables',
  'iptables-persistent',
  'netfilter-persistent',
  'ufw',
  'firewalld',
  'dbus',
  // The meet host's web server, for the per-bridge colibri-ws routes.
  'nginx',
  'needrestart',
];

/** Pure: package names from `apt-cache depends --recurse` (virtual packages, in <>, are left out). */
export function dependencyNames(text: string): string[] {
  return [
    ...new Set(
      text
        .split('\n')
        .filter((l) => /^[a-z0-9]/.test(l))
        .map((l) => l.trim()),
    ),
  ].sort();
}

/** Pure: the candidate version of each package in `apt-cache policy` output (none: absent). */
export function candidates(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) name = head[1]!;
    const cand = /^\s+Candidate: (\S+)/.exec(line);
    if (cand && name && cand[1] !== '(none)') out.set(name, cand[1]!);
  }
  return out;
}

/** The .deb file name apt-get download gives a package version (the epoch's colon is escaped). */
function debPrefix(name: string, version: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_`;
}

async function installedHere(): Promise<Set<string>> {
  const r = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n']);
  return new Set(
    r.stdout
      .split('\n')
      .filter((l) => / ii ?$/.test(l))
      .map((l) => l.split(' ')[0]!),
  );
}

/** Builds the lab's Debian repository; returns the number of packages it serves. */
export async function buildDebianMirror(log: (line: string) => void): Promise<number> {
  let policy = candidates((await run('apt-cache', ['policy', ...MIRROR_PACKAGES])).stdout);
  if (MIRROR_PACKAGES.some((p) => !policy.has(p))) {
    await run('apt-get', ['update', '-q']);
    policy = candidates((await run('apt-cache', ['policy', ...MIRROR_PACKAGES])).stdout);
  }
  const deps = dependencyNames(
    (
      await run('apt-cache', [
        'depends',
        '--recurse',
        '--no-recommends',
        '--no-suggests',
        '--no-conflicts',
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        ...MIRROR_PACKAGES,
      ])
    ).stdout,
  );
  const installed = await installedHere();
  // The packages themselves are always served, installed here or not: a profile may take them
  // away from a host (bare has no firewall tool), and the tool then installs them again.
  const wanted = candidates(
    (await run('apt-cache', ['policy', ...deps.filter((d) => !installed.has(d) || MIRROR_PACKAGES.includes(d))]))
      .stdout,
  );
  await mkdir(PACKAGE_CACHE, { recursive: true });
  const cached = await readdir(PACKAGE_CACHE);
  const file = (name: string, version: string) =>
    cached.find((f) => f.startsWith(debPrefix(name, version)) && f.endsWith('.deb'));
  const missing = [...wanted].filter(([n, v]) => !file(n, v)).map(([n, v]) => `${n}=${v}`);
  if (missing.length) {
    log(`downloading ${missing.length} Debian packages for the lab's hosts (cached in ${PACKAGE_CACHE})`);
    const r = await run('sh', ['-c', 'cd "$1" && shift && apt-get download -q "$@"', 'dl', PACKAGE_CACHE, ...missing], {
      allowFail: true,
    });
    if (r.code !== 0)
      throw new Error(
        `apt-get download failed: ${(r.stderr || r.stdout).trim().split('\n').pop()} (this machine must reach its Debian mirror once; later lab runs use the cache)`,
      );
    cached.push(...(await readdir(PACKAGE_CACHE)).filter((f) => !cached.includes(f)));
  }
  const debs = [...wanted]
    .map(([n, v]) => file(n, v))
    .filter((f): f is string => !!f)
    .map((f) => join(PACKAGE_CACHE, f));
  await writeAptRepo(DEBIAN_REPO_DIR, debs);
  return debs.length;
}
