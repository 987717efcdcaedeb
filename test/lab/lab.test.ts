import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Change } from '../../src/engine/playbook.js';
import { planAptPackage, type AptPackage } from '../../src/modules/apt/apt-package.js';
import { planFileEdit } from '../../src/modules/file/edit-file.js';
import { planPortRule } from '../../src/modules/firewall/plan-port-rule.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { setHocon } from '../../src/modules/hocon/set-hocon.js';
import { setProperties } from '../../src/modules/properties/properties.js';
import { restartHandler } from '../../src/modules/service/service.js';
import { gatherBaseFacts } from '../../src/engine/base-facts.js';
import type { Host } from '../../src/transport/host.js';
import { connectSsh } from '../support/ssh-connect.js';
import { CLIENT_KEY, KNOWN_HOSTS, DOMAIN, LAB_DIR, LAB_SECRET, REPO_DIR, type LabState } from './setup/lab-config.js';
import { labDown, labStatus, labUp } from './setup/lab.js';
import { run } from './setup/run.js';
import { STANDIN_VERSION } from './standin-jvb/build-package.js';
import { canConnect } from '../support/tcp-probe.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`lab tests cannot run in CI: ${why}`);

const io = { output: () => undefined };

/** The stand-in videobridge from the lab's repository, preseeded as the tool does it. */
const LAB_PACKAGE: AptPackage = {
  name: 'jitsi-videobridge2',
  source: { file: '/etc/apt/sources.list.d/jitsi-lab.list', line: `deb [trusted=yes] file:${REPO_DIR} ./` },
  preseed: [
    { question: 'jitsi-videobridge/jvb-hostname', type: 'string', value: DOMAIN },
    { question: 'jitsi-videobridge/jvbsecret', type: 'password', value: LAB_SECRET },
  ],
};
async function applyAll(host: Host, changes: Change[]): Promise<void> {
  for (const c of changes) await c.apply(host, io);
}

