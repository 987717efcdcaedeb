import type { HostSpec, InventoryProblem, SourcePosition } from './types.js';

/** Where the first of these variables that the host has was set, else where the host is defined. */
export function positionOf(spec: HostSpec, ...variables: string[]): SourcePosition {
  return variables.map((v) => spec.varAt[v]).find((p) => p !== undefined) ?? spec.defined;
}

/** A problem for every host that shares `key` with an earlier one ("the same address …"). */
export function duplicates(
  hosts: readonly HostSpec[],
  key: (h: HostSpec) => string | null,
  what: string,
  at: (h: HostSpec) => SourcePosition,
): InventoryProblem[] {
  const seen = new Map<string, string>();
  const problems: InventoryProblem[] = [];
  for (const h of hosts) {
    const k = key(h);
    if (k === null) continue;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, h.name);
    else
      problems.push({
        ...at(h),
        message: `hosts "${first}" and "${h.name}" have the same ${what} ${k}; each host needs its own`,
      });
  }
  return problems;
}
