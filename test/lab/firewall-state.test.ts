import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDebianPackages } from '../support/debian-packages.js';
import { canConnect } from '../support/tcp-probe.js';
import { LAB_DIR, type LabHost, type LabState } from './setup/lab-config.js';
import { labDown, labUp } from './setup/lab.js';
import { inventory, jitsiScale, type Run } from './setup/lab-runs.js';
import { REBOOT_FIREWALL } from './setup/profiles.js';
import { inHost } from './setup/run.js';

/*
 * What the firewall step leaves in the kernel, and what it claims about boot, on real hosts:
 * - a look (facts, status, doctor, --check) leaves every host's ruleset byte for byte as it was,
 *   and a setup adds our own tables and nothing else (no empty iptables tables);
 * - on a host without systemd, nothing loads nftables' rules at boot: the step says so and
 *   Prosody is not opened wider, until the user says they load the rules themselves
 *   (jitsi_firewall_boot: manual); ufw, whose init script starts at boot there, protects.
 */

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`firewall state lab tests cannot run in CI: ${why}`);
if (!why) await ensureDebianPackages({ '/usr/sbin/nft': 'nftables' });

const hostOf = (lab: LabState, name: string): LabHost => lab.hosts.find((h) => h.name === name)!;

/** The host's whole ruleset, read from outside it (this machine's nft in its network namespace). */
function ruleset(lab: LabState, name: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('ip', ['netns', 'exec', hostOf(lab, name).ns, 'nft', 'list', 'ruleset'], (e, out) =>
      e ? reject(new Error(e.message)) : resolve(out),
    ),
  );
}

const tables = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('table '))
    .map((l) => l.replace(/ \{$/, ''));
const assertOk = (r: Run) => assert.equal(r.code, 0, r.stdout.slice(-3000));
const notes = (r: Run, step: string, host: string) =>
  r.events.flatMap((e) => (e.type === 'step:planned' && e.step === step && e.host === host ? e.notes : []));
const skipOf = (r: Run, step: string, host: string) =>
  r.events.flatMap((e) => (e.type === 'step:planned' && e.step === step && e.host === host && e.skip ? [e.skip] : []));

async function outsiderReaches(lab: LabState): Promise<boolean> {
  const meet = hostOf(lab, 'meet');
  const outsider = hostOf(lab, 'outsider');
  return canConnect(outsider.ns, outsider.address, meet.address, 5222);
}

describe(
  'a look leaves the kernel as it was; a setup adds only our tables (ufw installed, inactive)',
  { skip: why ?? false },
  () => {
    let lab: LabState;
    const inv = join(LAB_DIR, 'state-ufw-inactive.yaml');
    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 1, era: 'current', profile: 'ufw-inactive' });
      await writeFile(inv, inventory(lab, ['jvb1']));
    });
    after(async () => {
      await labDown();
    });

    const looks: [string, string[]][] = [
      ['facts', ['facts', '-i']],
      ['status', ['status', '-i']],
      ['doctor', ['doctor', '-i']],
      ['--check --diff', ['--check', '--diff', '--plain', '-i']],
    ];

    async function eachLookLeaves(expected: Map<string, string>): Promise<void> {
      for (const [name, args] of looks) {
        await jitsiScale([...args, inv]);
        for (const h of ['meet', 'jvb1'])
          assert.equal(await ruleset(lab, h), expected.get(h), `${name} left ${h}'s ruleset byte for byte as it was`);
      }
    }

    test('facts, status, doctor and --check change no rule, no table, no chain on any host', async () => {
      const before = new Map([
        ['meet', await ruleset(lab, 'meet')],
        ['jvb1', await ruleset(lab, 'jvb1')],
      ]);
      assert.deepEqual(tables(before.get('meet')!), [], 'a host with iptables-nft and no rules has no table at all');
      await eachLookLeaves(before);
    });

    test('setup adds our own tables and nothing else; looks after it change nothing either', async () => {
      assertOk(await jitsiScale(['--yes', '--json', '-i', inv]));
      assert.deepEqual(tables(await ruleset(lab, 'meet')), ['table inet jitsi_scale_tcp_5222']);
      assert.deepEqual(tables(await ruleset(lab, 'jvb1')), ['table inet jitsi_scale_udp_10000']);
      await eachLookLeaves(
        new Map([
          ['meet', await ruleset(lab, 'meet')],
          ['jvb1', await ruleset(lab, 'jvb1')],
        ]),
      );
    });
  },
);

