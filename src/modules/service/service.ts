import type { Change } from '../../contract/change.js';
import type { ApplyIO } from '../../contract/change.js';
import type { Handler } from '../../contract/handler.js';
import { HostError, execChecked, type Host } from '../../transport/host.js';
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
echo "@@issued $(date +%s.%N)"
if [ -d /run/systemd/system ]; then exec systemctl restart "$1"; fi
exec service "$1" restart`;

/** Checks that a restart took effect; `issuedAt` is when it was issued, on the host's clock. */
export type RestartCheck = (host: Host, io: ApplyIO, issuedAt: number) => Promise<void>;

/**
 * A handler that restarts a service with whatever runs the host (systemctl, or the init script),
 * reporting the init system's own last words on failure; `check` then confirms it took effect.
 */
export function restartHandler(name: string, check?: RestartCheck): Handler {
  const issued = new Map<string, number>();
  return {
    description: `restart ${name}`,
    async run(host, io) {
      await execChecked(host, shScript(RESTART, name), `restarting ${name}`, {
        deadline: 'service',
        what: `restarting ${name}`,
        onLine: (stream, line) => {
          const at = /^@@issued (\S+)$/.exec(line);
          if (at) issued.set(host.name, Number(at[1]));
          else io.output(stream, line);
        },
      });
    },
    ...(check ? { confirm: (host: Host, io: ApplyIO) => check(host, io, issued.get(host.name) ?? 0) } : {}),
  };
}

const LISTENING = `
port=$1 wildcard=$2 tries=$3
hex=$(printf '%04X' "$port")
i=0
while :; do
  if [ "$wildcard" = yes ]; then pat="^ *[0-9]+: 0+:$hex 0+:0000 0A "; else pat="^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A "; fi
  if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -Eq "$pat"; then exit 0; fi
  i=$((i + 1)); [ "$i" -ge "$tries" ] && exit 1
  sleep 0.25
done`;

/**
 * Waits (up to `seconds`) until something listens on TCP `port`, on every interface when
 * `everywhere`; reads the kernel's socket tables, so it needs no tool on the host.
 */
export async function waitForListener(host: Host, port: number, everywhere: boolean, seconds = 15): Promise<boolean> {
  const r = await host.exec(shScript(LISTENING, String(port), everywhere ? 'yes' : 'no', String(seconds * 4)), {
    readOnly: true,
    deadline: seconds + 30,
    what: `waiting for a listener on port ${port}`,
  });
  return r.code === 0;
}

const STARTED = `
svc=$1; shift
pid=
if [ -d /run/systemd/system ]; then pid=$(systemctl show -p MainPID --value "$svc" 2>/dev/null || true); fi
for f in "$@"; do
  if { [ -z "$pid" ] || [ "$pid" = 0 ]; } && [ -f "$f" ]; then pid=$(cat -- "$f"); fi
done
if [ -n "$pid" ] && [ "$pid" != 0 ] && [ -r "/proc/$pid/stat" ]; then
  echo "clock $(date +%s.%N) $(cut -d' ' -f1 /proc/uptime) $(getconf CLK_TCK) $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)"
fi
exit 0`;

/** Pure: when the service's process started (epoch seconds, host clock), from STARTED's output; null when none runs. */
export function parseStarted(out: string): number | null {
  const clock = /^clock (\S+) (\S+) (\d+) (\d+)$/m.exec(out);
  return clock ? Number(clock[1]) - Number(clock[2]) + Number(clock[4]) / Number(clock[3]) : null;
}

/**
 * Throws unless the service runs a process that started after `since` (epoch seconds, the host's
 * clock): proof that a restart issued then took effect. The process is the unit's main PID under
 * systemd, else the first pid file that exists.
 */
export async function confirmStartedAfter(
  host: Host,
  service: string,
  pidFiles: readonly string[],
  since: number,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await host.exec(shScript(STARTED, service, ...pidFiles), { readOnly: true });
    const started = parseStarted(r.stdout);
    // Process start is known to a clock tick; 50 ms covers it and the uptime's rounding.
    if (started !== null && started + 0.05 >= since) return;
    if (attempt >= 4) {
      const why =
        started === null
          ? `${service} is not running after its restart`
          : `${service} still runs a process started before its restart: the restart did not take effect`;
      throw new HostError(host.name, why);
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}
