import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StatusDoc } from '../../playbooks/shard-status/shard-status.js';
import { LAB_DIR, LAB_SECRET, PUBLIC_PREFIX, type LabState } from './setup/lab-config.js';
import { inventory, jitsiScale, mark, touchedSince } from './setup/lab-runs.js';
import { labDown, labJicofo, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`status lab tests cannot run in CI: ${why}`);

describe('status on a real lab shard', { skip: why ?? false }, () => {
  let lab: LabState;
  const inv = join(LAB_DIR, 'test-inventory-status.yaml');
  const on = (name: string, script: string, args: string[] = []) =>
    inHost(lab.hosts.find((h) => h.name === name)!.sshdPid, script, args);
  const status = async (extra: string[] = []) => {
    const r = await jitsiScale(['status', '--json', '-i', inv, ...extra]);
    let doc: StatusDoc;
    try {
      doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as StatusDoc;
    } catch {
      assert.fail(`status printed no document:\n${r.stdout}`);
    }
    assert.equal(r.code, doc.exitCode, 'the exit code is the document’s');
    assert.ok(!r.stdout.includes(LAB_SECRET), 'no secret in the output');
    return { code: r.code, doc, out: r.stdout };
  };
  const bridge = (doc: StatusDoc, host: string) => doc.bridges.find((b) => b.host === host)!;
  const rules = async () =>
    Promise.all(
      lab.hosts.map(
        async (h) =>
          (await on(h.name, 'nft list ruleset 2>&1; iptables-save 2>/dev/null | grep -v "^#"; exit 0')).stdout,
      ),
    );

  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 2, era: 'current' });
    await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
    const setup = await jitsiScale(['--yes', '-i', inv]);
    assert.equal(setup.code, 0, setup.stdout.slice(-3000));
  });
  after(async () => {
    await labDown();
  });

  test('after setup: every bridge in the brewery under its nickname, healthy, same version, no drift; exit 0', async () => {
    const { code, doc } = await status();
    assert.equal(code, 0, doc.problems.join('\n'));
    assert.deepEqual(doc.problems, []);
    for (const b of doc.bridges) {
      assert.equal(b.inBrewery, true, b.host);
      assert.equal(b.health, 'healthy');
      assert.ok(b.nickname && b.nickname.length > 0);
      assert.equal(b.version, doc.meet.bridgeVersion, 'the bridge runs the meet host’s version');
      assert.equal(b.reportedVersion, '2.3-999-gjslab0', '/about/version answers');
      assert.deepEqual(b.drift, []);
      assert.equal(b.drain, false);
      assert.ok(b.loadFrom.includes('metrics') && b.loadFrom.includes('presence'), b.loadFrom.join());
      assert.equal(b.restApi, false, '/colibri/stats is off by default');
    }
    assert.match(doc.meet.prosody ?? '', /^\d/);
    assert.deepEqual(doc.strangers, []);
    const limited = await status(['--limit', 'jvb2']);
    assert.deepEqual(
      limited.doc.bridges.map((b) => b.host),
      ['jvb2'],
      '--limit picks the bridges shown',
    );
    assert.deepEqual(limited.doc.strangers, [], 'jvb1 still accounts for its occupant');
  });

  test('load and drain come from the bridge: conferences, endpoints, stress, drain as it reports them', async () => {
    await on(
      'jvb2',
      `curl -s -X POST -d '{"conferences":3,"endpoints":17}' http://127.0.0.1:8080/lab-standin/load >/dev/null && curl -s -X POST http://127.0.0.1:8080/colibri/drain/enable`,
    );
    const { code, doc } = await status();
    const b = bridge(doc, 'jvb2');
    assert.equal(b.conferences, 3);
    assert.equal(b.endpoints, 17);
    assert.equal(b.stress, 0.17);
    assert.equal(b.drain, true);
    assert.equal(code, 0, 'a draining bridge is a state, not a problem');
    const table = await jitsiScale(['status', '-i', inv]);
    assert.match(table.stdout, /^jvb2 +\S+ +yes +ok +10000 +\S+ +yes +0\.17 +3 +17 +- +none$/m);
    assert.ok(
      table.stdout.split('\n').every((l) => l.length <= 80),
      'the table fits 80 columns',
    );
    await on('jvb2', 'curl -s -X POST http://127.0.0.1:8080/colibri/drain/disable');
  });

  test('status writes nothing on any host: no file changed, firewall rules the same', async () => {
    const before = await rules();
    const m = await mark(lab, 'before-status');
    await status();
    await jitsiScale(['status', '-i', inv]);
    assert.deepEqual(await touchedSince(lab, m), []);
    assert.deepEqual(await rules(), before);
  });

  test('a stopped bridge is out of the brewery and has no health; exit 2, naming it', async () => {
    await on('jvb1', 'service jitsi-videobridge2 stop >/dev/null 2>&1; sleep 1');
    const { code, doc } = await status();
    assert.equal(code, 2);
    const b = bridge(doc, 'jvb1');
    assert.equal(b.inBrewery, false);
    assert.equal(b.health, 'no answer');
    assert.ok(
      doc.problems.some((p) => p.startsWith(`jvb1: not in the brewery as ${b.nickname}`)),
      doc.problems.join('\n'),
    );
    assert.equal(bridge(doc, 'jvb2').problems.length, 0, 'the other bridge is fine');
    await on('jvb1', 'service jitsi-videobridge2 start >/dev/null 2>&1');
  });

  test('a file edited by hand is drift, named with what setup would change, and the diff is in the document', async () => {
    await on(
      'jvb2',
      `sed -i 's/DISABLE_CERTIFICATE_VERIFICATION = true/DISABLE_CERTIFICATE_VERIFICATION = false/' /etc/jitsi/videobridge/jvb.conf`,
    );
    const { code, doc } = await status();
    assert.equal(code, 2);
    const drift = bridge(doc, 'jvb2').drift;
    assert.ok(
      drift.some((d) => /\/etc\/jitsi\/videobridge\/jvb\.conf/.test(d.description)),
      JSON.stringify(drift),
    );
    assert.ok(
      drift.some((d) => /DISABLE_CERTIFICATE_VERIFICATION/.test(d.diff ?? '')),
      'the diff names the key',
    );
    assert.ok(
      doc.problems.some((p) => /^jvb2: drift: .*jvb\.conf.*\(run jitsi-scale setup\)$/.test(p)),
      doc.problems.join('\n'),
    );
    assert.deepEqual(bridge(doc, 'jvb1').drift, []);
  });

  test('a brewery occupant no inventory host accounts for is listed (a bridge left out of the inventory)', async () => {
    await writeFile(inv, inventory(lab, ['jvb1']));
    const { code, doc } = await status();
    assert.equal(code, 2);
    assert.equal(doc.strangers.length, 1, JSON.stringify(doc.strangers));
    assert.ok(doc.problems.some((p) => /^brewery: .* is in the brewery, but no host of the inventory/.test(p)));
    await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
  });

  test('after setup again all is well; an unreachable bridge is exit 3', async () => {
    const setup = await jitsiScale(['--yes', '-i', inv]);
    assert.equal(setup.code, 0, setup.stdout.slice(-2000));
    assert.equal((await status()).code, 0);
    await writeFile(inv, inventory(lab, ['jvb1', 'jvb2'], { jvb2: 'ansible_port: 2' }));
    const { code, doc } = await status(['--connect-timeout', '3']);
    assert.equal(code, 3);
    assert.equal(bridge(doc, 'jvb2').reachable, false);
    assert.match(doc.problems.join('\n'), /^jvb2: unreachable: /m);
    await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
  });

  test('with the stand-in Jicofo on: its view per bridge; a failed health check is seen; off again: no Jicofo', async () => {
    await labJicofo(true);
    try {
      // verify, in setup, now asks Jicofo too.
      const setup = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(setup.code, 0, setup.stdout.slice(-2000));
      assert.match(setup.stdout, /Jicofo lists it as healthy and operational/);
      const { code, doc } = await status();
      assert.equal(code, 0, doc.problems.join('\n'));
      assert.match(doc.meet.jicofo.installed ?? '', /^1\.0-999-jslab0/);
      assert.equal(doc.meet.jicofo.answering, true);
      for (const b of doc.bridges)
        assert.deepEqual(b.jicofo, { listed: true, healthy: true, operational: true }, b.host);
      // Only private addresses: the bridge's health check fails, and Jicofo's over XMPP with it.
      await on(
        'jvb2',
        'for a in $(ip -o addr show dev eth0 | awk \'{print $4}\' | grep -v "^10\\."); do ip addr del "$a" dev eth0; done; service jitsi-videobridge2 restart >/dev/null 2>&1',
      );
      let seen: StatusDoc | null = null;
      for (let i = 0; i < 20 && !seen; i++) {
        const { doc: d } = await status();
        if (bridge(d, 'jvb2').jicofo?.healthy === false) seen = d;
        else await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(seen, 'Jicofo marked jvb2 unhealthy');
      assert.equal(bridge(seen, 'jvb2').health, 'unhealthy');
      assert.ok(seen.problems.includes('jvb2: Jicofo sees it as unhealthy'), seen.problems.join('\n'));
      assert.equal(bridge(seen, 'jvb1').jicofo?.operational, true);
      await on('meet', 'service jicofo stop >/dev/null 2>&1');
      const stopped = await status();
      assert.equal(stopped.code, 2);
      assert.match(
        stopped.doc.problems.join('\n'),
        /^meet: Jicofo is installed, but Jicofo's REST API \(127\.0\.0\.1:8888\) does not answer$/m,
      );
    } finally {
      await labJicofo(false);
      const n = lab.hosts
        .find((h) => h.name === 'jvb2')!
        .address.split('.')
        .pop()!;
      await on(
        'jvb2',
        `ip addr add ${PUBLIC_PREFIX}.${n}/32 dev eth0 2>/dev/null; service jitsi-videobridge2 restart >/dev/null 2>&1; sleep 1`,
      );
    }
    const off = await status();
    assert.equal(off.doc.meet.jicofo.installed, null);
    assert.ok(
      off.doc.bridges.every((b) => b.jicofo === null),
      'no Jicofo column without Jicofo',
    );
  });

  test('--watch --json: one document per look over the same connections; a hand edit shows up as drift on a later look', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'status', '--watch', '1', '--json', '-i', inv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const docs = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as StatusDoc);
    const waitFor = async (test: (d: StatusDoc[]) => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!test(docs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.ok(test(docs()), `${what}:\n${out.slice(-3000)}`);
    };
    await waitFor((d) => d.length >= 3, 'three looks');
    // inHost enters the host's namespace without SSH: the only SSH session is the watch's.
    const sessions = (await on('jvb1', "ss -Htn state established '( sport = :22 )' | wc -l")).stdout.trim();
    const seen = docs().length;
    await on(
      'jvb2',
      `sed -i 's/DISABLE_CERTIFICATE_VERIFICATION = true/DISABLE_CERTIFICATE_VERIFICATION = false/' /etc/jitsi/videobridge/jvb.conf`,
    );
    await waitFor(
      (d) => d.slice(seen).some((x) => bridge(x, 'jvb2').drift.length > 0),
      'drift on jvb2 in a later look',
    );
    await on(
      'jvb2',
      `sed -i 's/DISABLE_CERTIFICATE_VERIFICATION = false/DISABLE_CERTIFICATE_VERIFICATION = true/' /etc/jitsi/videobridge/jvb.conf`,
    );
    await waitFor((d) => bridge(d.at(-1)!, 'jvb2').drift.length === 0, 'the drift gone again once the edit is undone');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.ok(new Set(docs().map((d) => d.time)).size === docs().length, 'each look is new');
    assert.equal(code, 0, 'the last look’s exit code');
    assert.equal(sessions, '1', 'one SSH connection to the bridge across every look');
  });
});
