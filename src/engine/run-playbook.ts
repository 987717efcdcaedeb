import type { Inventory } from '../inventory/types.js';
import type { EventSink, RunEvent } from './events.js';
import { anchorRoles, type Playbook, type RunHost, type Step } from './playbook.js';
import { Redactor } from './redactor.js';
import { resolveLimit } from './resolve-limit.js';
import { connectStage } from './stages/connect-stage.js';
import { discoverStage } from './stages/discover-stage.js';
import { lockGate } from './stages/lock-stage.js';
import { handlerStage, handlerStageInfo, pendingHandlers, startEarly } from './stages/handler-stage.js';
import { runStage } from './stages/run-stage.js';
import type { HostState, Run, RunOptions } from './stages/run-state.js';
import { stepStage } from './stages/step-stage.js';
import { summaryStage, type RunResult } from './stages/summary-stage.js';

export type { RunOptions } from './stages/run-state.js';
export type { RunResult } from './stages/summary-stage.js';

/**
 * The run's stages, kept apart as pyinfra keeps them: connect → the run lock (on the anchor host,
 * as soon as it is connected) → facts → discover → the change steps → handlers → the check steps →
 * summary, then disconnect. Check mode is the same path, each step stopping after its plan.
 */
export async function runPlaybook<S>(
  inventory: Inventory,
  playbook: Playbook<S>,
  opts: RunOptions,
  sink: EventSink,
): Promise<RunResult> {
  const run = newRun(inventory, playbook, opts, sink);
  run.emit(startEvent(run));
  let aborted = false;
  const gate = lockGate(run);
  try {
    await connectStage(run, gate);
    if ((await gate.outcome()) !== 'refused' && (await discoverStage(run))) aborted = await afterDiscovery(run);
  } finally {
    await run.lock?.held.release();
    await disconnect(run);
  }
  return summaryStage(run, aborted);
}

/** The user's go, the steps, and on a stop the handlers that finish what was changed; true when stopped. */
async function afterDiscovery<S>(run: Run<S>): Promise<boolean> {
  const { opts } = run;
  if (opts.ready && !opts.signal?.aborted) {
    run.forgetReads();
    if ((await opts.ready()) === 'quit') return true;
  }
  const aborted = await stepStages(run);
  // The lock was lost: another run owns the shard now; its facts show our marks, it restarts.
  if (run.halted) return false;
  // Stopped early: what was changed still takes effect, without asking (a later run would find
  // nothing to change and never restart).
  if (aborted && opts.mode === 'apply' && pendingHandlers(run).some((s) => !s.lost)) {
    const unasked = { ...run, opts: { ...opts, decide: undefined, signal: undefined } };
    await runStage(handlerStage(unasked), unasked);
  }
  return aborted;
}

/** The stages the user sees as steps, in run order: change steps, the handlers (if any), check steps. */
function visibleStages<S>(playbook: Playbook<S>): (Step<S> | 'handlers')[] {
  const change = playbook.steps.filter((st) => st.kind !== 'check');
  const check = playbook.steps.filter((st) => st.kind === 'check');
  return [...change, ...(playbook.handlers.length > 0 ? (['handlers'] as const) : []), ...check];
}

const isChangeStep = <S>(e: Step<S> | 'handlers'): e is Step<S> => e !== 'handlers' && e.kind !== 'check';

/** Runs the visible stages in order; true when the user or a signal stopped the run. */
async function stepStages<S>(run: Run<S>): Promise<boolean> {
  const order = visibleStages(run.playbook);
  const stopped = () => (run.opts.signal?.aborted ?? false) || !!run.halted;
  for (const [i, entry] of order.entries()) {
    if (stopped()) return true;
    const stage = entry === 'handlers' ? handlerStage(run) : stepStage(entry, run);
    if ((await runStage(stage, run)) === 'quit' || stopped()) return true;
    if (isChangeStep(entry)) startEarly(run, order.slice(i + 1).filter(isChangeStep));
  }
  return false;
}

export function newRun<S>(inventory: Inventory, playbook: Playbook<S>, opts: RunOptions, sink: EventSink): Run<S> {
  const secrets = opts.secrets ?? new Redactor();
  const targets = resolveLimit(inventory, opts.limit);
  const anchors = anchorRoles(playbook);
  const states: HostState[] = inventory.hosts
    .filter((spec) => targets.has(spec.name) || anchors.has(spec.role))
    .map((spec) => ({
      spec,
      target: targets.has(spec.name),
      results: [],
      byStage: new Map(),
      changed: 0,
      notified: [],
      early: new Map(),
      marked: new Set(),
      leftPending: new Map(),
    }));
  const usable = (): ReadonlyMap<string, RunHost> =>
    new Map(
      states
        .filter((s) => !s.lost && s.host && s.facts)
        .map((s) => [s.spec.name, { host: s.host!, spec: s.spec, facts: s.facts!, address: s.address! }]),
    );
  const emit = (e: RunEvent) => sink(secrets.redact(e));
  const lose = (s: HostState, status: 'unreachable' | 'failed', reason: string): void => {
    s.lost ??= { status, reason };
  };
  return {
    inventory,
    playbook,
    opts,
    secrets,
    notes: [],
    forks: opts.forks ?? Number.POSITIVE_INFINITY,
    states,
    emit,
    usable,
    lose,
    drop: (s, stage, reason, unreachable = false) => {
      lose(s, unreachable ? 'unreachable' : 'failed', reason);
      const host = s.spec.name;
      emit(unreachable ? { type: 'host:unreachable', host, reason } : { type: 'host:failed', host, stage, reason });
    },
    forgetReads: () => states.forEach((s) => s.host?.forget()),
  };
}

function startEvent<S>(run: Run<S>): RunEvent {
  const { playbook } = run;
  const shown = visibleStages(playbook).map((e) =>
    e === 'handlers'
      ? { ...handlerStageInfo(playbook), kind: 'change' as const }
      : { id: e.id, title: e.title, why: e.why, kind: e.kind ?? 'change' },
  );
  return {
    type: 'run:start',
    runId: run.opts.runId,
    mode: run.opts.mode,
    playbook: playbook.name,
    roles: playbook.roles.map((r) => ({ name: r.name, label: r.label })),
    hosts: run.states.map((s) => ({ name: s.spec.name, role: s.spec.role, address: s.spec.address })),
    steps: shown,
  };
}

/** A restart started early is never cut off by closing its connection. */
async function disconnect<S>(run: Run<S>): Promise<void> {
  await Promise.all(run.states.flatMap((s) => [...s.early.values()].map((e) => e.done.catch(() => undefined))));
  await Promise.all(run.states.flatMap((s) => (s.host ? [s.host.close().catch(() => undefined)] : [])));
}
