import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { ownLockInfo } from '../../src/engine/lock-holder.js';
import type { Playbook } from '../../src/engine/playbook.js';
import { runPlaybook, type RunResult } from '../../src/engine/run-playbook.js';
import type { Inventory } from '../../src/inventory/types.js';
import {
  localFleet,
  localOpener,
  localRunOptions,
  recorder,
  testPlaybook,
  watchedOpener,
  type Recorder,
  type Shared,
} from '../support/test-playbook.js';

const options = localRunOptions;

/** Writes a lock held by `holder`, touched `ageS` seconds ago. */
async function lockBy(root: string, holder: object, ageS = 0): Promise<string> {
  const lock = join(root, 'state', 'run.lock');
  await mkdir(join(root, 'state'), { recursive: true });
  await writeFile(lock, `${JSON.stringify(holder)}\n`);
  const then = new Date(Date.now() - ageS * 1000);
  await utimes(lock, then, then);
  return lock;
}

const tookOver = (rec: ReturnType<typeof recorder>) =>
  rec.of('run:discovered')[0]?.findings.find((f) => f.warn && /took over the run lock/.test(f.text))?.text ?? '';

/**
 * A run with a stale time of 2 s (the heartbeat beats every 250 ms) in which `meanwhile` happens
 * while it asks whether to write the bridges.
 */
async function midRun(
  inventory: Inventory,
  pb: Playbook<Shared>,
  root: string,
  rec: Recorder,
  meanwhile: () => Promise<void>,
): Promise<RunResult> {
  process.env.JITSI_SCALE_LOCK_STALE_S = '2';
  try {
    const decide = async (step: { id: string }) => {
      if (step.id === 'bridge-config') await meanwhile();
      return 'apply' as const;
    };
    return await runPlaybook(inventory, pb, options(root, { decide }), rec.sink);
  } finally {
    delete process.env.JITSI_SCALE_LOCK_STALE_S;
  }
}

