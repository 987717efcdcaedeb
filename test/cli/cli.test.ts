import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';
import { fixture } from '../support/fixtures.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({
          code: child.exitCode ?? (err as { code?: number } | null)?.code ?? -1,
          stdout,
          stderr,
          ms: Date.now() - t0,
        });
      },
    );
    child.stdin?.end();
  });
}

async function writeTemp(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'js-cli-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const noStack = (r: Run) => assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');

describe('cli: usage', () => {
  test('--help and --version', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: jitsi-scale \[COMMAND\] \[options\]/);
    assert.match(help.stdout, /\n {2}setup +turn the meet server/);
    assert.match(help.stdout, /\n {2}facts +show what the tool reads/);
    assert.match(
      help.stdout,
      /Exit codes: 0 ok, 1 usage or inventory error, 2 a host failed, 3 a host was unreachable/,
    );
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await cli(['--version'])).stdout, `jitsi-scale ${pkg.version}\n`);
  });

  test('a wrong option or value is one line and exit 1', async () => {
    const r = await cli(['--frobnicate']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'jitsi-scale: unknown option --frobnicate (see jitsi-scale setup --help)\n');
    const f = await cli(['--forks', '0']);
    assert.equal(f.stderr, 'jitsi-scale: --forks takes a whole number above 0, not "0"\n');
    assert.equal((await cli(['--yes', '--check'])).code, 1);
  });

  test('inventory errors: every problem with file:line:col, exit 1, no stack', async () => {
    const path = await writeTemp(
      'inv.yaml',
      'all:\n  children:\n    meet:\n      hosts: { m: { ansible_prot: 22 } }\n    jvb:\n      hosts: { j: { ansible_port: 0 } }\n',
    );
    const r = await cli(['--check', '-i', path]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `${path}:4:21: unknown variable "ansible_prot" in host "m"; did you mean "ansible_port"?\n${path}:6:35: ansible_port must be a port number from 1 to 65535, not 0 (in host "j")\n`,
    );
    noStack(r);
    const missing = await cli(['--check', '-i', '/nonexistent/inv.yaml']);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      '/nonexistent/inv.yaml:1:1: no such file; pass your inventory with -i PATH (see inventory.yaml in the project for an example)\n',
    );
  });

  test('an ssh config ssh refuses: one line per host naming the file and line, through ssh -G and the built-in reader', async () => {
    const cfg = await writeTemp('bad_ssh_config', 'Host *\n  IdentityFile a b\n');
    const inv = await writeTemp(
      'inv.yaml',
      'all:\n  children:\n    meet: { hosts: { meet: { ansible_host: 127.0.0.1 } } }\n    jvb: { hosts: { jvb1: { ansible_host: 127.0.0.2 } } }\n',
    );
    for (const reader of ['ssh -G', 'built-in']) {
      const r = await cli(
        ['--check', '--ssh-config', cfg, '-i', inv],
        reader === 'built-in' ? { JITSI_SCALE_SSH_CONFIG_READER: 'built-in' } : {},
      );
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `^\\[jvb1\\] failed \\(connect\\): ssh config: .*${cfg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line 2: keyword identityfile extra arguments at end of line`,
          'm',
        ),
        reader,
      );
      noStack(r);
    }
  });

  test('inventory --list runs no Match exec command of the ssh config: the host is shown held back, with the command; --ssh-exec runs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-inv-exec-'));
    const mark = join(dir, 'ran');
    const cfg = join(dir, 'ssh_config');
    await writeFile(
      cfg,
      [
        // Skipped by ssh itself: the criterion before it fails for every host here.
        `Match host nobody.example.org exec "touch ${mark}-never"`,
        `Match host jvb1.example.org exec "touch ${mark}; true"`,
        '  User from-exec',
        'Host *',
        '  User plain',
        '',
      ].join('\n'),
    );
    const inv = await writeTemp(
      'inv.yaml',
      'all:\n  children:\n    meet: { hosts: { meet.example.org: } }\n    jvb: { hosts: { jvb1.example.org: } }\n',
    );
    for (const reader of ['ssh -G', 'built-in']) {
      const env = reader === 'built-in' ? { JITSI_SCALE_SSH_CONFIG_READER: 'built-in' } : {};
      const text = await cli(['inventory', '--list', '--ssh-config', cfg, '-i', inv], env);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(existsSync(mark), false, `${reader}: listing ran the command`);
      assert.match(
        text.stdout,
        /^1 host not resolved: listing an inventory runs no command: an ssh config is code, and Match exec runs it; --ssh-exec lets it run/m,
      );
      assert.match(
        text.stdout,
        new RegExp(
          `^jvb1\\.example\\.org \\(jvb\\)\\n {2}connection +held back: the ssh config runs \`touch ${mark}; true\` \\(Match exec\\) to settle it, and a listing runs nothing unless --ssh-exec$`,
          'm',
        ),
        reader,
      );
      assert.match(
        text.stdout,
        /^ {2}address +plain@meet\.example\.org:22$/m,
        `${reader}: a host that needs no command is resolved`,
      );
      const json = await cli(['inventory', '--list', '--json', '--ssh-config', cfg, '-i', inv], env);
      const doc = JSON.parse(json.stdout) as {
        _meta: { jitsi_scale: { match_exec_held_back?: string; connections: Record<string, { heldBack?: string[] }> } };
      };
      assert.deepEqual(doc._meta.jitsi_scale.connections['jvb1.example.org']!.heldBack, [`touch ${mark}; true`]);
      assert.equal(doc._meta.jitsi_scale.connections['meet.example.org']!.heldBack, undefined);
      assert.match(doc._meta.jitsi_scale.match_exec_held_back ?? '', /--ssh-exec/);
      assert.equal(existsSync(mark), false, `${reader}: --json ran the command`);
      const asked = await cli(
        ['inventory', '--host', 'jvb1.example.org', '--ssh-exec', '--ssh-config', cfg, '-i', inv],
        env,
      );
      assert.equal(asked.code, 0, asked.stderr);
      assert.ok(existsSync(mark), `${reader}: --ssh-exec runs it`);
      assert.match(asked.stdout, /^ {2}address +from-exec@jvb1\.example\.org:22$/m);
      assert.equal(existsSync(`${mark}-never`), false, `${reader}: a command after a failing criterion never runs`);
      await rm(mark);
    }
  });

  test('no terminal and no --yes: one sentence, exit 1', async () => {
    const r = await cli(['-i', 'inventory.yaml']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'jitsi-scale: no terminal to ask on: add --yes to apply every step without questions, or --check to only see the plan\n',
    );
  });
});

