import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { InventoryError } from '../../src/inventory/types.js';
import { getProperty } from '../../src/modules/properties/properties.js';
import { bridgeFiles } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import {
  LEGACY_NAT_LOCAL,
  LEGACY_NAT_PUBLIC,
  LEGACY_PORT_KEY,
  MediaConfigError,
  advertiseWarning,
  editMediaHocon,
  editMediaProperties,
  mediaPortOf,
  publicAddressProblem,
  staticMappingsOf,
  stunServersOf,
  type MediaWant,
} from '../../playbooks/jitsi-load-balancing/media-config.js';
import { mediaNotes, mediaWant, parseInterfaceAddresses } from '../../playbooks/jitsi-load-balancing/bridge-media.js';
import { parseShardInventory } from '../support/shard-inventory.js';

/** jvb.conf as the package's postinst writes it (jitsi-videobridge debian/postinst): shard, AWS off, STUN on. */
const PACKAGE_JVB = `videobridge {
    apis.xmpp-client.configs {
        shard {
            HOSTNAME=localhost
            DOMAIN="auth.meet.example.org"
            USERNAME=jvb
            PASSWORD="pw"
            MUC_JIDS="jvbbrewery@internal.auth.meet.example.org"
            MUC_NICKNAME=5b4f6a4e
        }
    }
}
ice4j {
    harvest {
        mapping {
            aws {
                enabled = false
            }
            stun {
                addresses = ["meet-jit-si-turnrelay.jitsi.net:443"]
            }
        }
    }
}
`;

const files = (jvb: string | null, props: string | null = null) => bridgeFiles('jvb1', jvb, props);
const hocon = (text: string, want: MediaWant, props: string | null = null) =>
  editMediaHocon(new HoconDoc(text), files(text, props), want);
/** Applies the edit, then again on its own output: the second pass must change nothing. */
function twice(text: string, want: MediaWant, props: string | null = null): string {
  const once = hocon(text, want, props).text;
  assert.equal(hocon(once, want, props).text, once, 'a second run changes nothing');
  return once;
}
const NAT = { local: '10.0.0.11', public: '203.0.113.11' };
const port = (text: string) => new HoconDoc(text).get(['videobridge', 'ice', 'udp', 'port']);

