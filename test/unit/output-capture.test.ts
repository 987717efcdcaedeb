import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutputCapture } from '../../src/transport/output-capture.js';

/*
 * review: what a command prints is shown live line by line (every apply command, apt, a restart):
 * a stream with no line break (a progress meter drawn with \r, a binary file, `cat /dev/zero >&2`)
 * must neither grow this process nor cost it time out of proportion, and a character split
 * between two chunks is still that character.
 */

const CHUNK = Buffer.alloc(64 * 1024, 'a');

describe('review: live output without line breaks', () => {
  test('review: 64 MiB on stderr with no line break: bounded memory, linear time', () => {
    const lines: string[] = [];
    const capture = new OutputCapture((_s, l) => lines.push(l));
    const heap = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    for (let i = 0; i < 1024; i++) capture.stderr(CHUNK);
    const grew = process.memoryUsage().heapUsed - heap;
    capture.finish();
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `${ms} ms for 64 MiB`);
    assert.ok(grew < 48 << 20, `the heap grew by ${Math.round(grew / 2 ** 20)} MiB while it was read`);
    assert.ok(
      lines.every((l) => l.length <= 64 * 1024),
      'no line passed on is longer than 64 KiB',
    );
  });

  test('review: 32 MiB of stdout in one line (its cap) costs linear time', () => {
    const capture = new OutputCapture(() => undefined);
    const t0 = Date.now();
    for (let i = 0; i < 511; i++) assert.ok(capture.stdout(CHUNK));
    capture.finish();
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  });

  test('review: a character split between two chunks is shown whole', () => {
    const lines: string[] = [];
    const capture = new OutputCapture((_s, l) => lines.push(l));
    const bytes = Buffer.from('grüße: pässwörd\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('ü', 'utf8')) + 1;
    capture.stdout(bytes.subarray(0, cut));
    capture.stdout(bytes.subarray(cut));
    capture.finish();
    assert.deepEqual(lines, ['grüße: pässwörd']);
  });
});
