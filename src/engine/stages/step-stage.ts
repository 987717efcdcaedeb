import type { ApplyIO, Change } from '../../contract/change.js';
import type { Step } from '../playbook.js';
import { WriteRefused } from '../../transport/host.js';
import { clearPending, markPending, stateDirOf } from '../pending.js';
import { lockStillHeld } from './lock-stage.js';
import type { HostState, Run } from './run-state.js';
import type { Stage } from './run-stage.js';

function notify(s: HostState, change: Change): void {
  for (const h of change.notify ?? []) if (!s.notified.includes(h)) s.notified.push(h);
}

/**
 * A write refused before it went live changed nothing: the marks this run wrote for it go again,
 * unless a change of this run that went live notified the same handler (it is then in
 * `notified`), and never a mark an earlier run left. One round trip, on a refusal only.
 */
async function unmarkRefused<S>(s: HostState, run: Run<S>, change: Change): Promise<void> {
  const needless = (change.notify ?? []).filter(
    (h) => s.marked.has(h) && !s.leftPending.has(h) && !s.notified.includes(h),
  );
  if (needless.length === 0) return;
  // Not cleared: the mark stays, and a later run restarts once for nothing. The refusal is what the user must read.
  await clearPending(s.host!, stateDirOf(run), needless).catch(() => undefined);
  needless.forEach((h) => s.marked.delete(h));
}

/** Applies the change; when its write is refused before it went live, its needless marks go first. */
async function applyChange<S>(s: HostState, run: Run<S>, change: Change, io: ApplyIO) {
  try {
    return await change.apply(s.host!, io);
  } catch (err) {
    if (err instanceof WriteRefused) await unmarkRefused(s, run, change);
    throw err;
  }
}

/** A playbook step as a stage: its plan on every host of its roles, its changes in order. */
export function stepStage<S>(step: Step<S>, run: Run<S>): Stage {
  return {
    id: step.id,
    title: step.title,
    why: step.why,
    hosts: run.states.filter((s) => step.roles.includes(s.spec.role)),
    plan: async (s) => {
      const plan = await step.plan({
        mode: run.opts.mode,
        host: s.host!,
        spec: s.spec,
        facts: s.facts!,
        address: s.address!,
        inventory: run.inventory,
        shared: run.shared!,
        secrets: run.secrets,
        hosts: run.usable(),
        earlier: (id) => s.byStage.get(id),
      });
      // A check step that answered for the host proves it (one that fails loses the host).
      if (step.kind === 'check' && !plan.skip) s.proved ??= true;
      return plan;
    },
    planned: (s, changes) => changes.forEach((c) => notify(s, c)),
    async apply(s, change, io) {
      if (run.opts.signal?.aborted || !(await lockStillHeld(run))) return 'stopped';
      const name = s.spec.name;
      run.emit({ type: 'task:start', step: step.id, host: name, description: change.description });
      // The restart this change needs is recorded on the host first: it survives this process.
      const unmarked = (change.notify ?? []).filter((h) => !s.marked.has(h));
      if (unmarked.length) {
        await markPending(s.host!, stateDirOf(run), unmarked, run.opts.runId);
        unmarked.forEach((h) => s.marked.add(h));
      }
      const r = await applyChange(s, run, change, io);
      run.emit({
        type: 'task:changed',
        step: step.id,
        host: name,
        description: change.description,
        ...(r?.backup ? { backup: r.backup } : {}),
        ...(r?.notes?.length ? { notes: r.notes } : {}),
      });
      notify(s, change);
      return 'change';
    },
  };
}
