import { hostname, userInfo } from 'node:os';
import type { Host } from '../transport/host.js';
import { HostError, whyFailed } from '../transport/host.js';
import { shScript } from '../transport/shell-quote.js';

/*
 * One run at a time per shard: a lock file on the anchor host (the meet host) in the tool's state
 * directory, created only if absent, under flock so that two runs never both take it. It says who
 * holds it. The holder touches it as it goes; a lock whose holder is gone (its pid is dead on this
 * machine, or it has not been touched for STALE_AFTER_S) is taken over, and the run says so.
 */

export const LOCK_FILE = 'run.lock';
/** A lock not touched for this long belongs to a run that is gone (link cut, machine lost). */
export const STALE_AFTER_S = 120;
/** How often the holder touches its lock. */
export const HEARTBEAT_MS = 15_000;

export interface LockInfo {
  runId: string;
  user: string;
  host: string;
  pid: number;
  started: string;
}

export function ownLockInfo(runId: string, now = new Date()): LockInfo {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid: keep "unknown"
  }
  return { runId, user, host: hostname(), pid: process.pid, started: now.toISOString() };
}

// $1 dir, $2 our info, $3 the content we may take over ('' for none). Prints "taken" or the
// holder's info and the lock's age in seconds.
const ACQUIRE = `
set -u
dir=$1 info=$2 stale=$3 lock=$1/${LOCK_FILE}
mkdir -p -- "$dir" || exit 5
exec 9>"$dir/.lock-guard"
if command -v flock >/dev/null 2>&1; then flock -w 10 9 || exit 6; fi
if [ -n "$stale" ] && [ -f "$lock" ] && [ "$(cat -- "$lock")" = "$stale" ]; then rm -f -- "$lock"; fi
if (set -C; printf '%s\\n' "$info" > "$lock") 2>/dev/null; then echo taken; exit 0; fi
echo "held $(( $(date +%s) - $(stat -c %Y -- "$lock" 2>/dev/null || date +%s) ))"
cat -- "$lock"
exit 0`;

export type LockAnswer = { taken: true } | { taken: false; holder: LockInfo | null; raw: string; ageS: number };

/** Pure: the answer of the ACQUIRE script. */
export function parseLockAnswer(out: string): LockAnswer {
  if (/^taken$/m.test(out)) return { taken: true };
  const m = /^held (-?\d+)\n([\s\S]*)$/.exec(out);
  const raw = (m?.[2] ?? '').replace(/\n$/, '');
  let holder: LockInfo | null = null;
  try {
    holder = JSON.parse(raw) as LockInfo;
  } catch {
    holder = null;
  }
  return { taken: false, holder, raw, ageS: Number(m?.[1] ?? 0) };
}

/** Is the holder gone: a dead pid on this very machine, or a lock not touched for too long? */
export function isStale(
  answer: Extract<LockAnswer, { taken: false }>,
  alive: (pid: number) => boolean,
  here = hostname(),
): string | null {
  const h = answer.holder;
  if (h && h.host === here && !alive(h.pid)) return `its process ${h.pid} on ${here} is gone`;
  if (answer.ageS > STALE_AFTER_S) return `it was last touched ${answer.ageS} s ago`;
  return null;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeHolder(answer: Extract<LockAnswer, { taken: false }>): string {
  const h = answer.holder;
  if (!h) return `a lock that does not say whose it is (${JSON.stringify(answer.raw.slice(0, 80))})`;
  return `run ${h.runId} by ${h.user} on ${h.host} (pid ${h.pid}), started ${h.started}`;
}

export interface HeldLock {
  /** Set when a stale lock was taken over: whose, and why it was stale. */
  tookOver?: string;
  release(): Promise<void>;
}

/**
 * Takes the shard's run lock on `host`, taking over a stale one; throws a HostError naming the
 * holder when another run has it.
 */
export async function acquireRunLock(host: Host, stateDir: string, runId: string): Promise<HeldLock> {
  const info = JSON.stringify(ownLockInfo(runId));
  const attempt = async (stale: string) => {
    // readOnly: the lock is no file a step reads, so what was read with the facts stays valid.
    const r = await host.exec(shScript(ACQUIRE, stateDir, info, stale), { readOnly: true });
    if (r.code !== 0) throw new HostError(host.name, `cannot take the run lock in ${stateDir}: ${whyFailed(r)}`);
    return parseLockAnswer(r.stdout);
  };
  let answer = await attempt('');
  let tookOver: string | undefined;
  if (!answer.taken) {
    const why = isStale(answer, pidAlive);
    if (!why)
      throw new HostError(
        host.name,
        `another jitsi-scale run holds this shard: ${describeHolder(answer)}; wait for it to end, or if it is gone remove ${stateDir}/${LOCK_FILE} on ${host.name}`,
      );
    tookOver = `took over the run lock of ${describeHolder(answer)}: ${why}`;
    answer = await attempt(answer.raw);
    if (!answer.taken)
      throw new HostError(host.name, `another jitsi-scale run took this shard first: ${describeHolder(answer)}`);
  }
  const lock = `${stateDir}/${LOCK_FILE}`;
  const beat = setInterval(() => {
    void host.exec(['touch', '-c', '--', lock], { readOnly: true }).catch(() => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    ...(tookOver ? { tookOver } : {}),
    async release() {
      clearInterval(beat);
      // Only our own lock: compare its run id before removing it.
      await host
        .exec(
          shScript(
            'grep -qF -- "$2" "$1" 2>/dev/null && rm -f -- "$1"; exit 0',
            lock,
            `"runId":${JSON.stringify(runId)}`,
          ),
        )
        .catch(() => undefined);
    },
  };
}
