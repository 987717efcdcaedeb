import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { JITSI_VARIABLES } from '../../playbooks/jitsi-load-balancing/variables.js';
import { variablesTable, withVariablesTable } from '../../src/variables-table.js';

test("the README's variables table is the playbooks' declaration (run `npm run docs` after changing it)", async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const table = variablesTable(JITSI_VARIABLES);
  assert.equal(withVariablesTable(readme, table), readme);
  assert.match(table, /\| `jitsi_media_port` \| port \| `10000` \| UDP media port on the bridges \|/);
});
