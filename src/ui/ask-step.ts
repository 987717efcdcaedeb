import { createInterface } from 'node:readline/promises';
import type { Decision } from '../engine/events.js';
import type { HostPlan, Step } from '../engine/types.js';

/**
 * The terminal question before a step with changes: apply, skip, show the diffs, or quit. A plain
 * prompt on the terminal; the full-screen guided mode builds on the same decision.
 */
export function askOnTerminal(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, redact: (s: string) => string) {
  return async (step: Step<unknown>, plans: ReadonlyMap<string, HostPlan>): Promise<Decision> => {
    const hosts = [...plans].filter(([, p]) => p.changes.length > 0).map(([h]) => h);
    const rl = createInterface({ input, output });
    try {
      for (;;) {
        const answer = (await rl.question(`Apply "${step.title}" on ${hosts.join(', ')}? [Y]es / [s]kip / [d]iff / [q]uit: `)).trim().toLowerCase();
        if (answer === '' || answer === 'y' || answer === 'yes') return 'apply';
        if (answer === 's' || answer === 'skip') return 'skip';
        if (answer === 'q' || answer === 'quit') return 'quit';
        if (answer === 'd' || answer === 'diff') {
          for (const [host, plan] of plans) {
            for (const c of plan.changes) output.write(`[${host}] ${c.description}\n${c.diff ? redact(c.diff) : '    (no file diff: a command)\n'}\n`);
          }
        }
      }
    } finally {
      rl.close();
    }
  };
}
