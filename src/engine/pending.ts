import { execChecked, type Host } from '../transport/host.js';
import { shScript } from '../transport/shell-quote.js';

/*
 * Restarts that a change made necessary survive the process that made the change. Before a change
 * that notifies a handler is applied, a mark for that handler is written on the host; it is
 * cleared only once the handler ran and took effect, or when the write it was set for was refused
 * before it went live. A run that is killed, loses its link or is stopped leaves the mark, and
 * the next run finds it with the host's facts and runs the handler.
 *
 * The journal's format: one file per handler, pending/<mark name>, whose first line is
 *   version 1:  <run id> <mark name>
 *   version 2:  <run id> <mark name> v=2 handler=<the handler's name, percent-encoded>
 * Every version keeps the first two words, and the file name is the mark: code that reads
 * version 1 takes the first word as the run id and the file name as the handler, so it honours
 * every later mark; this code reads a line without "v=" as version 1, matches a handler by the
 * name in "handler=" when there is one (mark names fold any character but [A-Za-z0-9._-] to "-",
 * so two handlers may share one), else by the file name, and ignores fields it does not know.
 */

/** The tool's own state on each host: restart marks, and the run lock on the anchor host. */
export const STATE_DIR = '/var/lib/jitsi-scale';

/** The version of the marks this code writes. */
export const MARK_VERSION = 2;

/** The run's state directory. */
export const stateDirOf = (run: { opts: { stateDir?: string } }): string => run.opts.stateDir ?? STATE_DIR;

export const pendingDir = (stateDir: string): string => `${stateDir}/pending`;

/** A mark's file name: the handler's name with anything but [A-Za-z0-9._-] as "-". */
export function markName(handler: string): string {
  return handler.replace(/[^A-Za-z0-9._-]/g, '-');
}

/** A mark found on a host: its file name, the run that left it, and what its version says. */
export interface PendingMark {
  name: string;
  runId: string;
  version: number;
  /** The handler's own name (version 2 on). */
  handler?: string;
}

/**
 * Shell that lists the marks below a state directory (`dir`, a shell word such as '"$state"') as
 * "name<TAB>first line", for the facts script. A name with characters no mark of ours has (a tab,
 * a newline) is listed with them as "?", so that it still reads as one line.
 */
export const pendingProbe = (dir: string): string =>
  `for f in ${dir}/pending/*; do [ -f "$f" ] || continue; n=\${f##*/}; ` +
  `case $n in *[!A-Za-z0-9._-]*) n=$(printf '%s' "$n" | tr -c 'A-Za-z0-9._-' '?');; esac; ` +
  `printf '%s\\t%s\\n' "$n" "$(head -n 1 -- "$f" | tr -d '\\t' | cut -c1-200)"; done`;

const decoded = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
};

/** Pure: a mark from its file name and first line. */
export function parseMark(name: string, first: string): PendingMark {
  const [runId = '', , ...fields] = first.split(' ');
  const field = (key: string) => fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1);
  const version = Number(field('v') ?? 1);
  const handler = field('handler');
  const named = handler === undefined ? undefined : decoded(handler);
  return { name, runId, version: Number.isInteger(version) ? version : 1, ...(named ? { handler: named } : {}) };
}

/** Pure: the marks from pendingProbe's lines. */
export function parsePendingMarks(lines: readonly string[]): PendingMark[] {
  return lines
    .map((l) => l.split('\t'))
    .filter(([name]) => !!name && !name.startsWith('.'))
    .map(([name, first]) => parseMark(name!, first ?? ''));
}

/** The handler a mark is for: by its own name when it says it, else by the file name; undefined for none. */
export function handlerOfMark<H extends { name: string }>(handlers: readonly H[], mark: PendingMark): H | undefined {
  return (
    (mark.handler ? handlers.find((h) => h.name === mark.handler) : undefined) ??
    handlers.find((h) => markName(h.name) === mark.name)
  );
}

/** One sentence for a mark no handler of the playbook recognises. */
export function unknownMarkNote(host: string, stateDir: string, mark: PendingMark): string {
  const what = mark.handler ? `"${mark.handler}"` : `"${mark.name}"`;
  return (
    `${pendingDir(stateDir)}/${mark.name} on ${host} asks for a restart this command does not know (${what}, ` +
    `left by run ${mark.runId || 'unknown'}): it is left in place; remove it once nothing is due`
  );
}

const MARK = `
set -e
d=$1 run=$2; shift 2
mkdir -p -- "$d"
while [ $# -ge 2 ]; do printf '%s %s v=${MARK_VERSION} handler=%s\\n' "$run" "$1" "$2" > "$d/$1"; shift 2; done
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
    shScript(MARK, pendingDir(stateDir), runId, ...handlers.flatMap((h) => [markName(h), encodeURIComponent(h)])),
    'recording the restart to come',
  );
}

/** Clears handlers' marks (one round trip): they ran and took effect, or nothing needs them. */
export async function clearPending(host: Host, stateDir: string, handlers: readonly string[]): Promise<void> {
  await execChecked(
    host,
    ['rm', '-f', '--', ...handlers.map((h) => `${pendingDir(stateDir)}/${markName(h)}`)],
    'clearing the restart mark',
  );
}
