import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newRunId } from '../../src/engine/open-host.js';
import { aptFailureReason, withLockWait } from '../../src/modules/apt/apt-run.js';
import { parseStarted } from '../../src/modules/service/service.js';
import { readBridgeFiles } from '../../playbooks/jitsi-load-balancing/discover.js';
import {
  evaluateProsody,
  includesOf,
  listensEverywhere,
  matchInclude,
} from '../../playbooks/jitsi-load-balancing/prosody-config.js';

const MAIN = '/etc/prosody/prosody.cfg.lua';

describe("Prosody's config as Prosody reads it", () => {
  test('an Include pattern is followed, relative to the main folder, in name order; the last setting wins', () => {
    const files = new Map([
      [
        MAIN,
        'c2s_interfaces = { "*" }\nVirtualHost "localhost"\nInclude "conf.d/*.cfg.lua"\nInclude "/etc/prosody/extra/*.cfg.lua"\n',
      ],
      ['/etc/prosody/conf.d/meet.example.org.cfg.lua', 'VirtualHost "auth.meet.example.org"\n'],
      ['/etc/prosody/extra/b.cfg.lua', '-- late\nc2s_interfaces = { "127.0.0.1" }\n'],
      ['/etc/prosody/extra/a.cfg.lua', 'c2s_interfaces = { "10.0.0.1" }\n'],
    ]);
    const listing = [...files.keys()].filter((f) => f !== MAIN).concat(['/etc/prosody/extra/README']);
    const config = evaluateProsody(MAIN, files, listing);
    assert.deepEqual(config.files, [
      MAIN,
      '/etc/prosody/conf.d/meet.example.org.cfg.lua',
      '/etc/prosody/extra/a.cfg.lua',
      '/etc/prosody/extra/b.cfg.lua',
    ]);
    assert.equal(config.c2sInterfaces, '{ "127.0.0.1" }');
    assert.deepEqual(config.c2sInterfacesAt, { file: '/etc/prosody/extra/b.cfg.lua', line: 2 });
    assert.equal(listensEverywhere(config.c2sInterfaces), false);
  });

  test('each included file starts global, even when the including file is inside a VirtualHost', () => {
    const files = new Map([
      [MAIN, 'VirtualHost "x"\nc2s_interfaces = { "127.0.0.1" }\nInclude "site.lua"\n'],
      ['/etc/prosody/site.lua', 'c2s_interfaces = { "::1" }\nComponent "c"\nc2s_interfaces = { "*" }\n'],
    ]);
    const config = evaluateProsody(MAIN, files, []);
    assert.equal(
      config.c2sInterfaces,
      '{ "::1" }',
      'the main file sets it inside a VirtualHost; the component section does not count',
    );
  });

  test('Include lines, patterns and missing files', () => {
    assert.deepEqual(includesOf('Include "a.lua"\n-- Include "no.lua"\nInclude("b/*.lua")\n'), ['a.lua', 'b/*.lua']);
    assert.deepEqual(
      matchInclude('/e/p/*.cfg.lua', ['/e/p/b.cfg.lua', '/e/p/a.cfg.lua', '/e/p/x.lua', '/e/p/sub/c.cfg.lua']),
      ['/e/p/a.cfg.lua', '/e/p/b.cfg.lua'],
    );
    assert.deepEqual(evaluateProsody(MAIN, new Map([[MAIN, 'Include "gone.lua"\n']]), []).files, [MAIN]);
  });
});

describe('host files the service cannot read either', () => {
  test('invalid HOCON names the host, the file, the line and the column', () => {
    const why = readBridgeFiles('jvb2', 'videobridge {\n  apis {\n    x = "open\n', null);
    assert.ok('problem' in why);
    assert.match(why.problem, /^\/etc\/jitsi\/videobridge\/jvb\.conf on jvb2 is not valid HOCON, line 3, column \d+: /);
    assert.ok('files' in readBridgeFiles('jvb1', 'a = 1\n', null));
  });
});

describe('apt like an operator', () => {
  test('the real reason of a failed install is read from everything apt said', () => {
    const unreachable = [
      'Err:1 http://10.99.0.9/debian stable InRelease',
      '  Could not connect to 10.99.0.9:80 (10.99.0.9), connection timed out',
      'W: Some index files failed to download. They have been ignored, or old ones used instead.',
      'E: Unable to locate package jitsi-videobridge2',
    ];
    assert.equal(
      aptFailureReason(unreachable),
      'the package source http://10.99.0.9/debian cannot be reached: Could not connect to 10.99.0.9:80 (10.99.0.9), connection timed out',
    );
    assert.match(
      aptFailureReason([
        'Err:2 https://download.jitsi.org stable/ InRelease',
        "  The following signatures couldn't be verified because the public key is not available: NO_PUBKEY B4D2D216F1FD7806",
      ]) ?? '',
      /NO_PUBKEY B4D2D216F1FD7806\): check jitsi_apt_key_url/,
    );
    assert.match(
      aptFailureReason([
        'The following held packages will be changed:',
        '  jitsi-videobridge2',
        'E: Held packages were changed and -y was used without --allow-change-held-packages.',
      ]) ?? '',
      /a package is held \(jitsi-videobridge2\).*apt-mark unhold/,
    );
    assert.match(
      aptFailureReason([
        'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)',
      ]) ?? '',
      /^unattended-upgr \(pid 812\) holds \/var\/lib\/dpkg\/lock-frontend/,
    );
    assert.equal(
      aptFailureReason(['E: Unable to locate package nope']),
      'no package source offers nope: check jitsi_apt_source',
    );
    assert.equal(aptFailureReason(['Setting up x']), null);
  });

  test('apt is told to wait for the lock as long as we do', () => {
    const argv = withLockWait(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', 'x'], 42);
    assert.deepEqual(argv.slice(-9), [
      '--',
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      '-o',
      'DPkg::Lock::Timeout=42',
      'install',
      '-y',
      'x',
    ]);
  });
});

describe('one run at a time', () => {
  test('run ids are unique within one second, and sort by time', () => {
    const at = new Date('2026-12-02T10:00:00.123Z');
    const ids = new Set(Array.from({ length: 200 }, () => newRunId(at)));
    assert.equal(ids.size, 200);
    assert.match([...ids][0]!, /^20261202T100000123Z-[0-9a-f]{6}$/);
    assert.ok(newRunId(new Date('2026-12-02T10:00:01Z')) > newRunId(at));
  });
});

describe('a restart took effect', () => {
  test('the process start is computed from the host clock and its uptime', () => {
    assert.equal(parseStarted('clock 1000.50 200.00 100 15000\n'), 950.5);
    assert.equal(parseStarted(''), null, 'no process');
  });
});
