import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  bridgeFiles,
  disableLegacyShards,
  editJvbConf,
  editLegacyProperties,
  effectiveShard,
  hoconShards,
  layoutOf,
  legacyShards,
  targetLayout,
  websocketsEnabled,
} from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { debconfValue } from '../../playbooks/jitsi-load-balancing/discover.js';
import { assignNicknames } from '../../playbooks/jitsi-load-balancing/nicknames.js';
import {
  accountFile,
  encodeProsodyHost,
  parseAccount,
  passwordMatches,
} from '../../playbooks/jitsi-load-balancing/prosody-account.js';
import { nicknameLine, removeNicknameLine } from '../../playbooks/jitsi-load-balancing/steps/patch-jvb-sh.js';
import { breweryLua, parseBrewery } from '../../playbooks/jitsi-load-balancing/brewery.js';
import { memberJid, parseJicofoBridges } from '../../playbooks/jitsi-load-balancing/steps/verify.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { ensureLineAtTop } from '../../src/modules/text/ensure-line-at-top.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

const JVB = fixture('jitsi/jvb.conf');
const PROPS = fixture('jitsi/sip-communicator.properties');
const WANT = {
  HOSTNAME: '10.0.0.10',
  DOMAIN: 'auth.meet.example.test',
  USERNAME: 'jvb',
  PASSWORD: 's3cr3t-Pa55',
  MUC_JIDS: 'JvbBrewery@internal.auth.meet.example.test',
  MUC_NICKNAME: 'jvb-a',
  DISABLE_CERTIFICATE_VERIFICATION: 'true',
};

