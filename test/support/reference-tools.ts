import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './debian-packages.js';
import { shellWords } from '../../src/transport/ssh/shell-words.js';

/**
 * The reference implementations the conformance tests hold the tool against: Debian's
 * ansible-core (ansible-inventory, and the ssh command lines Ansible's connection builds) and
 * OpenSSH's client (ssh -G, ssh-keygen -F). Every expected value comes from running them.
 */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../test/fixtures/conformance/', import.meta.url));

const TOOLS = {
  '/usr/bin/ansible-inventory': 'ansible-core',
  '/usr/bin/ssh': 'openssh-client',
  '/usr/bin/ssh-keygen': 'openssh-client',
};

/** Installs the reference tools when missing (as root: CI, a fresh machine). */
export async function ensureReferenceTools(): Promise<void> {
  if (process.getuid?.() === 0) await ensureDebianPackages(TOOLS);
}

/** Why the conformance tests cannot run here, or null. In CI this is a failure, never a skip. */
export function referenceToolsUnavailable(): string | null {
  const missing = Object.entries(TOOLS).filter(([p]) => !existsSync(p));
  return missing.length ? `${missing.map(([, pkg]) => pkg).join(', ')} not installed` : null;
}

const ansibleHome = mkdtempSync(join(tmpdir(), 'js-ansible-'));

/** Ansible with nothing from this machine's configuration (run outside any project with an ansible.cfg): the YAML plugin only, no colour. */
function ansibleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    // Ansible expands ~ in a key path from $HOME, as the tool does: the same HOME on both sides.
    HOME: process.env.HOME ?? ansibleHome,
    ANSIBLE_HOME: ansibleHome,
    ANSIBLE_INVENTORY_ENABLED: 'yaml',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ...extra,
  };
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { ...opts, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `ansible-inventory --list` for a file: null when Ansible cannot parse it (its warning in `why`). */
export async function ansibleInventory(file: string): Promise<{ doc: Record<string, unknown> | null; why: string }> {
  const r = await run('ansible-inventory', ['-i', file, '--list'], { env: ansibleEnv() });
  const failed = /Failed to parse|Unable to parse/.test(r.stderr);
  return { doc: failed || r.code !== 0 ? null : (JSON.parse(r.stdout) as Record<string, unknown>), why: r.stderr };
}

/** What Ansible's ssh connection would run for one host. */
export interface AnsibleSsh {
  /** The words after the ssh executable, as the shell would pass them. */
  words: string[];
  /** The address ssh is given. */
  address: string;
  /** The user sudo becomes, and whether a password is sent to it. */
  sudoUser: string;
  sudoPassword: boolean;
  local: boolean;
}

/**
 * The ssh command line Ansible builds for each host: `ansible HOST -m raw -b -vvv` with /bin/false
 * as the ssh executable, so nothing is contacted. One run per host (limited through a file, which
 * Ansible reads line by line, so an IPv6 name stays whole), a few at a time: the verbose lines of
 * one run belong to its one host.
 */
export async function ansibleSshCommands(file: string, cwd: string, hosts: string[]): Promise<Map<string, AnsibleSsh>> {
  const out = new Map<string, AnsibleSsh>();
  const queue = [...hosts];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const limit = join(ansibleHome, `limit-${Math.random().toString(36).slice(2)}`);
      writeFileSync(limit, `${name}\n`);
      const r = await run(
        'ansible',
        ['all', '-i', file, '--limit', `@${limit}`, '-m', 'raw', '-a', 'true', '-b', '-vvv'],
        {
          cwd,
          env: ansibleEnv({ ANSIBLE_SSH_EXECUTABLE: '/bin/false', ANSIBLE_HOST_KEY_CHECKING: 'False' }),
        },
      );
      const local = /ESTABLISH LOCAL CONNECTION/.test(r.stdout);
      const exec = /^<[^>]*> SSH: EXEC \/bin\/false (.*)$/m.exec(r.stdout);
      if (local) out.set(name, { words: [], address: '', sudoUser: '', sudoPassword: false, local: true });
      else if (exec) {
        const words = shellWords(exec[1]!);
        const tt = words.indexOf('-tt');
        const remote = words[tt + 2] ?? '';
        out.set(name, {
          words: words.slice(0, tt),
          address: words[tt + 1]!,
          sudoUser: /-u (\S+)/.exec(remote)?.[1] ?? '',
          sudoPassword: /-p "\[sudo via ansible/.test(remote),
          local: false,
        });
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

/** `ssh -G` for an alias with these command-line words. */
export function sshG(words: string[], alias: string): Map<string, string[]> {
  const stdout = execFileSync('ssh', ['-G', ...words, '--', alias], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const out = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

/** The line numbers `ssh-keygen -F` finds for a host in a known_hosts file. */
export function sshKeygenFind(token: string, file: string): number[] {
  let stdout = '';
  try {
    stdout = execFileSync('ssh-keygen', ['-F', token, '-f', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return []; // exit 1: not found
  }
  return [...stdout.matchAll(/^# Host .* found: line (\d+)/gm)].map((m) => Number(m[1]));
}
