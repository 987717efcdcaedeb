import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunEvent } from '../../src/engine/events.js';
import {
  DOMAIN,
  LAB_DIR,
  LAB_SECRET,
  PROFILE_RELEASE,
  type Era,
  type LabState,
  type Profile,
} from './setup/lab-config.js';
import { changed, inventory, jitsiScale, mark, planned, touchedSince, type Run } from './setup/lab-runs.js';
import { labDown, labUp } from './setup/lab.js';
import { inHost } from './setup/run.js';
import { canConnect } from '../support/tcp-probe.js';
import { breweryMembers } from './setup/lab-probes.js';

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`playbook lab tests cannot run in CI: ${why}`);

/** The hosts' shapes a scenario runs on: this machine's Debian 12 by default, or other profiles. */
interface Shape {
  label: string;
  profile?: Profile;
  profiles?: Record<string, Profile>;
}

function runScenario(era: Era, shape: Shape = { label: '' }): void {
  describe(`jitsi-load-balancing on a fresh ${era}-era lab${shape.label}`, { skip: why ?? false }, () => {
    let lab: LabState;
    const inv = join(LAB_DIR, `test-inventory-${era}.yaml`);
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const r = await jitsiScale(args);
      outputs.push(r.stdout);
      return r;
    };

    before(async () => {
      await labDown();
      lab = await labUp({
        bridges: 3,
        era,
        ...(shape.profile ? { profile: shape.profile } : {}),
        ...(shape.profiles ? { profiles: shape.profiles } : {}),
      });
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
    });
    after(async () => {
      await labDown();
    });

    let checkRun: Run;
    test('--check writes nothing and exits 0', async () => {
      const m = await mark(lab, 'before-check');
      checkRun = await run(['--check', '--json', '-i', inv]);
      assert.equal(checkRun.code, 0, checkRun.stdout.slice(-2000));
      assert.deepEqual(await touchedSince(lab, m), []);
      assert.ok(planned(checkRun).length > 10);
    });

    test('--yes sets the shard up: both bridges in the brewery, 5222 open to them and closed to the outsider, exit 0', async () => {
      const r = await run(['--yes', '--json', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-3000));
      assert.deepEqual(changed(r), planned(checkRun), '--check listed exactly the changes the real run made');
      const members = await breweryMembers(lab);
      const nickOf = async (bridge: string) => {
        const h = lab.hosts.find((x) => x.name === bridge)!;
        const file =
          era === 'current' ? '/etc/jitsi/videobridge/jvb.conf' : '/etc/jitsi/videobridge/sip-communicator.properties';
        return /MUC_NICKNAME\s*=\s*"?([^"\s]+)/.exec((await inHost(h.sshdPid, 'cat "$1"', [file])).stdout)![1]!;
      };
      for (const b of ['jvb1', 'jvb2'])
        assert.ok(
          members.includes(`jvbbrewery@internal.auth.${DOMAIN}/${await nickOf(b)}`),
          `${b} in ${members.join(', ')}`,
        );
      assert.equal(members.length, 3, "the two bridges and the meet host's own");
      const addr = (n: string) => lab.hosts.find((h) => h.name === n)!.address;
      assert.equal(await canConnect('jsl-jvb1', addr('jvb1'), addr('meet'), 5222), true);
      assert.equal(await canConnect('jsl-jvb2', addr('jvb2'), addr('meet'), 5222), true);
      assert.equal(await canConnect('jsl-outsider', addr('outsider'), addr('meet'), 5222), false);
    });

    test('facts, the second playbook on the same engine: every host as read, the bridges now installed; nothing written', async () => {
      const m = await mark(lab, 'before-facts');
      const table = await run(['facts', '-i', inv]);
      assert.equal(table.code, 0, table.stdout);
      const rows = table.stdout.trim().split('\n');
      assert.match(rows[0]!, /^HOST +ROLE +ADDRESS +OS +INIT +FIREWALL +PROSODY +JICOFO +JVB$/);
      const addr = (n: string) => lab.hosts.find((h) => h.name === n)!.address;
      for (const [i, h] of ['meet', 'jvb1', 'jvb2'].entries())
        assert.match(rows[i + 1]!, new RegExp(`^${h} +${h === 'meet' ? 'meet' : 'jvb '} +${addr(h)} +Debian`));
      // each host runs the release its profile says (Debian 13's own Prosody 13 on a trixie meet host)
      const trixie = (h: string) => !!PROFILE_RELEASE[lab.hosts.find((x) => x.name === h)!.profile];
      for (const [i, h] of ['meet', 'jvb1', 'jvb2'].entries())
        assert.match(
          rows[i + 1]!,
          trixie(h) ? /Debian GNU\/Linux 13 \(trixie\)/ : /Debian GNU\/Linux 12 \(bookworm\)/,
          h,
        );
      const doc = JSON.parse((await run(['facts', '--json', '-i', inv])).stdout) as {
        hosts: { host: string; packages: Record<string, string>; firewall: string }[];
      };
      assert.deepEqual(
        doc.hosts.map((h) => [h.host, typeof h.packages['jitsi-videobridge2']]),
        [
          ['meet', 'string'],
          ['jvb1', 'string'],
          ['jvb2', 'string'],
        ],
        'setup installed the bridge on jvb1 and jvb2',
      );
      const meetProsody = doc.hosts.find((h) => h.host === 'meet')!.packages.prosody ?? '';
      assert.match(meetProsody, trixie('meet') ? /^13\./ : /^0\.12\./, `the meet host's prosody ${meetProsody}`);
      assert.deepEqual(await touchedSince(lab, m), [], 'facts writes nothing');
    });

    test('a second run changes nothing and touches no file', async () => {
      const m = await mark(lab, 'before-second');
      const r = await run(['--yes', '--json', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-2000));
      assert.deepEqual(changed(r), []);
      const done = r.events.find((e): e is Extract<RunEvent, { type: 'run:done' }> => e.type === 'run:done')!;
      assert.deepEqual(
        done.hosts.map((h) => [h.host, h.status, h.changed]),
        [
          ['meet', 'ok', 0],
          ['jvb1', 'ok', 0],
          ['jvb2', 'ok', 0],
        ],
      );
      assert.deepEqual(await touchedSince(lab, m), []);
    });

    test("adding a third bridge changes only that bridge and the meet host's firewall", async () => {
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2', 'jvb3']));
      const r = await run(['--yes', '--json', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-2000));
      const touched = changed(r);
      assert.ok(touched.some((c) => c.startsWith('jvb3 install-bridge')));
      assert.deepEqual(
        touched.filter((c) => !c.startsWith('jvb3 ')).map((c) => c.split(':')[0]),
        touched.filter((c) => c.startsWith('meet firewall')).map((c) => c.split(':')[0]),
      );
      assert.ok(
        touched.some((c) => c.startsWith('meet firewall')),
        'the meet host opens 5222 to the new bridge',
      );
      assert.equal((await breweryMembers(lab)).length, 4);
    });

    test('a wrong secret on one bridge is found in verification and named; the others are fine; exit 2', async () => {
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2', 'jvb3'], { jvb2: 'jitsi_jvb_secret: Wrong-Secret-0000' }));
      const r = await run(['--yes', '--json', '-i', inv]);
      assert.equal(r.code, 2);
      const done = r.events.find((e): e is Extract<RunEvent, { type: 'run:done' }> => e.type === 'run:done')!;
      const byHost = Object.fromEntries(done.hosts.map((h) => [h.host, h]));
      assert.equal(byHost.jvb2!.status, 'failed');
      assert.match(byHost.jvb2!.error!, /^Prove each bridge is in the shard: not in the brewery as .*not-authorized/);
      assert.equal(byHost.jvb1!.status, 'ok');
      assert.equal(byHost.jvb3!.status, 'ok');
      const plain = await run(['--yes', '-i', inv]);
      assert.match(
        plain.stdout,
        /^\[jvb2\] verify: failed: not in the brewery as .+; \/about\/health answers 500 — the bridge's log says: org\.jivesoftware\.smack\.sasl\.SASLErrorException: SASLError using PLAIN: not-authorized$/m,
      );
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2', 'jvb3']));
      assert.equal((await run(['--yes', '-i', inv])).code, 0, 'the right secret again heals it');
    });

    test('no secret appears in any output, plain or JSON', () => {
      const all = outputs.join('\n');
      assert.ok(all.length > 1000);
      assert.ok(!all.includes(LAB_SECRET), 'the shard secret leaked');
      assert.ok(!all.includes('Wrong-Secret-0000'), 'an inventory secret leaked');
      assert.ok(all.includes('********'), 'diffs show secrets masked');
    });
  });
}

