import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runPlaybook, type RunOptions } from '../../src/engine/run-playbook.js';
import type { Change, HandlerSpec, Playbook } from '../../src/engine/playbook.js';
import { HostError } from '../../src/transport/host.js';
import {
  TEST_ROLES,
  localFleet,
  localOpener,
  localRunOptions,
  recorder,
  testPlaybook,
} from '../support/test-playbook.js';

const options = localRunOptions;

describe('runner', () => {
  test('applies changes, fires each handler once per host, then a second run changes nothing', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    await writeFile(join(dirOf('jvb1'), 'bridge.properties'), '# keep me\nPASSWORD=old\n');
    const pb = testPlaybook(root);
    const rec = recorder();
    const first = await runPlaybook(inventory, pb, options(root), rec.sink);
    assert.equal(first.exitCode, 0);
    assert.deepEqual(
      first.hosts.map((h) => [h.host, h.status, h.changed]),
      [
        ['meet', 'changed', 1],
        ['jvb1', 'changed', 1],
        ['jvb2', 'changed', 1],
      ],
    );
    assert.equal(
      await readFile(join(dirOf('jvb1'), 'bridge.properties'), 'utf8'),
      '# keep me\nPASSWORD=Sup3r-Secret-Value\nNICKNAME=jvb1\n',
    );
    assert.deepEqual([...pb.handlerRuns].sort(), ['jvb1', 'jvb2', 'meet']);
    const backup = rec.of('task:changed').find((e) => e.host === 'jvb1')?.backup;
    assert.equal(backup, join(root, 'backups', 'jvb1', dirOf('jvb1'), 'bridge.properties'));
    assert.equal(await readFile(backup, 'utf8'), '# keep me\nPASSWORD=old\n');

    const mtime = (await stat(join(dirOf('jvb2'), 'bridge.properties'))).mtimeMs;
    const pb2 = testPlaybook(root);
    const second = await runPlaybook(inventory, pb2, options(root), recorder().sink);
    assert.equal(second.exitCode, 0);
    assert.deepEqual(
      second.hosts.map((h) => [h.host, h.status, h.changed]),
      [
        ['meet', 'ok', 0],
        ['jvb1', 'ok', 0],
        ['jvb2', 'ok', 0],
      ],
    );
    assert.deepEqual(pb2.handlerRuns, [], 'no change, no handler');
    assert.equal((await stat(join(dirOf('jvb2'), 'bridge.properties'))).mtimeMs, mtime, 'nothing rewritten');
  });

  test('check mode writes nothing and lists exactly what the real run then does', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const check = recorder();
    const r = await runPlaybook(inventory, testPlaybook(root), options(root, { mode: 'check' }), check.sink);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      r.hosts.map((h) => [h.host, h.status]),
      [
        ['meet', 'changed'],
        ['jvb1', 'changed'],
      ],
    );
    await assert.rejects(stat(join(dirOf('jvb1'), 'bridge.properties')), /ENOENT/);
    await assert.rejects(stat(join(dirOf('meet'), 'main.cfg')), /ENOENT/);
    assert.equal(check.of('task:start').length, 0);
    assert.equal(check.of('handler:run').length, 0);
    const planned = check.of('step:planned').flatMap((e) => e.changes.map((c) => `${e.host}: ${c.description}`));
    const real = recorder();
    await runPlaybook(inventory, testPlaybook(root), options(root), real.sink);
    const done = [...real.of('task:changed'), ...real.of('handler:run')].map((e) => `${e.host}: ${e.description}`);
    assert.deepEqual(done.sort(), planned.sort());
    assert.ok(planned.includes('meet: restart the thing'), 'check mode shows the restarts too');
    const diff = check.of('step:planned').find((e) => e.host === 'meet')!.changes[0]!.diff!;
    assert.match(diff, /^--- \/dev\/null\n\+\+\+ b.*main\.cfg\n@@ -0,0 \+1,1 @@\n\+iface = "0\.0\.0\.0"\n$/);
  });

  test('a failing host is reported with its step and reason; the others finish; exit 2', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    const rec = recorder();
    const r = await runPlaybook(inventory, testPlaybook(root, { failOn: 'jvb1' }), options(root), rec.sink);
    assert.equal(r.exitCode, 2);
    const jvb1 = r.hosts.find((h) => h.host === 'jvb1')!;
    assert.equal(jvb1.status, 'failed');
    assert.equal(jvb1.error, 'Bridge config: internal error: cannot write: disk full');
    assert.equal(r.hosts.find((h) => h.host === 'jvb2')!.status, 'changed');
    assert.ok((await readFile(join(dirOf('jvb2'), 'bridge.properties'), 'utf8')).includes('NICKNAME=jvb2'));
  });

  test('an unreachable host is exit 3 and does not stop the others', async () => {
    const { inventory, root } = await localFleet(['jvb1', 'jvb2']);
    const rec = recorder();
    const r = await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { openHost: localOpener(root, ['jvb2']) }),
      rec.sink,
    );
    assert.equal(r.exitCode, 3);
    assert.deepEqual(
      r.hosts.map((h) => [h.host, h.status]),
      [
        ['meet', 'changed'],
        ['jvb1', 'changed'],
        ['jvb2', 'unreachable'],
      ],
    );
    assert.deepEqual(
      rec.of('host:unreachable').map((e) => e.reason),
      ['connection refused by 10.0.0.12:22 (is sshd running on that port?)'.replace('10.0.0.12', '127.0.0.1')],
    );
  });

  test('without the meet host nothing runs; the reason is given', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const rec = recorder();
    const r = await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { openHost: localOpener(root, ['meet']) }),
      rec.sink,
    );
    assert.equal(r.exitCode, 3);
    assert.match(rec.of('run:refused')[0]!.reason, /^cannot go on without the meet host meet: connection refused/);
    assert.equal(rec.of('step:start').length, 0);
  });

  test('a refusal in discovery fails that host with the message; exit 2', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const rec = recorder();
    const r = await runPlaybook(inventory, testPlaybook(root, { refuse: true }), options(root), rec.sink);
    assert.equal(r.exitCode, 2);
    assert.deepEqual(
      rec.of('run:refused').map((e) => [e.host, e.reason]),
      [['meet', 'meet is not a Jitsi Meet server: no Prosody config found']],
    );
  });

  test('secrets never leave the engine: events, diffs, output lines and JSON', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const rec = recorder();
    await runPlaybook(inventory, testPlaybook(root), options(root, { mode: 'check' }), rec.sink);
    await runPlaybook(inventory, testPlaybook(root), options(root), rec.sink);
    const all = JSON.stringify(rec.events);
    assert.ok(!all.includes('Sup3r-Secret-Value'), 'secret leaked into events');
    assert.ok(all.includes('PASSWORD=********'), 'the diff shows the key with its value masked');
    assert.ok(all.includes('restarted with ********'));
  });

  test('--forks bounds how many hosts are worked on at once', async () => {
    const { inventory, root } = await localFleet(['b1', 'b2', 'b3', 'b4', 'b5']);
    let inFlight = 0;
    let peak = 0;
    const base = localOpener(root);
    const slowOpen = async (spec: Parameters<typeof base>[0]) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return base(spec);
    };
    await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { forks: 2, openHost: slowOpen, mode: 'check' }),
      recorder().sink,
    );
    assert.equal(peak, 2);
    peak = 0;
    await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { openHost: slowOpen, mode: 'check' }),
      recorder().sink,
    );
    assert.equal(peak, 6, 'default: all hosts at once');
  });

  test('--limit acts on the named hosts only; the meet host is still read', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1', 'jvb2']);
    const rec = recorder();
    const r = await runPlaybook(inventory, testPlaybook(root), options(root, { limit: ['jvb2'] }), rec.sink);
    assert.deepEqual(
      r.hosts.map((h) => [h.host, h.status]),
      [['jvb2', 'changed']],
    );
    assert.ok(rec.of('host:connected').some((e) => e.host === 'meet'));
    await assert.rejects(stat(join(dirOf('meet'), 'main.cfg')), /ENOENT/);
    await assert.rejects(stat(join(dirOf('jvb1'), 'bridge.properties')), /ENOENT/);
    await assert.rejects(
      runPlaybook(inventory, testPlaybook(root), options(root, { limit: ['jvb3'] }), rec.sink),
      /--limit: no host or group named "jvb3" in .*; did you mean "jvb1"\?/,
    );
  });

  test('decide: skip leaves the step undone; quit stops the run with exit 130', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const skipped = await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, { decide: async (step) => (step.id === 'top-line' ? 'skip' : 'apply') }),
      recorder().sink,
    );
    assert.equal(skipped.exitCode, 0);
    await assert.rejects(stat(join(dirOf('meet'), 'main.cfg')), /ENOENT/);
    assert.equal(skipped.hosts.find((h) => h.host === 'meet')!.status, 'skipped');

    const fleet2 = await localFleet(['jvb1']);
    const rec = recorder();
    const quit = await runPlaybook(
      fleet2.inventory,
      testPlaybook(fleet2.root),
      options(fleet2.root, { decide: async () => 'quit' }),
      rec.sink,
    );
    assert.equal(quit.exitCode, 130);
    assert.equal(quit.aborted, true);
    assert.deepEqual(
      rec.of('step:start').map((e) => e.step),
      ['top-line'],
      'no step after quit',
    );
  });

  test('handlers run once per host, after the last change step and before the check step', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const pb = testPlaybook(root, { moreSteps: true });
    const rec = recorder();
    const r = await runPlaybook(inventory, pb, options(root), rec.sink);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      rec.of('step:start').map((e) => e.step),
      ['top-line', 'bridge-config', 'second-line', 'restart', 'prove'],
    );
    assert.deepEqual([...pb.handlerRuns].sort(), ['jvb1', 'meet'], 'meet notified twice, restarted once');
    assert.deepEqual(
      rec
        .of('step:planned')
        .filter((e) => e.step === 'prove')
        .map((e) => `${e.host} ${e.notes[0]}`)
        .sort(),
      ['jvb1 restarted before the check: yes', 'meet restarted before the check: yes'],
    );
    assert.deepEqual(
      r.hosts.map((h) => [h.host, h.changed]),
      [
        ['meet', 2],
        ['jvb1', 1],
      ],
      'restarts are not counted as changes',
    );
    assert.deepEqual(
      rec.of('run:start')[0]!.steps.map((s) => s.id),
      ['top-line', 'bridge-config', 'second-line', 'restart', 'prove'],
    );

    const again = testPlaybook(root, { moreSteps: true });
    const rec2 = recorder();
    await runPlaybook(inventory, again, options(root), rec2.sink);
    assert.deepEqual(again.handlerRuns, []);
    assert.ok(!rec2.of('step:start').some((e) => e.step === 'restart'), 'nothing changed: no restart step');
  });

  test('handlers run in the order the playbook lists them: all hosts of one before any of the next', async () => {
    const { inventory, root } = await localFleet(['jvb1', 'jvb2']);
    const log: string[] = [];
    const handler = (name: string, ms: number): HandlerSpec => ({
      name,
      description: `restart ${name}`,
      run: async (host) => {
        log.push(`start ${name} ${host.name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name} ${host.name}`);
      },
    });
    const change = (notify: string): Change => ({
      description: `change for ${notify}`,
      notify: [notify],
      apply: async () => undefined,
    });
    const pb: Playbook<null> = {
      name: 'order',
      roles: TEST_ROLES,
      variables: {},
      watchPackages: [],
      discover: async () => null,
      // The bridges' handler is notified first, but the server's is listed first.
      steps: [
        {
          id: 'bridges',
          title: 'Bridges',
          why: '.',
          roles: ['jvb'],
          plan: async (ctx) => ({
            changes: [change('bridge'), ...(ctx.spec.name === 'jvb1' ? [change('bridge')] : [])],
          }),
        },
        {
          id: 'server',
          title: 'Server',
          why: '.',
          roles: ['meet'],
          plan: async () => ({ changes: [change('server')] }),
        },
      ],
      handlers: [handler('server', 150), handler('bridge', 10)],
    };
    const r = await runPlaybook(inventory, pb, options(root), recorder().sink);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(log.slice(0, 2), ['start server meet', 'end server meet']);
    assert.deepEqual(
      log.slice(2).sort(),
      ['end bridge jvb1', 'end bridge jvb2', 'start bridge jvb1', 'start bridge jvb2'],
      'each bridge restarted once',
    );
  });

  /** The server's handler, then the bridges' step: does the handler start before that step's change ends? */
  function earlyPlaybook(log: string[], opts: { failServer?: boolean } = {}): Playbook<null> {
    const change = (notify: string, apply: Change['apply'] = async () => undefined): Change => ({
      description: `change for ${notify}`,
      notify: [notify],
      apply,
    });
    const waitFor = async (entry: string) => {
      for (let i = 0; i < 40 && !log.includes(entry); i++) await new Promise((r) => setTimeout(r, 25));
    };
    return {
      name: 'early',
      roles: TEST_ROLES,
      variables: {},
      watchPackages: [],
      discover: async () => null,
      steps: [
        {
          id: 'server',
          title: 'Server',
          why: '.',
          roles: ['meet'],
          plan: async () => ({ changes: [change('server')] }),
        },
        {
          id: 'bridges',
          title: 'Bridges',
          why: '.',
          roles: ['jvb'],
          plan: async (ctx) => ({
            changes: [
              change('bridge', async () => {
                await waitFor('start server meet'); // gives an early restart a second to show up
                log.push(`bridge change ${ctx.spec.name}`);
              }),
            ],
          }),
        },
      ],
      handlers: [
        {
          name: 'server',
          mayStartEarly: true,
          description: 'restart server',
          run: async (host, io) => {
            log.push(`start server ${host.name}`);
            io.output('stdout', 'server restarted');
            if (opts.failServer) throw new HostError(host.name, 'server did not come back');
          },
        },
        {
          name: 'bridge',
          description: 'restart bridge',
          run: async (host) => void log.push(`restart bridge ${host.name}`),
        },
      ],
    };
  }

  test('asking nothing, the first handler starts once no later step touches its host; it is reported in the restart step', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const log: string[] = [];
    const rec = recorder();
    const r = await runPlaybook(inventory, earlyPlaybook(log), options(root), rec.sink);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      log,
      ['start server meet', 'bridge change jvb1', 'restart bridge jvb1'],
      'the server restarts while the bridges change',
    );
    const restartAt = rec.events.findIndex((e) => e.type === 'step:start' && e.step === 'restart');
    const said = rec.events.findIndex((e) => e.type === 'host:output' && e.line === 'server restarted');
    assert.ok(restartAt >= 0 && said > restartAt, 'its output is reported in the restart step');
    assert.equal(rec.of('handler:run').filter((e) => e.handler === 'server').length, 1);
  });

  test('a run that asks keeps every restart for the restart step', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const log: string[] = [];
    const r = await runPlaybook(
      inventory,
      earlyPlaybook(log),
      options(root, { decide: async () => 'apply' }),
      recorder().sink,
    );
    assert.equal(r.exitCode, 0);
    assert.deepEqual(log, ['bridge change jvb1', 'start server meet', 'restart bridge jvb1']);
  });

  test('a handler started early that fails fails its host in the restart step; the others still restart', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const log: string[] = [];
    const rec = recorder();
    const r = await runPlaybook(inventory, earlyPlaybook(log, { failServer: true }), options(root), rec.sink);
    assert.equal(r.exitCode, 2);
    const failed = rec.of('step:host-result').find((e) => e.host === 'meet' && e.status === 'failed');
    assert.equal(failed?.step, 'restart');
    assert.match(failed?.error ?? '', /server did not come back/);
    assert.ok(log.includes('restart bridge jvb1'));
  });

  test('stopping after a change still restarts what changed, without asking', async () => {
    const { inventory, root } = await localFleet(['jvb1']);
    const pb = testPlaybook(root, { moreSteps: true });
    const asked: string[] = [];
    const rec = recorder();
    const r = await runPlaybook(
      inventory,
      pb,
      options(root, { decide: async (step) => (asked.push(step.id), step.id === 'top-line' ? 'apply' : 'quit') }),
      rec.sink,
    );
    assert.equal(r.exitCode, 130);
    assert.deepEqual(asked, ['top-line', 'bridge-config']);
    assert.deepEqual(pb.handlerRuns, ['meet']);
    assert.deepEqual(
      rec.of('step:start').map((e) => e.step),
      ['top-line', 'bridge-config', 'restart'],
    );
  });

  test('a restart that did not happen or take effect stays due on the host; a later run does it first', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const mark = join(root, 'state', 'pending', 'restart-thing');
    const meetOnly = (over: Partial<RunOptions> = {}) => options(root, { limit: ['meet'], ...over });
    // The restart fails: the change is made, the mark stays.
    const first = await runPlaybook(
      inventory,
      testPlaybook(root, { handlerFails: ['meet'] }),
      meetOnly(),
      recorder().sink,
    );
    assert.equal(first.exitCode, 2);
    assert.match(await readFile(join(dirOf('meet'), 'main.cfg'), 'utf8'), /iface/);
    assert.equal(await readFile(mark, 'utf8'), 'test-run restart-thing v=2 handler=restart%20thing\n');
    // Nothing is left to change, yet the check plans the restart, with the run that left it.
    const check = recorder();
    await runPlaybook(inventory, testPlaybook(root), meetOnly({ mode: 'check', runId: 'r2' }), check.sink);
    assert.deepEqual(
      check.of('step:planned').flatMap((e) => e.changes.map((c) => `${e.step}: ${c.description}`)),
      ['restart: restart the thing (left pending by run test-run)'],
    );
    // The restart runs but does not take effect: still due.
    const third = await runPlaybook(
      inventory,
      testPlaybook(root, { notInEffect: ['meet'] }),
      meetOnly(),
      recorder().sink,
    );
    assert.equal(third.exitCode, 2);
    assert.match(third.hosts[0]?.error ?? '', /started before its config was written/);
    assert.equal(await readFile(mark, 'utf8'), 'test-run restart-thing v=2 handler=restart%20thing\n');
    // Now it works: the mark is cleared, and the run after that has nothing to do.
    const pb = testPlaybook(root);
    const fourth = await runPlaybook(inventory, pb, meetOnly(), recorder().sink);
    assert.equal(fourth.exitCode, 0);
    assert.deepEqual(pb.handlerRuns, ['meet']);
    await assert.rejects(stat(mark), /ENOENT/);
    const pb5 = testPlaybook(root);
    await runPlaybook(inventory, pb5, meetOnly(), recorder().sink);
    assert.deepEqual(pb5.handlerRuns, []);
  });

  test('a file changed after it was planned is not overwritten', async () => {
    const { inventory, root, dirOf } = await localFleet(['jvb1']);
    const path = join(dirOf('jvb1'), 'bridge.properties');
    await writeFile(path, 'PASSWORD=old\n');
    const r = await runPlaybook(
      inventory,
      testPlaybook(root),
      options(root, {
        decide: async (step) => {
          if (step.id === 'bridge-config') await writeFile(path, 'PASSWORD=edited-by-someone\n');
          return 'apply';
        },
      }),
      recorder().sink,
    );
    assert.equal(r.exitCode, 2);
    assert.match(r.hosts.find((h) => h.host === 'jvb1')!.error!, /it changed on the host since it was planned/);
    assert.equal(await readFile(path, 'utf8'), 'PASSWORD=edited-by-someone\n');
  });
});
