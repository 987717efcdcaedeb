import type { HostSpec, Inventory } from '../inventory/types.js';
import { HostError, UnreachableError, type OutputStream } from '../transport/host.js';
import { CachedReads } from '../transport/cached-reads.js';
import { gatherBaseFacts, type BaseFacts } from './base-facts.js';
import type { Decision, EventSink, HostSummary, RunEvent } from './events.js';
import { EXIT } from './exit-codes.js';
import type { OpenHost } from './open-host.js';
import { mapLimit } from './pool.js';
import { Redactor } from './redactor.js';
import { resolveLimit } from './resolve-limit.js';
import {
  PlaybookRefusal,
  type ApplyIO,
  type Change,
  type Handler,
  type HostPlan,
  type HostStatus,
  type Playbook,
  type Step,
} from './types.js';

export interface RunOptions {
  mode: 'apply' | 'check';
  runId: string;
  /** Where backups go on each host, for the summary. */
  backupDir: string;
  openHost: OpenHost;
  /** Most hosts worked on at once; default: all. */
  forks?: number;
  /** Host or group names to act on; the meet host is still read for discovery. */
  limit?: string[];
  /** Asked before a step with changes is applied; default: apply. */
  decide?: (step: Step<unknown>, plans: ReadonlyMap<string, HostPlan>) => Promise<Decision>;
  /** Asked once discovery is done, before the first step: go on, or stop with nothing changed. */
  ready?: () => Promise<'go' | 'quit'>;
  /** Stops the run between changes: the change under way completes, nothing after it starts. */
  signal?: AbortSignal;
  secrets?: Redactor;
}

export interface RunResult {
  exitCode: number;
  aborted: boolean;
  hosts: HostSummary[];
}

interface HostState {
  spec: HostSpec;
  /** In --limit: steps run on it. The meet host may be connected for discovery only. */
  target: boolean;
  host?: CachedReads;
  facts?: BaseFacts;
  /** unreachable or failed: no further work on this host. */
  lost?: { status: 'unreachable' | 'failed'; reason: string };
  results: HostStatus[];
  changed: number;
  /** Handlers notified by changes made (or, in check mode, planned) and not run yet, in order. */
  notified: string[];
  /** Handlers started before the restart step (see startEarly), by name. */
  early: Map<string, EarlyRun>;
}

/** A handler started early: its output is held back and reported in the restart step. */
interface EarlyRun {
  done: Promise<void>;
  lines: [OutputStream, string][];
}

export const RESTART_STEP = 'restart';

/**
 * Handlers run like Ansible's, once per host at the end, not after each step: a bridge whose
 * config and launcher both changed restarts once, and Prosody's restart runs while the bridges
 * restart. The engine adds this step before the first check step (or at the end); it holds the
 * hosts with handlers pending and shows the restarts like any other change, so they are seen,
 * asked for and reported the same way. Handlers run in the order the playbook lists them.
 */
function restartStep<S>(states: HostState[], handlers: Record<string, Handler>): Step<S> {
  return {
    id: RESTART_STEP,
    title: 'Restart what changed',
    why: 'Services read their config when they start. Each one whose config changed above is restarted once, now, so that one restart covers all of its changes.',
    roles: ['meet', 'jvb'],
    plan: async (ctx) => {
      const s = states.find((x) => x.spec.name === ctx.spec.name);
      const order = Object.keys(handlers);
      const changes: Change[] = (s?.notified ?? []).map((name) => {
        const h = handlers[name];
        if (!h) throw new Error(`a change notifies unknown handler "${name}"`);
        // Handlers run in the order the playbook lists them, each on all its hosts at once.
        const early = s?.early.get(name);
        const apply: Change['apply'] = early
          ? async (_host, io) => {
              // Started earlier (see startEarly): wait for it, then report what it said.
              const outcome = await early.done.then(
                () => null,
                (err: unknown) => ({ err }),
              );
              for (const [stream, line] of early.lines) io.output(stream, line);
              if (outcome) throw outcome.err;
            }
          : (host, io) => h.run(host, io);
        return { description: h.description, handler: name, phase: order.indexOf(name), apply };
      });
      return { changes: changes.sort((a, b) => a.phase! - b.phase!) };
    },
  };
}

/** The playbook's steps with the restart step before the first check step. */
function withRestartStep<S>(steps: Step<S>[], restart: Step<S>): Step<S>[] {
  const at = steps.findIndex((st) => st.kind === 'check');
  return at < 0 ? [...steps, restart] : [...steps.slice(0, at), restart, ...steps.slice(at)];
}

