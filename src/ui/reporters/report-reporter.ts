import type { EventSink } from '../../engine/events.js';
import type { Report } from '../../engine/playbook.js';

/** Pure: the report as an aligned table, one row per line. */
export function reportTable(report: Report): string[] {
  const rows = [report.columns, ...report.rows];
  const widths = report.columns.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The front end of a read-only command: its answer on stdout (a table, or one JSON document), and
 * hosts that could not be read on stderr, one line each.
 */
export function reportReporter(o: { write(line: string): void; warn(line: string): void; json: boolean }): EventSink {
  return (e) => {
    switch (e.type) {
      case 'run:report':
        if (o.json) o.write(JSON.stringify(e.report.data, null, 2));
        else reportTable(e.report).forEach((line) => o.write(line));
        break;
      case 'host:unreachable':
        o.warn(`${e.host}: unreachable: ${e.reason}`);
        break;
      case 'host:failed':
        o.warn(`${e.host}: ${e.reason}`);
        break;
      case 'run:refused':
        o.warn(`stopped: ${e.reason}`);
        break;
      default:
        break;
    }
  };
}
