import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectFirewall, type FirewallProbe } from '../../src/modules/firewall/detect-firewall.js';
import {
  desiredChainRules,
  liveIsCurrent,
  persistRules,
  restoreScript,
  shadowedOpenings,
} from '../../src/modules/firewall/iptables.js';
import { deniesByDefault, includeInMainConf, nftRuleFile } from '../../src/modules/firewall/nftables.js';
import { sourcesByFamily, type PortRule } from '../../src/modules/firewall/port-rule.js';
import { sshdPorts } from '../../src/modules/firewall/ufw.js';
import { assertIdempotent } from '../support/fixtures.js';

const XMPP: PortRule = { proto: 'tcp', port: 5222, sources: ['10.0.0.11', '10.0.0.12'] };

function probe(over: Partial<Omit<FirewallProbe, 'tools'>> & { tools?: string[] }): FirewallProbe {
  return {
    ufwStatus: '',
    firewalldState: '',
    iptablesVersion: '',
    iptablesRules: '',
    nftTables: '',
    ...over,
    tools: new Set(over.tools ?? []),
  };
}

describe('which firewall is in charge', () => {
  test('an active ufw or a running firewalld wins over the rules they write', () => {
    assert.equal(
      detectFirewall(
        probe({
          tools: ['ufw', 'iptables', 'nft'],
          ufwStatus: 'Status: active',
          iptablesRules: '-A INPUT -j ufw-before-input',
        }),
      ),
      'ufw',
    );
    // An inactive ufw rules out iptables: iptables-persistent Breaks ufw, so its install would remove it.
    assert.equal(detectFirewall(probe({ tools: ['ufw', 'iptables'], ufwStatus: 'Status: inactive' })), 'nftables');
    assert.equal(
      detectFirewall(
        probe({
          tools: ['ufw', 'iptables'],
          ufwStatus: 'Status: inactive',
          iptablesRules: '-A INPUT -s 1.2.3.4/32 -j DROP',
        }),
      ),
      'nftables',
    );
    assert.equal(
      detectFirewall(
        probe({ tools: ['firewall-cmd', 'nft'], firewalldState: 'running\n', nftTables: 'table inet firewalld' }),
      ),
      'firewalld',
    );
    assert.equal(detectFirewall(probe({ tools: ['firewall-cmd', 'nft'], firewalldState: 'not running' })), 'nftables');
  });

  test('own nft tables mean nftables; iptables rules (even via iptables-nft) mean iptables', () => {
    assert.equal(detectFirewall(probe({ tools: ['nft', 'iptables'], nftTables: 'table inet filter' })), 'nftables');
    assert.equal(
      detectFirewall(
        probe({
          tools: ['nft', 'iptables'],
          nftTables: 'table ip filter',
          iptablesRules: '-P INPUT ACCEPT\n-A INPUT -s 1.2.3.4/32 -j DROP',
        }),
      ),
      'iptables',
    );
    assert.equal(
      detectFirewall(probe({ tools: ['nft', 'iptables'], nftTables: 'table inet jitsi_scale_tcp_5222' })),
      'nftables',
    );
    assert.equal(detectFirewall(probe({ tools: ['iptables'] })), 'iptables');
    assert.equal(detectFirewall(probe({ tools: [] })), 'none');
  });
});