describe('bridge config layouts', () => {
  test('which layout a bridge has, and which settings win', () => {
    assert.equal(layoutOf(bridgeFiles('jvb1', JVB, null)), 'current');
    assert.equal(layoutOf(bridgeFiles('jvb1', null, PROPS)), 'legacy');
    assert.equal(layoutOf(bridgeFiles('jvb1', JVB, PROPS)), 'both');
    assert.equal(layoutOf(bridgeFiles('jvb1', null, null)), 'none');
    assert.equal(layoutOf(bridgeFiles('jvb1', 'videobridge { }\n', 'org.ice4j.x=1\n')), 'current');
    const both = effectiveShard(bridgeFiles('jvb1', JVB.replace('HOSTNAME=localhost', 'HOSTNAME=from-hocon'), PROPS));
    assert.equal(both?.values.HOSTNAME, 'localhost', 'the legacy lines win');
    assert.deepEqual(hoconShards(new HoconDoc(JVB))[0]?.values.MUC_NICKNAME, '5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d');
    assert.equal(legacyShards(PROPS)[0]?.values.MUC_JIDS, 'JvbBrewery@internal.auth.meet.example.test');
    assert.equal(targetLayout('none', 'legacy'), 'legacy');
    assert.equal(targetLayout('none', 'current'), 'current');
    assert.equal(targetLayout('both', 'current'), 'both');
  });

  test('jvb.conf: the shard block is set, websockets turned off, the rest kept; twice is once', () => {
    const out = assertIdempotent((t) => editJvbConf(new HoconDoc(t), 'shard', WANT, { websocketsOff: true }).text, JVB);
    assert.equal(websocketsEnabled(new HoconDoc(out)), false);
    assert.deepEqual(hoconShards(new HoconDoc(out))[0]?.values, { ...WANT });
    assert.ok(out.includes('addresses = ["stun.example.test:443"]   // keep me'), 'other settings and comments kept');
    assert.ok(out.includes('DISABLE_CERTIFICATE_VERIFICATION = true'));
  });

  test('jvb.conf: a shard key spelled two ways is set in both spellings, and the edit says so', () => {
    const twice = JVB.replace('HOSTNAME=localhost', 'HOSTNAME=localhost\n            hostname = "10.9.9.9"');
    const r = editJvbConf(new HoconDoc(twice), 'shard', WANT, { websocketsOff: true });
    assert.ok(r.text.includes('HOSTNAME="10.0.0.10"\n            hostname = "10.0.0.10"'), r.text);
    assert.deepEqual(r.notes.length, 1);
    assert.match(
      r.notes[0]!,
      /HOSTNAME is spelled 2 ways, HOSTNAME \(line 16\) and hostname \(line 17\).*all of them are set/,
    );
  });

  test('properties: legacy keys set in place; moving to jvb.conf comments the old lines out', () => {
    const out = assertIdempotent((t) => editLegacyProperties(t, 'shard', WANT), PROPS);
    assert.deepEqual(legacyShards(out)[0]?.values, WANT);
    assert.ok(out.startsWith('# Legacy bridge settings'));
    const off = assertIdempotent(disableLegacyShards, out);
    assert.deepEqual(legacyShards(off), []);
    assert.match(off, /^#org\.jitsi\.videobridge\.xmpp\.user\.shard\.HOSTNAME=10\.0\.0\.10$/m);
    assert.match(off, /^org\.jitsi\.videobridge\.ENABLE_STATISTICS=true$/m, 'unrelated keys stay');
    assert.equal(
      layoutOf(bridgeFiles('jvb1', editJvbConf(new HoconDoc(JVB), 'shard', WANT, { websocketsOff: true }).text, off)),
      'current',
    );
  });
});

describe('nicknames', () => {
  let n = 0;
  const ids = () => `new-${++n}`;

  test("inventory names win; existing unique ones are kept; clones and the meet bridge's get fresh ids", () => {
    n = 0;
    const r = assignNicknames(
      [
        { bridge: 'jvb1', existing: 'clone' },
        { bridge: 'jvb2', existing: 'clone' },
        { bridge: 'jvb3', existing: 'meet-own' },
        { bridge: 'jvb4', wanted: 'fixed', existing: 'whatever' },
        { bridge: 'jvb5' },
      ],
      ['meet-own'],
      ids,
    );
    assert.ok(r.ok);
    assert.deepEqual(Object.fromEntries(r.nicknames), {
      jvb1: 'clone',
      jvb2: 'new-1',
      jvb3: 'new-2',
      jvb4: 'fixed',
      jvb5: 'new-3',
    });
  });

  test("an inventory nickname equal to the meet host's own bridge is refused, naming the bridge", () => {
    const r = assignNicknames([{ bridge: 'jvb1', wanted: 'Meet-Own' }], ['meet-own'], ids);
    assert.deepEqual(r, {
      ok: false,
      host: 'jvb1',
      message:
        'jvb1: jitsi_nickname "Meet-Own" is already used by the meet host\'s own bridge; two bridges with one nickname look like one bridge to Jicofo',
    });
  });
});

describe('the secret against Prosody', () => {
  // An account as Prosody 0.12 stores it for the password "Lab-Jvb-S3cret-7f2c".
  const dat = `return {\n\t["stored_key"] = "6c8a5c22a52bacb10623e2502cfd4a09cbc50e9f";\n\t["iteration_count"] = 10000;\n\t["server_key"] = "a84909d2ada636dbe888e838c55f43a0d9d74e38";\n\t["salt"] = "c7e501db-422b-4143-9d49-9996e59e1518";\n};\n`;

  test('SCRAM check accepts the right password only', async () => {
    const acc = parseAccount(dat)!;
    assert.equal(acc.iterations, 10000);
    assert.equal(await passwordMatches(acc, 'Lab-Jvb-S3cret-7f2c'), true);
    assert.equal(await passwordMatches(acc, 'Lab-Jvb-S3cret-7f2d'), false);
    assert.equal(parseAccount('return { ["password"] = "plain"; };'), null);
  });

  test('paths and debconf', () => {
    assert.equal(encodeProsodyHost('auth.meet-x.test'), 'auth%2emeet%2dx%2etest');
    assert.equal(accountFile('jvb', 'auth.meet.test'), '/var/lib/prosody/auth%2emeet%2etest/accounts/jvb.dat');
    const passwords =
      'Name: jicofo/jicofo-authpassword\nTemplate: jicofo/jicofo-authpassword\nValue: focuspw\nOwners: jicofo\n\nName: jitsi-videobridge/jvbsecret\nTemplate: jitsi-videobridge/jvbsecret\nValue: s3cr3t\nOwners: jitsi-videobridge2\nFlags: seen\n';
    assert.equal(debconfValue(passwords, 'jitsi-videobridge/jvbsecret'), 's3cr3t');
    assert.equal(debconfValue(passwords, 'jitsi-videobridge/jvb-hostname'), undefined);
  });
});

describe('jvb.sh nickname line', () => {
  for (const [layout, file, text, key] of [
    ['current', 'jvb.conf', JVB, /MUC_NICKNAME=(\S+)/],
    ['legacy', 'sip-communicator.properties', PROPS, /shard\.MUC_NICKNAME=(\S+)/],
  ] as const) {
    test(`${layout}: the line, run by a real shell, gives a new uuid each time and changes nothing else`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'js-jvbsh-'));
      const path = join(dir, file);
      writeFileSync(path, text);
      const line = nicknameLine(layout).replace(/\/etc\/jitsi\/videobridge\/\S+/, path);
      execFileSync('sh', ['-c', line]);
      const first = readFileSync(path, 'utf8');
      execFileSync('sh', ['-c', line]);
      const second = readFileSync(path, 'utf8');
      const a = key.exec(first)![1]!;
      const b = key.exec(second)![1]!;
      assert.match(a, /^[0-9a-f-]{36}$/);
      assert.notEqual(a, b);
      assert.equal(first.replace(a, 'X'), text.replace(key.exec(text)![1]!, 'X'), 'only the nickname changed');
    });
  }

  test('inserted once after the shebang; removed for the stable policy', () => {
    const launcher = fixture('jitsi/jvb.sh');
    const line = nicknameLine('current');
    const patched = assertIdempotent(
      (t) => ensureLineAtTop(removeNicknameLine(t), { line, afterShebang: true }),
      launcher,
    );
    assert.deepEqual(patched.split('\n').slice(0, 2), ['#!/bin/bash', line]);
    assert.equal(removeNicknameLine(patched), launcher);
    assert.equal(removeNicknameLine(launcher), launcher);
  });
});