describe('cli: commands', () => {
  test('a command has its own help: its options and the inventory variables it reads', async () => {
    const setup = await cli(['setup', '--help']);
    assert.equal(setup.code, 0);
    assert.match(setup.stdout, /^Usage: jitsi-scale setup \[options\]/);
    assert.match(setup.stdout, /--check/);
    assert.match(setup.stdout, /jitsi_media_port +UDP media port on the bridges \(port; default 10000\)/);
    const facts = await cli(['help', 'facts']);
    assert.match(facts.stdout, /^Usage: jitsi-scale facts \[options\]/);
    assert.doesNotMatch(facts.stdout, /--check|--yes|--diff/, 'a read-only command takes no apply options');
  });

  test('unknown commands and options get one sentence with a "did you mean"', async () => {
    const cmd = await cli(['fatcs']);
    assert.equal(cmd.code, 1);
    assert.equal(cmd.stderr, 'jitsi-scale: unknown command "fatcs"; did you mean "facts"? (see jitsi-scale --help)\n');
    const opt = await cli(['setup', '--chek']);
    assert.equal(
      opt.stderr,
      'jitsi-scale: unknown option --chek; did you mean --check? (see jitsi-scale setup --help)\n',
    );
    const ro = await cli(['facts', '--yes']);
    assert.equal(
      ro.stderr,
      'jitsi-scale: unknown option --yes for facts, which changes nothing (see jitsi-scale facts --help)\n',
    );
    const extra = await cli(['setup', 'now']);
    assert.equal(extra.stderr, 'jitsi-scale: unexpected argument "now" (see jitsi-scale setup --help)\n');
  });

  test('setup is the default: no command means setup, with the same inventory checks', async () => {
    const path = await writeTemp('inv.yaml', 'all:\n  children:\n    jvb:\n      hosts: { j: {} }\n');
    const plain = await cli(['--check', '-i', path]);
    const named = await cli(['setup', '--check', '-i', path]);
    assert.equal(plain.code, 1);
    assert.equal(plain.stderr, named.stderr);
    assert.match(plain.stderr, /no host in group "meet"; add the Jitsi Meet server/);
    // facts reads the same file with no role required: the same inventory is fine for it.
    const facts = await cli(['facts', '-i', path, '--connect-timeout', '1']);
    assert.doesNotMatch(facts.stderr, /no host in group/);
  });

  test("completion scripts for bash and zsh complete commands and each command's options", async () => {
    const bash = await cli(['completion', 'bash']);
    assert.equal(bash.code, 0);
    const script = await writeTemp('jitsi-scale.bash', bash.stdout);
    const complete = (line: string) =>
      new Promise<string[]>((resolve, reject) => {
        const words = line.split(' ');
        const probe = [
          `source ${script}`,
          `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`,
          '_jitsi_scale; printf "%s\\n" "${COMPREPLY[@]}"',
        ].join('\n');
        execFile('bash', ['-c', probe], (e, out) =>
          e ? reject(new Error(e.message)) : resolve(out.split('\n').filter(Boolean)),
        );
      });
    assert.deepEqual(await complete('jitsi-scale fa'), ['facts']);
    assert.ok((await complete('jitsi-scale setup --ch')).includes('--check'));
    assert.deepEqual(await complete('jitsi-scale facts --ch'), [], 'facts has no --check');
    assert.deepEqual(await complete('jitsi-scale inv'), ['inventory']);
    assert.deepEqual(await complete('jitsi-scale inventory --li'), ['--list']);
    assert.ok((await complete('jitsi-scale --li')).includes('--limit'), "no command: the default command's options");
    const zsh = await cli(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef jitsi-scale/);
    assert.match(zsh.stdout, /setup\) opts=\([^)]*--check/);
    assert.equal((await cli(['completion', 'fish'])).code, 1);
  });
});

