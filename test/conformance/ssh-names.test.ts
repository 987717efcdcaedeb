import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, describe, test } from 'node:test';
import { ensureReferenceTools, referenceToolsUnavailable } from '../support/reference-tools.js';
import { oneBridgeInventory } from '../support/shard-inventory.js';
import { resolveTarget, type SshResolver } from '../../src/transport/ssh/endpoint.js';
import { proxySocket } from '../../src/transport/ssh/proxy-command.js';
import { sshResolver, thisMachine } from '../../src/transport/ssh/resolver.js';
import { parseSshArgs, readSshSettings } from '../../src/transport/ssh/ssh-config.js';

await ensureReferenceTools();
const why = referenceToolsUnavailable();
if (why && process.env.CI) throw new Error(`the conformance tests cannot run in CI: ${why}`);

/*
 * OpenSSH's client is the judge: names with shell characters go to `ssh -G` and to a real ssh
 * whose ProxyCommand records the words it was given, and to the tool (inventory → resolution →
 * the ProxyCommand it runs). We must refuse what ssh refuses, give the proxy the same words as ssh
 * for what it accepts, and never run what ssh would not run: a marker file that every hostile name
 * tries to create must never appear.
 */

// Lower case only: ssh lowers a host name before it fills in %h.
const dir = join(tmpdir(), `js-names-conformance-${process.pid}`);
mkdirSync(dir, { recursive: true });
const marker = join(dir, 'ran');
const recorder = join(dir, 'record.cjs');
writeFileSync(
  recorder,
  "require('node:fs').appendFileSync(process.env.JS_RECORD, JSON.stringify(process.argv.slice(2)) + '\\n'); process.exit(1);\n",
);
const cfg = join(dir, 'ssh_config');
writeFileSync(
  cfg,
  [
    'Host from-config-host',
    `  HostName "a$(touch ${marker}-hostname)"`,
    'Host from-config-user',
    `  User "u$(touch ${marker}-user)"`,
    'Host *',
    `  ProxyCommand ${process.execPath} ${recorder} %h %r %n %p`,
    '',
  ].join('\n'),
);

/** OpenSSH's major version here: 10.0 added the comma to the characters refused in host names. */
function sshMajor(): number {
  const r = execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' });
  return Number(/OpenSSH_(\d+)/.exec(r)?.[1] ?? 0);
}

const HOSTS = [
  `a$(touch ${marker})`,
  `a\`touch ${marker}\``,
  `a;touch ${marker}`,
  `a\ntouch ${marker}`,
  `a|touch${marker}`,
  `a&touch${marker}`,
  `a>${marker}`,
  `a'b`,
  `a"b`,
  'a<b',
  'a(b',
  'a{b}',
  'a\\b',
  `-oProxyCommand=touch${marker}`,
  'a b',
  'a\tb',
  'a,b',
  'jvb1.example.org',
  '10.0.0.5',
  'a*b',
  'a~b',
  'a#b',
  'a!b',
  'a%b',
  'a[1]',
  'a=b',
];

const USERS = [
  `u$(touch ${marker})`,
  `u\`touch ${marker}\``,
  `u;touch${marker}`,
  `u\ntouch${marker}`,
  "u'x",
  'u"x',
  'u|x',
  'u&x',
  'u(x',
  '-u',
  'u -x',
  'u\\',
  'deploy',
  'u$x',
  'u$HOME',
  'u\\x',
  'u,x',
  'u*',
];

