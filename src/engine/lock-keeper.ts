import type { Host } from '../transport/host.js';
import { lockFailure, parseTouchAnswer, releaseCommand, touchCommand, type TouchAnswer } from './lock-commands.js';
import { describeHolder } from './lock-holder.js';
import type { LockTiming } from './run-lock.js';

/*
 * A held run lock stays held only while it is confirmed. The heartbeat is a compare-and-touch: it
 * touches the lock only if the lock still holds this run's own content, and a lock taken over or
 * removed ends the run's right to change anything. A process that was stopped or a laptop that
 * slept past the stale time may have lost its lock without its heartbeat noticing yet: a change
 * then first confirms the lock (one round trip), and the run stops if it cannot.
 */

export interface HeldLock {
  /** Set when a stale lock was taken over: whose, and why it was stale. */
  tookOver?: string;
  /**
   * Null while the lock is still this run's; else the sentence that stops the run (who took it,
   * or why it cannot be confirmed). Free while the heartbeat keeps it confirmed; one round trip
   * when the last confirmation is older than the timing's verifyAfterMs.
   */
  check(): Promise<string | null>;
  release(): Promise<void>;
}

/** A moment by both clocks: the wall clock runs on while the machine sleeps, the monotonic one if the wall clock is set back. */
interface Instant {
  wall: number;
  mono: number;
}
const instant = (): Instant => ({ wall: Date.now(), mono: performance.now() });
const ageMs = (i: Instant): number => Math.max(Date.now() - i.wall, performance.now() - i.mono);

/** The promise's value, or null once `ms` have passed. */
async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  // Not unref'd: a wait that is bounded keeps the process for its answer.
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The sentence for a lock that is no longer ours. */
export function lostSentence(host: string, answer: Extract<TouchAnswer, { ours: false }>): string {
  const what =
    answer.raw === null
      ? `the run lock on ${host} was removed while this run held it`
      : `the run lock on ${host} was taken over by ${describeHolder(answer.holder, answer.raw)}`;
  return `${what}; this run stops here and changes nothing more`;
}

class LockKeeper implements HeldLock {
  /** When the last confirmed touch was sent (taking the lock counts). */
  private confirmed = instant();
  private lost: string | null = null;
  private lastFailure = 'no answer yet';
  private inflight?: { sent: Instant; done: Promise<boolean> };
  private timer?: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly host: Host,
    private readonly stateDir: string,
    private readonly mine: string,
    private readonly timing: LockTiming,
  ) {
    this.schedule();
  }

  private schedule(): void {
    if (this.lost || this.released) return;
    this.timer = setTimeout(() => void this.confirm().then(() => this.schedule()), this.timing.heartbeatMs);
    this.timer.unref();
  }

  /** Touches the lock if it is still ours; true when this touch (or a recent one still under way) confirmed it. */
  private confirm(): Promise<boolean> {
    if (this.inflight && ageMs(this.inflight.sent) <= this.timing.verifyAfterMs) return this.inflight.done;
    const sent = instant();
    const done = this.touch().then((answer) => {
      if (this.inflight?.sent === sent) this.inflight = undefined;
      if (answer === true) {
        if (sent.mono > this.confirmed.mono) this.confirmed = sent;
        return true;
      }
      if (answer) this.lost ??= answer;
      return false;
    });
    this.inflight = { sent, done };
    return done;
  }

  /** true: touched; a sentence: the lock is not ours; null: no answer (lastFailure says why). */
  private async touch(): Promise<true | string | null> {
    const asked = this.host.exec(touchCommand(this.stateDir, this.mine), { readOnly: true }).then(
      (r) =>
        r.code === 0 ? (parseTouchAnswer(r.stdout) ?? `unexpected answer "${r.stdout.slice(0, 60)}"`) : lockFailure(r),
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    const answer = await withDeadline(asked, this.timing.answerMs);
    if (answer === null || typeof answer === 'string') {
      this.lastFailure = answer ?? `no answer in ${this.timing.answerMs / 1000} s`;
      return null;
    }
    return answer.ours ? true : lostSentence(this.host.name, answer);
  }

  async check(): Promise<string | null> {
    if (this.lost) return this.lost;
    if (ageMs(this.confirmed) <= this.timing.verifyAfterMs) return null;
    if (await this.confirm()) return null;
    this.lost ??=
      `this run cannot confirm that it still holds the run lock on ${this.host.name} (${this.lastFailure}); ` +
      'it stops here, before its next change, so that it never overlaps another run';
    return this.lost;
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    const removed = this.host.exec(releaseCommand(this.stateDir, this.mine)).catch(() => undefined);
    await withDeadline(removed, this.timing.answerMs);
  }
}

/** Keeps a lock just taken: the heartbeat starts now. */
export function keepLock(host: Host, stateDir: string, mine: string, timing: LockTiming): HeldLock {
  return new LockKeeper(host, stateDir, mine, timing);
}
