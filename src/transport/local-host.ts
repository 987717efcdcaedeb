import { $ } from 'zx';
import type { ExecOptions, ExecResult } from './host.js';
import { HostError } from './host.js';
import { OUTPUT_LIMITS, OutputCapture, mib, signalled } from './output-capture.js';
import { ShellHost, type Become, type RunLimits } from './shell-host.js';

/** zx keeps every chunk it reads; ours are kept (within bounds) by the capture instead. */
const keepNothing = () => ({ stdout: discard(), stderr: discard(), stdall: discard() });
const discard = () => Object.assign([] as (string | Buffer)[], { push: () => 0 });

/** This machine, through zx; for `ansible_connection: local` and for tests of the file logic. */
export class LocalHost extends ShellHost {
  constructor(name: string, become: Become, backupDir: string) {
    super(name, become, backupDir);
  }

  protected async run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
    const shell = $({
      quiet: true,
      nothrow: true,
      verbose: false,
      store: keepNothing(),
      // A Buffer, not a string: zx does not pass an empty string on, and the command would then
      // wait for stdin forever (writing an empty file did).
      ...(opts.stdin !== undefined
        ? { input: typeof opts.stdin === 'string' ? Buffer.from(opts.stdin, 'utf8') : opts.stdin }
        : {}),
    });
    const proc = shell`sh -c ${commandLine}`;
    // A command may end without reading all its input (a write refused before it reads the
    // content): the broken pipe is no error of ours, its exit code says what happened.
    proc.stdin?.on('error', () => undefined);
    const capture = new OutputCapture(opts.onLine);
    const stopped: { error?: HostError } = {};
    const stop = (why: string) => {
      stopped.error ??= new HostError(this.name, `${limits.what} on ${this.name} ${why}`);
      void proc.kill('SIGKILL').catch(() => undefined);
    };
    proc.stdout.on('data', (c: Buffer) => {
      if (!capture.stdout(c)) stop(`printed more than ${mib(OUTPUT_LIMITS.stdoutBytes)}: it was stopped`);
    });
    proc.stderr.on('data', (c: Buffer) => capture.stderr(c));
    const wait = Math.round(limits.waitMs / 1000);
    const timer = setTimeout(() => stop(`did not finish within ${wait} s`), limits.waitMs);
    try {
      const result = await proc;
      const out = capture.finish();
      if (stopped.error) throw stopped.error;
      return { ...(result.exitCode === null ? signalled(result.signal) : { code: result.exitCode }), ...out };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {}
}
