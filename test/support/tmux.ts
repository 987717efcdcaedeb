import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackages } from './debian-packages.js';

const exec = promisify(execFile);

/** Why tmux tests cannot run here, or null when they can. */
export async function tmuxUnavailable(): Promise<string | null> {
  // As root (CI, a fresh machine), the test harness installs tmux itself.
  if (process.getuid?.() === 0) await ensureDebianPackages({ '/usr/bin/tmux': 'tmux' }).catch(() => undefined);
  try {
    await exec('tmux', ['-V']);
    return null;
  } catch {
    return 'tmux is not installed (apt-get install tmux)';
  }
}

/**
 * A real terminal for end-to-end tests: a detached tmux session of a fixed size running one
 * command, driven with send-keys and read with capture-pane. The command's exit code is kept.
 */
export class TmuxTerminal {
  private constructor(
    readonly name: string,
    private readonly dir: string,
  ) {}

  static async start(
    command: string[],
    opts: { width?: number; height?: number; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<TmuxTerminal> {
    const dir = await mkdtemp(join(tmpdir(), 'js-tmux-'));
    const name = `js-e2e-${process.pid}-${Date.now()}`;
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const env = Object.entries({ LANG: 'C.UTF-8', TERM: 'xterm-256color', ...opts.env }).map(
      ([k, v]) => `${k}=${q(v)}`,
    );
    // The pane stays open after the command ends, so the last screen can still be read.
    // A person's terminal, not a CI job: without CI in the environment (CI=true makes terminal UIs
    // draw only their last frame).
    const script = `cd ${q(opts.cwd ?? process.cwd())} && env -u CI -u CONTINUOUS_INTEGRATION ${env.join(' ')} ${command.map(q).join(' ')}; echo $? > ${q(join(dir, 'rc'))}; sleep 3600`;
    await writeFile(join(dir, 'run.sh'), script);
    // A UTF-8 locale for tmux itself too: CI shells often have none, and the screens use ✓ and ⏎.
    await exec(
      'tmux',
      [
        '-u',
        'new-session',
        '-d',
        '-s',
        name,
        '-x',
        String(opts.width ?? 80),
        '-y',
        String(opts.height ?? 24),
        `sh ${q(join(dir, 'run.sh'))}`,
      ],
      {
        env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      },
    );
    return new TmuxTerminal(name, dir);
  }

  /** The visible screen; with `history`, everything that scrolled off too; with `escapes`, the colours. */
  async screen(opts: { history?: boolean; escapes?: boolean } = {}): Promise<string> {
    const args = [
      'capture-pane',
      '-p',
      '-t',
      this.name,
      ...(opts.history ? ['-S', '-'] : []),
      ...(opts.escapes ? ['-e'] : []),
    ];
    return (await exec('tmux', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  }

  async keys(...keys: string[]): Promise<void> {
    await exec('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  /** Waits until `test` holds for the visible screen; fails with the screen when it never does. */
  async waitFor(test: (screen: string) => boolean, what: string, ms = 60_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await this.screen();
      if (test(s)) return s;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${what}; it shows:\n${s}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** The command's exit code, or null while it runs. */
  async exitCode(): Promise<number | null> {
    try {
      return Number((await readFile(join(this.dir, 'rc'), 'utf8')).trim());
    } catch {
      return null;
    }
  }

  async waitForExit(ms = 120_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rc = await this.exitCode();
      if (rc !== null) return rc;
      if (Date.now() > deadline)
        throw new Error(`the command in tmux did not end within ${ms} ms; the screen:\n${await this.screen()}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async close(): Promise<void> {
    await exec('tmux', ['kill-session', '-t', this.name]).catch(() => undefined);
  }
}
