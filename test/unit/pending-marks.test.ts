import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  handlerOfMark,
  markName,
  parseMark,
  parsePendingMarks,
  pendingProbe,
  unknownMarkNote,
} from '../../src/engine/pending.js';

const HANDLERS = [{ name: 'restart prosody' }, { name: 'restart-prosody' }, { name: 'restart jitsi-videobridge2' }];

describe('the restart journal', () => {
  test('a version 1 mark (run id and name only) reads as version 1 and is matched by its file name', () => {
    const mark = parseMark('restart-jitsi-videobridge2', '20261202T100000123Z-abcdef restart-jitsi-videobridge2');
    assert.deepEqual(mark, { name: 'restart-jitsi-videobridge2', runId: '20261202T100000123Z-abcdef', version: 1 });
    assert.equal(handlerOfMark(HANDLERS, mark)?.name, 'restart jitsi-videobridge2');
  });

  test('a version 2 mark names its handler exactly, where two handlers share a file name', () => {
    assert.equal(markName('restart prosody'), markName('restart-prosody'));
    const mark = parseMark('restart-prosody', 'r2 restart-prosody v=2 handler=restart-prosody');
    assert.deepEqual(mark, { name: 'restart-prosody', runId: 'r2', version: 2, handler: 'restart-prosody' });
    assert.equal(handlerOfMark(HANDLERS, mark)?.name, 'restart-prosody');
    const spaced = parseMark(
      'restart-prosody',
      `r2 restart-prosody v=2 handler=${encodeURIComponent('restart prosody')}`,
    );
    assert.equal(handlerOfMark(HANDLERS, spaced)?.name, 'restart prosody');
  });

  test('what old code reads of a new mark is what it always read: the first word is the run id', () => {
    const line = `r3 restart-prosody v=2 handler=${encodeURIComponent('restart prosody')}`;
    assert.equal(line.split(' ')[0], 'r3');
  });

  test('a later version is still honoured by its file name; fields it does not know are ignored', () => {
    const mark = parseMark('restart-prosody', 'r9 restart-prosody v=7 handler=%E0%A4%A why=unknown');
    assert.equal(mark.version, 7);
    assert.equal(mark.handler, undefined, 'an undecodable name is no name');
    assert.equal(handlerOfMark(HANDLERS, mark)?.name, 'restart prosody');
    assert.equal(parseMark('x', 'r v=two').version, 1);
  });

  test('a mark no handler knows is named with its host and file', () => {
    const mark = parseMark('restart-coturn', 'r4 restart-coturn v=2 handler=restart%20coturn');
    assert.equal(handlerOfMark(HANDLERS, mark), undefined);
    assert.equal(
      unknownMarkNote('meet', '/var/lib/jitsi-scale', mark),
      '/var/lib/jitsi-scale/pending/restart-coturn on meet asks for a restart this command does not know ("restart coturn", left by run r4): it is left in place; remove it once nothing is due',
    );
  });

  test('the facts probe lists every regular file, one line each, whatever its name or content holds', async () => {
    const state = await mkdtemp(join(tmpdir(), 'js-marks-'));
    const dir = join(state, 'pending');
    await mkdir(join(dir, 'a-directory'), { recursive: true });
    await writeFile(join(dir, 'restart-prosody'), 'r1 restart-prosody v=2 handler=restart%20prosody\nsecond line\n');
    await writeFile(join(dir, 'tab\there'), 'r2\tx y\n');
    await writeFile(join(dir, 'new\nline'), 'r3 z\n');
    await writeFile(join(dir, '.hidden'), 'r4\n');
    await writeFile(join(dir, 'empty'), '');
    await writeFile(join(dir, 'binary'), Buffer.from([0xff, 0x00, 0x0a, 0x41]));
    const out = spawnSync('sh', ['-c', pendingProbe('"$1"'), 'sh', state], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const marks = parsePendingMarks(out.stdout.split('\n').filter(Boolean));
    assert.deepEqual(marks.map((m) => [m.name, m.runId]).sort(), [
      ['binary', '\ufffd'],
      ['empty', ''],
      ['new?line', 'r3'],
      ['restart-prosody', 'r1'],
      ['tab?here', 'r2x'],
    ]);
    const none = spawnSync('sh', ['-c', pendingProbe('"$1"'), 'sh', join(state, 'nothing')], { encoding: 'utf8' });
    assert.equal(none.stdout, '');
  });
});