describe('the lab: real hosts in network namespaces', { skip: why ?? false }, () => {
  let lab: LabState;
  const open: Host[] = [];
  const addr = (name: string) => lab.hosts.find((h) => h.name === name)!.address;
  const connect = async (name: string, user = 'root', become = false): Promise<Host> => {
    const h = await connectSsh(
      {
        name,
        address: addr(name),
        port: 22,
        user,
        privateKeyPath: CLIENT_KEY,
        knownHostsFile: KNOWN_HOSTS,
        connectTimeoutMs: 10_000,
        keepaliveIntervalMs: 5000,
      },
      { enabled: become, user: 'root' },
      '/var/backups/jitsi-scale/lab-test',
    );
    open.push(h);
    return h;
  };

  before(async () => {
    await labDown();
    const t0 = Date.now();
    lab = await labUp({ bridges: 3, era: 'current' });
    process.stdout.write(`# lab up (3 bridges) in ${Date.now() - t0} ms\n`);
  });
  after(async () => {
    await Promise.all(open.map((h) => h.close()));
  });

  test('every host answers over SSH, with its own name and its own /etc', async () => {
    const [meet, jvb1, jvb2] = await Promise.all([connect('meet'), connect('jvb1'), connect('jvb2')]);
    assert.equal((await jvb1.exec(['hostname'])).stdout.trim(), 'jvb1');
    await jvb1.writeFile('/etc/lab-only-jvb1', 'x\n');
    assert.equal(await jvb1.readFile('/etc/lab-only-jvb1'), 'x\n');
    assert.equal(await jvb2.readFile('/etc/lab-only-jvb1'), null, 'another host does not see it');
    assert.equal(existsSync('/etc/lab-only-jvb1'), false, 'this machine does not see it');
    const keys = await Promise.all(
      [meet, jvb1, jvb2].map(async (h) => (await h.readFile('/etc/ssh/ssh_host_ed25519_key.pub'))!.split(' ')[1]),
    );
    assert.equal(new Set(keys).size, 3, 'each host has its own host key');
    assert.match((await meet.exec(['service', 'prosody', 'status'])).stdout, /is running/);
  });

  test('atomic write with backup on a real host', async () => {
    const meet = await connect('meet');
    const before = await meet.stat('/etc/prosody/prosody.cfg.lua');
    const original = await meet.readFile('/etc/prosody/prosody.cfg.lua');
    const r = await meet.writeFile('/etc/prosody/prosody.cfg.lua', `${original}-- touched by the lab test\n`);
    assert.equal(r.backup, '/var/backups/jitsi-scale/lab-test/etc/prosody/prosody.cfg.lua');
    assert.equal(await meet.readFile(r.backup), original);
    const after = await meet.stat('/etc/prosody/prosody.cfg.lua');
    assert.deepEqual([after?.owner, after?.group, after?.mode], [before?.owner, before?.group, before?.mode]);
    assert.equal(
      (await meet.exec(['sh', '-c', 'ls -A /etc/prosody | grep -c jitsi-scale || true'])).stdout.trim(),
      '0',
    );
    await meet.writeFile('/etc/prosody/prosody.cfg.lua', original!);
  });

  test('a non-root user escalates through sudo', async () => {
    const deploy = await connect('jvb2', 'deploy', true);
    assert.equal((await deploy.exec(['id', '-un'])).stdout.trim(), 'root');
    assert.equal((await deploy.exec(['id', '-un'], { noBecome: true })).stdout.trim(), 'deploy');
    await deploy.writeFile('/etc/written-through-sudo', 'ok\n', { mode: 0o600 });
    const st = await deploy.stat('/etc/written-through-sudo');
    assert.deepEqual([st?.owner, st?.mode], ['root', 0o600]);
    const plain = await connect('jvb2', 'deploy', false);
    await assert.rejects(
      plain.writeFile('/etc/not-without-sudo', 'x'),
      /cannot write \/etc\/not-without-sudo: .*Permission denied/,
    );
  });

  test('restarting a service goes through its init script (no systemd here)', async () => {
    const meet = await connect('meet');
    const { facts } = await gatherBaseFacts(meet, []);
    assert.equal(facts.init, 'sysv');
    const pid = async () => (await meet.exec(['sh', '-c', 'cat /run/prosody/prosody.pid'])).stdout.trim();
    const beforePid = await pid();
    const lines: string[] = [];
    await restartHandler('prosody').run(meet, { output: (_s, l) => lines.push(l) });
    const afterPid = await pid();
    assert.notEqual(afterPid, beforePid);
    assert.match((await meet.exec(['service', 'prosody', 'status'])).stdout, /is running/);
    assert.ok(
      lines.some((l) => /Restarting Prosody|Stopping|Starting/.test(l)),
      lines.join('|'),
    );
  });

  test('the firewall on the meet host: a bridge reaches 5222, the outsider does not', async () => {
    const meet = await connect('meet');
    const { facts } = await gatherBaseFacts(meet, []);
    assert.notEqual(facts.firewall, 'none');
    assert.equal(await canConnect('jsl-outsider', addr('outsider'), addr('meet'), 5222), true, 'open before');
    const rule = { proto: 'tcp' as const, port: 5222, sources: [addr('jvb1'), addr('jvb2')] };
    const opts = { ufw: facts.ufw, sshPort: 22, allowEnable: false, allowRemoval: false };
    await applyAll(meet, (await planPortRule(meet, facts.firewall, rule, opts)).changes);
    assert.equal(await canConnect('jsl-jvb1', addr('jvb1'), addr('meet'), 5222), true, 'bridge');
    assert.equal(await canConnect('jsl-outsider', addr('outsider'), addr('meet'), 5222), false, 'outsider');
    assert.deepEqual((await planPortRule(meet, facts.firewall, rule, opts)).changes, [], 'a second plan is empty');
  });

  test('the stand-in videobridge installs from the lab repository, preseeded, once', async () => {
    const jvb1 = await connect('jvb1');
    const pkg = LAB_PACKAGE;
    const changes = await planAptPackage(jvb1, pkg);
    assert.deepEqual(
      changes.map((c) => c.description),
      [
        'add the apt source /etc/apt/sources.list.d/jitsi-lab.list',
        'preseed debconf for jitsi-videobridge2: jitsi-videobridge/jvb-hostname, jitsi-videobridge/jvbsecret',
        'refresh the package lists (apt-get update)',
        'install jitsi-videobridge2; what comes with it is known once the lists are refreshed; removes nothing',
      ],
    );
    await applyAll(jvb1, changes);
    assert.equal(
      (await jvb1.exec(['dpkg-query', '-W', '-f', '${Version}', 'jitsi-videobridge2'])).stdout,
      STANDIN_VERSION.current,
    );
    const conf = (await jvb1.readFile('/etc/jitsi/videobridge/jvb.conf'))!;
    const shard = ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard'];
    const confDoc = new HoconDoc(conf);
    assert.equal(confDoc.get([...shard, 'PASSWORD']), LAB_SECRET, 'the preseeded secret was used');
    assert.equal(confDoc.get([...shard, 'DOMAIN']), `auth.${DOMAIN}`);
    assert.equal((await jvb1.stat('/etc/jitsi/videobridge/jvb.conf'))?.owner, 'jvb');
    assert.deepEqual(await planAptPackage(jvb1, pkg), [], 'installed: nothing more to do');
    assert.equal(
      (await jvb1.exec(['sh', '-c', 'test -x /usr/share/jitsi-videobridge/jvb.sh && echo yes'])).stdout.trim(),
      'yes',
    );
  });

  test("when apt already knows the package, the plan's install line is apt's own answer: versions, and nothing removed", async () => {
    const jvb2 = await connect('jvb2');
    await jvb2.exec([
      'sh',
      '-c',
      `echo "${LAB_PACKAGE.source!.line}" > ${LAB_PACKAGE.source!.file} && apt-get update -q >/dev/null 2>&1`,
    ]);
    const changes = await planAptPackage(jvb2, { ...LAB_PACKAGE, preseed: [] });
    assert.deepEqual(
      changes.map((c) => c.description),
      [`install jitsi-videobridge2 ${STANDIN_VERSION.current}; removes nothing`],
    );
  });

  test('the simulated bridge logs in and joins the brewery with a right config, and says not-authorized with a wrong one', async () => {
    const jvb1 = await connect('jvb1');
    const meet = await connect('meet');
    const shard = ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard'];
    const conf = '/etc/jitsi/videobridge/jvb.conf';
    const edit = (values: Record<string, string | boolean>) =>
      planFileEdit(jvb1, {
        path: conf,
        transform: (t) => setHocon(new HoconDoc(t ?? ''), shard, values, { ignoreCase: true }).text,
      });
    const c = await edit({ HOSTNAME: addr('meet'), DISABLE_CERTIFICATE_VERIFICATION: true, MUC_NICKNAME: 'lab-jvb1' });
    await applyAll(jvb1, c ? [c] : []);
    await waitForLog(jvb1, /'localhost:5222' failed because: java\.net\.ConnectException: Connection refused/); // started at install, with the package's config
    await jvb1.exec(['truncate', '-s', '0', '/var/log/jitsi/jvb.log']);
    await restartHandler('jitsi-videobridge2').run(jvb1, io);
    await waitForLog(jvb1, /Joined MUC: jvbbrewery@internal\.auth\.meet\.lab\.test\/lab-jvb1/);
    const sessions = (await meet.exec(['prosodyctl', 'shell', 'c2s:show()'])).stdout;
    assert.match(sessions, /jvb@auth\.meet\.lab\.test/);
    assert.equal(
      (
        await jvb1.exec([
          'sh',
          '-c',
          "node -e \"require('http').get('http://127.0.0.1:8080/about/health',r=>console.log(r.statusCode))\"",
        ])
      ).stdout.trim(),
      '200',
    );

    const bad = await edit({ PASSWORD: 'wrong-secret-123' });
    await applyAll(jvb1, bad ? [bad] : []);
    await jvb1.exec(['truncate', '-s', '0', '/var/log/jitsi/jvb.log']);
    await restartHandler('jitsi-videobridge2').run(jvb1, io);
    await waitForLog(
      jvb1,
      /Failed to login\. Disconnecting to trigger a re-connect\.\norg\.jivesoftware\.smack\.sasl\.SASLErrorException: SASLError using PLAIN: not-authorized/,
    );
  });

  test('bridges are reachable from each other only through the lab network, and all answer', async () => {
    assert.equal(lab.hosts.filter((h) => h.role === 'jvb').length, 3);
    const jvb3 = await connect('jvb3');
    assert.equal((await jvb3.exec(['hostname'])).stdout.trim(), 'jvb3');
  });

  test('down removes everything, and can be run twice', async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
    await labDown();
    await labDown();
    const ns = (await run('ip', ['netns', 'list'])).stdout;
    assert.doesNotMatch(ns, /jsl-/);
    assert.doesNotMatch((await run('ip', ['-o', 'link', 'show'])).stdout, /jsl-/);
    assert.equal(existsSync(LAB_DIR), false);
    for (const h of lab.hosts) assert.throws(() => process.kill(h.sshdPid, 0), 'sshd is gone');
    const leftover = (
      await run('sh', ['-c', 'ps -eo args | grep -E "sim-bridge|sshd_lab_config" | grep -v grep || true'])
    ).stdout.trim();
    assert.equal(leftover, '', 'no lab process left');
    assert.equal((await labStatus()).state, null);
  });
});

