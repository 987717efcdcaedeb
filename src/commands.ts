import type { Playbook } from './engine/playbook.js';
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
}
