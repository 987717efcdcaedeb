import { whyFailed, type ExecResult } from '../transport/host.js';
import { shScript } from '../transport/shell-quote.js';
import { parseHolder, type LockInfo } from './lock-holder.js';

/*
 * The run lock's commands on the anchor host. Each holds the guard (flock, waited for 5 s at the
 * most) for its compare-and-act, so that taking, touching and removing the lock never interleave,
 * and each runs under `timeout` on the host: none outlives its purpose, even when the host hangs.
 */

export const LOCK_FILE = 'run.lock';

/** Deadlines on the host, in seconds (flock's own wait is 5 s). */
export const LOCK_DEADLINE_S = { acquire: 20, touch: 10 } as const;

/** argv that the host kills after `seconds` (TERM, then KILL 2 s later). */
export const bounded = (seconds: number, argv: readonly string[]): string[] => [
  'timeout',
  '-k',
  '2',
  String(seconds),
  ...argv,
];

/** A holder's info is a few hundred bytes; more is never read. */
const LOCK_READ_BYTES = 4096;

// $1 is the state dir; from here on the guard is held. Opened read-write: a FIFO in its place does
// not block the open. A lock that is not a regular file (a link, a FIFO, a directory) is no lock
// of ours: nothing is written through it, read from it or removed.
const GUARD = `
set -u
lock=$1/${LOCK_FILE}
exec 9<>"$1/.lock-guard" || exit 5
if command -v flock >/dev/null 2>&1; then flock -w 5 9 || exit 6; fi
if [ -L "$lock" ] || { [ -e "$lock" ] && [ ! -f "$lock" ]; }; then echo "$lock is not a regular file" >&2; exit 8; fi
# What a lock says is read up to ${LOCK_READ_BYTES} bytes: a holder's is far shorter, a huge file is nobody's.
said() { head -c ${LOCK_READ_BYTES} -- "$lock"; }`;

// $2 our info, $3 the content we may take over ('' for none) and $4 the time it was last touched
// then: a lock touched since (its holder woke up) is not taken over. Prints "taken", or "held",
// the lock's age in seconds (by the host's clock) and when it was last touched, then the
// holder's info.
const ACQUIRE = `
mkdir -p -- "$1" || exit 5
${GUARD}
info=$2 stale=$3 seen=$4
touched() { stat -c %Y -- "$lock" 2>/dev/null; }
if [ -n "$stale" ] && [ -f "$lock" ] && [ "$(said)" = "$stale" ] && [ "$(touched)" = "$seen" ]; then rm -f -- "$lock"; fi
if (set -C; printf '%s\\n' "$info" > "$lock") 2>/dev/null; then echo taken; exit 0; fi
m=$(touched) || m=$(date +%s)
echo "held $(( $(date +%s) - m )) $m"
said
exit 0`;

// Compare-and-touch: $2 our info. Prints "ours" (touched), "gone", or "theirs" and the content.
const TOUCH = `
[ -e "$1/${LOCK_FILE}" ] || { echo gone; exit 0; }
${GUARD}
if [ ! -e "$lock" ]; then echo gone; exit 0; fi
if [ "$(said)" = "$2" ]; then touch -c -- "$lock" && echo ours; exit 0; fi
echo theirs
said
exit 0`;

// Compare-and-remove: only our own lock goes.
const RELEASE = `
[ -e "$1/${LOCK_FILE}" ] || exit 0
${GUARD}
if [ "$(said 2>/dev/null)" = "$2" ]; then rm -f -- "$lock"; fi
exit 0`;

export const acquireCommand = (stateDir: string, info: string, stale: string, touched = ''): string[] =>
  bounded(LOCK_DEADLINE_S.acquire, shScript(ACQUIRE, stateDir, info, stale, touched));
export const touchCommand = (stateDir: string, mine: string): string[] =>
  bounded(LOCK_DEADLINE_S.touch, shScript(TOUCH, stateDir, mine));
export const releaseCommand = (stateDir: string, mine: string): string[] =>
  bounded(LOCK_DEADLINE_S.touch, shScript(RELEASE, stateDir, mine));

/** Why a lock command failed, in words: its deadline, a busy guard, or what it said. */
export function lockFailure(r: ExecResult): string {
  if (r.code === 124 || r.code === 137) return 'the host did not answer in time';
  if (r.code === 6) return 'another run held the lock guard for 5 s';
  return whyFailed(r);
}

export type LockAnswer =
  | { taken: true }
  /** touched: when the lock was last touched, in seconds by the host's clock ('' when not said). */
  | { taken: false; holder: LockInfo | null; raw: string; ageS: number; touched: string };

/** Pure: the answer of the acquire command. */
export function parseLockAnswer(out: string): LockAnswer {
  if (/^taken$/m.test(out)) return { taken: true };
  const m = /^held (-?\d+)(?: (\d+))?\n([\s\S]*)$/.exec(out);
  const raw = (m?.[3] ?? '').replace(/\n$/, '');
  return { taken: false, holder: parseHolder(raw), raw, ageS: Number(m?.[1] ?? 0), touched: m?.[2] ?? '' };
}

export type TouchAnswer = { ours: true } | { ours: false; holder: LockInfo | null; raw: string | null };

/** Pure: the answer of the touch command; raw null when the lock is gone; undefined for no answer at all. */
export function parseTouchAnswer(out: string): TouchAnswer | undefined {
  const [first, ...rest] = out.split('\n');
  if (first === 'ours') return { ours: true };
  if (first === 'gone') return { ours: false, holder: null, raw: null };
  if (first !== 'theirs') return undefined;
  const raw = rest.join('\n').replace(/\n$/, '');
  return { ours: false, holder: parseHolder(raw), raw };
}
