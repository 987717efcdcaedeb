import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HostError, type Host } from '../../src/transport/host.js';
import { connectSsh } from '../support/ssh-connect.js';
import { ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';

/*
 * review: the deadline stops the command's process group (coreutils' timeout). A command that
 * starts something in a session of its own (setsid, a daemon that detaches the way init scripts
 * do) leaves it running on the host after the deadline; if it keeps the command's output open,
 * this side waits past the deadline and then blames the host for not answering.
 */

await ensureSshd();
const why = sshdUnavailable();
if (why && process.env.CI) throw new Error(`the deadline tests cannot run in CI: ${why}`);

/** The pids on this machine (the host here) whose command line holds `marker`. */
function pids(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', marker]).toString().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const left: number[] = [];

describe('review: what a command detaches is stopped at its deadline too', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  let host: Host;
  before(async () => {
    sshd = await startLocalSshd();
    const target = {
      name: 'jvb1',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      privateKeyPath: sshd.clientKey,
      knownHostsFile: sshd.knownHosts,
    };
    host = await connectSsh(target, { enabled: false, user: 'root' }, await mkdtemp(join(tmpdir(), 'js-escape-')));
  });
  after(async () => {
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await host?.close();
    await sshd?.stop();
  });

  test('review: a process started in a session of its own outlives the deadline on the host', async () => {
    const marker = '3600.913';
    await assert.rejects(
      host.exec(['sh', '-c', `setsid sleep ${marker} >/dev/null 2>&1 </dev/null; :`], { deadline: 1 }),
      HostError,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const still = pids(`sleep ${marker}`);
    left.push(...still);
    assert.deepEqual(still, [], 'nothing the command started is left running');
  });

  test('review: one that keeps the output open makes this side wait 15 s more, then blame the host', async () => {
    const marker = '3600.914';
    const t0 = Date.now();
    const e = await host.exec(['sh', '-c', `setsid sleep ${marker}; :`], { deadline: 1 }).catch((x: Error) => x);
    left.push(...pids(`sleep ${marker}`));
    assert.ok(e instanceof HostError);
    assert.match(e.message, /did not finish within 1 s: it was stopped there$/);
    assert.ok(Date.now() - t0 < 8000, `${Date.now() - t0} ms`);
  });
});
