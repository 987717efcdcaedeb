import { jitsiLoadBalancing } from '../../playbooks/jitsi-load-balancing/index.js';
import { loadInventory, parseInventory, type LoadOptions } from '../../src/inventory/load-inventory.js';
import type { Inventory } from '../../src/inventory/types.js';
import { inventorySchema } from '../../src/main.js';

/** The inventory schema `jitsi-scale setup` reads with. */
export const SHARD_SCHEMA = inventorySchema(jitsiLoadBalancing);

export function parseShardInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  return parseInventory(text, file, SHARD_SCHEMA, opts);
}

export function loadShardInventory(file: string, opts: LoadOptions = {}): Promise<Inventory> {
  return loadInventory(file, SHARD_SCHEMA, opts);
}
