import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeInstall, installArgv, parseAptSimulation } from '../../src/modules/apt/install-packages.js';

// `apt-get install -s iptables-persistent` on a host where ufw is installed (inactive).
const BREAKS_UFW = `Reading package lists...
Building dependency tree...
The following packages will be REMOVED:
  ufw
The following NEW packages will be installed:
  iptables-persistent netfilter-persistent
0 upgraded, 2 newly installed, 1 to remove and 0 not upgraded.
Remv ufw [0.36.2-1]
Inst netfilter-persistent (1.0.20 Debian:12.8/stable [all])
Inst iptables-persistent (1.0.20 Debian:12.8/stable [all])
Conf netfilter-persistent (1.0.20 Debian:12.8/stable [all])
Conf iptables-persistent (1.0.20 Debian:12.8/stable [all])
`;

describe('what apt would do', () => {
  test('installs and removals are read from the simulation', () => {
    const sim = parseAptSimulation(BREAKS_UFW);
    assert.deepEqual(sim.install, [
      { name: 'netfilter-persistent', version: '1.0.20' },
      { name: 'iptables-persistent', version: '1.0.20' },
    ]);
    assert.deepEqual(sim.remove, ['ufw']);
    assert.deepEqual(sim.unknown, []);
  });

  test('an upgrade shows the new version; an unknown package is named', () => {
    assert.deepEqual(
      parseAptSimulation('Inst libnftables1 [1.0.6-2] (1.0.6-2+deb12u2 Debian:12/stable [amd64])\n').install,
      [{ name: 'libnftables1', version: '1.0.6-2+deb12u2' }],
    );
    assert.deepEqual(parseAptSimulation('E: Unable to locate package nftables\n').unknown, ['nftables']);
  });

  test('the plan line names every package installed and every one removed', () => {
    const line = describeInstall(['iptables-persistent'], parseAptSimulation(BREAKS_UFW), '(loads the rules at boot)');
    assert.equal(
      line,
      'install iptables-persistent 1.0.20 (loads the rules at boot); with netfilter-persistent 1.0.20; REMOVES ufw',
    );
    assert.match(
      describeInstall(['nftables'], parseAptSimulation('Inst nftables (1.0.6 x [amd64])\n'), ''),
      /removes nothing$/,
    );
  });

  test('the install never removes a package unless allowed', () => {
    assert.ok(installArgv(['nftables'], { allowRemoval: false }).includes('--no-remove'));
    assert.ok(!installArgv(['nftables'], { allowRemoval: true }).includes('--no-remove'));
  });
});
