import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { parseLockAnswer, parseTouchAnswer, touchCommand } from '../../src/engine/lock-commands.js';
import {
  describeHolder,
  machineId,
  ownLockInfo,
  ownSpace,
  processStart,
  startTicks,
  whyStale,
  type LockInfo,
} from '../../src/engine/lock-holder.js';
import { keepLock, lostSentence } from '../../src/engine/lock-keeper.js';
import { acquireRunLock, lockTiming, STALE_AFTER_S, type LockTiming } from '../../src/engine/run-lock.js';
import { LocalHost } from '../../src/transport/local-host.js';
import type { ExecResult, Host } from '../../src/transport/host.js';

const SPACE = { machine: 'a'.repeat(32), boot: 'b0b0', pidns: 'pid:[4026531836]' };
const HOLDER: LockInfo = {
  runId: 'r1',
  user: 'ops',
  host: 'ubuntu',
  pid: 4242,
  started: '2026-12-02T10:00:00.000Z',
  ...SPACE,
  since: '1000',
};
const alive = (since: string) => (pid: number) => (pid === 4242 ? since : null);

describe('who holds the run lock', () => {
  test('a holder in this very process space whose process is gone is stale at once', () => {
    assert.match(whyStale(HOLDER, 1, 120, SPACE, () => null) ?? '', /process 4242 on this machine is gone$/);
    assert.equal(whyStale(HOLDER, 1, 120, SPACE, alive('1000')), null, 'the same process, alive');
  });

  test('a reused pid (same number, other start time) is not the holder', () => {
    assert.match(whyStale(HOLDER, 1, 120, SPACE, alive('2000')) ?? '', /that pid is now another process/);
    assert.equal(
      whyStale(HOLDER, 1, 120, SPACE, () => undefined),
      null,
      'hidden by hidepid: cannot tell',
    );
  });

  test('the same host name on another machine, boot or pid namespace is judged by age only', () => {
    const elsewhere = [
      { ...SPACE, machine: 'c'.repeat(32) },
      // A cloned VM keeps the machine id but never the boot id.
      { ...SPACE, boot: 'other-boot' },
      // Containers on one kernel share machine and boot.
      { ...SPACE, pidns: 'pid:[4026532999]' },
      // A controller that cannot read its own identity proves nothing.
      { machine: '', boot: '', pidns: '' },
    ];
    for (const space of elsewhere) {
      assert.equal(
        whyStale(HOLDER, 5, 120, space, () => null),
        null,
        JSON.stringify(space),
      );
      assert.match(whyStale(HOLDER, 121, 120, space, () => null) ?? '', /last touched 121 s ago/);
    }
    const legacy = { runId: 'r0', user: 'ops', host: 'ubuntu', pid: 4242, started: '2026-01-01T00:00:00Z' };
    assert.equal(
      whyStale(legacy, 5, 120, SPACE, () => null),
      null,
      'a lock of an older version: by age',
    );
    assert.equal(
      whyStale(null, 5, 120, SPACE, () => null),
      null,
      'a lock that is not JSON: by age',
    );
  });

  test('the process start is field 22 of /proc/PID/stat, whatever the command name holds', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21';
    assert.equal(startTicks(`77 (a b) c) ${rest}`), '987654');
    assert.equal(startTicks(`77 ((sd-pam)) ${rest}`), '987654');
    assert.equal(startTicks('garbage'), null);
    assert.equal(startTicks(''), null);
    const own = startTicks(readFileSync('/proc/self/stat', 'utf8'));
    assert.match(own ?? '', /^\d+$/);
    assert.equal(processStart(process.pid), own);
    assert.equal(ownLockInfo('r').since, own);
    assert.equal(processStart(0), undefined, 'pid 0 names a process group, never a holder');
    assert.equal(processStart(-1), undefined);
  });

  test('the machine id: /etc/machine-id, else dbus; an uninitialized one is none', () => {
    const files = (m: Record<string, string>) => (p: string) => m[p] ?? '';
    const id = 'f'.repeat(32);
    assert.equal(machineId(files({ '/etc/machine-id': id })), id);
    assert.equal(machineId(files({ '/etc/machine-id': 'uninitialized', '/var/lib/dbus/machine-id': id })), id);
    assert.equal(machineId(files({})), '');
    assert.equal(ownSpace().boot, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  });

  test('the holder is shown with its machine, so that two machines named alike can be told apart', () => {
    assert.equal(
      describeHolder(HOLDER, ''),
      'run r1 by ops on ubuntu (pid 4242), started 2026-12-02T10:00:00.000Z (machine aaaaaaaa)',
    );
    assert.match(describeHolder(null, 'x'.repeat(200)), /^a lock that does not say whose it is \("x{80}"\)$/);
  });

  test('the lock commands answer in lines the client reads; the host kills them at their deadline', () => {
    const answer = parseLockAnswer(`held 12\n${JSON.stringify(HOLDER)}\n`);
    assert.ok(!answer.taken && answer.ageS === 12 && answer.holder?.runId === 'r1');
    assert.deepEqual(parseLockAnswer('taken\n'), { taken: true });
    assert.deepEqual(parseTouchAnswer('ours\n'), { ours: true });
    assert.deepEqual(parseTouchAnswer('gone\n'), { ours: false, holder: null, raw: null });
    assert.equal(parseTouchAnswer(`theirs\n${JSON.stringify(HOLDER)}\n`)?.ours, false);
    assert.equal(parseTouchAnswer(''), undefined);
    assert.deepEqual(touchCommand('/s', '{}').slice(0, 5), ['timeout', '-k', '2', '10', 'sh']);
  });

  test('the stale time comes from JITSI_SCALE_LOCK_STALE_S when it is a whole number of seconds', () => {
    assert.equal(lockTiming({}).staleS, STALE_AFTER_S);
    assert.deepEqual(lockTiming({ JITSI_SCALE_LOCK_STALE_S: '4' }), {
      staleS: 4,
      heartbeatMs: 500,
      verifyAfterMs: 2000,
      answerMs: 13_000,
    });
    for (const bad of ['0', '-3', '1.5', 'soon', ''])
      assert.equal(lockTiming({ JITSI_SCALE_LOCK_STALE_S: bad }).staleS, STALE_AFTER_S, bad);
  });
});

