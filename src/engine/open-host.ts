import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { HostSpec } from '../inventory/types.js';
import { HostError, type Host } from '../transport/host.js';
import { BACKUP_ROOT, type Become } from '../transport/shell-host.js';
import type { ConnectPrompts } from '../transport/ssh/connect.js';
import { resolveTarget } from '../transport/ssh/endpoint.js';
import { HostKeyTrust } from '../transport/ssh/host-key-trust.js';
import { wildcardMatch } from '../transport/ssh/patterns.js';
import { parseSshConfig, SshConfigError, type SshConfigBlock } from '../transport/ssh/ssh-config.js';
import { JumpPool, SshHost } from '../transport/ssh-host.js';

export interface OpenerPrompts extends ConnectPrompts {
  /** The sudo password, asked once for the run; null when none can be asked. */
  becomePassword?(q: { host: string; user: string }): Promise<string | null>;
}

export interface ConnectOptions {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Unanswered keepalives before a host counts as gone. */
  keepaliveCountMax?: number;
  runId: string;
  /** ssh client config (default ~/.ssh/config; a missing file is no config). */
  sshConfigFile?: string;
  /** Read and record host keys here instead of the ssh config's UserKnownHostsFile. */
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  prompts?: OpenerPrompts;
  /** Registers a secret (passphrase, sudo password) for redaction. */
  secret?: (value: string) => void;
}

/** A connected host, and the address the connection reached (an IP where a name or ssh alias resolved to one). */
export interface OpenedHost {
  host: Host;
  address: string;
}

export type OpenHost = (spec: HostSpec) => Promise<OpenedHost>;

/** The ssh config with its Includes (relative to ~/.ssh, globs of one folder level). */
async function loadSshConfig(file: string): Promise<SshConfigBlock[]> {
  const read = async (path: string) =>
    readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  const text = await read(file);
  if (text === null) return [];
  // Includes are read up front (the parser is pure), for the patterns this config names.
  const base = join(homedir(), '.ssh');
  const included = new Map<string, { text: string; file: string }[]>();
  for (const m of text.matchAll(/^\s*include\s+(.+)$/gim)) {
    for (const pattern of m[1]!.trim().split(/\s+/)) {
      const abs = pattern.startsWith('~')
        ? pattern.replace(/^~/, homedir())
        : isAbsolute(pattern)
          ? pattern
          : join(base, pattern);
      const dir = dirname(abs);
      const paths = /[*?]/.test(abs)
        ? (await readdir(dir).catch(() => [] as string[]))
            .filter((n) => wildcardMatch(basename(abs), n, false))
            .sort()
            .map((n) => join(dir, n))
        : [abs];
      const files: { text: string; file: string }[] = [];
      for (const path of paths) {
        const t = await read(path);
        if (t !== null) files.push({ text: t, file: path });
      }
      included.set(pattern, files);
    }
  }
  try {
    return parseSshConfig(text, file, (p) => included.get(p) ?? []);
  } catch (e) {
    if (e instanceof SshConfigError) throw new HostError('ssh config', e.message);
    throw e;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Makes sure escalation works before any step needs it: passwordless sudo, or the password (from
 * the inventory, JITSI_SCALE_BECOME_PASSWORD, or asked once) checked now, so a wrong one is one
 * clear error and never a stuck prompt later.
 */
async function prepareSudo(
  host: SshHost,
  spec: HostSpec,
  user: string,
  become: Become,
  o: ConnectOptions,
  askOnce: () => Promise<string | null>,
): Promise<void> {
  const probe = await host.exec(['sudo', '-n', '-u', become.user, 'true'], { noBecome: true });
  if (probe.code === 0) return;
  if (!/password is required|a terminal is required/.test(probe.stderr)) return; // reported by the first command, with its own hint
  const pw =
    str(spec.vars.ansible_become_password) ??
    str(spec.vars.ansible_become_pass) ??
    str(process.env.JITSI_SCALE_BECOME_PASSWORD) ??
    (await askOnce());
  if (pw === null || pw === undefined) {
    throw new HostError(
      spec.name,
      `sudo on ${spec.name} asks ${user} for a password: set JITSI_SCALE_BECOME_PASSWORD (or ansible_become_password), run on a terminal to be asked, or allow passwordless sudo`,
    );
  }
  o.secret?.(pw);
  const check = await host.exec(['sudo', '-S', '-k', '-p', '', '-u', become.user, 'true'], {
    noBecome: true,
    stdin: `${pw}\n`,
  });
  if (check.code !== 0) throw new HostError(spec.name, `sudo on ${spec.name} did not accept the password for ${user}`);
  become.password = pw;
}

/** The transport an inventory host asks for: one SSH connection (through its jump hosts), or this machine. */
export function hostOpener(o: ConnectOptions): OpenHost {
  const backupDir = `${BACKUP_ROOT}/${o.runId}`;
  const trust = new HostKeyTrust();
  const jumps = new JumpPool();
  let config: Promise<SshConfigBlock[]> | undefined;
  let becomePassword: Promise<string | null> | undefined;
  const askOnce = (host: string, user: string) => () =>
    (becomePassword ??= o.prompts?.becomePassword?.({ host, user }) ?? Promise.resolve(null));
  const settings = {
    trust,
    prompts: o.prompts ?? {},
    connectTimeoutMs: o.connectTimeoutMs,
    keepaliveIntervalMs: o.keepaliveIntervalMs,
    keepaliveCountMax: o.keepaliveCountMax ?? 3,
    ...(o.secret ? { secret: o.secret } : {}),
  };
  return async (spec) => {
    if (spec.connection === 'local') {
      // zx is loaded only when a host is local: it is a good share of the start-up time.
      const { LocalHost } = await import('../transport/local-host.js');
      return {
        host: new LocalHost(spec.name, { enabled: spec.become, user: spec.becomeUser }, backupDir),
        address: spec.address,
      };
    }
    config ??= loadSshConfig(o.sshConfigFile ?? join(homedir(), '.ssh', 'config'));
    const target = resolveTarget(spec, await config, {
      acceptNewHostKeys: o.acceptNewHostKeys ?? false,
      ...(o.knownHostsFile ? { knownHostsFile: o.knownHostsFile } : {}),
    });
    // ansible_become's default follows the user actually logged in as, which the ssh config may set.
    const enabled = spec.vars.ansible_become === undefined ? target.user !== 'root' : spec.become;
    const become: Become = { enabled, user: spec.becomeUser };
    const host = await SshHost.connect(target, become, backupDir, settings, jumps);
    try {
      if (enabled && target.user !== spec.becomeUser)
        await prepareSudo(host, spec, target.user, become, o, askOnce(spec.name, target.user));
    } catch (e) {
      await host.close();
      throw e;
    }
    return { host, address: target.address };
  };
}

/** A run id that sorts by time and names the backup directory: 20261124T101500Z. */
export function newRunId(now = new Date(), random = randomBytes(3)): string {
  // Milliseconds and a random tail: two runs started in the same second never share a backup folder.
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '').replace(/Z$/, 'Z')}-${random.toString('hex')}`;
}
