import { createTwoFilesPatch } from 'diff';

/** A unified diff of one file, headed with its path; '' when nothing differs. */
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
  return patch.replace(/^=+\n/, '');
}
