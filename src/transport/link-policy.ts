/*
 * Where a symbolic link among a host's files may lead. A file belongs to a directory: its own, or
 * a tree the playbook names for it (Prosody's conf.d links into conf.avail). A link is followed,
 * for a read as for a write, only when every hop of it stays below that directory or one the user
 * allows; anything else is refused by name, so that a jvb.conf pointing at /etc/passwd is never
 * shown in a diff nor written. The host applies the rule itself (LINK_CHECK), at the moment of the
 * read or the write: a link swapped in after the plan cannot lead the write elsewhere.
 */

/** Files below `under` may also lead into the directories `into`. */
export interface LinkHome {
  under: string;
  into: readonly string[];
}

export interface LinkPolicy {
  homes: readonly LinkHome[];
  /** Directories any link may lead into: the user's own choice. */
  allowed: readonly string[];
  /** What the user can do about a link that leads elsewhere, said after the refusal. */
  hint?: string;
}

/** Each file's own directory only. */
export const OWN_DIRECTORY_ONLY: LinkPolicy = { homes: [], allowed: [] };

/** Links in a chain before it counts as a loop (Linux stops at 40 as well). */
export const MAX_LINK_HOPS = 40;

function isBelow(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return path.startsWith(`${d}/`);
}

/**
 * Pure: the directories a link at `path` may lead into. A file's own directory counts unless it is
 * a top-level one (/, /etc, /var…): /etc/passwd lies beside /etc/nftables.conf.
 */
export function linkRoots(path: string, policy: LinkPolicy): string[] {
  const dir = path.replace(/\/[^/]*$/, '') || '/';
  const own = dir.split('/').filter(Boolean).length >= 2 ? [dir] : [];
  const homes = policy.homes.filter((h) => isBelow(path, h.under)).flatMap((h) => h.into);
  return [...new Set([...own, ...homes, ...policy.allowed])];
}

/** Roots as one positional argument for LINK_CHECK (paths hold no newline: absolute, checked). */
export function rootsArg(path: string, policy: LinkPolicy): string {
  return linkRoots(path, policy).join('\n');
}

/*
 * POSIX sh, for the scripts that read and write files. js_check PATH ROOTS sets r to the file PATH
 * leads to and returns 0 when it is a regular file or missing (and not a dangling link). Otherwise
 * it returns 1 with why (L: a hop leads outside ROOTS, D: dangling, C: a loop, or the kind of a
 * file that is not regular) and wl, wt: the link at fault and where it leads. Each hop is read with
 * readlink and its directory made canonical with cd -P, so `..` and links between directories are
 * seen for what they are. Subshells are spent on links only.
 */
export const LINK_CHECK = `
js_inside() {
  set -f; js_ifs=$IFS; IFS='
'
  for js_x in $2; do
    js_x=$(cd -P -- "$js_x" 2>/dev/null && pwd -P) || continue
    case $1 in "\${js_x%/}"/*) IFS=$js_ifs; set +f; return 0 ;; esac
  done
  IFS=$js_ifs; set +f; return 1
}
js_hop() {
  js_t=$(readlink -- "$r") || { why=D wt=?; return 1; }
  case $js_t in /*) ;; *) js_t=\${r%/*}/$js_t ;; esac
  wt=$js_t
  case \${js_t##*/} in
    ''|.|..) r=$(cd -P -- "$js_t" 2>/dev/null && pwd -P) || { why=D; return 1; } ;;
    *) js_d=\${js_t%/*}; js_d=$(cd -P -- "\${js_d:-/}" 2>/dev/null && pwd -P) || { why=D; return 1; }
       r=\${js_d%/}/\${js_t##*/} ;;
  esac
  wt=$r
  js_inside "$r" "$2" || { why=L; return 1; }
}
js_follow() {
  r=$1 js_n=0 wl= wt=
  while [ -L "$r" ]; do
    js_n=$((js_n + 1))
    if [ "$js_n" -gt ${MAX_LINK_HOPS} ]; then why=C wl=$1 wt=$r; return 1; fi
    wl=$r
    js_hop "$1" "$2" || return 1
  done
  if [ "$js_n" -gt 0 ] && [ ! -e "$r" ]; then why=D; return 1; fi
}
js_kind() {
  if [ -d "$1" ]; then echo directory; elif [ -p "$1" ]; then echo fifo
  elif [ -b "$1" ] || [ -c "$1" ]; then echo device; elif [ -S "$1" ]; then echo socket; else echo special; fi
}
js_check() {
  js_follow "$1" "$2" || return 1
  if [ -e "$r" ] && [ ! -f "$r" ]; then why=$(js_kind "$r") wl=$1 wt=$r; return 1; fi
}
js_b64() { printf %s "$1" | base64 -w0; }
js_refusal() { printf '%s %s %s\\n' "$why" "$(js_b64 "$wl")" "$(js_b64 "$wt")"; }`;

const KINDS: Record<string, string> = {
  directory: 'a directory',
  fifo: 'a FIFO (a named pipe: reading it would wait for a writer)',
  device: 'a device',
  socket: 'a socket',
  special: 'a special file',
};

/** Pure: js_refusal's three words as a sentence about `path`, or null when they are not whole. */
export function refusalSentence(path: string, words: readonly string[], policy: LinkPolicy): string | null {
  const [why, l, t] = words;
  if (!why || l === undefined || t === undefined) return null;
  const link = Buffer.from(l, 'base64').toString('utf8');
  const target = Buffer.from(t, 'base64').toString('utf8');
  const kind = KINDS[why];
  if (kind)
    return target === path || target === ''
      ? `${path} is not a regular file: it is ${kind}`
      : `${path} is not a regular file: it is a symbolic link to ${target}, ${kind}`;
  const lead =
    link === path || link === '' ? `${path} is a symbolic link to` : `${path} leads through the link ${link} to`;
  if (why === 'D') return `${lead} ${target}, which does not exist (a dangling link)`;
  if (why === 'S') return `${path} was replaced by something else while it was being read: run again`;
  if (why === 'C') return `${path} is a symbolic link that goes round in a loop (over ${MAX_LINK_HOPS} hops)`;
  if (why !== 'L') return null;
  const roots = linkRoots(path, policy);
  const where = roots.length ? `outside ${roots.join(', ')}` : 'outside any directory a link may lead into';
  return `${lead} ${target}, ${where}: it is not followed${policy.hint ? ` (${policy.hint})` : ''}`;
}