describe('cli: unreachable hosts', () => {
  const silent: Server[] = [];
  const sockets: Socket[] = [];
  let inventory: string;
  before(async () => {
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const s = createServer((c) => sockets.push(c));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      silent.push(s);
      ports.push((s.address() as { port: number }).port);
    }
    inventory = await writeTemp(
      'unreachable.yaml',
      fixture('inventory/unreachable.yaml')
        .replace('SILENT_PORT_1', String(ports[0]))
        .replace('SILENT_PORT_2', String(ports[1])),
    );
  });
  after(() => {
    sockets.forEach((s) => s.destroy());
    silent.forEach((s) => s.close());
  });

  test('--check ends with one clear line per host and exit 3 within the connect timeout', async () => {
    const r = await cli(['--check', '--connect-timeout', '2', '-i', inventory]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    assert.ok(
      lines.includes('[meet] unreachable: connection refused by 127.0.0.1:1 (is sshd running on that port?)'),
      r.stdout,
    );
    for (const h of ['jvb1', 'jvb2'])
      assert.ok(
        lines.some((l) =>
          new RegExp(
            `^\\[${h}\\] unreachable: timed out connecting to 127\\.0\\.0\\.1:\\d+ after 2s \\(no SSH handshake\\)$`,
          ).test(l),
        ),
        r.stdout,
      );
    assert.ok(
      lines.includes(
        'jitsi-scale: stopped: cannot go on without the meet host meet: connection refused by 127.0.0.1:1 (is sshd running on that port?)',
      ),
    );
    assert.ok(r.ms < 2000 + 3000, `took ${r.ms} ms`);
    assert.ok(r.ms >= 1900, 'the silent hosts were waited for, in parallel');
    noStack(r);
  });

  test('status and doctor: unreachable hosts are one line each and exit 3', async () => {
    const status = await cli(['status', '--connect-timeout', '1', '-i', inventory]);
    assert.equal(status.code, 3, status.stdout + status.stderr);
    assert.match(status.stdout, /^meet meet: unreachable$/m);
    assert.match(
      status.stdout,
      /^! meet: unreachable: connection refused by 127\.0\.0\.1:1 \(is sshd running on that\s+port\?\)$/m,
    );
    assert.match(status.stdout, /^jvb1 +- +\? +unreachable$/m);
    noStack(status);
    const doctor = await cli(['doctor', '--connect-timeout', '1', '-i', inventory]);
    assert.equal(doctor.code, 3, doctor.stdout + doctor.stderr);
    assert.equal(
      doctor.stderr.trim().split('\n').pop(),
      'jitsi-scale: doctor: connection refused by 127.0.0.1:1 (is sshd running on that port?)',
    );
    noStack(doctor);
  });

  test('--json: one parseable event per line, ending with run:done', async () => {
    const r = await cli(['--check', '--json', '--connect-timeout', '1', '-i', inventory]);
    assert.equal(r.code, 3);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; exitCode?: number; time: string });
    assert.equal(events[0]!.type, 'run:start');
    const last = events[events.length - 1]!;
    assert.equal(last.type, 'run:done');
    assert.equal(last.exitCode, 3);
    assert.equal(events.filter((e) => e.type === 'host:unreachable').length, 3);
    assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.time))));
  });
});

