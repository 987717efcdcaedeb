import type { ShardFacts } from '../playbooks/jitsi-load-balancing/discover.js';
import type { CommandArgs } from './commands.js';
import { inspector, type Inspector } from './engine/inspect.js';
import type { Playbook } from './engine/playbook.js';
import { BACKUP_ROOT } from './transport/shell-host.js';

/** The day-2 commands' view of the shard: the setup playbook, inspected over the command's connections. */
export function shardInspector(args: CommandArgs): Inspector<ShardFacts> {
  return inspector(args.inventory, args.playbook as Playbook<ShardFacts>, {
    runId: args.runId,
    backupDir: `${BACKUP_ROOT}/${args.runId}`,
    openHost: args.openHost,
    forks: args.options.forks,
    secrets: args.secrets,
  });
}
