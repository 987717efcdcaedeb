import { parseArgs } from 'node:util';
import type { Command } from './commands.js';
import { closest } from './inventory/did-you-mean.js';
import type { InventoryCommandOptions } from './inventory-command.js';
import { defaultText } from './variables-table.js';

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
  /** status --watch: seconds between looks. */
  watch?: number;
}

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'completion'; shell: 'bash' | 'zsh' }
  | { kind: 'inventory'; options: InventoryCommandOptions }
  | { kind: 'run'; command: Command; options: CliOptions }
  | { kind: 'error'; message: string };

interface OptionDoc {
  name: string;
  short?: string;
  /** The value's placeholder; absent for a flag. */
  value?: string;
  doc: string;
  /** Only for commands that change hosts. */
  changes?: boolean;
  multiple?: boolean;
  /** Only for the commands that list it in their `options`. */
  own?: boolean;
  /** The value may be left out (`--watch` or `--watch 10`): this is the value then. */
  optionalValue?: string;
}

/** Every option of every command, in the order help lists them. */
const OPTIONS: readonly OptionDoc[] = [
  { name: 'inventory', short: 'i', value: 'FILE', doc: 'Ansible-style YAML inventory (default: ./inventory.yaml)' },
  {
    name: 'yes',
    short: 'y',
    doc: 'apply every step without asking (for automation and repeat runs)',
    changes: true,
  },
  { name: 'check', doc: 'show what would change, change nothing (exit 0 when hosts answer)', changes: true },
  { name: 'diff', doc: 'show file diffs in the plan', changes: true },
  {
    name: 'limit',
    short: 'l',
    value: 'HOSTS',
    doc: 'act only on these hosts or groups (comma-separated)',
    multiple: true,
  },
  { name: 'forks', short: 'f', value: 'N', doc: 'most hosts worked on at once (default: all)' },
  { name: 'connect-timeout', value: 'S', doc: "seconds to wait for a host's SSH handshake (default: 10)" },
  { name: 'keepalive', value: 'S', doc: 'seconds between keepalives; 3 unanswered fail the host (default: 5)' },
  { name: 'known-hosts', value: 'FILE', doc: 'check and record host keys in FILE (default: ~/.ssh/known_hosts)' },
  {
    name: 'accept-new-host-keys',
    doc: 'trust and record keys of hosts not yet known (never a changed key)',
  },
  { name: 'ssh-config', value: 'FILE', doc: 'ssh client config to read (default: ~/.ssh/config)' },
  {
    name: 'watch',
    value: '[SECONDS]',
    doc: 'stay on and look again every SECONDS (default 5), refreshing in place',
    own: true,
    optionalValue: '5',
  },
  { name: 'json', doc: 'print events as NDJSON, one per line (read-only commands: one document)' },
  { name: 'plain', doc: 'plain lines even on a terminal (no full-screen guide)', changes: true },
  { name: 'verbose', short: 'v', doc: 'also print facts and command output' },
  { name: 'help', short: 'h', doc: 'show this help' },
];

const EXIT_CODES =
  'Exit codes: 0 ok, 1 usage or inventory error, 2 a host failed, 3 a host was unreachable,\n130 interrupted.';

export const PROGRAM_COMMANDS = ['help', 'completion', 'inventory'] as const;

export const INVENTORY_HELP = [
  'Usage: jitsi-scale inventory --list | --host NAME [--json] [-i FILE]',
  '',
  ...wrap(
    'Shows the inventory as the tool reads it, as ansible-inventory does: every group and host with its ' +
      'variables after precedence (secrets masked), and for each host the connection it resolves to: address, ' +
      'port and user, the keys in the order they are offered, the jump hosts or proxy command, sudo, and the ' +
      'known_hosts files. SSH settings come from `ssh -G` where OpenSSH is installed. It connects to nothing, and ' +
      'runs no command of the ssh config (Match exec) unless --ssh-exec says so.',
    100,
    '',
  ),
  '',
  'Options:',
  '  -i, --inventory FILE     Ansible-style YAML inventory (default: ./inventory.yaml)',
  '      --list               every group and host',
  '      --host NAME          one host',
  '      --json               one JSON document: --list in the shape of ansible-inventory --list (the',
  '                           connections under _meta.jitsi_scale), --host as {"vars", "connection"}',
  '      --ssh-config FILE    ssh client config to read, as ssh -F',
  '      --known-hosts FILE   the known_hosts file runs would use instead of the ssh config’s',
  '      --ssh-exec           let the ssh config run its Match exec commands to settle each host, as a',
  '                           run does (without it, a host that needs one is shown as held back)',
  '  -h, --help               show this help',
].join('\n');

/** The options of `inventory`, for shell completion. */
export const INVENTORY_OPTIONS = [
  '--list',
  '--host',
  '--json',
  '-i',
  '--inventory',
  '--ssh-config',
  '--known-hosts',
  '--ssh-exec',
  '--help',
] as const;

