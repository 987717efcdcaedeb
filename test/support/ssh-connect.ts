import type { Become } from '../../src/transport/shell-host.js';
import { SshHost, JumpPool } from '../../src/transport/ssh-host.js';
import type { ConnectPrompts } from '../../src/transport/ssh/connect.js';
import type { SshTarget } from '../../src/transport/ssh/endpoint.js';
import { HostKeyTrust } from '../../src/transport/ssh/host-key-trust.js';

export interface TestTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  knownHostsFile: string;
  hostKeyPolicy?: SshTarget['hostKeyPolicy'];
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  jumps?: SshTarget['jumps'];
}

/** An SshTarget as resolution would give it: the named key only, the named known_hosts file. */
export function sshTarget(t: TestTarget): SshTarget {
  return {
    name: t.name,
    alias: t.name,
    address: t.address,
    port: t.port,
    user: t.user,
    identityFiles: t.privateKeyPath ? [t.privateKeyPath] : [],
    identitiesOnly: true,
    knownHostsFiles: [t.knownHostsFile],
    globalKnownHostsFiles: [],
    hostKeyPolicy: t.hostKeyPolicy ?? 'yes',
    jumps: t.jumps ?? [],
  };
}

/** Connects the way the opener does, with test-sized timeouts. */
export function connectSsh(
  t: TestTarget,
  become: Become,
  backupDir: string,
  prompts: ConnectPrompts = {},
  jumps?: JumpPool,
): Promise<SshHost> {
  return SshHost.connect(
    sshTarget(t),
    become,
    backupDir,
    {
      trust: new HostKeyTrust(),
      prompts,
      connectTimeoutMs: t.connectTimeoutMs ?? 5000,
      keepaliveIntervalMs: t.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: 3,
    },
    jumps,
  );
}
