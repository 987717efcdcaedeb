import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseShardInventory } from '../support/shard-inventory.js';
import { bridgesOf } from '../../playbooks/jitsi-load-balancing/settings.js';
import { resolveTarget, type SshResolver } from '../../src/transport/ssh/endpoint.js';
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  hostToken,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
} from '../../src/transport/ssh/known-hosts.js';
import { parseSshArgs, readSshSettings, type ConfigMachine } from '../../src/transport/ssh/ssh-config.js';
import { shellWords } from '../../src/transport/ssh/shell-words.js';

/** A public key blob of a given type with recognisable bytes. */
function blob(type: string, fill: number): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.alloc(32, fill)]);
}
const ED_A = blob('ssh-ed25519', 1);
const ED_B = blob('ssh-ed25519', 2);
const ECDSA = blob('ecdsa-sha2-nistp256', 3);

function hashed(token: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(token).digest('base64')}`;
}

describe('known_hosts', () => {
  test('plain, [host]:port, hashed, wildcard and negated entries name the right hosts', () => {
    const text = [
      '# comment',
      `10.0.0.5,meet.example.org ssh-ed25519 ${ED_A.toString('base64')}`,
      `[10.0.0.6]:2222 ssh-ed25519 ${ED_A.toString('base64')}`,
      `${hashed('jvb1.example.org')} ssh-ed25519 ${ED_A.toString('base64')}`,
      `*.lab,!bad.lab ssh-ed25519 ${ED_A.toString('base64')}`,
      'garbage',
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    assert.equal(entries.length, 4);
    const names = (token: string) => entries.filter((e) => entryMatches(e, token)).map((e) => e.line);
    assert.deepEqual(names(hostToken('10.0.0.5', 22)), [2]);
    assert.deepEqual(names(hostToken('MEET.example.org', 22)), [2], 'host names compare without case');
    assert.deepEqual(names(hostToken('10.0.0.6', 2222)), [3]);
    assert.deepEqual(names(hostToken('10.0.0.6', 22)), [], 'another port is another host');
    assert.deepEqual(names(hostToken('jvb1.example.org', 22)), [4]);
    assert.deepEqual(names(hostToken('a.lab', 22)), [5]);
    assert.deepEqual(names(hostToken('bad.lab', 22)), []);
  });

  test('known, unknown, changed (with the expected fingerprint and line) and revoked keys', () => {
    const entries = parseKnownHosts(
      `meet ssh-ed25519 ${ED_A.toString('base64')}\n@revoked * ssh-ed25519 ${blob('ssh-ed25519', 9).toString('base64')}\n`,
      '/k',
    );
    assert.deepEqual(checkHostKey(entries, 'meet', ED_A), { status: 'known' });
    assert.deepEqual(checkHostKey(entries, 'other', ED_A), { status: 'unknown' });
    assert.deepEqual(
      checkHostKey(entries, 'meet', ECDSA),
      {
        status: 'changed',
        expected: [{ keyType: 'ssh-ed25519', fingerprint: fingerprint(ED_A), file: '/k', line: 1 }],
      },
      'a known host offering a key of another type has changed its key, as OpenSSH decides',
    );
    assert.deepEqual(checkHostKey(entries, 'meet', ED_B), {
      status: 'changed',
      expected: [{ keyType: 'ssh-ed25519', fingerprint: fingerprint(ED_A), file: '/k', line: 1 }],
    });
    assert.deepEqual(checkHostKey(entries, 'meet', blob('ssh-ed25519', 9)), { status: 'revoked', file: '/k', line: 2 });
  });

  test('fingerprints are OpenSSH’s SHA256 form; a recorded line reads back as known', () => {
    assert.match(fingerprint(ED_A), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(keyTypeOf(ECDSA), 'ecdsa-sha2-nistp256');
    const line = knownHostsLine('[10.0.0.9]:2200', ED_B);
    assert.deepEqual(checkHostKey(parseKnownHosts(line, 'x'), '[10.0.0.9]:2200', ED_B), { status: 'known' });
  });
});

/** A machine for the built-in reader: files from a table, no commands. */
function machine(files: Record<string, string>): ConfigMachine {
  return {
    home: '/home/me',
    localUser: 'me',
    localHost: 'ops.example.org',
    uid: 1000,
    env: { WORK: '/w' },
    read: (p) => files[p] ?? null,
    list: (dir) =>
      Object.keys(files)
        .filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/'))
        .map((f) => f.slice(dir.length + 1)),
    exec: (cmd) => cmd === 'true',
  };
}

describe('ssh config, the built-in reader', () => {
  const config = `