function parseInventoryCommand(args: string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        inventory: { type: 'string', short: 'i' },
        list: { type: 'boolean' },
        host: { type: 'string' },
        json: { type: 'boolean' },
        'ssh-config': { type: 'string' },
        'known-hosts': { type: 'string' },
        'ssh-exec': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    return { kind: 'error', message: `${(e as Error).message.split('\n')[0]} (see jitsi-scale inventory --help)` };
  }
  if (values.help) return { kind: 'help', text: INVENTORY_HELP };
  if (!values.list === !values.host)
    return { kind: 'error', message: 'inventory takes --list or --host NAME (see jitsi-scale inventory --help)' };
  const str = (k: string) => values[k] as string | undefined;
  return {
    kind: 'inventory',
    options: {
      inventory: str('inventory') ?? 'inventory.yaml',
      ...(str('host') ? { host: str('host') } : {}),
      json: values.json === true,
      ...(str('ssh-config') ? { sshConfig: str('ssh-config') } : {}),
      ...(str('known-hosts') ? { knownHosts: str('known-hosts') } : {}),
      ...(values['ssh-exec'] === true ? { sshExec: true } : {}),
    },
  };
}

function optionsOf(command: Command): OptionDoc[] {
  return OPTIONS.filter(
    (o) => (!o.changes || !command.readOnly) && (!o.own || (command.options ?? []).includes(o.name)),
  );
}

/** `--watch` alone takes its default; `--watch 10` its value, as `--watch=10` would. */
function withOptionalValues(command: Command, args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const o = optionsOf(command).find((x) => x.optionalValue !== undefined && args[i] === `--${x.name}`);
    if (!o) out.push(args[i]!);
    else if (/^\d+$/.test(args[i + 1] ?? '')) out.push(`--${o.name}=${args[++i]}`);
    else out.push(`--${o.name}=${o.optionalValue}`);
  }
  return out;
}

function optionLine(o: OptionDoc): string {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  return `  ${flag.padEnd(24)} ${o.doc}`;
}

/** `jitsi-scale --help`: the commands and the options they share. */
export function programHelp(commands: readonly Command[], defaultCommand: string): string {
  const width = Math.max(...commands.map((c) => c.name.length), 10);
  return [
    'Usage: jitsi-scale [COMMAND] [options]',
    '',
    'Scales a Jitsi Meet shard over SSH: one meet server, N videobridge hosts, from an Ansible-style inventory.',
    `Without a command it runs ${defaultCommand}.`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'inventory'.padEnd(width)}  show the inventory and each host's connection, as ansible-inventory does`,
    `  ${'completion'.padEnd(width)}  print shell completion: jitsi-scale completion bash|zsh`,
    `  ${'help'.padEnd(width)}  show help for a command: jitsi-scale help COMMAND`,
    '',
    'Options (jitsi-scale COMMAND --help shows those of a command):',
    ...OPTIONS.filter((o) => o.name === 'inventory' || o.name === 'help').map(optionLine),
    `  ${'-V, --version'.padEnd(24)} show the version`,
    '',
    EXIT_CODES,
  ].join('\n');
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** `jitsi-scale COMMAND --help`: what it does, its options, the inventory variables it reads. */
export function commandHelp(command: Command): string {
  const vars = Object.entries(command.variables);
  const width = Math.max(...vars.map(([n]) => n.length), 10);
  return [
    `Usage: jitsi-scale ${command.name} [options]`,
    '',
    ...wrap(command.description, 100, ''),
    '',
    'Options:',
    ...optionsOf(command).map(optionLine),
    ...(vars.length
      ? [
          '',
          "Inventory variables (besides Ansible's ansible_host, ansible_port, ansible_user, …):",
          ...vars.map(([name, v]) => `  ${name.padEnd(width)}  ${variableDoc(v)}`),
        ]
      : []),
    '',
    EXIT_CODES,
  ].join('\n');
}

/** A variable's doc with its type and declared default, as help and the README show it. */
export function variableDoc(v: {
  type: { kind: string; values?: readonly string[] };
  doc: string;
  default?: string | number | boolean;
}): string {
  const type = v.type.kind === 'enum' ? v.type.values!.join('|') : v.type.kind;
  const d = defaultText(v);
  const dflt = d === null ? '' : `; default ${d}`;
  return `${v.doc} (${type}${dflt})`;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number | string {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) return `${name} takes a whole number above 0, not "${raw}"`;
  return Number(raw);
}

/** One sentence for a word that names no command, with the likeliest one. */
function unknownCommand(word: string, commands: readonly Command[]): string {
  const names = [...commands.map((c) => c.name), ...PROGRAM_COMMANDS];
  const guess = closest(word, names, 3);
  return `unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ''} (see jitsi-scale --help)`;
}

