import { createHash } from 'node:crypto';
import {
  HostError,
  lastLine,
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type Host,
  type WriteOptions,
  type WriteResult,
  WriteRefused,
} from './host.js';
import { quoteArgv, shScript } from './shell-quote.js';
import { commandLabel, traced } from './exec-trace.js';
import { DEADLINE_WRAPPER, clientWaitMs, deadlineSeconds, endedByDeadline, sweepsOnExpiry } from './deadlines.js';
import { readFileAnswer, readMany, textsOf } from './read-many.js';
import { encodeText } from './file-bytes.js';
import { LINK_CHECK, OWN_DIRECTORY_ONLY, refusalSentence, rootsArg, type LinkPolicy } from './link-policy.js';

/** How long a run of one command line may go on, and what it is called in messages. */
export interface RunLimits {
  waitMs: number;
  what: string;
}

export interface Become {
  enabled: boolean;
  user: string;
  /** When sudo asks for one: given on stdin with -S, never on a command line. */
  password?: string;
}

/** Backups of every file this tool replaces go below this directory on each host. */
export const BACKUP_ROOT = '/var/backups/jitsi-scale';

const STAT_SCRIPT = `
[ -e "$1" ] || exit 3
exec stat -L -c '%a %u %g %U %G %s %.9Y' -- "$1"`;

/*
 * The atomic write, as one script so that it is a single round trip. The new content arrives on
 * stdin and lands in a temp file beside the target (same filesystem, so the final mv is a rename).
 * If anything fails, or the client goes away, the trap removes the temp file and the live file is
 * untouched. Losing the client is noticed even without a terminal (no SIGHUP then): the script
 * reports "ready" on stdout right before the rename, and writing to a closed channel raises
 * SIGPIPE, which ends it through the same trap. The first backup made in a run is kept: it is the
 * state before the run.
 * A link is followed here, at the moment of writing, by the link policy (LINK_CHECK), and the write
 * goes to the file it resolved to: a link swapped in after the plan is judged for what it is now.
 * Before the rename, the temp file's SHA-256 must be the one of the bytes sent ($7): whatever
 * changed them on the way or on the disk, nothing but those bytes replaces the live file.
 */
const WRITE_SCRIPT = `
set -eu
target=$1 backup_dir=$2 mode=$3 owner=$4 group=$5 expect=$6 sent=$7 roots=$8 new_mode=$9 new_owner=\${10} new_group=\${11}
shift 11
${LINK_CHECK}
if ! js_check "$target" "$roots"; then printf 'refused ' >&2; js_refusal >&2; exit 8; fi
# A link is kept: the write goes to the file it leads to, which is what the service reads.
if [ "$r" != "$target" ]; then target=$r; echo "via:$target"; fi
dir=$(dirname -- "$target")
if [ ! -d "$dir" ]; then echo "directory $dir does not exist" >&2; exit 5; fi
tmp=$(mktemp "$dir/.$(basename -- "$target").jitsi-scale.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
# The temp file is opened once, and written, owned and moded through that descriptor, never by its
# name: the directory may belong to the service's user, who could swap the name for a link to any
# file at any moment. Its name is checked to still be that file before the validator reads it and
# before the rename.
exec 3<>"$tmp"
fd=/proc/$$/fd/3
same_tmp() { [ ! -L "$tmp" ] && [ "$(stat -c '%d:%i' -- "$tmp" 2>/dev/null)" = "$(stat -L -c '%d:%i' -- "$fd")" ]; }
swapped() { echo "the temp file $tmp was replaced by someone else on the host while it was written: nothing is replaced" >&2; exit 10; }
if [ "$(readlink -- "$fd")" != "$tmp" ] || ! same_tmp || [ "$(stat -L -c '%h %u' -- "$fd")" != "1 $(id -u)" ]; then swapped; fi
cat >&3
if [ -e "$target" ]; then
  chown --reference="$target" -- "$fd"
  chmod --reference="$target" -- "$fd"
else
  # A new file: the mode asked for one (0640 for a file holding a secret), else 0644.
  chmod "\${new_mode:-0644}" -- "$fd"
  if [ -n "$new_owner" ]; then chown "$new_owner" -- "$fd"; fi
  if [ -n "$new_group" ]; then chgrp "$new_group" -- "$fd"; fi
fi
if [ -n "$mode" ]; then chmod "$mode" -- "$fd"; fi
if [ -n "$owner" ]; then chown "$owner" -- "$fd"; fi
if [ -n "$group" ]; then chgrp "$group" -- "$fd"; fi
if [ $# -gt 0 ]; then
  same_tmp || swapped
  n=$#
  while [ "$n" -gt 0 ]; do
    a=$1; shift
    if [ "$a" = "%s" ]; then a=$tmp; fi
    set -- "$@" "$a"
    n=$((n - 1))
  done
  if ! out=$("$@" 2>&1); then
    echo "validation failed: $out" >&2
    exit 6
  fi
fi
sync -- "$fd" 2>/dev/null || true
written=$(sha256sum < "$fd"); written=\${written%% *}
if [ "$written" != "$sent" ]; then
  echo "the bytes written on the host are not the ones sent (sha256 $written, sent $sent): the temp file is removed and $target is left as it was" >&2
  exit 9
fi
if [ -n "$expect" ]; then
  if [ -e "$target" ]; then actual=$(sha256sum < "$target"); actual=\${actual%% *}; else actual=absent; fi
  if [ "$actual" != "$expect" ]; then echo "it changed on the host since it was planned; run again to see the new plan" >&2; exit 7; fi
fi
backup=
if [ -e "$target" ]; then
  backup="$backup_dir$target"
  mkdir -p -- "$(dirname -- "$backup")"
  if [ ! -e "$backup" ]; then cp -p -- "$target" "$backup"; fi
fi
same_tmp || swapped
echo "ready:$backup"
mv -f -T -- "$tmp" "$target"
trap - EXIT`;

