import { CHECKS, type Finding } from './checks.js';

/** Pure: the findings as lines, host by host: ✓ for a check that passed, ✗ with evidence and fix. */
export function doctorLines(findings: readonly Finding[]): string[] {
  const hosts = [...new Set(findings.map((f) => f.host))];
  const failed = findings.filter((f) => !f.ok);
  return [
    ...hosts.flatMap((h) => [
      `${h}:`,
      ...findings
        .filter((f) => f.host === h)
        .flatMap((f) =>
          f.ok
            ? [`  ✓ ${CHECKS[f.check]}: ${f.text}`]
            : [
                `  ✗ ${CHECKS[f.check]}: ${f.text}`,
                ...(f.evidence ? [`      evidence: ${f.evidence}`] : []),
                ...(f.fix ? [`      fix: ${f.fix}`] : []),
              ],
        ),
    ]),
    '',
    failed.length === 0
      ? `all ${findings.length} checks passed on ${hosts.length} bridge(s)`
      : `${failed.length} problem(s) found on ${new Set(failed.map((f) => f.host)).size} bridge(s)`,
  ];
}
