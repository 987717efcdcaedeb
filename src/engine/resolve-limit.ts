import type { Inventory } from '../inventory/types.js';
import { closest } from '../inventory/did-you-mean.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Host names selected by --limit (host or group names, comma-separated); all hosts without one. */
export function resolveLimit(inventory: Inventory, limit: readonly string[] | undefined): Set<string> {
  const all = inventory.hosts.map((h) => h.name);
  if (!limit || limit.length === 0) return new Set(all);
  const out = new Set<string>();
  for (const raw of limit) {
    const name = raw.trim();
    if (!name) continue;
    if (all.includes(name)) out.add(name);
    else if (inventory.groups[name]) for (const h of inventory.groups[name]) out.add(h);
    else {
      const guess = closest(name, [...all, ...Object.keys(inventory.groups)], 2);
      throw new UsageError(
        `--limit: no host or group named "${name}" in ${inventory.file}` + (guess ? `; did you mean "${guess}"?` : ''),
      );
    }
  }
  return out;
}
