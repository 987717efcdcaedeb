import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { INVENTORY_FILE, PROJECT_ROOT, type LabState } from '../lab/setup/lab-config.js';
import { labDown, labUp } from '../lab/setup/lab.js';
import { breweryMembers } from '../lab/setup/lab-probes.js';
import { inHost } from '../lab/setup/run.js';
import { TmuxTerminal, tmuxUnavailable } from '../support/tmux.js';

const why = process.getuid?.() !== 0 ? 'the lab needs root' : await tmuxUnavailable();
if (why && process.env.CI) throw new Error(`the end-to-end tests cannot run in CI: ${why}`);

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const jitsiScale = (...args: string[]) => [process.execPath, CLI, '-i', INVENTORY_FILE, ...args];
/** SGR codes that set a colour (foreground or background, 8/16/256/true colour); 39/49 only reset. */
// eslint-disable-next-line no-control-regex -- terminal escapes are what this matches
const COLOUR = /\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m/;

/** Runs the real binary with no terminal at all: stdin closed, output to pipes. */
function headless(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, '-i', INVENTORY_FILE, ...args],
      { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (_e, stdout, stderr) => resolve({ code: child.exitCode ?? -1, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

describe('the real jitsi-scale binary in a terminal (tmux, 80×24) against the lab', { skip: why ?? false }, () => {
  let lab: LabState;
  const terminals: TmuxTerminal[] = [];
  const terminal = async (...a: Parameters<typeof TmuxTerminal.start>) => {
    const t = await TmuxTerminal.start(...a);
    terminals.push(t);
    return t;
  };

  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 2, era: 'current' });
  });
  after(async () => {
    for (const t of terminals) await t.close();
    await labDown();
  });

  test('Ctrl-C on the start screen stops with nothing changed and exit 130', async () => {
    const t = await terminal(jitsiScale(), { cwd: PROJECT_ROOT });
    await t.waitFor((s) => s.includes('⏎ begin'), 'the start screen');
    await t.keys('C-c');
    assert.equal(await t.waitForExit(), 130);
    const s = await t.screen({ history: true });
    assert.match(s, /Stopped before the end in [\d.]+ s · exit 130/);
    for (const b of ['jvb1', 'jvb2']) {
      const h = lab.hosts.find((x) => x.name === b)!;
      const r = await inHost(h.sshdPid, 'dpkg-query -W jitsi-videobridge2 2>/dev/null; exit 0');
      assert.equal(r.stdout.trim(), '', `nothing was installed on ${b}`);
    }
  });

  test('pressing Enter through the guided mode sets up the shard; each bridge joins the brewery', async () => {
    const t = await terminal(jitsiScale(), { cwd: PROJECT_ROOT });
    const screens: string[] = [];
    const seen = (s: string) => {
      screens.push(s);
      return s;
    };
    seen(await t.waitFor((s) => s.includes('⏎ begin'), 'the start screen', 30_000));
    assert.match(screens[0]!, /Hosts 1 meet server, 2 bridges/);
    assert.match(screens[0]!, /jvb1 +jvb +10\.77\.0\.\d+ +Debian 12 · firewall \w+ · bridge not installed/);
    assert.match(screens[0]!, /Steps\n(?: +\d [^\n]+\n){6}/);
    await t.keys('Enter');

    let diffShown = false;
    let prompts = 0;
    // A bound on the whole walk: a screen this loop does not recognise fails the test, never hangs it.
    const walkEnds = Date.now() + 10 * 60_000;
    for (;;) {
      if (Date.now() > walkEnds)
        assert.fail(`the guided walk did not end within 10 minutes; the screen:\n${await t.screen()}`);
      const rc = await t.exitCode();
      if (rc !== null) {
        assert.equal(rc, 0, await t.screen({ history: true }));
        break;
      }
      const s = seen(await t.screen());
      const prompt = /Step (\d+)\/(\d+) [^\n]*\n[\s\S]*Apply on [^\n]*⏎ apply/.exec(s);
      if (!prompt) {
        await new Promise((r) => setTimeout(r, 150));
        continue;
      }
      if (!diffShown) {
        // The first question: look at the diffs, scroll, come back, then apply.
        await t.keys('d');
        const pager = seen(await t.waitFor((x) => x.includes('Diffs ·'), 'the diff pager'));
        assert.match(pager, /↑↓ PgUp PgDn Home End scroll/);
        await t.keys('Down');
        await t.keys('Escape');
        seen(await t.waitFor((x) => /Apply on [^\n]*⏎ apply/.test(x) && !x.includes('Diffs ·'), 'the question again'));
        diffShown = true;
      }
      prompts++;
      await t.keys('Enter');
      await t.waitFor(
        (x) => !x.includes(`Step ${prompt[1]}/${prompt[2]}`) || !/Apply on [^\n]*⏎ apply/.test(x),
        `step ${prompt[1]} to start applying`,
      );
    }
    assert.ok(prompts >= 3, `asked before each step with changes (${prompts} questions)`);
    assert.ok(diffShown);

    for (const s of screens) {
      const rows = s.replace(/\n$/, '').split('\n');
      assert.ok(rows.length <= 24 && rows.every((r) => r.length <= 80), `a screen outgrew 80×24:\n${s}`);
      assert.ok(
        (s.match(/⏎ apply/g) ?? []).length <= 1 && (s.match(/⏎ begin/g) ?? []).length <= 1,
        `a stale copy of the question is left on screen:\n${s}`,
      );
    }

    const all = await t.screen({ history: true });
    assert.match(all, /Finished in [\d.]+ s · exit 0/);
    // firewall, bind-prosody (meet only), install, bridge-config, colibri-routes (meet only), jvb.sh, restart, verify
    assert.match(all, /jvb1 +jvb +\+ · \+ \+ · - \+ ✓ +changed/);
    assert.match(all, /Verification\n +✓ jvb1\n +in the brewery JvbBrewery@internal\.auth\.meet\.lab\.test as/);
    assert.match(
      all,
      /Backups: \d+ replaced files? kept under\s+\/var\/backups\/jitsi-scale\/\d{8}T\d{9}Z-[0-9a-f]{6}\/\s+on /,
    );
    assert.match(all, /The shard is ready: 2 bridges proved in the brewery/);
    assert.ok(!all.includes('Lab-Jvb-S3cret'), 'the secret never reaches the screen');

    const members = await breweryMembers(lab);
    assert.equal(
      members.length,
      3,
      `the meet host's own bridge and both new ones are in the brewery: ${members.join(', ')}`,
    );
  });

  test('colours by default, none under NO_COLOR; --check --diff shows the plan in the terminal', async () => {
    const coloured = await terminal(jitsiScale('--check', '--diff'), { cwd: PROJECT_ROOT });
    assert.equal(await coloured.waitForExit(), 0);
    assert.match(await coloured.screen({ history: true, escapes: true }), COLOUR);
    const plain = await terminal(jitsiScale('--check', '--diff'), { cwd: PROJECT_ROOT, env: { NO_COLOR: '1' } });
    assert.equal(await plain.waitForExit(), 0);
    assert.doesNotMatch(await plain.screen({ history: true, escapes: true }), COLOUR);
    const s = await plain.screen({ history: true });
    assert.match(s, /check\s+only:\s+nothing\s+will\s+be\s+changed/);
    assert.match(s, /Check finished: nothing was changed/);
    assert.match(s, /(\d)\/\1 Prove each bridge is in the shard — skipped/);
  });

  test('without a terminal: --yes prints plain lines; without --yes one sentence and exit 1', async () => {
    const r = await headless(['--yes']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(!r.stdout.includes('\x1b'), 'no escape codes');
    assert.match(r.stdout, /^\[jvb1\] verify: ok$/m);
    assert.match(r.stdout, /^\[meet\] firewall: ok$/m);
    const ci = await terminal(jitsiScale(), { cwd: PROJECT_ROOT, env: { CI: 'true' } });
    assert.equal(await ci.waitForExit(), 1, 'a CI job with a terminal is not a person at one');
    assert.match(await ci.screen(), /jitsi-scale: no terminal to ask on: add --yes/);
    const n = await headless([]);
    assert.equal(n.code, 1);
    assert.equal(n.stdout, '');
    assert.equal(
      n.stderr,
      'jitsi-scale: no terminal to ask on: add --yes to apply every step without questions, or --check to only see the plan\n',
    );
  });

  test('status --watch redraws in place in 80×24: a bridge stopped shows up without a restart; d shows drift; q exits', async () => {
    const t = await terminal([process.execPath, CLI, 'status', '--watch', '1', '-i', INVENTORY_FILE], {
      cwd: PROJECT_ROOT,
    });
    const first = await t.waitFor((s) => s.includes('all well'), 'the first look, all well', 30_000);
    assert.match(first, /^jvb1 +\S+ +yes +ok /m);
    const jvb1 = lab.hosts.find((x) => x.name === 'jvb1')!;
    await inHost(jvb1.sshdPid, 'service jitsi-videobridge2 stop >/dev/null 2>&1; exit 0');
    try {
      const out = await t.waitFor((s) => /! jvb1: not in the brewery/.test(s), 'jvb1 out, on a later look', 30_000);
      assert.match(out, /^jvb1 +\S+ +NO +none /m);
      const all = await t.screen({ history: true });
      assert.equal(
        (all.match(/jitsi-scale status · every/g) ?? []).length,
        1,
        'redrawn in place: one title in the scrollback',
      );
      for (const line of out.split('\n')) assert.ok(line.length <= 80, line);
      await t.keys('d');
      await t.waitFor((s) => s.includes('no drift: every host is as setup leaves it'), 'the drift view');
      await t.keys('q');
      assert.equal(await t.waitForExit(), 2, 'the last look found a bridge out');
    } finally {
      await inHost(jvb1.sshdPid, 'service jitsi-videobridge2 start >/dev/null 2>&1; exit 0');
    }
  });
});
