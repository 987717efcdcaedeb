import { createTwoFilesPatch } from 'diff';
import { showEscapes } from '../../transport/file-bytes.js';

/** A unified diff of one file, headed with its path; '' when nothing differs. Bytes that are not UTF-8 show as \xNN. */
export function unifiedDiff(path: string, before: string | null, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(
    before === null ? '/dev/null' : `a${path}`,
    `b${path}`,
    before ?? '',
    after,
    '',
    '',
    { context: 3 },
  );
  // Drop the "=====" banner line; keep ---/+++ and hunks.
  return showEscapes(patch.replace(/^=+\n/, ''));
}
