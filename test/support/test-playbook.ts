import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '../../src/engine/events.js';
import type { OpenHost } from '../../src/engine/open-host.js';
import type { RunOptions } from '../../src/engine/run-playbook.js';
import { PlaybookRefusal, type Playbook, type StepContext } from '../../src/engine/playbook.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import type { Inventory, InventorySchema, RoleSpec } from '../../src/inventory/types.js';
import { planFileEdit } from '../../src/modules/file/edit-file.js';
import { setProperties } from '../../src/modules/properties/properties.js';
import { ensureLineAtTop } from '../../src/modules/text/ensure-line-at-top.js';
import { HostError, UnreachableError, type Host } from '../../src/transport/host.js';
import { LocalHost } from '../../src/transport/local-host.js';

/** The test playbook's roles: one meet host (needed for discovery), bridges. */
export const TEST_ROLES: RoleSpec[] = [
  { name: 'meet', count: 'one', what: 'the test meet host', label: ['meet server', 'meet servers'], anchor: true },
  { name: 'jvb', count: 'one-or-more', what: 'the test bridges', label: ['bridge', 'bridges'] },
];

export const TEST_SCHEMA: InventorySchema = { roles: TEST_ROLES, variables: {} };

/** Each inventory host gets its own directory on this machine, standing in for its /etc. */
export async function localFleet(
  bridges: string[],
  at?: string,
): Promise<{ inventory: Inventory; root: string; dirOf: (h: string) => string }> {
  const root = at ?? (await mkdtemp(join(tmpdir(), 'js-engine-')));
  const hosts = ['meet', ...bridges];
  for (const h of hosts) await mkdir(join(root, h), { recursive: true });
  const text = [
    'all:',
    '  vars: { ansible_connection: local, ansible_user: root }',
    '  children:',
    '    meet:',
    `      hosts: { meet: { private_address: 10.0.0.1 } }`,
    '    jvb:',
    '      hosts:',
    ...bridges.map((b, i) => `        ${b}: { private_address: 10.0.0.${i + 11} }`),
  ].join('\n');
  return {
    inventory: parseInventory(text, join(root, 'inventory.yaml'), TEST_SCHEMA),
    root,
    dirOf: (h) => join(root, h),
  };
}

export interface Recorder {
  events: RunEvent[];
  sink: (e: RunEvent) => void;
  of<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[];
}

export function recorder(): Recorder {
  const events: RunEvent[] = [];
  return {
    events,
    sink: (e) => events.push(JSON.parse(JSON.stringify(e)) as RunEvent),
    of: (type) => events.filter((e) => e.type === type) as never,
  };
}

export interface Shared {
  secret: string;
}

/**
 * A two-step playbook over local directories: the meet host gets a line at the top of a file, each
 * bridge a properties file holding the (secret) password; a handler counts its runs per host.
 * moreSteps: a second meet file that notifies the same handler, and a check step at the end that
 * notes whether the handler had run on the host by then.
 */
