import { openSync, writeSync } from 'node:fs';
import { COMMANDS, DEFAULT_COMMAND, VARIABLE_FAMILIES } from '../playbooks/index.js';
import type { CliOptions } from './cli-options.js';
import type { Command } from './commands.js';
import type { EventSink } from './engine/events.js';
import { EXIT } from './engine/exit-codes.js';
import type { FrontEnd } from './engine/front-end.js';
import { hostOpener, newRunId, type OpenHost, type OpenerPrompts } from './engine/open-host.js';
import type { Playbook } from './engine/playbook.js';
import { Redactor } from './engine/redactor.js';
import { UsageError, resolveLimit } from './engine/resolve-limit.js';
import { runPlaybook, type RunResult } from './engine/run-playbook.js';
import { loadInventory } from './inventory/load-inventory.js';
import { InventoryError, type Inventory, type InventorySchema } from './inventory/types.js';
import { setExecTrace, type ExecTraceEntry } from './transport/exec-trace.js';
import { BACKUP_ROOT } from './transport/shell-host.js';
import { OWN_DIRECTORY_ONLY } from './transport/link-policy.js';
import { sshResolver } from './transport/ssh/resolver.js';
import { onTerminal } from './on-terminal.js';
import { jsonReporter } from './ui/reporters/json-reporter.js';
import { plainReporter } from './ui/reporters/plain-reporter.js';
import { reportReporter } from './ui/reporters/report-reporter.js';

type FrontEndKind = 'guided' | 'plain' | 'json' | 'report' | 'json-report' | 'no-terminal';

const err = (line: string): void => {
  process.stderr.write(`jitsi-scale: ${line}\n`);
};

/**
 * What an inventory must hold for this playbook. Every command reads the same inventory file, so a
 * variable any command reads is known to all of them (it is not a typo for `facts`).
 */
export function inventorySchema(playbook: Playbook<unknown>): InventorySchema {
  const variables = Object.assign(
    {},
    ...COMMANDS.map((c) => c.variables),
    playbook.variables,
  ) as InventorySchema['variables'];
  return {
    roles: playbook.roles,
    variables,
    families: VARIABLE_FAMILIES,
    ...(playbook.checkInventory ? { check: playbook.checkInventory } : {}),
  };
}

/** How this run talks to the user: the guided screen on a terminal, else plain lines or NDJSON. */
export function frontEndFor(options: CliOptions, tty: boolean, readOnly = false): FrontEndKind {
  if (readOnly) return options.json ? 'json-report' : 'report';
  if (options.json) return 'json';
  const asks = !options.yes && !options.check;
  if (!tty) return asks ? 'no-terminal' : 'plain';
  return options.plain ? (asks ? 'no-terminal' : 'plain') : 'guided';
}

/** The command that runs this again, for advice on screen. */
function rerunCommand(command: Command, options: CliOptions): string {
  const name = command.name === DEFAULT_COMMAND ? '' : ` ${command.name}`;
  const inv = options.inventory === 'inventory.yaml' ? '' : ` -i ${options.inventory}`;
  return `jitsi-scale${name}${inv}${options.yes ? ' --yes' : ''}`;
}

/** The inventory, and a --limit that names hosts in it; null after saying what is wrong. */
async function readInventory(playbook: Playbook<unknown>, options: CliOptions): Promise<Inventory | null> {
  try {
    const inventory = await loadInventory(options.inventory, inventorySchema(playbook));
    resolveLimit(inventory, options.limit); // a bad --limit is a usage error before any screen opens
    for (const note of [...inventory.notes, ...inventory.hosts.flatMap((h) => h.notes.map((n) => `${h.name}: ${n}`))])
      err(`note: ${note}`);
    return inventory;
  } catch (e) {
    if (e instanceof InventoryError) process.stderr.write(`${e.message}\n`);
    else if (e instanceof UsageError) err(e.message);
    else throw e;
    return null;
  }
}

/** For profiling: JITSI_SCALE_TRACE=FILE records every command sent to a host (NDJSON). */
function traceCommands(): void {
  const traceFile = process.env.JITSI_SCALE_TRACE;
  if (!traceFile) return;
  // Each entry is written as it happens: a run that is killed keeps its trace up to that moment.
  const fd = openSync(traceFile, 'w');
  setExecTrace((e: ExecTraceEntry) => writeSync(fd, `${JSON.stringify(e)}\n`));
}

