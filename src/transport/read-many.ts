import { HostError, whyFailed, type Host } from './host.js';
import { decodeBytes } from './file-bytes.js';
import { LINK_CHECK, OWN_DIRECTORY_ONLY, refusalSentence, rootsArg, type LinkPolicy } from './link-policy.js';
import { shScript } from './shell-quote.js';

/*
 * Several files read in one command, on any host that runs POSIX sh: the loop is also embedded in
 * larger probes (the facts, the bridges' verification) so that their files come in the same round
 * trip.
 */

/** The most bytes of one file a read keeps: configs are kilobytes; anything larger is refused, not read whole. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

// Its arguments are pairs: a path and the directories a link there may lead into (readArgs). One
// line per path, in the order given: "F" and the content in base64 (byte for byte, whatever it
// holds, and never more than one byte past MAX_FILE_BYTES), "M" for a missing file, "R" and why it
// is refused (a link that leads elsewhere, a dangling link, a directory, a FIFO: never opened, so a
// FIFO cannot stall the read). Two processes per plain file and no subshells: on a busy host every
// process counts.
export const READ_MANY_LOOP = `${LINK_CHECK}
while [ $# -ge 2 ]; do
  p=$1; shift
  if ! js_check "$p" "$1"; then printf 'R '; js_refusal
  elif [ -f "$r" ]; then
    # opened once, then checked to be what was judged: a name swapped for a link since is not read
    { if [ "$(readlink /proc/$$/fd/4)" = "$r" ] && [ -f /proc/$$/fd/4 ]; then
        printf 'F '; head -c ${MAX_FILE_BYTES + 1} <&4 | base64 -w0; echo
      else echo 'R S - -'; fi; } 4<"$r" 2>/dev/null || echo 'R S - -'
  else echo M; fi
  shift
done`;

/** Why a file past the bound is not read. */
export const TOO_BIG = `it is larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB, more than any file this tool reads (is it the file you meant?)`;
const READ_MANY = `${READ_MANY_LOOP}
echo END`;

/** The arguments READ_MANY_LOOP takes for these paths on a host with this link policy. */
export function readArgs(paths: readonly string[], policy: LinkPolicy = OWN_DIRECTORY_ONLY): string[] {
  return paths.flatMap((p) => [p, rootsArg(p, policy)]);
}

/** A file as read: its content, null when missing, or why it is not read. */
export type ReadAnswer = string | null | { refused: string };

/** One file's answer as readFile and readFiles give it: its text, null when missing; a refusal is an error. */
export function readFileAnswer(host: string, path: string, answer: ReadAnswer | undefined): string | null {
  if (typeof answer === 'object' && answer !== null)
    throw new HostError(host, `cannot read ${path}: ${answer.refused}`);
  return answer ?? null;
}

/** A file's text, or null when it is missing or refused (for probes that can do without it). */
export function asText(answer: ReadAnswer | undefined): string | null {
  return typeof answer === 'string' ? answer : null;
}

/** Every answer's text; the first refusal is an error naming the file. */
export function textsOf(host: string, files: ReadonlyMap<string, ReadAnswer | undefined>): Map<string, string | null> {
  return new Map([...files].map(([p, a]) => [p, readFileAnswer(host, p, a)]));
}

/** Pure: the files from READ_MANY_LOOP's output lines, or null when they are not whole. */
export function parseReadMany(
  paths: readonly string[],
  lines: readonly string[],
  policy: LinkPolicy = OWN_DIRECTORY_ONLY,
): Map<string, ReadAnswer> | null {
  const files = new Map<string, ReadAnswer>();
  for (const [i, path] of paths.entries()) {
    const [kind, ...words] = (lines[i] ?? '').split(' ');
    const refused = kind === 'R' ? refusalSentence(path, words, policy) : null;
    if (kind === 'F') {
      const bytes = Buffer.from(words[0] ?? '', 'base64');
      files.set(path, bytes.length > MAX_FILE_BYTES ? { refused: TOO_BIG } : decodeBytes(bytes));
    } else if (kind === 'M') files.set(path, null);
    else if (refused) files.set(path, { refused });
    else return null;
  }
  return files;
}

/** Reads several files in one command; the answers tell missing files from refused ones. */
export async function readMany(host: Host, paths: readonly string[]): Promise<Map<string, ReadAnswer>> {
  if (paths.length === 0) return new Map();
  const r = await host.exec(shScript(READ_MANY, ...readArgs(paths, host.linkPolicy)), {
    readOnly: true,
    what: `reading ${paths.length === 1 ? paths[0] : `${paths.length} files`}`,
  });
  const files =
    r.code === 0 && r.stdout.endsWith('END\n') ? parseReadMany(paths, r.stdout.split('\n'), host.linkPolicy) : null;
  if (!files)
    throw new HostError(
      host.name,
      `cannot read ${paths.join(', ')}: ${r.code === 0 ? 'unexpected answer from the host' : whyFailed(r)}`,
    );
  return files;
}
