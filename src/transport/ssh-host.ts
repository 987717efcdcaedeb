import { NodeSSH } from 'node-ssh';
import { HostError, UnreachableError, type ExecOptions, type ExecResult } from './host.js';
import { LineSplitter } from './line-splitter.js';
import { ShellHost, type Become } from './shell-host.js';

export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
}

/** One sentence for why a connection failed, from the error ssh2 or the socket gave. */
export function describeConnectError(err: unknown, t: SshTarget): string {
  const e = err as { code?: string; level?: string; message?: string };
  const where = `${t.address}:${t.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (is sshd running on that port?)`;
    case 'ETIMEDOUT':
      return `timed out connecting to ${where} after ${t.connectTimeoutMs / 1000}s`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no such host: ${t.address}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    case 'ECONNRESET':
      return `connection to ${where} was reset`;
    case 'ENOENT':
      return `cannot read private key ${t.privateKeyPath ?? ''}`.trim();
  }
  const msg = e.message ?? String(err);
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    return `permission denied for ${t.user}@${where} (no key was accepted)`;
  }
  if (e.level === 'client-timeout' || /timed out/i.test(msg)) {
    return `timed out connecting to ${where} after ${t.connectTimeoutMs / 1000}s (no SSH handshake)`;
  }
  if (/privateKey|private key|Cannot parse/i.test(msg)) {
    return `cannot use private key ${t.privateKeyPath ?? ''}: ${msg}`;
  }
  return `cannot connect to ${where}: ${msg.split('\n')[0]}`;
}

/** A host reached over one SSH connection, opened once and reused for every command of the run. */
export class SshHost extends ShellHost {
  private readonly ssh = new NodeSSH();
  private lostReason: string | null = null;

  private constructor(target: SshTarget, become: Become, backupDir: string) {
    super(target.name, become, backupDir);
  }

  static async connect(target: SshTarget, become: Become, backupDir: string): Promise<SshHost> {
    const host = new SshHost(target, become, backupDir);
    try {
      await host.ssh.connect({
        host: target.address,
        port: target.port,
        username: target.user,
        ...(target.privateKeyPath ? { privateKeyPath: target.privateKeyPath } : {}),
        ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
        readyTimeout: target.connectTimeoutMs,
        keepaliveInterval: target.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        tryKeyboard: false,
      });
    } catch (err) {
      host.ssh.dispose();
      throw new UnreachableError(target.name, describeConnectError(err, target));
    }
    const conn = host.ssh.connection;
    conn?.on('error', (err: Error) => {
      host.lostReason = `connection lost: ${err.message}`;
    });
    conn?.on('close', () => {
      host.lostReason ??= 'connection closed by the host';
    });
    return host;
  }

  protected async run(commandLine: string, opts: ExecOptions): Promise<ExecResult> {
    if (this.lostReason) throw new UnreachableError(this.name, this.lostReason);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outLines = opts.onLine ? new LineSplitter('stdout', opts.onLine) : null;
    const errLines = opts.onLine ? new LineSplitter('stderr', opts.onLine) : null;
    let r;
    try {
      r = await this.ssh.execCommand(commandLine, {
        noTrim: true,
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        onStdout: (c) => {
          out.push(c);
          outLines?.push(c.toString('utf8'));
        },
        onStderr: (c) => {
          err.push(c);
          errLines?.push(c.toString('utf8'));
        },
      });
    } catch (e) {
      throw new UnreachableError(this.name, this.lostReason ?? `command failed to start: ${(e as Error).message}`);
    }
    outLines?.flush();
    errLines?.flush();
    if (r.code === null) {
      if (this.lostReason) throw new UnreachableError(this.name, this.lostReason);
      throw new HostError(this.name, `command killed by signal ${r.signal ?? 'unknown'}`);
    }
    return { code: r.code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}
