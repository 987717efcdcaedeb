import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { HostError, UnreachableError, type ExecOptions, type ExecResult } from './host.js';
import { OUTPUT_LIMITS, OutputCapture, mib, signalled } from './output-capture.js';
import { openClient, type Client, type ConnectSettings } from './ssh/connect.js';
import type { Endpoint, SshTarget } from './ssh/endpoint.js';
import { ShellHost, type Become, type RunLimits } from './shell-host.js';

/** How long a command's output may go on after it ended (something it started holds the pipe). */
const EXIT_DRAIN_MS = 2000;

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

  /**
   * Runs the command on the connection's own channel (not node-ssh's execCommand, which keeps a
   * second, unbounded copy of everything a command prints): output kept within bounds by the
   * capture, the channel closed (and the command signalled) when it floods or outlives its wait.
   */
  protected run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
    if (this.lostReason) return Promise.reject(new UnreachableError(this.name, this.lostReason));
    return new Promise((resolve, reject) => {
      this.ssh.connection!.exec(commandLine, (err, channel) => {
        if (err) reject(new UnreachableError(this.name, this.lostReason ?? `command failed to start: ${err.message}`));
        else this.follow(channel, opts, limits).then(resolve, reject);
      });
    });
  }

  private follow(channel: ClientChannel, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
    const capture = new OutputCapture(opts.onLine);
    const stopped: { error?: HostError } = {};
    const stop = (why: string) => {
      stopped.error ??= new HostError(this.name, `${limits.what} on ${this.name} ${why}`);
      // Closing the channel ends a command that writes (SIGPIPE); the signal is for one that does not.
      channel.signal('KILL');
      channel.close();
    };
    const wait = Math.round(limits.waitMs / 1000);
    const timer = setTimeout(() => stop(`did not finish within ${wait} s (no answer from the host)`), limits.waitMs);
    let exit: { code: number | null; signal: string | null } = { code: null, signal: null };
    channel.on('data', (c: Buffer) => {
      if (!capture.stdout(c)) stop(`printed more than ${mib(OUTPUT_LIMITS.stdoutBytes)}: it was stopped`);
    });
    channel.stderr.on('data', (c: Buffer) => capture.stderr(c));
    // The command has ended; what it left running may still hold its output open. Its output is
    // given a moment to drain, then the channel is closed: the command's answer is in.
    let drained: NodeJS.Timeout | undefined;
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = { code, signal: signal ?? null };
      drained = setTimeout(() => channel.close(), EXIT_DRAIN_MS);
    });
    if (opts.stdin !== undefined) channel.end(opts.stdin);
    else channel.end();
    return new Promise((resolve, reject) => {
      channel.on('close', () => {
        clearTimeout(timer);
        clearTimeout(drained);
        const out = capture.finish();
        if (stopped.error) reject(stopped.error);
        else if (exit.code !== null) resolve({ code: exit.code, ...out });
        else if (this.lostReason) reject(new UnreachableError(this.name, this.lostReason));
        else resolve({ ...signalled(exit.signal), ...out });
      });
    });
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    this.release();
  }
}
