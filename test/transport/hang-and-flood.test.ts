import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { HostError, type Host } from '../../src/transport/host.js';
import { LocalHost } from '../../src/transport/local-host.js';
import { MAX_FILE_BYTES } from '../../src/transport/read-many.js';
import { OUTPUT_LIMITS } from '../../src/transport/output-capture.js';
import { connectSsh } from '../support/ssh-connect.js';
import { ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';

/*
 * Nothing hangs, nothing floods: a remote command that never ends is stopped on its host at its
 * deadline (with what it started), one that prints without end is stopped at the output cap, and a
 * file far larger than any config is refused after its first few MiB, with the process's memory
 * staying small. Over a real sshd (with and without sudo) and on this machine.
 */

await ensureSshd();
const why = sshdUnavailable();
if (why && process.env.CI) throw new Error(`the hang and flood tests cannot run in CI: ${why}`);

/** Processes on this machine whose command line holds `marker` (the hosts here are this machine). */
function running(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', '--', marker]).toString().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function gone(marker: string, withinMs = 3000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (running(marker).length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return running(marker).length === 0;
}

const PROBE = fileURLToPath(new URL('../support/rss-probe.js', import.meta.url));

/** Runs one flood or read in a process of its own: its error, and how much its peak memory grew (MiB). */
function inOwnProcess(job: object): { grewMiB: number; error: string } {
  const r = JSON.parse(execFileSync('node', [PROBE, JSON.stringify(job)]).toString()) as {
    baseMiB: number;
    peakMiB: number;
    error: string;
  };
  return { grewMiB: r.peakMiB - r.baseMiB, error: r.error };
}

describe('remote commands have deadlines and bounds', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  let dir: string;
  /** Each way of reaching a host, and the same as a job for a process of its own. */
  const hosts: { kind: string; open: () => Promise<Host>; job: object }[] = [];
  before(async () => {
    sshd = await startLocalSshd();
    dir = await mkdtemp(join(tmpdir(), 'js-hang-'));
    const target = {
      name: 'jvb1',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      privateKeyPath: sshd.clientKey,
      knownHostsFile: sshd.knownHosts,
    };
    const backups = join(dir, 'b');
    hosts.push(
      { kind: 'ssh', open: () => connectSsh(target, { enabled: false, user: 'root' }, backups), job: { target } },
      {
        kind: 'ssh+sudo',
        open: () => connectSsh(target, { enabled: true, user: 'root' }, backups),
        job: { target, become: true },
      },
      { kind: 'local', open: async () => new LocalHost('jvb1', { enabled: false, user: 'root' }, backups), job: {} },
    );
  });
  after(async () => {
    await sshd?.stop();
  });

  type Body = (h: Host, kind: string, n: number, job: object) => Promise<void>;
  const eachHost = (name: string, body: Body) =>
    test(name, async () => {
      for (const [n, { kind, open, job }] of hosts.entries()) {
        const h = await open();
        try {
          await body(h, kind, n, job);
        } finally {
          await h.close();
        }
      }
    });

  eachHost(
    'a command that never ends is stopped on the host at its deadline, named with its host',
    async (h, kind, n) => {
      const marker = `3600.${n}1`;
      const t0 = Date.now();
      await assert.rejects(
        h.exec(['sleep', marker], { deadline: 2, what: 'sleeping' }),
        (e: unknown) =>
          e instanceof HostError && e.message === 'sleeping on jvb1 did not finish within 2 s: it was stopped there',
      );
      const took = Date.now() - t0;
      assert.ok(took >= 1900 && took < 6000, `${kind}: stopped after ${took} ms`);
      assert.ok(await gone(`sleep ${marker}`), `${kind}: the sleep is gone from the host`);
      // The connection is still good for the next command.
      assert.equal((await h.exec(['echo', 'next'])).stdout, 'next\n');
    },
  );

  eachHost('what the command started is stopped with it, even when it ignores TERM', async (h, kind, n) => {
    const child = `3600.${n}2`;
    const stubborn = `3600.${n}3`;
    const t0 = Date.now();
    await assert.rejects(
      h.exec(['sh', '-c', `sleep ${child} & trap '' TERM; sleep ${stubborn}; wait`], { deadline: 1 }),
      (e: unknown) => e instanceof HostError && /did not finish within 1 s: it was stopped there$/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 9000, `${kind}: KILL came 5 s after TERM`);
    assert.ok(await gone(`sleep ${child}`), `${kind}: the background child is gone`);
    assert.ok(await gone(`sleep ${stubborn}`), `${kind}: the command that ignored TERM is gone`);
  });

  eachHost(
    'a command that floods is stopped at the output cap, and the process stays small',
    async (h, kind, _n, job) => {
      const flooded = 'yes on jvb1 printed more than 32 MiB: it was stopped';
      await assert.rejects(h.exec(['yes', 'flood'], { readOnly: true, what: 'yes' }), (e: unknown) => {
        return e instanceof HostError && e.message === flooded;
      });
      assert.ok(await gone('yes flood'), `${kind}: yes is gone`);
      assert.equal((await h.exec(['echo', 'next'])).stdout, 'next\n');
      const own = inOwnProcess({ ...job, op: 'flood' });
      assert.equal(own.error, flooded);
      assert.ok(own.grewMiB < 96, `${kind}: a flood grew the process by ${own.grewMiB.toFixed(0)} MiB`);
      console.log(`${kind}: a flood grew the process by ${own.grewMiB.toFixed(0)} MiB`);
    },
  );

  eachHost('live lines are cut after their bound with one line saying so', async (h) => {
    const lines: string[] = [];
    const r = await h.exec(['seq', String(OUTPUT_LIMITS.liveLines + 500)], { onLine: (_s, l) => lines.push(l) });
    assert.equal(r.code, 0);
    assert.equal(lines.length, OUTPUT_LIMITS.liveLines + 1);
    assert.match(lines.at(-1)!, /^… more than 20000 lines: the rest is not shown$/);
  });

  eachHost(
    'a config that links to a 300 MiB file is refused by name after 4 MiB, in little memory',
    async (h, kind, n, job) => {
      const big = join(dir, `huge-${n}`);
      execFileSync('truncate', ['-s', '300M', big]);
      const conf = join(dir, `jvb-${n}.conf`);
      await symlink(big, conf);
      const refused = `cannot read ${conf}: it is larger than 4 MiB, more than any file this tool reads (is it the file you meant?)`;
      await assert.rejects(h.readFile(conf), (e: unknown) => e instanceof HostError && e.message === refused);
      const own = inOwnProcess({ ...job, op: 'read', path: conf });
      assert.equal(own.error, refused);
      assert.ok(own.grewMiB < 64, `${kind}: reading it grew the process by ${own.grewMiB.toFixed(0)} MiB`);
      console.log(`${kind}: refusing a 300 MiB file grew the process by ${own.grewMiB.toFixed(0)} MiB`);
      // Many files at once: the bound holds per file, and a small one still reads alone.
      const small = join(dir, `small-${n}`);
      await writeFile(small, 'ok\n');
      await assert.rejects(h.readFiles([small, conf]), /larger than 4 MiB/);
      assert.equal(await h.readFile(small), 'ok\n');
      // A file of exactly the bound is read whole.
      const edge = join(dir, `edge-${n}`);
      execFileSync('truncate', ['-s', String(MAX_FILE_BYTES), edge]);
      assert.equal((await h.readFile(edge))?.length, MAX_FILE_BYTES);
    },
  );
});
