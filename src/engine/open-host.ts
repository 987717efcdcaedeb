import { randomBytes } from 'node:crypto';
import type { HostSpec } from '../inventory/types.js';
import { HostError, type Host } from '../transport/host.js';
import { BACKUP_ROOT, type Become, type ShellHost } from '../transport/shell-host.js';
import type { LinkPolicy } from '../transport/link-policy.js';
import type { ConnectPrompts } from '../transport/ssh/connect.js';
import { resolveTarget, type SshResolver } from '../transport/ssh/endpoint.js';
import { HostKeyTrust } from '../transport/ssh/host-key-trust.js';
import { sshResolver } from '../transport/ssh/resolver.js';
import { SshConfigError } from '../transport/ssh/ssh-config.js';
import { SshNameError } from '../transport/ssh/ssh-names.js';
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
  /** ssh client config, as ssh's -F (default: ~/.ssh/config and /etc/ssh/ssh_config). */
  sshConfigFile?: string;
  /** How ssh settings are read (default: ssh -G where OpenSSH is installed). */
  resolver?: SshResolver;
  /** Read and record host keys here instead of the ssh config's UserKnownHostsFile. */
  knownHostsFile?: string;
  acceptNewHostKeys?: boolean;
  prompts?: OpenerPrompts;
  /** Registers a secret (passphrase, sudo password) for redaction. */
  secret?: (value: string) => void;
  /** Where a symbolic link among a host's files may lead (default: each file's own directory). */
  linkPolicy?: (spec: HostSpec) => LinkPolicy;
}

/** A connected host, and the address the connection reached (an IP where a name or ssh alias resolved to one). */
export interface OpenedHost {
  host: Host;
  address: string;
}

export type OpenHost = (spec: HostSpec) => Promise<OpenedHost>;

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
  const pw = str(spec.becomePassword) ?? str(process.env.JITSI_SCALE_BECOME_PASSWORD) ?? (await askOnce());
  if (pw === null || pw === undefined) {
    throw new HostError(
      spec.name,
      `sudo on ${spec.name} asks ${user} for a password and none was given; set JITSI_SCALE_BECOME_PASSWORD (or ansible_become_password), run on a terminal to be asked, or allow passwordless sudo`,
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
  let resolver: SshResolver | undefined;
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
  const withPolicy = <H extends ShellHost>(host: H, spec: HostSpec): H => {
    if (o.linkPolicy) host.linkPolicy = o.linkPolicy(spec);
    return host;
  };
  return async (spec) => {
    if (spec.connection === 'local') {
      // zx is loaded only when a host is local: it is a good share of the start-up time.
      const { LocalHost } = await import('../transport/local-host.js');
      return {
        host: withPolicy(new LocalHost(spec.name, { enabled: spec.become, user: spec.becomeUser }, backupDir), spec),
        address: spec.address,
      };
    }
    resolver ??= o.resolver ?? sshResolver();
    let target;
    try {
      target = await resolveTarget(spec, resolver, {
        acceptNewHostKeys: o.acceptNewHostKeys ?? false,
        ...(o.knownHostsFile ? { knownHostsFile: o.knownHostsFile } : {}),
        ...(o.sshConfigFile ? { sshConfigFile: o.sshConfigFile } : {}),
      });
    } catch (e) {
      if (e instanceof SshNameError) throw new HostError(spec.name, e.message);
      if (e instanceof SshConfigError) throw new HostError(spec.name, `ssh config: ${e.message}`);
      throw e;
    }
    // ansible_become's default follows the user actually logged in as, which the ssh config may set.
    const enabled = spec.vars.ansible_become === undefined ? target.user !== 'root' : spec.become;
    const become: Become = { enabled, user: spec.becomeUser };
    const host = withPolicy(await SshHost.connect(target, become, backupDir, settings, jumps), spec);
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
