import type { CliOptions } from './cli-options.js';
import { EXIT } from './engine/exit-codes.js';
import { hostOpener, newRunId } from './engine/open-host.js';
import { Redactor } from './engine/redactor.js';
import { UsageError } from './engine/resolve-limit.js';
import { runPlaybook } from './engine/run-playbook.js';
import { BACKUP_ROOT } from './transport/shell-host.js';
import { loadInventory } from './inventory/load-inventory.js';
import { InventoryError } from './inventory/types.js';
import { jitsiLoadBalancing } from '../playbooks/jitsi-load-balancing/index.js';
import { askOnTerminal } from './ui/ask-step.js';
import { jsonReporter } from './ui/reporters/json-reporter.js';
import { plainReporter } from './ui/reporters/plain-reporter.js';

/** One run from parsed options; returns the exit code. Errors a user can cause end in one line. */
export async function main(options: CliOptions): Promise<number> {
  const err = (line: string) => process.stderr.write(`jitsi-scale: ${line}\n`);
  let inventory;
  try {
    inventory = await loadInventory(options.inventory);
  } catch (e) {
    if (e instanceof InventoryError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }

  const interactive = !options.yes && !options.check && !options.json;
  if (interactive && !(process.stdin.isTTY && process.stdout.isTTY)) {
    err('no terminal to ask on: add --yes to apply every step without questions, or --check to only see the plan');
    return EXIT.usage;
  }

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const sink = options.json ? jsonReporter(out) : plainReporter({ write: out, diff: options.diff, verbose: options.verbose });
  const secrets = new Redactor();
  const runId = newRunId();
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    err('interrupted: finishing the change under way, then stopping (Ctrl-C again to quit at once)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runPlaybook(
      inventory,
      jitsiLoadBalancing,
      {
        mode: options.check ? 'check' : 'apply',
        runId,
        backupDir: `${BACKUP_ROOT}/${runId}`,
        openHost: hostOpener({ connectTimeoutMs: options.connectTimeoutMs, keepaliveIntervalMs: 5000, runId }),
        forks: options.forks,
        limit: options.limit,
        signal: abort.signal,
        secrets,
        ...(interactive ? { decide: askOnTerminal(process.stdin, process.stdout, (s) => secrets.redactText(s)) } : {}),
      },
      sink,
    );
    return result.exitCode;
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return EXIT.usage;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