describe('media port in jvb.conf (current era)', () => {
  test('the default port on a package jvb.conf writes nothing', () => {
    assert.equal(hocon(PACKAGE_JVB, { port: 10000 }).text, PACKAGE_JVB);
    assert.deepEqual(mediaPortOf(files(PACKAGE_JVB)), { port: 10000, from: 'the default' });
  });

  test('another port is written as videobridge.ice.udp.port, once', () => {
    const out = twice(PACKAGE_JVB, { port: 12000 });
    assert.equal(port(out), '12000');
    assert.equal(mediaPortOf(files(out)).port, 12000);
    assert.ok(out.startsWith(PACKAGE_JVB.slice(0, 60)), 'the rest of the file is kept');
    assert.match(out, /ice \{\n\s+udp \{\n\s+port = 12000\n/);
  });

  test('a port already set under another spelling (dotted, quoted) is replaced where it is', () => {
    for (const spelled of [
      `${PACKAGE_JVB}videobridge.ice.udp.port = 11000\n`,
      `videobridge { ice { udp { "port" = 11000 } } }\n${PACKAGE_JVB}`,
      `videobridge.ice { udp.port: "11000" }\n${PACKAGE_JVB}`,
    ]) {
      const out = twice(spelled, { port: 12000 });
      assert.equal(port(out), '12000', spelled);
      assert.equal((out.match(/12000/g) ?? []).length, 1, 'one definition, edited in place');
      assert.equal(out.replace('12000', '11000'), spelled.replace('"11000"', '11000'));
      // Back to the default: the line says 10000 now, it is not removed.
      assert.equal(port(twice(spelled, { port: 10000 })), '10000');
    }
  });

  test('a port read from the environment is replaced, and the plan says so', () => {
    const env = `${PACKAGE_JVB}videobridge.ice.udp.port = \${?JVB_PORT}\n`;
    const r = hocon(env, { port: 12000 });
    assert.equal(port(r.text), '12000');
    assert.match(r.notes.join('\n'), /read at start \(\$\{\?JVB_PORT\}\); it becomes 12000/);
  });

  test('a legacy port line left in sip-communicator.properties wins: named, and brought in line', () => {
    const props = `${LEGACY_PORT_KEY}=11000\n`;
    const r = hocon(PACKAGE_JVB, { port: 12000 }, props);
    assert.match(r.notes.join('\n'), /SINGLE_PORT_HARVESTER_PORT=11000, which wins over jvb\.conf/);
    const p = editMediaProperties(props, files(PACKAGE_JVB, props), { port: 12000 }, 'current');
    assert.equal(getProperty(p, LEGACY_PORT_KEY), '12000');
    assert.equal(mediaPortOf(files(PACKAGE_JVB, props)).port, 11000, 'the legacy line is what the bridge reads');
    // Without such a line, a current-era bridge's properties are not touched.
    assert.equal(editMediaProperties('a=b\n', files(PACKAGE_JVB, 'a=b\n'), { port: 12000 }, 'current'), 'a=b\n');
  });
});

describe('static NAT mapping in jvb.conf (current era)', () => {
  test('added in the package file, STUN kept, and a second run changes nothing', () => {
    const out = twice(PACKAGE_JVB, { port: 10000, mapping: NAT });
    assert.deepEqual(
      staticMappingsOf(files(out)).map((m) => [m.local, m.public, m.name]),
      [['10.0.0.11', '203.0.113.11', 'jitsi-scale']],
    );
    assert.deepEqual(stunServersOf(files(out)), ['meet-jit-si-turnrelay.jitsi.net:443']);
    assert.match(
      out,
      /stun \{\n\s+addresses = \["meet-jit-si-turnrelay\.jitsi\.net:443"\]\n\s+\}\n\s+static-mappings = \[/,
    );
  });

  test('a new public address replaces our mapping, never adds a second one', () => {
    const first = twice(PACKAGE_JVB, { port: 10000, mapping: NAT });
    const moved = twice(first, { port: 10000, mapping: { ...NAT, public: '203.0.113.99' } });
    assert.deepEqual(
      staticMappingsOf(files(moved)).map((m) => m.public),
      ['203.0.113.99'],
    );
  });

  test("the user's own static-mappings list is kept, ours appended; theirs of the same addresses is enough", () => {
    const user = `${PACKAGE_JVB}ice4j.harvest.mapping.static-mappings = [
  { local-address = "10.0.0.12", public-address = "198.51.100.12", local-port = 10000, public-port = 20000, name = "theirs" }
]
`;
    const out = twice(user, { port: 10000, mapping: NAT });
    assert.deepEqual(
      staticMappingsOf(files(out)).map((m) => [m.local, m.public, m.name, m.ports]),
      [
        ['10.0.0.12', '198.51.100.12', 'theirs', '10000→20000'],
        ['10.0.0.11', '203.0.113.11', 'jitsi-scale', undefined],
      ],
    );
    const same = `${PACKAGE_JVB}ice4j.harvest.mapping.static-mappings = [{ local-address = "10.0.0.11", public-address = "203.0.113.11" }]\n`;
    const r = hocon(same, { port: 10000, mapping: NAT });
    assert.equal(r.text, same);
    assert.match(r.notes.join('\n'), /your own static mapping already maps 10\.0\.0\.11 to 203\.0\.113\.11/);
    const other = `${PACKAGE_JVB}ice4j.harvest.mapping.static-mappings = [{ local-address = "10.0.0.11", public-address = "192.0.2.1" }]\n`;
    assert.match(
      hocon(other, { port: 10000, mapping: NAT }).notes.join('\n'),
      /also maps 10\.0\.0\.11 to 192\.0\.2\.1: kept/,
    );
  });

  test('a list built with += is written back whole, as the bridge resolves it', () => {
    const plus = `${PACKAGE_JVB}ice4j.harvest.mapping.static-mappings += { local-address = "10.0.0.12", public-address = "198.51.100.12" }\n`;
    const out = twice(plus, { port: 10000, mapping: NAT });
    assert.deepEqual(
      staticMappingsOf(files(out)).map((m) => m.local),
      ['10.0.0.12', '10.0.0.11'],
    );
  });

  test('a static-mappings that is not a list of mappings is refused, naming the file and the key', () => {
    const odd = `${PACKAGE_JVB}ice4j.harvest.mapping.static-mappings = "10.0.0.11:203.0.113.11"\n`;
    assert.throws(
      () => hocon(odd, { port: 10000, mapping: NAT }),
      (e: unknown) =>
        e instanceof MediaConfigError &&
        /^jvb\.conf: ice4j\.harvest\.mapping\.static-mappings \(line 25\)/.test(e.message),
    );
  });

  test('a file with no ice4j block gets one', () => {
    const bare = 'videobridge {\n    websockets.enabled = false\n}\n';
    const out = twice(bare, { port: 12000, mapping: NAT });
    assert.equal(port(out), '12000');
    assert.equal(staticMappingsOf(files(out))[0]?.public, '203.0.113.11');
  });
});

describe('media settings in sip-communicator.properties (legacy era)', () => {
  const LEGACY =
    'org.ice4j.ice.harvest.DISABLE_AWS_HARVESTER=true\norg.jitsi.videobridge.xmpp.user.shard.HOSTNAME=localhost\n';
  const edit = (text: string, want: MediaWant) =>
    editMediaProperties(text, files('videobridge {}\n', text), want, 'legacy');

  test('the default port and no mapping write nothing', () => {
    assert.equal(edit(LEGACY, { port: 10000 }), LEGACY);
  });

  test('port and NAT pair set once; a second run changes nothing', () => {
    const out = edit(LEGACY, { port: 12000, mapping: NAT });
    assert.equal(getProperty(out, LEGACY_PORT_KEY), '12000');
    assert.equal(getProperty(out, LEGACY_NAT_LOCAL), '10.0.0.11');
    assert.equal(getProperty(out, LEGACY_NAT_PUBLIC), '203.0.113.11');
    assert.equal(edit(out, { port: 12000, mapping: NAT }), out);
    assert.deepEqual(
      staticMappingsOf(files(null, out)).map((m) => [m.local, m.public, m.from]),
      [['10.0.0.11', '203.0.113.11', 'sip-communicator.properties']],
    );
  });

  test('a port line spelled with a colon is edited in place, its separator kept', () => {
    const colon = `${LEGACY}${LEGACY_PORT_KEY} : 11000\n`;
    const out = edit(colon, { port: 12000 });
    assert.equal(out, colon.replace('11000', '12000'));
    assert.equal(edit(colon, { port: 11000 }), colon);
  });

  test("jvb.conf's port does not count for a legacy bridge when the line is there, and counts when it is not", () => {
    const conf = 'videobridge.ice.udp.port = 11000\n';
    const f = files(conf, LEGACY);
    assert.equal(mediaPortOf(f).port, 11000);
    // The bridge would use 11000 from jvb.conf: 10000 must then be written where it wins.
    assert.equal(getProperty(editMediaProperties(LEGACY, f, { port: 10000 }, 'legacy'), LEGACY_PORT_KEY), '10000');
  });
});

describe('jitsi_public_address', () => {
  test('refused by name unless it is a public IP address', () => {
    assert.match(publicAddressProblem('bridge.example.org')!, /must be an IP address/);
    assert.match(publicAddressProblem('10.1.2.3')!, /10\.1\.2\.3 is a loopback, link-local or private address/);
    assert.match(publicAddressProblem('127.0.0.1')!, /private/);
    assert.equal(publicAddressProblem('203.0.113.11'), null);
    assert.equal(publicAddressProblem('2001:db8::1'), null);
    // Addresses no client reaches, and a private address in IPv6 dress (Java reads ::ffff:10.0.0.1 as 10.0.0.1).
    for (const bad of ['0.0.0.0', '::', '224.0.0.1', '255.255.255.255', 'ff02::1'])
      assert.match(publicAddressProblem(bad) ?? 'accepted', /unspecified, multicast or broadcast/, bad);
    assert.match(
      publicAddressProblem('::ffff:10.0.0.1')!,
      /an IPv4 address written as IPv6; give it as IPv4 \(10\.0\.0\.1\)/,
    );
  });

  const inv = (vars: string, meetVars = '') => `
all:
  children:
    meet:
      hosts: { m: { ansible_host: 192.0.2.1${meetVars} } }
    jvb:
      hosts: { j: { ansible_host: 10.0.0.11${vars} } }
`;
  const problems = (text: string) => {
    try {
      parseShardInventory(text, 'inv.yaml', { defaultUser: 'me' });
      return [];
    } catch (e) {
      assert.ok(e instanceof InventoryError, String(e));
      return e.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    }
  };

  test('the inventory refuses a bad value with file, line and host; the meet host has no such setting', () => {
    assert.deepEqual(problems(inv(', jitsi_public_address: 10.9.9.9')), [
      'inv.yaml:7: j: jitsi_public_address 10.9.9.9 is a loopback, link-local or private address; give the public address in front of the bridge',
    ]);
    assert.match(
      problems(inv('', ', jitsi_public_address: 203.0.113.1'))[0]!,
      /m: jitsi_public_address is a bridge's setting/,
    );
    assert.deepEqual(problems(inv(', jitsi_public_address: 203.0.113.11')), []);
  });

  test('the mapping goes from the bridge’s own address, which must be on its interfaces', () => {
    const spec = parseShardInventory(inv(', jitsi_public_address: 203.0.113.11'), 'inv.yaml', { defaultUser: 'me' })
      .hosts[1]!;
    assert.deepEqual(mediaWant(spec, undefined, ['127.0.0.1', '10.0.0.11']), { port: 10000, mapping: NAT });
    assert.throws(
      () => mediaWant(spec, undefined, ['10.0.0.99']),
      /10\.0\.0\.11 \(private_address, else ansible_host\) is not on its interfaces \(10\.0\.0\.99\)/,
    );
    // An IPv6 private address is one address however it is spelled; a mapping never crosses families.
    const v6 = parseShardInventory(
      inv(', private_address: "fd00:0:0::11", jitsi_public_address: "2001:db8::11"'),
      'inv.yaml',
      { defaultUser: 'me' },
    ).hosts[1]!;
    assert.deepEqual(mediaWant(v6, undefined, ['fd00::11']).mapping, { local: 'fd00:0:0::11', public: '2001:db8::11' });
    const across = parseShardInventory(inv(', jitsi_public_address: "2001:db8::11"'), 'inv.yaml', {
      defaultUser: 'me',
    }).hosts[1]!;
    assert.throws(() => mediaWant(across, undefined, ['10.0.0.11']), /are of different IP families/);
    assert.deepEqual(parseInterfaceAddresses('127.0.0.1/8\n10.0.0.11/24\nfe80::1/64\n\nnot-an-address\n'), [
      '127.0.0.1',
      '10.0.0.11',
      'fe80::1',
    ]);
  });
});

describe('what the plan says about media', () => {
  test('behind NAT without jitsi_public_address: what it will advertise, and the fix', () => {
    const stun = advertiseWarning('jvb1', ['127.0.0.1', '10.0.0.11', 'fe80::1'], files(PACKAGE_JVB));
    assert.match(
      stun!,
      /jvb1 has only private addresses \(10\.0\.0\.11\): it will advertise the public address STUN \(meet-jit-si-turnrelay\.jitsi\.net:443\) discovers/,
    );
    assert.match(stun!, /set jitsi_public_address/);
    const none = advertiseWarning('jvb1', ['10.0.0.11'], files('videobridge {}\n'));
    assert.match(none!, /no STUN or static mapping: it will advertise 10\.0\.0\.11 only.*Set jitsi_public_address/);
    assert.equal(advertiseWarning('jvb1', ['10.0.0.11', '203.0.113.11'], files(PACKAGE_JVB)), null);
    assert.equal(advertiseWarning('jvb1', [], files(PACKAGE_JVB)), null, 'addresses unknown: nothing guessed');
    const mapped = twice(PACKAGE_JVB, { port: 10000, mapping: NAT });
    assert.equal(advertiseWarning('jvb1', ['10.0.0.11'], files(mapped)), null);
  });

  test('the mapping and a changed port are shown; the default port on a default bridge is not', () => {
    assert.deepEqual(mediaNotes('jvb1', files(PACKAGE_JVB), { port: 10000 }, ['203.0.113.11']), []);
    const notes = mediaNotes('jvb1', files(PACKAGE_JVB), { port: 12000, mapping: NAT }, ['10.0.0.11']).join('\n');
    assert.match(notes, /media port: UDP 12000 \(now 10000, from the default\)/);
    assert.match(
      notes,
      /NAT: the bridge advertises 203\.0\.113\.11 for its address 10\.0\.0\.11 .*STUN mapping \(meet-jit-si-turnrelay\.jitsi\.net:443\) is kept/,
    );
  });
});
