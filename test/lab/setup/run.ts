import { execFile, spawn } from 'node:child_process';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command of the lab's own (ip, nsenter, dpkg-deb); never through a shell line. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; allowFail?: boolean } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args as string[], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = child.exitCode ?? (err ? 1 : 0);
      if (code !== 0 && !opts.allowFail)
        reject(
          new Error(
            `${cmd} ${args.join(' ')}: ${(stderr || stdout).trim().split('\n').slice(-3).join(' / ') || `exit ${code}`}`,
          ),
        );
      else resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * Runs a shell script inside a lab host: its network, its own view of the files, its processes
 * (a systemd host's systemctl talks to its own PID 1) and its host name.
 */
export function inHost(
  sshdPid: number,
  script: string,
  args: string[] = [],
  opts: { input?: string; allowFail?: boolean } = {},
): Promise<Ran> {
  return run(
    'nsenter',
    ['-t', String(sshdPid), '-m', '-n', '-p', '-u', '--', 'sh', '-c', script, 'lab', ...args],
    opts,
  );
}

/** Starts a long-running process detached from us; its pid is returned. */
export function startDetached(cmd: string, args: string[], logFile: number): number {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', logFile, logFile] });
  child.unref();
  if (!child.pid) throw new Error(`cannot start ${cmd}`);
  return child.pid;
}
