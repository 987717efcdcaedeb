import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBaseFacts } from '../../src/engine/base-facts.js';
import { aptStanzas, exactDependency, pairedBridgeVersion } from '../../playbooks/jitsi-load-balancing/packages.js';
import { pinNote } from '../../playbooks/jitsi-load-balancing/steps/install-bridge.js';
import {
  chooseMeetAddress,
  isLoopback,
  parseRoutes,
  remoteBridges,
  routeSource,
} from '../../playbooks/jitsi-load-balancing/meet-address.js';
import type { HostSpec } from '../../src/inventory/types.js';

/** `apt-cache show jitsi-meet` as the metapackage is built (jitsi-meet-debian-meta's control-tmpl): two releases. */
const CATALOGUE = `Package: jitsi-meet
Version: 2.0.10431-1
Architecture: all
Pre-Depends: jitsi-videobridge2 (= 2.3-250-g1c2b1d0d-1)
Depends: jicofo (= 1.0-1150-1), jitsi-meet-web (= 1.0.8792-1), jitsi-meet-web-config (= 1.0.8792-1),
 jitsi-meet-prosody (= 1.0.8792-1)
Recommends: jitsi-meet-turnserver (= 1.0.8792-1)
Description: WebRTC JavaScript video conferences

Package: jitsi-meet
Version: 2.0.10314-1
Architecture: all
Pre-Depends: jitsi-videobridge2 (= 2.3-219-gaf5e2fa1-1)
Depends: jicofo (= 1.0-1123-1), jitsi-meet-web (= 1.0.8643-1), jitsi-meet-web-config (= 1.0.8643-1), jitsi-meet-prosody (= 1.0.8643-1)
Description: WebRTC JavaScript video conferences
`;

describe("the bridge version the meet host's Jitsi release pairs with", () => {
  test('an exact dependency is read from a relation list, alternatives and arch qualifiers included', () => {
    const rel = 'jicofo (= 1.0-1150-1), jitsi-videobridge2:all (= 2.3-250-1) | foo, jitsi-meet-web (>= 1.0)';
    assert.equal(exactDependency(rel, 'jitsi-videobridge2'), '2.3-250-1');
    assert.equal(exactDependency(rel, 'jicofo'), '1.0-1150-1');
    assert.equal(exactDependency(rel, 'jitsi-meet-web'), undefined, 'a >= is no pin');
    assert.equal(exactDependency(rel, 'jitsi-meet'), undefined, 'a prefix of another name is not that name');
    assert.equal(exactDependency(undefined, 'jicofo'), undefined);
  });

  test('apt-cache stanzas keep their continuation lines', () => {
    const [first, second] = aptStanzas(CATALOGUE);
    assert.equal(first?.version, '2.0.10431-1');
    assert.equal(exactDependency(first?.relations, 'jitsi-meet-prosody'), '1.0.8792-1');
    assert.equal(exactDependency(second?.relations, 'jitsi-videobridge2'), '2.3-219-gaf5e2fa1-1');
  });

  test("the meet host's own bridge first, then its jitsi-meet's dependency, then its Jicofo's release, else none", () => {
    const own = pairedBridgeVersion({ packages: { 'jitsi-videobridge2': '2.3-1-1', jicofo: '1.0-1123-1' } }, CATALOGUE);
    assert.deepEqual([own.version, own.source], ['2.3-1-1', 'own-bridge']);

    const meta = pairedBridgeVersion(
      {
        packages: { 'jitsi-meet': '2.0.10431-1', jicofo: '1.0-1123-1' },
        depends: { 'jitsi-meet': 'jitsi-videobridge2 (= 2.3-250-g1c2b1d0d-1), jicofo (= 1.0-1150-1)' },
      },
      CATALOGUE,
    );
    assert.deepEqual([meta.version, meta.source], ['2.3-250-g1c2b1d0d-1', 'jitsi-meet']);
    assert.match(meta.why, /jitsi-meet 2\.0\.10431-1 depends on it/);

    // The handbook's layout: no bridge, no metapackage (removing the bridge removes it), Jicofo of an older release.
    const jicofo = pairedBridgeVersion({ packages: { jicofo: '1.0-1123-1' } }, CATALOGUE);
    assert.deepEqual([jicofo.version, jicofo.source], ['2.3-219-gaf5e2fa1-1', 'jicofo']);
    assert.match(jicofo.why, /Jicofo 1\.0-1123-1 .* jitsi-meet 2\.0\.10314-1/);

    const unknown = pairedBridgeVersion({ packages: { jicofo: '1.0-9-1' } }, CATALOGUE);
    assert.deepEqual([unknown.version, unknown.source], [undefined, 'none']);
    assert.match(unknown.why, /names its Jicofo 1\.0-9-1/);
    assert.equal(pairedBridgeVersion({ packages: {} }, null).source, 'none');
  });

  test('the plan says where the pin came from, or that there is none and how to set one', () => {
    assert.equal(
      pinNote('2.3-1-1', "the meet host's own bridge"),
      "version 2.3-1-1, pinned by the meet host's own bridge",
    );
    assert.match(
      pinNote(undefined, 'no release'),
      /newest version .* no pin \(no release\); set jitsi_videobridge_version/,
    );
  });

  test("dpkg's Pre-Depends and Depends are read with the versions, for installed packages only", () => {
    const out = [
      '@@packages',
      'jitsi-meet ii  2.0.10431-1\tjitsi-videobridge2 (= 2.3-250-1)\tjicofo (= 1.0-1150-1), jitsi-meet-web (= 1.0.8792-1)',
      'prosody ii  0.12.4-1\t\tlua5.4, adduser',
      'jicofo rc  1.0-1150-1\t\tjitsi-meet-prosody',
      'ufw ii  0.36.2-1\t\t',
      '@@end',
    ].join('\n');
    const f = parseBaseFacts(out);
    assert.deepEqual(f.packages, { 'jitsi-meet': '2.0.10431-1', prosody: '0.12.4-1', ufw: '0.36.2-1' });
    assert.equal(exactDependency(f.depends?.['jitsi-meet'], 'jitsi-videobridge2'), '2.3-250-1');
    assert.equal(exactDependency(f.depends?.['jitsi-meet'], 'jicofo'), '1.0-1150-1');
    assert.equal(f.depends?.prosody, 'lua5.4, adduser');
    assert.equal(f.depends?.ufw, undefined);
  });
});

