import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SECRET_FILE } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import { Redactor } from '../../src/engine/redactor.js';
import type { Host, WriteOptions } from '../../src/transport/host.js';
import { LocalHost } from '../../src/transport/local-host.js';
import { plant } from '../support/rooted-host.js';
import { planBridgeConfig, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';

/*
 * A file this tool creates to hold the shard's secret is 0640 and the bridge's group, never the
 * 0644 of a plain new file; a file that exists keeps its owner and mode. The group is a real one,
 * made for the test (root needed).
 */

const groupadd = spawnSync('sh', ['-c', 'command -v groupadd && command -v groupdel']).status === 0;
const why = process.getuid?.() !== 0 ? 'needs root (to make a group)' : !groupadd ? 'needs groupadd' : undefined;
if (why && process.env.CI) throw new Error(`the secret file mode test cannot run in CI: ${why}`);

const group = `jstest${randomBytes(3).toString('hex')}`;
let gid = -1;

describe('a file that will hold a secret', { skip: why }, () => {
  before(() => {
    assert.equal(spawnSync('groupadd', [group]).status, 0, `groupadd ${group}`);
    gid = Number(spawnSync('getent', ['group', group], { encoding: 'utf8' }).stdout.split(':')[2]);
  });
  after(() => void spawnSync('groupdel', [group]));

  const host = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-mode-'));
    return { dir, host: new LocalHost('local', { enabled: false, user: 'root' }, join(dir, 'backups')) };
  };

  test('created by us: mode 0640 and the group asked for, even under a permissive umask', async () => {
    const { dir, host: h } = await host();
    const old = process.umask(0o000);
    try {
      await h.writeFile(join(dir, 'jvb.conf'), 'PASSWORD = "s"\n', { create: { mode: 0o640, group } });
    } finally {
      process.umask(old);
    }
    const st = await stat(join(dir, 'jvb.conf'));
    assert.equal((st.mode & 0o7777).toString(8), '640');
    assert.equal(st.gid, gid);
    assert.equal(st.uid, 0);
  });

  test('a plain new file is still 0644: the mode is asked for, not assumed', async () => {
    const { dir, host: h } = await host();
    await h.writeFile(join(dir, 'plain.txt'), 'x\n');
    assert.equal(((await stat(join(dir, 'plain.txt'))).mode & 0o7777).toString(8), '644');
  });

  test('an existing file keeps its owner, group and mode', async () => {
    const { dir, host: h } = await host();
    for (const [name, mode, g] of [
      ['tight.conf', 0o600, 0],
      ['open.conf', 0o644, gid],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, 'old\n');
      await chmod(path, mode);
      await chown(path, 0, g);
      await h.writeFile(path, 'PASSWORD = "new"\n', { create: { mode: 0o640, group } });
      const st = await stat(path);
      assert.equal((st.mode & 0o7777).toString(8), mode.toString(8), name);
      assert.equal(st.gid, g, name);
    }
  });

  test('a group that does not exist fails the write, naming the file; nothing is left behind', async () => {
    const { dir, host: h } = await host();
    const path = join(dir, 'jvb.conf');
    await assert.rejects(
      h.writeFile(path, 'PASSWORD = "s"\n', { create: { mode: 0o640, group: `${group}-missing` } }),
      new RegExp(`cannot write ${path.replace(/[.]/g, '\\.')}: .*${group}-missing`),
    );
    assert.equal(spawnSync('sh', ['-c', `ls -A ${dir}`], { encoding: 'utf8' }).stdout.trim(), '');
  });
});

describe("the bridge's config, when setup creates it", () => {
  test("is planned and written as 0640, group jitsi (the package's group for user jvb)", async () => {
    assert.deepEqual(SECRET_FILE, { mode: 0o640, group: 'jitsi' });
    const { root, inventory } = await rootedShard({ old: 'old-pw-1', new: 'shard-pw-2' });
    // The bridge has the package but its config is gone: bridge-config writes a new one.
    await plant(root, 'jvb1', { '/etc/jitsi/videobridge/sip-communicator.properties': '# empty\n' });
    spawnSync('rm', ['-f', join(root, 'jvb1/etc/jitsi/videobridge/jvb.conf')]);
    const ctx = rootedDiscovery(root, inventory, new Redactor());
    const shared = await discoverShard(ctx);
    const plan = await planBridgeConfig(ctx, 'jvb1', shared, new Redactor());
    const create = plan.changes.find((c) => c.description.includes('jvb.conf'))!;
    assert.match(create.description, /\(new file: mode 0640, group jitsi\)/);
    const writes: WriteOptions[] = [];
    const recording = {
      name: 'jvb1',
      writeFile: async (_p: string, _c: string, o: WriteOptions = {}) => {
        writes.push(o);
        return { backup: null };
      },
    } as unknown as Host;
    await create.apply(recording, { output: () => undefined });
    assert.deepEqual(writes[0]?.create, { mode: 0o640, group: 'jitsi' });
    assert.equal(writes[0]?.expectSha256, 'absent');
    assert.equal(writes[0]?.mode, undefined, 'an existing file would keep its own mode');
  });
});
