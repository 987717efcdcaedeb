import {
  HostError,
  lastLine,
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type Host,
  type WriteOptions,
  type WriteResult,
} from './host.js';
import { quoteArgv, shScript } from './shell-quote.js';
import { traced } from './exec-trace.js';
import { asText, readFileAnswer, readMany } from './read-many.js';
import { encodeText } from './file-bytes.js';

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
 */
const WRITE_SCRIPT = `
set -eu
target=$1 backup_dir=$2 mode=$3 owner=$4 group=$5 expect=$6 new_mode=$7 new_owner=$8 new_group=$9
shift 9
# A link is kept: the write goes to the file it leads to, which is what the service reads.
if [ -L "$target" ]; then target=$(readlink -f -- "$target"); echo "via:$target"; fi
dir=$(dirname -- "$target")
if [ ! -d "$dir" ]; then echo "directory $dir does not exist" >&2; exit 5; fi
tmp=$(mktemp "$dir/.$(basename -- "$target").jitsi-scale.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM
cat > "$tmp"
if [ -e "$target" ]; then
  chown --reference="$target" -- "$tmp"
  chmod --reference="$target" -- "$tmp"
else
  # A new file: the mode asked for one (0640 for a file holding a secret), else 0644.
  chmod "\${new_mode:-0644}" -- "$tmp"
  if [ -n "$new_owner" ]; then chown "$new_owner" -- "$tmp"; fi
  if [ -n "$new_group" ]; then chgrp "$new_group" -- "$tmp"; fi
fi
if [ -n "$mode" ]; then chmod "$mode" -- "$tmp"; fi
if [ -n "$owner" ]; then chown "$owner" -- "$tmp"; fi
if [ -n "$group" ]; then chgrp "$group" -- "$tmp"; fi
if [ $# -gt 0 ]; then
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
sync -- "$tmp" 2>/dev/null || true
echo "ready:$backup"
mv -f -- "$tmp" "$target"
trap - EXIT`;

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

  /** Runs one shell command line on the host. */
  protected abstract run(commandLine: string, opts: ExecOptions): Promise<ExecResult>;

  abstract close(): Promise<void>;

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return traced(this.name, argv, () => this.execAs(argv, opts));
  }

  private execAs(argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    const escalate = this.become.enabled && !opts.noBecome;
    if (!escalate) return this.run(quoteArgv(argv), opts);
    const pw = this.become.password;
    if (pw === undefined) return this.run(quoteArgv(['sudo', '-n', '-H', '-u', this.become.user, '--', ...argv]), opts);
    // -k: sudo always reads the password line, so it never reaches the command's own stdin.
    return this.run(quoteArgv(['sudo', '-S', '-k', '-p', '', '-H', '-u', this.become.user, '--', ...argv]), {
      ...opts,
      stdin:
        typeof opts.stdin === 'object'
          ? Buffer.concat([Buffer.from(`${pw}\n`), opts.stdin])
          : `${pw}\n${opts.stdin ?? ''}`,
    });
  }

  async readFile(path: string): Promise<string | null> {
    return readFileAnswer(this.name, path, (await readMany(this, [path])).get(path));
  }

  async readFiles(paths: readonly string[]): Promise<Map<string, string | null>> {
    const files = await readMany(this, paths);
    return new Map([...files].map(([p, c]) => [p, asText(c)]));
  }

  async stat(path: string): Promise<FileStat | null> {
    const r = await this.exec(shScript(STAT_SCRIPT, path), { readOnly: true });
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
    if (!path.startsWith('/')) throw new HostError(this.name, `refusing to write ${path}: not an absolute path`);
    const octal = (m: number | undefined) => (m === undefined ? '' : m.toString(8).padStart(4, '0'));
    const args = [
      path,
      this.backupDir,
      octal(opts.mode),
      opts.owner ?? '',
      opts.group ?? '',
      opts.expectSha256 ?? '',
      octal(opts.create?.mode),
      opts.create?.owner ?? '',
      opts.create?.group ?? '',
      ...(opts.validate ?? []),
    ];
    const r = await this.exec(shScript(WRITE_SCRIPT, ...args), { stdin: encodeText(content) });
    if (r.code !== 0) throw new HostError(this.name, `cannot write ${path}: ${lastLine(r.stderr) || `exit ${r.code}`}`);
    const backup = /^ready:(.*)$/m.exec(r.stdout)?.[1] ?? '';
    const via = /^via:(.*)$/m.exec(r.stdout)?.[1];
    return { backup: backup === '' ? null : backup, ...(via ? { through: via } : {}) };
  }
}
