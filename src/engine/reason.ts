import { HostError } from '../transport/host.js';
import { PlaybookRefusal } from './playbook.js';

/** One sentence for a failure; a bug in the tool says so instead of dumping a stack. */
export function reasonOf(err: unknown): string {
  if (err instanceof HostError || err instanceof PlaybookRefusal) return err.message;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}
