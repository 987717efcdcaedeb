import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CLIENT_KEY, INVENTORY_FILE, KNOWN_HOSTS, PROJECT_ROOT, type LabState } from './setup/lab-config.js';
import { labDown, labUp } from './setup/lab.js';
import { breweryMembers } from './setup/lab-probes.js';
import { inHost } from './setup/run.js';
import { TmuxTerminal, tmuxUnavailable } from '../support/tmux.js';

const why = process.getuid?.() !== 0 ? 'the lab needs root' : await tmuxUnavailable();
if (why && process.env.CI) throw new Error(`the SSH lab tests cannot run in CI: ${why}`);

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const SUDO_PASSWORD = 'Ops-Sudo-Pa55-3e9d';

interface Run {
  code: number;
  out: string;
}

/** jitsi-scale with no terminal, as automation runs it; `env` replaces the listed variables. */
function jitsiScale(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const merged = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 180_000, maxBuffer: 32 * 1024 * 1024, env: merged },
      (_e, stdout, stderr) => resolve({ code: child.exitCode ?? -1, out: stdout + stderr }),
    );
    child.stdin?.end();
  });
}

/** The OpenSSH fingerprint of a lab host's key, read on the host itself. */
async function hostFingerprint(lab: LabState, name: string): Promise<string> {
  const h = lab.hosts.find((x) => x.name === name)!;
  return /SHA256:\S+/.exec((await inHost(h.sshdPid, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).stdout)![0];
}

describe('connecting the way OpenSSH users expect (lab with a bastion)', { skip: why ?? false }, () => {
  let lab: LabState;
  let dir: string;
  const host = (name: string) => lab.hosts.find((h) => h.name === name)!;
  const inventoryText = async () => readFile(INVENTORY_FILE, 'utf8');
  const withJvb2As = (text: string, user: string) =>
    text.replace(/jvb2: \{ ansible_host: ([\d.]+) \}/, `jvb2: { ansible_host: $1, ansible_user: ${user} }`);

  before(async () => {
    await labDown();
    lab = await labUp({ bridges: 2, era: 'current', bastionOnly: true });
    dir = await mkdtemp(join(tmpdir(), 'js-ssh-lab-'));
    // A non-root operator on jvb2 whose sudo asks for a password.
    await inHost(
      host('jvb2').sshdPid,
      `id ops >/dev/null 2>&1 || useradd -m -s /bin/bash ops; echo "ops:$1" | chpasswd; echo 'ops ALL=(ALL) ALL' > /etc/sudoers.d/lab-ops; chmod 0440 /etc/sudoers.d/lab-ops`,
      [SUDO_PASSWORD],
    );
  });
  after(async () => {
    await labDown();
  });

  test('the bridges refuse SSH from anywhere but the bastion; without the jump the run says so, exit 3', async () => {
    const direct = join(dir, 'direct.yaml');
    await writeFile(direct, (await inventoryText()).replace(/ -J root@[\d.]+/, ''));
    const r = await jitsiScale(['--check', '-i', direct]);
    assert.equal(r.code, 3, r.out);
    assert.match(
      r.out,
      /^\[jvb1\] unreachable: connection refused by 10\.77\.0\.11:22 \(is sshd running on that port\?\)$/m,
    );
  });

  test('unknown host keys: refused headless with the fingerprint; --accept-new-host-keys records them; then no flag is needed', async () => {
    const kh = join(dir, 'fresh_known_hosts');
    await writeFile(kh, '');
    const refused = await jitsiScale(['--check', '--known-hosts', kh, '-i', INVENTORY_FILE]);
    assert.equal(refused.code, 3, refused.out);
    const meetFp = await hostFingerprint(lab, 'meet');
    assert.ok(
      refused.out.includes(
        `[meet] unreachable: unknown host key for meet (10.77.0.10:22): ssh-ed25519 ${meetFp}; check it, then run again with --accept-new-host-keys to trust and record it in ${kh}`,
      ),
      refused.out,
    );
    assert.match(
      refused.out,
      new RegExp(
        `\\[jvb1\\] unreachable: unknown host key for jump host 10\\.77\\.0\\.250 \\(10\\.77\\.0\\.250:22\\): ssh-ed25519 ${(await hostFingerprint(lab, 'bastion')).replace(/[+/]/g, '\\$&')}`,
      ),
    );
    assert.equal(await readFile(kh, 'utf8'), '', 'nothing recorded without the flag');

    const accepted = await jitsiScale(['--check', '--accept-new-host-keys', '--known-hosts', kh, '-i', INVENTORY_FILE]);
    assert.equal(accepted.code, 0, accepted.out);
    const recorded = (await readFile(kh, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0])
      .sort();
    assert.deepEqual(
      recorded,
      ['10.77.0.10', '10.77.0.11', '10.77.0.12', '10.77.0.250'],
      'each host once, the shared bastion included',
    );
    const again = await jitsiScale(['--check', '--known-hosts', kh, '-i', INVENTORY_FILE]);
    assert.equal(again.code, 0, again.out);
  });

  test('sudo that asks for a password: a clear error without one, a clear error for a wrong one, the full setup with the right one, never printed', async () => {
    const inv = join(dir, 'ops.yaml');
    await writeFile(inv, withJvb2As(await inventoryText(), 'ops'));
    const none = await jitsiScale(['--check', '-i', inv], { JITSI_SCALE_BECOME_PASSWORD: undefined });
    assert.equal(none.code, 2, none.out);
    assert.match(
      none.out,
      /^\[jvb2\] failed \(connect\): sudo on jvb2 asks ops for a password and none was given; set JITSI_SCALE_BECOME_PASSWORD \(or ansible_become_password\), run on a terminal to be asked, or allow passwordless sudo$/m,
    );
    const wrong = await jitsiScale(['--check', '-i', inv], { JITSI_SCALE_BECOME_PASSWORD: 'not-it' });
    assert.equal(wrong.code, 2, wrong.out);
    assert.match(wrong.out, /^\[jvb2\] failed \(connect\): sudo on jvb2 did not accept the password for ops$/m);
    const right = await jitsiScale(['--yes', '-v', '-i', inv], { JITSI_SCALE_BECOME_PASSWORD: SUDO_PASSWORD });
    assert.equal(right.code, 0, right.out);
    assert.match(
      right.out,
      /^\[jvb2\] bridge-config: done: set the shard connection in \/etc\/jitsi\/videobridge\/jvb\.conf/m,
      'files were written through sudo -S',
    );
    assert.ok(!right.out.includes(SUDO_PASSWORD) && !none.out.includes(SUDO_PASSWORD), 'the password is never printed');
    const owner = (await inHost(host('jvb2').sshdPid, 'stat -c %U /etc/jitsi/videobridge/jvb.conf')).stdout.trim();
    assert.equal(owner, 'jvb', 'owner kept, not ops');
    assert.equal(
      (await breweryMembers(lab)).length,
      3,
      'both bridges (through the bastion) and the meet host’s own are in the brewery',
    );
  });

  test('an ssh-agent alone is enough: no key file anywhere; without it, "permission denied" names what was tried', async () => {
    const home = await mkdtemp(join(tmpdir(), 'js-home-'));
    const inv = join(dir, 'agent.yaml');
    await writeFile(inv, (await inventoryText()).replace(/^\s*ansible_ssh_private_key_file: .*\n/m, ''));
    const sock = join(home, 'agent.sock');
    const agent = execFileSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent)![1]!;
    try {
      execFileSync('ssh-add', ['-q', CLIENT_KEY], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const ok = await jitsiScale(['--check', '-i', inv], { HOME: home, SSH_AUTH_SOCK: sock });
      assert.equal(ok.code, 0, ok.out);
      const denied = await jitsiScale(['--check', '-i', inv], { HOME: home, SSH_AUTH_SOCK: undefined });
      assert.equal(denied.code, 3, denied.out);
      assert.match(
        denied.out,
        /^\[meet\] unreachable: permission denied for root@10\.77\.0\.10:22 \(tried no key: none found, and no ssh-agent\)$/m,
      );
    } finally {
      process.kill(Number(pid));
    }
  });

  test('~/.ssh/config does the rest: aliases, user, key, known_hosts and a two-hop ProxyJump', async () => {
    const home = await mkdtemp(join(tmpdir(), 'js-home-'));
    await mkdir(join(home, '.ssh'), { mode: 0o700 });
    await writeFile(
      join(home, '.ssh', 'config'),
      [
        'Host lab-*',
        '  User root',
        `  IdentityFile ${CLIENT_KEY}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${KNOWN_HOSTS}`,
        'Host lab-meet',
        `  HostName ${host('meet').address}`,
        'Host lab-jvb1',
        `  HostName ${host('jvb1').address}`,
        // Two hops: the outsider first, then the bastion, which alone may reach the bridges.
        '  ProxyJump lab-outsider,lab-bastion',
        'Host lab-jvb2',
        `  HostName ${host('jvb2').address}`,
        '  ProxyJump lab-bastion',
        'Host lab-outsider',
        `  HostName ${host('outsider').address}`,
        'Host lab-bastion',
        `  HostName ${host('bastion').address}`,
        '',
      ].join('\n'),
    );
    const inv = join(dir, 'aliases.yaml');
    await writeFile(
      inv,
      [
        'all:',
        '  vars: { jitsi_domain: meet.lab.test }',
        '  children:',
        '    meet: { hosts: { meet: { ansible_host: lab-meet } } }',
        '    jvb: { hosts: { jvb1: { ansible_host: lab-jvb1 }, jvb2: { ansible_host: lab-jvb2 } } }',
        '',
      ].join('\n'),
    );
    // ssh reads ~/.ssh/config from the password database's home, not $HOME: the test names its file.
    const r = await jitsiScale(['--check', '-v', '--ssh-config', join(home, '.ssh', 'config'), '-i', inv], {
      SSH_AUTH_SOCK: undefined,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^\[jvb1\] connect: ok/m);
    assert.match(r.out, /^\[jvb2\] connect: ok/m);
  });

  test('guided: each unknown host key is shown and asked about, the sudo password is asked once and hidden', async () => {
    const kh = join(dir, 'guided_known_hosts');
    await writeFile(kh, '');
    const inv = join(dir, 'guided.yaml');
    await writeFile(inv, withJvb2As(await inventoryText(), 'ops'));
    const t = await TmuxTerminal.start([process.execPath, CLI, '--known-hosts', kh, '-i', inv], {
      cwd: PROJECT_ROOT,
      env: { JITSI_SCALE_BECOME_PASSWORD: '' },
    });
    try {
      const asked: string[] = [];
      for (;;) {
        const s = await t.waitFor(
          (x) => /not in known_hosts|asks ops for a password|⏎ begin/.test(x),
          'a question',
          30_000,
        );
        // The question may wrap: read it as one line.
        const key =
          /! ([^!]+?) \(([\d.:]+)\) is not in known_hosts yet\. It offers this key: ssh-ed25519 (SHA256:\S+)/.exec(
            s.replace(/\n\s*/g, ' '),
          );
        if (key) {
          asked.push(`${key[1]} ${key[3]}`);
          await t.keys('y');
          await t.waitFor((x) => !x.includes(key[3]!), 'the next question');
          continue;
        }
        if (s.includes('asks ops for a password')) {
          assert.match(s, /\(typing is hidden\)/);
          await t.keys('-l', SUDO_PASSWORD);
          await t.keys('Enter');
          await t.waitFor((x) => !x.includes('asks ops for a password'), 'the password to be taken');
          continue;
        }
        break;
      }
      assert.deepEqual(
        asked.map((a) => a.replace(/ SHA256:.*/, '')).sort(),
        ['jump host 10.77.0.250', 'jvb1', 'jvb2', 'meet'].sort(),
      );
      assert.ok(asked.includes(`meet SHA256:${(await hostFingerprint(lab, 'meet')).slice(7)}`), asked.join('\n'));
      const start = await t.screen();
      assert.match(start, /✓ jvb2 +jvb/, 'jvb2 connected with the typed password');
      await t.keys('q');
      assert.equal(await t.waitForExit(), 130);
      assert.ok(!(await t.screen({ history: true })).includes(SUDO_PASSWORD), 'the typed password never shows');
      assert.equal((await readFile(kh, 'utf8')).trim().split('\n').length, 4, 'each trusted key recorded');
    } finally {
      await t.close();
    }
  });

  test('a changed host key is refused with the host, the recorded and the offered fingerprint, exit 3', async () => {
    const kh = join(dir, 'changed_known_hosts');
    await copyFile(KNOWN_HOSTS, kh);
    const old = await hostFingerprint(lab, 'meet');
    await inHost(
      host('meet').sshdPid,
      `rm -f /etc/ssh/ssh_host_ed25519_key*; ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key; kill -HUP "$1"`,
      [String(host('meet').sshdPid)],
    );
    await new Promise((r) => setTimeout(r, 500));
    const now = await hostFingerprint(lab, 'meet');
    assert.notEqual(now, old);
    const r = await jitsiScale(['--check', '--accept-new-host-keys', '--known-hosts', kh, '-i', INVENTORY_FILE]);
    assert.equal(r.code, 3, r.out);
    assert.ok(
      r.out.includes(
        `[meet] unreachable: HOST KEY CHANGED for meet (10.77.0.10:22): known_hosts has ssh-ed25519 ${old} (${kh}:1), the host offers ssh-ed25519 ${now}.`,
      ),
      r.out,
    );
    assert.equal(
      await readFile(kh, 'utf8'),
      await readFile(KNOWN_HOSTS, 'utf8'),
      'a changed key is never recorded, even with --accept-new-host-keys',
    );
  });
});
