import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JICOFO_CONF, PROSODY_MAIN, discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import { JVB_CONF } from '../../playbooks/jitsi-load-balancing/bridge-files.js';
import type { BaseFacts } from '../../src/engine/base-facts.js';
import { PlaybookRefusal, type RunHost } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import type { Host } from '../../src/transport/host.js';
import { parseShardInventory } from '../support/shard-inventory.js';

const SITE = '/etc/prosody/conf.d/meet.example.test.cfg.lua';
const GOOD_JVB = 'videobridge {\n  websockets { enabled = false }\n}\n';

/** A host that answers file reads from a table and every command with exit 1 (nothing there). */
function fakeHost(name: string, files: Record<string, string>): Host {
  return {
    name,
    readFiles: async (paths: readonly string[]) => new Map(paths.map((p) => [p, files[p] ?? null])),
    readFile: async (p: string) => files[p] ?? null,
    exec: async () => ({ code: 1, stdout: '', stderr: '' }),
  } as unknown as Host;
}

const facts = { packages: {} } as unknown as BaseFacts;

/** Discovery on a meet host and two bridges with these jvb.conf files. */
async function discover(meetJvb: string, jvb1: string, jvb2: string, jicofo = 'jicofo { }\n') {
  const inventory = parseShardInventory(
    [
      'all:',
      '  children:',
      '    meet: { hosts: { meet: { ansible_host: 10.0.0.1, jitsi_jvb_secret: s3cret } } }',
      '    jvb: { hosts: { jvb1: { ansible_host: 10.0.0.2 }, jvb2: { ansible_host: 10.0.0.3 } } }',
      '',
    ].join('\n'),
    'inventory.yaml',
  );
  const files: Record<string, Record<string, string>> = {
    meet: {
      [PROSODY_MAIN]: `Include "${SITE}"\n`,
      [SITE]: 'VirtualHost "auth.meet.example.test"\n',
      [JVB_CONF]: meetJvb,
      [JICOFO_CONF]: jicofo,
    },
    jvb1: { [JVB_CONF]: jvb1 },
    jvb2: { [JVB_CONF]: jvb2 },
  };
  const hosts = new Map<string, RunHost>(
    inventory.hosts.map((spec) => [
      spec.name,
      { host: fakeHost(spec.name, files[spec.name]!), spec, facts, address: spec.address },
    ]),
  );
  const failed = new Map<string, string>();
  const shared = await discoverShard({
    inventory,
    hosts,
    secrets: new Redactor(),
    fail: (host, reason) => failed.set(host, reason),
  });
  return { shared, failed };
}

describe('a jvb.conf the bridge cannot read is named on its own host and file', () => {
  const hostile: [string, string, RegExp][] = [
    ['a bad escape', 'videobridge {\n  x = "a\\qb"\n}\n', /line 2, column 9: '\\q' is not a valid escape/],
    [
      'a raw control character',
      'videobridge {\n  x = "a\u0001b"\n}\n',
      /line 2, column 9: the control character U\+0001/,
    ],
    [
      'nesting 100 000 deep',
      `videobridge { x = ${'['.repeat(100_000)} }\n`,
      /line 1, column 274: objects and lists nest deeper than 256 levels/,
    ],
    ['an unclosed brace', 'videobridge {\n  x = 1\n', /line 3, column 1: missing \}/],
  ];
  for (const [what, text, reason] of hostile) {
    test(`${what} on a bridge fails that bridge only, with host, file, line and column`, async () => {
      const { shared, failed } = await discover(GOOD_JVB, GOOD_JVB, text);
      assert.deepEqual([...failed.keys()], ['jvb2']);
      assert.match(failed.get('jvb2')!, /^\/etc\/jitsi\/videobridge\/jvb\.conf on jvb2 is not valid HOCON, /);
      assert.match(failed.get('jvb2')!, reason);
      assert.ok(shared.bridges.jvb1, 'the other bridge goes on');
      assert.equal(shared.bridges.jvb2, undefined);
    });

    test(`${what} on the meet host refuses the run, naming the meet host`, async () => {
      await assert.rejects(
        discover(text, GOOD_JVB, GOOD_JVB),
        (e: unknown) =>
          e instanceof PlaybookRefusal &&
          e.host === 'meet' &&
          /^\/etc\/jitsi\/videobridge\/jvb\.conf on meet is not valid HOCON, /.test(e.message) &&
          reason.test(e.message),
      );
    });
  }

  test("a broken jicofo.conf is named as the meet host's jicofo.conf, with its position", async () => {
    await assert.rejects(
      discover(GOOD_JVB, GOOD_JVB, GOOD_JVB, 'jicofo {\n  bridge.brewery-jid = "x\\z"\n}\n'),
      /PlaybookRefusal: \/etc\/jitsi\/jicofo\/jicofo\.conf on meet is not valid HOCON, line 2, column 26: '\\z' is not a valid escape/,
    );
  });
});
