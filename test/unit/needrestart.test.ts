import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { aptChange, withLockWait } from '../../src/modules/apt/apt-run.js';
import { installArgv } from '../../src/modules/apt/install-packages.js';
import { needrestartLines, parseNeedrestart } from '../../src/modules/apt/needrestart.js';
import { plainReporter } from '../../src/ui/reporters/plain-reporter.js';
import type { Host } from '../../src/transport/host.js';

const exec = promisify(execFile);

// needrestart's stdio output at the end of an apt transaction, in list mode and in automatic mode
// (the headings and the indented commands of NeedRestart::UI::stdio, needrestart 3.6 / 3.11).
const LIST_MODE = [
  'Setting up nftables (1.0.6-2+deb12u2) ...',
  'Scanning processes...',
  'Scanning linux images...',
  '',
  'Running kernel seems to be up-to-date.',
  '',
  'Services to be restarted:',
  ' systemctl restart jicofo.service',
  ' systemctl restart prosody.service',
  '',
  'Service restarts being deferred:',
  ' systemctl restart ssh.service',
  '',
  'No containers need to be restarted.',
  '',
  'No user sessions are running outdated binaries.',
];
const AUTO_MODE = [
  'Scanning processes...',
  'Restarting services...',
  ' systemctl restart jicofo.service prosody.service',
  ' invoke-rc.d coturn restart',
  '',
  'No containers need to be restarted.',
];

describe('needrestart at the end of our apt transactions', () => {
  test('list mode: the services listed and deferred are read, nothing counted as restarted', () => {
    assert.deepEqual(parseNeedrestart(LIST_MODE), {
      listed: ['jicofo.service', 'prosody.service', 'ssh.service'],
      restarted: [],
    });
  });

  test('automatic mode: combined systemctl lines and init scripts are read as restarted', () => {
    assert.deepEqual(parseNeedrestart(AUTO_MODE), {
      listed: [],
      restarted: ['jicofo.service', 'prosody.service', 'coturn'],
    });
  });

  test("an apt run without needrestart, or where it found nothing, says nothing; apt's own indented lines are not services", () => {
    assert.deepEqual(needrestartLines(parseNeedrestart(['Reading package lists...', '  nftables libnftables1'])), []);
    assert.deepEqual(parseNeedrestart(['No services need to be restarted.', ' systemctl restart x.service']), {
      listed: [],
      restarted: [],
    });
  });

  test('the run says what was listed and that it restarted nothing; a restart that happened anyway is said too', () => {
    const [listed] = needrestartLines(parseNeedrestart(LIST_MODE));
    assert.match(
      listed!,
      /^needrestart lists jicofo\.service, prosody\.service, ssh\.service .*restarted none of them \(NEEDRESTART_MODE=l\)/,
    );
    const [restarted] = needrestartLines(parseNeedrestart(AUTO_MODE));
    assert.match(restarted!, /^needrestart restarted jicofo\.service, prosody\.service, coturn during this install/);
  });

  test('apt-get install runs with NEEDRESTART_MODE=l as an argument of env, through the lock wait, whatever the caller environment', async () => {
    const argv = installArgv(['nftables'], { allowRemoval: false });
    assert.deepEqual(argv.slice(0, 4), ['env', 'DEBIAN_FRONTEND=noninteractive', 'NEEDRESTART_MODE=l', 'apt-get']);
    // the lock wait runs the same argv after "--" (apt told to wait for the lock as long)
    const waited = withLockWait(argv, 1);
    assert.deepEqual(waited.slice(waited.lastIndexOf('--') + 1, waited.lastIndexOf('--') + 5), argv.slice(0, 4));
    // Run for real with a stand-in apt-get that prints the mode it was given: the variable reaches
    // apt even when the caller's environment (as after sudo's env_reset) has none or another.
    const dir = await mkdtemp(join(tmpdir(), 'js-nr-'));
    try {
      await writeFile(join(dir, 'apt-get'), '#!/bin/sh\necho "mode=${NEEDRESTART_MODE:-unset} args=$*"\n');
      await chmod(join(dir, 'apt-get'), 0o755);
      const [cmd, ...args] = argv;
      const r = await exec(cmd!, args, { env: { PATH: `${dir}:/usr/bin:/bin`, NEEDRESTART_MODE: 'a' } });
      assert.match(r.stdout, /^mode=l args=install -y/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the install's change returns what needrestart listed, and plain output shows it without --verbose", async () => {
    const host = {
      name: 'meet',
      exec: async (_argv: string[], o: { onLine?: (s: 'stdout', l: string) => void }) => {
        for (const l of LIST_MODE) o.onLine?.('stdout', l);
        return { code: 0, stdout: LIST_MODE.join('\n'), stderr: '' };
      },
    } as unknown as Host;
    const change = aptChange('install nftables', ['apt-get', 'install', '-y', 'nftables'], []);
    const result = await change.apply(host, { output: () => undefined });
    assert.match(result?.notes?.[0] ?? '', /^needrestart lists jicofo\.service, prosody\.service, ssh\.service/);
    const lines: string[] = [];
    plainReporter({ write: (l) => lines.push(l), diff: false, verbose: false })({
      type: 'task:changed',
      step: 'firewall',
      host: 'meet',
      description: 'install nftables',
      ...(result?.notes ? { notes: result.notes } : {}),
    });
    assert.equal(lines[0], '[meet] firewall: done: install nftables');
    assert.match(lines[1] ?? '', /^\[meet\] firewall: needrestart lists .*prosody\.service/);
  });
});
