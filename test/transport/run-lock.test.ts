/*
 * The run lock between real processes: runs of test/support/lock-run.ts, each a process of its
 * own, some on "other machines" (a mount namespace where another machine id is read), one stopped
 * with SIGSTOP as a laptop that sleeps. Needs root for the namespaces.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { acquireRunLock } from '../../src/engine/run-lock.js';
import { ensureSshd, sshdUnavailable, useLocalSshd } from '../support/local-sshd.js';
import { connectSsh, type TestTarget } from '../support/ssh-connect.js';

const CHILD = fileURLToPath(new URL('../support/lock-run.js', import.meta.url));

const whyNot = (): string | null => {
  if (process.getuid?.() !== 0) return 'needs root (mount namespaces)';
  if (spawnSync('unshare', ['--mount', 'true']).status !== 0) return 'unshare --mount does not work here';
  return null;
};
const why = whyNot();
if (why && process.env.CI) throw new Error(`run-lock tests cannot run: ${why}`);
await ensureSshd();
const sshWhy = sshdUnavailable();
if (sshWhy && process.env.CI) throw new Error(`run-lock tests over ssh cannot run: ${sshWhy}`);

// As a machine with this id: its own mount namespace, where /etc/machine-id (or, on a host
// without one, /var/lib/dbus/machine-id) reads as `id`. Host name, pids and boot stay shared.
const AS_MACHINE = `
id=$1; shift
f=$(mktemp); printf '%s\\n' "$id" > "$f"
if [ -e /etc/machine-id ]; then mount --bind "$f" /etc/machine-id || exit 97
else mount -t tmpfs tmpfs /var/lib && mkdir -p /var/lib/dbus && cp "$f" /var/lib/dbus/machine-id || exit 97; fi
rm -f "$f"
exec "$@"`;

interface Run {
  proc: ChildProcess;
  out: () => string;
  done: Promise<number>;
}

const started: ChildProcess[] = [];
after(() => started.forEach((p) => p.exitCode === null && p.kill('SIGKILL')));

function startRun(root: string, runId: string, machine?: string, env: NodeJS.ProcessEnv = {}): Run {
  const node = [process.execPath, CHILD, root, runId];
  const argv = machine ? ['unshare', '--mount', 'sh', '-c', AS_MACHINE, 'sh', machine, ...node] : node;
  const proc = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<number>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { proc, out: () => out, done };
}

async function waitFor(path: string, run: Run, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} never appeared; the run said:\n${run.out()}`);
    if (run.proc.exitCode !== null) throw new Error(`the run ended (${run.proc.exitCode}) first:\n${run.out()}`);
    await sleep(25);
  }
}

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('one run at a time, between processes and machines', { skip: why ?? false }, () => {
  test('two machines with the same host name: neither takes the other live lock', async () => {
    const root = await mkdtemp(join(tmpdir(), 'js-lock-'));
    for (const [holder, other] of [
      [A, B],
      [B, A],
    ] as const) {
      const id = `hold-${holder.slice(0, 1)}`;
      const held = startRun(root, id, holder);
      await waitFor(join(root, `started-${id}`), held);
      const second = startRun(root, `try-${other.slice(0, 1)}`, other);
      assert.equal(await second.done, 2, second.out());
      assert.match(
        second.out(),
        new RegExp(
          `jitsi-scale: stopped: another jitsi-scale run holds this shard: run ${id} by root on ${hostname()} \\(pid ${held.proc.pid}\\), started \\S+ \\(machine ${holder.slice(0, 8)}\\)`,
        ),
      );
      await writeFile(join(root, `go-${id}`), '');
      assert.equal(await held.done, 0, held.out());
    }
  });

  test('a dead holder is taken over at once on its own machine only; a reused pid is no holder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'js-lock-'));
    const lock = join(root, 'state', 'run.lock');
    const held = startRun(root, 'dies', B);
    await waitFor(join(root, 'started-dies'), held);
    held.proc.kill('SIGKILL');
    await held.done;
    // From machine A the pid cannot be judged: the lock is fresh, so it holds.
    const fromA = startRun(root, 'from-a', A);
    assert.equal(await fromA.done, 2, fromA.out());
    assert.match(fromA.out(), /holds this shard: run dies /);
    // The same pid, alive again as another process (a sleep here), started later: not the holder.
    const reused = spawn('sleep', ['30']);
    started.push(reused);
    const content = JSON.parse(await readFile(lock, 'utf8')) as { pid: number };
    await writeFile(lock, `${JSON.stringify({ ...content, pid: reused.pid })}\n`);
    const fromB = startRun(root, 'from-b', B);
    await waitFor(join(root, 'started-from-b'), fromB);
    assert.match(
      fromB.out(),
      new RegExp(
        `took over the run lock of run dies .*: its process ${reused.pid} on this machine is gone \\(that pid is now another process\\)`,
      ),
    );
    await writeFile(join(root, 'go-from-b'), '');
    assert.equal(await fromB.done, 0, fromB.out());
    reused.kill();
  });

  test('every lock command is bounded: a busy guard fails in 5 s, a command that hangs is killed by the host in 20 s', async () => {
    const root = await mkdtemp(join(tmpdir(), 'js-lock-'));
    await mkdir(join(root, 'state'), { recursive: true });
    const guard = spawn('flock', [join(root, 'state', '.lock-guard'), 'sleep', '30']);
    started.push(guard);
    await sleep(300);
    let t0 = Date.now();
    const busy = startRun(root, 'busy');
    assert.equal(await busy.done, 2, busy.out());
    assert.match(busy.out(), /stopped: cannot take the run lock in \S+: another run held the lock guard for 5 s$/m);
    assert.ok(Date.now() - t0 < 12_000, `${Date.now() - t0} ms`);
    guard.kill();
    // A host whose flock never returns (it ignores -w): the host's own deadline ends it.
    const bin = join(root, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'flock'), '#!/bin/sh\necho $$ > "${0%/*}/flock.pid"\nexec sleep 300\n', { mode: 0o755 });
    t0 = Date.now();
    const hung = startRun(root, 'hung', undefined, { PATH: `${bin}:${process.env.PATH ?? ''}` });
    assert.equal(await hung.done, 2, hung.out());
    assert.match(hung.out(), /stopped: cannot take the run lock in \S+: the host did not answer in time$/m);
    const took = Date.now() - t0;
    assert.ok(took >= 19_000 && took < 30_000, `${took} ms`);
    const left = spawnSync('pgrep', ['-f', `${bin}/flock`])
      .stdout.toString()
      .trim();
    assert.equal(left, '', 'nothing of it is left running on the host');
  });

  test('a run stopped past the stale time (a laptop asleep) stops before its next change; the lock stays with the run that took over', async () => {
    const root = await mkdtemp(join(tmpdir(), 'js-lock-'));
    const env = { JITSI_SCALE_LOCK_STALE_S: '2' };
    const lock = join(root, 'state', 'run.lock');
    const sleeper = startRun(root, 'sleeper', undefined, env);
    await waitFor(join(root, 'started-sleeper'), sleeper);
    sleeper.proc.kill('SIGSTOP');
    // The lock's age, by the host clock in whole seconds, must pass 2.
    await sleep(3500);
    const taker = startRun(root, 'taker', undefined, env);
    await waitFor(join(root, 'started-taker'), taker);
    assert.match(taker.out(), /took over the run lock of run sleeper .*: it was last touched \d+ s ago/);
    // The laptop wakes up; what it was waiting for is there.
    await writeFile(join(root, 'go-sleeper'), '');
    sleeper.proc.kill('SIGCONT');
    assert.equal(await sleeper.done, 2, sleeper.out());
    assert.match(
      sleeper.out(),
      new RegExp(
        `jitsi-scale: stopped: the run lock on meet was taken over by run taker by root on ${hostname()} \\(pid ${taker.proc.pid}\\), started \\S+ \\(machine [0-9a-f]{8}\\); this run stops here and changes nothing more`,
      ),
    );
    assert.doesNotMatch(sleeper.out(), /done: write c\.cfg/);
    assert.ok(!existsSync(join(root, 'meet', 'c.cfg')), 'no write after the wake-up');
    assert.ok(!existsSync(join(root, 'restarted.log')), 'no restart either');
    assert.match(await readFile(lock, 'utf8'), /"runId":"taker"/, "the taker's lock stays");
    await writeFile(join(root, 'go-taker'), '');
    assert.equal(await taker.done, 0, taker.out());
    assert.equal(await readFile(join(root, 'meet', 'c.cfg'), 'utf8'), 'taker\n');
    assert.equal(await readFile(join(root, 'restarted.log'), 'utf8'), 'taker\n');
    assert.ok(!existsSync(lock), 'released');
  });
});

describe('the run lock over a real sshd, through sudo', { skip: sshWhy ?? false }, () => {
  const local = useLocalSshd();

  test('taken, refused to a second run, kept by a compare-and-touch, released only by its holder', async () => {
    const state = await mkdtemp(join(tmpdir(), 'js-lock-ssh-'));
    const target: TestTarget = { name: 'meet', ...local.target() };
    const [one, two] = await Promise.all(
      [0, 1].map(() => connectSsh(target, { enabled: true, user: 'root' }, join(state, 'backups'))),
    );
    try {
      const timing = { staleS: 120, heartbeatMs: 60_000, verifyAfterMs: 50, answerMs: 13_000 };
      const held = await acquireRunLock(one!, state, 'ssh-one', timing);
      await assert.rejects(
        acquireRunLock(two!, state, 'ssh-two', timing),
        /another jitsi-scale run holds this shard: run ssh-one by \S+ on \S+ \(pid \d+\)/,
      );
      const before = (await stat(join(state, 'run.lock'))).mtimeMs;
      await sleep(1100);
      assert.equal(await held.check(), null, 'confirmed over ssh');
      assert.ok((await stat(join(state, 'run.lock'))).mtimeMs > before, 'and touched');
      await held.release();
      const second = await acquireRunLock(two!, state, 'ssh-two', timing);
      await held.release();
      assert.match(
        await readFile(join(state, 'run.lock'), 'utf8'),
        /"runId":"ssh-two"/,
        'not released by the old holder',
      );
      await sleep(100);
      assert.match((await held.check()) ?? '', /taken over by run ssh-two/);
      await second.release();
      assert.ok(!existsSync(join(state, 'run.lock')));
    } finally {
      await Promise.all([one?.close(), two?.close()]);
    }
  });
});
