import type { EventSink, RunEvent } from '../../engine/events.js';

export interface PlainOptions {
  write: (line: string) => void;
  /** Show file diffs under each planned change. */
  diff: boolean;
  /** Show facts and command output lines too. */
  verbose: boolean;
}

function indent(text: string, by = '    '): string {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/**
 * Plain lines for logs and pipes: "[host] step: result", no colours, no cursor movement. Each
 * line stands alone, so grep and CI logs read well.
 */
// eslint-disable-next-line max-lines-per-function -- a switch over the event types, one plain line each
export function plainReporter(opts: PlainOptions): EventSink {
  const { write } = opts;
  let mode: 'apply' | 'check' = 'apply';
  const stepTitles = new Map<string, string>();
  let stepNo = 0;
  let stepCount = 0;
  // eslint-disable-next-line complexity, max-lines-per-function -- a switch over the event types, one plain line each
  return (e: RunEvent) => {
    switch (e.type) {
      case 'run:start':
        mode = e.mode;
        stepCount = e.steps.length;
        for (const s of e.steps) stepTitles.set(s.id, s.title);
        write(
          `jitsi-scale: ${mode === 'check' ? 'checking (nothing will be changed)' : 'applying'} ${e.playbook} on ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}: ${e.hosts.map((h) => h.name).join(', ')}`,
        );
        break;
      case 'host:connecting':
        if (opts.verbose) write(`[${e.host}] connect: ${e.address}`);
        break;
      case 'host:connected':
        if (opts.verbose) write(`[${e.host}] connect: ok (${e.ms} ms)`);
        break;
      case 'host:unreachable':
        write(`[${e.host}] unreachable: ${e.reason}`);
        break;
      case 'host:failed':
        write(`[${e.host}] failed (${e.stage}): ${e.reason}`);
        break;
      case 'facts:gathered':
        if (opts.verbose) write(`[${e.host}] facts: ${e.os}, init ${e.init}, firewall ${e.firewall}`);
        break;
      case 'run:discovered':
        for (const f of e.findings) write(`${f.host ? `[${f.host}] ` : ''}${f.warn ? 'warning' : 'found'}: ${f.text}`);
        break;
      case 'run:refused':
        write(`jitsi-scale: stopped: ${e.reason}`);
        break;
      case 'step:start':
        stepNo++;
        write('');
        write(`== ${stepNo}/${stepCount} ${e.title} (${e.hosts.join(', ')})`);
        write(indent(e.why, '   '));
        break;
      case 'step:planned': {
        const step = e.step;
        for (const n of e.notes) write(`[${e.host}] ${step}: note: ${n}`);
        if (e.skip) write(`[${e.host}] ${step}: skip: ${e.skip}`);
        for (const c of e.changes) {
          write(`[${e.host}] ${step}: ${mode === 'check' ? 'would' : 'will'}: ${c.description}`);
          if (opts.diff && c.diff) write(indent(c.diff));
        }
        break;
      }
      case 'step:decision':
        if (e.decision !== 'apply')
          write(
            `jitsi-scale: ${stepTitles.get(e.step) ?? e.step}: ${e.decision === 'skip' ? 'skipped at your request' : 'stopped at your request'}`,
          );
        break;
      case 'host:output':
        if (opts.verbose) write(`[${e.host}] | ${e.line}`);
        break;
      case 'task:changed':
        write(`[${e.host}] ${e.step}: done: ${e.description}${e.backup ? ` (backup: ${e.backup})` : ''}`);
        for (const note of e.notes ?? []) write(`[${e.host}] ${e.step}: ${note}`);
        break;
      case 'handler:run':
        write(`[${e.host}] ${e.step}: ${e.description}`);
        break;
      case 'step:host-result':
        write(
          `[${e.host}] ${e.step}: ${e.status === 'changed' && mode === 'check' ? 'would change' : e.status}${e.error ? `: ${e.error}` : ''}`,
        );
        break;
      case 'run:done': {
        write('');
        write('Summary:');
        const width = Math.max(...e.hosts.map((h) => h.host.length), 4);
        for (const h of e.hosts) {
          const status = h.status === 'changed' && mode === 'check' ? 'would change' : h.status;
          write(
            `  ${h.host.padEnd(width)}  ${status.padEnd(12)} ${mode === 'apply' ? `changed ${h.changed}` : ''}${h.error ? `  ${h.error}` : ''}`.trimEnd(),
          );
        }
        if (mode === 'apply' && e.hosts.some((h) => h.changed > 0))
          write(`Backups of replaced files: ${e.backupDir} on each host.`);
        if (e.aborted)
          write('jitsi-scale: the run was stopped before the end; run again to finish (it is safe to repeat).');
        break;
      }
      case 'task:start':
      case 'step:done':
        break;
    }
  };
}
