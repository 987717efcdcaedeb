import { joinLines, splitLines } from './line-endings.js';

export interface LineAtTop {
  /** The exact line wanted. */
  line: string;
  /** Scripts: keep a "#!" first line first and put the line right after it. */
  afterShebang?: boolean;
  /**
   * Lines that set the same thing differently (e.g. another component_interface value) and would
   * override or duplicate ours; they are commented out with `commentPrefix`, or removed without one.
   */
  conflicts?: RegExp;
  commentPrefix?: string;
}

/**
 * Pure: the text with `line` as its first line (after a shebang when asked), exactly once, and
 * any conflicting line disabled. Text already in that state is returned unchanged.
 */
export function ensureLineAtTop(text: string | null, want: LineAtTop): string {
  const { lines, eol, finalEol } = splitLines(text ?? '');
  const head = want.afterShebang && lines[0]?.startsWith('#!') ? 1 : 0;
  const isOurs = (l: string) => l.trim() === want.line.trim();
  const conflicts = (l: string) =>
    !isOurs(l) &&
    (want.conflicts?.test(l) ?? false) &&
    !(want.commentPrefix && l.trimStart().startsWith(want.commentPrefix));
  const out: string[] = lines.slice(0, head);
  out.push(want.line);
  for (const l of lines.slice(head)) {
    if (isOurs(l)) continue;
    if (conflicts(l)) {
      if (want.commentPrefix) out.push(`${want.commentPrefix} ${l} (disabled by jitsi-scale)`);
      continue;
    }
    out.push(l);
  }
  const result = joinLines(out, eol, lines.length === 0 ? true : finalEol);
  // Already in place with no conflicts: report no change even if the rebuild normalised nothing.
  return result === text ? text : result;
}