/** Waits for a line in the bridge's log; fails with the log's content when it does not come. */
describe('the lab, legacy era', { skip: why ?? false }, () => {
  let lab: LabState;
  let meet: Host;
  let jvb1: Host;
  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 1, era: 'legacy' });
    const ssh = (name: string) =>
      connectSsh(
        {
          name,
          address: lab.hosts.find((h) => h.name === name)!.address,
          port: 22,
          user: 'root',
          privateKeyPath: CLIENT_KEY,
          knownHostsFile: KNOWN_HOSTS,
          connectTimeoutMs: 10_000,
          keepaliveIntervalMs: 5000,
        },
        { enabled: false, user: 'root' },
        '/var/backups/jitsi-scale/lab-test',
      );
    [meet, jvb1] = await Promise.all([ssh('meet'), ssh('jvb1')]);
  });
  after(async () => {
    await Promise.all([meet?.close(), jvb1?.close()]);
    await labDown();
  });

  test('the meet host has the legacy layout: the secret in sip-communicator.properties, JVB_* in config', async () => {
    const props = (await meet.readFile('/etc/jitsi/videobridge/sip-communicator.properties'))!;
    assert.match(props, new RegExp(`^org\\.jitsi\\.videobridge\\.xmpp\\.user\\.shard\\.PASSWORD=${LAB_SECRET}$`, 'm'));
    assert.match((await meet.readFile('/etc/jitsi/videobridge/config'))!, /^JVB_PORT=5347$/m);
    const jvbConf = (await meet.readFile('/etc/jitsi/videobridge/jvb.conf'))!;
    assert.equal(new HoconDoc(jvbConf).get(['videobridge', 'websockets', 'enabled']), 'true');
    assert.equal(
      new HoconDoc(jvbConf).get(['videobridge', 'apis', 'xmpp-client', 'configs', 'shard', 'PASSWORD']),
      undefined,
      'no shard block in the legacy jvb.conf',
    );
  });

  test('the legacy stand-in package writes properties; the bridge joins once they point at the meet host', async () => {
    const pkg = LAB_PACKAGE;
    await applyAll(jvb1, await planAptPackage(jvb1, pkg));
    assert.equal(
      (await jvb1.exec(['dpkg-query', '-W', '-f', '${Version}', 'jitsi-videobridge2'])).stdout,
      STANDIN_VERSION.legacy,
    );
    const path = '/etc/jitsi/videobridge/sip-communicator.properties';
    const P = 'org.jitsi.videobridge.xmpp.user.shard.';
    const c = await planFileEdit(jvb1, {
      path,
      transform: (t) =>
        setProperties(t, {
          [`${P}HOSTNAME`]: lab.hosts.find((h) => h.name === 'meet')!.address,
          [`${P}DISABLE_CERTIFICATE_VERIFICATION`]: 'true',
          [`${P}MUC_NICKNAME`]: 'legacy-jvb1',
        }),
    });
    await applyAll(jvb1, c ? [c] : []);
    await jvb1.exec(['truncate', '-s', '0', '/var/log/jitsi/jvb.log']);
    await restartHandler('jitsi-videobridge2').run(jvb1, io);
    await waitForLog(jvb1, /using the legacy shard settings/);
    await waitForLog(jvb1, /Joined MUC: JvbBrewery@internal\.auth\.meet\.lab\.test\/legacy-jvb1/);
  });
});

async function waitForLog(host: Host, pattern: RegExp, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = (await host.readFile('/var/log/jitsi/jvb.log')) ?? '';
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${host.name}: no log line matching ${pattern} within ${timeoutMs} ms; the log says:\n${text}`);
}
