import { shardLooker } from '../playbooks/shard-status/look.js';
import type { ShardFacts } from '../playbooks/jitsi-load-balancing/discover.js';
import type { Playbook } from './engine/playbook.js';
import type { StatusDoc } from '../playbooks/shard-status/shard-status.js';
import { driftLines, problemLines, statusTable } from '../playbooks/shard-status/status-lines.js';
import type { CommandArgs } from './commands.js';
import { EXIT } from './engine/exit-codes.js';
import { resolveLimit } from './engine/resolve-limit.js';
import { onTerminal } from './on-terminal.js';
import { shardInspector } from './shard-inspector.js';
import type { StatusView } from './ui/status/status-view.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

function print(doc: StatusDoc, json: boolean, compact: boolean): void {
  if (json) out(JSON.stringify(doc, null, compact ? undefined : 2));
  else [...statusTable(doc), '', ...problemLines(doc)].forEach((l) => out(l));
}

function viewOf(doc: StatusDoc): StatusView {
  return {
    table: statusTable(doc),
    problems: problemLines(doc),
    drift: driftLines(doc),
    exitCode: doc.exitCode,
    at: `${doc.time.slice(11, 19)} UTC`,
  };
}

/**
 * `jitsi-scale status`: one look at the shard, or with --watch a look every few seconds over the
 * same connections until Ctrl-C (q on the live screen). Reads only. The exit code is the last look's.
 */
export async function statusCommand(args: CommandArgs): Promise<number> {
  const { inventory, options } = args;
  // Every host is read (strangers and twin nicknames need them all); --limit picks the bridges shown.
  const inspect = shardInspector(args);
  const shown = options.limit.length ? resolveLimit(inventory, options.limit) : null;
  const looker = shardLooker(inventory, args.playbook as Playbook<ShardFacts>, inspect, shown);
  // Nothing the hosts said reaches the screen with a secret in it.
  const look = async () => args.secrets.redact(await looker.look());
  try {
    if (options.watch === undefined) {
      const doc = await look();
      print(doc, options.json, false);
      return doc.exitCode;
    }
    if (!options.json && onTerminal()) {
      const { watchStatus } = await import('./ui/status/watch-status.js');
      return await watchStatus({ look: async () => viewOf(await look()), seconds: options.watch });
    }
    return await printEveryLook(look, options.watch, options.json);
  } finally {
    await inspect.close();
  }
}

/** --watch without the live screen: each look printed (one JSON document per line with --json). */
async function printEveryLook(look: () => Promise<StatusDoc>, seconds: number, json: boolean): Promise<number> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let last: number = EXIT.ok;
  let running = true;
  const onSigint = () => {
    running = false;
    stop();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    while (running) {
      const doc = await look();
      last = doc.exitCode;
      print(doc, json, true);
      if (!json) out('');
      await Promise.race([new Promise((r) => setTimeout(r, seconds * 1000)), stopped]);
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  return last;
}
