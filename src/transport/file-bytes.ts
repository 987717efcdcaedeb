/*
 * A host file's bytes as a string that gives the same bytes back. Valid UTF-8 reads as itself;
 * each byte that is not part of valid UTF-8 becomes one lone surrogate U+DC80..U+DCFF (the scheme
 * Python calls surrogateescape), which no real text contains. Edits work on the string as usual,
 * and every byte they do not touch is written back as it was, whatever the file's encoding.
 */

const ESCAPE_BASE = 0xdc00;

/** Length of the valid UTF-8 sequence starting at i, or 0 when the byte there starts none. */
function sequenceLength(buf: Uint8Array, i: number): number {
  const b = buf[i]!;
  if (b < 0x80) return 1;
  let n: number;
  let min: number;
  if (b >= 0xc2 && b <= 0xdf) [n, min] = [2, 0x80];
  else if (b >= 0xe0 && b <= 0xef) [n, min] = [3, 0x800];
  else if (b >= 0xf0 && b <= 0xf4) [n, min] = [4, 0x10000];
  else return 0;
  if (i + n > buf.length) return 0;
  let cp = b & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const c = buf[i + k]!;
    if ((c & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/** The bytes as text; decodeBytes(b) encodes back to exactly b. */
export function decodeBytes(buf: Uint8Array): string {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  const flush = (end: number) => {
    if (end > start) parts.push(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
  };
  while (i < buf.length) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    flush(i);
    parts.push(String.fromCharCode(ESCAPE_BASE + buf[i]!));
    i++;
    start = i;
  }
  flush(i);
  return parts.join('');
}

/** An escaped byte: a low surrogate in U+DC80..U+DCFF that no high surrogate comes before. */
const ESCAPED_BYTE = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/** The text's bytes: UTF-8, with each escaped byte written back as that byte. */
export function encodeText(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (const m of text.matchAll(ESCAPED_BYTE)) {
    parts.push(Buffer.from(text.slice(start, m.index), 'utf8'), Buffer.from([m[0].charCodeAt(0) - ESCAPE_BASE]));
    start = m.index + 1;
  }
  if (parts.length === 0) return Buffer.from(text, 'utf8');
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** The text with each escaped byte shown as \xNN, for a terminal or a diff. */
export function showEscapes(text: string): string {
  return text.replace(ESCAPED_BYTE, (c) => `\\x${(c.charCodeAt(0) - ESCAPE_BASE).toString(16).padStart(2, '0')}`);
}
