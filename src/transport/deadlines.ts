/*
 * Every remote command has a deadline fitted to what it does. On the host the command runs under
 * coreutils' `timeout`, which on expiry stops its whole process group (TERM, then KILL 5 s later):
 * nothing the command started keeps running there. This process keeps its own watch a little
 * longer than that, for a host that stops answering altogether.
 */

/** What kind of work a command is; each kind has its own deadline. */
export type DeadlineClass = 'probe' | 'prosodyctl' | 'write' | 'command' | 'service' | 'package' | 'lock';

/**
 * Seconds each kind may take. package covers apt's wait for another package manager's lock (up to
 * 300 s, apt-run.ts) and then the download and install; service a stop and start of a server that
 * may take a while to let its clients go; prosodyctl a Prosody that no longer answers its admin
 * socket.
 */
export const DEADLINES_S: Readonly<Record<DeadlineClass, number>> = {
  probe: 60,
  prosodyctl: 30,
  write: 60,
  command: 120,
  service: 180,
  package: 1200,
  lock: 20,
};

/** After the deadline, the host gets this long to stop the command before KILL. */
export const KILL_AFTER_S = 5;
/** And this process waits this long beyond that before it gives up on the host's answer. */
const CLIENT_GRACE_S = 10;

/**
 * Pure: JITSI_SCALE_DEADLINES ("probe=5,service=30") over the defaults. Unknown kinds and values
 * that are not positive numbers are errors: a deadline that silently stays at its default is one
 * an operator thinks they changed.
 */
export function parseDeadlines(spec: string | undefined): Record<DeadlineClass, number> {
  const out = { ...DEADLINES_S };
  for (const part of (spec ?? '').split(',').map((p) => p.trim())) {
    if (!part) continue;
    const [k = '', v = ''] = part.split('=');
    if (!(k in out))
      throw new Error(`JITSI_SCALE_DEADLINES: unknown kind "${k}" (kinds: ${Object.keys(out).join(', ')})`);
    const s = Number(v);
    if (!(s > 0) || !Number.isFinite(s))
      throw new Error(`JITSI_SCALE_DEADLINES: ${k} needs a number of seconds, not "${v}"`);
    out[k as DeadlineClass] = s;
  }
  return out;
}

let table: Record<DeadlineClass, number> | null = null;

/** The deadline in seconds for a command of this kind (or an explicit number of seconds). */
export function deadlineSeconds(kind: DeadlineClass | number): number {
  if (typeof kind === 'number') return kind;
  table ??= parseDeadlines(process.env.JITSI_SCALE_DEADLINES);
  return table[kind];
}

/** How long this process waits for a command with this deadline before it stops waiting. */
export function clientWaitMs(deadlineS: number): number {
  return (deadlineS + KILL_AFTER_S + CLIENT_GRACE_S) * 1000;
}

/**
 * Shell run in front of every command: `timeout` where the host has it (every Debian and Ubuntu
 * host: coreutils), else the command as it is, with only this process's own watch. $1 is the
 * deadline, $2 `sweep` or not, the rest the command. timeout leads a process group of its own and
 * signals all of it; what the command started in a session of its own is outside that group, so
 * each command's processes carry a mark in their environment, and on expiry every process still
 * carrying it is killed too. Not for a service's restart (`keep`): the daemon it starts is meant to
 * outlive it.
 */
export const DEADLINE_WRAPPER = `d=$1 sweep=$2; shift 2
command -v timeout >/dev/null 2>&1 || exec "$@"
[ "$sweep" = sweep ] || exec timeout -k ${KILL_AFTER_S} "$d" "$@"
JITSI_SCALE_RUN=$$ timeout -k ${KILL_AFTER_S} "$d" "$@"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  for e in /proc/[0-9]*/environ; do
    if tr '\\0' '\\n' < "$e" 2>/dev/null | grep -qxF "JITSI_SCALE_RUN=$$"; then p=\${e#/proc/}; kill -KILL "\${p%/environ}" 2>/dev/null; fi
  done
fi
exit $rc`;

/** Whether a command of this kind may have what it started outlive it (a service's daemon). */
export const sweepsOnExpiry = (kind: DeadlineClass | number): boolean => kind !== 'service';

/** Pure: did a command end by its deadline on the host? (timeout exits 124, or 137 after KILL.) */
export function endedByDeadline(code: number, elapsedMs: number, deadlineS: number): boolean {
  return (code === 124 || code === 137) && elapsedMs >= deadlineS * 1000 - 250;
}
