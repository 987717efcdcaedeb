import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { SshResolver } from './endpoint.js';
import { parseSshArgs, parseSshG, readSshSettings, SshConfigError, type ConfigMachine } from './ssh-config.js';

/** This machine, as the built-in reader sees it. */
export function thisMachine(): ConfigMachine {
  let localUser = 'root';
  // ssh reads ~ from the password database, not from $HOME; so does this reader.
  let home = homedir();
  try {
    ({ username: localUser, homedir: home } = userInfo());
  } catch {
    // no passwd entry: ssh would refuse to run; these are as good a guess as any
  }
  return {
    home,
    localUser,
    localHost: hostname(),
    uid: process.getuid?.() ?? 0,
    env: process.env,
    read: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new SshConfigError(`cannot read ${path}: ${(e as Error).message}`);
      }
    },
    list: (dir) => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
    exec: (command) => spawnSync(process.env.SHELL || '/bin/sh', ['-c', command], { stdio: 'ignore' }).status === 0,
  };
}

/** OpenSSH's client, when it is on this machine. */
function sshBinary(): string | null {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    return 'ssh';
  } catch {
    return null;
  }
}

/** One line for why the ssh config cannot be read. */
function configError(e: unknown): SshConfigError {
  return e instanceof SshConfigError ? e : new SshConfigError(e instanceof Error ? e.message : String(e));
}

/** The ssh config would run commands (Match exec) to settle a host's settings, and was not let to. */
export class MatchExecHeldBack extends SshConfigError {
  override name = 'MatchExecHeldBack';
  constructor(
    readonly alias: string,
    readonly commands: readonly string[],
  ) {
    super(
      `the ssh config runs ${commands.map((c) => JSON.stringify(c)).join(', ')} (Match exec) to settle the settings of ${alias}; not run`,
    );
  }
}

const HELD = 'jitsi-scale-held-back ';
let holdingShell: string | undefined;

/*
 * What ssh runs a Match exec command with ($SHELL -c COMMAND): a script that names the command on
 * ssh's stderr and answers "no match", so ssh -G settles everything else and runs nothing. ssh
 * itself decides which commands it would run (criteria before them, Include, Match final), so the
 * list is exactly what a connection would have run.
 */
function holdingShellPath(): string {
  if (holdingShell) return holdingShell;
  const dir = mkdtempSync(join(tmpdir(), 'jitsi-scale-hold-'));
  const path = join(dir, 'sh');
  writeFileSync(path, `#!/bin/sh\nprintf '${HELD}%s\\n' "$2" >&2\nexit 1\n`, { mode: 0o700 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (holdingShell = path);
}

export interface ResolverOptions {
  /** run: Match exec commands run, as when ssh connects; hold: none runs, and a host that needs one is refused (MatchExecHeldBack). */
  matchExec?: 'run' | 'hold';
}

function viaSsh(ssh: string, hold: boolean) {
  return (words: string[], alias: string) =>
    new Promise<Map<string, string[]>>((resolve, reject) => {
      const env = hold ? { ...process.env, SHELL: holdingShellPath() } : process.env;
      const args = ['-G', ...words, '--', alias];
      execFile(ssh, args, { encoding: 'utf8', timeout: 15_000, env }, (err, stdout, stderr) => {
        const lines = stderr.split('\n');
        const held = lines.filter((l) => l.startsWith(HELD)).map((l) => l.slice(HELD.length));
        if (held.length) return reject(new MatchExecHeldBack(alias, held));
        if (!err) return resolve(parseSshG(stdout));
        const why = lines.filter((l) => l && !/^Pseudo-terminal/.test(l)).join('; ');
        reject(configError(new Error(`ssh -G ${alias}: ${why || err.message}`)));
      });
    });
}

function builtIn(machine: ConfigMachine, hold: boolean) {
  return async (words: string[], alias: string) => {
    const held: string[] = [];
    const m = hold ? { ...machine, exec: (c: string) => (held.push(c), false) } : machine;
    let settings;
    try {
      settings = readSshSettings(alias, parseSshArgs(words), m);
    } catch (e) {
      throw configError(e);
    }
    if (held.length) throw new MatchExecHeldBack(alias, held);
    return settings;
  };
}

/**
 * `ssh -G` where OpenSSH's client is installed, so Match, Include, tokens and quoting are
 * OpenSSH's own; the built-in reader where it is not (JITSI_SCALE_SSH_CONFIG_READER=built-in
 * chooses it). Answers are kept per command line: a bastion is read once for all its hosts.
 */
export function sshResolver(machine = thisMachine(), o: ResolverOptions = {}): SshResolver {
  const ssh = process.env.JITSI_SCALE_SSH_CONFIG_READER === 'built-in' ? null : sshBinary();
  const hold = o.matchExec === 'hold';
  const read = ssh ? viaSsh(ssh, hold) : builtIn(machine, hold);
  const cache = new Map<string, ReturnType<SshResolver['settings']>>();
  return {
    source: ssh ? 'ssh -G' : 'built-in reader',
    machine,
    settings: (words, alias) => {
      const key = JSON.stringify([...words, alias]);
      let p = cache.get(key);
      if (!p) {
        p = read(words, alias);
        cache.set(key, p);
      }
      return p;
    },
  };
}