describe('iptables rule', () => {
  const live = '-P INPUT ACCEPT\n-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT\n';

  test('our chain accepts loopback and each bridge, then drops', () => {
    assert.deepEqual(desiredChainRules(XMPP, 'v4'), [
      '-A jitsi-scale-tcp-5222 -i lo -j ACCEPT',
      '-A jitsi-scale-tcp-5222 -s 10.0.0.11/32 -j ACCEPT',
      '-A jitsi-scale-tcp-5222 -s 10.0.0.12/32 -j ACCEPT',
      '-A jitsi-scale-tcp-5222 -j DROP',
    ]);
    assert.deepEqual(desiredChainRules(XMPP, 'v6'), [
      '-A jitsi-scale-tcp-5222 -i lo -j ACCEPT',
      '-A jitsi-scale-tcp-5222 -j DROP',
    ]);
    assert.deepEqual(desiredChainRules({ proto: 'udp', port: 10000, sources: 'any' }, 'v4'), [
      '-A jitsi-scale-udp-10000 -j ACCEPT',
    ]);
  });

  test('the restore script replaces the chain and moves the jump to the top, in one commit', () => {
    assert.equal(liveIsCurrent(live, XMPP, 'v4'), false);
    const script = restoreScript(live + '-A INPUT -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222\n', XMPP, 'v4');
    assert.equal(
      script,
      '*filter\n:jitsi-scale-tcp-5222 - [0:0]\n-A jitsi-scale-tcp-5222 -i lo -j ACCEPT\n-A jitsi-scale-tcp-5222 -s 10.0.0.11/32 -j ACCEPT\n-A jitsi-scale-tcp-5222 -s 10.0.0.12/32 -j ACCEPT\n-A jitsi-scale-tcp-5222 -j DROP\n-D INPUT -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222\n-I INPUT 1 -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222\nCOMMIT\n',
    );
    const done = [
      '-P INPUT ACCEPT',
      '-N jitsi-scale-tcp-5222',
      '-A INPUT -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222',
      '-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT',
      ...desiredChainRules(XMPP, 'v4'),
    ].join('\n');
    assert.equal(liveIsCurrent(done, XMPP, 'v4'), true);
    assert.equal(
      liveIsCurrent(done.replace('10.0.0.12', '10.0.0.13'), XMPP, 'v4'),
      false,
      'a changed bridge address is noticed',
    );
  });

  test('the saved rules file gets the chain once, other rules untouched', () => {
    const saved =
      '# Generated by iptables-save\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT DROP [10:200]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n';
    const out = assertIdempotent((t) => persistRules(t, XMPP, 'v4'), saved);
    assert.equal(
      out,
      '# Generated by iptables-save\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT DROP [10:200]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:jitsi-scale-tcp-5222 - [0:0]\n-A INPUT -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222\n-A INPUT -i lo -j ACCEPT\n' +
        desiredChainRules(XMPP, 'v4').join('\n') +
        '\nCOMMIT\n',
    );
    const fresh = assertIdempotent((t) => persistRules(t, XMPP, 'v4'), '');
    assert.match(
      fresh,
      /^\*filter\n:INPUT ACCEPT \[0:0\]\n:FORWARD ACCEPT \[0:0\]\n:OUTPUT ACCEPT \[0:0\]\n:jitsi-scale-tcp-5222 - \[0:0\]\n-A INPUT -p tcp -m tcp --dport 5222 -j jitsi-scale-tcp-5222\n/,
    );
    const moved = persistRules(out, { ...XMPP, sources: ['10.0.0.11'] }, 'v4');
    assert.ok(!moved.includes('10.0.0.12'), 'a removed bridge loses its rule');
  });

  test('sources must be IP addresses', () => {
    assert.throws(
      () => sourcesByFamily({ ...XMPP, sources: ['jvb1.example.org'] }),
      /"jvb1\.example\.org" is not an IP address or CIDR range/,
    );
    assert.deepEqual(sourcesByFamily({ ...XMPP, sources: ['10.0.0.0/24', 'fd00::5'] }), {
      v4: ['10.0.0.0/24'],
      v6: ['fd00::5'],
    });
  });
});

describe('nftables rule', () => {
  test('a table of our own, replaced in one transaction, included from nftables.conf once', () => {
    const file = nftRuleFile({ proto: 'tcp', port: 5222, sources: ['10.0.0.11', 'fd00::11'] });
    assert.match(
      file,
      /^table inet jitsi_scale_tcp_5222\ndelete table inet jitsi_scale_tcp_5222\ntable inet jitsi_scale_tcp_5222 \{$/m,
    );
    assert.match(
      file,
      /\t\tiif "lo" tcp dport 5222 accept\n\t\tip saddr \{ 10\.0\.0\.11 \} tcp dport 5222 accept\n\t\tip6 saddr \{ fd00::11 \} tcp dport 5222 accept\n\t\ttcp dport 5222 drop\n/,
    );
    const conf = '#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n}\n';
    const out = assertIdempotent((t) => includeInMainConf(t, '/etc/nftables.d/jitsi-scale-tcp-5222.nft'), conf);
    assert.equal(out, conf + 'include "/etc/nftables.d/jitsi-scale-tcp-5222.nft"\n');
  });
});

describe('nftables config that denies by default', () => {
  test('a drop policy in a base chain is a default-deny firewall; comments and accept are not', () => {
    assert.equal(
      deniesByDefault(
        'table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n',
      ),
      true,
    );
    assert.equal(
      deniesByDefault(
        'table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n }\n}\n# policy drop;\n',
      ),
      false,
    );
    assert.equal(deniesByDefault(null), false);
  });
});

describe('iptables and a public XMPP opening of the user', () => {
  test('is named in a note: kept, but shadowed by our chain', () => {
    const notes = shadowedOpenings(
      [
        '-A INPUT -p tcp -m tcp --dport 5222 -j ACCEPT',
        '-A INPUT -s 10.0.0.5/32 -p tcp -m tcp --dport 5222 -j ACCEPT',
        '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
      ],
      XMPP,
    );
    assert.equal(notes.length, 1);
    assert.match(
      notes[0]!,
      /your rule "-A INPUT -p tcp -m tcp --dport 5222 -j ACCEPT" opens 5222\/tcp to everyone; it is left in place, and no longer reached/,
    );
  });
});

describe('the SSH ports to keep open before a firewall goes on', () => {
  test("are the ports sshd listens on, as the host's firewall sees them", () => {
    const ss = [
      'LISTEN 0 128 10.77.0.10:22 0.0.0.0:* users:(("sshd",pid=812,fd=3))',
      'LISTEN 0 128 [::]:2222 [::]:* users:(("sshd",pid=812,fd=4))',
      'LISTEN 0 128 0.0.0.0:5222 0.0.0.0:* users:(("lua5.4",pid=90,fd=7))',
    ].join('\n');
    assert.deepEqual(sshdPorts(ss), [22, 2222]);
    assert.deepEqual(sshdPorts(''), []);
  });
});
