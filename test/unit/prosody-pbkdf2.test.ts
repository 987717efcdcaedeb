import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import {
  MAX_ITERATIONS,
  accountFile,
  iterationProblem,
  parseAccount,
  passwordMatches,
} from '../../playbooks/jitsi-load-balancing/prosody-account.js';
import { runChecks } from '../../playbooks/shard-doctor/checks.js';
import { bridge, jvbConf, meet } from '../support/doctor-reads.js';
import { PlaybookRefusal } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import { DOMAIN, prosodyAccount, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';

/*
 * The iteration count of Prosody's SCRAM account comes from a file on the meet host: a count
 * beyond the cap is refused at once with one sentence naming the host and the file, and a
 * legitimate one is computed off the event loop.
 */

const ACCOUNT = accountFile('jvb', `auth.${DOMAIN}`);

/** Runs `work` while a 5 ms timer ticks; the longest gap between ticks, and how many there were. */
async function whileTicking(work: () => Promise<unknown>): Promise<{ ticks: number; longestGap: number; ms: number }> {
  let ticks = 0;
  let last = performance.now();
  let longestGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const start = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { ticks, longestGap, ms: performance.now() - start };
}

describe("Prosody's PBKDF2 iteration count, from the host", { timeout: 30_000 }, () => {
  test('a huge count is refused quickly, in one sentence naming the host and the account file', async () => {
    for (const count of ['1e12', '9007199254740993', '-5', '4096.5', String(MAX_ITERATIONS + 1)]) {
      const account = parseAccount(prosodyAccount('pw', count));
      assert.ok(account, count);
      const problem = iterationProblem(account, 'meet', ACCOUNT);
      assert.match(
        problem ?? '',
        new RegExp(
          `^${ACCOUNT.replace(/[.%]/g, '\\$&')} on meet gives a PBKDF2 iteration count of \\S+, not a whole number from 1 to ${MAX_ITERATIONS}`,
        ),
        count,
      );
      const start = performance.now();
      await assert.rejects(passwordMatches(account, 'pw'), RangeError);
      assert.ok(performance.now() - start < 50, `${count}: refused before any work`);
    }
  });

  test('discovery refuses it before computing anything', async () => {
    const { root, inventory } = await rootedShard(
      { old: 'old-1', new: 'shard-pw' },
      { [ACCOUNT]: prosodyAccount('shard-pw', '1000000000000') },
    );
    const start = performance.now();
    const e = await discoverShard(rootedDiscovery(root, inventory, new Redactor())).then(
      () => assert.fail('discovery went on'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof PlaybookRefusal);
    assert.equal(e.host, 'meet');
    assert.match(
      e.message,
      /accounts\/jvb\.dat on meet gives a PBKDF2 iteration count of 1000000000000, not a whole number/,
    );
    assert.ok(performance.now() - start < 3000, 'refused without hashing');
  });

  test('a legitimate count is checked while the event loop stays responsive', async () => {
    const iterations = 2_000_000;
    const account = parseAccount(prosodyAccount('shard-pw', 1))!;
    // The stored key of a 2-million-iteration account for "shard-pw", as Prosody would store it.
    const { createHash, createHmac, pbkdf2Sync } = await import('node:crypto');
    const salted = pbkdf2Sync('shard-pw', account.salt, iterations, 20, 'sha1');
    const heavy = {
      ...account,
      iterations,
      storedKey: createHash('sha1').update(createHmac('sha1', salted).update('Client Key').digest()).digest('hex'),
    };
    let right: boolean | undefined;
    let wrong: boolean | undefined;
    const t = await whileTicking(async () => {
      [right, wrong] = await Promise.all([passwordMatches(heavy, 'shard-pw'), passwordMatches(heavy, 'other')]);
    });
    assert.equal(right, true);
    assert.equal(wrong, false);
    assert.ok(t.ms > 100, `the work took a while (${t.ms.toFixed(0)} ms), so the timer had to be served meanwhile`);
    // Blocking, the whole check would be one gap (or two, one per password); off the loop, the
    // timer keeps firing, however loaded the machine.
    assert.ok(t.ticks >= 10, `the timer fired ${t.ticks} times in ${t.ms.toFixed(0)} ms`);
    assert.ok(t.longestGap < t.ms / 5, `no tick waited long (${t.longestGap.toFixed(0)} of ${t.ms.toFixed(0)} ms)`);
  });

  test('the doctor says the password was not checked, naming the host and the file', async () => {
    const account = parseAccount(prosodyAccount('pw', '99999999999'))!;
    const m = meet({ accounts: new Map([[`jvb@auth.${DOMAIN}`, account]]) });
    const b = bridge('jvb1', {}, jvbConf({ PASSWORD: 'pw' }));
    const start = performance.now();
    const findings = await runChecks(m, [b]);
    const login = findings.find((f) => f.check === 'xmpp-login');
    assert.ok(performance.now() - start < 1000);
    assert.equal(login?.ok, false);
    assert.match(
      login?.text ?? '',
      /^not checked: \/var\/lib\/prosody\/auth%2emeet%2eexample%2eorg\/accounts\/jvb\.dat on meet gives/,
    );
  });
});
