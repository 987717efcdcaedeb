import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { render } from 'ink-testing-library';
import { runPlaybook, type RunOptions } from '../../src/engine/run-playbook.js';
import type { EventSink } from '../../src/engine/events.js';
import type { OpenHost } from '../../src/engine/open-host.js';
import type { Playbook } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import type { Inventory } from '../../src/inventory/types.js';
import { App } from '../../src/ui/components/App.js';
import { GuidedSession } from '../../src/ui/guided/guided-session.js';
import { jsonReporter } from '../../src/ui/reporters/json-reporter.js';
import { plainReporter } from '../../src/ui/reporters/plain-reporter.js';
import { PAIRS, label, secretScanner } from '../support/secret-scan.js';
import { echoedLines, secretFleet, secretPlaybook } from '../support/secret-playbook.js';
import { rootedOpener } from '../support/rooted-host.js';
import { rootedShard, secretSteps } from '../support/rooted-shard.js';
import { localOpener } from '../support/test-playbook.js';

/*
 * Every output a run has, scanned byte by byte for every spelling of the old and the new password.
 * The old one is in the bridge's files under the key of each syntax and was never registered; the
 * new one is registered, and printed in every form by a command on the bridge.
 */

const { noLeak, summary } = secretScanner();

function options(root: string, openHost: OpenHost, over: Partial<RunOptions> = {}): RunOptions {
  return {
    mode: 'apply',
    runId: 'secret-run',
    backupDir: join(root, 'backups'),
    stateDir: join(root, 'state'),
    openHost,
    ...over,
  };
}

/** One run with both reporters attached: the plain lines (with diffs and output) and the NDJSON. */
async function reported<S>(
  inventory: Inventory,
  playbook: Playbook<S>,
  opts: RunOptions,
): Promise<{ plain: string; ndjson: string }> {
  const plain: string[] = [];
  const ndjson: string[] = [];
  const sinks: EventSink[] = [
    plainReporter({ write: (l) => plain.push(l), diff: true, verbose: true }),
    jsonReporter((l) => ndjson.push(l)),
  ];
  await runPlaybook(inventory, playbook, { secrets: new Redactor(), ...opts }, (e) => sinks.forEach((s) => s(e)));
  return { plain: plain.join('\n'), ndjson: ndjson.join('\n') };
}

const ENTER = '\r';

/** One question of a guided run: the step (its header), whether to page its diffs first, the key that answers. */
interface Answer {
  step: string;
  pager?: boolean;
  key: string;
}