export function testPlaybook(
  root: string,
  opts: {
    failOn?: string;
    refuse?: boolean;
    secret?: string;
    moreSteps?: boolean;
    /** The handler fails on these hosts; or it runs but its confirm says it did not take effect. */
    handlerFails?: string[];
    notInEffect?: string[];
    /** The meet host's main.cfg is read with the facts, as a real playbook prefetches its files. */
    prefetch?: boolean;
  } = {},
): Playbook<Shared> & { handlerRuns: string[] } {
  const handlerRuns: string[] = [];
  return {
    name: 'test',
    handlerRuns,
    roles: TEST_ROLES,
    variables: {},
    watchPackages: [],
    ...(opts.prefetch
      ? {
          prefetch: (spec: { name: string; role: string }) =>
            spec.role === 'meet' ? [join(root, spec.name, 'main.cfg')] : [],
        }
      : {}),
    closing: ({ proved }) => `The shard is ready${proved ? `: ${proved} bridges proved` : ''}.`,
    async discover(ctx) {
      if (opts.refuse) throw new PlaybookRefusal('meet', 'meet is not a Jitsi Meet server: no Prosody config found');
      const secret = opts.secret ?? 'Sup3r-Secret-Value';
      ctx.secrets.add(secret);
      return { secret };
    },
    describe(shared) {
      return [
        { text: `shared secret found (${shared.secret.length} characters)` },
        { host: 'meet', text: 'uses the component port' },
        { text: 'no Jicofo here', warn: true },
      ];
    },
    handlers: [
      {
        name: 'restart thing',
        mayStartEarly: true,
        description: 'restart the thing',
        async run(host, io) {
          if (opts.handlerFails?.includes(host.name)) throw new HostError(host.name, 'the thing did not restart');
          handlerRuns.push(host.name);
          io.output('stdout', `restarted with ${opts.secret ?? 'Sup3r-Secret-Value'}`);
        },
        async confirm(host) {
          if (opts.notInEffect?.includes(host.name))
            throw new HostError(host.name, 'the thing runs a process started before its config was written');
        },
      },
    ],
    steps: [
      {
        id: 'top-line',
        title: 'Top line on the meet host',
        why: 'Because the test says so.',
        roles: ['meet'],
        async plan(ctx) {
          const c = await planFileEdit(ctx.host, {
            path: join(root, ctx.spec.name, 'main.cfg'),
            transform: (t) => ensureLineAtTop(t, { line: 'iface = "0.0.0.0"' }),
            notify: ['restart thing'],
          });
          return { changes: c ? [c] : [], notes: ['meet host uses the component port'] };
        },
      },
      {
        id: 'bridge-config',
        title: 'Bridge config',
        why: 'Each bridge needs the shared secret and its own nickname.',
        roles: ['jvb'],
        async plan(ctx) {
          if (ctx.spec.name === opts.failOn) {
            return {
              changes: [
                {
                  description: 'break',
                  async apply(h: Host) {
                    const r = await h.exec(['sh', '-c', 'echo "disk full" >&2; exit 1']);
                    throw new Error(`cannot write: ${r.stderr.trim()}`);
                  },
                },
              ],
            };
          }
          const path = join(root, ctx.spec.name, 'bridge.properties');
          const c = await planFileEdit(ctx.host, {
            path,
            transform: (t) => setProperties(t, { PASSWORD: ctx.shared.secret, NICKNAME: ctx.spec.name }),
            notify: ['restart thing'],
          });
          return { changes: c ? [c] : [] };
        },
      },
      ...(opts.moreSteps
        ? [
            {
              id: 'second-line',
              title: 'Second file on the meet host',
              why: 'It notifies the same handler.',
              roles: ['meet' as const],
              async plan(ctx: StepContext<Shared>) {
                const c = await planFileEdit(ctx.host, {
                  path: join(root, ctx.spec.name, 'extra.cfg'),
                  transform: (t) => ensureLineAtTop(t, { line: 'extra = true' }),
                  notify: ['restart thing'],
                });
                return { changes: c ? [c] : [] };
              },
            },
            {
              id: 'prove',
              title: 'Prove it',
              why: 'Runs after the restarts.',
              kind: 'check' as const,
              roles: ['meet' as const, 'jvb' as const],
              async plan(ctx: StepContext<Shared>) {
                return {
                  changes: [],
                  notes: [`restarted before the check: ${handlerRuns.includes(ctx.spec.name) ? 'yes' : 'no'}`],
                };
              },
            },
          ]
        : []),
    ],
  };
}

/** Options of a run over the local fleet below `root`: its backups and state directory there. */
export function localRunOptions(root: string, over: Partial<RunOptions> = {}): RunOptions {
  return {
    mode: 'apply',
    runId: 'test-run',
    backupDir: join(root, 'backups'),
    stateDir: join(root, 'state'),
    openHost: localOpener(root),
    ...over,
  };
}

/** Opens every host locally; names in `unreachable` fail as an unreachable SSH host would. */
export function localOpener(root: string, unreachable: string[] = []): OpenHost {
  return async (spec) => {
    if (unreachable.includes(spec.name))
      throw new UnreachableError(spec.name, `connection refused by ${spec.address}:22 (is sshd running on that port?)`);
    return {
      host: new LocalHost(spec.name, { enabled: false, user: 'root' }, join(root, 'backups', spec.name)),
      address: spec.address,
    };
  };
}

/** What a round trip to a host was for, from its command: the lock, the facts, a restart mark, a write, … */
export function tripKind(method: string, argv: readonly string[] = []): string {
  if (method !== 'exec') return method;
  const text = argv.join(' ');
  if (text.includes('run.lock')) {
    if (text.includes('echo taken')) return 'lock';
    if (text.includes('touch -c')) return 'lock-touch';
    return 'lock-release';
  }
  if (text.includes("echo '@@os'")) return 'facts';
  if (text.includes('/pending')) return 'mark';
  return 'exec';
}

/**
 * Opens hosts with `inner`, calling `before` ahead of each round trip (exec, readFile(s),
 * writeFile, stat) with its kind, and counting them per host.
 */
export function watchedOpener(
  inner: OpenHost,
  before: (host: string, kind: string) => Promise<void> | void = () => undefined,
): { open: OpenHost; trips: Map<string, string[]> } {
  const trips = new Map<string, string[]>();
  const open: OpenHost = async (spec) => {
    const opened = await inner(spec);
    const h = opened.host;
    const seen = async (kind: string) => {
      trips.set(spec.name, [...(trips.get(spec.name) ?? []), kind]);
      await before(spec.name, kind);
    };
    const host: Host = {
      name: h.name,
      exec: (argv, o) => seen(tripKind('exec', argv)).then(() => h.exec(argv, o)),
      readFile: (p) => seen('read').then(() => h.readFile(p)),
      readFiles: (p) => seen('read').then(() => h.readFiles(p)),
      writeFile: (p, c, o) => seen('write').then(() => h.writeFile(p, c, o)),
      stat: (p) => seen('stat').then(() => h.stat(p)),
      close: () => h.close(),
    };
    return { ...opened, host };
  };
  return { open, trips };
}
