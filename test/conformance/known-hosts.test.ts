import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureReferenceTools, referenceToolsUnavailable, sshKeygenFind } from '../support/reference-tools.js';
import { ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';
import { localMeet } from '../support/shard-inventory.js';
import { hostOpener } from '../../src/engine/open-host.js';
import { entryMatches, parseKnownHosts } from '../../src/transport/ssh/known-hosts.js';

await ensureReferenceTools();
await ensureSshd();
const why = referenceToolsUnavailable() ?? sshdUnavailable();
if (why && process.env.CI) throw new Error(`the conformance tests cannot run in CI: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'js-kh-'));
const tally = { lookups: 0, lookupsAgreed: 0, verdicts: 0, verdictsAgreed: 0 };
const seen = new Set<string>();

function keyOf(type: 'ed25519' | 'rsa', name: string): string {
  const f = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', f]);
  return readFileSync(`${f}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

function hashed(token: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`;
}

describe('known_hosts conformance: ssh-keygen -F and ssh itself are the oracles', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  let hostKey: string;
  let otherEd: string;
  let otherRsa: string;
  before(async () => {
    sshd = await startLocalSshd();
    hostKey = readFileSync(sshd.knownHosts, 'utf8').trim().split(' ').slice(1, 3).join(' ');
    otherEd = keyOf('ed25519', 'other_ed');
    otherRsa = keyOf('rsa', 'other_rsa');
  });
  after(async () => {
    console.log(
      `known_hosts conformance: ${tally.lookupsAgreed} of ${tally.lookups} lookups agree with ssh-keygen -F, ` +
        `${tally.verdictsAgreed} of ${tally.verdicts} host-key verdicts agree with ssh`,
    );
    await sshd?.stop();
  });

  test('which lines name a host: plain, [host]:port, hashed, wildcards, negation, case, markers', () => {
    const file = join(dir, 'lookup_known_hosts');
    const k = otherEd;
    writeFileSync(
      file,
      [
        '# a comment',
        `host1.example.org,10.0.0.1 ${k}`,
        `[host2.example.org]:2222 ${k}`,
        `${hashed('host3.example.org')} ${k}`,
        `${hashed('[host4.example.org]:2200')} ${k}`,
        `*.wild.example.org,!bad.wild.example.org ${k}`,
        `@cert-authority *.ca.example.org ${k}`,
        `@revoked host1.example.org ${k}`,
        `HOST5.Example.ORG ${k}`,
        `10.0.0.? ${k}`,
        `[10.0.0.7]:22 ${k}`,
        'not a key line',
        `host6.example.org ${k} a trailing comment`,
        `[127.0.0.*]:2222,!127.0.0.9 ${k}`,
        '',
      ].join('\n'),
    );
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    const tokens = [
      'host1.example.org',
      '10.0.0.1',
      '[host1.example.org]:2222',
      '[host2.example.org]:2222',
      'host2.example.org',
      'host3.example.org',
      '[host4.example.org]:2200',
      'host4.example.org',
      'a.wild.example.org',
      'bad.wild.example.org',
      'wild.example.org',
      'x.ca.example.org',
      'host5.example.org',
      '10.0.0.5',
      '10.0.0.55',
      '10.0.0.7',
      '[10.0.0.7]:22',
      'host6.example.org',
      '[127.0.0.3]:2222',
      '[127.0.0.9]:2222',
      'nobody.example.org',
    ];
    for (const token of tokens) {
      tally.lookups++;
      const ours = entries.filter((e) => entryMatches(e, token)).map((e) => e.line);
      assert.deepEqual(ours, sshKeygenFind(token, file), `lines for ${token}`);
      tally.lookupsAgreed++;
    }
  });

  /** What ssh decides about the lab sshd's key with these files and options. */
  function sshVerdict(opts: string[]): Promise<string> {
    return new Promise((resolve) => {
      execFile(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-o',
          'BatchMode=yes',
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          `IdentityFile=${join(dir, 'no_such_key')}`,
          '-o',
          'PreferredAuthentications=publickey',
          ...opts,
          '-p',
          String(sshd.port),
          'root@127.0.0.1',
          'true',
        ],
        { encoding: 'utf8', timeout: 15_000 },
        (_err, _out, stderr) => resolve(classify(stderr)),
      );
    });
  }

  function classify(text: string): string {
    if (/REVOKED|revoked/.test(text)) return 'revoked';
    if (/HOST IDENTIFICATION HAS CHANGED|HOST KEY CHANGED/.test(text)) return 'changed';
    if (/[Pp]ermission denied/.test(text)) return 'accepted';
    if (/Host key verification failed|unknown host key|not in known_hosts/.test(text)) return 'refused';
    return `other: ${text.trim().split('\n').pop()}`;
  }

  /** What the tool decides, connecting the way a run does, with the same options in the inventory. */
  async function ourVerdict(opts: string[]): Promise<string> {
    const meet = localMeet({
      port: sshd.port,
      key: join(dir, 'no_such_key'),
      commonArgs: ['-F', '/dev/null', '-o', 'IdentitiesOnly=yes', ...opts].join(' '),
      file: join(dir, 'inventory.yaml'),
    });
    const open = hostOpener({ connectTimeoutMs: 10_000, keepaliveIntervalMs: 5000, runId: 'conformance' });
    try {
      const h = await open(meet);
      await h.host.close();
      return 'connected';
    } catch (e) {
      return classify((e as Error).message);
    }
  }

  const cases: { name: string; user?: () => string; global?: () => string; opts: string[] }[] = [
    { name: 'the key on file', user: () => `[127.0.0.1]:${sshd.port} ${hostKey}`, opts: ['StrictHostKeyChecking=yes'] },
    { name: 'unknown host, accept-new', opts: ['StrictHostKeyChecking=accept-new'] },
    { name: 'unknown host, yes', opts: ['StrictHostKeyChecking=yes'] },
    { name: 'unknown host, ask without a terminal', opts: ['StrictHostKeyChecking=ask'] },
    {
      name: 'a known host offering a key of another type, accept-new',
      user: () => `[127.0.0.1]:${sshd.port} ${otherRsa}`,
      opts: ['StrictHostKeyChecking=accept-new'],
    },
    {
      name: 'another key of the same type, accept-new',
      user: () => `[127.0.0.1]:${sshd.port} ${otherEd}`,
      opts: ['StrictHostKeyChecking=accept-new'],
    },
    {
      name: 'the key in the global file only',
      global: () => `[127.0.0.1]:${sshd.port} ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes'],
    },
    {
      name: 'HostKeyAlias: the key filed under the alias',
      user: () => `lab-alias ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes', 'HostKeyAlias=lab-alias'],
    },
    {
      name: 'HostKeyAlias: the key filed under the address only',
      user: () => `[127.0.0.1]:${sshd.port} ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes', 'HostKeyAlias=lab-alias'],
    },
    {
      name: 'a revoked key',
      user: () => `[127.0.0.1]:${sshd.port} ${hostKey}\n@revoked * ${hostKey}`,
      opts: ['StrictHostKeyChecking=accept-new'],
    },
    {
      name: 'a hashed entry',
      user: () => `${hashed(`[127.0.0.1]:${sshd.port}`)} ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes'],
    },
    {
      name: 'a wildcard entry with a negation that does not apply',
      user: () => `[127.0.0.*]:${sshd.port},!10.0.0.1 ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes'],
    },
    {
      name: 'a wildcard entry whose negation applies',
      user: () => `[127.0.0.*]:${sshd.port},![127.0.0.1]:${sshd.port} ${hostKey}`,
      opts: ['StrictHostKeyChecking=yes'],
    },
  ];

  for (const c of cases) {
    test(`host key: ${c.name}`, async () => {
      const verdicts: { verdict: string; recorded: number }[] = [];
      for (const who of ['ssh', 'tool'] as const) {
        const user = join(dir, `${who}_known_hosts`);
        const global = join(dir, `${who}_global_known_hosts`);
        writeFileSync(user, c.user ? `${c.user()}\n` : '');
        writeFileSync(global, c.global ? `${c.global()}\n` : '');
        const lines = () => readFileSync(user, 'utf8').split('\n').filter(Boolean).length;
        const before = lines();
        const opts = [`UserKnownHostsFile=${user}`, `GlobalKnownHostsFile=${global}`, ...c.opts].flatMap((o) => [
          '-o',
          o,
        ]);
        const verdict = who === 'ssh' ? await sshVerdict(opts) : await ourVerdict(opts);
        verdicts.push({ verdict, recorded: lines() - before });
      }
      tally.verdicts++;
      seen.add(verdicts[0]!.verdict);
      // The tool has no key here either, so "accepted" is its permission denied after the host key passed.
      assert.deepEqual(
        verdicts[1],
        verdicts[0],
        `ssh: ${JSON.stringify(verdicts[0])}, tool: ${JSON.stringify(verdicts[1])}`,
      );
      tally.verdictsAgreed++;
    });
  }

  test('the cases cover every verdict ssh can reach here', () => {
    assert.deepEqual([...seen].sort(), ['accepted', 'changed', 'refused', 'revoked']);
  });
});
