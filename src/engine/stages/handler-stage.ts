import type { ApplyIO, Change } from '../../contract/change.js';
import type { EarlyRun, HostState, Run } from './run-state.js';
import type { HandlerSpec, Playbook } from '../playbook.js';
import type { Stage } from './run-stage.js';
import { clearPending, stateDirOf } from '../pending.js';
import { lockStillHeld } from './lock-stage.js';

/** The handler stage's id in events, whatever the playbook calls it. */
export const HANDLER_STAGE_ID = 'restart';

/** The handler stage as the user sees it: the playbook's words, or these. */
export function handlerStageInfo<S>(playbook: Playbook<S>): { id: string; title: string; why: string } {
  return {
    id: HANDLER_STAGE_ID,
    title: 'Restart what changed',
    why: 'Services read their config when they start. Each one whose config changed above is restarted once, now, so that one restart covers all of its changes.',
    ...playbook.handlerStage,
  };
}

/** Hosts with handlers notified and not run yet. */
export function pendingHandlers<S>(run: Run<S>): HostState[] {
  return run.states.filter((s) => s.notified.length > 0);
}

/**
 * Handlers run like Ansible's, once per host after the change steps, not after each step: a bridge
 * whose config and launcher both changed restarts once. They run in the order the playbook lists
 * them, each on all its hosts at once, and are shown, asked for and reported like a step.
 */
export function handlerStage<S>(run: Run<S>): Stage {
  const { handlers } = run.playbook;
  const byName = new Map(handlers.map((h, i) => [h.name, { handler: h, order: i }]));
  const shown = handlerStageInfo(run.playbook);
  const handlerOf = new Map<Change, string>();
  return {
    ...shown,
    hosts: pendingHandlers(run),
    plan: async (s) => {
      const changes: Change[] = s.notified.map((name) => {
        const entry = byName.get(name);
        if (!entry) throw new Error(`a change notifies unknown handler "${name}"`);
        const early = s.early.get(name);
        const from = s.leftPending.get(name);
        const change: Change = {
          description: `${entry.handler.description}${from ? ` (left pending by run ${from})` : ''}`,
          phase: entry.order,
          apply: early
            ? (_host, io) => reportEarly(early, io)
            : (_host, io) => runHandler(s, stateDirOf(run), entry.handler, io),
        };
        handlerOf.set(change, name);
        return change;
      });
      return { changes: changes.sort((a, b) => a.phase! - b.phase!) };
    },
    planned: (s) => {
      s.notified = [];
    },
    // Handlers run even when the run is stopping: they finish what was already changed. Not when
    // the run lost its lock: the run that holds it now restarts what the marks say.
    async apply(s, change, io) {
      if (!(await lockStillHeld(run))) return 'stopped';
      const name = handlerOf.get(change)!;
      run.emit({
        type: 'handler:run',
        step: HANDLER_STAGE_ID,
        host: s.spec.name,
        handler: name,
        description: change.description,
      });
      await change.apply(s.host!, io);
      s.notified = s.notified.filter((h) => h !== name);
      return 'handler';
    },
  };
}

/** Runs a handler, checks that it took effect, then clears its pending mark on the host. */
async function runHandler(s: HostState, stateDir: string, handler: HandlerSpec, io: ApplyIO): Promise<void> {
  const host = s.host!;
  await handler.run(host, io);
  await handler.confirm?.(host, io);
  if (s.marked.has(handler.name)) {
    await clearPending(host, stateDir, [handler.name]);
    s.marked.delete(handler.name);
    s.leftPending.delete(handler.name);
  }
}

/** A handler started early: wait for it, then report what it said. */
async function reportEarly(early: EarlyRun, io: ApplyIO): Promise<void> {
  const outcome = await early.done.then(
    () => null,
    (err: unknown) => ({ err }),
  );
  for (const [stream, line] of early.lines) io.output(stream, line);
  if (outcome) throw outcome.err;
}

/**
 * In a run that asks nothing, a handler flagged mayStartEarly (Prosody's restart: nothing has to
 * happen before it) starts on a host as soon as no later change step can touch the host, and goes
 * on while the steps work on the other hosts; the handler stage waits for it and reports it.
 * `remaining` are the change steps still to come.
 */
export function startEarly<S>(run: Run<S>, remaining: readonly { roles: readonly string[] }[]): void {
  if (run.opts.mode !== 'apply' || run.opts.decide || run.opts.signal?.aborted) return;
  const early = earlyHandlers(run.playbook.handlers);
  for (const s of run.states) {
    if (s.lost || !s.target || !s.host) continue;
    if (remaining.some((st) => st.roles.includes(s.spec.role))) continue;
    for (const h of early) {
      if (!s.notified.includes(h.name) || s.early.has(h.name)) continue;
      const started: EarlyRun = { lines: [], done: Promise.resolve() };
      const io: ApplyIO = { output: (stream, line) => started.lines.push([stream, line]) };
      started.done = lockStillHeld(run).then((held) => (held ? runHandler(s, stateDirOf(run), h, io) : undefined));
      started.done.catch(() => undefined); // reported in the handler stage
      s.early.set(h.name, started);
    }
  }
}

/** The handlers that may start early: the flagged ones at the head of the list (order is kept). */
export function earlyHandlers(handlers: readonly HandlerSpec[]): HandlerSpec[] {
  const firstLate = handlers.findIndex((h) => !h.mayStartEarly);
  return handlers.slice(0, firstLate < 0 ? handlers.length : firstLate);
}
