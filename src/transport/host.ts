import type { DeadlineClass } from './deadlines.js';

/** The one interface every step and module talks to; SSH and local hosts implement it. */

import type { LinkPolicy } from './link-policy.js';

export type OutputStream = 'stdout' | 'stderr';

export interface ExecOptions {
  /** The command's standard input: a string goes as UTF-8, a Buffer byte for byte. */
  stdin?: string | Buffer;
  /** Called for each whole line of output, as it arrives. */
  onLine?: (stream: OutputStream, line: string) => void;
  /** Run as the login user even when the host escalates privileges by default. */
  noBecome?: boolean;
  /**
   * The command only looks: it changes no file. Files read earlier in the run stay valid after it;
   * after any other command they are read again.
   */
  readOnly?: boolean;
  /**
   * How long the command may take: a kind of work (deadlines.ts) or seconds. Default: 'probe' for
   * a read-only command, else 'command'. On expiry it is stopped on the host and the call fails.
   */
  deadline?: DeadlineClass | number;
  /** What the command is, in a few words, for the messages about it (default: its program or script's first line). */
  what?: string;
}

export interface ExecResult {
  /** The exit code; a command ended by a signal has 128 + its number, as a shell reports it. */
  code: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the command, when one did. */
  signal?: string;
}

export interface FileStat {
  /** Permission bits, e.g. 0o640. */
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  /** Modification time in nanoseconds since the epoch, as a string (exceeds 2^53). */
  mtimeNs: string;
}

export interface WriteOptions {
  /** Mode for a new file, or to force on an existing one; default: keep the existing mode, 0644 for new files. */
  mode?: number;
  /**
   * Mode, owner and group for the file only when the write creates it (a file that will hold a
   * secret: 0640 and the service's group); an existing file keeps its own. `mode` etc. win over it.
   */
  create?: { mode?: number; owner?: string; group?: string };
  /** Owner/group for a new file, or to force on an existing one; default: keep the existing ones. */
  owner?: string;
  group?: string;
  /**
   * A validator run on the new content before it replaces the live file; the word "%s" is
   * replaced by the path of the temporary file. A non-zero exit aborts the write.
   */
  validate?: readonly string[];
  /**
   * SHA-256 (hex) of the content the change was planned against, or 'absent' for a file planned as
   * new. If the live file differs at write time, the write is refused: nobody's edit is lost.
   */
  expectSha256?: string;
}

export interface WriteResult {
  /** Where the previous content was saved, or null when the file did not exist. */
  backup: string | null;
  /** Set when the path was a symbolic link: the file written, which the link still leads to. */
  through?: string;
}

export interface Host {
  /** Inventory name, used in every message about this host. */
  readonly name: string;
  /** Where a symbolic link among its files may lead (link-policy.ts); default: each file's own directory. */
  readonly linkPolicy?: LinkPolicy;
  /** Runs argv (quoted safely) on the host, escalating privileges when the host is set to. */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * The file's content, or null when it does not exist. Bytes that are not UTF-8 come as escapes
   * (file-bytes.ts), so that writing the text back gives the same bytes. A path that is not a
   * regular file (a directory, a FIFO, a device), a dangling link, or a link that leads where the
   * link policy does not let it is refused with a HostError that names it and where it leads.
   */
  readFile(path: string): Promise<string | null>;
  /** Several files in one round trip, in the order given; a missing one maps to null, refused ones as readFile. */
  readFiles(paths: readonly string[]): Promise<Map<string, string | null>>;
  /**
   * Atomic replace: temp file in the same directory, owner/mode kept, backup, validate, the bytes
   * checked against their SHA-256, rename. A link is written through (to the file it leads to) only
   * as the link policy allows; what readFile refuses, this refuses too.
   */
  writeFile(path: string, content: string, opts?: WriteOptions): Promise<WriteResult>;
  stat(path: string): Promise<FileStat | null>;
  close(): Promise<void>;
}

/** A failure on a host that a user can act on; its message is one sentence, no stack needed. */
export class HostError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

/**
 * A write refused before it replaced the live file (it changed since it was planned, the validator
 * said no, its directory is missing): the file is as it was.
 */
export class WriteRefused extends HostError {
  override name = 'WriteRefused';
}

/** The host could not be reached or logged in to. */
export class UnreachableError extends HostError {
  override name = 'UnreachableError';
}

/** One line from a command's output, for an error message. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

/** Why a command failed, in one line: its last words on stderr, else stdout, else the exit code. */
export function whyFailed(r: ExecResult): string {
  return lastLine(r.stderr) || lastLine(r.stdout) || `exit ${r.code}`;
}

/** Runs argv and throws "<what> failed: <why>" when it exits non-zero. */
export async function execChecked(
  host: Host,
  argv: readonly string[],
  what: string,
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const r = await host.exec(argv, opts);
  if (r.code !== 0) throw new HostError(host.name, `${what} failed: ${whyFailed(r)}`);
  return r;
}
