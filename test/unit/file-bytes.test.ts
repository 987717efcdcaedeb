import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeBytes, encodeText, showEscapes } from '../../src/transport/file-bytes.js';

test('any bytes decode to text that encodes back to the same bytes', () => {
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(i % 64);
    assert.deepEqual(encodeText(decodeBytes(bytes)), bytes);
  }
});

test('valid UTF-8 reads as itself; only the bad bytes are escaped', () => {
  assert.equal(decodeBytes(Buffer.from('ünïcode ✓ 😀\n')), 'ünïcode ✓ 😀\n');
  const text = decodeBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  assert.equal(text.length, 5);
  assert.equal(showEscapes(text), 'caf\\xe9\n');
  // Overlong forms and encoded surrogates are not valid UTF-8: kept as bytes.
  for (const bad of [
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  ]) {
    const b = Buffer.from(bad);
    assert.equal(decodeBytes(b).length, bad.length, `${b.toString('hex')} escapes byte by byte`);
    assert.deepEqual(encodeText(decodeBytes(b)), b);
  }
});

test('an edit of escaped text keeps every byte it does not touch', () => {
  const bytes = Buffer.concat([Buffer.from('x = 1\n# caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from('\n')]);
  const edited = decodeBytes(bytes).replace('x = 1', 'x = 2');
  assert.deepEqual(
    encodeText(edited),
    Buffer.concat([Buffer.from('x = 2\n# caf'), Buffer.from([0xe9, 0xff, 0xfe, 0x0a])]),
  );
  // A real surrogate pair whose low half falls in the escape range is text, not a byte.
  const pair = String.fromCodePoint(0x10080);
  assert.deepEqual(encodeText(pair), Buffer.from(pair, 'utf8'));
  assert.equal(showEscapes(pair), pair, 'and is shown as itself');
});
