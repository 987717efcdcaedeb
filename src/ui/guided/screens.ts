import type { HostStatus } from '../../engine/playbook.js';
import { GLYPH } from '../theme.js';
import {
  blank,
  clip,
  expandTabs,
  groupByLines,
  hostList,
  plain,
  seg,
  wrapLine,
  wrapped,
  type Line,
  type Tone,
} from './lines.js';
import type { HostRow, HostWork, RunState, Settled, StepView } from './run-state.js';

const spin = (text = ''): Line => [{ text: '', spinner: true }, seg(text)];
const status = (s: HostStatus): Seg2 => seg(GLYPH[s], s);
type Seg2 = Line[number];
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

interface Section {
  lines: Line[];
  min: number;
  /** Lower shrinks first. */
  shrink: number;
  more: (n: number) => string;
}

/** Shrinks sections, lowest `shrink` first, down to their minimum until all fit in `height` rows. */
function fit(sections: Section[], height: number): Line[] {
  let over = sections.reduce((n, s) => n + s.lines.length, 0) - height;
  const out = sections.map((s) => s.lines);
  const order = sections.map((s, i) => ({ s, i })).sort((a, b) => a.s.shrink - b.s.shrink);
  order.forEach(({ s, i }) => {
    if (over <= 0) return;
    const cut = Math.min(over, Math.max(0, s.lines.length - s.min));
    if (cut > 0) {
      out[i] = clip(s.lines, s.lines.length - cut, s.more);
      over -= cut;
    }
  });
  return out.flat();
}

/** "Debian GNU/Linux 12 (bookworm)" → "Debian 12": the rest is noise in a table. */
export function shortOs(pretty: string): string {
  return pretty
    .replace(/\s*GNU\/Linux/, '')
    .replace(/\s*\([^)]*\)\s*$/, '')
    .trim();
}

function hostLine(h: HostRow, details: string[], nameWidth: number, addrWidth: number): Line {
  const glyph: Seg2 =
    h.conn === 'connecting'
      ? { text: '', spinner: true }
      : h.conn === 'connected'
        ? status('ok')
        : h.conn === 'waiting'
          ? seg('·', 'dim')
          : status(h.conn === 'unreachable' ? 'unreachable' : 'failed');
  const head = `${h.name.padEnd(nameWidth)} ${h.role.padEnd(4)} ${h.address.padEnd(addrWidth)} `;
  if (h.error) return [seg('  '), glyph, seg(` ${head}`), seg(h.error, 'failed')];
  return [
    seg('  '),
    glyph,
    seg(` ${head}`),
    seg(details.filter(Boolean).join(' · '), h.conn === 'connected' ? undefined : 'dim'),
  ];
}

export interface StartOptions {
  width: number;
  height: number;
  inventoryPath: string;
  /** The user is asked to begin. */
  asking: boolean;
  /** Wrap long lines (settled output) instead of cutting them to one row (live). */
  wrap?: boolean;
}

