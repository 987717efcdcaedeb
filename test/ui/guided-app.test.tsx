import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import { runPlaybook, type RunResult } from '../../src/engine/run-playbook.js';
import type { Playbook } from '../../src/engine/playbook.js';
import type { Inventory } from '../../src/inventory/types.js';
import { App } from '../../src/ui/components/App.js';
import { GuidedSession } from '../../src/ui/guided/guided-session.js';
import { TEST_ROLES, localFleet, localOpener, testPlaybook, type Shared } from '../support/test-playbook.js';

const ENTER = '\r';
const CTRL_C = '\u0003';
const DOWN = '\u001B[B';
const SECRET = 'Sup3r-Secret-Value';

interface Guided {
  ui: ReturnType<typeof render>;
  session: GuidedSession;
  result: Promise<RunResult>;
  /** Waits until the screen shows `text` (a string or a test), failing with the screen if it never does. */
  until(what: string | RegExp, ms?: number): Promise<string>;
  /** Every frame drawn so far, joined. */
  everything(): string;
}

/** The guided app on a test terminal, driving a real run of the engine over local test hosts. */
function guided(
  inventory: Inventory,
  playbook: Playbook<Shared>,
  root: string,
  opts: { ask?: boolean; showDiffs?: boolean; mode?: 'apply' | 'check' } = {},
): Guided {
  const abort = new AbortController();
  let hardExits = 0;
  const session = new GuidedSession({ abort: () => abort.abort(), hardExit: () => hardExits++ });
  const ui = render(
    <App
      session={session}
      inventoryPath="lab.yaml"
      rerun="jitsi-scale -i lab.yaml"
      showDiffs={opts.showDiffs ?? false}
    />,
  );
  const ask = opts.ask ?? true;
  const result = runPlaybook(
    inventory,
    playbook,
    {
      mode: opts.mode ?? 'apply',
      runId: 'ui-run',
      backupDir: '/var/backups/jitsi-scale/ui-run',
      stateDir: `${root}/state`,
      openHost: localOpener(root),
      signal: abort.signal,
      ...(ask ? { decide: session.decide, ready: session.ready } : {}),
    },
    session.sink,
  );
  // A generous deadline: it bounds only a failure (a wait ends when the text shows), and discovery
  // over thirty local hosts under coverage on a busy 2-core machine took over 5 s.
  const until = async (what: string | RegExp, ms = 30_000): Promise<string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const frame = ui.lastFrame() ?? '';
      if (typeof what === 'string' ? frame.includes(what) : what.test(frame)) return frame;
      if (Date.now() > deadline) assert.fail(`the screen never showed ${String(what)}; it shows:\n${frame}`);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  return { ui, session, result, until, everything: () => ui.frames.join('\n') };
}

/** The part of the frame after the last occurrence of `marker`: the live area under settled output. */
const after = (frame: string, marker: string) => frame.slice(frame.lastIndexOf(marker));

