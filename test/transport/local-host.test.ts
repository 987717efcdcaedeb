import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostError, type ExecOptions, type ExecResult } from '../../src/transport/host.js';
import type { RunLimits } from '../../src/transport/shell-host.js';
import { LocalHost } from '../../src/transport/local-host.js';
import { CachedReads } from '../../src/transport/cached-reads.js';
import { fileOperationContract } from './file-operations.js';
import { fileLinksContract } from './file-links.js';
import type { LinkPolicy } from '../../src/transport/link-policy.js';

fileOperationContract('local host', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'js-local-'));
  const backupDir = join(dir, 'backups');
  return { host: new LocalHost('local', { enabled: false, user: 'root' }, backupDir), dir, backupDir };
});

// The read cache must keep every promise of the file contract.
fileOperationContract('local host behind the read cache', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'js-cached-'));
  const backupDir = join(dir, 'backups');
  return { host: new CachedReads(new LocalHost('local', { enabled: false, user: 'root' }, backupDir)), dir, backupDir };
});

const local = (backupDir: string, policy: LinkPolicy) => {
  const host = new LocalHost('local', { enabled: false, user: 'root' }, backupDir);
  host.linkPolicy = policy;
  return host;
};

fileLinksContract(
  'local host',
  async (policy) => {
    const dir = await mkdtemp(join(tmpdir(), 'js-links-'));
    const backupDir = join(dir, 'backups');
    return { host: local(backupDir, policy(dir)), dir, backupDir };
  },
  { root: process.getuid?.() === 0 },
);

fileLinksContract(
  'local host behind the read cache',
  async (policy) => {
    const dir = await mkdtemp(join(tmpdir(), 'js-links-cached-'));
    const backupDir = join(dir, 'backups');
    return { host: new CachedReads(local(backupDir, policy(dir))), dir, backupDir };
  },
  { root: process.getuid?.() === 0 },
);

test('bytes damaged on their way to the host are caught before the rename: the live file keeps its content', async () => {
  // A transport that flips one bit of what it sends: the host must notice, not install it.
  class Damaging extends LocalHost {
    protected override run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
      if (!Buffer.isBuffer(opts.stdin) || opts.stdin.length === 0) return super.run(commandLine, opts, limits);
      const bytes = Buffer.from(opts.stdin);
      bytes[bytes.length - 1]! ^= 1;
      return super.run(commandLine, { ...opts, stdin: bytes }, limits);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'js-damaged-'));
  const path = join(dir, 'jvb.conf');
  await writeFile(path, 'old\n');
  const host = new Damaging('bridge1', { enabled: false, user: 'root' }, join(dir, 'backups'));
  await assert.rejects(
    host.writeFile(path, 'new content\n'),
    (e: Error) =>
      e instanceof HostError &&
      e.host === 'bridge1' &&
      e.message.startsWith(`cannot write ${path}: the bytes written on the host are not the ones sent (sha256 `) &&
      e.message.endsWith(`: the temp file is removed and ${path} is left as it was`),
  );
  assert.equal(await readFile(path, 'utf8'), 'old\n');
  assert.deepEqual(await readdir(dir), ['jvb.conf'], 'no temp file, and no backup of a write that did not happen');
});

describe('review: a command that does not read all its input', () => {
  // A pipe holds 64 KiB: more than that, and the write to a command that exited fails with EPIPE.
  const big = Buffer.alloc(4 << 20, 'x');

  test('review: exiting before reading its stdin gives its exit code, not a crash of this process', async () => {
    const host = new LocalHost('local', { enabled: false, user: 'root' }, tmpdir());
    const r = await host.exec(['sh', '-c', 'exit 3'], { stdin: big });
    assert.equal(r.code, 3);
  });

  test('review: a large write refused before it reads its content (no such directory) is refused in words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-epipe-'));
    const host = new LocalHost('local', { enabled: false, user: 'root' }, join(dir, 'backups'));
    const path = join(dir, 'missing', 'jvb.conf');
    await assert.rejects(host.writeFile(path, big.toString()), (e: Error) =>
      e.message.startsWith(`cannot write ${path}: directory ${join(dir, 'missing')} does not exist`),
    );
  });
});