await ensureSshd();
const why = sshdUnavailable();
if (why && process.env.CI) throw new Error(`cli SSH tests cannot run in CI: ${why}`);

describe('cli: over real SSH', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  before(async () => {
    sshd = await startLocalSshd(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  });
  after(async () => sshd?.stop());

  const inventoryText = () =>
    [
      'all:',
      `  vars: { ansible_user: root, ansible_port: ${sshd.port}, ansible_ssh_private_key_file: ${sshd.clientKey} }`,
      '  children:',
      '    meet: { hosts: { meet: { ansible_host: 127.0.0.1 } } }',
      '    jvb: { hosts: { jvb1: { ansible_host: 127.0.0.2 }, jvb2: { ansible_host: 127.0.0.3 } } }',
      '',
    ].join('\n');

  test('a meet host without a Jitsi Prosody config is refused by name, exit 2', async () => {
    const r = await cli([
      '--check',
      '-v',
      '--known-hosts',
      sshd.knownHosts,
      '-i',
      await writeTemp('inv.yaml', inventoryText()),
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[jvb1\] connect: ok \(\d+ ms\)$/m);
    assert.match(r.stdout, /^\[jvb2\] facts: .+, init (systemd|sysv), firewall \w+$/m);
    assert.match(
      r.stdout,
      /^jitsi-scale: stopped: meet is not a Jitsi Meet server: (\/etc\/prosody\/prosody\.cfg\.lua is missing|no Prosody site config in \/etc\/prosody\/conf\.d declares VirtualHost "auth\.<domain>")/m,
    );
    noStack(r);
    // The same hosts reached with the built-in ssh config reader, as on a machine without OpenSSH's client.
    const builtIn = await cli(
      ['--check', '-v', '--known-hosts', sshd.knownHosts, '-i', await writeTemp('inv.yaml', inventoryText())],
      {
        JITSI_SCALE_SSH_CONFIG_READER: 'built-in',
      },
    );
    assert.equal(builtIn.code, 2, builtIn.stdout + builtIn.stderr);
    assert.match(builtIn.stderr, /note: no OpenSSH client here .*: ssh settings come from the built-in reader/);
    assert.match(builtIn.stdout, /^\[jvb2\] connect: ok \(\d+ ms\)$/m);
  });

  test('inventory --list/--host: the groups, variables with secrets masked, and each connection; usage errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'js-inv-cmd-'));
    await writeFile(join(dir, 'beside_key'), 'not really a key');
    const inv = join(dir, 'inv.yaml');
    await writeFile(
      inv,
      [
        'all:',
        '  vars: { jitsi_jvb_secret: Very-S3cret-pw, ansible_sudo_pass: Sudo-S3cret-pw, custom_token: T0ken-value }',
        '  hosts:',
        '    loose.example.org:2222:',
        '  children:',
        '    edge:',
        '      hosts:',
        '        jvb1.example.org:',
        '          ansible_ssh_user: old',
        '          ansible_user: new',
        '          ansible_ssh_private_key_file: beside_key',
        '          ansible_ssh_common_args: "-F /dev/null -o ProxyCommand=\'nc %h %p\' -o HostKeyAlias=edge1"',
        '',
      ].join('\n'),
    );
    const list = await cli(['inventory', '--list', '--json', '-i', inv]);
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout) as {
      _meta: {
        hostvars: Record<string, Record<string, unknown>>;
        jitsi_scale: { ssh_settings_from: string; connections: Record<string, Record<string, unknown>> };
      };
      ungrouped: { hosts: string[] };
      all: { children: string[] };
    };
    assert.deepEqual(doc.ungrouped.hosts, ['loose.example.org']);
    assert.deepEqual(doc.all.children.sort(), ['edge', 'ungrouped']);
    assert.equal(doc._meta.hostvars['loose.example.org']!.ansible_port, 2222);
    for (const k of ['jitsi_jvb_secret', 'ansible_sudo_pass', 'custom_token'])
      assert.equal(doc._meta.hostvars['jvb1.example.org']![k], '********', k);
    for (const secret of ['Very-S3cret-pw', 'Sudo-S3cret-pw', 'T0ken-value']) assert.ok(!list.stdout.includes(secret));
    assert.equal(doc._meta.jitsi_scale.ssh_settings_from, 'ssh -G');
    const c = doc._meta.jitsi_scale.connections['jvb1.example.org']!;
    assert.deepEqual(
      [c.user, c.address, c.port, c.proxyCommand, c.hostKeyAlias],
      ['old', 'jvb1.example.org', 22, 'nc jvb1.example.org 22', 'edge1'],
    );
    assert.deepEqual(c.become, { enabled: true, user: 'root', password: 'set' });
    assert.match(list.stderr, /note: .*beside_key is not in the working directory .* but beside the inventory/);
    const one = await cli(['inventory', '--host', 'jvb1.example.org', '-i', inv]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^ {2}address +old@jvb1\.example\.org:22$/m);
    assert.match(one.stdout, /^ {2}proxy +nc jvb1\.example\.org 22$/m);
    assert.match(one.stdout, /^ {2}note +key beside_key is not in the working directory/m);
    assert.match(one.stdout, /^ {4}ansible_sudo_pass: "\*\*\*\*\*\*\*\*"$/m);
    const unknown = await cli(['inventory', '--host', 'nope', '-i', inv]);
    assert.deepEqual([unknown.code, unknown.stderr.trim()], [1, `jitsi-scale: no host "nope" in ${inv}`]);
    const neither = await cli(['inventory', '-i', inv]);
    assert.deepEqual(
      [neither.code, neither.stderr.trim()],
      [1, 'jitsi-scale: inventory takes --list or --host NAME (see jitsi-scale inventory --help)'],
    );
  });

  test('--limit with an unknown name is a usage error naming the inventory', async () => {
    const inv = await writeTemp('inv.yaml', inventoryText());
    const r = await cli(['--check', '--limit', 'jvb9', '-i', inv]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `jitsi-scale: --limit: no host or group named "jvb9" in ${inv}; did you mean "jvb1"?\n`);
  });
});
