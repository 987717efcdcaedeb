import type { ApplyIO, Change, HostPlan } from '../../contract/change.js';
import { UnreachableError } from '../../transport/host.js';
import type { Decision } from '../events.js';
import type { HostStatus } from '../playbook.js';
import { mapLimit } from '../pool.js';
import { reasonOf } from '../reason.js';
import type { HostState, Run } from './run-state.js';

/** What running one change came to: a change made, a handler run, or nothing (the run is stopping). */
export type Applied = 'change' | 'handler' | 'stopped';

/**
 * A stage the user sees as a numbered step: the playbook's steps, and the handler stage. Each says
 * how to plan a host and how to run one planned change; the rest (events, the question, phases,
 * failures) is the same for both and lives here.
 */
export interface Stage {
  id: string;
  title: string;
  why: string;
  /** The hosts it runs on. */
  hosts: HostState[];
  plan: (s: HostState) => Promise<HostPlan>;
  /** In check mode, after a host's changes were planned (they count as made). */
  planned?: (s: HostState, changes: Change[]) => void;
  apply: (s: HostState, change: Change, io: ApplyIO) => Promise<Applied>;
}

type Counts = Record<HostStatus, number>;

/** Plan on every host, ask, then apply phase by phase; returns the user's decision. */
export async function runStage<S>(stage: Stage, run: Run<S>): Promise<Decision> {
  const { emit, opts } = run;
  const hosts = stage.hosts.filter((s) => s.target && !s.lost);
  if (hosts.length === 0) return 'apply';
  emit({
    type: 'step:start',
    step: stage.id,
    title: stage.title,
    why: stage.why,
    hosts: hosts.map((h) => h.spec.name),
  });
  const counts: Counts = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
  const result = resultRecorder(stage, run, counts);

  const plans = await planAll(stage, hosts, run, result.fail);
  const pending = hosts.filter((s) => {
    const plan = plans.get(s.spec.name);
    if (!plan) return false;
    if (plan.skip) result.finish(s, 'skipped', 0);
    else if (plan.changes.length === 0) result.finish(s, 'ok', 0);
    return !plan.skip && plan.changes.length > 0;
  });

  let decision: Decision = 'apply';
  if (opts.mode === 'check') {
    for (const s of pending) {
      const changes = plans.get(s.spec.name)!.changes;
      stage.planned?.(s, changes);
      result.finish(s, 'changed', changes.length);
    }
  } else if (pending.length > 0) {
    if (opts.decide) run.forgetReads();
    decision = opts.decide ? await opts.decide(stage, plans) : 'apply';
    emit({ type: 'step:decision', step: stage.id, decision });
    if (decision === 'apply') await applyAll(stage, pending, plans, run, result);
    else for (const s of pending) result.finish(s, 'skipped', 0);
  }
  emit({ type: 'step:done', step: stage.id, counts });
  return decision;
}

interface ResultRecorder {
  finish: (s: HostState, status: HostStatus, changed: number, error?: string) => void;
  fail: (s: HostState, err: unknown) => void;
}

function resultRecorder<S>(stage: Stage, run: Run<S>, counts: Counts): ResultRecorder {
  const finish = (s: HostState, status: HostStatus, changed: number, error?: string): void => {
    counts[status]++;
    if (status !== 'failed' && status !== 'unreachable') s.results.push(status);
    s.byStage.set(stage.id, status);
    s.changed += status === 'changed' && run.opts.mode === 'apply' ? changed : 0;
    run.emit({
      type: 'step:host-result',
      step: stage.id,
      host: s.spec.name,
      status,
      changed,
      ...(error ? { error } : {}),
    });
  };
  const fail = (s: HostState, err: unknown): void => {
    const reason = reasonOf(err);
    const status = err instanceof UnreachableError ? 'unreachable' : 'failed';
    run.lose(s, status, `${stage.title}: ${reason}`);
    finish(s, status, 0, reason);
  };
  return { finish, fail };
}

/** Reads every host, writes nothing; a host whose plan fails is lost. */
async function planAll<S>(
  stage: Stage,
  hosts: HostState[],
  run: Run<S>,
  fail: (s: HostState, err: unknown) => void,
): Promise<Map<string, HostPlan>> {
  const plans = new Map<string, HostPlan>();
  await mapLimit(hosts, run.forks, async (s) => {
    try {
      const plan = await stage.plan(s);
      plans.set(s.spec.name, plan);
      run.emit({
        type: 'step:planned',
        step: stage.id,
        host: s.spec.name,
        changes: plan.changes.map((c) => ({ description: c.description, ...(c.diff ? { diff: c.diff } : {}) })),
        ...(plan.skip ? { skip: plan.skip } : {}),
        notes: plan.notes ?? [],
      });
    } catch (err) {
      fail(s, err);
    }
  });
  return plans;
}

/**
 * Changes run phase by phase: every host finishes a phase before any host starts the next (Prosody
 * is restarted before the bridges that log in to it). Within a phase, hosts run in parallel and
 * each host's changes in order.
 */
async function applyAll<S>(
  stage: Stage,
  pending: HostState[],
  plans: Map<string, HostPlan>,
  run: Run<S>,
  result: ResultRecorder,
): Promise<void> {
  const progress = new Map(pending.map((s) => [s, { done: 0, handled: 0, failed: false }]));
  const changesOf = (s: HostState) => plans.get(s.spec.name)!.changes;
  const phaseOf = (c: Change) => c.phase ?? 0;
  const phases = [...new Set(pending.flatMap((s) => changesOf(s).map(phaseOf)))].sort((a, b) => a - b);
  for (const phase of phases) {
    const here = pending.filter((s) => !progress.get(s)!.failed && changesOf(s).some((c) => phaseOf(c) === phase));
    await mapLimit(here, run.forks, async (s) => {
      const p = progress.get(s)!;
      const name = s.spec.name;
      const io: ApplyIO = {
        output: (stream, line) => run.emit({ type: 'host:output', step: stage.id, host: name, stream, line }),
      };
      try {
        for (const change of changesOf(s).filter((c) => phaseOf(c) === phase)) {
          const applied = await stage.apply(s, change, io);
          if (applied === 'stopped') break;
          if (applied === 'change') p.done++;
          else p.handled++;
        }
      } catch (err) {
        p.failed = true;
        s.changed += p.done;
        result.fail(s, err);
      }
    });
  }
  for (const s of pending) {
    const p = progress.get(s)!;
    if (!p.failed) result.finish(s, p.done + p.handled > 0 ? 'changed' : 'ok', p.done);
  }
}
