import type { Change } from '../../contract/change.js';
import type { Handler } from '../../contract/handler.js';
import { execChecked, type Host } from '../../transport/host.js';
import { commandChange } from '../command-change.js';
import { shScript } from '../../transport/shell-quote.js';

export type InitSystem = 'systemd' | 'sysv';

/** systemctl where systemd runs; the init script through `service` elsewhere (containers, old hosts). */
export function serviceCommand(
  init: InitSystem,
  name: string,
  action: 'restart' | 'start' | 'stop' | 'status',
): string[] {
  return init === 'systemd' ? ['systemctl', action, name] : ['service', name, action];
}

/** Pure: does `systemctl is-enabled` / the rc links say the service starts at boot? */
export function isEnabled(init: InitSystem, probe: string): boolean {
  if (init === 'systemd') return /^(enabled|enabled-runtime|static|alias|indirect|generated)$/m.test(probe.trim());
  return /^S\d\d/m.test(probe);
}

export function enableCommand(init: InitSystem, name: string): string[] {
  return init === 'systemd' ? ['systemctl', 'enable', name] : ['update-rc.d', name, 'defaults'];
}

const ENABLED_PROBE = `
if [ "$1" = systemd ]; then systemctl is-enabled "$2" 2>/dev/null; else ls /etc/rc2.d 2>/dev/null | grep -E "^S[0-9]{2}$2\\$"; fi
exit 0`;

/** The change that makes the service start at boot, or null when it already does. */
export async function planServiceEnabled(host: Host, init: InitSystem, name: string): Promise<Change | null> {
  const r = await host.exec(shScript(ENABLED_PROBE, init, name), { readOnly: true });
  if (isEnabled(init, r.stdout)) return null;
  const argv = enableCommand(init, name);
  return commandChange(`start ${name} at boot (${argv.join(' ')})`, argv);
}

const RESTART = `
if [ -d /run/systemd/system ]; then exec systemctl restart "$1"; fi
exec service "$1" restart`;

/**
 * A handler that restarts a service with whatever runs the host (systemctl, or the init script),
 * reporting the init system's own last words on failure.
 */
export function restartHandler(name: string): Handler {
  return {
    description: `restart ${name}`,
    async run(host, io) {
      await execChecked(host, shScript(RESTART, name), `restarting ${name}`, { onLine: io.output });
    },
  };
}