/** One run of a command from parsed options; returns the exit code. Errors a user can cause end in one line. */
export async function main(command: Command, options: CliOptions): Promise<number> {
  const playbook = await command.load();
  const inventory = await readInventory(playbook, options);
  if (!inventory) return EXIT.usage;
  const frontEnd = frontEndFor(options, onTerminal(), command.readOnly);
  if (frontEnd === 'no-terminal') {
    err(`no terminal to ask on: add --yes to apply every step without questions, or --check to only see the plan`);
    return EXIT.usage;
  }
  traceCommands();
  if (command.entry) {
    const entry = await command.entry();
    const secrets = new Redactor();
    const runId = newRunId();
    return await entry({
      inventory,
      playbook,
      options,
      runId,
      secrets,
      openHost: openerFor(inventory, playbook, options, runId, secrets),
    });
  }
  const abort = new AbortController();
  const rerun = rerunCommand(command, options);
  const run = runner(inventory, playbook, options, abort, rerun);
  try {
    if (frontEnd === 'guided') {
      // Loaded only here: plain and JSON runs (and --help) never pay for React and Ink.
      const { runGuided } = await import('./ui/guided/run-guided.js');
      return await runGuided({
        inventoryPath: options.inventory,
        rerun,
        showDiffs: options.diff,
        ask: !options.yes && !options.check,
        abort,
        run,
      });
    }
    return await runPlain(run, sinkFor(frontEnd, options), abort);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(e.message);
    return EXIT.usage;
  }
}

function sinkFor(frontEnd: FrontEndKind, options: CliOptions): EventSink {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (frontEnd === 'json') return jsonReporter(out);
  if (frontEnd === 'report' || frontEnd === 'json-report') {
    return reportReporter({ write: out, warn: err, json: frontEnd === 'json-report' });
  }
  return plainReporter({ write: out, diff: options.diff, verbose: options.verbose });
}

/** A run without the full screen: Ctrl-C stops after the change under way, twice quits at once. */
async function runPlain(run: (fe: FrontEnd) => Promise<RunResult>, sink: EventSink, abort: AbortController) {
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(EXIT.interrupted);
    err('interrupted: finishing the change under way, then stopping (Ctrl-C again to quit at once)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return (await run({ sink })).exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** How this run opens its hosts: ssh settings resolved as ssh does, host keys as the options say. */
function openerFor(
  inventory: Inventory,
  playbook: Playbook<unknown>,
  options: CliOptions,
  runId: string,
  secrets: Redactor,
  prompts?: OpenerPrompts,
): OpenHost {
  const resolver = sshResolver();
  if (resolver.source === 'built-in reader' && inventory.hosts.some((h) => h.connection === 'ssh'))
    err(
      'note: no OpenSSH client here (or JITSI_SCALE_SSH_CONFIG_READER=built-in): ssh settings come from the built-in reader',
    );
  return hostOpener({
    connectTimeoutMs: options.connectTimeoutMs,
    keepaliveIntervalMs: options.keepaliveMs,
    runId,
    resolver,
    acceptNewHostKeys: options.acceptNewHostKeys,
    ...(options.knownHosts ? { knownHostsFile: options.knownHosts } : {}),
    ...(options.sshConfig ? { sshConfigFile: options.sshConfig } : {}),
    ...(prompts ? { prompts } : {}),
    secret: (v) => secrets.add(v),
    linkPolicy: (spec) => playbook.linkPolicy?.(spec) ?? OWN_DIRECTORY_ONLY,
  });
}

/** The run with everything but the front end decided: the front end brings its sink and questions. */
function runner(
  inventory: Inventory,
  playbook: Playbook<unknown>,
  options: CliOptions,
  abort: AbortController,
  rerun: string,
): (fe: FrontEnd) => Promise<RunResult> {
  const secrets = new Redactor();
  const runId = newRunId();
  const opener = (prompts?: OpenerPrompts) => openerFor(inventory, playbook, options, runId, secrets, prompts);
  return ({ sink, prompts, ...questions }) =>
    runPlaybook(
      inventory,
      playbook,
      {
        mode: options.check ? 'check' : 'apply',
        runId,
        backupDir: `${BACKUP_ROOT}/${runId}`,
        openHost: opener(prompts),
        forks: options.forks,
        limit: options.limit,
        signal: abort.signal,
        secrets,
        rerun,
        ...questions,
      },
      sink,
    );
}
