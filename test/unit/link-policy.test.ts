import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { oneBridgeInventory } from '../support/shard-inventory.js';
import { jitsiLinkPolicy } from '../../playbooks/jitsi-load-balancing/settings.js';
import { InventoryError } from '../../src/inventory/types.js';
import { linkRoots, OWN_DIRECTORY_ONLY, refusalSentence } from '../../src/transport/link-policy.js';
import { parseReadMany, readArgs } from '../../src/transport/read-many.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const F = '/inv/inventory.yaml';

const inventory = (vars: string) =>
  oneBridgeInventory(['ansible_host: 10.0.0.2', ...vars.split('\n')], F, { defaultUser: 'me' });

describe('where a link may lead', () => {
  test("a file's own directory, but not a top-level one: /etc/passwd lies beside /etc/nftables.conf", () => {
    assert.deepEqual(linkRoots('/etc/jitsi/videobridge/jvb.conf', OWN_DIRECTORY_ONLY), ['/etc/jitsi/videobridge']);
    assert.deepEqual(linkRoots('/etc/nftables.conf', OWN_DIRECTORY_ONLY), []);
    assert.deepEqual(linkRoots('/jvb.conf', OWN_DIRECTORY_ONLY), []);
  });

  test("the shard's hosts: Prosody's conf.d may lead into conf.avail, its certs into /var/lib/prosody, and no further", () => {
    const spec = inventory('').byRole.jvb![0]!;
    const p = jitsiLinkPolicy(spec);
    assert.deepEqual(linkRoots('/etc/prosody/conf.d/meet.example.org.cfg.lua', p), [
      '/etc/prosody/conf.d',
      '/etc/prosody',
    ]);
    assert.deepEqual(linkRoots('/etc/prosody/certs/auth.meet.example.org.crt', p), [
      '/etc/prosody/certs',
      '/etc/prosody',
      '/var/lib/prosody',
    ]);
    assert.deepEqual(linkRoots('/etc/letsencrypt/live/auth.meet.example.org/fullchain.pem', p), [
      '/etc/letsencrypt/live/auth.meet.example.org',
      '/etc/letsencrypt/archive',
    ]);
    assert.deepEqual(linkRoots('/etc/jitsi/videobridge/jvb.conf', p), ['/etc/jitsi/videobridge']);
    // A directory named like Prosody's is not Prosody's.
    assert.deepEqual(linkRoots('/etc/prosody-other/x.cfg.lua', p), ['/etc/prosody-other']);
  });

  test('jitsi_link_targets adds directories, as a list or one string; trailing slashes do not count', () => {
    const list = jitsiLinkPolicy(inventory('jitsi_link_targets: [/srv/jitsi/, /opt/conf]').byRole.jvb![0]!);
    assert.deepEqual(linkRoots('/etc/jitsi/videobridge/jvb.conf', list), [
      '/etc/jitsi/videobridge',
      '/srv/jitsi',
      '/opt/conf',
    ]);
    const one = jitsiLinkPolicy(inventory('jitsi_link_targets: /srv/jitsi').byRole.jvb![0]!);
    assert.deepEqual(one.allowed, ['/srv/jitsi']);
  });

  test('jitsi_link_targets refuses what is not an absolute directory, with its position', () => {
    for (const bad of ['[relative/dir]', '["/srv/../etc"]', '{ a: 1 }', '[/srv/jitsi, 3]', '"/srv/a\\nb"']) {
      assert.throws(
        () => inventory(`jitsi_link_targets: ${bad}`),
        (e: Error) =>
          e instanceof InventoryError &&
          /inventory\.yaml:\d+:\d+: jitsi_link_targets must (list absolute directories|be a list of directories)/.test(
            e.message,
          ),
        bad,
      );
    }
  });
});

describe('why a file is not read', () => {
  const policy = { ...OWN_DIRECTORY_ONLY, hint: 'list it in jitsi_link_targets' };
  const vb = '/etc/jitsi/videobridge';

  test('each refusal is one sentence naming the file, the link at fault and where it leads', () => {
    const say = (words: string[]) => refusalSentence(`${vb}/jvb.conf`, words, policy);
    assert.equal(
      say(['L', b64(`${vb}/jvb.conf`), b64('/etc/passwd')]),
      `${vb}/jvb.conf is a symbolic link to /etc/passwd, outside ${vb}: it is not followed (list it in jitsi_link_targets)`,
    );
    assert.equal(
      say(['L', b64(`${vb}/b.conf`), b64('/etc/shadow')]),
      `${vb}/jvb.conf leads through the link ${vb}/b.conf to /etc/shadow, outside ${vb}: it is not followed (list it in jitsi_link_targets)`,
    );
    assert.equal(
      say(['D', b64(`${vb}/jvb.conf`), b64(`${vb}/gone`)]),
      `${vb}/jvb.conf is a symbolic link to ${vb}/gone, which does not exist (a dangling link)`,
    );
    assert.equal(
      say(['C', b64(`${vb}/jvb.conf`), b64('')]),
      `${vb}/jvb.conf is a symbolic link that goes round in a loop (over 40 hops)`,
    );
    assert.equal(
      say(['directory', b64(`${vb}/jvb.conf`), b64(`${vb}/jvb.conf`)]),
      `${vb}/jvb.conf is not a regular file: it is a directory`,
    );
    assert.match(
      say(['fifo', b64(`${vb}/jvb.conf`), b64(`${vb}/p`)])!,
      /is a symbolic link to \/etc\/jitsi\/videobridge\/p, a FIFO/,
    );
    assert.equal(say(['?', b64('a'), b64('b')]), null);
    assert.equal(say(['L']), null);
  });

  test('a read answer of R is a refusal; a broken line is no answer at all', () => {
    const paths = [`${vb}/jvb.conf`, `${vb}/sip-communicator.properties`, `${vb}/x`];
    const lines = ['R L ' + b64(paths[0]!) + ' ' + b64('/etc/passwd'), 'M', `F ${b64('a=1\n')}`];
    const files = parseReadMany(paths, lines, policy)!;
    assert.deepEqual(
      [...files.values()],
      [
        {
          refused: `${paths[0]} is a symbolic link to /etc/passwd, outside ${vb}: it is not followed (list it in jitsi_link_targets)`,
        },
        null,
        'a=1\n',
      ],
    );
    assert.equal(parseReadMany(paths, ['R L', 'M', 'M'], policy), null);
    assert.deepEqual(
      readArgs(['/etc/jitsi/videobridge/jvb.conf', '/etc/x'], { homes: [], allowed: ['/srv/a', '/srv/b'] }),
      ['/etc/jitsi/videobridge/jvb.conf', '/etc/jitsi/videobridge\n/srv/a\n/srv/b', '/etc/x', '/srv/a\n/srv/b'],
    );
  });
});