runScenario('current');
runScenario('legacy');
// Debian 13 (trixie, Prosody 13) hosts from trixie's own root filesystem: every host, then a
// Debian 13 meet host with Debian 12 bridges.
runScenario('current', { label: ', every host Debian 13', profile: 'trixie' });
runScenario('current', { label: ', a Debian 13 meet host with Debian 12 bridges', profiles: { meet: 'trixie' } });

describe(
  'a meet host whose Prosody listens on loopback only; the per-start nickname policy',
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'test-inventory-per-start.yaml');
    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 1, era: 'current' });
      // The lab's hosts have no systemd: nothing of theirs loads nftables at boot, so the inventory
      // says the user does, or Prosody would (rightly) stay on loopback (test/lab/firewall-state).
      await writeFile(
        inv,
        inventory(lab, ['jvb1'], {}, '    jitsi_nickname_policy: per-start\n    jitsi_firewall_boot: manual'),
      );
      const meet = lab.hosts.find((h) => h.role === 'meet')!;
      await inHost(
        meet.sshdPid,
        'sed -i \'1i c2s_interfaces = { "127.0.0.1" }\' /etc/prosody/prosody.cfg.lua && service prosody restart >/dev/null',
      );
    });

    test('c2s is opened to loopback and the private address, the config validated, Prosody restarted; the bridge joins', async () => {
      const r = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(r.code, 0, r.stdout.slice(-3000));
      assert.match(
        r.stdout,
        /^\[meet\] bind-prosody: note: c2s_interfaces = \{ "127\.0\.0\.1" \} \(\/etc\/prosody\/prosody\.cfg\.lua line 1\) keeps the bridges out; it becomes \{ "127\.0\.0\.1", "::1", "10\.77\.0\.10" \} \(loopback and 10\.77\.0\.10\)$/m,
      );
      assert.match(r.stdout, /^\[meet\] restart: restart prosody$/m);
      assert.match(r.stdout, /^\[jvb1\] verify: ok$/m);
      const meet = lab.hosts.find((h) => h.role === 'meet')!;
      const cfg = (await inHost(meet.sshdPid, 'cat /etc/prosody/prosody.cfg.lua')).stdout;
      assert.deepEqual(cfg.split('\n').slice(0, 2), [
        'c2s_interfaces = { "127.0.0.1", "::1", "10.77.0.10" }',
        '-- c2s_interfaces = { "127.0.0.1" } (disabled by jitsi-scale)',
      ]);
    });
    after(async () => {
      await labDown();
    });

    test('the launcher is patched once; each start brings a new nickname into the brewery; stable takes the line out', async () => {
      const first = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(first.code, 0, first.stdout.slice(-2000));
      const jvb1 = lab.hosts.find((h) => h.name === 'jvb1')!;
      const launcher = (await inHost(jvb1.sshdPid, 'cat /usr/share/jitsi-videobridge/jvb.sh')).stdout;
      assert.equal(launcher.split('\n')[0], '#!/bin/bash');
      assert.match(
        launcher.split('\n')[1]!,
        /^sed -i .* \/etc\/jitsi\/videobridge\/jvb\.conf # jitsi-scale: fresh MUC nickname at every start/,
      );
      const nick = async () =>
        /MUC_NICKNAME\s*=\s*"?([^"\s]+)/.exec(
          (await inHost(jvb1.sshdPid, 'cat /etc/jitsi/videobridge/jvb.conf')).stdout,
        )![1]!;
      const before = await nick();
      await inHost(jvb1.sshdPid, 'service jitsi-videobridge2 restart >/dev/null');
      // The launcher runs in the background after the init script returns: wait for its new name.
      let afterRestart = await nick();
      for (let i = 0; i < 50 && afterRestart === before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        afterRestart = await nick();
      }
      assert.notEqual(afterRestart, before);
      const second = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(second.code, 0, second.stdout.slice(-2000));
      assert.match(second.stdout, /^\[jvb1\] verify: ok$/m);
      assert.doesNotMatch(second.stdout, /patch-jvb-sh: done/);

      // A package upgrade puts the launcher back as shipped; the next run patches it again.
      await inHost(
        jvb1.sshdPid,
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall jitsi-videobridge2 >/dev/null 2>&1',
      );
      assert.doesNotMatch(
        (await inHost(jvb1.sshdPid, 'cat /usr/share/jitsi-videobridge/jvb.sh')).stdout,
        /fresh MUC nickname/,
      );
      const third = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(third.code, 0, third.stdout.slice(-2000));
      assert.match(
        third.stdout,
        /patch-jvb-sh: done: give the bridge a fresh nickname at each start in \/usr\/share\/jitsi-videobridge\/jvb\.sh/,
      );

      await writeFile(inv, inventory(lab, ['jvb1']));
      const stable = await jitsiScale(['--yes', '-i', inv]);
      assert.equal(stable.code, 0, stable.stdout.slice(-2000));
      assert.match(
        stable.stdout,
        /patch-jvb-sh: done: remove the per-start nickname line from \/usr\/share\/jitsi-videobridge\/jvb\.sh/,
      );
      assert.doesNotMatch(
        (await inHost(jvb1.sshdPid, 'cat /usr/share/jitsi-videobridge/jvb.sh')).stdout,
        /fresh MUC nickname/,
      );
    });
  },
);
