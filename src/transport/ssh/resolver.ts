import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
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

/**
 * `ssh -G` where OpenSSH's client is installed, so Match, Include, tokens and quoting are
 * OpenSSH's own; the built-in reader where it is not (JITSI_SCALE_SSH_CONFIG_READER=built-in
 * chooses it). Answers are kept per command line: a bastion is read once for all its hosts.
 */
export function sshResolver(machine = thisMachine()): SshResolver {
  const ssh = process.env.JITSI_SCALE_SSH_CONFIG_READER === 'built-in' ? null : sshBinary();
  const cache = new Map<string, ReturnType<SshResolver['settings']>>();
  const viaSsh = (words: string[], alias: string) =>
    new Promise<Map<string, string[]>>((resolve, reject) => {
      execFile(ssh!, ['-G', ...words, '--', alias], { encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
        if (err) {
          const why = stderr
            .split('\n')
            .filter((l) => l && !/^Pseudo-terminal/.test(l))
            .join('; ');
          reject(configError(new Error(`ssh -G ${alias}: ${why || err.message}`)));
        } else resolve(parseSshG(stdout));
      });
    });
  const builtIn = async (words: string[], alias: string) => {
    try {
      return readSshSettings(alias, parseSshArgs(words), machine);
    } catch (e) {
      throw configError(e);
    }
  };
  return {
    source: ssh ? 'ssh -G' : 'built-in reader',
    machine,
    settings: (words, alias) => {
      const key = JSON.stringify([...words, alias]);
      let p = cache.get(key);
      if (!p) {
        p = ssh ? viaSsh(words, alias) : builtIn(words, alias);
        cache.set(key, p);
      }
      return p;
    },
  };
}