describe('a rule that is not loaded at boot does not protect (hosts without systemd)', { skip: why ?? false }, () => {
  let lab: LabState;
  const inv = join(LAB_DIR, 'state-boot.yaml');
  // Whether Prosody's c2s port listens on loopback and nowhere else (the bind step now opens it on
  // the meet host's private address, not on every interface).
  const c2sLoopbackOnly = async () => {
    const listening = (await inHost(hostOf(lab, 'meet').sshdPid, 'ss -Hltn')).stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[3] ?? '')
      .filter((a) => a.endsWith(':5222'));
    return listening.includes('127.0.0.1:5222') && listening.every((a) => a === '127.0.0.1:5222' || a === '[::1]:5222');
  };

  after(async () => {
    await labDown();
  });

  test('nftables: the rule goes in live, the step says nothing loads it at boot, Prosody stays on loopback', async () => {
    await labDown();
    lab = await labUp({ bridges: 1, era: 'current', profile: 'debian-nft', c2sLoopback: true });
    await writeFile(inv, inventory(lab, ['jvb1']));
    const r = await jitsiScale(['--yes', '--json', '-i', inv]);
    assert.equal(r.code, 2, 'the bridge cannot be proved: Prosody was kept on loopback');
    assert.ok(
      notes(r, 'firewall', 'meet').some((n) =>
        /the rule does not keep the port closed for good: nothing on this host loads \/etc\/nftables\.conf at boot \(no systemd, and no \/etc\/init\.d\/nftables\)/.test(
          n,
        ),
      ),
      notes(r, 'firewall', 'meet').join('\n'),
    );
    assert.match(
      skipOf(r, 'bind-prosody', 'meet').join('\n'),
      /^Prosody stays where it listens now: the firewall's rule would not keep the port closed for good: nothing on this host loads/,
    );
    assert.ok(await c2sLoopbackOnly(), 'c2s still listens on loopback only');
    assert.deepEqual(tables(await ruleset(lab, 'meet')), ['table inet jitsi_scale_tcp_5222'], 'the rule is live');
    // --check says the same before anything is done
    const check = await jitsiScale(['--check', '--json', '-i', inv]);
    assert.match(skipOf(check, 'bind-prosody', 'meet').join('\n'), /^Prosody stays where it listens now/);
  });

  test('with jitsi_firewall_boot: manual the user loads the rules at boot: Prosody is opened to the bridges, and only to them', async () => {
    await writeFile(inv, inventory(lab, ['jvb1'], { meet: 'jitsi_firewall_boot: manual' }));
    const r = await jitsiScale(['--yes', '--json', '-i', inv]);
    assertOk(r);
    assert.ok(
      notes(r, 'firewall', 'meet').some((n) =>
        /jitsi_firewall_boot is manual, so loading \/etc\/nftables\.conf at boot is up to you/.test(n),
      ),
      notes(r, 'firewall', 'meet').join('\n'),
    );
    assert.equal(await c2sLoopbackOnly(), false, 'c2s listens beyond loopback now');
    assert.equal(await outsiderReaches(lab), false, 'the outsider is refused');
  });

  test('ufw, whose init script is started at boot there: the rule protects, Prosody is opened, and the boot brings the rule back', async () => {
    await labDown();
    lab = await labUp({ bridges: 1, era: 'current', profile: 'ubuntu-ufw', c2sLoopback: true });
    await writeFile(inv, inventory(lab, ['jvb1']));
    const r = await jitsiScale(['--yes', '--json', '-i', inv]);
    assertOk(r);
    assert.deepEqual(skipOf(r, 'bind-prosody', 'meet'), []);
    assert.equal(await c2sLoopbackOnly(), false, 'c2s listens beyond loopback now');
    assert.equal(await outsiderReaches(lab), false, 'the outsider is refused');
    await inHost(hostOf(lab, 'meet').sshdPid, REBOOT_FIREWALL);
    assert.equal(await outsiderReaches(lab), false, 'after the boot of a host without systemd, still refused');
    const jvb1 = hostOf(lab, 'jvb1');
    assert.equal(await canConnect(jvb1.ns, jvb1.address, hostOf(lab, 'meet').address, 5222), true, 'jvb1 is let in');
  });
});
