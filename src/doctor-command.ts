import { examineShard } from '../playbooks/shard-doctor/gather.js';
import { doctorLines } from '../playbooks/shard-doctor/doctor-lines.js';
import type { CommandArgs } from './commands.js';
import { EXIT } from './engine/exit-codes.js';
import { shardInspector } from './shard-inspector.js';
import { resolveLimit } from './engine/resolve-limit.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `jitsi-scale doctor`: every known cause of a bridge not serving, checked over SSH, with its
 * evidence and fix. Reads only. Exit 2 when a check fails, 3 when the meet host cannot be read.
 */
export async function doctorCommand(args: CommandArgs): Promise<number> {
  const { inventory, options } = args;
  // Every host is read (nicknames are compared across the shard); --limit picks the bridges reported.
  const only = options.limit.length ? resolveLimit(inventory, options.limit) : null;
  const inspect = shardInspector(args);
  try {
    const inspection = await inspect.inspect();
    const report = await examineShard(inventory, inspection, only);
    if (options.json) out(JSON.stringify(args.secrets.redact(report), null, 2));
    else if (report.refused) process.stderr.write(`jitsi-scale: doctor: ${report.refused}\n`);
    else doctorLines(report.findings).forEach((l) => out(args.secrets.redactText(l)));
    if (report.refused)
      return [...inspection.lost.values()].some((l) => l.status === 'unreachable') ? EXIT.unreachable : EXIT.hostFailed;
    return report.findings.some((f) => !f.ok) ? EXIT.hostFailed : EXIT.ok;
  } finally {
    await inspect.close();
  }
}
