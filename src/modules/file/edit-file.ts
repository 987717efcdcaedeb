import { createHash } from 'node:crypto';
import type { Change } from '../../contract/change.js';
import { encodeText } from '../../transport/file-bytes.js';
import type { Host, WriteOptions } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { LINK_CHECK } from '../../transport/link-policy.js';
import { readArgs } from '../../transport/read-many.js';
import { unifiedDiff } from './unified-diff.js';

export interface FileEdit {
  path: string;
  /**
   * Pure: the desired content given the current one (null: the file does not exist). Return the
   * input unchanged when nothing needs doing; return null to leave a missing file missing.
   */
  transform: (current: string | null) => string | null;
  /** What the change does, for the plan; default "edit PATH" / "create PATH". */
  description?: string;
  notify?: string[];
  write?: Omit<WriteOptions, 'expectSha256'>;
  /** The file `path` is a symbolic link to: the write goes there, the link stays, and the plan says so. */
  /** Another change of the run creates the file first (a package install): the plan does not call it new. */
  createdEarlier?: boolean;
  linkTarget?: string;
}

/** SHA-256 of the bytes the text stands for, as the host's sha256sum computes it. */
export function sha256(text: string): string {
  return createHash('sha256').update(encodeText(text)).digest('hex');
}

/** How a file the change creates is protected, for its description: " (new file: mode 0640, group jitsi)". */
function createdAs(create: WriteOptions['create']): string {
  if (!create) return '';
  const what = [
    ...(create.mode !== undefined ? [`mode ${create.mode.toString(8).padStart(4, '0')}`] : []),
    ...(create.owner ? [`owner ${create.owner}`] : []),
    ...(create.group ? [`group ${create.group}`] : []),
  ];
  return what.length ? ` (new file: ${what.join(', ')})` : '';
}

/**
 * Plan side of every file module: the change to make, or null when the file is already as wanted.
 * Apply is the host's atomic write, refused if the file changed after it was planned.
 */
export function fileChange(edit: FileEdit, current: string | null): Change | null {
  const desired = edit.transform(current);
  if (desired === null || desired === current) return null;
  return {
    description:
      (edit.description ?? `${current === null ? 'create' : 'edit'} ${edit.path}`) +
      (current === null && !edit.createdEarlier ? createdAs(edit.write?.create) : '') +
      (edit.linkTarget ? ` (a link: the file written is ${edit.linkTarget}; the link stays)` : ''),
    diff: unifiedDiff(edit.path, current, desired),
    ...(edit.notify ? { notify: edit.notify } : {}),
    async apply(host: Host) {
      const r = await host.writeFile(edit.path, desired, {
        ...edit.write,
        expectSha256: current === null ? 'absent' : sha256(current),
      });
      return { backup: r.backup };
    },
  };
}

/** Reads the file and plans the edit; a link the host's policy follows is named in the plan. */
export async function planFileEdit(host: Host, edit: FileEdit): Promise<Change | null> {
  const [current, links] = await Promise.all([host.readFile(edit.path), linkTargets(host, [edit.path])]);
  const target = links.get(edit.path);
  return fileChange(target ? { ...edit, linkTarget: target } : edit, current);
}

const LINKS = `${LINK_CHECK}
while [ $# -ge 2 ]; do
  if [ -L "$1" ] && js_check "$1" "$2"; then printf '%s\\t%s\\n' "$1" "$r"; fi
  shift 2
done
exit 0`;

/**
 * Which of the paths are symbolic links the host's link policy lets a write follow, and the file
 * each leads to (one round trip). A link it does not let through is refused by the read of the file.
 */
export async function linkTargets(host: Host, paths: readonly string[]): Promise<Map<string, string>> {
  const r = await host.exec(shScript(LINKS, ...readArgs(paths, host.linkPolicy)), { readOnly: true });
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [p, target] = line.split('\t');
    if (p && target) out.set(p, target);
  }
  return out;
}
