import type { CliOptions } from './cli-options.js';
import type { OpenHost } from './engine/open-host.js';
import type { Playbook } from './engine/playbook.js';
import type { Redactor } from './engine/redactor.js';
import type { Inventory } from './inventory/types.js';
import type { VarSpec } from './inventory/types.js';

/**
 * A command of the tool, as the command line knows it: enough to parse arguments and print help
 * without loading the playbook, which is loaded only when the command runs.
 */
export interface Command {
  name: string;
  /** One line for `jitsi-scale --help`. */
  summary: string;
  /** A paragraph for `jitsi-scale NAME --help`. */
  description: string;
  /** It never changes a host: nothing is asked, and --yes, --check and --diff do not apply. */
  readOnly: boolean;
  /** The inventory variables its playbook reads (listed by `jitsi-scale NAME --help`). */
  variables: Readonly<Record<string, VarSpec>>;
  load(): Promise<Playbook<unknown>>;
  /**
   * A command that is not a run of its playbook (status looks at the shard with it): given the
   * inventory, the playbook and a way to open hosts, it does its job and returns the exit code.
   */
  entry?: () => Promise<CommandEntry>;
  /** Options only this command takes, by long name. */
  options?: readonly string[];
}

export interface CommandArgs {
  inventory: Inventory;
  playbook: Playbook<unknown>;
  options: CliOptions;
  openHost: OpenHost;
  runId: string;
  secrets: Redactor;
}

export type CommandEntry = (args: CommandArgs) => Promise<number>;
