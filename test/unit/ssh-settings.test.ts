import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseShardInventory } from '../support/shard-inventory.js';
import { bridgesOf } from '../../playbooks/jitsi-load-balancing/settings.js';
import { resolveTarget } from '../../src/transport/ssh/endpoint.js';
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  hostToken,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
} from '../../src/transport/ssh/known-hosts.js';
import { expandTokens, parseSshConfig, resolveSshConfig, sshArgsAsConfig } from '../../src/transport/ssh/ssh-config.js';

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
      { status: 'unknown' },
      'a key type not on file is new, not changed',
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

describe('ssh config', () => {
  const config = `
User fallback-user
Host bastion
  HostName 203.0.113.10
  User jump
  Port 2222
Host jvb* !jvb-direct
  ProxyJump bastion
  IdentityFile ~/.ssh/jvb_key
  IdentitiesOnly yes
  User deploy
Host *
  IdentityFile ~/.ssh/id_ed25519
  User ignored-later
  StrictHostKeyChecking accept-new
`;
  const blocks = parseSshConfig(config, '/home/u/.ssh/config');

  test('first value wins, identity files add up, negated patterns exclude', () => {
    const jvb = resolveSshConfig(blocks, 'jvb1');
    assert.equal(jvb.user, 'fallback-user', 'options before any Host apply to all, and come first');
    assert.deepEqual(jvb.proxyJump, ['bastion']);
    assert.deepEqual(jvb.identityFiles, ['~/.ssh/jvb_key', '~/.ssh/id_ed25519']);
    assert.equal(jvb.identitiesOnly, true);
    assert.equal(jvb.strictHostKeyChecking, 'accept-new');
    assert.equal(resolveSshConfig(blocks, 'jvb-direct').proxyJump, undefined);
    const b = resolveSshConfig(blocks, 'bastion');
    assert.deepEqual([b.hostName, b.port], ['203.0.113.10', 2222]);
  });

  test('Include, "Key=Value", quoted arguments and Match all', () => {
    const parsed = parseSshConfig('Include extra.conf\nMatch all\n  Port=2200\nHost "x y"\n  User q', 'c', (p) =>
      p === 'extra.conf' ? [{ text: 'Host inc\n  HostName 10.9.9.9', file: 'extra.conf' }] : [],
    );
    assert.equal(resolveSshConfig(parsed, 'inc').hostName, '10.9.9.9');
    assert.equal(resolveSshConfig(parsed, 'any').port, 2200);
    assert.equal(resolveSshConfig(parsed, 'x y').user, 'q', 'a quoted pattern is one pattern');
    assert.equal(resolveSshConfig(parsed, 'y').user, undefined);
  });

  test("Ansible's ssh args become config lines; tokens expand", () => {
    assert.equal(
      sshArgsAsConfig(
        `-o UserKnownHostsFile=/tmp/kh -o 'ProxyJump=a,b' -J c -i key -p 2 -l me -oStrictHostKeyChecking=no`,
      ),
      'UserKnownHostsFile=/tmp/kh\nProxyJump=a,b\nProxyJump c\nIdentityFile key\nPort 2\nUser me\nStrictHostKeyChecking=no',
    );
    assert.equal(
      expandTokens('~/.ssh/%r@%h:%p-%n-%%', {
        home: '/h',
        host: '10.0.0.1',
        port: 22,
        user: 'r',
        alias: 'meet',
        localUser: 'me',
      }),
      '/h/.ssh/r@10.0.0.1:22-meet-%',
    );
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
    );
  const blocks = parseSshConfig(
    'Host jvb1\n  HostName 10.0.0.11\n  User deploy\n  Port 2201\n  ProxyJump ops@bastion:2222\nHost bastion\n  HostName 198.51.100.7\n  IdentityFile %d/.ssh/bastion_key\n',
    'cfg',
  );

  test('the ssh config fills in what the inventory leaves out; ProxyJump hops are resolved too', () => {
    const t = resolveTarget(bridgesOf(inventory('a: 1'))[0]!, blocks, {
      acceptNewHostKeys: false,
      home: '/home/me',
      localUser: 'me',
    });
    assert.deepEqual([t.address, t.port, t.user, t.hostKeyPolicy], ['10.0.0.11', 2201, 'deploy', 'ask']);
    assert.deepEqual(t.identityFiles, ['/home/me/.ssh/id_ed25519', '/home/me/.ssh/id_ecdsa', '/home/me/.ssh/id_rsa']);
    assert.equal(t.identitiesExplicit, false);
    assert.deepEqual(t.knownHostsFiles, ['/home/me/.ssh/known_hosts', '/home/me/.ssh/known_hosts2']);
    assert.deepEqual(
      t.jumps.map((j) => [j.alias, j.address, j.port, j.user, j.identityFiles]),
      [['bastion', '198.51.100.7', 2222, 'ops', ['/home/me/.ssh/bastion_key']]],
    );
  });

  test('inventory values win; ansible_ssh_common_args wins over the file; --known-hosts over both', () => {
    const spec = bridgesOf(
      inventory(
        'ansible_user: root, ansible_port: 22, ansible_ssh_private_key_file: k/id',
        'ansible_ssh_common_args: "-o ProxyJump=none -o UserKnownHostsFile=/lab/kh -o StrictHostKeyChecking=yes"',
      ),
    )[0]!;
    const t = resolveTarget(spec, blocks, { acceptNewHostKeys: false, home: '/home/me', localUser: 'me' });
    assert.deepEqual([t.address, t.port, t.user], ['10.0.0.11', 22, 'root']);
    assert.deepEqual(t.identityFiles, ['/inv/k/id']);
    assert.equal(t.identitiesExplicit, true);
    assert.deepEqual(t.jumps, [], 'ProxyJump=none on the command line turns the file’s jump off');
    assert.deepEqual(t.knownHostsFiles, ['/lab/kh']);
    assert.equal(t.hostKeyPolicy, 'yes');
    const cli = resolveTarget(spec, blocks, {
      acceptNewHostKeys: true,
      knownHostsFile: '/cli/kh',
      home: '/h',
      localUser: 'me',
    });
    assert.deepEqual([cli.knownHostsFiles, cli.hostKeyPolicy], [['/cli/kh'], 'accept-new']);
  });
});
