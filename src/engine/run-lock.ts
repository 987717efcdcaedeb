import type { Host } from '../transport/host.js';
import { HostError } from '../transport/host.js';
import {
  LOCK_DEADLINE_S,
  LOCK_FILE,
  acquireCommand,
  lockFailure,
  parseLockAnswer,
  type LockAnswer,
} from './lock-commands.js';
import { describeHolder, ownLockInfo, ownSpace, processStart, whyStale } from './lock-holder.js';
import { keepLock, type HeldLock } from './lock-keeper.js';

export type { HeldLock } from './lock-keeper.js';

/*
 * One run at a time per shard: a lock file on the anchor host (the meet host) in the tool's state
 * directory, created only if absent, under flock so that two runs never both take it
 * (lock-commands.ts). It says who holds it (lock-holder.ts). The holder touches it as it goes,
 * only while it is still its own, and stops the run when it is not (lock-keeper.ts). A lock whose
 * holder is gone (its process is gone from this machine, or the lock has not been touched for the
 * stale time) is taken over, and the run says so.
 */

/** A lock not touched for this long belongs to a run that is gone (link cut, machine lost, laptop asleep). */
export const STALE_AFTER_S = 120;

export interface LockTiming {
  staleS: number;
  /** How often the holder touches its lock. */
  heartbeatMs: number;
  /** Before a change, the lock is confirmed anew when the last confirmation is older than this. */
  verifyAfterMs: number;
  /** How long the client waits for a lock command's answer: the host's own deadline, and some. */
  answerMs: number;
}

/**
 * The stale time: JITSI_SCALE_LOCK_STALE_S seconds when that is a whole number ≥ 1 (tests shorten
 * it), else STALE_AFTER_S. The heartbeat runs 8 times per stale time; a change first confirms the
 * lock once half of it has passed without a confirmation (the process was stopped, or slept).
 */
export function lockTiming(env: NodeJS.ProcessEnv = process.env): LockTiming {
  const asked = Number(env.JITSI_SCALE_LOCK_STALE_S);
  const staleS = Number.isInteger(asked) && asked >= 1 ? asked : STALE_AFTER_S;
  const answerMs = (LOCK_DEADLINE_S.touch + 3) * 1000;
  return { staleS, heartbeatMs: (staleS * 1000) / 8, verifyAfterMs: (staleS * 1000) / 2, answerMs };
}

/** Is the holder gone? As whyStale decides, for this process on this machine. */
export function isStale(answer: Extract<LockAnswer, { taken: false }>, staleS = lockTiming().staleS): string | null {
  return whyStale(answer.holder, answer.ageS, staleS, ownSpace(), processStart);
}

/**
 * Takes the shard's run lock on `host`, taking over a stale one; throws a HostError naming the
 * holder when another run has it. One round trip, two when a stale lock is taken over.
 */
export async function acquireRunLock(
  host: Host,
  stateDir: string,
  runId: string,
  timing = lockTiming(),
): Promise<HeldLock> {
  const mine = JSON.stringify(ownLockInfo(runId));
  const attempt = async (stale: string, touched = '') => {
    // readOnly: the lock is no file a step reads.
    const r = await host.exec(acquireCommand(stateDir, mine, stale, touched), { readOnly: true });
    if (r.code !== 0) throw new HostError(host.name, `cannot take the run lock in ${stateDir}: ${lockFailure(r)}`);
    return parseLockAnswer(r.stdout);
  };
  let answer = await attempt('');
  let tookOver: string | undefined;
  if (!answer.taken) {
    const why = isStale(answer, timing.staleS);
    const holder = describeHolder(answer.holder, answer.raw);
    if (!why)
      throw new HostError(
        host.name,
        `another jitsi-scale run holds this shard: ${holder}; wait for it to end, or if it is gone remove ${stateDir}/${LOCK_FILE} on ${host.name}`,
      );
    tookOver = `took over the run lock of ${holder}: ${why}`;
    // Taken over only as it was seen: a holder that touched it since is alive after all.
    answer = await attempt(answer.raw, answer.touched);
    if (!answer.taken)
      throw new HostError(
        host.name,
        `another jitsi-scale run took this shard first: ${describeHolder(answer.holder, answer.raw)}`,
      );
  }
  const held = keepLock(host, stateDir, mine, timing);
  return tookOver ? Object.assign(held, { tookOver }) : held;
}