/** The guided screens of a run, every frame drawn, each step answered in turn (its diffs paged to the end where asked). */
async function guidedFrames<S>(
  inventory: Inventory,
  playbook: Playbook<S>,
  opts: RunOptions,
  answers: Answer[],
): Promise<string> {
  const abort = new AbortController();
  const session = new GuidedSession({ abort: () => abort.abort(), hardExit: () => undefined });
  const ui = render(<App session={session} inventoryPath="inv.yaml" rerun="jitsi-scale" showDiffs={true} />);
  const result = runPlaybook(
    inventory,
    playbook,
    { secrets: new Redactor(), ...opts, signal: abort.signal, decide: session.decide, ready: session.ready },
    session.sink,
  );
  const until = async (what: (frame: string) => boolean, why: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!what(ui.lastFrame() ?? '')) {
      if (Date.now() > deadline) assert.fail(`the screen never showed ${why}:\n${ui.lastFrame() ?? ''}`);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const asking = (step: string) => (f: string) =>
    f.includes(step) && /Apply on [^\n]*\?/.test(f.slice(f.lastIndexOf(step)));
  await until((f) => f.includes('⏎ begin'), 'the start screen');
  ui.stdin.write(ENTER);
  for (const a of answers) {
    await until(asking(a.step), `the question of ${a.step}`);
    if (a.pager) {
      ui.stdin.write('d');
      await until((f) => f.includes('Diffs ·'), 'the pager');
      // Page down to the last line, then close the pager.
      while (!/lines \d+–(\d+) of \1/.test(ui.lastFrame() ?? '')) {
        ui.stdin.write('f');
        await new Promise((r) => setTimeout(r, 30));
      }
      ui.stdin.write('d');
      await until(asking(a.step), `the question of ${a.step} again`);
    }
    ui.stdin.write(a.key);
  }
  await result;
  await until((f) => /Finished|stopped/i.test(f), 'the end screen');
  const frames = ui.frames.join('\n');
  ui.unmount();
  return frames;
}

describe('no secret is shown, in any form, by any output', { concurrency: 2 }, () => {
  for (const pair of PAIRS) {
    test(`${label(pair)}: the plain and NDJSON reporters, --check --diff and an applied run`, async () => {
      const { inventory, root, dirOf } = await secretFleet(pair);
      const pb = secretPlaybook(root, pair);
      const check = await reported(inventory, pb, options(root, localOpener(root), { mode: 'check' }));
      noLeak('plain reporter, check with diffs', check.plain, pair);
      noLeak('NDJSON reporter, check', check.ndjson, pair);
      // The outputs hold what is scanned: every file's diff, with its secret lines masked.
      for (const line of [
        /- {6}password = "\*{8}"/,
        /\+ {6}password = "\*{8}"/,
        /\+org\.jitsi\.videobridge\.xmpp\.user\.shard\.PASSWORD=\*{8}/,
        /-JVB_SECRET='?\*{8}'?\n/,
        /\+export API_SECRET="\*{8}"/,
        /-jitsi-videobridge2 jitsi-videobridge\/jvbsecret password \*{8}/,
        /\+Value: \*{8}/,
        /\+ {2}"password": "\*{8}"/,
      ])
        assert.match(check.plain, line, "the check run's diffs hold what is scanned");

      const applied = await reported(inventory, pb, options(root, localOpener(root)));
      assert.ok(
        (await readFile(join(dirOf('jvb1'), 'config'), 'utf8')).includes('JVB_SECRET='),
        'the run wrote the new config',
      );
      const printed = applied.ndjson.split('\n').filter((l) => l.includes('"host:output"')).length;
      assert.ok(printed >= echoedLines(pair).length, `every printed line is in the NDJSON (${printed})`);
      noLeak('plain reporter, apply with output', applied.plain, pair);
      noLeak('NDJSON reporter, apply', applied.ndjson, pair);
      assert.match(applied.plain, /\[jvb2\] secret-files: failed: login refused: password=\*{8}/);
    });

    test(`${label(pair)}: the guided screens and the diff pager`, async () => {
      const { inventory, root } = await secretFleet(pair);
      const frames = await guidedFrames(inventory, secretPlaybook(root, pair), options(root, localOpener(root)), [
        { step: 'Step 1/2', pager: true, key: ENTER },
        { step: 'Step 2/2', key: ENTER },
      ]);
      noLeak('guided screens and pager', frames, pair);
      assert.match(frames, /password = "\*{8}"/, 'the pager showed the HOCON diff');
      assert.match(frames, /JVB_SECRET="\*{8}"/, 'and the shell one');
    });
  }

  for (const pair of [PAIRS[1]!, PAIRS[4]!]) {
    test(`the setup playbook's own steps, ${label(pair)}: --check --diff, NDJSON, the guided pager`, async () => {
      const { root, inventory } = await rootedShard(pair);
      const check = await reported(inventory, secretSteps, options(root, rootedOpener(root), { mode: 'check' }));
      noLeak('setup: plain reporter, check with diffs', check.plain, pair);
      noLeak('setup: NDJSON reporter, check', check.ndjson, pair);
      assert.match(check.plain, /- {6}password = "\*{8}"\n +\+ {6}password = "\*{8}"/, check.plain);
      assert.match(check.plain, /preseed debconf for jitsi-videobridge2/);

      // The pager at bridge-config, after skipping the install; then quit: nothing is installed.
      const frames = await guidedFrames(inventory, secretSteps, options(root, rootedOpener(root)), [
        { step: 'Step 1/3', key: 's' },
        { step: 'Step 2/3', pager: true, key: 'q' },
      ]);
      noLeak('setup: guided screens and pager', frames, pair);
      assert.match(frames, /password = "\*{8}"/);
    });
  }

  after(() => console.log(`# ${summary()}`));
});
