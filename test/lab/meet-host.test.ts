import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LAB_DIR, type LabState } from './setup/lab-config.js';
import { inventory } from './setup/lab-runs.js';
import { labDown, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';
import { sshTo } from './setup/provision-meet.js';
import { META_STANDIN_VERSION, PAIRED_BRIDGE_VERSION } from './standin-jitsi-meet/build-package.js';
import { JICOFO_STANDIN_VERSION } from './standin-jicofo/build-package.js';
import { STANDIN_VERSION } from './standin-jvb/build-package.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`meet host lab tests cannot run in CI: ${why}`);

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** A TCP connection from a lab host to address:port, as "open" or "closed". */
const TCP = `timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' 2>/dev/null && echo open || echo closed`;

/*
 * The handbook's layout, and the tool run where many operators run it: on the Jitsi server itself.
 * The lab's meet host has no bridge of its own (Jicofo's stand-in, Prosody on loopback only, the
 * lab's Jitsi repository with an older bridge that the stand-in jitsi-meet release pairs with
 * Jicofo), and jitsi-scale runs inside it with `ansible_connection: local` for it, its firewall
 * step skipped (jitsi_firewall: none).
 */
describe('the meet host without a bridge, with jitsi-scale run on it', { skip: why ?? false }, () => {
  let lab: LabState;
  const inv = join(LAB_DIR, 'test-inventory-on-meet.yaml');
  const host = (name: string) => lab.hosts.find((h) => h.name === name)!;
  const on = (name: string, script: string, args: string[] = []) => inHost(host(name).sshdPid, script, args);
  /** jitsi-scale run inside the meet host, through its own sshd, as an operator logged in there would. */
  const onMeet = async (args: string[]) => {
    const r = await sshTo(host('meet').address, [process.execPath, CLI, ...args]);
    return { code: r.code, out: r.stdout + r.stderr };
  };
  /** The lab inventory, its meet host reached with ansible_connection: local, the firewall step skipped. */
  const inventoryOnMeet = (meetVars = '') =>
    inventory(
      lab,
      lab.hosts.filter((h) => h.role === 'jvb').map((h) => h.name),
      {},
      '    jitsi_firewall: none',
    ).replace(/^( {8}meet: )\{.*\}$/m, `$1{ ansible_connection: local${meetVars} }`);

  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 2, era: 'current', meetBridge: false, c2sLoopback: true });
    // The meet host's public address, reachable from the outsider as from the Internet.
    await on('outsider', 'ip route add 198.51.100.10/32 dev eth0 src "$1"', [host('outsider').address]);
  });
  after(async () => {
    await labDown();
  });

  test('a loopback private_address for the meet host is refused, naming it, before anything is written', async () => {
    await writeFile(inv, inventoryOnMeet(', private_address: 127.0.0.1'));
    const r = await onMeet(['--yes', '-i', inv]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /private_address of meet is 127\.0\.0\.1, a loopback address/);
    const bridge = await on('jvb1', "dpkg-query -W -f '${Status}' jitsi-videobridge2 2>/dev/null; exit 0");
    assert.doesNotMatch(bridge.stdout, /installed/, 'nothing was installed');
  });

  test('setup run on the meet host: the bridges get its lab address and the version its release pairs with', async () => {
    await writeFile(inv, inventoryOnMeet());
    const r = await onMeet(['--yes', '-i', inv]);
    assert.equal(r.code, 0, r.out.slice(-3000));
    assert.match(r.out, /bridges log in on 10\.77\.0\.10:5222 \(the source of meet's route towards its bridges\)/);
    assert.match(
      r.out,
      new RegExp(
        `install-bridge: note: version ${PAIRED_BRIDGE_VERSION.current}, pinned by Jicofo ${JICOFO_STANDIN_VERSION} on the meet host is of the release jitsi-meet ${META_STANDIN_VERSION}`,
      ),
    );
    assert.match(r.out, /^\[jvb1\] verify: ok$/m);
    assert.match(r.out, /^\[jvb2\] verify: ok$/m);
    for (const b of ['jvb1', 'jvb2']) {
      const v = await on(b, "dpkg-query -W -f '${Version}' jitsi-videobridge2");
      assert.equal(v.stdout, PAIRED_BRIDGE_VERSION.current, `${b} runs the paired version, not the newest`);
      assert.notEqual(v.stdout, STANDIN_VERSION.current);
      const conf = (await on(b, 'cat /etc/jitsi/videobridge/jvb.conf')).stdout;
      assert.match(conf, /HOSTNAME\s*=\s*"?10\.77\.0\.10"?/);
      assert.doesNotMatch(conf, /127\.0\.0\.1|localhost/, `no loopback address in ${b}'s jvb.conf`);
    }
  });

  test('c2s listens on loopback and the private address only, firewall step skipped', async () => {
    const listening = (await on('meet', "ss -ltnH 'sport = :5222' | awk '{ print $4 }' | sort")).stdout.trim();
    assert.deepEqual(listening.split('\n').sort(), ['10.77.0.10:5222', '127.0.0.1:5222', '[::1]:5222'].sort());
    const cfg = (await on('meet', 'head -n 2 /etc/prosody/prosody.cfg.lua')).stdout.split('\n');
    assert.deepEqual(cfg.slice(0, 2), [
      'c2s_interfaces = { "127.0.0.1", "::1", "10.77.0.10" }',
      '-- c2s_interfaces = { "127.0.0.1" } (disabled by jitsi-scale)',
    ]);
  });

  // The control (a listener on every interface, reached from the outsider at the public address)
  // fails in the lab as built: the outsider's path to 198.51.100.10 is not proven, so a refusal
  // there would prove nothing yet.
  test(
    'an outsider at the public address is refused on 5222',
    { todo: "the outsider's route to the meet host's public address is not proven yet" },
    async () => {
      await on(
        'meet',
        `timeout 20 ${process.execPath} -e "require('net').createServer((s) => s.end()).listen(5999, '0.0.0.0')" >/dev/null 2>&1 &`,
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await on('outsider', TCP, ['198.51.100.10', '5999'])).stdout.trim(), 'open');
      assert.equal((await on('outsider', TCP, ['198.51.100.10', '5222'])).stdout.trim(), 'closed');
    },
  );

  test('a second run on the meet host changes nothing', async () => {
    const r = await onMeet(['--yes', '--json', '-i', inv]);
    assert.equal(r.code, 0, r.out.slice(-3000));
    const changes = r.out
      .split('\n')
      .filter((l) => l.startsWith('{"'))
      .map((l) => JSON.parse(l) as { type: string; host?: string; description?: string })
      .filter((e) => e.type === 'task:changed' || e.type === 'handler:run');
    assert.deepEqual(changes, []);
  });
});
