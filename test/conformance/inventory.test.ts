import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { SHARD_SCHEMA } from '../support/shard-inventory.js';
import {
  CONFORMANCE_DIR,
  ansibleInventory,
  ansibleSshCommands,
  ensureReferenceTools,
  referenceToolsUnavailable,
} from '../support/reference-tools.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { InventoryError, type Inventory } from '../../src/inventory/types.js';
import { ansibleSshWords } from '../../src/transport/ssh/endpoint.js';
import { configWords } from '../../src/transport/ssh/ssh-config.js';

await ensureReferenceTools();
const why = referenceToolsUnavailable();
if (why && process.env.CI) throw new Error(`the conformance tests cannot run in CI: ${why}`);

const INVENTORIES = resolve(CONFORMANCE_DIR, 'inventories');
const REJECTED = resolve(CONFORMANCE_DIR, 'rejected');
const files = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
/** Keys are looked up from here, as Ansible's ssh does from its working directory. */
const CWD = join(tmpdir(), 'js-conformance-cwd');
mkdirSync(CWD, { recursive: true });

const tally = { checks: 0, agreed: 0 };
function agree(actual: unknown, expected: unknown, what: string): void {
  tally.checks++;
  assert.deepEqual(actual, expected, what);
  tally.agreed++;
}

/** Groups as sets of direct hosts and children, the empty ones left out (ansible-inventory omits them). */
function groupsOf(doc: Record<string, unknown>): Record<string, { hosts: string[]; children: string[] }> {
  const out: Record<string, { hosts: string[]; children: string[] }> = {};
  for (const [name, v] of Object.entries(doc)) {
    if (name === '_meta') continue;
    const g = v as { hosts?: string[]; children?: string[] };
    const hosts = [...(g.hosts ?? [])].sort();
    const children = [...(g.children ?? [])].sort();
    if (hosts.length || children.length) out[name] = { hosts, children };
  }
  return out;
}

function ourGroups(inv: Inventory) {
  const doc: Record<string, unknown> = {};
  for (const g of inv.tree) doc[g.name] = { hosts: g.hosts, children: g.children };
  return groupsOf(doc);
}

/** Every option word of Ansible's ssh line ("-o X=Y" → "X=Y"), the value unquoted as ssh reads it. */
function optionsOf(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '-o') {
      const m = /^([^=\s]+)[=\s](.*)$/.exec(words[++i]!)!;
      const raw = m[2]!;
      const value = /^proxycommand$/i.test(m[1]!) ? raw : configWords(raw).join(' ');
      out.push(`${m[1]!.toLowerCase()}=${value}`);
    }
  }
  return out;
}

describe('inventory conformance: ansible-core is the oracle', { skip: why ?? false }, () => {
  after(() => {
    console.log(`inventory conformance: ${tally.agreed} of ${tally.checks} checks agree with ansible-core`);
  });

  for (const name of files(INVENTORIES)) {
    test(`${name}: groups and variables as ansible-inventory --list gives them`, async () => {
      const file = resolve(INVENTORIES, name);
      const expected = await ansibleInventory(file);
      assert.ok(expected.doc, `ansible-inventory could not read ${name}: ${expected.why}`);
      const inv = await loadInventory(file, SHARD_SCHEMA, { roles: false, cwd: CWD });
      const hostvars = (expected.doc._meta as { hostvars: Record<string, Record<string, unknown>> }).hostvars;
      // ansible-inventory leaves a host without variables out of hostvars; its groups still name it.
      const theirHosts = new Set([
        ...Object.keys(hostvars),
        ...Object.values(groupsOf(expected.doc)).flatMap((g) => g.hosts),
      ]);
      agree(inv.everyHost.map((h) => h.name).sort(), [...theirHosts].sort(), `${name}: the hosts`);
      for (const h of inv.everyHost) {
        // JSON both ways: Python's 1.0 and our 1 are the same number.
        agree(JSON.parse(JSON.stringify(h.written)), hostvars[h.name] ?? {}, `${name}: variables of ${h.name}`);
      }
      const theirs = groupsOf(expected.doc);
      const ours = ourGroups(inv);
      for (const g of new Set([...Object.keys(theirs), ...Object.keys(ours)]))
        agree(ours[g], theirs[g], `${name}: group ${g}`);
    });

    test(`${name}: address, port, user, key and sudo as Ansible's ssh connection uses them`, async () => {
      const file = resolve(INVENTORIES, name);
      const inv = await loadInventory(file, SHARD_SCHEMA, { roles: false, cwd: CWD });
      const commands = await ansibleSshCommands(
        file,
        CWD,
        inv.everyHost.map((h) => h.name),
      );
      agree(
        [...commands.keys()].sort(),
        inv.everyHost.map((h) => h.name).sort(),
        `${name}: hosts Ansible would contact`,
      );
      for (const h of inv.everyHost) {
        const theirs = commands.get(h.name)!;
        agree(h.connection === 'local', theirs.local, `${name}: ${h.name} is local`);
        if (theirs.local) continue;
        agree(h.address, theirs.address, `${name}: address of ${h.name}`);
        const ansible = optionsOf(theirs.words);
        // Ansible's key path is relative to its working directory; ours is resolved from the same one.
        const ansibleKeys = ansible
          .filter((o) => o.startsWith('identityfile='))
          .map((o) => resolve(CWD, o.slice('identityfile='.length)));
        const ours = optionsOf(ansibleSshWords(h));
        agree(
          ours.filter((o) => o.startsWith('identityfile=')).map((o) => o.slice('identityfile='.length)),
          ansibleKeys,
          `${name}: key of ${h.name}`,
        );
        for (const key of ['port', 'user'])
          agree(
            ours.filter((o) => o.startsWith(`${key}=`)),
            ansible.filter((o) => o.startsWith(`${key}=`)).slice(0, 1),
            `${name}: ${key} of ${h.name}`,
          );
        // The user's own ssh options reach ssh in the same order.
        const mine = ours.filter((o) => !/^(port|user|identityfile)=/.test(o));
        agree(
          ansible.filter((o) => mine.includes(o)),
          mine,
          `${name}: ansible_ssh_common_args and extra args of ${h.name}`,
        );
        agree(h.becomeUser, theirs.sudoUser, `${name}: sudo user of ${h.name}`);
        agree(h.becomePassword !== undefined, theirs.sudoPassword, `${name}: sudo password given for ${h.name}`);
      }
    });
  }

  for (const name of files(REJECTED)) {
    test(`${name}: refused, as ansible-inventory refuses it`, async () => {
      const file = resolve(REJECTED, name);
      const expected = await ansibleInventory(file);
      agree(expected.doc, null, `${name}: ansible-inventory refuses it`);
      await assert.rejects(loadInventory(file, SHARD_SCHEMA, { roles: false }), (e) => {
        assert.ok(e instanceof InventoryError);
        assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: host range`));
        return true;
      });
      tally.checks++;
      tally.agreed++;
    });
  }
});
