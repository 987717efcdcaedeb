import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAptProbe, planAptChanges, type AptPackage } from '../../src/modules/apt/apt-package.js';
import { enableCommand, isEnabled, serviceCommand } from '../../src/modules/service/service.js';

const POLICY = `@@status
@@policy
jitsi-videobridge2:
  Installed: (none)
  Candidate: 2.3-170-g1b0a9b7b-1
  Version table:
     2.3-170-g1b0a9b7b-1 500
        500 https://download.jitsi.org stable/ Packages
     2.3-160-gaaaaaaa-1 500
        500 https://download.jitsi.org stable/ Packages
@@keyring
yes
@@end
`;

const JVB: AptPackage = {
  name: 'jitsi-videobridge2',
  source: {
    file: '/etc/apt/sources.list.d/jitsi-stable.list',
    line: 'deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/',
  },
  key: { url: 'https://download.jitsi.org/jitsi-key.gpg.key', keyring: '/usr/share/keyrings/jitsi-keyring.gpg' },
  preseed: [
    { question: 'jitsi-videobridge/jvb-hostname', type: 'string', value: 'meet.example.test' },
    { question: 'jitsi-videobridge/jvbsecret', type: 'password', value: 's3cr3t-Pa55' },
  ],
};

describe('apt package', () => {
  test('reads dpkg status and apt-cache policy', () => {
    assert.deepEqual(parseAptProbe(POLICY), {
      installed: null,
      candidate: '2.3-170-g1b0a9b7b-1',
      available: ['2.3-170-g1b0a9b7b-1', '2.3-160-gaaaaaaa-1'],
      keyringPresent: true,
    });
    const installed = parseAptProbe(
      POLICY.replace('@@status\n', '@@status\ninstall ok installed 2.3-160-gaaaaaaa-1\n')
        .replace('Installed: (none)', 'Installed: 2.3-160-gaaaaaaa-1')
        .replace('     2.3-160', ' *** 2.3-160'),
    );
    assert.equal(installed.installed, '2.3-160-gaaaaaaa-1');
    assert.deepEqual(installed.available, ['2.3-170-g1b0a9b7b-1', '2.3-160-gaaaaaaa-1']);
    assert.equal(
      parseAptProbe('@@status\ndeinstall ok config-files 1.0\n@@policy\n@@keyring\n@@end\n').installed,
      null,
      'removed but configured is not installed',
    );
  });

  test('a fresh host: source, preseed, update, install, in that order', () => {
    const changes = planAptChanges(JVB, parseAptProbe(POLICY), null);
    assert.deepEqual(
      changes.map((c) => c.description),
      [
        'add the apt source /etc/apt/sources.list.d/jitsi-stable.list',
        'preseed debconf for jitsi-videobridge2: jitsi-videobridge/jvb-hostname, jitsi-videobridge/jvbsecret',
        'refresh the package lists (apt-get update)',
        'install jitsi-videobridge2; what comes with it is known once the lists are refreshed; removes nothing',
      ],
    );
    assert.ok(
      !changes.some((c) => `${c.description}${c.diff ?? ''}`.includes('s3cr3t')),
      'the preseeded secret is in no description or diff',
    );
  });

  test('a missing key is fetched; a known source and candidate need no update', () => {
    const noKey = parseAptProbe(POLICY.replace('@@keyring\nyes\n', '@@keyring\n'));
    assert.equal(
      planAptChanges({ ...JVB, preseed: [] }, noKey, `${JVB.source!.line}\n`)[0]!.description,
      'download the signing key https://download.jitsi.org/jitsi-key.gpg.key into /usr/share/keyrings/jitsi-keyring.gpg',
    );
    const ready = planAptChanges({ ...JVB, preseed: [] }, parseAptProbe(POLICY), `${JVB.source!.line}\n`);
    assert.deepEqual(
      ready.map((c) => c.description),
      ['install jitsi-videobridge2'],
    );
  });

  test('installed: nothing to do; a pinned other version: install the pin', () => {
    const installed = parseAptProbe(
      POLICY.replace('@@status\n', '@@status\ninstall ok installed 2.3-170-g1b0a9b7b-1\n'),
    );
    assert.deepEqual(planAptChanges(JVB, installed, null), []);
    const pinned = planAptChanges(
      { ...JVB, version: '2.3-160-gaaaaaaa-1', preseed: [] },
      installed,
      `${JVB.source!.line}\n`,
    );
    assert.deepEqual(
      pinned.map((c) => c.description),
      ['install jitsi-videobridge2=2.3-160-gaaaaaaa-1 (replacing 2.3-170-g1b0a9b7b-1)'],
    );
    const unknownPin = planAptChanges({ ...JVB, version: '9.9', preseed: [] }, installed, `${JVB.source!.line}\n`);
    assert.deepEqual(
      unknownPin.map((c) => c.description),
      [
        'refresh the package lists (apt-get update)',
        'install jitsi-videobridge2=9.9 (replacing 2.3-170-g1b0a9b7b-1); what comes with it is known once the lists are refreshed; removes nothing',
      ],
    );
  });
});

describe('service', () => {
  test('systemctl where systemd runs, the init script elsewhere', () => {
    assert.deepEqual(serviceCommand('systemd', 'prosody', 'restart'), ['systemctl', 'restart', 'prosody']);
    assert.deepEqual(serviceCommand('sysv', 'prosody', 'restart'), ['service', 'prosody', 'restart']);
    assert.deepEqual(enableCommand('sysv', 'jitsi-videobridge2'), ['update-rc.d', 'jitsi-videobridge2', 'defaults']);
  });

  test('enabled state from systemctl is-enabled and rc links', () => {
    assert.equal(isEnabled('systemd', 'enabled\n'), true);
    assert.equal(isEnabled('systemd', 'disabled\n'), false);
    assert.equal(isEnabled('systemd', ''), false);
    assert.equal(isEnabled('sysv', 'S01prosody\n'), true);
    assert.equal(isEnabled('sysv', ''), false);
  });
});
