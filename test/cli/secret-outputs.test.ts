import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rootedShard } from '../support/rooted-shard.js';
import { secretFleet, type SecretPair } from '../support/secret-playbook.js';
import { PAIRS, label, secretScanner } from '../support/secret-scan.js';

/*
 * The command line's outputs, each a process of its own: --check --diff and --check --json of a
 * playbook that replaces an old password (never registered) by a new one in every syntax, and
 * `status --json` of the setup playbook, whose drift is the diff of a bridge config holding an old
 * password. Every byte of stdout and stderr is scanned for every form of both.
 */

const { noLeak, summary } = secretScanner();
const dist = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

function run(script: string, args: string[], env: Record<string, string>): { out: string; code: number | null } {
  const r = spawnSync(process.execPath, [dist(script), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { out: r.stdout + r.stderr, code: r.status };
}

const secretsCli = (root: string, pair: SecretPair, args: string[]) =>
  run('../support/secret-cli.js', args, {
    JITSI_SCALE_TEST_ROOT: root,
    JITSI_SCALE_TEST_SECRETS: JSON.stringify(pair),
  });

describe('no secret is shown by the command line', { concurrency: 2 }, () => {
  for (const pair of PAIRS) {
    test(`${label(pair)}: --check --diff and --check --json`, async () => {
      const { root, inventoryFile } = await secretFleet(pair);
      const plain = secretsCli(root, pair, ['secrets', '-i', inventoryFile, '--check', '--diff', '--plain']);
      noLeak('CLI --check --diff', plain.out, pair);
      assert.equal(plain.code, 0, plain.out);
      assert.match(plain.out, /\+JVB_SECRET="\*{8}"/);
      const json = secretsCli(root, pair, ['secrets', '-i', inventoryFile, '--check', '--json']);
      noLeak('CLI --check --json', json.out, pair);
      assert.equal(json.code, 0, json.out);
      assert.match(json.out, /"type":"step:planned"/);
    });
  }

  for (const pair of [PAIRS[1]!, PAIRS[4]!]) {
    test(`status --json of the setup playbook, ${label(pair)}: the drift of a bridge holding the old password`, async () => {
      const { root, inventoryFile } = await rootedShard(pair);
      const status = run('../support/rooted-status.js', ['status', '-i', inventoryFile, '--json'], {
        JITSI_SCALE_TEST_ROOT: root,
      });
      noLeak('status --json and its drift', status.out, pair);
      const doc = JSON.parse(status.out.slice(0, status.out.lastIndexOf('}') + 1)) as {
        bridges: { drift: { diff?: string }[] }[];
      };
      assert.match(doc.bridges[0]!.drift.map((d) => d.diff ?? '').join(''), /- {6}password = "\*{8}"/);
    });
  }

  after(() => console.log(`# ${summary()}`));
});
