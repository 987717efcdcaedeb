import { COMMANDS, DEFAULT_COMMAND } from '../../playbooks/index.js';
import { parseCli } from '../../src/cli-options.js';
import { Redactor } from '../../src/engine/redactor.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { inventorySchema } from '../../src/main.js';
import { statusCommand } from '../../src/status-command.js';
import { rootedOpener } from './rooted-host.js';
import { secretSteps } from './rooted-shard.js';

/*
 * `jitsi-scale status` over rooted hosts, as a process of its own (its stdout is the output under
 * test): JITSI_SCALE_TEST_ROOT is the fleet's root; the arguments are jitsi-scale's.
 */
const root = process.env.JITSI_SCALE_TEST_ROOT!;
const parsed = parseCli(process.argv.slice(2), COMMANDS, DEFAULT_COMMAND);
if (parsed.kind !== 'run') throw new Error(`not a run: ${JSON.stringify(parsed)}`);
const playbook = secretSteps;
const inventory = await loadInventory(parsed.options.inventory, inventorySchema(playbook));
process.exitCode = await statusCommand({
  inventory,
  playbook: playbook,
  options: parsed.options,
  openHost: rootedOpener(root),
  runId: 'status-test',
  secrets: new Redactor(),
});