/** The start screen: the inventory at a glance, what discovery found, the steps, the question. */
// eslint-disable-next-line complexity, max-lines-per-function -- the start screen top to bottom: header, hosts, findings, steps, the question
export function startLines(state: RunState, o: StartOptions): Line[] {
  const title: Line = [
    seg('jitsi-scale', 'accent', true),
    seg(
      ` · ${state.playbook} · ${o.inventoryPath}${state.mode === 'check' ? ' · check only: nothing will be changed' : ''}`,
    ),
  ];
  const header: Line[] = o.wrap ? wrapLine(title, o.width) : [title];
  const roleCounts = state.roles
    .map((r) => ({ label: r.label, n: state.hosts.filter((h) => h.role === r.name).length }))
    .filter((r) => r.n > 0)
    .map((r) => `${r.n} ${r.n === 1 ? r.label[0] : r.label[1]}`)
    .join(', ');
  const nameWidth = Math.max(4, ...state.hosts.map((h) => h.name.length));
  const addrWidth = Math.max(7, ...state.hosts.map((h) => h.address.length));
  const byHost = new Map<string, string[]>();
  for (const f of state.findings) if (f.host && !f.warn) byHost.set(f.host, [...(byHost.get(f.host) ?? []), f.text]);
  // Problems first, so they survive when the list is cut to the screen.
  const order = [...state.hosts].sort((a, b) => Number(!a.error) - Number(!b.error));
  const hosts: Line[] = [
    [seg('Hosts', undefined, true), seg(` ${roleCounts}`, 'dim')],
    ...order
      .map((h) =>
        hostLine(
          h,
          [h.os ? shortOs(h.os) : '', h.firewall ? `firewall ${h.firewall}` : '', ...(byHost.get(h.name) ?? [])],
          nameWidth,
          addrWidth,
        ),
      )
      .flatMap((l) => (o.wrap ? wrapLine(l, o.width) : [l])),
  ];
  const found: Line[] = [[seg('Found', undefined, true)]];
  if (state.refused) found.push(...wrapped(`✗ ${state.refused.reason}`, o.width, '  ', 'failed'));
  const general = state.findings.filter((f) => !f.host || f.warn);
  for (const f of general)
    found.push(
      ...wrapped(
        `${f.warn ? '!' : '·'} ${f.host ? `${f.host}: ` : ''}${f.text}`,
        o.width,
        '  ',
        f.warn ? 'warn' : undefined,
      ),
    );
  if (!state.refused && state.findings.length === 0) found.push(spin(' reading the servers…'));
  const steps: Line[] = [[seg('Steps', undefined, true)], ...state.steps.map((s, i) => plain(`  ${i + 1} ${s.title}`))];
  const prompt: Line[] = [blank];
  const q = state.question;
  if (q?.kind === 'host-key') {
    prompt.push(
      ...wrapped(`! ${q.host} (${q.address}) is not in known_hosts yet. It offers this key:`, o.width, '', 'warn'),
      [seg(`  ${q.keyType} ${q.fingerprint}`, 'accent')],
      ...wrapped(
        'Compare it with the one the server shows (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on it). Trusting records it in known_hosts.',
        o.width,
        '  ',
        'dim',
      ),
      [
        seg('y', 'accent', true),
        seg(' trust and record   '),
        seg('n', 'accent', true),
        seg(' refuse (the host is left out)'),
      ],
    );
  } else if (q?.kind === 'secret') {
    prompt.push(...wrapped(q.prompt, o.width, '', undefined), [
      seg('  (typing is hidden) ', 'dim'),
      seg('⏎', 'accent', true),
      seg(' done   '),
      seg('Esc', 'accent', true),
      seg(' none'),
    ]);
  } else if (o.asking)
    prompt.push([seg('⏎', 'accent', true), seg(' begin   '), seg('q', 'accent', true), seg(' quit')]);
  else if (state.interrupted) prompt.push([seg('Stopping…', 'warn')]);
  else
    prompt.push(
      spin(
        state.hosts.some((h) => h.conn === 'connecting' || h.conn === 'waiting')
          ? ` connecting to ${plural(state.hosts.length, 'host')}…`
          : ' discovering…',
      ),
    );
  const more = (what: string) => (n: number) => `  … ${n} more ${what}`;
  return fit(
    [
      { lines: [...header, blank], min: 1, shrink: 9, more: () => '' },
      { lines: hosts, min: 4, shrink: 0, more: more('hosts (all are listed at the end)') },
      { lines: found, min: 3, shrink: 2, more: more('findings') },
      { lines: steps, min: 2, shrink: 1, more: more('steps') },
      { lines: prompt, min: prompt.length, shrink: 9, more: () => '' },
    ],
    o.height,
  );
}

/** One host's part of a step: a head (shown beside the host's name) and the lines under it. */
interface Work {
  head: Line;
  rest: Line[];
}