/** A host whose lock commands answer as `answer` says, counting them. */
function lockHost(answer: () => Promise<ExecResult>): Host & { calls: number } {
  const host = {
    name: 'meet',
    calls: 0,
    async exec() {
      host.calls++;
      return answer();
    },
    readFile: () => Promise.reject(new Error('unused')),
    readFiles: () => Promise.reject(new Error('unused')),
    writeFile: () => Promise.reject(new Error('unused')),
    stat: () => Promise.reject(new Error('unused')),
    close: async () => {},
  };
  return host;
}

const ok = (stdout: string): Promise<ExecResult> => Promise.resolve({ code: 0, stdout, stderr: '' });
const TIMING: LockTiming = { staleS: 120, heartbeatMs: 60_000, verifyAfterMs: 40, answerMs: 200 };

describe('keeping the run lock', () => {
  test('a change costs no round trip while the lock is freshly confirmed; after a gap it confirms first', async () => {
    const host = lockHost(() => ok('ours\n'));
    const lock = keepLock(host, '/s', '{}', TIMING);
    assert.equal(await lock.check(), null);
    assert.equal(host.calls, 0);
    await sleep(60);
    assert.equal(await lock.check(), null);
    assert.equal(host.calls, 1, 'one compare-and-touch');
    assert.equal(await lock.check(), null);
    assert.equal(host.calls, 1, 'fresh again');
    await lock.release();
  });

  test('a lock taken over stops the run with one sentence naming who took it', async () => {
    const host = lockHost(() => ok(`theirs\n${JSON.stringify(HOLDER)}\n`));
    const lock = keepLock(host, '/s', '{}', TIMING);
    await sleep(60);
    const said = await lock.check();
    assert.equal(
      said,
      'the run lock on meet was taken over by run r1 by ops on ubuntu (pid 4242), started 2026-12-02T10:00:00.000Z (machine aaaaaaaa); this run stops here and changes nothing more',
    );
    assert.equal(await lock.check(), said, 'for good, without asking again');
    assert.equal(host.calls, 1);
    assert.match(lostSentence('meet', { ours: false, holder: null, raw: null }), /was removed while this run held it/);
  });

  test('the heartbeat touches the lock at its own pace, one touch at a time', async () => {
    const host = lockHost(() => ok('ours\n'));
    const lock = keepLock(host, '/s', '{}', { ...TIMING, heartbeatMs: 10, verifyAfterMs: 60_000 });
    await sleep(120);
    assert.ok(host.calls >= 4, `${host.calls} touches in 120 ms`);
    await lock.release();
    const after = host.calls;
    await sleep(50);
    assert.equal(host.calls, after, 'none after the release');
  });

  test('the heartbeat finds the takeover by itself', async () => {
    const host = lockHost(() => ok('gone\n'));
    const lock = keepLock(host, '/s', '{}', { ...TIMING, heartbeatMs: 10, verifyAfterMs: 60_000 });
    await sleep(80);
    assert.match((await lock.check()) ?? '', /removed while this run held it/);
    const beats = host.calls;
    await sleep(50);
    assert.equal(host.calls, beats, 'no beat after the loss');
  });

  test('a lock that cannot be confirmed in time stops the run too: it may be stale for the others', async () => {
    const hang = lockHost(() => new Promise(() => undefined));
    const lock = keepLock(hang, '/s', '{}', TIMING);
    await sleep(60);
    const t0 = Date.now();
    assert.match(
      (await lock.check()) ?? '',
      /cannot confirm .* run lock on meet \(no answer in 0\.2 s\); it stops here/,
    );
    assert.ok(Date.now() - t0 < 1000, 'bounded by answerMs');
    const killed = lockHost(() => Promise.resolve({ code: 124, stdout: '', stderr: '' }));
    const lock2 = keepLock(killed, '/s', '{}', TIMING);
    await sleep(60);
    assert.match((await lock2.check()) ?? '', /\(the host did not answer in time\)/, "killed by the host's timeout");
    const odd = lockHost(() => Promise.resolve({ code: 8, stdout: '', stderr: '/s/run.lock is not a regular file\n' }));
    const lock3 = keepLock(odd, '/s', '{}', TIMING);
    await sleep(60);
    assert.match((await lock3.check()) ?? '', /\(\/s\/run\.lock is not a regular file\)/);
    await lock.release();
  });

  test('several hosts asking at once share one confirmation', async () => {
    const host = lockHost(async () => {
      await sleep(20);
      return ok('ours\n');
    });
    const lock = keepLock(host, '/s', '{}', TIMING);
    await sleep(60);
    assert.deepEqual(await Promise.all([lock.check(), lock.check(), lock.check()]), [null, null, null]);
    assert.equal(host.calls, 1);
    await lock.release();
  });
});

