import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import {
  accountDisabled,
  accountFile,
  createAccountCommand,
  parseAccount,
  passwordMatches,
  prosodyMajor,
} from '../../playbooks/jitsi-load-balancing/prosody-account.js';
import { PROSODY_VALIDATOR } from '../../playbooks/jitsi-load-balancing/steps/bind-prosody.js';
import { PlaybookRefusal } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import { fixture } from '../support/fixtures.js';
import { DOMAIN, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';

/*
 * Prosody 13 (Debian 13's prosody 13.0.1): account files as it writes them, in SHA-1 (its
 * default) and SHA-256 (password_hash = "SHA-256"); disabled accounts; and the account command the
 * refusal gives, by the meet host's prosody package version.
 */

describe('Prosody 13 account files', () => {
  test('a SHA-1 account written by Prosody 13 is read and its password checked', async () => {
    const account = parseAccount(fixture('prosody13/jvb-sha1.dat'))!;
    assert.equal(account.hash, 'sha1');
    assert.equal(account.iterations, 10000);
    assert.equal(await passwordMatches(account, 'S3cret'), true);
    assert.equal(await passwordMatches(account, 'S3creT'), false);
  });

  test('a SHA-256 account (password_hash = "SHA-256") is told apart by its key length and checked with SHA-256', async () => {
    const account = parseAccount(fixture('prosody13/jvb-sha256.dat'))!;
    assert.equal(account.hash, 'sha256');
    assert.equal(await passwordMatches(account, 'S3cret'), true);
    assert.equal(await passwordMatches(account, 'S3cret '), false);
    // the same file read as SHA-1 would refuse the right password: the hash matters
    assert.equal(await passwordMatches({ ...account, hash: 'sha1' }, 'S3cret'), false);
  });

  test('a stored key of any other length, or not hex, is no account we can check', () => {
    const text = fixture('prosody13/jvb-sha1.dat');
    assert.equal(parseAccount(text.replace(/"fcf4ea96[0-9a-f]+"/, '"abcd"')), null);
    assert.equal(parseAccount(text.replace(/"fcf4ea96[0-9a-f]+"/, `"${'z'.repeat(40)}"`)), null);
  });

  test('a disabled account is seen as disabled; an enabled one is not', async () => {
    const disabled = fixture('prosody13/disabled.dat');
    assert.equal(accountDisabled(disabled), true);
    // its keys are still there: the password matches, and the account is refused all the same
    assert.equal(await passwordMatches(parseAccount(disabled)!, 'Pw1'), true);
    const text = fixture('prosody13/jvb-sha1.dat');
    assert.equal(accountDisabled(text), false);
    assert.equal(accountDisabled(text.replace('return {', 'return {\n\t["disabled"] = true;')), true);
    assert.equal(accountDisabled(text.replace('return {', 'return {\n\t["disabled"] = false;')), false);
  });
});

describe("the account command for the meet host's Prosody", () => {
  test('the major version of Debian package versions', () => {
    assert.equal(prosodyMajor('13.0.1-1+deb13u1'), 13);
    assert.equal(prosodyMajor('1:13.0.2-1~bookworm1'), 13);
    assert.equal(prosodyMajor('0.12.3-1'), 0);
    assert.equal(prosodyMajor(undefined), null);
    assert.equal(prosodyMajor('trunk'), null);
  });

  test('Prosody 13 gets adduser with the JID; 0.12 and an unknown version get register', () => {
    assert.match(
      createAccountCommand('13.0.1-1+deb13u1', 'jvb', 'auth.x.test'),
      /^`prosodyctl adduser jvb@auth\.x\.test`/,
    );
    assert.equal(
      createAccountCommand('0.12.3-1', 'jvb', 'auth.x.test'),
      '`prosodyctl register jvb auth.x.test SECRET`',
    );
    assert.equal(createAccountCommand(undefined, 'jvb', 'auth.x.test'), '`prosodyctl register jvb auth.x.test SECRET`');
  });

  const refusal = async (prosody: string | undefined, change: (root: string) => Promise<void>) => {
    const shard = await rootedShard({ old: 'old-pw', new: 'new-pw' });
    await change(shard.root);
    const ctx = rootedDiscovery(shard.root, shard.inventory, new Redactor(), {
      meet: prosody ? { prosody } : {},
    });
    try {
      await discoverShard(ctx);
    } catch (e) {
      assert.ok(e instanceof PlaybookRefusal, String(e));
      return e.message;
    } finally {
      await rm(shard.root, { recursive: true, force: true });
    }
    assert.fail('discovery did not refuse');
  };
  const account = (root: string) => join(root, 'meet', accountFile('jvb', `auth.${DOMAIN}`));

  test('no jvb account on a Prosody 13 meet host: the refusal gives adduser, naming the host', async () => {
    const text = await refusal('13.0.1-1+deb13u1', (root) => rm(account(root)));
    assert.match(
      text,
      /Prosody on meet has no account jvb@auth\.meet\.example\.org; create it with `prosodyctl adduser jvb@auth\.meet\.example\.org`/,
    );
    assert.doesNotMatch(text, /register/);
  });

  test('no jvb account on a Prosody 0.12 meet host: the refusal gives register', async () => {
    const text = await refusal('0.12.3-1', (root) => rm(account(root)));
    assert.match(text, /create it with `prosodyctl register jvb auth\.meet\.example\.org SECRET`/);
  });

  test('a disabled jvb account is refused, with the command that enables it', async () => {
    const { writeFile } = await import('node:fs/promises');
    const text = await refusal('13.0.1-1+deb13u1', (root) =>
      writeFile(account(root), fixture('prosody13/disabled.dat')),
    );
    assert.match(
      text,
      /jvb@auth\.meet\.example\.org disabled, so no bridge can log in; enable it with `prosodyctl shell user enable jvb@auth\.meet\.example\.org`/,
    );
  });
});

describe("Prosody 13's config check, as the tool's validator reads it", () => {
  // Runs the validator with a stand-in prosodyctl on PATH that answers as Prosody 13 did.
  const validate = async (answer: string, rc: number) => {
    const { execFile } = await import('node:child_process');
    const { chmod, mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'js-p13-'));
    try {
      await writeFile(join(dir, 'answer.txt'), answer);
      await writeFile(join(dir, 'prosodyctl'), `#!/bin/sh\ncat "${dir}/answer.txt"\nexit ${rc}\n`);
      await chmod(join(dir, 'prosodyctl'), 0o755);
      const argv = PROSODY_VALIDATOR.map((a) => (a === '%s' ? '/etc/prosody/prosody.cfg.lua.tmp' : a));
      return await new Promise<{ code: number; out: string }>((resolve) => {
        const child = execFile(argv[0]!, argv.slice(1), { env: { PATH: `${dir}:/usr/bin:/bin` } }, (_e, stdout) =>
          resolve({ code: child.exitCode ?? 1, out: stdout }),
        );
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  test('a broken config (exit 1, "A problem occurred while reading the config file") is refused with its Error line', async () => {
    const r = await validate(fixture('prosody13/check-config-broken.txt'), 1);
    assert.equal(r.code, 1);
    assert.equal(r.out.trim(), 'Error: /etc/prosody/prosody.cfg.lua.tmp:3: unexpected symbol near <eof>');
  });

  test("a config that loads passes, Prosody 13's deprecation notes and all", async () => {
    assert.equal((await validate(fixture('prosody13/check-config-passed.txt'), 0)).code, 0);
  });
});