const spec = (name: string, address: string): HostSpec => ({ name, address }) as unknown as HostSpec;

describe('the address the bridges reach the meet host on, with the tool run on the meet host', () => {
  test('loopback, in all its spellings', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      assert.ok(isLoopback(a), a);
    for (const a of ['10.77.0.10', '128.0.0.1', 'fd77:7::a', '::', 'meet.example.org']) assert.ok(!isLoopback(a), a);
  });

  test("the route's source address is read from ip -o route get", () => {
    assert.equal(routeSource('10.77.0.11 dev veth0 src 10.77.0.10 uid 0 \\    cache '), '10.77.0.10');
    assert.equal(
      routeSource('fd77:7::b from :: dev veth0 proto kernel src fd77:7::a metric 256 pref medium'),
      'fd77:7::a',
    );
    assert.equal(routeSource(''), undefined);
    const routes = parseRoutes('10.77.0.11 10.77.0.11 dev veth0 src 10.77.0.10 uid 0\n10.9.9.9 \n');
    assert.equal(routes.get('10.77.0.11'), '10.77.0.10');
    assert.ok(routes.has('10.9.9.9'));
    assert.equal(routes.get('10.9.9.9'), undefined);
  });

  test('only bridges reached on an address of their own are remote', () => {
    const bridges = [spec('jvb1', '10.0.0.11'), spec('local-jvb', '127.0.0.1')];
    assert.deepEqual(
      remoteBridges(bridges, (b) => b.address).map((b) => b.name),
      ['jvb1'],
    );
  });

  const remote = [
    { name: 'jvb1', address: '10.0.0.11' },
    { name: 'jvb2', address: '10.0.0.12' },
  ];

  test('an address that is not loopback is kept as it is; loopback is kept when every bridge shares it', () => {
    assert.deepEqual(chooseMeetAddress('meet', undefined, '10.0.0.1', remote, null), { address: '10.0.0.1' });
    assert.deepEqual(chooseMeetAddress('meet', undefined, '127.0.0.1', [], null), { address: '127.0.0.1' });
  });

  test("ansible_connection local: the source of the meet host's route towards its bridges", () => {
    const routes = new Map([
      ['10.0.0.11', '10.0.0.1'],
      ['10.0.0.12', '10.0.0.1'],
    ]);
    const chosen = chooseMeetAddress('meet', undefined, '127.0.0.1', remote, routes);
    assert.ok('address' in chosen);
    assert.equal(chosen.address, '10.0.0.1');
    assert.match(chosen.derived!, /route towards its bridges/);
  });

  test('refused, naming private_address: no route, a loopback route, two sources, a bridge by name, a loopback private_address', () => {
    const refusal = (r: ReturnType<typeof chooseMeetAddress>) => ('refuse' in r ? r.refuse : `chose ${r.address}`);
    assert.match(
      refusal(chooseMeetAddress('meet', undefined, '127.0.0.1', remote, new Map([['10.0.0.11', '10.0.0.1']]))),
      /no route towards jvb2 \(10\.0\.0\.12\).*set private_address/,
    );
    /** The refusal when the meet host's routes towards jvb1 and jvb2 leave from these sources. */
    const fromSources = (one: string, two: string) =>
      refusal(
        chooseMeetAddress(
          'meet',
          undefined,
          '127.0.0.1',
          remote,
          new Map([
            ['10.0.0.11', one],
            ['10.0.0.12', two],
          ]),
        ),
      );
    assert.match(fromSources('127.0.0.1', '127.0.0.1'), /it says 127\.0\.0\.1.*private_address/);
    assert.match(
      fromSources('10.0.0.1', '192.168.5.1'),
      /different addresses \(10\.0\.0\.1 towards jvb1, 192\.168\.5\.1 towards jvb2\).*private_address/,
    );
    assert.match(
      refusal(chooseMeetAddress('meet', undefined, '127.0.0.1', [{ name: 'jvb1', address: 'jvb1.lan' }], null)),
      /"jvb1\.lan" is a name.*private_address/,
    );
    assert.match(
      refusal(chooseMeetAddress('meet', '127.0.0.1', '127.0.0.1', remote, null)),
      /^private_address of meet is 127\.0\.0\.1, a loopback address, which the bridges \(jvb1, jvb2\)/,
    );
  });
});
