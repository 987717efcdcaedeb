import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectFirewall, type FirewallProbe } from '../../src/modules/firewall/detect-firewall.js';
import { planFirewalldCommands, publicOpening, richRule } from '../../src/modules/firewall/firewalld.js';
import {
  desiredChainRules,
  liveIsCurrent,
  persistRules,
  restoreScript,
  shadowedOpenings,
} from '../../src/modules/firewall/iptables.js';
import { deniesByDefault, includeInMainConf, nftRuleFile } from '../../src/modules/firewall/nftables.js';
import { sourcesByFamily, type PortRule } from '../../src/modules/firewall/port-rule.js';
import { describeUfwCommand, parseUfwRules, planUfwCommands, sshdPorts } from '../../src/modules/firewall/ufw.js';
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

describe('ufw rule', () => {
  const userRules = [
    '*filter',
    '### RULES ###',
    '',
    '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in',
    '-A ufw-user-input -p tcp --dport 22 -j ACCEPT',
    '',
    '### tuple ### allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in',
    '-A ufw-user-input -p tcp --dport 5222 -j ACCEPT',
    '',
    `### tuple ### allow tcp 5222 0.0.0.0/0 any 10.0.0.11 in comment=${Buffer.from('jitsi-scale-tcp-5222').toString('hex')}`,
    '-A ufw-user-input -p tcp --dport 5222 -s 10.0.0.11 -j ACCEPT',
    '',
    `### tuple ### allow tcp 5222 0.0.0.0/0 any 10.0.0.99 in comment=${Buffer.from('jitsi-scale-tcp-5222').toString('hex')}`,
    '### END RULES ###',
  ].join('\n');

  test('parses tuples with their comments', () => {
    const t = parseUfwRules(userRules, false);
    assert.equal(t.length, 4);
    assert.deepEqual(t[2], {
      action: 'allow',
      proto: 'tcp',
      dport: '5222',
      dst: '0.0.0.0/0',
      sport: 'any',
      src: '10.0.0.11',
      direction: 'in',
      comment: 'jitsi-scale-tcp-5222',
      v6: false,
    });
  });

  test('removes the public opening and stale bridges, adds missing bridges before a deny', () => {
    assert.deepEqual(planUfwCommands(parseUfwRules(userRules, false), XMPP), [
      ['ufw', 'delete', 'allow', '5222/tcp'],
      ['ufw', 'delete', 'allow', 'from', '10.0.0.99', 'to', 'any', 'port', '5222', 'proto', 'tcp'],
      [
        'ufw',
        'insert',
        '1',
        'allow',
        'from',
        '10.0.0.12',
        'to',
        'any',
        'port',
        '5222',
        'proto',
        'tcp',
        'comment',
        'jitsi-scale-tcp-5222',
      ],
      ['ufw', 'deny', 'to', 'any', 'port', '5222', 'proto', 'tcp', 'comment', 'jitsi-scale-tcp-5222'],
    ]);
  });

  test('nothing to do when the rules are in place', () => {
    const tag = Buffer.from('jitsi-scale-tcp-5222').toString('hex');
    const done = [
      `### tuple ### allow tcp 5222 0.0.0.0/0 any 10.0.0.12 in comment=${tag}`,
      `### tuple ### allow tcp 5222 0.0.0.0/0 any 10.0.0.11 in comment=${tag}`,
      `### tuple ### deny tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in comment=${tag}`,
    ].join('\n');
    assert.deepEqual(planUfwCommands(parseUfwRules(done, false), XMPP), []);
  });

  test('on an empty rule set the first allow is appended (ufw cannot insert at 1 yet)', () => {
    assert.deepEqual(planUfwCommands([], { proto: 'udp', port: 10000, sources: 'any' }), [
      ['ufw', 'allow', 'to', 'any', 'port', '10000', 'proto', 'udp', 'comment', 'jitsi-scale-udp-10000'],
    ]);
  });
});

describe('firewalld rule', () => {
  test('rich rules per bridge; the public port and xmpp-client service are removed', () => {
    const cmds = planFirewalldCommands(
      {
        richRules: [
          richRule('10.0.0.11', XMPP),
          'rule family="ipv4" source address="10.0.0.99" port port="5222" protocol="tcp" accept',
        ],
        ports: ['5222/tcp', '443/tcp'],
        services: ['ssh', 'xmpp-client'],
      },
      XMPP,
    );
    assert.deepEqual(cmds, [
      ['firewall-cmd', '--permanent', '--remove-port=5222/tcp'],
      ['firewall-cmd', '--permanent', '--remove-service=xmpp-client'],
      [
        'firewall-cmd',
        '--permanent',
        '--remove-rich-rule=rule family="ipv4" source address="10.0.0.99" port port="5222" protocol="tcp" accept',
      ],
      [
        'firewall-cmd',
        '--permanent',
        '--add-rich-rule=rule family="ipv4" source address="10.0.0.12" port port="5222" protocol="tcp" accept',
      ],
    ]);
    assert.deepEqual(
      planFirewalldCommands(
        { richRules: [richRule('10.0.0.11', XMPP), richRule('10.0.0.12', XMPP)], ports: [], services: [] },
        XMPP,
      ),
      [],
    );
    assert.deepEqual(
      planFirewalldCommands({ richRules: [], ports: [], services: [] }, { proto: 'udp', port: 10000, sources: 'any' }),
      [['firewall-cmd', '--permanent', '--add-port=10000/udp']],
    );
  });
});

describe('ufw and the user rules it already has', () => {
  test('a port a guide opened to everyone needs no rule of ours, and theirs is left alone', () => {
    const tuples = parseUfwRules('### tuple ### allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in\n', false);
    assert.deepEqual(planUfwCommands(tuples, { proto: 'udp', port: 10000, sources: 'any' }), []);
  });

  test('a public 5222 is removed and the plan says why', () => {
    const tuples = parseUfwRules('### tuple ### allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in\n', false);
    const cmds = planUfwCommands(tuples, XMPP);
    assert.deepEqual(cmds[0], ['ufw', 'delete', 'allow', '5222/tcp']);
    assert.match(describeUfwCommand(cmds[0], XMPP), /remove the public opening of 5222\/tcp/);
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

describe('firewalld and a public XMPP opening', () => {
  test('the xmpp-client service and an open 5222/tcp are removed, and the plan says so', () => {
    const cmds = planFirewalldCommands({ richRules: [], ports: ['5222/tcp'], services: ['ssh', 'xmpp-client'] }, XMPP);
    assert.deepEqual(cmds.slice(0, 2), [
      ['firewall-cmd', '--permanent', '--remove-port=5222/tcp'],
      ['firewall-cmd', '--permanent', '--remove-service=xmpp-client'],
    ]);
    assert.equal(
      publicOpening(cmds, XMPP),
      '; removes the public opening of 5222/tcp (5222/tcp, xmpp-client): it must stay private',
    );
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
