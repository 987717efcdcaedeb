import { parseArgs } from 'node:util';

export interface CliOptions {
  inventory: string;
  yes: boolean;
  check: boolean;
  diff: boolean;
  limit: string[];
  forks: number;
  json: boolean;
  /** Plain lines even on a terminal. */
  plain: boolean;
  verbose: boolean;
  connectTimeoutMs: number;
  keepaliveMs: number;
  knownHosts?: string;
  acceptNewHostKeys: boolean;
  sshConfig?: string;
}

export type Parsed =
  { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions } | { kind: 'error'; message: string };

export const HELP = `Usage: jitsi-scale [options]

Turns one Jitsi Meet server and N videobridge hosts into a load-balanced shard, over SSH.
On a terminal it guides you step by step: why, what changes on which host, then asks.
With --yes it applies every step without asking (plain lines when not on a terminal).

Options:
  -i, --inventory FILE     Ansible-style YAML inventory (default: ./inventory.yaml)
  -y, --yes                apply every step without asking (for automation and repeat runs)
      --check              show what would change, change nothing (exit 0 when hosts answer)
      --diff               show file diffs in the plan
  -l, --limit HOSTS        act only on these hosts or groups (comma-separated)
  -f, --forks N            most hosts worked on at once (default: all)
      --connect-timeout S  seconds to wait for a host's SSH handshake (default: 10)
      --keepalive S        seconds between keepalives; 3 unanswered fail the host (default: 5)
      --known-hosts FILE   check and record host keys in FILE (default: ~/.ssh/known_hosts)
      --accept-new-host-keys  trust and record keys of hosts not yet known (never a changed key)
      --ssh-config FILE    ssh client config to read (default: ~/.ssh/config)
      --json               print events as NDJSON, one per line
      --plain              plain lines even on a terminal (no full-screen guide)
  -v, --verbose            also print facts and command output
  -h, --help               show this help
  -V, --version            show the version

Exit codes: 0 ok, 1 usage or inventory error, 2 a host failed, 3 a host was unreachable,
130 interrupted.`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number | string {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) return `${name} takes a whole number above 0, not "${raw}"`;
  return Number(raw);
}

/** Pure: argv (without node and script) → what to do. */
export function parseCli(argv: string[]): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        inventory: { type: 'string', short: 'i' },
        yes: { type: 'boolean', short: 'y' },
        check: { type: 'boolean' },
        diff: { type: 'boolean' },
        limit: { type: 'string', short: 'l', multiple: true },
        forks: { type: 'string', short: 'f' },
        'connect-timeout': { type: 'string' },
        keepalive: { type: 'string' },
        'known-hosts': { type: 'string' },
        'accept-new-host-keys': { type: 'boolean' },
        'ssh-config': { type: 'string' },
        json: { type: 'boolean' },
        plain: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    }));
  } catch (e) {
    return {
      kind: 'error',
      message: `${(e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '')}; see jitsi-scale --help`,
    };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const forks = positiveInt('--forks', values.forks, Number.POSITIVE_INFINITY);
  if (typeof forks === 'string') return { kind: 'error', message: forks };
  const timeout = positiveInt('--connect-timeout', values['connect-timeout'], 10);
  if (typeof timeout === 'string') return { kind: 'error', message: timeout };
  const keepalive = positiveInt('--keepalive', values.keepalive, 5);
  if (typeof keepalive === 'string') return { kind: 'error', message: keepalive };
  if (values.plain && !values.yes && !values.check && !values.json)
    return { kind: 'error', message: '--plain never asks: add --yes to apply, or --check to only see the plan' };
  if (values.yes && values.check)
    return { kind: 'error', message: '--yes and --check contradict each other: --check changes nothing; pick one' };
  return {
    kind: 'run',
    options: {
      inventory: values.inventory ?? 'inventory.yaml',
      yes: values.yes ?? false,
      check: values.check ?? false,
      diff: values.diff ?? false,
      limit: (values.limit ?? [])
        .flatMap((l) => l.split(','))
        .map((l) => l.trim())
        .filter(Boolean),
      forks,
      json: values.json ?? false,
      plain: values.plain ?? false,
      verbose: values.verbose ?? false,
      connectTimeoutMs: timeout * 1000,
      keepaliveMs: keepalive * 1000,
      ...(values['known-hosts'] ? { knownHosts: values['known-hosts'] } : {}),
      acceptNewHostKeys: values['accept-new-host-keys'] ?? false,
      ...(values['ssh-config'] ? { sshConfig: values['ssh-config'] } : {}),
    },
  };
}