/**
 * The write script's own refusals, all before the rename (5: no directory, 6: the validator said
 * no, 7: the file changed since it was planned). With no "ready:" line the rename never began.
 */
/**
 * The write script stopped before the rename, so the live file never changed: a missing directory
 * (5), a failed validation (6), a file changed since the plan (7), a link that leads elsewhere (8),
 * bytes that are not the ones sent (9), a temp file someone else replaced (10).
 */
const refusedBeforeRename = (r: ExecResult): boolean =>
  [5, 6, 7, 8, 9, 10].includes(r.code) && !/^ready:/m.test(r.stdout);

/**
 * File operations built on exec, so that they work the same over SSH and locally, and pass through
 * sudo when the host escalates. Subclasses only say how to run one command line.
 */
export abstract class ShellHost implements Host {
  constructor(
    readonly name: string,
    protected readonly become: Become,
    /** Per-run directory for backups, e.g. /var/backups/jitsi-scale/20261124T101500Z. */
    readonly backupDir: string,
  ) {}

  /** Set by whoever opens the host, from the playbook and the inventory, before anything is read. */
  linkPolicy: LinkPolicy = OWN_DIRECTORY_ONLY;

  /**
   * Runs one shell command line on the host. It gives up after `limits.waitMs` (the host's own
   * deadline has passed by then) and stops a command whose output passes its cap; both fail with
   * a HostError naming `limits.what`.
   */
  protected abstract run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult>;