/** node:util's parseArgs message, made one sentence with a "did you mean" among the command's options. */
function optionError(e: Error, command: Command): string {
  const first = e.message.split('\n')[0]!;
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(first);
  if (unknown) {
    const names = optionsOf(command).map((o) => o.name);
    const other = OPTIONS.some((o) => o.name === unknown[2] || o.short === unknown[2]);
    const guess = unknown[1] === '--' && !other ? closest(unknown[2]!, names, 3) : undefined;
    return (
      `unknown option ${unknown[1]}${unknown[2]}` +
      (guess ? `; did you mean --${guess}?` : other ? ` for ${command.name}, which changes nothing` : '') +
      ` (see jitsi-scale ${command.name} --help)`
    );
  }
  const positional = /Unexpected argument '([^']+)'/.exec(first);
  if (positional) return `unexpected argument "${positional[1]}" (see jitsi-scale ${command.name} --help)`;
  return `${first}; see jitsi-scale ${command.name} --help`;
}

/** Pure: argv (without node and script) → what to do. */
export function parseCli(argv: string[], commands: readonly Command[], defaultCommand: string): Parsed {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (first === 'help') {
    if (rest.length === 0) return { kind: 'help', text: programHelp(commands, defaultCommand) };
    if (rest[0] === 'inventory') return { kind: 'help', text: INVENTORY_HELP };
    const c = commands.find((x) => x.name === rest[0]);
    return c ? { kind: 'help', text: commandHelp(c) } : { kind: 'error', message: unknownCommand(rest[0]!, commands) };
  }
  if (first === 'inventory') return parseInventoryCommand(rest);
  if (first === 'completion') {
    if (rest[0] === 'bash' || rest[0] === 'zsh') return { kind: 'completion', shell: rest[0] };
    return { kind: 'error', message: 'completion takes the shell: jitsi-scale completion bash (or zsh)' };
  }
  const named = first !== undefined && !first.startsWith('-');
  const command = named ? commands.find((c) => c.name === first) : commands.find((c) => c.name === defaultCommand)!;
  if (!command) return { kind: 'error', message: unknownCommand(first!, commands) };
  const args = named ? rest : argv;
  if (!named && (args.includes('--help') || args.includes('-h'))) {
    return { kind: 'help', text: programHelp(commands, defaultCommand) };
  }
  return parseCommand(command, args);
}

function parseCommand(command: Command, args: string[]): Parsed {
  const spec = Object.fromEntries(
    optionsOf(command).map((o) => [
      o.name,
      {
        type: o.value ? ('string' as const) : ('boolean' as const),
        ...(o.short ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: withOptionalValues(command, args),
      strict: true,
      allowPositionals: false,
      options: spec,
    }).values as typeof values;
  } catch (e) {
    return { kind: 'error', message: optionError(e as Error, command) };
  }
  if (values.help) return { kind: 'help', text: commandHelp(command) };
  return toOptions(command, values);
}

function toOptions(command: Command, values: Record<string, string | boolean | string[] | undefined>): Parsed {
  const str = (k: string) => values[k] as string | undefined;
  const flag = (k: string) => (values[k] as boolean | undefined) ?? false;
  const forks = positiveInt('--forks', str('forks'), Number.POSITIVE_INFINITY);
  if (typeof forks === 'string') return { kind: 'error', message: forks };
  const timeout = positiveInt('--connect-timeout', str('connect-timeout'), 10);
  if (typeof timeout === 'string') return { kind: 'error', message: timeout };
  const keepalive = positiveInt('--keepalive', str('keepalive'), 5);
  if (typeof keepalive === 'string') return { kind: 'error', message: keepalive };
  if (flag('plain') && !flag('yes') && !flag('check') && !flag('json'))
    return { kind: 'error', message: '--plain never asks: add --yes to apply, or --check to only see the plan' };
  const watch = str('watch') === undefined ? undefined : positiveInt('--watch', str('watch'), 5);
  if (typeof watch === 'string') return { kind: 'error', message: watch };
  if (flag('yes') && flag('check'))
    return { kind: 'error', message: '--yes and --check contradict each other: --check changes nothing; pick one' };
  return {
    kind: 'run',
    command,
    options: {
      inventory: str('inventory') ?? 'inventory.yaml',
      yes: flag('yes'),
      check: flag('check'),
      diff: flag('diff'),
      limit: ((values.limit as string[] | undefined) ?? [])
        .flatMap((l) => l.split(','))
        .map((l) => l.trim())
        .filter(Boolean),
      forks,
      json: flag('json'),
      plain: flag('plain'),
      verbose: flag('verbose'),
      connectTimeoutMs: timeout * 1000,
      keepaliveMs: keepalive * 1000,
      ...(str('known-hosts') ? { knownHosts: str('known-hosts') } : {}),
      acceptNewHostKeys: flag('accept-new-host-keys'),
      ...(str('ssh-config') ? { sshConfig: str('ssh-config') } : {}),
      ...(watch !== undefined ? { watch } : {}),
    },
  };
}

/** The options a command takes, for shell completion. */
export function completionWords(command: Command): string[] {
  return optionsOf(command).flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** Options that take a file, for shell completion. */
export const FILE_OPTIONS = OPTIONS.filter((o) => o.value === 'FILE').flatMap((o) => [
  `--${o.name}`,
  ...(o.short ? [`-${o.short}`] : []),
]);
