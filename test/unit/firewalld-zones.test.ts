import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCEPT_PRIORITY,
  DROP_PRIORITY,
  parseRichRule,
  parseServicePorts,
  parseZones,
  planFirewalldCommands,
  portFieldHas,
  richAccept,
  richDrop,
  zonesInScope,
  type FirewalldState,
} from '../../src/modules/firewall/firewalld.js';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';

/*
 * firewalld puts a packet in its source's zone, else its interface's, else the default zone: every
 * such zone is attacked with a form that admits 5222 (the exact port, a range, xmpp-client, a
 * service of the user's that lists the port, a service that includes another), and must end with
 * our rich rules at the lowest priorities, the exact openings removed after ours are in, and the
 * wider ones kept and named.
 */

const XMPP: PortRule = { proto: 'tcp', port: 5222, sources: ['10.77.0.11', 'fd77:7::b'] };

const ZONES = `block
  target: %%REJECT%%
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: 
  ports: 
  protocols: 
  forward: yes
  masquerade: no
  forward-ports: 
  source-ports: 
  icmp-blocks: 
  rich rules: 

internal
  target: default
  icmp-block-inversion: no
  interfaces: 
  sources: 192.0.2.0/24
  services: jabber-mine
  ports: 
  rich rules: 

public (default)
  target: default
  icmp-block-inversion: no
  interfaces: 
  sources: 
  services: dhcpv6-client http https ssh xmpp-client
  ports: 5222/tcp 5000-6000/tcp 3478/udp
  protocols: 
  rich rules: 
	rule family="ipv4" source address="10.77.0.99" port port="5222" protocol="tcp" accept
	rule family="ipv4" source address="203.0.113.5" service name="ssh" accept

trusted
  target: ACCEPT
  icmp-block-inversion: no
  interfaces: eth1
  sources: 
  services: 
  ports: 
  rich rules: 
`;

const SERVICES = [
  '/usr/lib/firewalld/services/xmpp-client.xml:  <port protocol="tcp" port="5222"/>',
  '/usr/lib/firewalld/services/http.xml:  <port protocol="tcp" port="80"/>',
  '/usr/lib/firewalld/services/https.xml:  <port protocol="tcp" port="443"/>',
  '/usr/lib/firewalld/services/ssh.xml:  <port protocol="tcp" port="22"/>',
  '/etc/firewalld/services/jabber-mine.xml:  <include service="jabber-base"/>',
  '/etc/firewalld/services/jabber-base.xml:  <port port="5222" protocol="tcp"/>',
  '/etc/firewalld/services/jabber-base.xml:  <port port="5269" protocol="tcp"/>',
  // the user's copy of http wins over the package's
  '/etc/firewalld/services/http.xml:  <port protocol="tcp" port="8080"/>',
];

function state(over: Partial<FirewalldState> = {}): FirewalldState {
  return {
    defaultZone: 'public',
    activeZones: ['internal', 'trusted'],
    zones: parseZones(ZONES.split('\n')),
    servicePorts: parseServicePorts(SERVICES),
    ...over,
  };
}

describe('firewalld zones as firewalld lists them', () => {
  test('zones, their sources, interfaces, services, ports and rich rules', () => {
    const z = parseZones(ZONES.split('\n'));
    assert.deepEqual(
      z.map((x) => [x.name, x.interfaces, x.sources, x.ports.length, x.richRules.length]),
      [
        ['block', [], [], 0, 0],
        ['internal', [], ['192.0.2.0/24'], 0, 0],
        ['public', [], [], 3, 2],
        ['trusted', ['eth1'], [], 0, 0],
      ],
    );
  });

  test("services' ports, with includes followed and the user's files first", () => {
    const p = parseServicePorts(SERVICES);
    assert.deepEqual(p.get('jabber-mine'), ['5222/tcp', '5269/tcp']);
    assert.deepEqual(p.get('http'), ['8080/tcp']);
  });

  test('port fields: one port, a range, another protocol', () => {
    assert.equal(portFieldHas('5222/tcp', XMPP), true);
    assert.equal(portFieldHas('5000-6000/tcp', XMPP), true);
    assert.equal(portFieldHas('5000-6000/udp', XMPP), false);
    assert.equal(portFieldHas('5223-6000/tcp', XMPP), false);
  });

  test('rich rules read back in any attribute order, the action outside quotes', () => {
    assert.deepEqual(parseRichRule('rule priority="-32767" port protocol="tcp" port="5222" drop'), {
      priority: DROP_PRIORITY,
      family: '',
      source: '',
      port: '5222',
      protocol: 'tcp',
      action: 'drop',
    });
    assert.equal(
      parseRichRule('rule family="ipv4" source address="10.0.0.1" service name="accept" drop').action,
      'drop',
    );
  });

  test('the zones a packet can land in: sources, interfaces, active ones and the default; not an empty one', () => {
    assert.deepEqual(
      zonesInScope(state()).map((z) => z.name),
      ['internal', 'public', 'trusted'],
    );
  });
});