describe('review: a takeover against a holder that wakes up', () => {
  test('review: the holder touches its lock between the two round trips of a takeover: both runs then hold it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-lock-race-'));
    const stateDir = join(dir, 'state');
    const local = new LocalHost('meet', { enabled: false, user: 'root' }, join(dir, 'backups'));
    const timing: LockTiming = { staleS: 1, heartbeatMs: 60_000, verifyAfterMs: 50, answerMs: 5000 };
    const a = await acquireRunLock(local, stateDir, 'run-a', timing);
    // Run A sleeps past the stale time: its lock is ten seconds old.
    const lockFile = join(stateDir, 'run.lock');
    const old = new Date(Date.now() - 10_000);
    await utimes(lockFile, old, old);
    await sleep(60);
    // Run B finds it stale; as B's takeover is on its way, A wakes and its next change confirms the lock.
    let acquires = 0;
    const b: Host = Object.create(local) as Host;
    b.exec = async (argv, opts) => {
      if (argv.some((w) => w.includes('set -C')) && ++acquires === 2)
        assert.equal(await a.check(), null, 'A confirmed its lock: the lock still held its content');
      return local.exec(argv, opts);
    };
    const bLock = await acquireRunLock(b, stateDir, 'run-b', timing).catch((e: Error) => e);
    const aSays = await a.check();
    assert.ok(
      bLock instanceof Error || aSays !== null,
      'either B is refused (A touched the lock before B removed it), or A learns before its next change that it lost the lock',
    );
  });
});
