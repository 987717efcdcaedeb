import type { HostSpec } from '../../inventory/types.js';
import { CachedReads } from '../../transport/cached-reads.js';
import { UnreachableError } from '../../transport/host.js';
import { gatherBaseFacts } from '../base-facts.js';
import { handlerOfMark, stateDirOf, unknownMarkNote } from '../pending.js';
import { mapLimit } from '../pool.js';
import { reasonOf } from '../reason.js';
import type { LockGate } from './lock-stage.js';
import type { HostState, Run } from './run-state.js';

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
 * Connect and read facts: one connection per host, all hosts at once (up to --forks). With a lock
 * gate, the anchor host is connected first and takes the run lock, and no host reads its facts
 * before the lock is held (none does when another run holds it).
 */
export async function connectStage<S>(run: Run<S>, gate?: LockGate): Promise<void> {
  const anchor = gate?.anchor;
  // The anchor first: with --forks 1 the others would otherwise wait for a lock not yet asked for.
  const order = anchor ? [anchor, ...run.states.filter((s) => s !== anchor)] : run.states;
  await mapLimit(order, run.forks, async (s) => {
    const connected = await connect(s, run);
    if (s === anchor) await gate!.take();
    if (connected && (!gate || (await gate.passed()))) await readFacts(s, run);
  });
}

/**
 * Reads facts again on a connected host, and connects again to a host that was lost: what a
 * repeated look at the same hosts (status --watch) needs, over the connections it keeps.
 */
export async function refreshStage<S>(run: Run<S>): Promise<void> {
  await mapLimit(run.states, run.forks, async (s) => {
    const wasLost = s.lost;
    s.lost = undefined;
    if (wasLost || !s.host) {
      await s.host?.close().catch(() => undefined);
      s.host = undefined;
      if (!(await connect(s, run))) return;
    } else s.host.forget();
    await readFacts(s, run);
  });
}

async function connect<S>(s: HostState, run: Run<S>): Promise<boolean> {
  const name = s.spec.name;
  run.emit({ type: 'host:connecting', host: name, address: `${s.spec.address}:${s.spec.port}` });
  const t0 = Date.now();
  try {
    const opened = await run.opts.openHost(s.spec);
    s.host = new CachedReads(opened.host);
    s.address = opened.address;
  } catch (err) {
    run.drop(s, 'connect', reasonOf(err), err instanceof UnreachableError);
    return false;
  }
  run.emit({ type: 'host:connected', host: name, ms: Date.now() - t0 });
  return true;
}

/**
 * Restarts an earlier run left pending on the host: they are due in this run's handler stage. A
 * mark no handler recognises is named in a warning (by a playbook that has handlers: a read-only
 * command reads the journal of none).
 */
function resumePending<S>(s: HostState, run: Run<S>): void {
  const { handlers } = run.playbook;
  for (const mark of s.facts!.pending) {
    const handler = handlerOfMark(handlers, mark);
    if (!handler) {
      const text = unknownMarkNote(s.spec.name, stateDirOf(run), mark);
      // Once per run, however often the facts are read again (status --watch).
      if (handlers.length > 0 && !run.notes.some((n) => n.text === text))
        run.notes.push({ host: s.spec.name, text, warn: true });
      continue;
    }
    if (s.notified.includes(handler.name)) continue;
    s.notified.push(handler.name);
    s.marked.add(handler.name);
    s.leftPending.set(handler.name, mark.runId);
  }
}

async function readFacts<S>(s: HostState, run: Run<S>): Promise<void> {
  const name = s.spec.name;
  try {
    const { facts, files } = await gatherBaseFacts(
      s.host!,
      run.playbook.watchPackages,
      run.playbook.prefetch?.(s.spec) ?? [],
      stateDirOf(run),
    );
    s.host!.remember(files);
    s.facts = facts;
    if (s.target) resumePending(s, run);
    run.emit({
      type: 'facts:gathered',
      host: name,
      os: facts.os.pretty,
      init: facts.init,
      firewall: facts.firewall,
      packages: facts.packages,
    });
  } catch (err) {
    run.drop(s, 'facts', sudoHint(reasonOf(err), s.spec), err instanceof UnreachableError);
  }
}
