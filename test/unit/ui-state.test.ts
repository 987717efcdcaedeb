import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunEvent } from '../../src/engine/events.js';
import { GuidedSession } from '../../src/ui/guided/guided-session.js';
import {
  clip,
  expandTabs,
  groupByLines,
  hostList,
  lineText,
  plain,
  seg,
  wrapLine,
  wrapText,
} from '../../src/ui/guided/lines.js';
import { initialState, reduce, type RunState } from '../../src/ui/guided/run-state.js';
import { endLines, shortOs, startLines } from '../../src/ui/guided/screens.js';
import { COLOURS, themeFor } from '../../src/ui/theme.js';

const start: RunEvent = {
  type: 'run:start',
  runId: 'r1',
  mode: 'apply',
  playbook: 'pb',
  roles: [
    { name: 'meet', label: ['meet server', 'meet servers'] },
    { name: 'jvb', label: ['bridge', 'bridges'] },
  ],
  hosts: [
    { name: 'meet', role: 'meet', address: '10.0.0.1' },
    { name: 'jvb1', role: 'jvb', address: '10.0.0.11' },
  ],
  steps: [
    { id: 'conf', title: 'Config', why: 'w', kind: 'change' },
    { id: 'verify', title: 'Verify', why: 'v', kind: 'check' },
  ],
};

const play = (events: RunEvent[]): RunState => events.reduce((s, e) => reduce(s, e, 1000), initialState(0));

describe('guided screen state', () => {
  test('a step is live until it is done, then it is settled once, after the start screen', () => {
    const s = play([
      start,
      { type: 'host:connected', host: 'meet', ms: 5 },
      { type: 'host:unreachable', host: 'jvb1', reason: 'connection refused' },
      { type: 'step:start', step: 'conf', title: 'Config', why: 'w', hosts: ['meet'] },
      {
        type: 'step:planned',
        step: 'conf',
        host: 'meet',
        changes: [{ description: 'edit a', diff: '+x' }],
        notes: ['n'],
      },
    ]);
    assert.equal(s.current?.number, 1);
    assert.deepEqual(s.current?.work.meet?.changes, [{ description: 'edit a', diff: '+x' }]);
    assert.deepEqual(
      s.settled.map((x) => x.kind),
      ['start'],
    );
    assert.deepEqual(
      s.hosts.map((h) => [h.name, h.conn, h.error]),
      [
        ['meet', 'connected', undefined],
        ['jvb1', 'unreachable', 'connection refused'],
      ],
    );
    const done = [
      { type: 'step:decision', step: 'conf', decision: 'apply' },
      { type: 'task:start', step: 'conf', host: 'meet', description: 'edit a' },
      { type: 'host:output', step: 'conf', host: 'meet', stream: 'stdout', line: '1' },
      { type: 'host:output', step: 'conf', host: 'meet', stream: 'stdout', line: '2' },
      { type: 'host:output', step: 'conf', host: 'meet', stream: 'stdout', line: '3' },
      { type: 'host:output', step: 'conf', host: 'meet', stream: 'stderr', line: '4' },
    ] satisfies RunEvent[];
    const running = done.reduce((x, e) => reduce(x, e), s);
    assert.deepEqual(running.current?.work.meet?.lines, ['2', '3', '4'], 'the last three output lines');
    assert.equal(running.current?.work.meet?.current, 'edit a');
    const settled = [
      { type: 'task:changed', step: 'conf', host: 'meet', description: 'edit a', backup: '/b/a' },
      { type: 'step:host-result', step: 'conf', host: 'meet', status: 'changed', changed: 1 },
      { type: 'step:done', step: 'conf', counts: { ok: 0, changed: 1, failed: 0, skipped: 0, unreachable: 0 } },
    ] satisfies RunEvent[];
    const after = settled.reduce((x, e) => reduce(x, e), running);
    assert.equal(after.current, undefined);
    assert.deepEqual(
      after.settled.map((x) => x.kind),
      ['start', 'step'],
    );
    assert.deepEqual(after.backups, [{ host: 'meet', path: '/b/a' }]);
    assert.deepEqual(after.matrix, { meet: { conf: 'changed' } });
  });

  test("a check step's notes and failures are the run's verification", () => {
    const s = play([
      start,
      { type: 'step:start', step: 'verify', title: 'Verify', why: 'v', hosts: ['jvb1', 'meet'] },
      { type: 'step:planned', step: 'verify', host: 'jvb1', changes: [], notes: ['in the brewery'] },
      { type: 'step:host-result', step: 'verify', host: 'jvb1', status: 'ok', changed: 0 },
      {
        type: 'step:host-result',
        step: 'verify',
        host: 'meet',
        status: 'failed',
        changed: 0,
        error: 'not in the brewery',
      },
    ]);
    assert.deepEqual(s.verification, [
      { host: 'jvb1', ok: true, lines: ['in the brewery'] },
      { host: 'meet', ok: false, lines: ['not in the brewery'] },
    ]);
  });

  test('a run that stops at discovery settles the start screen with the reason and ends', () => {
    const s = play([
      start,
      { type: 'run:refused', host: 'meet', reason: 'no Prosody config' },
      {
        type: 'run:done',
        exitCode: 2,
        aborted: false,
        backupDir: '/b',
        hosts: [{ host: 'meet', role: 'meet', status: 'failed', changed: 0, error: 'no Prosody config' }],
      },
    ]);
    assert.deepEqual(
      s.settled.map((x) => x.kind),
      ['start', 'end'],
    );
    const end = endLines(s, { width: 80, rerun: 'jitsi-scale' }).map(lineText).join('\n');
    assert.match(end, /Finished with problems in 0\.0 s · exit 2/);
    assert.match(end, /Fix this first: no Prosody config\. Then run jitsi-scale again\./);
    assert.ok(!end.includes('--limit'), 'a refusal is fixed and rerun as a whole, not per host');
  });

  test('the start screen fits the height it is given, problems first', () => {
    let s = play([start]);
    const many: RunEvent = {
      ...start,
      hosts: Array.from({ length: 40 }, (_, i) => ({ name: `b${i}`, role: 'jvb', address: `10.0.1.${i}` })),
    };
    s = play([many, { type: 'host:failed', host: 'b39', stage: 'facts', reason: 'sudo asks for a password' }]);
    const lines = startLines(s, { width: 80, height: 23, inventoryPath: 'i.yaml', asking: true });
    assert.equal(lines.length, 23);
    const text = lines.map(lineText).join('\n');
    assert.match(text, /b39 +jvb +10\.0\.1\.39 +sudo asks for a password/, 'the failed host is kept on screen');
    assert.match(text, /… \d+ more hosts/);
    assert.match(text, /⏎ begin {3}q quit$/);
  });
});

