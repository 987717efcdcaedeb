import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DOMAIN, LAB_DIR, PROFILES, type LabHost, type LabState, type Profile } from './setup/lab-config.js';
import { labDown, labReboot, labUp } from './setup/lab.js';
import { breweryMembers } from './setup/lab-probes.js';
import { changed, inventory, jitsiScale, planned, type Run } from './setup/lab-runs.js';
import { FIREWALL_SNAPSHOT, PROFILE_DOCS, foreignRules } from './setup/profiles.js';
import { inHost } from './setup/run.js';
import { canConnect, knockUntilStopped } from '../support/tcp-probe.js';

/*
 * The whole playbook on every host shape the lab can make (HOSTS.md): each profile is a fresh lab
 * whose meet host and bridges are all of that shape, booted with systemd as real servers are, set
 * up with one bridge, then a second, then really rebooted. (The systemd profile is debian-nft so
 * booted, which the debian-nft scenario is now.)
 */

const why = process.getuid?.() === 0 ? null : 'the lab needs root';
if (why && process.env.CI) throw new Error(`profile lab tests cannot run in CI: ${why}`);

const OUR_PORTS = ['5222/tcp', '10000/udp'];

/**
 * Rules of the user's that admit 5222 in every form each firewall has, made on the meet host before
 * the first run, as a messy real server has them: our rules must take effect before all of them.
 */
const HOSTILE: Partial<Record<Profile, string>> = {
  'ubuntu-ufw': `
mkdir -p /etc/ufw/applications.d
printf '[Prosody-lab]\ntitle=XMPP\ndescription=Prosody of the lab\nports=5222,5269/tcp\n' > /etc/ufw/applications.d/prosody-lab
ufw limit 5222/tcp
ufw insert 1 allow 5000:6000/tcp
ufw insert 1 allow proto tcp to any port 5222,5269
ufw insert 1 allow in on eth0 to any port 5222 proto tcp
ufw insert 1 allow Prosody-lab
ufw insert 1 allow from 10.77.0.0/24 to any port 5222`,
  firewalld: `
firewall-cmd --permanent --zone=public --add-service=xmpp-client
firewall-cmd --permanent --zone=public --add-port=5000-6000/tcp
firewall-cmd --permanent --new-service=jabber-lab
firewall-cmd --permanent --service=jabber-lab --add-port=5222/tcp
firewall-cmd --permanent --new-service=xmpp-lab
firewall-cmd --permanent --service=xmpp-lab --add-port=5222/tcp
firewall-cmd --permanent --service=xmpp-lab --add-port=5269/tcp
firewall-cmd --permanent --zone=internal --add-source=10.77.0.0/25
firewall-cmd --permanent --zone=internal --add-service=jabber-lab
firewall-cmd --permanent --zone=internal --add-service=xmpp-lab
firewall-cmd --permanent --zone=trusted --add-source=10.77.0.200/32
firewall-cmd --reload`,
  'debian-nft': `
cat >> /etc/nftables.conf <<'NFT'
table inet userfw {
	chain early {
		type filter hook input priority -200; policy accept;
		tcp dport 5000-6000 accept
	}
	chain late {
		type filter hook input priority 100; policy accept;
		tcp dport { 5222, 5269 } accept
	}
}
NFT
nft -f /etc/nftables.conf`,
  iptables: `
iptables -I INPUT 1 -p tcp --dport 5000:6000 -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 5222,5269 -j ACCEPT
ip6tables -I INPUT 1 -p tcp --dport 5222 -j ACCEPT
iptables-save > /etc/iptables/rules.v4
ip6tables-save > /etc/iptables/rules.v6`,
};

function hostOf(lab: LabState, name: string): LabHost {
  return lab.hosts.find((h) => h.name === name)!;
}

async function sh(lab: LabState, name: string, script: string, args: string[] = []): Promise<string> {
  return (await inHost(hostOf(lab, name).sshdPid, script, args, { allowFail: true })).stdout;
}

async function foreign(lab: LabState, name: string): Promise<string[]> {
  return foreignRules(await sh(lab, name, FIREWALL_SNAPSHOT), OUR_PORTS);
}

