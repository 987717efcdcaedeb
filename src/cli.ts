#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseCli } from './cli-options.js';
import { COMMANDS, DEFAULT_COMMAND } from '../playbooks/index.js';

// Only argument parsing and the command table are loaded up front, so --help and --version answer
// at once; the engine, SSH, UI and the playbook load when there is a run to do.
// A reader that goes away (`| head`) ends the output, not the program with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const parsed = parseCli(process.argv.slice(2), COMMANDS, DEFAULT_COMMAND);
switch (parsed.kind) {
  case 'help':
    process.stdout.write(`${parsed.text}\n`);
    break;
  case 'version': {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`jitsi-scale ${pkg.version}\n`);
    break;
  }
  case 'completion': {
    const { bashCompletion, zshCompletion } = await import('./completion.js');
    const write = parsed.shell === 'bash' ? bashCompletion : zshCompletion;
    process.stdout.write(write(COMMANDS, DEFAULT_COMMAND));
    break;
  }
  case 'error':
    process.stderr.write(`jitsi-scale: ${parsed.message}\n`);
    process.exitCode = 1;
    break;
  case 'inventory': {
    const { inventoryCommand } = await import('./inventory-command.js');
    process.exitCode = await inventoryCommand(parsed.options);
    break;
  }
  case 'run': {
    const { main } = await import('./main.js');
    process.exitCode = await main(parsed.command, parsed.options);
    break;
  }
}
