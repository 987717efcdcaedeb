import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../lab/setup/lab-config.js';
import { labDown, readState } from '../lab/setup/lab.js';
import { breweryMembers } from '../lab/setup/lab-probes.js';
import { TmuxTerminal, tmuxUnavailable } from '../support/tmux.js';

/*
 * The README's front door, word for word, from a clean state: no lab, no package cache. On a fresh
 * machine (CI's) this is the newcomer's path: the lab installs what it runs on, builds its own
 * Debian repository, and the tool installs what each host needs from it.
 */

const why = process.getuid?.() !== 0 ? 'the demo lab needs root' : await tmuxUnavailable();
if (why && process.env.CI) throw new Error(`the quick start cannot run in CI: ${why}`);

function npmRun(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'npm',
      ['run', ...args],
      { cwd: PROJECT_ROOT, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (_e, stdout, stderr) => resolve({ code: child.exitCode ?? -1, out: stdout + stderr }),
    );
    child.stdin?.end();
  });
}

async function bridgesInBrewery(): Promise<number> {
  const state = await readState();
  assert.ok(state, 'the lab is up');
  return (await breweryMembers(state)).length;
}

describe('the README quick start, from a clean state', { skip: why ?? false }, () => {
  before(async () => {
    await labDown();
    await rm(join(PROJECT_ROOT, '.lab-cache'), { recursive: true, force: true });
  });
  after(async () => {
    await labDown();
  });

  test('`npm run demo -- --yes`: the lab comes up and the shard is set up, exit 0', async () => {
    const r = await npmRun(['demo', '--', '--yes']);
    assert.equal(r.code, 0, r.out.slice(-4000));
    assert.match(r.out, /demo: lab up in/);
    assert.match(r.out, /the lab's Debian repository serves \d+ packages/);
    assert.equal(await bridgesInBrewery(), 3, "the meet host's own bridge and the two new ones");
  });

  test('`npm run demo` on a terminal: Enter at every question sets the shard up, exit 0', async () => {
    await labDown();
    const t = await TmuxTerminal.start(['npm', 'run', 'demo'], { cwd: PROJECT_ROOT });
    try {
      await t.waitFor((s) => s.includes('⏎ begin'), 'the start screen', 300_000);
      await t.keys('Enter');
      let questions = 0;
      for (let rc = await t.exitCode(); rc === null; rc = await t.exitCode()) {
        const s = await t.screen();
        if (/Apply on [^\n]*⏎ apply/.test(s)) {
          questions++;
          await t.keys('Enter');
          await t.waitFor((x) => !/Apply on [^\n]*⏎ apply/.test(x) || x !== s, 'the step to start');
        } else await new Promise((r) => setTimeout(r, 200));
      }
      const all = await t.screen({ history: true });
      assert.equal(await t.exitCode(), 0, all);
      assert.ok(questions >= 3, `asked before each step with changes (${questions})`);
      assert.match(all, /The shard is ready: 2 bridges proved in the brewery/);
    } finally {
      await t.close();
    }
    assert.equal(await bridgesInBrewery(), 3);
  });
});
