import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Playbook } from '../../src/engine/playbook.js';
import { runPlaybook, type RunOptions, type RunResult } from '../../src/engine/run-playbook.js';
import type { Inventory } from '../../src/inventory/types.js';
import { planFileEdit } from '../../src/modules/file/edit-file.js';
import { localFleet, localRunOptions, recorder, testPlaybook, type Shared } from '../support/test-playbook.js';

/** The meet host only: the local hosts share one state directory, so one host keeps the marks apart. */
function meetOnly(root: string, over: Partial<RunOptions> = {}): RunOptions {
  return localRunOptions(root, { limit: ['meet'], ...over });
}

const MARK_V2 = 'test-run restart-thing v=2 handler=restart%20thing\n';

async function leaveMark(root: string, name: string, text: string): Promise<string> {
  await mkdir(join(root, 'state', 'pending'), { recursive: true });
  const path = join(root, 'state', 'pending', name);
  await writeFile(path, text);
  return path;
}

/** A run of the meet host in which someone else writes `text` to `path` just before `step` applies. */
function runEditedBefore(
  inventory: Inventory,
  pb: Playbook<Shared>,
  root: string,
  [step, path, text]: [string, string, string],
): Promise<RunResult> {
  const decide = async (s: { id: string }) => {
    if (s.id === step) await writeFile(path, text);
    return 'apply' as const;
  };
  return runPlaybook(inventory, pb, meetOnly(root, { decide }), recorder().sink);
}

describe('the restart journal', () => {
  test('a mark in the old format (run id and name only) is still honoured, then cleared', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    await writeFile(join(dirOf('meet'), 'main.cfg'), 'iface = "0.0.0.0"\n');
    const mark = await leaveMark(root, 'restart-thing', 'old-run restart-thing\n');
    const pb = testPlaybook(root);
    const rec = recorder();
    assert.equal((await runPlaybook(inventory, pb, meetOnly(root), rec.sink)).exitCode, 0);
    assert.deepEqual(pb.handlerRuns, ['meet']);
    assert.deepEqual(
      rec.of('handler:run').map((e) => e.description),
      ['restart the thing (left pending by run old-run)'],
    );
    await assert.rejects(stat(mark), /ENOENT/);
  });

  test('a mark no handler recognises is reported, naming the host and the file, and left in place', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const mark = await leaveMark(root, 'restart-coturn', 'old-run restart-coturn v=2 handler=restart%20coturn\n');
    const pb = testPlaybook(root);
    const rec = recorder();
    assert.equal((await runPlaybook(inventory, pb, meetOnly(root), rec.sink)).exitCode, 0);
    const warning = rec.of('run:discovered')[0]?.findings.find((f) => f.warn && f.host === 'meet');
    assert.equal(
      warning?.text,
      `${mark} on meet asks for a restart this command does not know ("restart coturn", left by run old-run): it is left in place; remove it once nothing is due`,
    );
    assert.equal(await readFile(mark, 'utf8'), 'old-run restart-coturn v=2 handler=restart%20coturn\n');
    // A command that runs no restarts reads nobody's journal: no warning.
    const look: Playbook<Shared> = { ...testPlaybook(root), handlers: [], steps: [] };
    const rec2 = recorder();
    await runPlaybook(inventory, look, meetOnly(root, { mode: 'check' }), rec2.sink);
    assert.deepEqual(rec2.of('run:discovered')[0]?.findings.filter((f) => f.host === 'meet' && f.warn) ?? [], []);
  });

  test('a write refused because the file changed since it was planned clears its mark: no restart, now or later', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const main = join(dirOf('meet'), 'main.cfg');
    await writeFile(main, 'a\n');
    const mark = join(root, 'state', 'pending', 'restart-thing');
    const pb = testPlaybook(root);
    // Someone else makes the very same edit first: the file is as wanted, nothing needs a restart.
    const r = await runEditedBefore(inventory, pb, root, ['top-line', main, 'iface = "0.0.0.0"\na\n']);
    assert.equal(r.exitCode, 2);
    assert.match(r.hosts[0]?.error ?? '', /it changed on the host since it was planned/);
    await assert.rejects(stat(mark), /ENOENT/, 'the mark went with the refusal');
    const pb2 = testPlaybook(root);
    assert.equal((await runPlaybook(inventory, pb2, meetOnly(root), recorder().sink)).exitCode, 0);
    assert.deepEqual(pb2.handlerRuns, [], 'no needless restart');
  });

  test('a write refused by its validator clears its mark; the file is untouched', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const path = join(dirOf('meet'), 'checked.cfg');
    await writeFile(path, 'old\n');
    const base = testPlaybook(root);
    const pb: Playbook<Shared> = {
      ...base,
      steps: [
        {
          id: 'validated',
          title: 'A validated file',
          why: 'Its validator refuses the new content.',
          roles: ['meet'],
          async plan(ctx) {
            const c = await planFileEdit(ctx.host, {
              path,
              transform: () => 'new\n',
              notify: ['restart thing'],
              write: { validate: ['sh', '-c', 'echo "syntax error in $1" >&2; exit 1', 'sh', '%s'] },
            });
            return { changes: c ? [c] : [] };
          },
        },
      ],
    };
    const r = await runPlaybook(inventory, pb, meetOnly(root), recorder().sink);
    assert.equal(r.exitCode, 2);
    assert.match(r.hosts[0]?.error ?? '', /validation failed: syntax error in /);
    assert.equal(await readFile(path, 'utf8'), 'old\n');
    await assert.rejects(stat(join(root, 'state', 'pending', 'restart-thing')), /ENOENT/);
  });

  test('a refused write keeps the mark when an earlier change of the run that notifies the same handler went live', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const extra = join(dirOf('meet'), 'extra.cfg');
    const mark = join(root, 'state', 'pending', 'restart-thing');
    const pb = testPlaybook(root, { moreSteps: true });
    const r = await runEditedBefore(inventory, pb, root, ['second-line', extra, 'edited\n']);
    assert.equal(r.exitCode, 2);
    assert.match(await readFile(join(dirOf('meet'), 'main.cfg'), 'utf8'), /iface/, 'the first write went live');
    assert.equal(await readFile(mark, 'utf8'), MARK_V2, 'so its restart stays due');
    const rec = recorder();
    const pb2 = testPlaybook(root, { moreSteps: true });
    assert.equal((await runPlaybook(inventory, pb2, meetOnly(root, { runId: 'r2' }), rec.sink)).exitCode, 0);
    assert.deepEqual(pb2.handlerRuns, ['meet']);
  });

  test('a refused write never clears a mark an earlier run left', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const main = join(dirOf('meet'), 'main.cfg');
    await writeFile(main, 'a\n');
    const mark = await leaveMark(root, 'restart-thing', 'old-run restart-thing\n');
    const r = await runEditedBefore(inventory, testPlaybook(root), root, ['top-line', main, 'b\n']);
    assert.equal(r.exitCode, 2);
    assert.equal(await readFile(mark, 'utf8'), 'old-run restart-thing\n');
  });
});
