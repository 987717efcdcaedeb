import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';

/*
 * Who holds a run lock. A host name is no identity: default cloud VM names and CI containers
 * repeat, and a pid means something on its own machine only, in its own pid namespace, and until
 * it is reused. So the holder is named by the machine (machine-id), its boot (boot_id), its pid
 * namespace and its process start time; the host name and user are there for the person reading.
 */

/** The lock file's content (JSON). The identity fields are empty where this machine cannot tell. */
export interface LockInfo {
  runId: string;
  user: string;
  /** For display only: two machines may share it. */
  host: string;
  pid: number;
  started: string;
  /** /etc/machine-id (or /var/lib/dbus/machine-id); absent in a lock written by an older version. */
  machine?: string;
  /** /proc/sys/kernel/random/boot_id: a new one at each boot. */
  boot?: string;
  /** The pid namespace (/proc/self/ns/pid): containers on one kernel share machine and boot. */
  pidns?: string;
  /** The process start, in clock ticks after boot (/proc/PID/stat field 22): a reused pid has another. */
  since?: string;
}

/** Where pids can be checked: this machine, this boot, this pid namespace. */
export interface ProcessSpace {
  machine: string;
  boot: string;
  pidns: string;
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The machine id, '' when there is none (an unset or "uninitialized" one is none). */
export function machineId(read: (path: string) => string = readText): string {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    const id = read(path);
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  }
  return '';
}

/** Pure: the start time (field 22) from a /proc/PID/stat line; the command name may hold spaces and parentheses. */
export function startTicks(stat: string): string | null {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (the state), so field 22 is rest[19].
  const ticks = rest[19];
  return stat.includes(')') && ticks && /^\d+$/.test(ticks) ? ticks : null;
}

let here: ProcessSpace | undefined;

/** This process's space, read once. */
export function ownSpace(): ProcessSpace {
  if (!here) {
    let pidns = '';
    try {
      pidns = readlinkSync('/proc/self/ns/pid');
    } catch {
      // no /proc here: pids cannot be checked, a lock is then stale by its age only
    }
    here = { machine: machineId(), boot: readText('/proc/sys/kernel/random/boot_id'), pidns };
  }
  return here;
}

export function ownLockInfo(runId: string, now = new Date()): LockInfo {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid: keep "unknown"
  }
  const since = startTicks(readText('/proc/self/stat')) ?? '';
  return { runId, user, host: hostname(), pid: process.pid, started: now.toISOString(), ...ownSpace(), since };
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The start time of the process with this pid here: null when there is none, undefined when it
 * cannot be told (no /proc, or /proc hides other users' processes: hidepid).
 */
export function processStart(pid: number): string | null | undefined {
  // 0 and negative pids name process groups to kill(2): never a holder.
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return pidExists(pid) ? undefined : null;
  }
  return startTicks(stat) ?? undefined;
}

const sameSpace = (h: LockInfo, space: ProcessSpace): boolean =>
  !!space.machine &&
  !!space.boot &&
  !!space.pidns &&
  h.machine === space.machine &&
  h.boot === space.boot &&
  h.pidns === space.pidns;

/**
 * Pure: why the holder is gone, or null while it may be alive. Gone at once only when it ran in
 * this very process space and its process (that pid with that start time) is no more; anywhere
 * else (another machine, a cloned one sharing our machine id but not our boot, another container)
 * only when its lock has not been touched for staleS.
 */
export function whyStale(
  holder: LockInfo | null,
  ageS: number,
  staleS: number,
  space: ProcessSpace,
  startOf: (pid: number) => string | null | undefined,
): string | null {
  if (holder && sameSpace(holder, space)) {
    const start = startOf(holder.pid);
    if (start === null) return `its process ${holder.pid} on this machine is gone`;
    if (start !== undefined && holder.since && start !== holder.since)
      return `its process ${holder.pid} on this machine is gone (that pid is now another process)`;
  }
  if (ageS > staleS) return `it was last touched ${ageS} s ago`;
  return null;
}

/** The holder in words: who, where (the machine id's head tells same-named machines apart), since when. */
export function describeHolder(holder: LockInfo | null, raw: string): string {
  if (!holder) return `a lock that does not say whose it is (${JSON.stringify(raw.slice(0, 80))})`;
  const machine = holder.machine ? ` (machine ${holder.machine.slice(0, 8)})` : '';
  return `run ${holder.runId} by ${holder.user} on ${holder.host} (pid ${holder.pid}), started ${holder.started}${machine}`;
}

/** Pure: the holder from the lock's content, null when it does not read as one. */
export function parseHolder(raw: string): LockInfo | null {
  try {
    const h = JSON.parse(raw) as unknown;
    return h && typeof h === 'object' && typeof (h as LockInfo).runId === 'string' ? (h as LockInfo) : null;
  } catch {
    return null;
  }
}
