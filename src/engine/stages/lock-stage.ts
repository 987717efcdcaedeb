import { stateDirOf } from '../pending.js';
import { anchorRoles } from '../playbook.js';
import { reasonOf } from '../reason.js';
import { acquireRunLock, type HeldLock } from '../run-lock.js';
import type { Run } from './run-state.js';

/** Does the run change anything? Only such a run takes the lock: a look writes nothing, not even a lock. */
function changes<S>(run: Run<S>): boolean {
  return run.opts.mode === 'apply' && run.playbook.steps.some((s) => s.kind !== 'check');
}

/**
 * One run at a time per shard: the lock is taken on the first anchor host before discovery. Null
 * when the run needs none; 'refused' when another run holds it (the anchor host fails with who).
 */
export async function lockStage<S>(run: Run<S>): Promise<HeldLock | null | 'refused'> {
  if (!changes(run)) return null;
  const anchors = anchorRoles(run.playbook);
  const s = run.states.find((st) => anchors.has(st.spec.role) && !st.lost && st.host);
  if (!s) return null; // discovery refuses the run for want of its anchor host
  try {
    const lock = await acquireRunLock(s.host!, stateDirOf(run), run.opts.runId);
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
