import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../src/transport/local-host.js';
import { CachedReads } from '../../src/transport/cached-reads.js';
import { fileOperationContract } from './file-operations.js';

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
