import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROFILE_RELEASE, parseProfileArgs, plannedHosts } from '../lab/setup/lab-config.js';
import { debianMirror, rootfsKey } from '../lab/setup/debian-root.js';
import { candidates, dependencyNames } from '../lab/setup/debian-mirror.js';
import { foreignRules } from '../lab/setup/profiles.js';

describe('lab profiles per host', () => {
  test('one profile for all, then names and roles; a name wins over its role', () => {
    const { fallback, profiles } = parseProfileArgs(['iptables', 'jvb=firewalld', 'jvb2=bare']);
    const hosts = plannedHosts(3, fallback, profiles);
    const of = (n: string) => hosts.find((h) => h.name === n)!.profile;
    assert.deepEqual([of('meet'), of('jvb1'), of('jvb2'), of('jvb3')], ['iptables', 'firewalld', 'bare', 'firewalld']);
    assert.equal(hosts.find((h) => h.name === 'jvb3')!.address6, 'fd77:7::d');
  });

  test('an unknown profile is refused with the list', () => {
    assert.throws(
      () => parseProfileArgs(['meet=ubuntu']),
      /unknown profile "ubuntu": choose one of debian-nft, iptables, ubuntu-ufw/,
    );
  });
});

describe("the lab's Debian repository", () => {
  test('dependency names leave virtual packages out; candidates skip (none)', () => {
    assert.deepEqual(
      dependencyNames('ufw\n  Depends: iptables\niptables\n  Depends: <perlapi-5.36.0>\n<perlapi-5.36.0>\nlibc6\n'),
      ['iptables', 'libc6', 'ufw'],
    );
    const c = candidates(
      'ufw:\n  Installed: (none)\n  Candidate: 0.36.2-1\nfoo:\n  Installed: (none)\n  Candidate: (none)\n',
    );
    assert.deepEqual([...c], [['ufw', '0.36.2-1']]);
  });
});

describe('rules that are not the tool’s', () => {
  const NFT = `@@nft
table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}
table inet jitsi_scale_tcp_5222 {
	chain input {
		type filter hook input priority filter - 5; policy accept;
		iif "lo" tcp dport 5222 accept
		tcp dport 5222 counter packets 3 bytes 180 drop
	}
}
@@iptables
@@ufw
@@firewalld
@@end`;

  test('our nft tables are left out whole; the rest is kept', () => {
    const rules = foreignRules(NFT, []);
    assert.ok(rules.includes('nft table inet filter {'));
    assert.ok(!rules.some((r) => r.includes('5222')), rules.join('\n'));
  });

  test('ufw is compared as ufw keeps it, without our tagged tuples', () => {
    const tag = Buffer.from('jitsi-scale-tcp-5222').toString('hex');
    const snap = `@@iptables\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n@@ufw\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n### tuple ### allow tcp 5222 0.0.0.0/0 any 10.0.0.1 in comment=${tag}\n@@end`;
    assert.deepEqual(foreignRules(snap, []), ['ufw ### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in']);
  });

  test("firewalld's ports line loses only the ports the tool manages", () => {
    const snap = '@@firewalld\npublic\n  services: http https ssh\n  ports: 10000/udp 8443/tcp\n@@end';
    assert.deepEqual(foreignRules(snap, ['10000/udp']), [
      'firewalld public',
      'firewalld services: http https ssh',
      'firewalld ports: 8443/tcp',
    ]);
  });
});

describe('Debian 13 hosts from their own root filesystem', () => {
  test("the mirror is the one this machine's apt names (deb822 or one-line), security and other vendors left out", () => {
    const deb822 = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://mirror.example.test/debian/',
      'Suites: bookworm bookworm-updates',
      'Components: main',
    ].join('\n');
    assert.equal(debianMirror(deb822), 'http://mirror.example.test/debian');
    assert.equal(
      debianMirror(
        'deb http://security.debian.org/ bookworm-security main\ndeb [arch=amd64] http://ftp.de.debian.org/debian bookworm main contrib\n',
      ),
      'http://ftp.de.debian.org/debian',
    );
    assert.equal(debianMirror(''), 'http://deb.debian.org/debian');
  });

  test('the cache entry changes with what the tree is built from, not with the order it is listed in', () => {
    const a = rootfsKey('trixie', 'http://m/debian', ['prosody', 'sudo'], ['nftables']);
    assert.match(a, /^trixie-[0-9a-f]{12}$/);
    assert.equal(rootfsKey('trixie', 'http://m/debian', ['sudo', 'prosody'], ['nftables']), a);
    assert.notEqual(rootfsKey('trixie', 'http://m/debian', ['prosody', 'sudo', 'curl'], ['nftables']), a);
    assert.notEqual(rootfsKey('trixie', 'http://other/debian', ['prosody', 'sudo'], ['nftables']), a);
    assert.notEqual(rootfsKey('trixie', 'http://m/debian', ['prosody', 'sudo'], ['nftables', 'ufw']), a);
  });

  test('a trixie host boots without systemd even in a systemd lab; ubuntu-needrestart always boots with it', () => {
    const hosts = plannedHosts(2, 'debian-nft', { meet: 'trixie', jvb2: 'ubuntu-needrestart' }, 'systemd');
    const of = (n: string) => hosts.find((h) => h.name === n)!;
    assert.deepEqual(
      ['meet', 'jvb1', 'jvb2'].map((n) => [
        of(n).profile,
        of(n).init,
        PROFILE_RELEASE[of(n).profile] ?? 'this machine',
      ]),
      [
        ['trixie', 'none', 'trixie'],
        ['debian-nft', 'systemd', 'this machine'],
        ['ubuntu-needrestart', 'systemd', 'this machine'],
      ],
    );
    assert.equal(plannedHosts(1, 'ubuntu-needrestart').find((h) => h.name === 'meet')!.init, 'systemd');
  });
});