describe('verification helpers', () => {
  test('occupants from the admin shell, and member JIDs compared without case', () => {
    assert.deepEqual(
      parseBrewery('| Result: brewery:JvbBrewery%40internal.auth.x%2Fa|,jvbbrewery%40internal.auth.x%2FB|\n')?.map(
        (o) => o.jid,
      ),
      ['JvbBrewery@internal.auth.x/a', 'jvbbrewery@internal.auth.x/B'],
    );
    assert.deepEqual(parseBrewery('Result: no-room'), []);
    assert.equal(parseBrewery('prosodyctl: command not found'), null);
    assert.equal(memberJid('JvbBrewery@internal.auth.x', 'B'), 'jvbbrewery@internal.auth.x/b');
    const debug = JSON.stringify({
      bridge_selector: {
        bridges: {
          'JvbBrewery@internal.auth.x/a': { healthy: true, operational: true },
          'jvbbrewery@internal.auth.x/b': { healthy: false },
        },
      },
    });
    const seen = parseJicofoBridges(debug)!;
    assert.deepEqual(seen.get(memberJid('JvbBrewery@internal.auth.x', 'a')), { healthy: true, operational: true });
    assert.equal(seen.get(memberJid('JvbBrewery@internal.auth.x', 'b'))?.healthy, false);
    assert.equal(parseJicofoBridges('<html>'), null);
    assert.equal(parseJicofoBridges('{"other":1}'), null);
    assert.match(
      breweryLua('JvbBrewery@internal.auth.x'),
      /prosody\.hosts\["internal\.auth\.x"\].*get_room_from_jid\("jvbbrewery@internal\.auth\.x"\)/,
    );
  });
});
