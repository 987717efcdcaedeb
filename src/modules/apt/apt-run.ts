import type { Change } from '../../contract/change.js';
import { HostError, whyFailed } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { needrestartLines, parseNeedrestart } from './needrestart.js';

/*
 * apt as an operator runs it. Before apt starts, a package manager that holds the dpkg or lists
 * lock (unattended-upgrades, Ubuntu's default, at boot) is waited for, up to a bound, and named
 * while we wait; apt itself is told to wait as long. A dpkg run that was cut off half-way (a
 * killed run) is finished first with `dpkg --configure -a`, as apt asks. When apt fails, the reason is read from
 * everything it printed in this run (the lists refresh included), not from its last line:
 * an unreachable source, a missing signing key, a held package.
 */

/** How long a run waits for another package manager to let go of the dpkg lock. */
export const APT_LOCK_WAIT_S = 300;

// apt's and dpkg's locks, and debconf's database, which a package's maintainer script holds while it runs.
const LOCKS = [
  '/var/lib/dpkg/lock-frontend',
  '/var/lib/dpkg/lock',
  '/var/lib/apt/lists/lock',
  '/var/cache/debconf/config.dat',
];

// $1 the bound in seconds, the lock files up to "--", then the command. The holder is found in
// /proc/locks by the lock file's inode, so no tool (fuser, lsof) is needed.
const WAIT_THEN_RUN = `
bound=$1; shift
locks=
while [ "$1" != -- ]; do locks="$locks $1"; shift; done; shift
holder() {
  set -- $locks
  found=$(stat -c '%i %n' -- "$@" 2>/dev/null | awk 'NR == FNR { file[$1] = $2; next }
    $2 != "->" { n = split($6, a, ":"); if ((a[n] in file) && $5 > 0) { print $5, file[a[n]]; exit } }' - /proc/locks 2>/dev/null)
  [ -n "$found" ] || return 1
  pid=\${found%% *}
  echo "$pid $(cat /proc/$pid/comm 2>/dev/null || echo unknown) \${found#* }"
}
waited=0 said=
interrupted() { [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; }
while h=$(holder); do
  set -- $h "$@"; pid=$1 name=$2 lock=$3; shift 3
  [ "$name" = unattended-upgr ] && name=unattended-upgrades
  if [ "$said" != "$pid" ]; then echo "waiting for $name (pid $pid), which holds $lock; up to $bound s"; said=$pid; fi
  if [ "$waited" -ge "$bound" ]; then echo "E: jitsi-scale: $name (pid $pid) still holds $lock after $bound s" >&2; exit 75; fi
  sleep 1; waited=$((waited + 1))
done
# A dpkg run cut off half-way (its process killed) blocks every later install until it is finished.
if interrupted; then
  echo "finishing an interrupted dpkg run first (dpkg --configure -a)"
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confold || exit $?
fi
exec "$@"`;

/** argv run after waiting for the dpkg/apt locks, and with apt told to wait as long itself. */
export function withLockWait(argv: readonly string[], bound = APT_LOCK_WAIT_S): string[] {
  const i = argv.indexOf('apt-get');
  const apt = i < 0 ? [...argv] : [...argv.slice(0, i + 1), '-o', `DPkg::Lock::Timeout=${bound}`, ...argv.slice(i + 1)];
  return shScript(WAIT_THEN_RUN, String(bound), ...LOCKS, '--', ...apt);
}

/** Pure: the source that could not be fetched, and why, from apt's "Err:" lines and "Failed to fetch" warnings. */
function unfetched(lines: readonly string[]): { url: string; why: string } | null {
  for (const [i, line] of lines.entries()) {
    const err = /^Err:\d+ (\S+)/.exec(line);
    if (err && lines[i + 1]) return { url: err[1]!, why: lines[i + 1]!.trim() };
    const failed = /^[WE]: Failed to fetch (\S+)\s+(.+)$/.exec(line);
    if (failed) return { url: failed[1]!, why: failed[2]!.trim() };
  }
  return null;
}

/** Pure: the real reason apt failed, from all it printed in the run; null when none is recognised. */
export function aptFailureReason(lines: readonly string[]): string | null {
  const text = lines.join('\n');
  const held = lines.find((l) => l.startsWith('E: jitsi-scale: '));
  if (held) return `the package manager lock is not free: ${held.slice('E: jitsi-scale: '.length)}`;
  const lock = /Could not get lock (\S+?)\.? It is held by process (\d+) \(([^)]+)\)/.exec(text);
  if (lock) return `${lock[3]} (pid ${lock[2]}) holds ${lock[1]}: wait for it to finish, then run again`;
  const key = /NO_PUBKEY ([0-9A-F]+)/.exec(text);
  if (key)
    return `the package source is signed with a key this host does not have (NO_PUBKEY ${key[1]}): check jitsi_apt_key_url`;
  const fetch = unfetched(lines);
  if (fetch) return `the package source ${fetch.url} cannot be reached: ${fetch.why}`;
  const release = /The repository '([^']+)' (?:is not signed|does not have a Release file)/.exec(text);
  if (release) return `the package source ${release[1]} has no usable Release file (wrong URL or suite?)`;
  if (/held packages were changed|you have held broken packages/i.test(text)) {
    const which = /^The following held packages will be changed:\n\s*(.+)$/m.exec(text)?.[1];
    return `a package is held${which ? ` (${which.trim()})` : ''} and blocks the install: see apt-mark showhold, and apt-mark unhold it if it may change`;
  }
  const missing = /Unable to locate package (\S+)|Package '?([^\s']+)'? has no installation candidate/.exec(text);
  if (missing) return `no package source offers ${missing[1] ?? missing[2]}: check jitsi_apt_source`;
  return null;
}

/** What the apt commands of one host's plan printed, shared so that a failure can be explained by all of it. */
export type AptLog = string[];

/** An apt command as a change: waits for the locks, shows its output live, explains a failure. */
export function aptChange(
  description: string,
  argv: readonly string[],
  log: AptLog,
  opts: { stdin?: string; what?: string } = {},
): Change {
  return {
    description,
    async apply(h, io) {
      const mine: string[] = [];
      const r = await h.exec(withLockWait(argv), {
        deadline: 'package',
        what: opts.what ?? argv.join(' '),
        onLine: (stream, line) => {
          log.push(line);
          mine.push(line);
          io.output(stream, line);
        },
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      });
      // What needrestart listed at the end of the transaction, said with the change in the run's output.
      const notes = needrestartLines(parseNeedrestart(mine));
      if (r.code === 0) return notes.length ? { notes } : undefined;
      const why = aptFailureReason(log) ?? whyFailed(r);
      throw new HostError(h.name, `${opts.what ?? description} failed: ${why}`);
    },
  };
}
