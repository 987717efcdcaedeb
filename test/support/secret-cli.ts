import { parseCli } from '../../src/cli-options.js';
import { main } from '../../src/main.js';
import { secretCommand, type SecretPair } from './secret-playbook.js';

/*
 * The command line of the secret test playbook, as a process of its own (its stdout is the
 * output under test): JITSI_SCALE_TEST_ROOT and JITSI_SCALE_TEST_SECRETS (JSON {old, new}) say
 * where the fleet is and which passwords it holds; the arguments are jitsi-scale's.
 */
const root = process.env.JITSI_SCALE_TEST_ROOT!;
const pair = JSON.parse(process.env.JITSI_SCALE_TEST_SECRETS!) as SecretPair;
const command = secretCommand(root, pair);
const parsed = parseCli(process.argv.slice(2), [command], command.name);
if (parsed.kind !== 'run') throw new Error(`not a run: ${JSON.stringify(parsed)}`);
process.exitCode = await main(parsed.command, parsed.options);