async function nicknameOf(lab: LabState, bridge: string): Promise<string> {
  const conf = await sh(lab, bridge, 'cat /etc/jitsi/videobridge/jvb.conf');
  return /MUC_NICKNAME\s*=\s*"?([^"\s]+)/.exec(conf)![1]!;
}

async function inBrewery(lab: LabState, bridges: string[]): Promise<void> {
  const members = await breweryMembers(lab);
  for (const b of bridges)
    assert.ok(
      members.includes(`jvbbrewery@internal.auth.${DOMAIN}/${await nicknameOf(lab, b)}`),
      `${b} in ${members.join(', ')}`,
    );
}

/** Whether the outsider reaches the meet host's 5222, over IPv4 and over IPv6. */
async function outsiderReaches(lab: LabState, expected: boolean, when: string): Promise<void> {
  const meet = hostOf(lab, 'meet');
  const outsider = hostOf(lab, 'outsider');
  assert.equal(await canConnect('jsl-outsider', outsider.address, meet.address, 5222), expected, `IPv4 ${when}`);
  assert.equal(await canConnect('jsl-outsider', outsider.address6, meet.address6, 5222), expected, `IPv6 ${when}`);
}

/** 5222 on the meet host: each bridge gets in over IPv4; the outsider gets in over neither family. */
async function xmppReach(lab: LabState, bridges: string[]): Promise<void> {
  const meet = hostOf(lab, 'meet');
  for (const b of bridges)
    assert.equal(await canConnect(`jsl-${b}`, hostOf(lab, b).address, meet.address, 5222), true, `${b} reaches 5222`);
  await outsiderReaches(lab, false, 'the outsider is refused');
}

function assertOk(r: Run): void {
  assert.equal(r.code, 0, r.stdout.slice(-3000));
}

