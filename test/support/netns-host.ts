import { execFileSync } from 'node:child_process';
import type { ExecOptions, ExecResult } from '../../src/transport/host.js';
import { LocalHost } from '../../src/transport/local-host.js';
import type { RunLimits } from '../../src/transport/shell-host.js';
import { quoteArgv } from '../../src/transport/shell-quote.js';

/**
 * A throwaway network namespace with a local host whose commands run inside it: its own
 * firewall, loopback and addresses, so firewall modules can be applied for real without touching
 * this machine's rules. Files are this machine's; tests point persistence paths at temp dirs.
 */
export class NetnsHost extends LocalHost {
  constructor(
    readonly ns: string,
    backupDir: string,
  ) {
    super(ns, { enabled: false, user: 'root' }, backupDir);
  }

  protected override run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
    return super.run(quoteArgv(['ip', 'netns', 'exec', this.ns, 'sh', '-c', commandLine]), opts, limits);
  }
}

export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'the ip command (iproute2) is missing';
  }
}

/** A fresh namespace; one left behind by an interrupted run is removed first, with its processes. */
export function createNetns(name: string): () => void {
  if (
    execFileSync('ip', ['netns', 'list'])
      .toString()
      .split('\n')
      .some((l) => l.split(' ')[0] === name)
  ) {
    execFileSync('sh', ['-c', 'ip netns pids "$1" | xargs -r kill -9; ip netns del "$1"', 'rm', name]);
  }
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return () => execFileSync('ip', ['netns', 'del', name]);
}
