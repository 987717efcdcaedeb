import { jitsiLoadBalancing } from '../../playbooks/jitsi-load-balancing/index.js';
import { loadInventory, parseInventory, type LoadOptions } from '../../src/inventory/load-inventory.js';
import type { HostSpec, Inventory } from '../../src/inventory/types.js';
import { inventorySchema } from '../../src/main.js';

/** The inventory schema `jitsi-scale setup` reads with. */
export const SHARD_SCHEMA = inventorySchema(jitsiLoadBalancing);

export function parseShardInventory(text: string, file: string, opts: LoadOptions = {}): Inventory {
  return parseInventory(text, file, SHARD_SCHEMA, opts);
}

export function loadShardInventory(file: string, opts: LoadOptions = {}): Promise<Inventory> {
  return loadInventory(file, SHARD_SCHEMA, opts);
}

/**
 * The meet host of a shard inventory whose meet host is root on a local sshd's port, with its
 * key and ansible_ssh_common_args (the bridge is never contacted).
 */
export function localMeet(o: { port: number; key: string; commonArgs: string; file: string }): HostSpec {
  return parseShardInventory(
    [
      'all:',
      '  children:',
      '    meet:',
      '      hosts:',
      '        meet:',
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${o.port}`,
      '          ansible_user: root',
      `          ansible_ssh_private_key_file: ${o.key}`,
      `          ansible_ssh_common_args: ${JSON.stringify(o.commonArgs)}`,
      '    jvb: { hosts: { jvb1: { ansible_host: 192.0.2.1 } } }',
      '',
    ].join('\n'),
    o.file,
  ).byRole.meet![0]!;
}

/** A shard inventory of a meet host at 10.0.0.1 and one bridge, jvb1, with these YAML variable lines. */
export function oneBridgeInventory(vars: readonly string[], file: string, opts: LoadOptions = {}): Inventory {
  return parseShardInventory(
    [
      'all:',
      '  children:',
      '    meet: { hosts: { meet: { ansible_host: 10.0.0.1 } } }',
      '    jvb:',
      '      hosts:',
      '        jvb1:',
      ...vars.map((l) => `          ${l}`),
      '',
    ].join('\n'),
    file,
    opts,
  );
}
