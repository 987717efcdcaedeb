import { $ } from 'zx';
import type { ExecOptions, ExecResult } from './host.js';
import { LineSplitter } from './line-splitter.js';
import { ShellHost, type Become } from './shell-host.js';

/** This machine, through zx; for `ansible_connection: local` and for tests of the file logic. */
export class LocalHost extends ShellHost {
  constructor(name: string, become: Become, backupDir: string) {
    super(name, become, backupDir);
  }

  protected async run(commandLine: string, opts: ExecOptions): Promise<ExecResult> {
    const shell = $({
      quiet: true,
      nothrow: true,
      verbose: false,
      // A Buffer, not a string: zx does not pass an empty string on, and the command would then
      // wait for stdin forever (writing an empty file did).
      ...(opts.stdin !== undefined
        ? { input: typeof opts.stdin === 'string' ? Buffer.from(opts.stdin, 'utf8') : opts.stdin }
        : {}),
    });
    const proc = shell`sh -c ${commandLine}`;
    const splitters = opts.onLine
      ? [new LineSplitter('stdout', opts.onLine), new LineSplitter('stderr', opts.onLine)]
      : [];
    const [out, err] = splitters;
    if (out && err) {
      proc.stdout.on('data', (c: Buffer) => out.push(c.toString('utf8')));
      proc.stderr.on('data', (c: Buffer) => err.push(c.toString('utf8')));
    }
    const result = await proc;
    for (const s of splitters) s.flush();
    return { code: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  async close(): Promise<void> {}
}
