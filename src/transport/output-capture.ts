import { constants as osConstants } from 'node:os';
import type { OutputStream } from './host.js';
import { LineSplitter } from './line-splitter.js';

/*
 * What a command prints is kept within bounds, whatever the host does: a command that floods
 * (a log followed forever, `yes`, a file that turned out to be huge) is stopped once its output
 * passes the cap, and the run says so, instead of growing this process without end.
 */

export interface OutputLimits {
  /** Most bytes of stdout kept; a command that prints more is stopped. */
  stdoutBytes: number;
  /** Most bytes of stderr kept: the last ones (a failure's reason is at the end). */
  stderrBytes: number;
  /** Most lines passed on to be shown live, per stream; one line then says the rest was cut. */
  liveLines: number;
}

export const OUTPUT_LIMITS: OutputLimits = {
  stdoutBytes: 32 * 1024 * 1024,
  stderrBytes: 256 * 1024,
  liveLines: 20_000,
};

/** A command ended by a signal, as a shell reports it: 128 + the signal's number. */
export function signalled(signal: string | null | undefined): { code: number; signal: string } {
  const name = `SIG${(signal ?? 'KILL').replace(/^SIG/, '')}`;
  return { code: 128 + (osConstants.signals[name as NodeJS.Signals] ?? 9), signal: name };
}

/** Mebibytes, for messages. */
export const mib = (bytes: number): string => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;

export class OutputCapture {
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private err: Buffer[] = [];
  private errBytes = 0;
  private overflow = false;
  private readonly splitters: Record<OutputStream, LineSplitter> | null;
  private readonly shown: Record<OutputStream, number> = { stdout: 0, stderr: 0 };

  constructor(
    onLine?: (stream: OutputStream, line: string) => void,
    private readonly limits: OutputLimits = OUTPUT_LIMITS,
  ) {
    const live = (stream: OutputStream, line: string) => {
      const n = ++this.shown[stream];
      if (n <= limits.liveLines) onLine!(stream, line);
      else if (n === limits.liveLines + 1)
        onLine!(stream, `… more than ${limits.liveLines} lines: the rest is not shown`);
    };
    this.splitters = onLine
      ? { stdout: new LineSplitter('stdout', live), stderr: new LineSplitter('stderr', live) }
      : null;
  }

  /** True once stdout passed its cap: the command must be stopped. */
  get overflowed(): boolean {
    return this.overflow;
  }

  /** Takes a chunk of stdout; false when it passed the cap (nothing more is kept). */
  stdout(chunk: Buffer): boolean {
    if (this.overflow) return false;
    if (this.outBytes + chunk.length > this.limits.stdoutBytes) {
      // The command fails: what it printed is of no use, and is let go at once.
      this.overflow = true;
      this.out.length = 0;
      return false;
    }
    this.out.push(chunk);
    this.outBytes += chunk.length;
    this.splitters?.stdout.push(chunk);
    return true;
  }

  stderr(chunk: Buffer): void {
    this.err.push(chunk);
    this.errBytes += chunk.length;
    if (this.errBytes > this.limits.stderrBytes * 2) {
      const all = Buffer.concat(this.err);
      this.err = [all.subarray(all.length - this.limits.stderrBytes)];
      this.errBytes = this.limits.stderrBytes;
    }
    this.splitters?.stderr.push(chunk);
  }

  /** The output kept, with the live lines' last partial line passed on. */
  finish(): { stdout: string; stderr: string } {
    this.splitters?.stdout.flush();
    this.splitters?.stderr.flush();
    const err = Buffer.concat(this.err);
    return {
      stdout: Buffer.concat(this.out).toString('utf8'),
      stderr: err.subarray(Math.max(0, err.length - this.limits.stderrBytes)).toString('utf8'),
    };
  }
}