/** One sentence for a failure; a bug in the tool says so instead of dumping a stack. */
export function reasonOf(err: unknown): string {
  if (err instanceof HostError || err instanceof PlaybookRefusal) return err.message;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}

function sudoHint(reason: string, spec: HostSpec): string {
  if (/sudo: .*password is required|sudo: a terminal is required/.test(reason)) {
    return `sudo on ${spec.name} asks ${spec.user} for a password; allow passwordless sudo for ${spec.user}, or log in as root`;
  }
  if (/sudo: (not found|command not found)|sudo: not found/.test(reason)) {
    return `sudo is not installed on ${spec.name}; install it or log in as root (ansible_user: root)`;
  }
  return reason;
}

/**
 * The run's stages, kept apart: connect → facts → discover → for each step (plan → decide →
 * apply → handlers) → disconnect. Check mode is the same path stopping after each plan.
 */
export async function runPlaybook<S>(
  inventory: Inventory,
  playbook: Playbook<S>,
  opts: RunOptions,
  sink: EventSink,
): Promise<RunResult> {
  const secrets = opts.secrets ?? new Redactor();
  const emit = (e: RunEvent): void => sink(secrets.redact(e));
  const forks = opts.forks ?? Number.POSITIVE_INFINITY;
  const targets = resolveLimit(inventory, opts.limit);
  const states: HostState[] = inventory.hosts
    .filter((spec) => targets.has(spec.name) || spec.role === 'meet')
    .map((spec) => ({ spec, target: targets.has(spec.name), results: [], changed: 0, notified: [], early: new Map() }));
  const restart = restartStep<S>(states, playbook.handlers);
  const steps = withRestartStep(playbook.steps, restart);
  /*
   * In a run that asks nothing, a host's first handler (Prosody's restart: nothing has to happen
   * before it) starts as soon as no later change step can touch the host, and goes on while the
   * steps work on the other hosts; the restart step waits for it and reports it like the others.
   * A run that asks keeps every restart for the restart step's question.
   */
  const firstHandler = Object.keys(playbook.handlers)[0];
  const startEarly = (after: number): void => {
    if (opts.mode !== 'apply' || opts.decide || firstHandler === undefined || opts.signal?.aborted) return;
    const restartAt = steps.indexOf(restart);
    if (after >= restartAt) return;
    const later = steps.slice(after + 1, restartAt);
    for (const s of states) {
      if (s.lost || !s.target || !s.host || !s.notified.includes(firstHandler) || s.early.has(firstHandler)) continue;
      if (later.some((st) => st.roles.includes(s.spec.role))) continue;
      const run: EarlyRun = { lines: [], done: Promise.resolve() };
      run.done = playbook.handlers[firstHandler]!.run(s.host, {
        output: (stream, line) => run.lines.push([stream, line]),
      });
      run.done.catch(() => undefined); // reported in the restart step
      s.early.set(firstHandler, run);
    }
  };
  const lose = (s: HostState, status: 'unreachable' | 'failed', reason: string): void => {
    s.lost ??= { status, reason };
  };
  let aborted = false;

  emit({
    type: 'run:start',
    runId: opts.runId,
    mode: opts.mode,
    playbook: playbook.name,
    hosts: states.map((s) => ({ name: s.spec.name, role: s.spec.role, address: s.spec.address })),
    steps: steps.map((st) => ({ id: st.id, title: st.title, why: st.why, kind: st.kind ?? 'change' })),
  });

  try {
    // Connect and read facts: one connection per host, all hosts at once (up to --forks).
    await mapLimit(states, forks, async (s) => {
      const name = s.spec.name;
      emit({ type: 'host:connecting', host: name, address: `${s.spec.address}:${s.spec.port}` });
      const t0 = Date.now();
      try {
        s.host = new CachedReads(await opts.openHost(s.spec));
      } catch (err) {
        const reason = reasonOf(err);
        if (err instanceof UnreachableError) {
          lose(s, 'unreachable', reason);
          emit({ type: 'host:unreachable', host: name, reason });
        } else {
          lose(s, 'failed', reason);
          emit({ type: 'host:failed', host: name, stage: 'connect', reason });
        }
        return;
      }
      emit({ type: 'host:connected', host: name, ms: Date.now() - t0 });
      try {
        const { facts, files } = await gatherBaseFacts(s.host, playbook.prefetch?.(s.spec) ?? []);
        s.host.remember(files);
        s.facts = facts;
        emit({
          type: 'facts:gathered',
          host: name,
          os: facts.os.pretty,
          init: facts.init,
          firewall: facts.firewall,
          packages: facts.packages,
        });
      } catch (err) {
        const reason = sudoHint(reasonOf(err), s.spec);
        const status = err instanceof UnreachableError ? 'unreachable' : 'failed';
        lose(s, status, reason);
        emit(
          status === 'unreachable'
            ? { type: 'host:unreachable', host: name, reason }
            : { type: 'host:failed', host: name, stage: 'facts', reason },
        );
      }
    });

    const meet = states.find((s) => s.spec.role === 'meet')!;
    let shared: S | undefined;
    if (meet.lost) {
      emit({
        type: 'run:refused',
        host: meet.spec.name,
        reason: `cannot go on without the meet host ${meet.spec.name}: ${meet.lost.reason}`,
      });
    } else {
      const usable = new Map(
        states.filter((s) => !s.lost).map((s) => [s.spec.name, { host: s.host!, spec: s.spec, facts: s.facts! }]),
      );
      try {
        shared = await playbook.discover({ inventory, hosts: usable, secrets });
        if (playbook.describe) emit({ type: 'run:discovered', findings: playbook.describe(shared) });
      } catch (err) {
        const reason = reasonOf(err);
        const who = err instanceof PlaybookRefusal && err.host ? states.find((s) => s.spec.name === err.host) : meet;
        if (who) lose(who, 'failed', reason);
        emit({ type: 'run:refused', host: who?.spec.name ?? null, reason });
        if (who) emit({ type: 'host:failed', host: who.spec.name, stage: 'discover', reason });
      }
    }

    // Files read before a wait for the user may have changed by the time the user answers.
    const forgetReads = (): void => states.forEach((s) => s.host?.forget());
    if (shared !== undefined && !meet.lost && opts.ready && !opts.signal?.aborted) {
      forgetReads();
      if ((await opts.ready()) === 'quit') aborted = true;
    }
    if (shared !== undefined && !meet.lost && !aborted) {
      const env: StepEnv<S> = { inventory, shared, secrets, forks, emit, opts, lose, forgetReads };
      const pending = () => states.filter((s) => s.notified.length > 0);
      for (const [i, step] of steps.entries()) {
        if (aborted || opts.signal?.aborted) {
          aborted = true;
          break;
        }
        const decision = await runStep(step, step === restart ? pending() : states, env);
        if (decision === 'quit' || opts.signal?.aborted) aborted = true;
        else startEarly(i);
      }
      // Stopped early: what was changed still takes effect, without asking (a later run would
      // find nothing to change and never restart).
      if (aborted && opts.mode === 'apply' && pending().some((s) => !s.lost)) {
        await runStep(restart, pending(), { ...env, opts: { ...opts, decide: undefined, signal: undefined } });
      }
    }
  } finally {
    // A restart started early is never cut off by closing its connection.
    await Promise.all(states.flatMap((s) => [...s.early.values()].map((e) => e.done.catch(() => undefined))));
    await Promise.all(states.map((s) => s.host?.close().catch(() => undefined)));
  }

  const hosts: HostSummary[] = states
    .filter((s) => s.target || s.lost)
    .map((s) => ({
      host: s.spec.name,
      role: s.spec.role,
      status: s.lost?.status ?? overall(s.results),
      changed: s.changed,
      ...(s.lost ? { error: s.lost.reason } : {}),
    }));
  const exitCode = aborted
    ? EXIT.interrupted
    : hosts.some((h) => h.status === 'failed')
      ? EXIT.hostFailed
      : hosts.some((h) => h.status === 'unreachable')
        ? EXIT.unreachable
        : EXIT.ok;
  emit({ type: 'run:done', exitCode, aborted, hosts, backupDir: opts.backupDir });
  return { exitCode, aborted, hosts };
}

