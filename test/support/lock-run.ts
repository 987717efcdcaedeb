/*
 * A real run in a process of its own, for the run lock's tests: `node lock-run.js ROOT RUN_ID`.
 * On the meet host of a local fleet below ROOT it writes a.cfg, then says it started
 * (ROOT/started-RUN_ID) and waits until ROOT/go-RUN_ID exists, then writes c.cfg; its restart
 * appends RUN_ID to ROOT/restarted.log. Lines go to stdout as the plain reporter writes them; the
 * exit code is the run's. JITSI_SCALE_LOCK_STALE_S is read as the CLI reads it.
 */
import { join } from 'node:path';
import type { Change } from '../../src/contract/change.js';
import type { Playbook } from '../../src/engine/playbook.js';
import { runPlaybook } from '../../src/engine/run-playbook.js';
import { shScript } from '../../src/transport/shell-quote.js';
import { plainReporter } from '../../src/ui/reporters/plain-reporter.js';
import { TEST_ROLES, localFleet, localOpener } from './test-playbook.js';

const [root, runId] = process.argv.slice(2) as [string, string];
const meet = (file: string) => join(root, 'meet', file);

const write = (file: string): Change => ({
  description: `write ${file}`,
  notify: ['restart'],
  apply: async (host) => ({ backup: (await host.writeFile(meet(file), `${runId}\n`)).backup }),
});

const WAIT = `touch -- "$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done`;

const playbook: Playbook<null> = {
  name: 'lock-run',
  roles: TEST_ROLES,
  variables: {},
  watchPackages: [],
  discover: async () => null,
  handlers: [
    {
      name: 'restart',
      description: 'note the restart',
      run: async (host) => {
        await host.exec(shScript('echo "$1" >> "$2"', runId, join(root, 'restarted.log')));
      },
    },
  ],
  steps: [
    {
      id: 'slow',
      title: 'Two writes with a wait between',
      why: 'The test stops the process in the wait.',
      roles: ['meet'],
      plan: async () => ({
        changes: [
          write('a.cfg'),
          {
            description: 'wait for the test',
            apply: async (host) => {
              await host.exec(shScript(WAIT, join(root, `started-${runId}`), join(root, `go-${runId}`)));
            },
          },
          write('c.cfg'),
        ],
      }),
    },
  ],
};

const { inventory } = await localFleet(['jvb1'], root);
const result = await runPlaybook(
  inventory,
  playbook,
  {
    mode: 'apply',
    runId,
    backupDir: join(root, 'backups', runId),
    stateDir: join(root, 'state'),
    openHost: localOpener(root),
    limit: ['meet'],
  },
  plainReporter({ write: (line) => process.stdout.write(`${line}\n`), diff: false, verbose: false }),
);
process.exitCode = result.exitCode;
