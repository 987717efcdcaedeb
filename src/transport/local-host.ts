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
    const shell = $({ quiet: true, nothrow: true, verbose: false, ...(opts.stdin !== undefined ? { input: opts.stdin } : {}) });
    const proc = shell`sh -c ${commandLine}`;
    if (opts.onLine) {
      const out = new LineSplitter('stdout', opts.onLine);
      const err = new LineSplitter('stderr', opts.onLine);
      proc.stdout.on('data', (c: Buffer) => out.push(c.toString('utf8')));
      proc.stderr.on('data', (c: Buffer) => err.push(c.toString('utf8')));
      const result = await proc;
      out.flush();
      err.flush();
      return { code: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
    }
    const result = await proc;
    return { code: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  async close(): Promise<void> {}
}
