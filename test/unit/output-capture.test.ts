import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
  test('review: 256 MiB on stderr with no line break: read in a 48 MiB heap, in linear time', () => {
    // In a process of its own, with a heap far smaller than the stream: what is kept must not grow with it.
    const module = new URL('../../src/transport/output-capture.js', import.meta.url).href;
    const script = `const { OutputCapture } = await import(${JSON.stringify(module)});
let longest = 0;
const capture = new OutputCapture((_s, l) => { longest = Math.max(longest, l.length); });
const chunk = Buffer.alloc(64 * 1024, 'a');
for (let i = 0; i < 4096; i++) capture.stderr(chunk);
capture.finish();
process.stdout.write(String(longest));`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--max-old-space-size=48', '--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    const ms = Date.now() - t0;
    assert.equal(r.status, 0, r.signal ? `ended by ${r.signal} after ${ms} ms` : String(r.stderr).slice(-300));
    assert.ok(ms < 10_000, `${ms} ms for 256 MiB`);
    assert.ok(Number(r.stdout) <= 64 * 1024, `the longest line passed on has ${r.stdout} characters`);
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