// eslint-disable-next-line complexity -- one host row: each phase and result has its glyph and colour
function workLines(
  w: HostWork,
  o: {
    mode: 'apply' | 'check';
    decided: boolean;
    showDiffs: boolean;
    check: boolean;
    settled?: boolean;
    width: number;
  },
): Work {
  const notes = w.notes.flatMap((n) => wrapped(n, o.width, '  ', 'dim'));
  if (w.phase === 'planning') return { head: spin(' reading…'), rest: [] };
  if (w.phase === 'running') {
    const n = Math.min(w.made.length + 1, w.changes.length);
    return {
      head: spin(` ${w.handler ? '' : `${n}/${w.changes.length} `}${w.current ?? ''}`),
      rest: w.lines.map((l) => [seg(`  │ ${expandTabs(l)}`, 'dim')]),
    };
  }
  const result = w.phase === 'done' ? w.result : undefined;
  if (result === 'failed' || result === 'unreachable')
    return { head: [status(result), seg(` ${result}`, result)], rest: wrapped(w.error ?? '', o.width, '  ', 'failed') };
  if (result === 'skipped' || w.skip)
    return { head: [status('skipped'), seg(` skipped${w.skip ? `: ${w.skip}` : ''}`, 'skipped')], rest: notes };
  // A proof's details are the end screen's verification; a settled step keeps only its verdict.
  if (result === 'ok' || w.changes.length === 0)
    return {
      head: [status('ok'), seg(o.check ? ' proved' : ' nothing to change', 'ok')],
      rest: o.check && o.settled ? [] : notes,
    };
  if (result === 'changed' && o.mode === 'apply') {
    const rest: Line[] = [];
    for (const m of w.made)
      rest.push([seg(`• ${m.description}`), ...(m.backup ? [seg(` (backup ${m.backup})`, 'dim')] : [])]);
    for (const c of o.showDiffs ? w.changes : []) if (c.diff) rest.push(...diffBody(c.diff, '  '));
    return {
      head: [status('changed'), seg(` ${plural(w.made.length, 'change')} made`, 'changed')],
      rest: [...rest, ...notes],
    };
  }
  const rest: Line[] = [];
  for (const c of w.changes) {
    rest.push([seg(`• ${c.description}`), ...(c.diff && !o.showDiffs ? [seg(' [diff]', 'dim')] : [])]);
    if (c.diff && o.showDiffs) rest.push(...diffBody(c.diff, '    '));
  }
  const head: Line = o.decided
    ? [seg('·', 'dim'), seg(' waiting', 'dim')]
    : [status('changed'), seg(` ${o.mode === 'check' ? 'would change' : 'will change'}`, 'changed')];
  return { head, rest: [...rest, ...notes] };
}

/** Hosts with the same part, together: the names beside the head, the lines indented under it. */
function groupLines(items: { host: string; work: Work }[], width: number): Line[] {
  const groups = groupByLines(items.map((i) => ({ host: i.host, lines: [i.work.head, ...i.work.rest] })));
  const nameWidth = Math.min(24, Math.max(4, ...groups.map((g) => hostList(g.hosts, 40).length)));
  return groups.flatMap((g) => {
    const [head, ...rest] = g.lines;
    const names = hostList(g.hosts, Math.max(20, width - 40));
    return [
      [seg(`  ${names.padEnd(nameWidth)} `, undefined, true), ...head!],
      ...rest.map((l): Line => [seg('      '), ...l]),
    ].flatMap((l) => wrapLine(l, width));
  });
}

function diffBody(diff: string, indent: string): Line[] {
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((l): Line => {
      const tone: Tone | undefined = l.startsWith('@@')
        ? 'hunk'
        : l.startsWith('+++') || l.startsWith('---')
          ? 'dim'
          : l.startsWith('+')
            ? 'added'
            : l.startsWith('-')
              ? 'removed'
              : undefined;
      return [seg(indent + expandTabs(l), tone)];
    });
}

export interface StepOptions {
  width: number;
  height: number;
  mode: 'apply' | 'check';
  total: number;
  asking: boolean;
  interrupted: boolean;
  showDiffs: boolean;
}

const stepHeader = (s: StepView, total: number): Line => [
  seg(`Step ${s.number}/${total} `, 'accent', true),
  seg(s.title, undefined, true),
];

/** The step on screen: why it exists, the plan per host, the question, then live progress. */
export function stepLines(step: StepView, o: StepOptions): Line[] {
  const head: Line[] = [stepHeader(step, o.total), ...wrapped(step.why, o.width, '  ', 'dim'), blank];
  const decided = step.decision !== undefined;
  const works = step.hosts.map((h) => step.work[h]!).filter(Boolean);
  // Running and failed hosts first: they are what the user watches.
  const rank = (w: HostWork) =>
    w.phase === 'running' ? 0 : w.result === 'failed' || w.result === 'unreachable' ? 1 : 2;
  const ordered = decided ? [...works].sort((a, b) => rank(a) - rank(b)) : works;
  const opts = { mode: o.mode, decided, showDiffs: o.showDiffs, check: step.kind === 'check', width: o.width - 8 };
  const body = groupLines(
    ordered.map((w) => ({ host: w.host, work: workLines(w, opts) })),
    o.width,
  );
  const tail: Line[] = [];
  if (o.asking) {
    const targets = works.filter((w) => !w.skip && w.changes.length > 0).map((w) => w.host);
    tail.push(blank, [
      seg('Apply', undefined, true),
      seg(` on ${hostList(targets, 30)}?  `),
      seg('⏎', 'accent', true),
      seg(' apply  '),
      seg('s', 'accent', true),
      seg(' skip  '),
      seg('d', 'accent', true),
      seg(' diffs  '),
      seg('q', 'accent', true),
      seg(' quit'),
    ]);
  }
  if (o.interrupted)
    tail.push([
      seg('Stopping: the change under way finishes, nothing after it starts (Ctrl-C again quits at once)', 'warn'),
    ]);
  const room = Math.max(3, o.height - head.length - tail.length);
  return [
    ...head,
    ...clip(body, room, (n) => `  … ${n} more lines${o.asking ? ' (d: every change and diff)' : ''}`),
    ...tail,
  ];
}

