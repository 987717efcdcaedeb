import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import { PlaybookRefusal } from '../../src/engine/playbook.js';
import { Redactor } from '../../src/engine/redactor.js';
import { InventoryError } from '../../src/inventory/types.js';
import { planAptPackage } from '../../src/modules/apt/apt-package.js';
import { HostError, type Host } from '../../src/transport/host.js';
import { DOMAIN, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';
import { parseShardInventory } from '../support/shard-inventory.js';

/*
 * A secret or a domain is written as one line: into debconf-set-selections' input (one answer per
 * line: a newline in the secret would add an answer of its own), HOCON and .properties lines.
 * One holding a line break or another control character is refused where it comes from.
 */

/** An inventory whose bridge jvb1 sets `name` to the YAML `value` (on line 9, from column 17). */
const inventoryWith = (name: string, value: string) =>
  [
    'all:',
    '  vars: { ansible_user: root }',
    '  children:',
    '    meet:',
    '      hosts: { meet: { ansible_host: 10.0.0.1 } }',
    '    jvb:',
    '      hosts:',
    '        jvb1:',
    `          ${name}: ${value}`,
    '',
  ].join('\n');

const refusal = (text: string): string => {
  try {
    parseShardInventory(text, 'inv.yaml');
  } catch (e) {
    if (e instanceof InventoryError) return e.message;
    throw e;
  }
  return '';
};

describe('a secret or a domain with a line break is refused', () => {
  const hostile: [string, string, string, RegExp][] = [
    [
      'jitsi_jvb_secret',
      '"s3cret\\njitsi-videobridge2 jitsi-videobridge/jvb-hostname string evil"',
      'evil',
      /a line break \(U\+000A\)/,
    ],
    ['jitsi_jvb_secret', '|\n            s3cret-block', 's3cret-block', /a YAML block scalar/],
    ['jitsi_jvb_secret', '"cr\\rhere"', 'here', /U\+000D/],
    ['jitsi_jvb_secret', '"tab\\there"', 'here', /a tab \(U\+0009\)/],
    ['jitsi_jvb_secret', '"esc\\e[31mred"', 'red', /a control character \(U\+001B\)/],
    ['jitsi_jvb_secret', '"ls\\Lsep"', 'sep', /U\+2028/],
    ['jitsi_jvb_secret', '"nul\\0x"', 'nul', /U\+0000/],
    ['ansible_become_password', '"pw\\nid"', 'pw', /U\+000A/],
    ['jitsi_domain', '"meet.example.org\\nx"', 'meet.example.org', /jitsi_domain holds a line break/],
    ['jitsi_nickname', '"nick\\u0085x"', 'nick', /U\+0085/],
    ['jitsi_apt_source', '"deb http://a stable/\\ndeb http://evil stable/"', 'evil', /jitsi_apt_source holds/],
  ];
  for (const [name, value, part, why] of hostile)
    test(`${name}: ${value.split('\n')[0]}`, () => {
      const message = refusal(inventoryWith(name, value));
      assert.match(message, new RegExp(`^inv\\.yaml:9:${11 + name.length + 2}: ${name} holds `), message);
      assert.match(message, why);
      assert.match(message, /it must be one line of text/);
      if (name.includes('secret') || name.includes('password')) assert.ok(!message.includes(part), 'never the value');
    });

  test('a secret of one line, however odd, is taken as it is', () => {
    const secret = `Bäck\\sl@sh"Qu'ote $HOME %41 ✓`;
    const inv = parseShardInventory(inventoryWith('jitsi_jvb_secret', JSON.stringify(secret)), 'inv.yaml');
    assert.equal(inv.byRole.jvb![0]!.vars.jitsi_jvb_secret, secret);
  });

  test('a secret that is not a string is refused without showing it', () => {
    const message = refusal(inventoryWith('jitsi_jvb_secret', 'yes'));
    assert.match(message, /jitsi_jvb_secret must be a string, not a boolean/);
  });

  test('debconf answers are never given a line break, whoever built them', async () => {
    let ran = false;
    const host = {
      name: 'jvb1',
      exec: async () => {
        ran = true;
        return { code: 0, stdout: '', stderr: '' };
      },
    } as unknown as Host;
    await assert.rejects(
      planAptPackage(host, {
        name: 'jitsi-videobridge2',
        preseed: [
          { question: 'jitsi-videobridge/jvbsecret', type: 'password', value: 's\njitsi-videobridge2 x/y string z' },
        ],
      }),
      (e: unknown) =>
        e instanceof HostError &&
        e.host === 'jvb1' &&
        /the debconf answer for jitsi-videobridge\/jvbsecret holds a line break/.test(e.message) &&
        !e.message.includes('x/y'),
    );
    assert.equal(ran, false, 'nothing was run on the host');
  });
});

describe('a secret or domain with a line break found on the meet host is refused, naming the host and the file', () => {
  const meetRefusal = async (over: Record<string, string>): Promise<PlaybookRefusal> => {
    const { root, inventory } = await rootedShard({ old: 'old-pw-1', new: 'unused' }, over);
    const ctx = rootedDiscovery(root, inventory, new Redactor());
    const e = await discoverShard(ctx).then(
      () => assert.fail('discovery went on'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof PlaybookRefusal, String(e));
    return e;
  };

  test("in the meet host's jvb.conf (a HOCON \\n escape)", async () => {
    const e = await meetRefusal({
      '/etc/jitsi/videobridge/jvb.conf': `videobridge.apis.xmpp-client.configs.shard {\n  USERNAME = jvb\n  PASSWORD = "good\\nbad"\n}\n`,
    });
    assert.equal(e.host, 'meet');
    assert.match(
      e.message,
      /^the jvb password in \/etc\/jitsi\/videobridge\/jvb\.conf on meet holds a line break \(U\+000A\)/,
    );
    assert.ok(!e.message.includes('good') && !e.message.includes('bad'));
  });

  test('in sip-communicator.properties (a .properties \\n escape)', async () => {
    const e = await meetRefusal({
      '/etc/jitsi/videobridge/jvb.conf': '',
      '/etc/jitsi/videobridge/sip-communicator.properties':
        'org.jitsi.videobridge.xmpp.user.shard.PASSWORD=first\\nsecond\n',
    });
    assert.match(e.message, /sip-communicator\.properties on meet holds a line break/);
  });

  test("in the site config's auth.<domain> (an escape character)", async () => {
    const e = await meetRefusal({
      [`/etc/prosody/conf.d/${DOMAIN}.cfg.lua`]: `VirtualHost "auth.meet\u001b[2Jexample.org"\n    authentication = "internal_hashed"\n`,
    });
    assert.match(
      e.message,
      /^\/etc\/prosody\/conf\.d\/meet\.example\.org\.cfg\.lua on meet declares an auth\.<domain> VirtualHost whose domain holds a control character \(U\+001B\)/,
    );
  });
});