function overall(results: HostStatus[]): HostStatus {
  if (results.includes('changed')) return 'changed';
  if (results.includes('ok')) return 'ok';
  return 'skipped';
}

interface StepEnv<S> {
  inventory: Inventory;
  shared: S;
  secrets: Redactor;
  forks: number;
  emit: (e: RunEvent) => void;
  opts: RunOptions;
  lose: (s: HostState, status: 'unreachable' | 'failed', reason: string) => void;
  forgetReads: () => void;
}

async function runStep<S>(step: Step<S>, states: HostState[], env: StepEnv<S>): Promise<Decision> {
  const { emit, opts } = env;
  const hosts = states.filter((s) => s.target && !s.lost && step.roles.includes(s.spec.role));
  if (hosts.length === 0) return 'apply';
  emit({ type: 'step:start', step: step.id, title: step.title, why: step.why, hosts: hosts.map((h) => h.spec.name) });
  const counts: Record<HostStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
  const finish = (s: HostState, status: HostStatus, changed: number, error?: string): void => {
    counts[status]++;
    if (status !== 'failed' && status !== 'unreachable') s.results.push(status);
    s.changed += status === 'changed' && opts.mode === 'apply' ? changed : 0;
    emit({ type: 'step:host-result', step: step.id, host: s.spec.name, status, changed, ...(error ? { error } : {}) });
  };
  const fail = (s: HostState, err: unknown): void => {
    const reason = reasonOf(err);
    const status = err instanceof UnreachableError ? 'unreachable' : 'failed';
    env.lose(s, status, `${step.title}: ${reason}`);
    finish(s, status, 0, reason);
  };

  // Plan: read every host, write nothing.
  const plans = new Map<string, HostPlan>();
  await mapLimit(hosts, env.forks, async (s) => {
    try {
      const plan = await step.plan({
        mode: opts.mode,
        host: s.host!,
        spec: s.spec,
        facts: s.facts!,
        inventory: env.inventory,
        shared: env.shared,
        secrets: env.secrets,
      });
      plans.set(s.spec.name, plan);
      emit({
        type: 'step:planned',
        step: step.id,
        host: s.spec.name,
        changes: plan.changes.map((c) => ({ description: c.description, ...(c.diff ? { diff: c.diff } : {}) })),
        ...(plan.skip ? { skip: plan.skip } : {}),
        notes: plan.notes ?? [],
      });
    } catch (err) {
      fail(s, err);
    }
  });

  const pending = hosts.filter((s) => {
    const plan = plans.get(s.spec.name);
    if (!plan) return false;
    if (plan.skip) finish(s, 'skipped', 0);
    else if (plan.changes.length === 0) finish(s, 'ok', 0);
    return !plan.skip && plan.changes.length > 0;
  });

  const notify = (s: HostState, change: Change): void => {
    for (const h of change.notify ?? []) if (!s.notified.includes(h)) s.notified.push(h);
  };
  let decision: Decision = 'apply';
  if (opts.mode === 'check') {
    for (const s of pending) {
      const changes = plans.get(s.spec.name)!.changes;
      if (step.id !== RESTART_STEP) for (const c of changes) notify(s, c);
      else s.notified = [];
      finish(s, 'changed', changes.length);
    }
  } else if (pending.length > 0) {
    if (opts.decide) env.forgetReads();
    decision = opts.decide ? await opts.decide(step as Step<unknown>, plans) : 'apply';
    emit({ type: 'step:decision', step: step.id, decision });
    if (decision !== 'apply') {
      for (const s of pending) finish(s, 'skipped', 0);
    } else {
      // Changes run phase by phase: every host finishes a phase before any host starts the next
      // (Prosody is restarted before the bridges that log in to it). Within a phase, hosts run
      // in parallel and each host's changes in order.
      const progress = new Map(pending.map((s) => [s, { done: 0, restarted: 0, failed: false }]));
      const phases = [
        ...new Set(pending.flatMap((s) => plans.get(s.spec.name)!.changes.map((c) => c.phase ?? 0))),
      ].sort((a, b) => a - b);
      for (const phase of phases) {
        const here = pending.filter(
          (s) => !progress.get(s)!.failed && plans.get(s.spec.name)!.changes.some((c) => (c.phase ?? 0) === phase),
        );
        await mapLimit(here, env.forks, async (s) => {
          const p = progress.get(s)!;
          const host = s.host!;
          const name = s.spec.name;
          const io: ApplyIO = {
            output: (stream, line) => emit({ type: 'host:output', step: step.id, host: name, stream, line }),
          };
          try {
            for (const change of plans.get(name)!.changes.filter((c) => (c.phase ?? 0) === phase)) {
              if (change.handler) {
                // Handlers run even when stopping: they finish what was already changed.
                emit({
                  type: 'handler:run',
                  step: step.id,
                  host: name,
                  handler: change.handler,
                  description: change.description,
                });
                await change.apply(host, io);
                s.notified = s.notified.filter((h) => h !== change.handler);
                p.restarted++;
                continue;
              }
              if (opts.signal?.aborted) break;
              emit({ type: 'task:start', step: step.id, host: name, description: change.description });
              const r = await change.apply(host, io);
              p.done++;
              emit({
                type: 'task:changed',
                step: step.id,
                host: name,
                description: change.description,
                ...(r?.backup ? { backup: r.backup } : {}),
              });
              notify(s, change);
            }
          } catch (err) {
            p.failed = true;
            s.changed += p.done;
            fail(s, err);
          }
        });
      }
      for (const s of pending) {
        const p = progress.get(s)!;
        if (!p.failed) finish(s, p.done + p.restarted > 0 ? 'changed' : 'ok', p.done);
      }
    }
  }
  emit({ type: 'step:done', step: step.id, counts });
  return decision;
}
