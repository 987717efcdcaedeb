/*
 * review: the host's file scripts against the user who owns the directory they work in. Debian's
 * jitsi-videobridge2 gives /etc/jitsi/videobridge to jvb:jitsi (debian/postinst: chown -R jvb:jitsi
 * "$CONFIG_DIR"), so the bridge's own service user, the one exposed to the network, may rename,
 * unlink and link there while root reads and writes jvb.conf. fs.protected_symlinks does not help:
 * the directory is not sticky and world-writable. Runs as root (the attacker is `nobody`).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { LocalHost } from '../../src/transport/local-host.js';

const SWAPPER = fileURLToPath(new URL('../support/link-swapper.js', import.meta.url));
const NOBODY = 65534;
const why = process.getuid?.() === 0 ? null : 'needs root (the attacker runs as nobody)';
if (why && process.env.CI) throw new Error(`the write-race tests cannot run: ${why}`);

const started: ChildProcess[] = [];
after(() => started.forEach((p) => p.kill('SIGKILL')));

/** A bridge's config directory owned by `nobody`, its jvb.conf, and a root-only file beside it. */
function bridgeDir() {
  const base = mkdtempSync(join(tmpdir(), 'js-race-'));
  chmodSync(base, 0o711);
  const vb = join(base, 'videobridge');
  mkdirSync(vb);
  chownSync(vb, NOBODY, NOBODY);
  chmodSync(vb, 0o750);
  const conf = join(vb, 'jvb.conf');
  writeFileSync(conf, 'videobridge {}\n');
  chownSync(conf, NOBODY, NOBODY);
  const victim = join(base, 'shadow');
  writeFileSync(victim, 'root:$6$the-root-hash:19000:0:99999:7:::\n', { mode: 0o600 });
  const host = new LocalHost('bridge', { enabled: false, user: 'root' }, join(base, 'backups'));
  return { vb, conf, victim, host };
}

async function attacker(args: string[]): Promise<void> {
  const p = spawn(process.execPath, [SWAPPER, ...args], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(p);
  await new Promise((resolve) => p.stdout.once('data', resolve));
}

const untouched = (victim: string) => {
  const s = statSync(victim);
  return { uid: s.uid, mode: (s.mode & 0o777).toString(8), text: readFileSync(victim, 'utf8') };
};

describe('review: the directory owner races the host scripts', { skip: why ?? false }, () => {
  test('review: a temp file swapped for a link: root writes the new jvb.conf through it and gives the file it leads to to that user', async () => {
    const { vb, conf, victim, host } = bridgeDir();
    const before = untouched(victim);
    await attacker(['temp', vb, victim]);
    const content = `videobridge {}\nshard { PASSWORD = "s3cret" }\n${'#'.repeat(1 << 20)}\n`;
    for (let i = 0; i < 10; i++) {
      await host.writeFile(conf, content).catch(() => undefined);
      assert.deepEqual(
        untouched(victim),
        before,
        `after write ${i + 1}: the root-only file beside the directory is as it was`,
      );
    }
  });

  test('review: jvb.conf swapped for a link between the check and the read: the read returns a root-only file from outside', async () => {
    const { vb, conf, victim, host } = bridgeDir();
    await attacker(['toggle', vb, victim]);
    let leaked = 0;
    for (let i = 0; i < 200; i++) {
      const text = await host.readFile(conf).catch(() => null);
      if (text?.includes('the-root-hash')) leaked++;
    }
    assert.equal(leaked, 0, `${leaked} of 200 reads returned the content of ${victim}`);
  });
});