describe('firewalld: our rules in every zone, before everything', () => {
  const plan = planFirewalldCommands(state(), XMPP);
  const forZone = (z: string) => plan.commands.filter((c) => c[2] === `--zone=${z}`).map((c) => c[3]!);

  test('each zone in scope gets the bridges, then the drop, at the lowest priorities; the empty zone nothing', () => {
    for (const z of ['internal', 'public', 'trusted'])
      assert.deepEqual(
        forZone(z).filter((a) => a.startsWith('--add-rich-rule=')),
        [
          `--add-rich-rule=${richAccept('10.77.0.11', XMPP)}`,
          `--add-rich-rule=${richAccept('fd77:7::b', XMPP)}`,
          `--add-rich-rule=${richDrop(XMPP)}`,
        ],
        z,
      );
    assert.deepEqual(forZone('block'), []);
    assert.ok(ACCEPT_PRIORITY < DROP_PRIORITY, 'an accept must sort before the drop');
    assert.match(richAccept('fd77:7::b', XMPP), /family="ipv6"/);
    assert.doesNotMatch(richDrop(XMPP), /family/, 'the drop covers both families');
  });

  test('the exact openings (5222/tcp, xmpp-client) go, after every add; wider ones stay and are named', () => {
    const firstRemove = plan.commands.findIndex((c) => c[3]!.startsWith('--remove-'));
    const lastAdd = plan.commands.map((c) => c[3]!.startsWith('--add-')).lastIndexOf(true);
    assert.ok(lastAdd < firstRemove);
    assert.deepEqual(
      forZone('public').filter((a) => a.startsWith('--remove-')),
      [
        '--remove-rich-rule=rule family="ipv4" source address="10.77.0.99" port port="5222" protocol="tcp" accept',
        '--remove-port=5222/tcp',
        '--remove-service=xmpp-client',
      ],
    );
    assert.deepEqual(plan.shadowed, ['zone internal: service jabber-mine', 'zone public: port 5000-6000/tcp']);
  });

  test('a second plan over the result changes nothing', () => {
    const after = state();
    for (const z of after.zones) {
      for (const c of plan.commands.filter((x) => x[2] === `--zone=${z.name}`)) {
        const [verb, value] = c[3]!.replace(/^--/, '').split(/=(.*)/s) as [string, string];
        if (verb === 'add-rich-rule') z.richRules.push(value);
        if (verb === 'remove-rich-rule') z.richRules = z.richRules.filter((r) => r !== value);
        if (verb === 'remove-port') z.ports = z.ports.filter((p) => p !== value);
        if (verb === 'remove-service') z.services = z.services.filter((s) => s !== value);
      }
    }
    assert.deepEqual(planFirewalldCommands(after, XMPP).commands, []);
  });

  test("a user's rich rule at our priority that accepts the port is named as ahead of ours", () => {
    const s = state();
    s.zones
      .find((z) => z.name === 'public')!
      .richRules.push(`rule priority="${ACCEPT_PRIORITY}" port port="5222" protocol="tcp" accept`);
    // it is ours by its priority, so it is taken out like any rule of ours that is not wanted
    assert.ok(
      planFirewalldCommands(s, XMPP).commands.some((c) =>
        c[3]!.startsWith('--remove-rich-rule=rule priority="-32768" port'),
      ),
    );
  });

  test('media on a bridge: a zone that already opens it (a range) needs nothing; others get the port', () => {
    const media: PortRule = { proto: 'udp', port: 10000, sources: 'any' };
    const s = state();
    s.zones.find((z) => z.name === 'trusted')!.ports.push('10000-20000/udp');
    assert.deepEqual(planFirewalldCommands(s, media).commands, [
      ['firewall-cmd', '--permanent', '--zone=internal', '--add-port=10000/udp'],
      ['firewall-cmd', '--permanent', '--zone=public', '--add-port=10000/udp'],
    ]);
  });
});

describe('review: rich rules of the user at our priority', () => {
  const forms: Record<string, string> = {
    'a port range': `rule priority="${ACCEPT_PRIORITY}" family="ipv4" port port="5000-6000" protocol="tcp" accept`,
    'a service that lists the port': `rule priority="${ACCEPT_PRIORITY}" service name="xmpp-client" accept`,
    'every port from a network': `rule priority="${ACCEPT_PRIORITY}" family="ipv4" source address="0.0.0.0/0" accept`,
  };
  for (const [name, rule] of Object.entries(forms))
    test(`review: one that accepts 5222 by ${name}, sorted before our drop, is named as ahead of ours (it was not)`, () => {
      const s = state();
      s.zones.find((z) => z.name === 'public')!.richRules.push(rule);
      const { ahead } = planFirewalldCommands(s, XMPP);
      assert.deepEqual(ahead, [`zone public: ${rule}`]);
    });
});