function profileScenario(profile: Profile): void {
  describe(`the whole playbook on ${profile} hosts (${PROFILE_DOCS[profile]})`, { skip: why ?? false }, () => {
    let lab: LabState;
    const inv = join(LAB_DIR, `profile-${profile}.yaml`);
    const rulesBefore = new Map<string, string[]>();
    let v6Listening = false;

    before(async () => {
      await labDown();
      lab = await labUp({ bridges: 2, era: 'current', profile, init: 'systemd' });
      const hostile = HOSTILE[profile];
      if (hostile) await inHost(hostOf(lab, 'meet').sshdPid, `set -e\n${hostile}`, [], { input: '' });
      for (const h of ['meet', 'jvb1', 'jvb2']) rulesBefore.set(h, await foreign(lab, h));
      v6Listening = /\[::\]:5222|:::5222/.test(
        await sh(lab, 'meet', 'ss -ltn 2>/dev/null || netstat -ltn 2>/dev/null'),
      );
    });
    after(async () => {
      await labDown();
    });

    test("one bridge: it joins the brewery; 5222 is open to it and closed to the outsider over IPv4 and IPv6, whatever the user's rules; the bridge is never cut off on the way", async () => {
      // Prosody listens on both families, so a refusal below is the firewall's doing
      assert.ok(v6Listening, 'Prosody listens on [::]:5222');
      await outsiderReaches(lab, true, 'before the run (the profile and the user rules let everyone in)');
      await writeFile(inv, inventory(lab, ['jvb1']));
      const jvb1 = hostOf(lab, 'jvb1');
      const knocks = knockUntilStopped(jvb1.ns, jvb1.address, hostOf(lab, 'meet').address, 5222, 2000);
      const r = await jitsiScale(['--yes', '--json', '-i', inv]);
      const seen = await knocks.stop();
      assertOk(r);
      assert.ok(seen.open.length > 0 && seen.open[0]! < 1000, 'jvb1 got in before the run');
      assert.deepEqual(
        seen.closed.filter((t) => t > seen.open[0]!),
        [],
        'jvb1 was never refused during the run',
      );
      const facts = r.events.filter((e) => e.type === 'facts:gathered');
      assert.ok(
        facts.every((e) => e.type === 'facts:gathered' && e.init === 'systemd'),
        JSON.stringify(facts),
      );
      if (profile === 'bare' || profile === 'ufw-inactive') {
        // the plan named the package it installs, and that it removes nothing
        assert.ok(
          planned(r).some((l) => /^meet firewall: install nftables \S+ .*removes nothing$/.test(l)),
          planned(r).join('\n'),
        );
      }
      if (profile === 'ufw-inactive') {
        assert.match(
          await sh(lab, 'meet', "dpkg-query -W -f '${db:Status-Abbrev}' ufw"),
          /^ii/,
          'ufw is still installed',
        );
        assert.match(await sh(lab, 'meet', 'ufw status'), /inactive/, 'ufw was not turned on');
        const notes = r.events.flatMap((e) =>
          e.type === 'step:planned' && e.step === 'firewall' && e.host === 'meet' ? e.notes : [],
        );
        assert.ok(
          notes.some((n) => /ufw is installed but inactive.*nftables.*iptables-persistent.*Breaks/.test(n)),
          notes.join('\n'),
        );
      }
      if (profile === 'ubuntu-ufw') {
        assert.ok(
          planned(r).some((l) => /^meet firewall: ufw --force delete \d+ .*the public opening of 5222\/tcp/.test(l)),
          planned(r).join('\n'),
        );
      }
      assert.match(await sh(lab, 'jvb1', 'systemctl is-active jitsi-videobridge2.service'), /^active/);
      assert.match(await sh(lab, 'meet', 'systemctl is-active prosody.service'), /^active/);
      await inBrewery(lab, ['jvb1']);
      await xmppReach(lab, ['jvb1']);
    });

    test('a rerun changes nothing', async () => {
      const r = await jitsiScale(['--yes', '--json', '-i', inv]);
      assertOk(r);
      assert.deepEqual(changed(r), []);
    });

    test("adding a bridge changes only that bridge and the meet host's rule", async () => {
      await writeFile(inv, inventory(lab, ['jvb1', 'jvb2']));
      const r = await jitsiScale(['--yes', '--json', '-i', inv]);
      assertOk(r);
      const changes = changed(r);
      const stray = changes.filter((c) => !c.startsWith('jvb2 ') && !c.startsWith('meet firewall:'));
      assert.deepEqual(stray, [], changes.join('\n'));
      assert.ok(
        changes.some((c) => c.startsWith('meet firewall:')),
        changes.join('\n'),
      );
      assert.ok(
        changes.some((c) => c.startsWith('jvb2 install-bridge:')),
        changes.join('\n'),
      );
      await inBrewery(lab, ['jvb1', 'jvb2']);
      await xmppReach(lab, ['jvb1', 'jvb2']);
    });

    test('the rules that are not ours are as they were', async () => {
      for (const h of ['meet', 'jvb1', 'jvb2']) {
        let expected = rulesBefore.get(h)!;
        // the rules of theirs the tool removes, and says so: the exact public openings of 5222
        // (ufw's `limit 5222/tcp`, firewalld's xmpp-client and a service of the port alone)
        if (h === 'meet')
          expected = expected
            .filter(
              (l) =>
                !/^ufw ### tuple ### (allow|limit) tcp 5222 (0\.0\.0\.0\/0|::\/0) any (0\.0\.0\.0\/0|::\/0) in$/.test(
                  l,
                ),
            )
            .map((l) => (l.startsWith('firewalld ') ? l.replace(/ (xmpp-client|jabber-lab)\b/g, '') : l));
        assert.deepEqual(await foreign(lab, h), expected, h);
      }
      if (profile === 'ubuntu-ufw')
        assert.notDeepEqual(rulesBefore.get('meet'), await foreign(lab, 'meet'), 'the public 5222 was there before');
    });

    test('after a real reboot (power off, boot) the outsider is refused, the bridges let in, and nothing is left to change', async () => {
      lab = await labReboot(['meet', 'jvb1', 'jvb2']);
      // Prosody and the bridges start at boot and the bridges log in again
      for (let i = 0; ; i++) {
        try {
          await inBrewery(lab, ['jvb1', 'jvb2']);
          break;
        } catch (e) {
          if (i >= 60) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      await xmppReach(lab, ['jvb1', 'jvb2']);
      const r = await jitsiScale(['--check', '--json', '-i', inv]);
      assertOk(r);
      assert.deepEqual(planned(r), [], 'the rules came back as the tool left them');
    });
  });
}

/** The profiles to run: all of them; LAB_PROFILES=a,b picks some while working (never in CI). */
function chosenProfiles(): Profile[] {
  // trixie and ubuntu-needrestart have scenarios of their own (playbook.test.ts, needrestart.test.ts)
  const all = PROFILES.filter((p) => p !== 'systemd' && p !== 'trixie' && p !== 'ubuntu-needrestart');
  const only = process.env.LAB_PROFILES;
  if (!only) return all;
  if (process.env.CI) throw new Error('LAB_PROFILES would leave profiles out of CI');
  return all.filter((p) => only.split(',').includes(p));
}

for (const profile of chosenProfiles()) profileScenario(profile);

describe('never a surprise on a host where ufw is installed but inactive', { skip: why ?? false }, () => {
  let lab: LabState;
  const inv = join(LAB_DIR, 'profile-ufw-safety.yaml');
  const ufwOf = async () => ({
    installed: /^ii/.test(await sh(lab, 'meet', "dpkg-query -W -f '${db:Status-Abbrev}' ufw")),
    status: (await sh(lab, 'meet', 'ufw status')).split('\n')[0],
  });

  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 1, era: 'current', profile: 'ufw-inactive' });
  });
  after(async () => {
    await labDown();
  });

  test('iptables, whose persistence package Breaks ufw, is refused before anything is removed, naming the variable that allows it', async () => {
    await writeFile(inv, inventory(lab, ['jvb1'], { meet: 'jitsi_firewall: iptables' }));
    const r = await jitsiScale(['--yes', '--plain', '-i', inv]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /meet.*installing iptables-persistent would remove ufw.*jitsi_allow_package_removal: true/);
    assert.deepEqual(await ufwOf(), { installed: true, status: 'Status: inactive' });
  });

  test('turning ufw on is refused headless, naming jitsi_firewall_enable; ufw stays off', async () => {
    await writeFile(inv, inventory(lab, ['jvb1'], { meet: 'jitsi_firewall: ufw' }));
    const r = await jitsiScale(['--yes', '--plain', '-i', inv]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /meet.*ufw is installed but inactive.*jitsi_firewall_enable: true/);
    assert.deepEqual(await ufwOf(), { installed: true, status: 'Status: inactive' });
  });

  test('with jitsi_firewall_enable, SSH is allowed first, ufw goes on, the run goes on over the same connection, and new SSH logins work', async () => {
    await writeFile(inv, inventory(lab, ['jvb1'], { meet: 'jitsi_firewall: ufw, jitsi_firewall_enable: true' }));
    const r = await jitsiScale(['--yes', '--json', '-i', inv]);
    assertOk(r);
    const meetChanges = changed(r).filter((c) => c.startsWith('meet firewall:'));
    const sshAt = meetChanges.findIndex((c) => /ufw allow 22\/tcp comment jitsi-scale-ssh/.test(c));
    const enableAt = meetChanges.findIndex((c) => /ufw --force enable/.test(c));
    assert.ok(sshAt >= 0 && enableAt >= 0, meetChanges.join('\n'));
    const order = r.events
      .filter((e) => e.type === 'task:changed' && e.host === 'meet' && e.step === 'firewall')
      .map((e) => (e.type === 'task:changed' ? e.description : ''));
    assert.ok(
      order.findIndex((d) => d.includes('jitsi-scale-ssh')) < order.findIndex((d) => d.includes('--force enable')),
      order.join('\n'),
    );
    assert.equal((await ufwOf()).status, 'Status: active');
    // verify asked Prosody on the meet host after ufw went on: the connection in use survived
    assert.ok(r.events.some((e) => e.type === 'step:host-result' && e.step === 'verify' && e.status === 'ok'));
    const again = await jitsiScale(['--check', '--json', '-i', inv]);
    assertOk(again);
    assert.deepEqual(planned(again), [], 'a new SSH login works, and nothing is left to do');
    await xmppReach(lab, ['jvb1']);
  });
});
