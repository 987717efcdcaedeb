import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { maskSecretValues } from '../../src/engine/mask-secret-values.js';
import { REDACTED, Redactor } from '../../src/engine/redactor.js';
import { unifiedDiff } from '../../src/modules/file/unified-diff.js';
import { discoverShard } from '../../playbooks/jitsi-load-balancing/discover.js';
import { planBridgeConfig, rootedDiscovery, rootedShard } from '../support/rooted-shard.js';
import { oracleForms, stableBase64 } from '../support/secret-oracle.js';
import { SECRETS } from '../support/secret-scan.js';

const M = REDACTED;
const redactorOf = (...secrets: string[]) => {
  const r = new Redactor();
  secrets.forEach((s) => r.add(s));
  return r;
};

describe('the redactor masks every form of a registered secret', () => {
  test('each form the test knows of (its own encoders, bash, the config writers) is masked where it stands', () => {
    let forms = 0;
    for (const secret of SECRETS) {
      const r = redactorOf(secret);
      for (const { form, how } of oracleForms(secret)) {
        forms++;
        const shown = [`PASSWORD=${form}`, `"${form}"`, form, `url: ${form}`].map((t) => r.redactText(t));
        assert.deepEqual(shown, [`PASSWORD=${M}`, `"${M}"`, M, `url: ${M}`], `${how} of ${JSON.stringify(secret)}`);
        if (form.length >= 4)
          assert.equal(
            r.redactText(`in-${form}-word`),
            `in-${M}-word`,
            `${how} of ${JSON.stringify(secret)} inside a word`,
          );
      }
    }
    assert.ok(forms > 40, `${forms} forms`);
  });

  test('a secret inside a longer base64 stream is masked at each of the three offsets', () => {
    const secret = 'Kx7-q$9%long-enough';
    const r = redactorOf(secret);
    for (const k of [0, 1, 2]) {
      for (let trial = 0; trial < 20; trial++) {
        const stream = Buffer.concat([randomBytes(30 + k), Buffer.from(secret), randomBytes(31)]).toString('base64');
        const run = stableBase64(Buffer.from(secret), (30 + k) % 3);
        assert.ok(stream.includes(run), 'the stream carries the run the secret decides');
        assert.ok(!r.redactText(stream).includes(run), `offset ${k}: the secret's run is masked`);
        assert.ok(!r.redactText(stream).includes(run.slice(1, -1)), `offset ${k}: nothing of it is left`);
      }
    }
  });

  test('a secret of one to three characters is masked where it stands as a value, and words stay whole', () => {
    const r = redactorOf('a', '1', '%$');
    assert.equal(r.redactText('a'), M);
    assert.equal(r.redactText('x = a'), `x = ${M}`);
    assert.equal(r.redactText('nick: "a", port: 1'), `nick: "${M}", port: ${M}`);
    assert.equal(r.redactText("echo '%$'"), `echo '${M}'`);
    const prose = 'a bridge at auth.example.org joined in 1 second (10.0.0.1, 100%)';
    assert.equal(r.redactText(prose), prose, 'prose and numbers are not garbled');
    assert.equal(r.redactText('line one\na\nline three'), `line one\n${M}\nline three`);
  });

  test('values before registration are not lost: a later add masks them in every later event', () => {
    const r = new Redactor();
    assert.equal(r.redactText('token Zq9!x'), 'token Zq9!x');
    r.add('Zq9!x');
    assert.equal(r.redactText('token Zq9!x'), `token ${M}`);
  });

  test('a field whose name is secret is masked whatever its value; a Map is walked; other fields are kept', () => {
    const r = new Redactor();
    const e = r.redact({
      password: 'p',
      jvb_secret: 42,
      nested: [{ ssh_key: 'k', keyring: 'kept', description: 'PASSWORD = "x"' }],
      m: new Map([['a', 'JVB_SECRET=y']]),
      count: 3,
    });
    assert.deepEqual(e, {
      password: M,
      jvb_secret: M,
      nested: [{ ssh_key: M, keyring: 'kept', description: `PASSWORD = "${M}"` }],
      m: new Map([['a', `JVB_SECRET=${M}`]]),
      count: 3,
    });
  });
});