describe('one run at a time', () => {
  test('a live holder is named and refused; its lock is left alone; a check run still looks', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    // This very process, as another run of it would be.
    const lock = await lockBy(root, { ...ownLockInfo('other-run'), user: 'ops' });
    const rec = recorder();
    const pb = testPlaybook(root);
    const refused = await runPlaybook(inventory, pb, options(root), rec.sink);
    assert.equal(refused.exitCode, 2);
    assert.match(
      rec.of('run:refused')[0]?.reason ?? '',
      /^another jitsi-scale run holds this shard: run other-run by ops on \S+ \(pid \d+\), started \S+ \(machine [0-9a-f]{8}\); wait for it to end/,
    );
    assert.deepEqual(pb.handlerRuns, [], 'nothing ran');
    assert.deepEqual(rec.of('facts:gathered'), [], 'no host read its facts: the run could not go on');
    assert.match(await readFile(lock, 'utf8'), /"runId":"other-run"/, 'their lock is left alone');
    const check = await runPlaybook(inventory, testPlaybook(root), options(root, { mode: 'check' }), recorder().sink);
    assert.equal(check.exitCode, 0);
  });

  test('a holder on this machine whose process is gone is taken over at once, with a note', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const dead = spawnSync('true').pid;
    const lock = await lockBy(root, { ...ownLockInfo('other-run'), pid: dead });
    const rec = recorder();
    const taken = await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink);
    assert.equal(taken.exitCode, 0);
    assert.match(tookOver(rec), new RegExp(`of run other-run .*: its process ${dead} on this machine is gone$`));
    await assert.rejects(stat(lock), /ENOENT/, 'released at the end');
  });

  test('a holder whose pid now belongs to another process (same pid, other start time) is stale', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    await lockBy(root, { ...ownLockInfo('other-run'), since: '1' });
    const rec = recorder();
    const taken = await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink);
    assert.equal(taken.exitCode, 0);
    assert.match(
      tookOver(rec),
      new RegExp(`its process ${process.pid} on this machine is gone \\(that pid is now another process\\)`),
    );
  });

  test('a holder with our host name on another machine is not judged by its pid: only by its age', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const dead = spawnSync('true').pid;
    const twin = { ...ownLockInfo('twin-run'), pid: dead, machine: 'e'.repeat(32) };
    await lockBy(root, twin, 5);
    const rec = recorder();
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink)).exitCode, 2);
    assert.match(rec.of('run:refused')[0]?.reason ?? '', /holds this shard: run twin-run .*\(machine eeeeeeee\)/);
    await lockBy(root, twin, 125);
    const rec2 = recorder();
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), rec2.sink)).exitCode, 0);
    assert.match(tookOver(rec2), /of run twin-run .*: it was last touched 12\d s ago$/);
  });

  test('a lock of an older version (host name and pid only) is judged by its age', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const dead = spawnSync('true').pid;
    const old = {
      runId: 'old-run',
      user: 'ops',
      host: ownLockInfo('x').host,
      pid: dead,
      started: '2026-01-01T00:00:00Z',
    };
    await lockBy(root, old, 5);
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), recorder().sink)).exitCode, 2);
    await lockBy(root, old, 200);
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), recorder().sink)).exitCode, 0);
  });

  test('a lock that is not a regular file refuses the run at once, naming it; nothing is written through it', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const state = join(root, 'state');
    const lock = join(state, 'run.lock');
    const elsewhere = join(root, 'elsewhere');
    await writeFile(elsewhere, 'keep\n');
    const shapes: [string, () => Promise<void>][] = [
      ['a FIFO', async () => void spawnSync('mkfifo', [lock])],
      ['a link to a file', () => symlink(elsewhere, lock)],
      ['a dangling link', () => symlink(join(root, 'nowhere'), lock)],
      ['a directory', () => mkdir(lock)],
    ];
    for (const [what, make] of shapes) {
      await rm(state, { recursive: true, force: true });
      await mkdir(state, { recursive: true });
      await make();
      const rec = recorder();
      const t0 = Date.now();
      const r = await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink);
      assert.equal(r.exitCode, 2, what);
      assert.equal(
        rec.of('run:refused')[0]?.reason,
        `cannot take the run lock in ${state}: ${lock} is not a regular file`,
        what,
      );
      assert.ok(Date.now() - t0 < 5000, `${what}: at once`);
    }
    assert.equal(await readFile(elsewhere, 'utf8'), 'keep\n');
    await assert.rejects(stat(join(root, 'nowhere')), /ENOENT/, 'a dangling link does not create its target');
  });

  test('a huge lock file is read 4 KiB deep: refused while fresh, taken over once old', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const lock = join(root, 'state', 'run.lock');
    await mkdir(join(root, 'state'), { recursive: true });
    await writeFile(lock, Buffer.alloc(8 << 20, 'x'));
    const rec = recorder();
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink)).exitCode, 2);
    assert.match(
      rec.of('run:refused')[0]?.reason ?? '',
      /another jitsi-scale run holds this shard: a lock that does not say whose it is \("x{80}"\)/,
    );
    const then = new Date(Date.now() - 200_000);
    await utimes(lock, then, then);
    const rec2 = recorder();
    assert.equal((await runPlaybook(inventory, testPlaybook(root), options(root), rec2.sink)).exitCode, 0);
    assert.match(tookOver(rec2), /it was last touched 2\d\d s ago$/);
  });

  test('facts and files are read after the lock: a run that took over plans from the state the other run left', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const main = join(dirOf('meet'), 'main.cfg');
    await writeFile(main, 'a = 1\n');
    await lockBy(root, { ...ownLockInfo('other-run'), pid: spawnSync('true').pid });
    // While our run asks for the lock, the other run's last change and its restart mark land.
    const watched = watchedOpener(localOpener(root), async (host, kind) => {
      if (host !== 'meet' || kind !== 'lock') return;
      await writeFile(main, 'b = 2\n');
      await mkdir(join(root, 'state', 'pending'), { recursive: true });
      await writeFile(join(root, 'state', 'pending', 'restart-thing'), 'other-run restart-thing\n');
    });
    const rec = recorder();
    const pb = testPlaybook(root, { prefetch: true });
    const r = await runPlaybook(inventory, pb, options(root, { openHost: watched.open }), rec.sink);
    assert.equal(r.exitCode, 0, JSON.stringify(r.hosts));
    assert.equal(await readFile(main, 'utf8'), 'iface = "0.0.0.0"\nb = 2\n');
    const planned = rec.of('step:planned').find((e) => e.step === 'top-line');
    assert.match(planned?.changes[0]?.diff ?? '', /^ b = 2$/m, 'planned from the file as it was after the lock');
    // The local hosts share one state directory: the mark is found with the facts of both.
    assert.ok(
      rec.of('handler:run').some((e) => e.description === 'restart the thing (left pending by run other-run)'),
      'the restart the other run left is seen',
    );
    // What it cost on the meet host: the lock (asked, then taken over), then the facts with the
    // prefetched file, in that order.
    assert.deepEqual(watched.trips.get('meet')?.slice(0, 3), ['lock', 'lock', 'facts']);
  });

  test('round trips: the lock costs one on the meet host and none elsewhere; the facts still one per host', async () => {
    const { inventory, root } = await localFleet(['jvb1', 'jvb2']);
    const watched = watchedOpener(localOpener(root));
    const r = await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { openHost: watched.open }),
      recorder().sink,
    );
    assert.equal(r.exitCode, 0);
    const count = (host: string, kind: string) => watched.trips.get(host)?.filter((k) => k === kind).length ?? 0;
    assert.equal(count('meet', 'lock'), 1);
    assert.equal(count('meet', 'lock-release'), 1);
    assert.equal(count('meet', 'lock-touch'), 0, 'a short run needs no heartbeat, and no confirmation');
    for (const h of ['meet', 'jvb1', 'jvb2']) assert.equal(count(h, 'facts'), 1, h);
    for (const h of ['jvb1', 'jvb2']) assert.equal(watched.trips.get(h)?.filter((k) => k.startsWith('lock')).length, 0);
  });

  test('with --forks 1 the lock is asked for first, and the run still goes on', async () => {
    const { inventory, root } = await localFleet(['jvb1', 'jvb2']);
    const rec = recorder();
    const r = await runPlaybook(inventory, testPlaybook(root), options(root, { forks: 1 }), rec.sink);
    assert.equal(r.exitCode, 0);
    assert.equal(rec.of('host:connecting')[0]?.host, 'meet');
  });

  test('a lock taken over in the middle of the run stops it before its next change: no write, no restart', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const lock = join(root, 'state', 'run.lock');
    const thief = { ...ownLockInfo('thief-run'), user: 'mallory', host: 'ubuntu' };
    const pb = testPlaybook(root);
    const rec = recorder();
    const r = await midRun(inventory, pb, root, rec, async () => {
      await writeFile(lock, `${JSON.stringify(thief)}\n`);
      // Longer than a heartbeat (250 ms): it finds the lock is not ours.
      await sleep(600);
    });
    assert.equal(r.exitCode, 2);
    const said = rec.of('run:refused')[0]?.reason ?? '';
    assert.match(
      said,
      /^the run lock on meet was taken over by run thief-run by mallory on ubuntu \(pid \d+\), started \S+ \(machine [0-9a-f]{8}\); this run stops here and changes nothing more$/,
    );
    assert.equal(r.hosts.find((h) => h.host === 'meet')?.error, said);
    await assert.rejects(stat(join(dirOf('jvb1'), 'bridge.properties')), /ENOENT/, 'the bridge was not written');
    assert.deepEqual(pb.handlerRuns, [], 'no restart either: the run that holds the lock does it');
    assert.match(await readFile(join(root, 'state', 'pending', 'restart-thing'), 'utf8'), /^test-run /);
    assert.match(await readFile(lock, 'utf8'), /"runId":"thief-run"/, 'their lock stays');
  });

  test('a lock removed in the middle of the run stops it too', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const pb = testPlaybook(root);
    const rec = recorder();
    const r = await midRun(inventory, pb, root, rec, async () => {
      await rm(join(root, 'state', 'run.lock'));
      await sleep(600);
    });
    assert.equal(r.exitCode, 2);
    assert.match(rec.of('run:refused')[0]?.reason ?? '', /^the run lock on meet was removed while this run held it/);
    assert.deepEqual(
      rec.of('task:changed').map((e) => e.host),
      ['meet'],
    );
  });
});
