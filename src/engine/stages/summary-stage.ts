import type { HostSummary } from '../events.js';
import { EXIT } from '../exit-codes.js';
import type { HostStatus } from '../playbook.js';
import type { Run } from './run-state.js';

export interface RunResult {
  exitCode: number;
  aborted: boolean;
  hosts: HostSummary[];
}

function overall(results: HostStatus[]): HostStatus {
  if (results.includes('changed')) return 'changed';
  if (results.includes('ok')) return 'ok';
  return 'skipped';
}

/** Each host's outcome, the exit code, and the closing advice. */
export function summaryStage<S>(run: Run<S>, aborted: boolean): RunResult {
  const hosts: HostSummary[] = run.states
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
  const proved = run.states.filter((s) => s.proved && !s.lost).length;
  const rerun = run.opts.rerun ?? `jitsi-scale ${run.playbook.name}`;
  const advice = run.playbook.closing?.({ proved, rerun });
  run.emit({
    type: 'run:done',
    exitCode,
    aborted,
    hosts,
    backupDir: run.opts.backupDir,
    ...(advice ? { advice } : {}),
  });
  return { exitCode, aborted, hosts };
}
