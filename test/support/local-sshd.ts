import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ensureDebianPackages } from './debian-packages.js';

/**
 * A real OpenSSH server on 127.0.0.1 with its own host key and one authorized client key, for
 * transport tests that must cross a real SSH connection. Needs root (sshd's privilege separation).
 */
export interface LocalSshd {
  port: number;
  dir: string;
  clientKey: string;
  /** A known_hosts file that trusts this sshd's host key on every listen address. */
  knownHosts: string;
  stop(): Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';

/** Installs OpenSSH's server and sudo when missing (as root: CI, a fresh machine). */
export async function ensureSshd(): Promise<void> {
  if (process.getuid?.() === 0)
    await ensureDebianPackages({
      [SSHD]: 'openssh-server',
      '/usr/bin/ssh-keygen': 'openssh-client',
      '/usr/bin/sudo': 'sudo',
    });
}

/** Why the sshd tests cannot run here, or null when they can. In CI this is a failure, never a skip. */
export function sshdUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run sshd';
  try {
    execFileSync(SSHD, ['-V'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return `${SSHD} is not installed (apt-get install openssh-server)`;
  }
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sshd exited early: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

export async function startLocalSshd(listen: string[] = ['127.0.0.1']): Promise<LocalSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'js-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  execFileSync('cp', [`${clientKey}.pub`, join(dir, 'authorized_keys')]);
  execFileSync('mkdir', ['-p', '/run/sshd']);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    ...listen.map((a) => `ListenAddress ${a}`),
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`,
    'LogLevel ERROR',
    '',
  ].join('\n');
  const pub = (await import('node:fs/promises')).readFile(`${hostKey}.pub`, 'utf8');
  const knownHosts = join(dir, 'known_hosts');
  const [type, key] = (await pub).trim().split(/\s+/);
  await writeFile(knownHosts, listen.map((a) => `[${a}]:${port} ${type} ${key}\n`).join(''));
  const cfg = join(dir, 'sshd_config');
  await writeFile(cfg, config);
  let log = '';
  const proc = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  await waitForPort(port, proc, () => log);
  return {
    port,
    dir,
    clientKey,
    knownHosts,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A local sshd for the tests of the describe() this is called in: started before them, stopped
 * after. The getter gives it once started; `target` reaches it as root with its client key.
 */
export function useLocalSshd(): {
  sshd: () => LocalSshd;
  target: () => { address: string; port: number; user: string; privateKeyPath: string; knownHostsFile: string };
} {
  let sshd: LocalSshd | undefined;
  before(async () => {
    sshd = await startLocalSshd();
  });
  after(async () => {
    await sshd?.stop();
  });
  const started = (): LocalSshd => sshd ?? assert.fail('the local sshd has not started');
  return {
    sshd: started,
    target: () => ({
      address: '127.0.0.1',
      port: started().port,
      user: 'root',
      privateKeyPath: started().clientKey,
      knownHostsFile: started().knownHosts,
    }),
  };
}