  abstract close(): Promise<void>;

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return traced(this.name, argv, () => this.execAs(argv, opts));
  }

  private async execAs(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const kind = opts.deadline ?? (opts.readOnly ? 'probe' : 'command');
    const seconds = deadlineSeconds(kind);
    const what = opts.what ?? commandLabel(argv);
    // The deadline is kept inside sudo, so that it can stop what runs as root.
    const timed = shScript(DEADLINE_WRAPPER, String(seconds), sweepsOnExpiry(kind) ? 'sweep' : 'keep', ...argv);
    const started = Date.now();
    const escalate = this.become.enabled && !opts.noBecome;
    const r = await this.run(
      escalate ? this.escalated(timed) : quoteArgv(timed),
      escalate ? this.withPassword(opts) : opts,
      {
        waitMs: clientWaitMs(seconds),
        what,
      },
    );
    if (endedByDeadline(r.code, Date.now() - started, seconds))
      throw new HostError(
        this.name,
        `${what} on ${this.name} did not finish within ${seconds} s: it was stopped there`,
      );
    if (r.signal) throw new HostError(this.name, `${what} on ${this.name} was killed by ${r.signal}`);
    return r;
  }

  private escalated(argv: readonly string[]): string {
    const user = this.become.user;
    // -k: sudo always reads the password line, so it never reaches the command's own stdin.
    if (this.become.password !== undefined)
      return quoteArgv(['sudo', '-S', '-k', '-p', '', '-H', '-u', user, '--', ...argv]);
    return quoteArgv(['sudo', '-n', '-H', '-u', user, '--', ...argv]);
  }

  private withPassword(opts: ExecOptions): ExecOptions {
    const pw = this.become.password;
    if (pw === undefined) return opts;
    return {
      ...opts,
      stdin:
        typeof opts.stdin === 'object'
          ? Buffer.concat([Buffer.from(`${pw}\n`), opts.stdin])
          : `${pw}\n${opts.stdin ?? ''}`,
    };
  }

  async readFile(path: string): Promise<string | null> {
    return readFileAnswer(this.name, path, (await readMany(this, [path])).get(path));
  }

  async readFiles(paths: readonly string[]): Promise<Map<string, string | null>> {
    return textsOf(this.name, await readMany(this, paths));
  }

  async stat(path: string): Promise<FileStat | null> {
    const r = await this.exec(shScript(STAT_SCRIPT, path), { readOnly: true, what: `stat ${path}` });
    if (r.code === 3) return null;
    if (r.code !== 0) throw new HostError(this.name, `cannot stat ${path}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
    const [mode, uid, gid, owner, group, size, mtime] = r.stdout.trim().split(' ');
    const [sec = '0', frac = ''] = (mtime ?? '0').split('.');
    return {
      mode: parseInt(mode ?? '0', 8),
      uid: Number(uid),
      gid: Number(gid),
      owner: owner ?? '',
      group: group ?? '',
      size: Number(size),
      mtimeNs: (BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9) || '0')).toString(),
    };
  }

  async writeFile(path: string, content: string, opts: WriteOptions = {}): Promise<WriteResult> {
    if (!path.startsWith('/')) throw new WriteRefused(this.name, `refusing to write ${path}: not an absolute path`);
    const octal = (m: number | undefined) => (m === undefined ? '' : m.toString(8).padStart(4, '0'));
    const bytes = encodeText(content);
    const args = [
      path,
      this.backupDir,
      octal(opts.mode),
      opts.owner ?? '',
      opts.group ?? '',
      opts.expectSha256 ?? '',
      createHash('sha256').update(bytes).digest('hex'),
      rootsArg(path, this.linkPolicy),
      octal(opts.create?.mode),
      opts.create?.owner ?? '',
      opts.create?.group ?? '',
      ...(opts.validate ?? []),
    ];
    const r = await this.exec(shScript(WRITE_SCRIPT, ...args), {
      stdin: bytes,
      deadline: 'write',
      what: `writing ${path}`,
    });
    if (r.code !== 0) {
      const Refusal = refusedBeforeRename(r) ? WriteRefused : HostError;
      throw new Refusal(this.name, `cannot write ${path}: ${this.writeFailure(path, r)}`);
    }
    const backup = /^ready:(.*)$/m.exec(r.stdout)?.[1] ?? '';
    const via = /^via:(.*)$/m.exec(r.stdout)?.[1];
    return { backup: backup === '' ? null : backup, ...(via ? { through: via } : {}) };
  }

  private writeFailure(path: string, r: ExecResult): string {
    const why = lastLine(r.stderr);
    const refused =
      r.code === 8 && why.startsWith('refused ')
        ? refusalSentence(path, why.split(' ').slice(1), this.linkPolicy)
        : null;
    return refused ?? (why || `exit ${r.code}`);
  }
}
