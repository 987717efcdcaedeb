import { shortVersion, type BridgeStatus, type StatusDoc } from './shard-status.js';

/*
 * Pure: the status document as lines of at most 80 columns, for the plain output and the live view.
 */

const fit = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
const dash = (v: string | number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

const COLUMNS: [string, number][] = [
  ['BRIDGE', 8],
  ['NICKNAME', 9],
  ['IN', 3],
  ['HEALTH', 6],
  ['UDP', 5],
  ['VERSION', 8],
  ['DRAIN', 5],
  ['STRESS', 6],
  ['CONF', 4],
  ['EPS', 4],
  ['JICOFO', 6],
  ['DRIFT', 5],
];

function jicofoCell(j: BridgeStatus['jicofo']): string {
  if (!j) return '-';
  if (!j.listed) return 'absent';
  if (j.healthy === false) return 'unhlth';
  if (j.operational === false) return 'down';
  return 'ok';
}

function bridgeCells(b: BridgeStatus): string[] {
  if (!b.reachable) return [b.host, dash(b.nickname), '?', 'unreachable'];
  return [
    b.host,
    dash(b.nickname),
    b.inBrewery === null ? '?' : b.inBrewery ? 'yes' : 'NO',
    b.health === null ? '-' : b.health === 'healthy' ? 'ok' : b.health === 'unhealthy' ? 'FAIL' : 'none',
    // The media port its config gives it (a problem line says when nothing listens there).
    dash(b.mediaPort),
    dash(shortVersion(b.version)),
    b.drain === null ? '-' : b.drain ? 'yes' : 'no',
    b.stress === null ? '-' : b.stress.toFixed(2),
    dash(b.conferences),
    dash(b.endpoints),
    jicofoCell(b.jicofo),
    b.drift.length ? String(b.drift.length) : 'none',
  ];
}

function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c.slice(0, COLUMNS[i]![1] + 6) : fit(c, COLUMNS[i]![1])))
    .join(' ')
    .trimEnd();
}

/** The shard line, the meet host line, then the bridge table. */
export function statusTable(doc: StatusDoc): string[] {
  const m = doc.meet;
  const jicofo = m.jicofo.installed
    ? `jicofo ${shortVersion(m.jicofo.installed)}${m.jicofo.answering ? '' : ' (no answer)'}`
    : 'no jicofo';
  const meetLine = m.reachable
    ? `meet ${m.host}: prosody ${dash(shortVersion(m.prosody))}, ${jicofo}, jvb ${dash(shortVersion(m.bridgeVersion))}` +
      (m.drift.length ? `, drift ${m.drift.length}` : '')
    : `meet ${m.host}: unreachable`;
  return [
    `shard ${dash(doc.domain)}  brewery ${dash(doc.brewery)}`.slice(0, 80),
    meetLine.slice(0, 80),
    '',
    row(COLUMNS.map(([h]) => h)),
    ...doc.bridges.map((b) => row(bridgeCells(b))),
    ...doc.strangers.map((s) => row(['(none)', s.nickname, 'yes', '-', '-', dash(s.version), '', '', '', '', '', '?'])),
  ];
}

/** The problems, one line each (wrapped at 80 columns), or the all-well line. */
export function problemLines(doc: StatusDoc, width = 80): string[] {
  if (doc.problems.length === 0) return [`all well: ${doc.bridges.length} bridge(s) in the brewery, no drift`];
  return doc.problems.flatMap((p) => {
    const out: string[] = [];
    let rest = `! ${p}`;
    while (rest.length > width) {
      const cut = rest.lastIndexOf(' ', width);
      const at = cut > 10 ? cut : width;
      out.push(rest.slice(0, at));
      rest = `  ${rest.slice(at).trimStart()}`;
    }
    out.push(rest);
    return out;
  });
}

/** Every drifted change with its diff, host by host: what `setup` would do. */
export function driftLines(doc: StatusDoc): string[] {
  const hosts = [doc.meet, ...doc.bridges].filter((h) => h.drift.length);
  if (!hosts.length) return ['no drift: every host is as setup leaves it'];
  return hosts.flatMap((h) => [
    `${h.host}:`,
    ...h.drift.flatMap((d) => [
      `  ${d.stepTitle}: ${d.description}`,
      ...(d.diff ? d.diff.split('\n').map((l) => `    ${l}`) : []),
    ]),
  ]);
}
