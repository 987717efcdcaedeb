import { HostError, whyFailed, type Host } from './host.js';
import { decodeBytes } from './file-bytes.js';
import { shScript } from './shell-quote.js';

/*
 * Several files read in one command, on any host that runs POSIX sh: the loop is also embedded in
 * larger probes (the facts, the bridges' verification) so that their files come in the same round
 * trip.
 */

/** The most bytes of one file a read keeps: configs are kilobytes; anything larger is refused, not read whole. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

// One line per path, in the order given: "F" and the content in base64 (byte for byte, whatever
// it holds, and never more than one byte past the bound), "M" for a missing file, "N" for one that
// is not a regular file. Two processes per file and no subshells: on a busy host every process counts.
export const READ_MANY_LOOP = `
for p in "$@"; do
  if [ -f "$p" ]; then printf 'F '; head -c ${MAX_FILE_BYTES + 1} < "$p" | base64 -w0; echo; elif [ -e "$p" ]; then echo N; else echo M; fi
done`;
const READ_MANY = `${READ_MANY_LOOP}
echo END`;

/** A file larger than MAX_FILE_BYTES: only its first bytes were read, so it has no text to give. */
export interface TooBig {
  tooBig: true;
}

/** A file as read: its content, null when missing, false when it is not a regular file. */
export type ReadAnswer = string | null | false | TooBig;

const tooBig = (host: string, path: string) =>
  new HostError(
    host,
    `cannot read ${path} on ${host}: it is larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB, more than any file this tool reads (is it the file you meant?)`,
  );

/** One file's answer as readFile gives it: its text, null when missing; not a regular file, or too big, is an error. */
export function readFileAnswer(host: string, path: string, answer: ReadAnswer | undefined): string | null {
  if (answer === false) throw new HostError(host, `cannot read ${path}: ${path} is not a regular file`);
  if (typeof answer === 'object' && answer !== null) throw tooBig(host, path);
  return answer ?? null;
}

/** A file's text, or null when it is missing or not a regular file; a file too big to read is an error. */
export function asText(answer: ReadAnswer | undefined, host = '', path = ''): string | null {
  if (typeof answer === 'object' && answer !== null) throw tooBig(host, path);
  return typeof answer === 'string' ? answer : null;
}

/** Pure: the files from READ_MANY_LOOP's output lines, or null when they are not whole. */
export function parseReadMany(paths: readonly string[], lines: readonly string[]): Map<string, ReadAnswer> | null {
  const files = new Map<string, ReadAnswer>();
  for (const [i, path] of paths.entries()) {
    const [kind, body] = (lines[i] ?? '').split(' ');
    if (kind === 'F') {
      const bytes = Buffer.from(body ?? '', 'base64');
      files.set(path, bytes.length > MAX_FILE_BYTES ? { tooBig: true } : decodeBytes(bytes));
    } else if (kind === 'M' || kind === 'N') files.set(path, kind === 'M' ? null : false);
    else return null;
  }
  return files;
}

/** Reads several files in one command; the answers tell missing files from other kinds. */
export async function readMany(host: Host, paths: readonly string[]): Promise<Map<string, ReadAnswer>> {
  if (paths.length === 0) return new Map();
  const r = await host.exec(shScript(READ_MANY, ...paths), {
    readOnly: true,
    what: `reading ${paths.length === 1 ? paths[0] : `${paths.length} files`}`,
  });
  const files = r.code === 0 && r.stdout.endsWith('END\n') ? parseReadMany(paths, r.stdout.split('\n')) : null;
  if (!files)
    throw new HostError(
      host.name,
      `cannot read ${paths.join(', ')}: ${r.code === 0 ? 'unexpected answer from the host' : whyFailed(r)}`,
    );
  return files;
}
