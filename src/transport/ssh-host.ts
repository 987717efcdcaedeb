import { Readable, type Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { HostError, UnreachableError, type ExecOptions, type ExecResult } from './host.js';
import { openClient, type Client, type ConnectSettings } from './ssh/connect.js';
import type { Endpoint, SshTarget } from './ssh/endpoint.js';
import { LineSplitter } from './line-splitter.js';
import { ShellHost, type Become } from './shell-host.js';

/** Jump-host connections of a run, shared by every host behind the same hops and closed with the last. */
export class JumpPool {
  private readonly open = new Map<string, { client: Promise<Client>; users: number }>();

  async through(target: SshTarget, s: ConnectSettings): Promise<{ via?: Client; release: () => void }> {
    let via: Client | undefined;
    let key = '';
    const held: string[] = [];
    for (const hop of target.jumps) {
      key += `>${hop.user}@${hop.address}:${hop.port}${hop.proxyCommand ? ` via ${hop.proxyCommand}` : ''}`;
      let entry = this.open.get(key);
      if (!entry) {
        const prev = via;
        const client = openClient(
          hop,
          { host: target.name, jump: true },
          s,
          prev ? () => forward(prev, hop, target.name) : undefined,
        );
        entry = { client, users: 0 };
        this.open.set(key, entry);
        client.catch(() => this.open.delete(key));
      }
      entry.users++;
      held.push(key);
      via = await entry.client;
    }
    return {
      ...(via ? { via } : {}),
      release: () => {
        for (const k of held) {
          const e = this.open.get(k);
          if (e && --e.users === 0) {
            this.open.delete(k);
            void e.client.then(
              (c) => c.end(),
              () => undefined,
            );
          }
        }
      },
    };
  }
}

/** A channel from the jump host to the next endpoint, used as that connection's socket. */
function forward(via: Client, ep: Endpoint, forHost: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, ep.address, ep.port, (err, channel) => {
      if (err)
        reject(new UnreachableError(forHost, `the jump host cannot reach ${ep.address}:${ep.port}: ${err.message}`));
      else resolve(channel);
    });
  });
}

/** A host reached over one SSH connection, opened once and reused for every command of the run. */
export class SshHost extends ShellHost {
  private readonly ssh = new NodeSSH();
  private lostReason: string | null = null;

  private constructor(
    name: string,
    become: Become,
    backupDir: string,
    client: Client,
    private readonly release: () => void,
  ) {
    super(name, become, backupDir);
    this.ssh.connection = client;
    client.on('error', (err: Error) => {
      this.lostReason = /keepalive/i.test(err.message)
        ? 'connection lost: the host stopped answering (keepalive timeout)'
        : `connection lost: ${err.message}`;
    });
    client.on('close', () => {
      this.lostReason ??= 'connection closed by the host';
    });
  }

  /** Connects through the target's jump hosts (shared with other hosts behind them), checking every host key. */
  static async connect(
    target: SshTarget,
    become: Become,
    backupDir: string,
    settings: ConnectSettings,
    jumps = new JumpPool(),
  ): Promise<SshHost> {
    const { via, release } = await jumps.through(target, settings);
    try {
      const client = await openClient(
        target,
        { host: target.name, jump: false },
        settings,
        via ? () => forward(via, target, target.name) : undefined,
      );
      return new SshHost(target.name, become, backupDir, client, release);
    } catch (e) {
      release();
      throw e;
    }
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
        ...(opts.stdin !== undefined
          ? { stdin: typeof opts.stdin === 'string' ? opts.stdin : Readable.from([opts.stdin]) }
          : {}),
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
    this.release();
  }
}
