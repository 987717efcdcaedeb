import type { Inventory } from '../inventory/types.js';
import type { RunEvent } from './events.js';
import type { Playbook, RunHost } from './playbook.js';
import { newRun } from './run-playbook.js';
import { connectStage, refreshStage } from './stages/connect-stage.js';
import { discoverStage } from './stages/discover-stage.js';
import { runStage } from './stages/run-stage.js';
import type { RunOptions } from './stages/run-state.js';
import { stepStage } from './stages/step-stage.js';

/** One change the playbook would make on a host: where the host differs from what it declares. */
export interface Drift {
  step: string;
  stepTitle: string;
  description: string;
  diff?: string;
}

/** A look at every host of the inventory: read, discovered and planned, nothing changed. */
export interface Inspection<S> {
  /** What the playbook's discovery found; null when it refused (see `refused`). */
  shared: S | null;
  refused: string | null;
  /** The hosts that answered, with their facts: the connections stay open for the next look. */
  hosts: ReadonlyMap<string, RunHost>;
  /** Hosts that could not be read, and why. */
  lost: ReadonlyMap<string, { status: 'unreachable' | 'failed'; reason: string }>;
  /** Per host, what a run of the playbook would change there (empty: the host is as declared). */
  drift: ReadonlyMap<string, Drift[]>;
}

export type InspectOptions = Pick<RunOptions, 'runId' | 'backupDir' | 'openHost' | 'forks' | 'limit' | 'secrets'>;

export interface Inspector<S> {
  /** Reads every host and plans the playbook's change steps in check mode; the first call connects. */
  inspect(): Promise<Inspection<S>>;
  close(): Promise<void>;
}

/**
 * The engine's read-only view of a shard, for the day-2 commands: the same connect → facts →
 * discover → plan path as `--check`, kept open so it can be repeated over the same connections.
 * The plan's changes are the drift; nothing is applied, no lock is taken, nothing is written.
 */
export function inspector<S>(inventory: Inventory, playbook: Playbook<S>, opts: InspectOptions): Inspector<S> {
  let events: RunEvent[] = [];
  const run = newRun(inventory, playbook, { ...opts, mode: 'check' }, (e) => events.push(e));
  let connected = false;
  return {
    async inspect() {
      events = [];
      for (const s of run.states) {
        s.results = [];
        s.byStage = new Map();
        s.notified = [];
        s.changed = 0;
      }
      run.shared = undefined;
      if (connected) await refreshStage(run);
      else await connectStage(run);
      connected = true;
      let refused: string | null = null;
      if (await discoverStage(run)) {
        for (const step of playbook.steps.filter((st) => st.kind !== 'check'))
          await runStage(stepStage(step, run), run);
      } else refused = events.find((e) => e.type === 'run:refused')?.reason ?? 'discovery refused the run';
      const titles = new Map(playbook.steps.map((st) => [st.id, st.title]));
      const drift = new Map<string, Drift[]>();
      for (const e of events) {
        if (e.type !== 'step:planned') continue;
        const list = drift.get(e.host) ?? [];
        for (const c of e.changes)
          list.push({
            step: e.step,
            stepTitle: titles.get(e.step) ?? e.step,
            description: c.description,
            ...(c.diff ? { diff: c.diff } : {}),
          });
        drift.set(e.host, list);
      }
      const lost = new Map(run.states.filter((s) => s.lost).map((s) => [s.spec.name, s.lost!]));
      return { shared: run.shared ?? null, refused, hosts: run.usable(), lost, drift };
    },
    async close() {
      await Promise.all(run.states.flatMap((s) => (s.host ? [s.host.close().catch(() => undefined)] : [])));
    },
  };
}