/** Every change of the step with its diff, host by host, cut to rows of `width` for the pager. */
export function diffLines(step: StepView, width: number): Line[] {
  const items = step.hosts.map((host) => {
    const w = step.work[host];
    const lines: Line[] = [];
    for (const c of w?.changes ?? []) {
      lines.push([seg('• ', 'accent'), seg(c.description, undefined, true)]);
      lines.push(...(c.diff ? diffBody(c.diff, '  ') : [[seg('  (a command, not a file: no diff)', 'dim')]]));
    }
    return { host, lines };
  });
  const groups = groupByLines(items.filter((i) => i.lines.length > 0));
  if (groups.length === 0) return [[seg('Nothing to change on any host.', 'dim')]];
  return groups
    .flatMap((g) => [[seg(`── ${hostList(g.hosts, 60)} ──`, 'accent', true)], ...g.lines, blank])
    .flatMap((l) => wrapLine(l, width));
}

/** A window of the pager's lines with its title and keys; `offset` is clamped by the caller. */
export function pagerLines(step: StepView, all: Line[], offset: number, height: number): Line[] {
  const room = Math.max(1, height - 2);
  const shown = all.slice(offset, offset + room);
  const last = Math.min(all.length, offset + room);
  return [
    [
      seg(`Diffs · ${step.title}`, 'accent', true),
      seg(` · lines ${all.length ? offset + 1 : 0}–${last} of ${all.length}`, 'dim'),
    ],
    ...shown,
    [seg('↑↓ PgUp PgDn Home End', 'accent'), seg(' scroll   '), seg('d Esc', 'accent'), seg(' back')],
  ];
}

const worst = (statuses: HostStatus[]): HostStatus =>
  (['failed', 'unreachable', 'changed', 'ok', 'skipped'] as const).find((s) => statuses.includes(s)) ?? 'skipped';

/** A finished step, as it stays in the scrollback. */
export function settledStepLines(
  step: StepView,
  mode: 'apply' | 'check',
  total: number,
  showDiffs: boolean,
  width: number,
): Line[] {
  const works = step.hosts.map((h) => step.work[h]!).filter(Boolean);
  const overall = worst(works.map((w) => w.result ?? 'skipped'));
  const what =
    step.decision === 'skip'
      ? 'skipped at your request'
      : step.decision === 'quit'
        ? 'stopped at your request'
        : overall === 'changed' && mode === 'check'
          ? 'would change'
          : overall === 'ok'
            ? step.kind === 'check'
              ? 'proved'
              : 'nothing to change'
            : overall;
  const opts = { mode, decided: false, showDiffs, check: step.kind === 'check', settled: true, width: width - 8 };
  const body = groupLines(
    works.map((w) => ({ host: w.host, work: workLines(w, opts) })),
    width,
  );
  return [
    ...wrapLine(
      [
        status(overall),
        seg(` ${step.number}/${total} `, 'dim'),
        seg(step.title, undefined, true),
        seg(` — ${what}`, overall),
      ],
      width,
    ),
    ...body,
    blank,
  ];
}

export interface EndOptions {
  width: number;
  /** The command that runs this again, for the advice. */
  rerun: string;
}