describe('screen lines', () => {
  test('wrapping keeps words whole and hangs continuation rows under the text', () => {
    assert.deepEqual(wrapText('one two three four', 10), ['one two', 'three four']);
    assert.deepEqual(wrapText('abcdefghijklmnop', 10), ['abcdefghij', 'klmnop']);
    const rows = wrapLine(
      [seg('  • '), seg('set the shard connection in /etc/jitsi/videobridge/jvb.conf', 'changed')],
      30,
    ).map(lineText);
    assert.ok(rows.length > 1 && rows.every((r) => r.length <= 30), rows.join('|'));
    assert.ok(
      rows.slice(1).every((r) => r.startsWith('      ')),
      'continuation rows are indented past the bullet',
    );
    assert.equal(rows.join('').replace(/\s+/g, ''), '•settheshardconnectionin/etc/jitsi/videobridge/jvb.conf');
  });

  test('clipping says how much was left out; grouping joins identical hosts; long host lists are shortened', () => {
    const lines = Array.from({ length: 10 }, (_, i) => plain(`l${i}`));
    assert.deepEqual(clip(lines, 4, (n) => `${n} more`).map(lineText), ['l0', 'l1', 'l2', '7 more']);
    assert.equal(clip(lines, 10, () => 'x').length, 10);
    const groups = groupByLines([
      { host: 'a', lines: [plain('same')] },
      { host: 'b', lines: [plain('other')] },
      { host: 'c', lines: [plain('same')] },
    ]);
    assert.deepEqual(
      groups.map((g) => g.hosts),
      [['a', 'c'], ['b']],
    );
    assert.equal(hostList(['jvb1', 'jvb2', 'jvb3'], 40), 'jvb1, jvb2, jvb3');
    assert.equal(
      hostList(
        Array.from({ length: 30 }, (_, i) => `jvb${i + 1}`),
        24,
      ),
      'jvb1, jvb2 and 28 more',
    );
  });

  test('tabs become spaces to the next tab stop; OS names are shortened', () => {
    assert.equal(expandTabs('\tx'), '        x');
    assert.equal(expandTabs('ab\tc'), 'ab      c');
    assert.equal(shortOs('Debian GNU/Linux 12 (bookworm)'), 'Debian 12');
    assert.equal(shortOs('Ubuntu 24.04.1 LTS'), 'Ubuntu 24.04.1 LTS');
  });

  test('NO_COLOR (any non-empty value) and TERM=dumb turn every colour off', () => {
    assert.deepEqual(themeFor({ NO_COLOR: '1' }), {});
    assert.deepEqual(themeFor({ TERM: 'dumb' }), {});
    assert.deepEqual(themeFor({ NO_COLOR: '' }), COLOURS);
    assert.deepEqual(themeFor({}), COLOURS);
  });
});

describe('guided session', () => {
  test('answers resolve the question on screen; Ctrl-C answers quit, aborts, and a second one exits', async () => {
    const calls: string[] = [];
    const session = new GuidedSession({ abort: () => calls.push('abort'), hardExit: () => calls.push('exit') });
    const tick = () => new Promise((r) => setImmediate(r));
    session.answer('apply');
    const ready = session.ready();
    await tick();
    assert.deepEqual(session.getState().question, { kind: 'start' });
    session.answer('go');
    assert.equal(await ready, 'go');
    assert.equal(session.getState().question, undefined);
    const decision = session.decide({ id: 'conf' });
    await tick();
    assert.deepEqual(session.getState().question, { kind: 'step', step: 'conf' });
    session.interrupt();
    assert.equal(await decision, 'quit');
    assert.equal(session.getState().interrupted, true);
    assert.equal(await session.decide({ id: 'next' }), 'quit', 'after Ctrl-C nothing more is asked');
    session.interrupt();
    assert.deepEqual(calls, ['abort', 'exit']);
  });

  test('questions from hosts connecting at once are asked one after the other', async () => {
    const tick = () => new Promise((r) => setImmediate(r));
    const session = new GuidedSession({ abort: () => undefined, hardExit: () => undefined });
    const key = (host: string) => ({
      host,
      address: `${host}:22`,
      keyType: 'ssh-ed25519',
      fingerprint: `SHA256:${host}`,
    });
    const a = session.trustHostKey(key('jvb1'));
    const b = session.secret('sudo password');
    await tick();
    assert.equal(session.getState().question?.kind, 'host-key');
    session.answer({ trust: true });
    assert.equal(await a, true);
    await tick();
    assert.deepEqual(session.getState().question, { kind: 'secret', prompt: 'sudo password' });
    session.answer({ secret: 'pw' });
    assert.equal(await b, 'pw');
  });
});
