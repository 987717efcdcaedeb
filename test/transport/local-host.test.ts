import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../../src/transport/local-host.js';
import { fileOperationContract } from './file-operations.js';

fileOperationContract('local host', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'js-local-'));
  const backupDir = join(dir, 'backups');
  return { host: new LocalHost('local', { enabled: false, user: 'root' }, backupDir), dir, backupDir };
});
