import { execChecked, type Host } from '../transport/host.js';
import { shScript } from '../transport/shell-quote.js';

/*
 * Restarts that a change made necessary survive the process that made the change. Before a change
 * that notifies a handler is applied, a mark for that handler is written on the host; it is
 * cleared only once the handler ran and took effect. A run that is killed, loses its link or is
 * stopped leaves the mark, and the next run finds it with the host's facts and runs the handler.
 */

/** The tool's own state on each host: restart marks, and the run lock on the anchor host. */
export const STATE_DIR = '/var/lib/jitsi-scale';

/** The run's state directory. */
export const stateDirOf = (run: { opts: { stateDir?: string } }): string => run.opts.stateDir ?? STATE_DIR;

const pendingDir = (stateDir: string) => `${stateDir}/pending`;

/** A mark's file name: the handler's name with anything but [A-Za-z0-9._-] as "-". */
export function markName(handler: string): string {
  return handler.replace(/[^A-Za-z0-9._-]/g, '-');
}

/** A mark found on a host: its file name, and the run that left it (as written in it). */
export interface PendingMark {
  name: string;
  runId: string;
}

/**
 * Shell that lists the marks below a state directory (`dir`, a shell word such as '"$state"') as
 * "name<TAB>first line", for the facts script.
 */
export const pendingProbe = (dir: string): string =>
  `for f in ${dir}/pending/*; do [ -f "$f" ] && printf '%s\\t%s\\n' "\${f##*/}" "$(head -n 1 "$f" | cut -c1-200)"; done`;

/** Pure: the marks from pendingProbe's lines. */
export function parsePendingMarks(lines: readonly string[]): PendingMark[] {
  return lines
    .map((l) => l.split('\t'))
    .filter(([name]) => !!name && !name.startsWith('.'))
    .map(([name, first]) => ({ name: name!, runId: (first ?? '').split(' ')[0] ?? '' }));
}

const MARK = `
set -e
d=$1 run=$2; shift 2
mkdir -p -- "$d"
for n in "$@"; do printf '%s %s\\n' "$run" "$n" > "$d/$n"; done
sync -- "$d" 2>/dev/null || true`;

/** Writes the marks for these handlers (one round trip), before the change that needs them. */
export async function markPending(
  host: Host,
  stateDir: string,
  handlers: readonly string[],
  runId: string,
): Promise<void> {
  await execChecked(
    host,
    shScript(MARK, pendingDir(stateDir), runId, ...handlers.map(markName)),
    'recording the restart to come',
  );
}

/** Clears a handler's mark once it ran and took effect. */
export async function clearPending(host: Host, stateDir: string, handler: string): Promise<void> {
  await execChecked(
    host,
    ['rm', '-f', '--', `${pendingDir(stateDir)}/${markName(handler)}`],
    'clearing the restart mark',
  );
}
