/**
 * The benchmark's numbers and its report, kept apart from running anything: statistics over runs
 * and the BENCHMARKS.md text, from the stored results of every bridge count.
 */

export type Tool = 'jitsi-scale' | 'ansible' | 'mitogen';

export const TOOL_NAMES: Record<Tool, string> = {
  'jitsi-scale': 'jitsi-scale',
  ansible: 'Ansible (pipelining)',
  mitogen: 'Ansible + Mitogen',
};

/** CPU seconds during one run: the tool's own (with the children it waited for) and the whole machine's. */
export interface CpuSeconds {
  own: number;
  machine: number;
}

/** One measured run of one tool on a fresh lab: a fresh setup, then the same command again. */
export interface RunRecord {
  tool: Tool;
  /** 1-based, in the order the runs were made (tools alternate within a round). */
  round: number;
  freshSeconds: number;
  rerunSeconds: number;
  /** Peak resident memory of the tool's own process, in KiB (jitsi-scale only). */
  peakRssKiB?: number;
  freshCpu?: CpuSeconds;
  rerunCpu?: CpuSeconds;
  /** Both runs exited 0 and every bridge was in the brewery afterwards. */
  ok: boolean;
  /** What was checked or went wrong, in a few words. */
  notes: string[];
}

export interface BenchResult {
  bridges: number;
  when: string;
  machine: string[];
  runs: RunRecord[];
  /** `jitsi-scale --help`, median of repeated runs, in milliseconds. */
  helpMs?: number;
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Stats of one tool's successful runs for one measure. */
export function toolStats(r: BenchResult, tool: Tool, measure: 'freshSeconds' | 'rerunSeconds'): Stats | null {
  return stats(r.runs.filter((x) => x.tool === tool && x.ok).map((x) => x[measure]));
}

/** The faster of the two Ansible ways for a measure (by median): the peer to beat. */
export function peer(r: BenchResult, measure: 'freshSeconds' | 'rerunSeconds'): { tool: Tool; stats: Stats } | null {
  const candidates = (['ansible', 'mitogen'] as const)
    .map((tool) => ({ tool, stats: toolStats(r, tool, measure) }))
    .filter((c): c is { tool: 'ansible' | 'mitogen'; stats: Stats } => c.stats !== null);
  if (candidates.length === 0) return null;
  return candidates.reduce((a, b) => (b.stats.median < a.stats.median ? b : a));
}

const secs = (s: Stats | null): string =>
  s ? `${s.median.toFixed(2)} s (${s.min.toFixed(2)}–${s.max.toFixed(2)}, n=${s.n})` : '—';

export function ratio(peerStats: Stats | null, ours: Stats | null): number | null {
  return peerStats && ours && ours.median > 0 ? peerStats.median / ours.median : null;
}

const times = (x: number | null): string => (x === null ? '—' : `${x.toFixed(1)}×`);

interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

function targets(byBridges: Map<number, BenchResult>): Target[] {
  const out: Target[] = [];
  const at = (n: number) => byBridges.get(n);
  const ten = at(10);
  for (const [measure, label, goal] of [
    ['rerunSeconds', 'no-change rerun vs the faster Ansible, N=10', 10],
    ['freshSeconds', 'fresh setup vs the faster Ansible, N=10', 3],
  ] as const) {
    const x = ten ? ratio(peer(ten, measure)?.stats ?? null, toolStats(ten, 'jitsi-scale', measure)) : null;
    out.push({ what: label, goal: `≥ ${goal}×`, measured: times(x), met: x === null ? null : x >= goal });
  }
  const one = at(1);
  const thirty = at(30);
  for (const [measure, label] of [
    ['freshSeconds', 'fresh setup'],
    ['rerunSeconds', 'no-change rerun'],
  ] as const) {
    const a = one ? toolStats(one, 'jitsi-scale', measure) : null;
    const b = thirty ? toolStats(thirty, 'jitsi-scale', measure) : null;
    const x = a && b ? b.median / a.median : null;
    out.push({
      what: `jitsi-scale N=30 / N=1, ${label}`,
      goal: '≤ 2×',
      measured: x === null ? '—' : `${x.toFixed(1)}× (${b!.median.toFixed(2)} s / ${a!.median.toFixed(2)} s)`,
      met: x === null ? null : x <= 2,
    });
  }
  const rss = thirty
    ? Math.max(...thirty.runs.filter((r) => r.tool === 'jitsi-scale' && r.peakRssKiB).map((r) => r.peakRssKiB!))
    : -Infinity;
  out.push({
    what: 'jitsi-scale peak RSS, N=30',
    goal: '≤ 150 MB',
    measured: Number.isFinite(rss) ? `${(rss / 1024).toFixed(0)} MB` : '—',
    met: Number.isFinite(rss) ? rss / 1024 <= 150 : null,
  });
  const help = [...byBridges.values()].map((r) => r.helpMs).filter((x): x is number => x !== undefined);
  const helpMs = stats(help)?.median ?? null;
  out.push({
    what: '`jitsi-scale --help`',
    goal: '< 150 ms',
    measured: helpMs === null ? '—' : `${helpMs.toFixed(0)} ms`,
    met: helpMs === null ? null : helpMs < 150,
  });
  return out;
}

/** BENCHMARKS.md from the results of every bridge count measured so far. */
export function renderReport(results: readonly BenchResult[], method: string): string {
  const byBridges = new Map([...results].sort((a, b) => a.bridges - b.bridges).map((r) => [r.bridges, r]));
  const latest = [...results].sort((a, b) => b.when.localeCompare(a.when))[0];
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench`; edit bench/bench-report.ts, not this file. -->',
    '',
  ];
  lines.push('## Machine', '', ...(latest?.machine ?? []).map((m) => `- ${m}`), '');
  lines.push('## Method', '', method, '');
  lines.push('## Results', '');
  lines.push('Wall time, median (min–max, number of runs). Ratio: the faster Ansible way divided by jitsi-scale.', '');
  lines.push(
    `| Bridges | Run | ${TOOL_NAMES['jitsi-scale']} | ${TOOL_NAMES.ansible} | ${TOOL_NAMES.mitogen} | Faster Ansible / jitsi-scale |`,
  );
  lines.push('|---:|---|---|---|---|---:|');
  for (const [n, r] of byBridges) {
    for (const [measure, label] of [
      ['freshSeconds', 'fresh setup'],
      ['rerunSeconds', 'no-change rerun'],
    ] as const) {
      const ours = toolStats(r, 'jitsi-scale', measure);
      const p = peer(r, measure);
      lines.push(
        `| ${n} | ${label} | ${secs(ours)} | ${secs(toolStats(r, 'ansible', measure))} | ${secs(toolStats(r, 'mitogen', measure))} | ${times(ratio(p?.stats ?? null, ours))} |`,
      );
    }
  }
  lines.push('', '| Bridges | jitsi-scale peak RSS (max over runs) | measured on |', '|---:|---|---|');
  for (const [n, r] of byBridges) {
    const rss = r.runs.filter((x) => x.tool === 'jitsi-scale' && x.peakRssKiB).map((x) => x.peakRssKiB!);
    lines.push(
      `| ${n} | ${rss.length ? `${(Math.max(...rss) / 1024).toFixed(0)} MB` : '—'} | ${r.when.slice(0, 10)} |`,
    );
  }
  const cpuCell = (r: BenchResult, tool: Tool, key: 'freshCpu' | 'rerunCpu'): string => {
    const runs = r.runs.filter((x) => x.tool === tool && x.ok && x[key]);
    const machine = stats(runs.map((x) => x[key]!.machine));
    const own = stats(runs.map((x) => x[key]!.own));
    return machine && own ? `${machine.median.toFixed(2)} (${own.median.toFixed(2)})` : '—';
  };
  const cores = /^(\d+) ×/.exec(latest?.machine[0] ?? '')?.[1];
  lines.push(
    '',
    '### CPU',
    '',
    `CPU-seconds per run, median: the whole machine, and in brackets the tool's own process with the children it waited for (Ansible's workers and ssh clients). The lab's hosts run on the same ${cores ?? ''} cores, so no run can take less wall time than the machine's CPU-seconds divided by the cores.`,
    '',
    `| Bridges | Run | ${TOOL_NAMES['jitsi-scale']} | ${TOOL_NAMES.ansible} | ${TOOL_NAMES.mitogen} |`,
    '|---:|---|---|---|---|',
  );
  for (const [n, r] of byBridges) {
    for (const [key, label] of [
      ['freshCpu', 'fresh setup'],
      ['rerunCpu', 'no-change rerun'],
    ] as const) {
      lines.push(
        `| ${n} | ${label} | ${cpuCell(r, 'jitsi-scale', key)} | ${cpuCell(r, 'ansible', key)} | ${cpuCell(r, 'mitogen', key)} |`,
      );
    }
  }
  lines.push('', '## Targets', '', '| Target | Goal | Measured | Met |', '|---|---|---|---|');
  for (const t of targets(byBridges))
    lines.push(
      `| ${t.what} | ${t.goal} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : '**no**'} |`,
    );
  const failed = results.flatMap((r) =>
    r.runs
      .filter((x) => !x.ok)
      .map((x) => `N=${r.bridges}, ${TOOL_NAMES[x.tool]}, round ${x.round}: ${x.notes.join('; ')}`),
  );
  lines.push(
    '',
    '## Runs left out',
    '',
    ...(failed.length
      ? failed.map((f) => `- ${f}`)
      : ['None: every run finished with exit 0 and every bridge in the brewery.']),
    '',
  );
  return lines.join('\n');
}