User fallback-user # a comment
Host bastion
  HostName 203.0.113.10
  User jump
  Port 2222
Host jvb* !jvb-direct # not a pattern
  ProxyJump bastion
  IdentityFile ~/.ssh/jvb_key # work key
  IdentitiesOnly yes
  User deploy
Match originalhost jvb2 user deploy
  HostName 10.0.0.%h
Host *
  IdentityFile '/keys/with space'
  User ignored-later
  StrictHostKeyChecking accept-new
  Include conf.d/*.conf
`;
  const m = machine({
    '/home/me/.ssh/config': config,
    '/home/me/.ssh/conf.d/a.conf': 'Port 2200\nInclude nested.conf\n',
    '/home/me/.ssh/nested.conf': 'UserKnownHostsFile ~/.ssh/kh_%C ${WORK}/kh_%h\n',
  });
  const get = (alias: string, words: string[] = []) => readSshSettings(alias, parseSshArgs(words), m);

  test('first value wins, keys add up, comments end a line, negated patterns exclude', () => {
    const jvb = get('jvb1');
    assert.deepEqual(jvb.get('user'), ['fallback-user'], 'options before any Host apply to all, and come first');
    assert.deepEqual(jvb.get('proxyjump'), ['bastion']);
    assert.deepEqual(jvb.get('identityfile'), ['~/.ssh/jvb_key', '/keys/with space']);
    assert.deepEqual(jvb.get('identitiesonly'), ['yes']);
    assert.deepEqual(jvb.get('stricthostkeychecking'), ['accept-new']);
    assert.equal(get('jvb-direct').get('proxyjump'), undefined);
    assert.equal(get('x').get('proxyjump'), undefined, '"# not a pattern" is a comment');
    const b = get('bastion');
    assert.deepEqual([b.get('hostname'), b.get('port')], [['203.0.113.10'], ['2222']]);
  });

  test('Match originalhost and user, Include inside a Host block, nested Include and tokens', () => {
    assert.deepEqual(get('jvb2', ['-l', 'deploy']).get('hostname'), ['10.0.0.jvb2']);
    assert.deepEqual(get('jvb2').get('hostname'), ['jvb2'], 'Match user sees fallback-user, not deploy');
    const any = get('any');
    assert.deepEqual(any.get('port'), ['2200'], 'the Include under Host * applies');
    const hash = createHash('sha1')
      .update('ops.example.org' + 'any' + '2200' + 'fallback-user')
      .digest('hex');
    assert.deepEqual(any.get('userknownhostsfile'), [`/home/me/.ssh/kh_${hash}`, '/w/kh_any']);
    const scoped = readSshSettings(
      'a',
      { options: [] },
      machine({ '/home/me/.ssh/config': 'Host b\n  Include inc\n', '/home/me/.ssh/inc': 'Port 1\n' }),
    );
    assert.deepEqual(scoped.get('port'), ['22'], 'an Include inside a Host block counts only for that host');
  });

  test('the command line comes first; no key named means ssh’s default keys, in its order', () => {
    const s = readSshSettings(
      'h',
      parseSshArgs(['-o', 'Port=7', '-i', '/k', '-i', '/gone', '-oUser=u', '-J', 'a,b']),
      machine({ '/k': 'a key' }),
    );
    assert.deepEqual(
      [s.get('port'), s.get('user'), s.get('identityfile'), s.get('proxyjump')],
      [['7'], ['u'], ['/k'], ['a,b']],
    );
    assert.deepEqual(readSshSettings('h', { options: [] }, machine({})).get('identityfile'), [
      '~/.ssh/id_rsa',
      '~/.ssh/id_ecdsa',
      '~/.ssh/id_ecdsa_sk',
      '~/.ssh/id_ed25519',
      '~/.ssh/id_ed25519_sk',
      '~/.ssh/id_xmss',
      '~/.ssh/id_dsa',
    ]);
    assert.deepEqual(parseSshArgs(['-4', '-F', '/cfg', '-CJ', 'j']), { options: ['ProxyJump j'], configFile: '/cfg' });
  });

  test('a line ssh refuses is refused with its file and line', () => {
    const bad = (text: string) => () =>
      readSshSettings('h', { options: [] }, machine({ '/home/me/.ssh/config': text }));
    assert.throws(
      bad('Host *\n  IdentityFile a b\n'),
      /^Error: \/home\/me\/\.ssh\/config line 2: keyword identityfile extra arguments at end of line$/,
    );
    assert.throws(bad('Port x\n'), /config line 1: bad port "x"/);
    assert.throws(bad('User "open\n'), /config line 1: unterminated quote/);
  });

  test('shell words as Ansible splits ansible_ssh_common_args', () => {
    assert.deepEqual(shellWords(`-o 'ProxyCommand=ssh -W %h:%p b' -o "User=a b" x\\ y`), [
      '-o',
      'ProxyCommand=ssh -W %h:%p b',
      '-o',
      'User=a b',
      'x y',
    ]);
    assert.throws(() => shellWords(`-o 'open`), /unclosed single quote/);
  });
});

describe('connection settings for an inventory host', () => {
  const inventory = (hostVars: string, allVars = '') =>
    parseShardInventory(
      [
        'all:',
        `  vars: { ${allVars} }`,
        '  children:',
        '    meet: { hosts: { meet: { ansible_host: 10.0.0.1 } } }',
        `    jvb: { hosts: { jvb1: { ${hostVars} } } }`,
        '',
      ].join('\n'),
      '/inv/inventory.yaml',
      { cwd: '/inv' },
    );
  const m = machine({
    '/home/me/.ssh/config':
      'Host jvb1\n  HostName 10.0.0.11\n  User deploy\n  Port 2201\n  ProxyJump ops@bastion:2222\n' +
      'Host bastion\n  HostName 198.51.100.7\n  IdentityFile %d/.ssh/bastion_key\n  ProxyJump outer\n' +
      'Host outer\n  ProxyCommand nc -X connect %h %p\n',
  });
  const resolver: SshResolver = {
    source: 'built-in reader',
    machine: m,
    settings: async (words, alias) => readSshSettings(alias, parseSshArgs(words), m),
  };

  test('the ssh config fills in what the inventory leaves out; a hop follows its own ProxyJump', async () => {
    const spec = bridgesOf(inventory('ansible_host: jvb1'))[0]!;
    const t = await resolveTarget(spec, resolver, { acceptNewHostKeys: false });
    assert.deepEqual([t.address, t.port, t.user, t.hostKeyPolicy], ['10.0.0.11', 2201, 'deploy', 'ask']);
    assert.equal(t.identityFiles[0], '/home/me/.ssh/id_rsa');
    assert.deepEqual(t.knownHostsFiles, ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2']);
    assert.deepEqual(
      t.jumps.map((j) => [j.alias, j.address, j.port, j.user, j.proxyCommand ?? '']),
      [
        ['outer', 'outer', 22, 'me', 'nc -X connect outer 22'],
        ['bastion', '198.51.100.7', 2222, 'ops', ''],
      ],
    );
    assert.deepEqual(t.jumps[1]!.identityFiles, ['/home/me/.ssh/bastion_key']);
  });

  test('inventory values come first; ansible_ssh_common_args reach the host, not its jump hosts', async () => {
    const spec = bridgesOf(
      inventory(
        'ansible_host: jvb1, ansible_user: root, ansible_port: 22, ansible_ssh_private_key_file: k/id',
        'ansible_ssh_common_args: "-o UserKnownHostsFile=/lab/kh -o StrictHostKeyChecking=yes"',
      ),
    )[0]!;
    const t = await resolveTarget(spec, resolver, { acceptNewHostKeys: false });
    assert.deepEqual([t.address, t.port, t.user], ['10.0.0.11', 22, 'root']);
    assert.deepEqual(t.identityFiles, ['/inv/k/id'], 'the inventory key, before the config’s (none here)');
    assert.deepEqual(t.knownHostsFiles, ['/lab/kh']);
    assert.equal(t.hostKeyPolicy, 'yes');
    assert.deepEqual(t.jumps[1]!.knownHostsFiles, ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2']);
    assert.equal(t.jumps[1]!.hostKeyPolicy, 'ask', 'the -o options stay with the host');
    const cli = await resolveTarget(spec, resolver, { acceptNewHostKeys: true, knownHostsFile: '/cli/kh' });
    assert.deepEqual(
      [cli.knownHostsFiles, cli.globalKnownHostsFiles, cli.hostKeyPolicy],
      [['/cli/kh'], [], 'accept-new'],
    );
    const none = await resolveTarget(
      bridgesOf(inventory('ansible_host: jvb1, ansible_ssh_common_args: "-o ProxyJump=none"'))[0]!,
      resolver,
      { acceptNewHostKeys: false },
    );
    assert.deepEqual(none.jumps, [], 'ProxyJump=none on the command line turns the file’s jump off');
  });
});
