import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CONFORMANCE_DIR, ensureReferenceTools, referenceToolsUnavailable, sshG } from '../support/reference-tools.js';
import { oneBridgeInventory } from '../support/shard-inventory.js';
import { resolveTarget, type SshResolver } from '../../src/transport/ssh/endpoint.js';
import { sshResolver, thisMachine } from '../../src/transport/ssh/resolver.js';
import { parseSshArgs, readSshSettings } from '../../src/transport/ssh/ssh-config.js';
import { shellWords } from '../../src/transport/ssh/shell-words.js';

await ensureReferenceTools();
const why = referenceToolsUnavailable();
if (why && process.env.CI) throw new Error(`the conformance tests cannot run in CI: ${why}`);

/** The fields the tool reads from ssh's settings. */
const FIELDS = [
  'user',
  'hostname',
  'port',
  'identityfile',
  'identitiesonly',
  'proxyjump',
  'proxycommand',
  'userknownhostsfile',
  'globalknownhostsfile',
  'hostkeyalias',
  'stricthostkeychecking',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
];

/** The corpus in a folder of its own, @DIR@ in the files made that folder (Include needs absolute paths). */
function corpus(): { dir: string; configs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'js-sshconf-'));
  cpSync(join(CONFORMANCE_DIR, 'ssh'), dir, { recursive: true });
  const all = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? all(join(d, e.name)) : [join(d, e.name)],
    );
  for (const f of all(dir)) writeFileSync(f, readFileSync(f, 'utf8').replace(/@DIR@/g, dir));
  return {
    dir,
    configs: readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort(),
  };
}

/** "# query: WORDS -- ALIAS" lines at the top of a config. */
function queries(file: string): { words: string[]; alias: string }[] {
  return [...readFileSync(file, 'utf8').matchAll(/^# query: (.*)$/gm)].map((m) => {
    const words = shellWords(m[1]!);
    const sep = words.indexOf('--');
    return { words: words.slice(0, sep), alias: words[sep + 1]! };
  });
}

const tally = { checks: 0, agreed: 0 };

describe('ssh config conformance: OpenSSH’s ssh -G is the oracle', { skip: why ?? false }, () => {
  const { dir, configs } = corpus();
  const machine = thisMachine();
  after(() => {
    console.log(`ssh config conformance: ${tally.agreed} of ${tally.checks} fields agree with ssh -G`);
  });

  for (const name of configs) {
    const file = join(dir, name);
    for (const q of queries(file)) {
      test(`${name}: ${[...q.words, q.alias].join(' ')}: the built-in reader gives what ssh -G gives`, () => {
        const words = ['-F', file, ...q.words];
        const theirs = sshG(words, q.alias);
        const ours = readSshSettings(q.alias, parseSshArgs(words), machine);
        for (const f of FIELDS) {
          tally.checks++;
          // ssh -G prints a list of files on one line; the reader keeps them as words.
          const t = theirs.get(f);
          const expected = f.endsWith('knownhostsfile') ? t?.[0]?.split(' ') : t;
          assert.deepEqual(ours.get(f), expected, `${name} ${q.alias}: ${f}`);
          tally.agreed++;
        }
      });
    }
  }

  test('the system config and ~/.ssh/config when no -F is given', () => {
    const theirs = sshG([], 'plain-host');
    const ours = readSshSettings('plain-host', { options: [] }, machine);
    for (const f of FIELDS) {
      tally.checks++;
      const t = theirs.get(f);
      assert.deepEqual(ours.get(f), f.endsWith('knownhostsfile') ? t?.[0]?.split(' ') : t, f);
      tally.agreed++;
    }
  });

  test('an inventory host resolves the same through ssh -G and through the built-in reader, jump chain included', async () => {
    const cfg = join(dir, 'chain.conf');
    writeFileSync(
      cfg,
      [
        'Host jvb1',
        '  HostName 10.0.0.11',
        '  ProxyJump ops@bastion:2222,inner',
        'Host bastion',
        '  HostName 198.51.100.7',
        '  IdentityFile %d/.ssh/bastion_%r',
        '  ProxyJump outer',
        'Host inner',
        '  ProxyJump ignored-because-reached-through-bastion',
        'Host outer',
        '  ProxyCommand nc -X connect -x proxy:3128 %h %p',
        '',
      ].join('\n'),
    );
    const spec = oneBridgeInventory(
      [
        'ansible_host: jvb1',
        'ansible_user: deploy',
        `ansible_ssh_common_args: "-F ${cfg} -o IdentityFile=/keys/extra -o UserKnownHostsFile=/kh"`,
      ],
      join(dir, 'inventory.yaml'),
    ).byRole.jvb![0]!;
    const real = sshResolver(machine);
    assert.equal(real.source, 'ssh -G');
    const builtIn: SshResolver = {
      source: 'built-in reader',
      machine,
      settings: async (w, alias) => readSshSettings(alias, parseSshArgs(w), machine),
    };
    const a = await resolveTarget(spec, real, { acceptNewHostKeys: false });
    const b = await resolveTarget(spec, builtIn, { acceptNewHostKeys: false });
    tally.checks++;
    assert.deepEqual(b, a);
    tally.agreed++;
    assert.deepEqual(
      a.jumps.map((j) => `${j.user}@${j.address}:${j.port}${j.proxyCommand ? ` via ${j.proxyCommand}` : ''}`),
      [
        `${machine.localUser}@outer:22 via nc -X connect -x proxy:3128 outer 22`,
        'ops@198.51.100.7:2222',
        `${machine.localUser}@inner:22`,
      ],
      'the first hop follows its own ProxyJump; later hops are reached through the one before',
    );
    assert.deepEqual(a.identityFiles.slice(0, 1), ['/keys/extra']);
    assert.deepEqual(a.jumps[1]!.identityFiles, [`${machine.home}/.ssh/bastion_ops`]);
    assert.deepEqual(a.jumps[1]!.knownHostsFiles, [
      `${machine.home}/.ssh/known_hosts`,
      `${machine.home}/.ssh/known_hosts2`,
    ]);
  });
});
