import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  peer,
  ratio,
  renderReport,
  stats,
  type BenchResult,
  type RunRecord,
  type Tool,
} from '../../bench/bench-report.js';

const run = (tool: Tool, round: number, fresh: number, rerun: number, extra: Partial<RunRecord> = {}): RunRecord => ({
  tool,
  round,
  freshSeconds: fresh,
  rerunSeconds: rerun,
  ok: true,
  notes: [],
  ...extra,
});

function result(bridges: number, runs: RunRecord[], helpMs = 120): BenchResult {
  return { bridges, when: `2026-11-24T1${bridges % 10}:00:00Z`, machine: ['2 × test CPU'], runs, helpMs };
}

describe('benchmark report', () => {
  test('median, min and max; even counts take the middle two', () => {
    assert.deepEqual(stats([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
    assert.deepEqual(stats([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
    assert.equal(stats([]), null);
  });

  test('the peer is the faster Ansible by median; failed runs are left out', () => {
    const r = result(10, [
      run('ansible', 1, 40, 20),
      run('mitogen', 1, 30, 25),
      run('ansible', 2, 42, 21),
      run('mitogen', 2, 31, 26),
      run('mitogen', 3, 1, 1, { ok: false, notes: ['fresh run exit 2'] }),
      run('jitsi-scale', 1, 10, 2),
    ]);
    assert.equal(peer(r, 'freshSeconds')?.tool, 'mitogen');
    assert.equal(peer(r, 'freshSeconds')?.stats.median, 30.5, 'the failed Mitogen run does not count');
    assert.equal(peer(r, 'rerunSeconds')?.tool, 'ansible');
    assert.equal(ratio(peer(r, 'rerunSeconds')!.stats, stats([2])), 10.25);
  });

  test('BENCHMARKS.md: a row per bridge count and run kind, targets judged, left-out runs listed', () => {
    const md = renderReport(
      [
        result(30, [run('jitsi-scale', 1, 30, 4, { peakRssKiB: 100 * 1024 }), run('ansible', 1, 300, 100)]),
        result(1, [
          run('jitsi-scale', 1, 5, 1, { peakRssKiB: 70 * 1024 }),
          run('ansible', 1, 20, 12),
          run('mitogen', 1, 18, 11),
          run('ansible', 2, 0, 0, { ok: false, notes: ['rerun exit 4: unreachable'] }),
        ]),
        result(10, [run('jitsi-scale', 1, 8, 1.5), run('ansible', 1, 40, 20), run('mitogen', 1, 30, 14)]),
      ],
      'How it was measured.',
    );
    const results = md.slice(md.indexOf('## Results'), md.indexOf('### CPU'));
    const rows = results.split('\n').filter((l) => /^\| \d+ \| (fresh setup|no-change rerun) \|/.test(l));
    assert.deepEqual(
      rows.map((l) => l.split(' | ').slice(0, 2).join(' | ')),
      [
        '| 1 | fresh setup',
        '| 1 | no-change rerun',
        '| 10 | fresh setup',
        '| 10 | no-change rerun',
        '| 30 | fresh setup',
        '| 30 | no-change rerun',
      ],
    );
    assert.match(
      md,
      /\| 10 \| no-change rerun \| 1\.50 s \(1\.50–1\.50, n=1\) \| 20\.00 s [^|]*\| 14\.00 s [^|]*\| 9\.3× \|/,
    );
    assert.match(md, /\| no-change rerun vs the faster Ansible, N=10 \| ≥ 10× \| 9\.3× \| \*\*no\*\* \|/);
    assert.match(md, /\| fresh setup vs the faster Ansible, N=10 \| ≥ 3× \| 3\.8× \| yes \|/);
    assert.match(
      md,
      /\| jitsi-scale N=30 \/ N=1, fresh setup \| ≤ 2× \| 6\.0× \(30\.00 s \/ 5\.00 s\) \| \*\*no\*\* \|/,
    );
    assert.match(md, /\| jitsi-scale peak RSS, N=30 \| ≤ 150 MB \| 100 MB \| yes \|/);
    assert.match(md, /\| `jitsi-scale --help` \| < 150 ms \| 120 ms \| yes \|/);
    assert.match(md, /- N=1, Ansible \(pipelining\), round 2: rerun exit 4: unreachable/);
    assert.match(md, /How it was measured\./);
  });

  test('the CPU table: medians of the machine and of the tool, per bridge count and run kind', () => {
    const cpu = (machine: number, own: number) => ({ machine, own });
    const md = renderReport(
      [
        result(1, [
          run('jitsi-scale', 1, 5, 1, { freshCpu: cpu(4, 0.5), rerunCpu: cpu(0.4, 0.3) }),
          run('jitsi-scale', 2, 5, 1, { freshCpu: cpu(6, 0.7), rerunCpu: cpu(0.6, 0.2) }),
          run('jitsi-scale', 3, 5, 1, { freshCpu: cpu(5, 0.9), rerunCpu: cpu(9, 9), ok: false }),
          run('mitogen', 1, 18, 11, { freshCpu: cpu(20, 12), rerunCpu: cpu(10, 6) }),
        ]),
      ],
      '',
    );
    const cpuPart = md.slice(md.indexOf('### CPU'), md.indexOf('## Targets'));
    assert.match(cpuPart, /same 2 cores/);
    assert.match(cpuPart, /\| 1 \| fresh setup \| 5\.00 \(0\.60\) \| — \| 20\.00 \(12\.00\) \|/);
    assert.match(
      cpuPart,
      /\| 1 \| no-change rerun \| 0\.50 \(0\.25\) \| — \| 10\.00 \(6\.00\) \|/,
      'the failed run is left out',
    );
  });
});
