import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Finding } from '../../playbooks/shard-doctor/checks.js';
import { LAB_DIR, type LabState } from './setup/lab-config.js';
import { changed, inventory, jitsiScale } from './setup/lab-runs.js';
import { labDown, labUp } from './setup/lab.js';
import { natDown, natUp } from './setup/lab-nat.js';
import { inHost } from './setup/run.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`media lab tests cannot run in CI: ${why}`);

const JVB_CONF = '/etc/jitsi/videobridge/jvb.conf';
const PORT = 12000;

/** Sends one datagram to address:port from the outsider and prints what comes back (the TEST STAND-IN bridge echoes it). */
const PROBE = `python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"jitsi-scale media probe", (sys.argv[1], int(sys.argv[2])))
try:
    data, peer = s.recvfrom(200)
    print("echo", data.decode(), "from", peer[0])
except socket.timeout:
    print("no answer")
PY`;

describe(
  'media on a real lab shard: the port the bridge binds, and its address behind NAT',
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'test-inventory-media.yaml');
    const on = (name: string, script: string, args: string[] = []) =>
      inHost(lab.hosts.find((h) => h.name === name)!.sshdPid, script, args);
    const probe = async (address: string, port: number) =>
      (await on('outsider', PROBE, [address, String(port)])).stdout.trim();
    const write = (extra: Record<string, string> = {}) =>
      writeFile(inv, inventory(lab, ['jvb1'], extra, `    jitsi_media_port: ${PORT}\n    jitsi_firewall_boot: manual`));
    const doctorAddress = async (): Promise<Finding> => {
      const r = await jitsiScale(['doctor', '--json', '-i', inv]);
      const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1)) as {
        findings: Finding[];
      };
      return doc.findings.find((f) => f.host === 'jvb1' && f.check === 'valid-address')!;
    };

    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 1, era: 'current' });
    });
    after(async () => {
      await natDown();
      await labDown();
    });

    test('a non-default media port is written to jvb.conf, verified, shown by status, and carries the media probe', async () => {
      await write();
      const setup = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(setup.code, 0, setup.stdout.slice(-3000));
      assert.match(setup.stdout, new RegExp(`listens for media on UDP ${PORT}`));
      assert.match((await on('jvb1', `cat ${JVB_CONF}`)).stdout, new RegExp(`udp \\{\\n\\s+port = ${PORT}\\n`));
      const address = lab.hosts.find((h) => h.name === 'jvb1')!.address;
      assert.equal(await probe(address, PORT), `echo jitsi-scale media probe from ${address}`);
      assert.equal(await probe(address, 10000), 'no answer', 'nothing answers on the old port');
      const status = await jitsiScale(['status', '--json', '-i', inv]);
      const doc = JSON.parse(status.stdout.slice(status.stdout.indexOf('{'), status.stdout.lastIndexOf('}') + 1)) as {
        bridges: { host: string; mediaPort: number; mediaListening: boolean }[];
      };
      assert.deepEqual(
        doc.bridges.map((b) => [b.host, b.mediaPort, b.mediaListening]),
        [['jvb1', PORT, true]],
      );
      const again = await jitsiScale(['--yes', '--json', '-i', inv]);
      assert.equal(again.code, 0);
      assert.deepEqual(changed(again), [], 'a second run changes nothing');
    });

    test('behind a lab NAT: the plan says what it will advertise; with jitsi_public_address it advertises that, doctor passes, media flows', async () => {
      const nat = await natUp(lab, 'jvb1');
      await on('jvb1', 'service jitsi-videobridge2 restart >/dev/null 2>&1; sleep 1.5');
      const check = await jitsiScale(['--check', '-i', inv]);
      assert.match(
        check.stdout.replace(/\s+/g, ' '),
        new RegExp(
          `jvb1 has only private addresses \\(${nat.private.replace(/\./g, '\\.')}\\): it will advertise the public address STUN \\(meet-jit-si-turnrelay\\.jitsi\\.net:443\\) discovers.*set jitsi_public_address`,
        ),
      );
      // The lab reaches no STUN server: without a mapping the bridge has nothing to offer, and doctor says so.
      const before = await doctorAddress();
      assert.equal(before.ok, false, JSON.stringify(before));
      assert.match(before.fix!, /jitsi_public_address/);

      await write({ jvb1: `jitsi_public_address: ${nat.public}` });
      const plan = await jitsiScale(['--check', '-i', inv]);
      assert.match(
        plan.stdout.replace(/\s+/g, ' '),
        new RegExp(`NAT: the bridge advertises ${nat.public} for its address ${nat.private}`),
      );
      const setup = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(setup.code, 0, setup.stdout.slice(-3000));
      const logged = (await on('jvb1', "grep 'advertised candidates' /var/log/jitsi/jvb.log | tail -n 1")).stdout;
      assert.match(
        logged,
        new RegExp(`mapped ${nat.public}:${PORT}`),
        'the TEST STAND-IN bridge advertises its public address',
      );
      const after = await doctorAddress();
      assert.equal(after.ok, true, JSON.stringify(after));
      assert.match(after.text, new RegExp(`${nat.public} \\(static mapping of ${nat.private}\\)`));
      assert.equal(
        await probe(nat.public, PORT),
        `echo jitsi-scale media probe from ${nat.public}`,
        'media through the NAT',
      );
    });
  },
);
