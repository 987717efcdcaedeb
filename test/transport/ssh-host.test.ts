import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreachableError } from '../../src/transport/host.js';
import { connectSsh, type TestTarget } from '../support/ssh-connect.js';
import { fileOperationContract } from './file-operations.js';
import { freePort, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';

const why = sshdUnavailable();
if (why && process.env.CI) throw new Error(`SSH transport tests cannot run in CI: ${why}`);

describe('ssh host against a real sshd', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  before(async () => {
    sshd = await startLocalSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  const target = (over: Partial<TestTarget> = {}): TestTarget => ({
    name: 'meet',
    address: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    privateKeyPath: sshd.clientKey,
    knownHostsFile: sshd.knownHosts,
    connectTimeoutMs: 5000,
    keepaliveIntervalMs: 5000,
    ...over,
  });

  fileOperationContract('ssh host', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-ssh-'));
    const backupDir = join(dir, 'backups');
    const host = await connectSsh(target(), { enabled: false, user: 'root' }, backupDir);
    return { host, dir, backupDir };
  });

  test('one connection serves many commands, also in parallel', async () => {
    const host = await connectSsh(target(), { enabled: false, user: 'root' }, '/tmp/unused');
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => host.exec(['echo', String(i)])));
      assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 8 }, (_, i) => `${i}\n`));
      // One TCP connection from us to sshd, whatever the number of commands.
      const ss = await host.exec(['sh', '-c', `ss -Htn state established '( sport = :${sshd.port} )' | wc -l`]);
      assert.equal(ss.stdout.trim(), '1');
    } finally {
      await host.close();
    }
  });

  test('a write cut off by a dropped connection leaves the old file and no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-ssh-cut-'));
    const path = join(dir, 'live.conf');
    const first = await connectSsh(target(), { enabled: false, user: 'root' }, join(dir, 'b'));
    await first.writeFile(path, 'old\n');
    await first.close();
    const host = await connectSsh(target(), { enabled: false, user: 'root' }, join(dir, 'b'));
    // The validator runs after the temp file is written and before the rename: drop the line then.
    const pending = host.writeFile(path, 'new\n', { validate: ['sh', '-c', 'touch "$1.validating"; sleep 1', 'v', path] }).catch((e: Error) => e);
    for (let i = 0; i < 100 && !existsSync(`${path}.validating`); i++) await new Promise((r) => setTimeout(r, 20));
    await host.close();
    assert.ok((await pending) instanceof Error, 'the write reports failure');
    await new Promise((r) => setTimeout(r, 2000)); // the validator's sleep ends; the script must then give up
    assert.equal(readFileSync(path, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('jitsi-scale')), [], 'no temp file left');
  });

  test('become runs commands through sudo -n as the become user', async () => {
    const host = await connectSsh(target(), { enabled: true, user: 'nobody' }, '/tmp/unused');
    try {
      const r = await host.exec(['id', '-un']);
      if (r.code !== 0 && /sudo: (not found|command not found)/.test(r.stderr)) {
        assert.fail('sudo is not installed: apt-get install sudo');
      }
      assert.equal(r.stdout.trim(), 'nobody');
      const plain = await host.exec(['id', '-un'], { noBecome: true });
      assert.equal(plain.stdout.trim(), 'root');
    } finally {
      await host.close();
    }
  });

  test('a wrong key is "permission denied", naming user and address', async () => {
    const other = await startLocalSshd();
    try {
      await assert.rejects(
        connectSsh(target({ privateKeyPath: other.clientKey }), { enabled: false, user: 'root' }, '/tmp/x'),
        (e: unknown) => e instanceof UnreachableError && /^permission denied for root@127\.0\.0\.1:\d+/.test(e.message),
      );
    } finally {
      await other.stop();
    }
  });

  test('a closed port is "connection refused", at once', async () => {
    const port = await freePort();
    const t0 = Date.now();
    await assert.rejects(
      connectSsh(target({ port }), { enabled: false, user: 'root' }, '/tmp/x'),
      (e: unknown) => e instanceof UnreachableError && e.message === `connection refused by 127.0.0.1:${port} (is sshd running on that port?)`,
    );
    assert.ok(Date.now() - t0 < 2000);
  });

  test('a server that never speaks SSH times out within the connect timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    try {
      await assert.rejects(
        connectSsh(target({ port, connectTimeoutMs: 1000 }), { enabled: false, user: 'root' }, '/tmp/x'),
        (e: unknown) => e instanceof UnreachableError && /^timed out connecting to 127\.0\.0\.1:\d+ after 1s/.test(e.message),
      );
      const took = Date.now() - t0;
      assert.ok(took >= 900 && took < 3000, `took ${took} ms`);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  test('a host that goes away mid-run fails that host with a clear reason, not a hang', async () => {
    const host = await connectSsh(target({ keepaliveIntervalMs: 500 }), { enabled: false, user: 'root' }, '/tmp/x');
    try {
      // Kill this session's own sshd child: the server side of our connection disappears.
      const pending = host.exec(['sh', '-c', 'kill -9 $PPID; sleep 30']);
      await assert.rejects(pending, (e: unknown) => e instanceof UnreachableError);
      await assert.rejects(host.exec(['true']), (e: unknown) => e instanceof UnreachableError && /connection/.test(e.message));
    } finally {
      await host.close();
    }
  });
});
