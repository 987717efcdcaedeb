import type { HostSpec } from '../inventory/types.js';
import type { Host } from '../transport/host.js';
import { LocalHost } from '../transport/local-host.js';
import { BACKUP_ROOT } from '../transport/shell-host.js';
import { SshHost } from '../transport/ssh-host.js';

export interface ConnectSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  runId: string;
}

export type OpenHost = (spec: HostSpec) => Promise<Host>;

/** The transport an inventory host asks for: one SSH connection, or this machine. */
export function hostOpener(settings: ConnectSettings): OpenHost {
  const backupDir = `${BACKUP_ROOT}/${settings.runId}`;
  return async (spec) => {
    const become = { enabled: spec.become, user: spec.becomeUser };
    if (spec.connection === 'local') return new LocalHost(spec.name, become, backupDir);
    return SshHost.connect(
      {
        name: spec.name,
        address: spec.address,
        port: spec.port,
        user: spec.user,
        ...(spec.privateKeyPath ? { privateKeyPath: spec.privateKeyPath } : {}),
        connectTimeoutMs: settings.connectTimeoutMs,
        keepaliveIntervalMs: settings.keepaliveIntervalMs,
      },
      become,
      backupDir,
    );
  };
}

/** A run id that sorts by time and names the backup directory: 20261124T101500Z. */
export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