const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ code: number; stderr: string }>((resolve) => {
    const child = execFile('ssh', args, { encoding: 'utf8', timeout: 20_000, env }, (err, _out, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
    child.stdin?.end();
  });

let runs = 0;
/** A fresh record file for one run of the ProxyCommand. */
const recordFile = () => join(dir, `record-${++runs}`);
const recorded = (file: string): string[][] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[])
    : [];

/** What real ssh does with this host and user: refused before anything ran, or the words its ProxyCommand got. */
async function theirs(host: string, user: string | undefined): Promise<{ refused: boolean; words: string[][] }> {
  const u = user === undefined ? [] : ['-o', `User=${user}`];
  const g = await run(['-F', cfg, '-G', ...u, '--', host]);
  const record = recordFile();
  const env = { ...process.env, JS_RECORD: record };
  await run(['-F', cfg, ...u, '-o', 'BatchMode=yes', '-o', 'UserKnownHostsFile=/dev/null', '--', host, 'true'], env);
  return { refused: g.code !== 0, words: recorded(record) };
}

const builtIn: SshResolver = {
  source: 'built-in reader',
  machine: thisMachine(),
  settings: async (w, alias) => readSshSettings(alias, parseSshArgs(w), thisMachine()),
};

/** What the tool does with an inventory host of this address and user, through one resolver. */
async function ours(
  r: SshResolver,
  host: string,
  user: string | undefined,
): Promise<{ refused: string | null; words: string[][] }> {
  let spec;
  try {
    spec = oneBridgeInventory(
      [
        `ansible_host: ${JSON.stringify(host)}`,
        ...(user === undefined ? [] : [`ansible_user: ${JSON.stringify(user)}`]),
        `ansible_ssh_common_args: "-F ${cfg}"`,
      ],
      join(dir, 'inventory.yaml'),
    ).byRole.jvb![0]!;
  } catch (e) {
    return { refused: (e as Error).message, words: [] };
  }
  let target;
  try {
    target = await resolveTarget(spec, r, { acceptNewHostKeys: false });
  } catch (e) {
    return { refused: (e as Error).message, words: [] };
  }
  const record = recordFile();
  process.env.JS_RECORD = record;
  const proxy = proxySocket(target.proxyCommand!);
  proxy.stream.end();
  await proxy.ended;
  return { refused: null, words: recorded(record) };
}

const tally = { names: 0, refusedByBoth: 0, comma: 0, expandedBySsh: [] as string[] };

describe('host and user names: OpenSSH’s ssh is the judge', { skip: why ?? false }, () => {
  const major = sshMajor();
  const resolvers: [string, SshResolver][] = [
    ['ssh -G', sshResolver()],
    ['the built-in reader', builtIn],
  ];
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `ssh names conformance: ${tally.names} checks, ${tally.refusedByBoth} refused by ssh and by us, ${tally.comma} comma(s) refused as OpenSSH 10 does (installed: ${major}); names ssh's shell expanded and we passed whole: ${JSON.stringify([...new Set(tally.expandedBySsh)])}`,
    );
  });

  const judge = async (label: string, host: string, user: string | undefined, subject: string) => {
    const real = await theirs(host, user);
    for (const [name, r] of resolvers) {
      const tool = await ours(r, host, user);
      tally.names++;
      const what = `${label} ${JSON.stringify(subject)} through ${name}`;
      // OpenSSH before 10.0 lets a comma through in a host name; the tool refuses it as 10.0 does.
      if (!real.refused && tool.refused && label === 'host' && subject.includes(',') && major < 10) {
        tally.comma++;
        assert.match(tool.refused, /not a host name ssh accepts: it holds ","/, what);
        continue;
      }
      assert.equal(
        tool.refused !== null,
        real.refused,
        `${what}: ssh ${real.refused ? 'refuses' : 'accepts'} it; we ${tool.refused ? `refuse it: ${tool.refused}` : 'accept it'}`,
      );
      if (tool.refused) {
        tally.refusedByBoth++;
        assert.match(tool.refused, /jvb1/, `${what}: the refusal names the inventory host`);
        assert.deepEqual(real.words, [], `${what}: ssh ran no proxy`);
      } else {
        // The proxy gets each value as one literal word: the host (lowered, as ssh does), the user, the name, the port.
        const literal = [host.toLowerCase(), user ?? thisMachine().localUser, host, '22'];
        assert.deepEqual(tool.words, [literal], `${what}: the proxy gets the values whole`);
        // ssh pastes them unquoted: its shell may expand a $ or a \ in a name it accepts. Anything else is the same.
        if (!isDeepStrictEqual(real.words, tool.words)) {
          tally.expandedBySsh.push(subject);
          assert.match(subject, /[$\\]/, `${what}: ssh's proxy got ${JSON.stringify(real.words)}`);
        }
      }
      assert.equal(existsSync(marker), false, `${what}: nothing was run`);
    }
  };

  test('host names with shell characters, quotes, a newline, a leading "-": refused as ssh refuses them, by name', async () => {
    for (const host of HOSTS) await judge('host', host, 'deploy', host);
    assert.equal(existsSync(marker), false);
  });

  test('user names the same way, as ssh checks a user from its command line', async () => {
    for (const user of USERS) await judge('user', 'jvb1.example.org', user, user);
    assert.equal(existsSync(marker), false);
  });

  test('a HostName or User from the ssh config (trusted like code by ssh) reaches the proxy as one literal word: nothing runs', async () => {
    for (const [alias, index, mark, literal] of [
      ['from-config-host', 0, `${marker}-hostname`, `a$(touch ${marker}-hostname)`],
      ['from-config-user', 1, `${marker}-user`, `u$(touch ${marker}-user)`],
    ] as const) {
      for (const [name, r] of resolvers) {
        const tool = await ours(r, alias, undefined);
        assert.equal(tool.refused, null, `${alias} through ${name}`);
        assert.equal(tool.words[0]?.[index], literal, `${alias} through ${name}: the value arrives whole`);
        assert.equal(existsSync(mark), false, `${alias} through ${name}: the tool ran nothing`);
      }
      // ssh itself fills the value in unquoted: what it does here is recorded, not required.
      const real = await theirs(alias, undefined);
      console.log(
        `${alias}: ssh ${existsSync(mark) ? 'ran' : 'did not run'} the command in it; its proxy got ${JSON.stringify(real.words[0])}`,
      );
    }
  });

  test('Match exec: a command after a criterion that fails is not run, by ssh -G nor by the built-in reader', async () => {
    const conf = join(dir, 'match_config');
    writeFileSync(
      conf,
      [`Match host nomatch exec "touch ${marker}-skipped"`, `Match host target exec "touch ${marker}-run"`, ''].join(
        '\n',
      ),
    );
    const outcome = () => [existsSync(`${marker}-skipped`), existsSync(`${marker}-run`)];
    execFileSync('ssh', ['-F', conf, '-G', 'target'], { stdio: 'ignore' });
    const real = outcome();
    rmSync(`${marker}-run`, { force: true });
    readSshSettings('target', parseSshArgs(['-F', conf]), thisMachine());
    assert.deepEqual(outcome(), real);
    assert.deepEqual(real, [false, true]);
  });
});
