import { jitsi } from '../settings.js';
import type { Change, Step } from '../../../src/engine/playbook.js';
import { fileChange } from '../../../src/modules/file/edit-file.js';
import { ensureLineAtTop } from '../../../src/modules/text/ensure-line-at-top.js';
import { joinLines, splitLines } from '../../../src/modules/text/line-endings.js';
import {
  JVB_CONF,
  LAUNCHER,
  OLD_LAUNCHER,
  SIP_PROPERTIES,
  bridgeFiles,
  layoutOf,
  targetLayout,
} from '../bridge-files.js';
import type { ShardFacts } from '../discover.js';
import { HostError } from '../../../src/transport/host.js';

const MARK = '# jitsi-scale: fresh MUC nickname at every start (nickname policy per-start)';

/** The launcher line that gives the bridge a new nickname in the config it reads, before it starts. */
export function nicknameLine(layout: 'current' | 'legacy' | 'both'): string {
  const uuid = `'"$(cat /proc/sys/kernel/random/uuid)"'`;
  if (layout === 'legacy') {
    return `sed -i 's/^\\(org\\.jitsi\\.videobridge\\.xmpp\\.user\\.[^.]*\\.MUC_NICKNAME=\\).*/\\1${uuid}/' ${SIP_PROPERTIES} ${MARK}`;
  }
  return `sed -i 's/^\\([[:space:]]*MUC_NICKNAME[[:space:]]*[=:][[:space:]]*\\).*/\\1${uuid}/I' ${JVB_CONF} ${MARK}`;
}

/** Pure: does the launcher carry the per-start line? */
export function hasNicknameLine(text: string | null): boolean {
  return !!text && splitLines(text).lines.some((l) => l.endsWith(MARK));
}

/** Pure: the launcher without our line (for the stable policy, or before re-adding it). */
export function removeNicknameLine(text: string): string {
  const { lines, eol, finalEol } = splitLines(text);
  const kept = lines.filter((l) => !l.endsWith(MARK));
  return kept.length === lines.length ? text : joinLines(kept, eol, finalEol);
}

export const patchJvbSh: Step<ShardFacts> = {
  id: 'patch-jvb-sh',
  title: 'Nickname at every start (jvb.sh)',
  why:
    'With the per-start policy, for autoscaled or cloned bridges, the launcher gives the bridge a fresh nickname each time it starts, so two copies never look like one bridge to Jicofo. ' +
    'The launcher belongs to the package: an upgrade overwrites it, and the next run puts the line back.',
  roles: ['jvb'],
  async plan(ctx) {
    const policy = jitsi(ctx.spec).nicknamePolicy;
    const read = await ctx.host.readFiles([LAUNCHER, OLD_LAUNCHER, JVB_CONF, SIP_PROPERTIES]);
    const layout = targetLayout(
      layoutOf(bridgeFiles(ctx.host.name, read.get(JVB_CONF) ?? null, read.get(SIP_PROPERTIES) ?? null)),
      ctx.shared.meetLayout,
    );
    const launchers = [LAUNCHER, ...(read.get(OLD_LAUNCHER) != null ? [OLD_LAUNCHER] : [])];
    const changes: Change[] = [];
    if (policy === 'per-start' && read.get(LAUNCHER) == null && ctx.mode === 'apply') {
      throw new HostError(
        ctx.host.name,
        `${LAUNCHER} is missing although jitsi-videobridge2 should be installed; reinstall the package`,
      );
    }
    for (const path of launchers) {
      const current = read.get(path) ?? null;
      const transform =
        policy === 'per-start'
          ? (t: string | null) =>
              ensureLineAtTop(removeNicknameLine(t ?? ''), { line: nicknameLine(layout), afterShebang: true })
          : (t: string | null) => (t === null ? null : removeNicknameLine(t));
      const description =
        policy === 'per-start'
          ? `give the bridge a fresh nickname at each start in ${path}`
          : `remove the per-start nickname line from ${path}`;
      const c = fileChange(
        {
          path,
          description,
          transform: (t) => (t === null && policy === 'per-start' ? transform('#!/bin/bash\n') : transform(t)),
          notify: ['restart jitsi-videobridge2'],
        },
        current,
      );
      if (c) changes.push(c);
    }
    if (policy === 'stable') {
      return changes.length
        ? { changes, notes: ['jitsi_nickname_policy is stable: the per-start line a previous run added is taken out'] }
        : {
            changes,
            skip: 'jitsi_nickname_policy is stable: each bridge keeps the one nickname in its config, so jvb.sh stays as the package ships it',
          };
    }
    return {
      changes,
      notes: [
        `the line rewrites MUC_NICKNAME in ${layout === 'legacy' ? SIP_PROPERTIES : JVB_CONF} before the bridge starts`,
      ],
    };
  },
};