describe('the value of every secret setting is masked, registered or not', () => {
  const cases: [string, string, string][] = [
    ['HOCON, any case, escapes', 'password = "o\\"ld\\\\pw"', `password = "${M}"`],
    ['HOCON unquoted, a comment after', '  PASSWORD = oldpw # set by hand', `  PASSWORD = ${M}`],
    ['HOCON path and quoted key', 'a.b."PassWord" : "x", next = 1', `a.b."PassWord" : "${M}", next = 1`],
    ['HOCON triple quotes over lines', 'PASSWORD = """one\ntwo"""\nx = 1', `PASSWORD = """${M}\n${M}"""\nx = 1`],
    [
      '.properties, escaped, continued',
      'org.jitsi.videobridge.xmpp.user.shard.PASSWORD=ab\\=c\\\n   def\nnext=1',
      `org.jitsi.videobridge.xmpp.user.shard.PASSWORD=${M}\n   ${M}\nnext=1`,
    ],
    ['.properties, blank separator', 'org.x.shard.PASSWORD   spaced value', `org.x.shard.PASSWORD   ${M}`],
    ['.properties, colon', 'a.b.password: v', `a.b.password: ${M}`],
    ['shell, single quotes closed and reopened', "JVB_SECRET='a'\\''b'", `JVB_SECRET=${M}`],
    [
      'shell, export and "…" over lines',
      'export API_SECRET="one\ntwo" rest=1',
      `export API_SECRET="${M}\n${M}" rest=1`,
    ],
    ['*_password, *_secret, *_key, *_pass, *_token', 'db_password=a turn_secret=b SIGNING_KEY=c become_pass=d', ''],
    ['*_token', 'API_TOKEN="t0k"; next=1', `API_TOKEN="${M}"; next=1`],
    [
      'debconf selections',
      'jitsi-videobridge2 jitsi-videobridge/jvbsecret password s3 cr et\np q/jvb-secret string v',
      `jitsi-videobridge2 jitsi-videobridge/jvbsecret password ${M}\np q/jvb-secret string ${M}`,
    ],
    [
      "debconf's database",
      'Name: jitsi-videobridge/jvbsecret\nTemplate: x\nValue: v1\n\nName: other\nValue: kept',
      `Name: jitsi-videobridge/jvbsecret\nTemplate: x\nValue: ${M}\n\nName: other\nValue: kept`,
    ],
    ['JSON', '{"user":"u","password":"p\\"w","n":1}', `{"user":"u","password":"${M}","n":1}`],
    ['a URL', 'deb https://user:pw@repo.example.org/ stable', `deb https://user:${M}@repo.example.org/ stable`],
    // Unquoted, a value runs to the end of its line (a .properties value does, spaces and all).
    ['a flag', 'tool --password=hunter2 --user=u', `tool --password=${M}`],
  ];
  for (const [name, text, want] of cases)
    test(name, () => {
      const got = maskSecretValues(text);
      if (want) assert.equal(got, want);
      else assert.ok(!/=[abcd](\s|$)/.test(got), got);
    });

  test('in a diff, the old and the new value are both masked and the diff marks stay', () => {
    const before = 'videobridge {\n  PASSWORD = "old-one"\n  HOSTNAME = h\n}\n';
    const after = 'videobridge {\n  PASSWORD = "new-one"\n  HOSTNAME = h\n}\n';
    const shown = new Redactor().redactText(unifiedDiff('/etc/jitsi/videobridge/jvb.conf', before, after));
    assert.match(shown, new RegExp(`^-  PASSWORD = "\\*{8}"\\n\\+  PASSWORD = "\\*{8}"$`, 'm'));
    assert.ok(!shown.includes('old-one') && !shown.includes('new-one'));
    assert.match(shown, /^ {3}HOSTNAME = h$/m);
  });

  test('what is not a secret setting is left as it is', () => {
    for (const text of [
      'deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/',
      'download the signing key https://download.jitsi.org/jitsi-key.gpg.key into /usr/share/keyrings/jitsi-keyring.gpg',
      'preseed debconf for jitsi-videobridge2: jitsi-videobridge/jvb-hostname, jitsi-videobridge/jvbsecret',
      'its password is not the one Prosody holds for jvb@auth.meet.example.org (SASL not-authorized)',
      'MUC_NICKNAME = jvb-1\nKEYS=3\nmonkey = banana\nsecretSource = inventory',
      'jitsi-videobridge2 jitsi-videobridge/jvb-hostname string meet.example.org',
    ])
      assert.equal(maskSecretValues(text), text);
  });
});

describe('the password a bridge has today is a secret too, though nobody registered it', () => {
  const pair = { old: 'Old-Bridge-Pw-7f', new: 'New-Shard-Pw-9q' };

  test('discovery registers it when it reads the bridge, and the bridge-config step when it plans', async () => {
    const { root, inventory } = await rootedShard(pair);
    const secrets = new Redactor();
    const ctx = rootedDiscovery(root, inventory, secrets);
    const shared = await discoverShard(ctx);
    assert.equal(shared.secret, pair.new);
    assert.equal(secrets.redactText(`was ${pair.old}, now ${pair.new}`), `was ${M}, now ${M}`);

    const fresh = new Redactor();
    const plan = await planBridgeConfig(ctx, 'jvb1', shared, fresh);
    assert.equal(fresh.redactText(`echo ${pair.old}`), `echo ${M}`, 'the plan registered the password it replaces');
    assert.match(
      plan.changes[0]!.diff!,
      /-\s+password = "Old-Bridge-Pw-7f"/,
      'the raw diff holds it, for the redactor to mask',
    );
  });
});