describe('guided mode', () => {
  test('the start screen shows the hosts, what discovery found and the steps, and waits for Enter', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    const g = guided(inventory, testPlaybook(root), root);
    const frame = await g.until('⏎ begin');
    for (const text of [
      'lab.yaml',
      'Hosts',
      'meet',
      'jvb1',
      'jvb2',
      'Found',
      'shared secret found (18 characters)',
      'uses the component port',
      '! no Jicofo here',
      'Steps',
      '1 Top line on the meet host',
      '2 Bridge config',
    ]) {
      assert.ok(frame.includes(text), `start screen shows "${text}":\n${frame}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(access(join(dirOf('meet'), 'main.cfg')), 'nothing is written before the user begins');
    g.ui.stdin.write('q');
    const r = await g.result;
    assert.equal(r.exitCode, 130);
    await assert.rejects(access(join(dirOf('meet'), 'main.cfg')), 'quitting at the start changes nothing');
    g.ui.unmount();
  });

  test('Enter through every step applies them, with the plan, the live result and the end screen', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    const pb = testPlaybook(root);
    const g = guided(inventory, pb, root);
    await g.until('⏎ begin');
    g.ui.stdin.write(ENTER);
    let frame = after(await g.until('Apply on meet?'), 'Step 1/3');
    for (const text of [
      'Top line on the meet host',
      'Because the test says so.',
      'meet',
      '+ will change',
      `• create ${join(dirOf('meet'), 'main.cfg')}`,
      '[diff]',
      'meet host uses the component port',
      'd diffs',
    ]) {
      assert.ok(frame.includes(text), `step 1 shows "${text}":\n${frame}`);
    }
    await assert.rejects(access(join(dirOf('meet'), 'main.cfg')), 'nothing written before the answer');
    g.ui.stdin.write(ENTER);
    frame = after(await g.until('Apply on jvb1, jvb2?'), 'Step 2/3');
    assert.match(frame, /jvb1 +\+ will change\n +• create [^\n]*jvb1\/bridge\.properties/);
    assert.match(frame, /jvb2 +\+ will change\n +• create [^\n]*jvb2\/bridge\.properties/);
    assert.equal(await readFile(join(dirOf('meet'), 'main.cfg'), 'utf8'), 'iface = "0.0.0.0"\n', 'step 1 was applied');
    assert.match(g.ui.lastFrame()!, /\+ 1\/3 Top line on the meet host — changed\n\s+meet +\+ 1 change made/);
    assert.equal(pb.handlerRuns.length, 0, 'no restart before the restart step');
    g.ui.stdin.write('y');
    frame = after(await g.until('Apply on meet, jvb1, jvb2?'), 'Step 3/3');
    for (const text of ['Restart what changed', 'restart the thing'])
      assert.ok(frame.includes(text), `the restart step shows "${text}":\n${frame}`);
    g.ui.stdin.write(ENTER);
    const r = await g.result;
    assert.equal(r.exitCode, 0);
    assert.deepEqual([...pb.handlerRuns].sort(), ['jvb1', 'jvb2', 'meet']);
    frame = await g.until('Finished in');
    const end = after(frame, '────');
    assert.match(end, /Host +Role +1 2 3 +Result/);
    assert.match(end, /meet +meet +\+ · \+ +changed \(1 change\)/);
    assert.match(end, /jvb1 +jvb +· \+ \+ +changed \(1 change\)/);
    assert.match(end, /Next\n +The shard is ready/);
    assert.match(await readFile(join(dirOf('jvb2'), 'bridge.properties'), 'utf8'), /NICKNAME=jvb2/);
    assert.ok(!g.everything().includes(SECRET), 'the secret never reaches the screen');
    g.ui.unmount();
  });

  test('d shows every diff in a pager that scrolls and goes back; s skips the step and the end screen says so', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    for (const b of ['jvb1', 'jvb2'])
      await writeFile(
        join(dirOf(b), 'bridge.properties'),
        Array.from({ length: 40 }, (_, i) => `KEY${i}=v${i}`).join('\n') + '\nPASSWORD=old\n',
      );
    const g = guided(inventory, testPlaybook(root), root);
    await g.until('⏎ begin');
    g.ui.stdin.write(ENTER);
    await g.until('Apply on meet?');
    g.ui.stdin.write(ENTER);
    await g.until('Apply on jvb1, jvb2?');
    g.ui.stdin.write('d');
    let frame = await g.until('Diffs · Bridge config');
    assert.match(frame, /lines 1–21 of \d+/, 'the pager fills the 24-row screen less its title and keys');
    assert.match(frame, /── jvb1 ──/);
    assert.match(frame, /\+PASSWORD=\*{8}/, 'the new password is redacted');
    g.ui.stdin.write(DOWN);
    frame = await g.until('lines 2–22');
    g.ui.stdin.write('G');
    frame = await g.until(/lines \d+–(\d+) of \1/);
    assert.match(frame, /── jvb2 ──/);
    assert.match(frame, /\+NICKNAME=jvb2/);
    assert.ok(!frame.includes(SECRET));
    g.ui.stdin.write('d');
    await g.until(/Apply on jvb1, jvb2\?[^\n]*\n?$/);
    g.ui.stdin.write('s');
    await g.until('Apply on meet?');
    g.ui.stdin.write(ENTER);
    const r = await g.result;
    assert.equal(r.exitCode, 0);
    frame = await g.until('Finished in');
    assert.match(frame, /2\/3 Bridge config — skipped at your request/);
    assert.match(frame, /Skipped at your request: Bridge config\. Run again to apply it\./);
    for (const b of ['jvb1', 'jvb2'])
      assert.match(
        await readFile(join(dirOf(b), 'bridge.properties'), 'utf8'),
        /PASSWORD=old/,
        'a skipped step writes nothing',
      );
    g.ui.unmount();
  });

  test('q at a step stops the run: exit 130, no later step runs, and the end screen says how to finish', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const g = guided(inventory, testPlaybook(root), root);
    await g.until('⏎ begin');
    g.ui.stdin.write(ENTER);
    await g.until('Apply on meet?');
    g.ui.stdin.write('q');
    const r = await g.result;
    assert.equal(r.exitCode, 130);
    const frame = await g.until('Stopped before the end');
    assert.match(frame, /1\/3 Top line on the meet host — stopped at your request/);
    assert.match(frame, /Run jitsi-scale -i lab\.yaml again to finish: it is safe to repeat\./);
    assert.ok(!frame.includes('Bridge config —'), 'the second step never started');
    await assert.rejects(access(join(dirOf('meet'), 'main.cfg')));
    await assert.rejects(access(join(dirOf('jvb1'), 'bridge.properties')));
    g.ui.unmount();
  });

  test('Ctrl-C while a change runs lets it finish, starts nothing after it, and exits 130 with the summary', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pb: Playbook<Shared> = {
      name: 'slow',
      roles: TEST_ROLES,
      variables: {},
      watchPackages: [],
      discover: async () => ({ secret: 'x' }),
      handlers: [],
      steps: [
        {
          id: 'two-changes',
          title: 'Two changes',
          why: 'The first one takes a while.',
          roles: ['meet'],
          plan: async () => ({
            changes: [
              {
                description: 'slow change',
                apply: async (_h, io) => (ran.push('slow'), io.output('stdout', 'working on it'), await gate),
              },
              { description: 'next change', apply: async () => void ran.push('next') },
            ],
          }),
        },
        {
          id: 'later',
          title: 'Later step',
          why: 'Never reached.',
          roles: ['jvb'],
          plan: async () => (ran.push('planned later'), { changes: [] }),
        },
      ],
    };
    const g = guided(inventory, pb, root);
    await g.until('⏎ begin');
    g.ui.stdin.write(ENTER);
    await g.until('Apply on meet?');
    g.ui.stdin.write(ENTER);
    const live = await g.until('│ working on it');
    assert.match(live, /meet +. 1\/2 slow change/, 'the live area shows the change under way and its output');
    g.ui.stdin.write(CTRL_C);
    await g.until('Stopping: the change under way finishes');
    release();
    const r = await g.result;
    assert.equal(r.exitCode, 130);
    assert.deepEqual(ran, ['slow'], 'the change under way finished; the next change and the next step never started');
    const frame = await g.until('Stopped before the end');
    assert.match(frame, /exit 130/);
    g.ui.unmount();
  });

  test('a failed host: the end screen names it, says why, and gives the command to rerun it', async () => {
    const { inventory, root } = await localFleet(['jvb1', 'jvb2']);
    const g = guided(inventory, testPlaybook(root, { failOn: 'jvb2' }), root, { ask: false });
    const r = await g.result;
    assert.equal(r.exitCode, 2);
    const frame = await g.until('Finished with problems');
    assert.match(frame, /2\/3 Bridge config — failed/);
    assert.match(frame, /jvb2 +jvb +· ✗ · +failed/);
    assert.match(frame, /jvb2: Bridge config: [^\n]*cannot write: disk full/);
    assert.match(frame, /When fixed, run jitsi-scale -i lab\.yaml --limit jvb2 \(or the whole inventory\)/);
    g.ui.unmount();
  });

  test('check mode asks nothing and leaves the plan, with its diffs, on screen', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const g = guided(inventory, testPlaybook(root), root, { ask: false, mode: 'check', showDiffs: true });
    assert.equal((await g.result).exitCode, 0);
    const frame = await g.until('Check finished: nothing was changed');
    assert.match(frame, /jitsi-scale · test · lab\.yaml · check only: nothing will be changed/);
    assert.match(frame, /1\/3 Top line on the meet host — would change\n +meet +\+ would change/);
    assert.match(frame, /3\/3 Restart what changed — would change\n +meet, jvb1 +\+ would change/);
    assert.match(frame, /\+iface = "0\.0\.0\.0"/, 'the diff is shown');
    assert.match(frame, /\+PASSWORD=\*{8}/);
    assert.match(frame, /Run jitsi-scale -i lab\.yaml without --check to apply these changes\./);
    await assert.rejects(access(join(dirOf('meet'), 'main.cfg')), 'check writes nothing');
    g.ui.unmount();
  });

  test('with thirty bridges the live area still fits 80×24, and a resize narrows it', async () => {
    const bridges = Array.from({ length: 30 }, (_, i) => `bridge-with-a-long-name-${i + 1}`);
    const { inventory, root } = await localFleet(bridges);
    const g = guided(inventory, testPlaybook(root), root);
    Object.defineProperty(g.ui.stdout, 'columns', { value: 80, configurable: true });
    Object.defineProperty(g.ui.stdout, 'rows', { value: 24, configurable: true });
    g.ui.stdout.emit('resize');
    let frame = await g.until('⏎ begin');
    let lines = frame.split('\n');
    assert.ok(lines.length <= 23, `start screen is ${lines.length} rows:\n${frame}`);
    assert.ok(
      lines.every((l) => l.length <= 80),
      `a row is wider than 80:\n${frame}`,
    );
    assert.match(frame, /… \d+ more hosts/);
    g.ui.stdin.write(ENTER);
    await g.until('Apply on meet?');
    g.ui.stdin.write(ENTER);
    frame = await g.until('Apply on bridge-with-a-long-name-1 and 29 more?');
    const liveArea = after(frame, 'Step 2/3');
    lines = liveArea.split('\n');
    assert.ok(lines.length <= 23, `step screen is ${lines.length} rows:\n${liveArea}`);
    assert.match(liveArea, /… \d+ more lines \(d: every change and diff\)/);
    Object.defineProperty(g.ui.stdout, 'columns', { value: 50, configurable: true });
    g.ui.stdout.emit('resize');
    await new Promise((r) => setTimeout(r, 100));
    const narrow = after(g.ui.lastFrame()!, 'Step 2/3');
    assert.ok(
      narrow.split('\n').every((l) => l.length <= 50),
      `after the resize a row is wider than 50:\n${narrow}`,
    );
    g.ui.stdin.write('q');
    assert.equal((await g.result).exitCode, 130);
    g.ui.unmount();
  });
});
