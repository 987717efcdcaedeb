import type { Change } from '../contract/change.js';
import { execChecked } from '../transport/host.js';

/** A change that is one command, its output shown live; fails with the command's last words. */
export function commandChange(
  description: string,
  argv: readonly string[],
  opts: { stdin?: string; what?: string } = {},
): Change {
  return {
    description,
    async apply(h, io) {
      await execChecked(h, argv, opts.what ?? argv.join(' '), {
        onLine: io.output,
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      });
    },
  };
}
