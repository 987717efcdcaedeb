import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnreachableError } from '../../src/transport/host.js';
import { connectSsh, type TestTarget } from '../support/ssh-connect.js';
import { fileOperationContract } from './file-operations.js';
import { fileLinksContract } from './file-links.js';
import { freePort, ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';

await ensureSshd();
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

  fileLinksContract(
    'ssh host',
    async (policy) => {
      const dir = await mkdtemp(join(tmpdir(), 'js-ssh-links-'));
      const backupDir = join(dir, 'backups');
      const host = await connectSsh(target(), { enabled: false, user: 'root' }, backupDir);
      host.linkPolicy = policy(dir);
      return { host, dir, backupDir };
    },
    { root: true },
  );

  test('one connection serves many commands, also in parallel', async () => {
    const host = await connectSsh(target(), { enabled: false, user: 'root' }, '/tmp/unused');
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => host.exec(['echo', String(i)])));
      assert.deepEqual(
        results.map((r) => r.stdout),
        Array.from({ length: 8 }, (_, i) => `${i}\n`),
      );
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
    const pending = host
      .writeFile(path, 'new\n', { validate: ['sh', '-c', 'touch "$1.validating"; sleep 1', 'v', path] })
      .catch((e: Error) => e);
    for (let i = 0; i < 100 && !existsSync(`${path}.validating`); i++) await new Promise((r) => setTimeout(r, 20));
    await host.close();
    assert.ok((await pending) instanceof Error, 'the write reports failure');
    await new Promise((r) => setTimeout(r, 2000)); // the validator's sleep ends; the script must then give up
    assert.equal(readFileSync(path, 'utf8'), 'old\n');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('jitsi-scale')),
      [],
      'no temp file left',
    );
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

  test('a passphrase-protected key: from JITSI_SCALE_SSH_PASSPHRASE or the prompt; a wrong or missing one is one clear line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-pass-'));
    const key = join(dir, 'id_locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
    execFileSync('sh', ['-c', `cat "$1.pub" >> "$2"`, 'add', key, join(sshd.dir, 'authorized_keys')]);
    const asked: string[] = [];
    const host = await connectSsh(target({ privateKeyPath: key }), { enabled: false, user: 'root' }, '/tmp/x', {
      passphrase: async (q) => (asked.push(`${q.host} ${q.keyFile}`), 'open sesame'),
    });
    assert.equal((await host.exec(['echo', 'in'])).stdout, 'in\n');
    await host.close();
    assert.deepEqual(asked, [`meet ${key}`]);
    await assert.rejects(
      connectSsh(target({ privateKeyPath: key }), { enabled: false, user: 'root' }, '/tmp/x', {
        passphrase: async () => 'wrong',
      }),
      (e: unknown) => e instanceof UnreachableError && e.message === `wrong passphrase for private key ${key}`,
    );
    await assert.rejects(
      connectSsh(target({ privateKeyPath: key }), { enabled: false, user: 'root' }, '/tmp/x'),
      (e: unknown) =>
        e instanceof UnreachableError &&
        e.message ===
          `private key ${key} is protected by a passphrase and none was given; set JITSI_SCALE_SSH_PASSPHRASE, add the key to ssh-agent, or run on a terminal to be asked`,
    );
    process.env.JITSI_SCALE_SSH_PASSPHRASE = 'open sesame';
    try {
      const viaEnv = await connectSsh(target({ privateKeyPath: key }), { enabled: false, user: 'root' }, '/tmp/x');
      await viaEnv.close();
    } finally {
      delete process.env.JITSI_SCALE_SSH_PASSPHRASE;
    }
  });

  test('host keys: known passes; unknown is refused or recorded by policy; a changed key is refused with both fingerprints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-kh-'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    await assert.rejects(
      connectSsh(target({ knownHostsFile: empty, hostKeyPolicy: 'ask' }), { enabled: false, user: 'root' }, '/tmp/x'),
      (e: unknown) =>
        e instanceof UnreachableError &&
        /^unknown host key for meet \(127\.0\.0\.1:\d+\): ssh-ed25519 SHA256:\S+; check it, then run again with --accept-new-host-keys/.test(
          e.message,
        ),
    );
    const offered: string[] = [];
    const trusted = await connectSsh(
      target({ knownHostsFile: empty, hostKeyPolicy: 'ask' }),
      { enabled: false, user: 'root' },
      '/tmp/x',
      { trustHostKey: async (q) => (offered.push(q.fingerprint), true) },
    );
    await trusted.close();
    assert.equal(offered.length, 1);
    assert.match(readFileSync(empty, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 \\S+\\n$`));
    const other = await startLocalSshd();
    try {
      const wrong = join(dir, 'wrong');
      writeFileSync(wrong, readFileSync(other.knownHosts, 'utf8').replace(`:${other.port}`, `:${sshd.port}`));
      await assert.rejects(
        connectSsh(
          target({ knownHostsFile: wrong, hostKeyPolicy: 'accept-new' }),
          { enabled: false, user: 'root' },
          '/tmp/x',
        ),
        (e: unknown) =>
          e instanceof UnreachableError &&
          e.message.startsWith(
            `HOST KEY CHANGED for meet (127.0.0.1:${sshd.port}): known_hosts has ssh-ed25519 SHA256:`,
          ) &&
          e.message.includes(`(${wrong}:1), the host offers ssh-ed25519 ${offered[0]}.`),
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
      (e: unknown) =>
        e instanceof UnreachableError &&
        e.message === `connection refused by 127.0.0.1:${port} (is sshd running on that port?)`,
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
        (e: unknown) =>
          e instanceof UnreachableError && /^timed out connecting to 127\.0\.0\.1:\d+ after 1s/.test(e.message),
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
      // Kill this session's own sshd child: the server side of our connection disappears. The
      // command runs under the deadline's wrapper and `timeout`: the session is further up.
      const pending = host.exec([
        'sh',
        '-c',
        'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d " " -f 4 /proc/$p/stat); done; kill -9 "$p"; sleep 30',
      ]);
      await assert.rejects(pending, (e: unknown) => e instanceof UnreachableError);
      await assert.rejects(
        host.exec(['true']),
        (e: unknown) => e instanceof UnreachableError && /connection/.test(e.message),
      );
    } finally {
      await host.close();
    }
  });
});
