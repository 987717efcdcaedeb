import type { CliOptions } from './cli-options.js';
import { EXIT } from './engine/exit-codes.js';
import { hostOpener, newRunId, type OpenerPrompts } from './engine/open-host.js';
import { Redactor } from './engine/redactor.js';
import { UsageError, resolveLimit } from './engine/resolve-limit.js';
import { runPlaybook, type RunOptions, type RunResult } from './engine/run-playbook.js';
import type { EventSink } from './engine/events.js';
import { BACKUP_ROOT } from './transport/shell-host.js';
import { setExecTrace, type ExecTraceEntry } from './transport/exec-trace.js';
import { writeFileSync } from 'node:fs';
import { loadInventory } from './inventory/load-inventory.js';
import { InventoryError, type Inventory } from './inventory/types.js';
import { jitsiLoadBalancing } from '../playbooks/jitsi-load-balancing/index.js';
import { jsonReporter } from './ui/reporters/json-reporter.js';
import { plainReporter } from './ui/reporters/plain-reporter.js';

/** What the front end adds to a run: where events go, and the questions when it asks them. */
export type FrontEnd = { sink: EventSink; prompts?: OpenerPrompts } & Pick<RunOptions, 'decide' | 'ready'>;

/** How this run talks to the user: the guided screen on a terminal, else plain lines or NDJSON. */
export function frontEndFor(options: CliOptions, tty: boolean): 'guided' | 'plain' | 'json' | 'no-terminal' {
  if (options.json) return 'json';
  const asks = !options.yes && !options.check;
  if (!tty) return asks ? 'no-terminal' : 'plain';
  return options.plain ? (asks ? 'no-terminal' : 'plain') : 'guided';
}

/** The command that runs this again, for advice on screen. */
function rerunCommand(options: CliOptions): string {
  const inv = options.inventory === 'inventory.yaml' ? '' : ` -i ${options.inventory}`;
  return `jitsi-scale${inv}${options.yes ? ' --yes' : ''}`;
}

/** One run from parsed options; returns the exit code. Errors a user can cause end in one line. */
export async function main(options: CliOptions): Promise<number> {
  const err = (line: string) => process.stderr.write(`jitsi-scale: ${line}\n`);
  let inventory: Inventory;
  try {
    inventory = await loadInventory(options.inventory);
  } catch (e) {
    if (e instanceof InventoryError) {
      process.stderr.write(`${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }

  try {
    resolveLimit(inventory, options.limit); // a bad --limit is a usage error before any screen opens
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return EXIT.usage;
    }
    throw e;
  }
  // Under CI (CI or CONTINUOUS_INTEGRATION set, as Ink reads them) a terminal UI draws only its
  // last frame, so a CI job with a terminal is treated as one without.
  const ci = ['CI', 'CONTINUOUS_INTEGRATION'].some(
    (k) => k in process.env && process.env[k] !== '0' && process.env[k] !== 'false',
  );
  const frontEnd = frontEndFor(options, !!(process.stdin.isTTY && process.stdout.isTTY) && !ci);
  if (frontEnd === 'no-terminal') {
    err(`no terminal to ask on: add --yes to apply every step without questions, or --check to only see the plan`);
    return EXIT.usage;
  }

  // For profiling: JITSI_SCALE_TRACE=FILE records every command sent to a host (NDJSON).
  const traceFile = process.env.JITSI_SCALE_TRACE;
  const trace: ExecTraceEntry[] = [];
  if (traceFile) {
    setExecTrace((e) => trace.push(e));
    process.once('exit', () => writeFileSync(traceFile, trace.map((e) => JSON.stringify(e)).join('\n') + '\n'));
  }

  const secrets = new Redactor();
  const runId = newRunId();
  const abort = new AbortController();
  const run = (fe: FrontEnd): Promise<RunResult> => {
    const { sink, prompts, ...questions } = fe;
    return runPlaybook(
      inventory,
      jitsiLoadBalancing,
      {
        mode: options.check ? 'check' : 'apply',
        runId,
        backupDir: `${BACKUP_ROOT}/${runId}`,
        openHost: hostOpener({
          connectTimeoutMs: options.connectTimeoutMs,
          keepaliveIntervalMs: options.keepaliveMs,
          runId,
          acceptNewHostKeys: options.acceptNewHostKeys,
          ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
          ...(options.sshConfig ? { sshConfigFile: options.sshConfig } : {}),
          ...(prompts ? { prompts } : {}),
          secret: (v) => secrets.add(v),
        }),
        forks: options.forks,
        limit: options.limit,
        signal: abort.signal,
        secrets,
        ...questions,
      },
      sink,
    );
  };

  try {
    if (frontEnd === 'guided') {
      // Loaded only here: plain and JSON runs (and --help) never pay for React and Ink.
      const { runGuided } = await import('./ui/guided/run-guided.js');
      return await runGuided({
        inventoryPath: options.inventory,
        rerun: rerunCommand(options),
        showDiffs: options.diff,
        ask: !options.yes && !options.check,
        abort,
        run,
      });
    }
    const out = (line: string) => process.stdout.write(`${line}\n`);
    let interrupts = 0;
    const onSigint = () => {
      if (++interrupts > 1) process.exit(EXIT.interrupted);
      err('interrupted: finishing the change under way, then stopping (Ctrl-C again to quit at once)');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const sink =
        frontEnd === 'json'
          ? jsonReporter(out)
          : plainReporter({ write: out, diff: options.diff, verbose: options.verbose });
      return (await run({ sink })).exitCode;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message);
      return EXIT.usage;
    }
    throw e;
  }
}
