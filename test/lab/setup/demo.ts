import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { INVENTORY_FILE } from './lab-config.js';
import { labStatus, labUp } from './lab.js';

/**
 * `npm run demo`: the lab, then the tool against it. Extra arguments go to jitsi-scale
 * (e.g. `npm run demo -- --yes`, `npm run demo -- --check --diff`).
 */
const status = await labStatus();
if (!status.up) {
  process.stdout.write('demo: bringing the lab up (a meet host, 2 bridges, an outsider) ...\n');
  const t0 = Date.now();
  await labUp({ bridges: 2, era: 'current', log: (l) => process.stdout.write(`lab: ${l}\n`) });
  process.stdout.write(`demo: lab up in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
}
const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const args = ['-i', INVENTORY_FILE, ...process.argv.slice(2)];
process.stdout.write(`demo: jitsi-scale ${args.join(' ')}\n`);
const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
// Ctrl-C belongs to jitsi-scale (it finishes the change under way, then stops); this wrapper
// only waits for it.
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 130 : 1);
});
