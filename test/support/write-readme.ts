import { readFile, writeFile } from 'node:fs/promises';
import { JITSI_VARIABLES } from '../../playbooks/jitsi-load-balancing/variables.js';
import { variablesTable, withVariablesTable } from '../../src/variables-table.js';

// `npm run docs`: rewrites the README's variables table from the declaration.
const path = new URL('../../../README.md', import.meta.url);
const next = withVariablesTable(await readFile(path, 'utf8'), variablesTable(JITSI_VARIABLES));
if (next === null) throw new Error('README.md has no variables table markers');
await writeFile(path, next);