/** The end screen: per host and step, the verification, the backups, and what to do next. */
// eslint-disable-next-line complexity -- the end screen: each way a run can end has its own advice
export function endLines(state: RunState, o: EndOptions): Line[] {
  const done = state.done;
  if (!done) return [];
  const secs = ((done.at - state.startedAt) / 1000).toFixed(1);
  const failed = done.hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  // A refusal is said once, as what to fix first, not again as a host to rerun.
  const toRerun = failed.filter((h) => !state.refused || h.error !== state.refused.reason);
  const verdict: [string, Tone] = done.aborted
    ? ['Stopped before the end', 'warn']
    : failed.length || state.refused
      ? ['Finished with problems', 'failed']
      : state.mode === 'check'
        ? ['Check finished: nothing was changed', 'ok']
        : ['Finished', 'ok'];
  const out: Line[] = [
    [seg('─'.repeat(Math.min(o.width, 60)), 'dim')],
    [seg(verdict[0], verdict[1], true), seg(` in ${secs} s · exit ${done.exitCode}`, 'dim')],
    blank,
  ];

  if (done.hosts.length) {
    const nameWidth = Math.max(4, ...done.hosts.map((h) => h.host.length));
    const cols = state.steps.map((_, i) => String(i + 1));
    out.push([seg(`${'Host'.padEnd(nameWidth)}  Role  ${cols.join(' ')}  Result`, undefined, true)]);
    for (const h of done.hosts) {
      const cells = state.steps.flatMap((s): Line => {
        const st = state.matrix[h.host]?.[s.id];
        return [st ? status(st) : seg('·', 'dim'), seg(' ')];
      });
      const result =
        h.status === 'changed' && state.mode === 'check'
          ? 'would change'
          : h.status === 'changed'
            ? `changed (${plural(h.changed, 'change')})`
            : h.status;
      out.push([seg(`${h.host.padEnd(nameWidth)}  ${h.role.padEnd(4)}  `), ...cells, seg(' '), seg(result, h.status)]);
    }
    out.push(
      ...wrapped(
        `+ changed  ✓ nothing to change  - skipped  ✗ failed  ! unreachable  · not run; steps: ${state.steps.map((s, i) => `${i + 1} ${s.id}`).join(', ')}`,
        o.width,
        '',
        'dim',
      ),
    );
    out.push(blank);
  }

  if (state.verification.length) {
    out.push([seg('Verification', undefined, true)]);
    for (const v of state.verification) {
      out.push([seg('  '), status(v.ok ? 'ok' : 'failed'), seg(` ${v.host}`, undefined, true)]);
      for (const l of v.lines) out.push(...wrapped(l, o.width, '      ', v.ok ? undefined : 'failed'));
    }
    out.push(blank);
  }

  if (state.backups.length) {
    const hosts = state.hosts.map((h) => h.name).filter((h) => state.backups.some((b) => b.host === h));
    out.push(
      ...wrapped(
        `Backups: ${plural(state.backups.length, 'replaced file')} kept under ${done.backupDir}/ on ${hostList(hosts, 40)}.`,
        o.width,
      ),
    );
  }

  const next: string[] = [];
  if (state.refused) next.push(`Fix this first: ${state.refused.reason}. Then run ${o.rerun} again.`);
  for (const h of toRerun) next.push(`${h.host}: ${h.error ?? h.status}`);
  if (toRerun.length)
    next.push(
      `When fixed, run ${o.rerun} --limit ${toRerun.map((h) => h.host).join(',')} (or the whole inventory): it is safe to repeat; what is done stays done.`,
    );
  const skipped = state.settled.flatMap((s) => (s.kind === 'step' && s.step.decision === 'skip' ? [s.step.title] : []));
  if (skipped.length)
    next.push(
      `Skipped at your request: ${skipped.join('; ')}. Run again to apply ${skipped.length === 1 ? 'it' : 'them'}.`,
    );
  if (done.aborted) next.push(`Run ${o.rerun} again to finish: it is safe to repeat.`);
  if (!next.length && state.mode === 'check') next.push(`Run ${o.rerun} without --check to apply these changes.`);
  if (!next.length) next.push(done.advice ?? 'Done.');
  out.push([seg('Next', undefined, true)], ...next.flatMap((n) => wrapped(n, o.width, '  ')));
  return out;
}

/** Settled output, whatever its kind. */
export function settledLines(
  item: Settled,
  state: RunState,
  o: { width: number; inventoryPath: string; showDiffs: boolean; rerun: string },
): Line[] {
  if (item.kind === 'start') {
    const snapshot: RunState = {
      ...state,
      hosts: item.hosts,
      findings: item.findings,
      ...(item.refused ? { refused: item.refused } : {}),
    };
    return [
      ...startLines(snapshot, {
        width: o.width,
        height: Number.POSITIVE_INFINITY,
        inventoryPath: o.inventoryPath,
        asking: false,
        wrap: true,
      }).slice(0, -2),
      blank,
    ];
  }
  if (item.kind === 'step') return settledStepLines(item.step, state.mode, state.steps.length, o.showDiffs, o.width);
  return endLines(state, { width: o.width, rerun: o.rerun });
}
