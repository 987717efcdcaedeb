import { PlaybookRefusal, anchorRoles } from '../playbook.js';
import { reasonOf } from '../reason.js';
import type { Run } from './run-state.js';

/**
 * The playbook reads what every step needs. It cannot go on without its anchor hosts (the meet
 * host); a refusal names the host it is about, or the first anchor host.
 */
export async function discoverStage<S>(run: Run<S>): Promise<boolean> {
  const anchors = anchorRoles(run.playbook);
  const lostAnchor = run.states.find((s) => anchors.has(s.spec.role) && s.lost);
  if (lostAnchor) {
    run.emit({
      type: 'run:refused',
      host: lostAnchor.spec.name,
      reason: `cannot go on without the ${lostAnchor.spec.role} host ${lostAnchor.spec.name}: ${lostAnchor.lost!.reason}`,
    });
    return false;
  }
  try {
    const fail = (name: string, reason: string): void => {
      const s = run.states.find((st) => st.spec.name === name);
      if (s && !s.lost) run.drop(s, 'discover', reason);
    };
    run.shared = await run.playbook.discover({
      inventory: run.inventory,
      hosts: run.usable(),
      secrets: run.secrets,
      fail,
    });
    const findings = [...run.notes, ...(run.playbook.describe?.(run.shared) ?? [])];
    if (run.playbook.describe || findings.length) run.emit({ type: 'run:discovered', findings });
    if (run.playbook.report) run.emit({ type: 'run:report', report: run.playbook.report(run.shared) });
    return true;
  } catch (err) {
    const reason = reasonOf(err);
    const named = err instanceof PlaybookRefusal && err.host ? err.host : null;
    const who = run.states.find((s) => s.spec.name === named) ?? run.states.find((s) => anchors.has(s.spec.role));
    run.emit({ type: 'run:refused', host: who?.spec.name ?? null, reason });
    if (who) run.drop(who, 'discover', reason);
    return false;
  }
}
