import { stateDirOf } from '../pending.js';
import { anchorRoles } from '../playbook.js';
import { reasonOf } from '../reason.js';
import { acquireRunLock, type HeldLock } from '../run-lock.js';
import type { HostState, Run } from './run-state.js';

/** Does the run change anything? Only such a run takes the lock: a look writes nothing, not even a lock. */
function changes<S>(run: Run<S>): boolean {
  return run.opts.mode === 'apply' && run.playbook.steps.some((s) => s.kind !== 'check');
}

/**
 * The lock is taken on the first anchor host as soon as it is connected, and every host's facts
 * wait for it: a run that waited for or took over another run's lock reads the state that run
 * left, never the state from before. The gate costs no round trip of its own.
 */
export interface LockGate {
  /** The host the lock goes on; null when the run takes no lock. */
  readonly anchor: HostState | null;
  /** Takes the lock once the anchor is connected (or lost: then there is none to take). */
  take(): Promise<void>;
  /** True once the facts may be read: the lock is held, or none is needed. */
  passed(): Promise<boolean>;
  /** The lock held; null when none; 'refused' when another run holds it. */
  outcome(): Promise<HeldLock | null | 'refused'>;
}

export function lockGate<S>(run: Run<S>): LockGate {
  const anchors = anchorRoles(run.playbook);
  const anchor = changes(run) ? (run.states.find((st) => anchors.has(st.spec.role)) ?? null) : null;
  let settle!: (v: HeldLock | null | 'refused') => void;
  const settled = new Promise<HeldLock | null | 'refused'>((resolve) => (settle = resolve));
  if (!anchor) settle(null);
  return {
    anchor,
    async take() {
      if (anchor) settle(await takeLock(run, anchor));
    },
    passed: async () => (await settled) !== 'refused',
    outcome: () => settled,
  };
}

/** Takes the lock on `s`; null when the host is lost (discovery refuses the run for want of it). */
async function takeLock<S>(run: Run<S>, s: HostState): Promise<HeldLock | null | 'refused'> {
  if (s.lost || !s.host) return null;
  try {
    const lock = await acquireRunLock(s.host, stateDirOf(run), run.opts.runId);
    if (lock.tookOver) run.notes.push({ host: s.spec.name, text: lock.tookOver, warn: true });
    run.lock = { held: lock, on: s };
    return lock;
  } catch (err) {
    const reason = reasonOf(err);
    run.emit({ type: 'run:refused', host: s.spec.name, reason });
    run.drop(s, 'connect', reason);
    return 'refused';
  }
}

/**
 * Before each change and each restart: true while the run still holds its lock (or needs none).
 * The first time it does not, the run stops: the anchor host fails with the sentence that says
 * who took the lock, and nothing more is changed anywhere.
 */
export async function lockStillHeld<S>(run: Run<S>): Promise<boolean> {
  if (run.halted) return false;
  if (!run.lock) return true;
  const lost = await run.lock.held.check();
  if (!lost) return true;
  if (!run.halted) {
    run.halted = lost;
    run.emit({ type: 'run:refused', host: run.lock.on.spec.name, reason: lost });
    run.lose(run.lock.on, 'failed', lost);
  }
  return false;
}
