import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureSshd, sshdUnavailable, startLocalSshd, type LocalSshd } from '../support/local-sshd.js';
import { localMeet } from '../support/shard-inventory.js';
import { hostOpener } from '../../src/engine/open-host.js';
import { HostError } from '../../src/transport/host.js';

await ensureSshd();
const why = sshdUnavailable();
if (why && process.env.CI) throw new Error(`ProxyCommand tests cannot run in CI: ${why}`);

describe('ProxyCommand: SSH over a command’s stdin and stdout, against a real sshd', { skip: why ?? false }, () => {
  let sshd: LocalSshd;
  const dir = mkdtempSync(join(tmpdir(), 'js-proxy-'));
  // A stand-in for nc: pipes stdio to host:port, and leaves a mark that it ran.
  const pipe = join(dir, 'pipe.cjs');
  const mark = join(dir, 'ran');
  writeFileSync(
    pipe,
    [
      "const net = require('node:net');",
      "require('node:fs').writeFileSync(process.argv[4], process.argv[2] + ':' + process.argv[3]);",
      'const s = net.connect(Number(process.argv[3]), process.argv[2]);',
      'process.stdin.pipe(s);',
      's.pipe(process.stdout);',
      "s.on('error', (e) => { console.error('pipe: ' + e.message); process.exit(2); });",
      '',
    ].join('\n'),
  );
  before(async () => {
    sshd = await startLocalSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  const meet = (proxy: string) =>
    localMeet({
      port: sshd.port,
      key: sshd.clientKey,
      commonArgs: `-F /dev/null -o UserKnownHostsFile=${sshd.knownHosts} -o ${JSON.stringify(`ProxyCommand=${proxy}`)}`,
      file: join(dir, 'inventory.yaml'),
    });
  const open = () => hostOpener({ connectTimeoutMs: 10_000, keepaliveIntervalMs: 5000, runId: 'proxy-test' });

  test('the connection goes through the command, with %h and %p filled in', async () => {
    const { host } = await open()(meet(`${process.execPath} ${pipe} %h %p ${mark}`));
    try {
      const r = await host.exec(['echo', 'through the proxy']);
      assert.equal(r.stdout.trim(), 'through the proxy');
    } finally {
      await host.close();
    }
    assert.ok(existsSync(mark), 'the proxy command ran');
  });

  test('a value with $(…) from the ssh config reaches the proxy as one word and runs nothing; a hostile inventory address is refused by name', async () => {
    const recorder = join(dir, 'record.cjs');
    const record = join(dir, 'argv.json');
    // Lower case: ssh lowers a host name before %h, and the attack must survive that.
    const touched = join(tmpdir(), `js-proxy-touched-${process.pid}`);
    rmSync(touched, { force: true });
    writeFileSync(
      recorder,
      [
        "require('node:fs').writeFileSync(process.argv[2], JSON.stringify(process.argv.slice(3)));",
        "const s = require('node:net').connect(Number(process.argv[3]), '127.0.0.1');",
        'process.stdin.pipe(s);',
        's.pipe(process.stdout);',
        '',
      ].join('\n'),
    );
    // HostName given on ssh's command line is not checked by ssh: only quoting keeps it inert.
    const spec = localMeet({
      port: sshd.port,
      key: sshd.clientKey,
      commonArgs: `-F /dev/null -o UserKnownHostsFile=${sshd.knownHosts} -o HostKeyAlias=[127.0.0.1]:${sshd.port} -o ${JSON.stringify(`HostName=x$(>${touched})`)} -o ${JSON.stringify(`ProxyCommand=${process.execPath} ${recorder} ${record} %p "%h" '%h'`)}`,
      file: join(dir, 'inventory.yaml'),
    });
    const { host } = await open()(spec);
    try {
      assert.equal((await host.exec(['echo', 'in'])).stdout, 'in\n');
    } finally {
      await host.close();
    }
    const hostName = `x$(>${touched})`;
    assert.deepEqual(JSON.parse(readFileSync(record, 'utf8')), [String(sshd.port), hostName, hostName]);
    assert.equal(existsSync(touched), false, 'the command in the name never ran');
    await assert.rejects(
      open()({ ...spec, address: `a$(touch${touched})`, vars: { ...spec.vars, ansible_host: `a$(touch${touched})` } }),
      (e: Error) =>
        e instanceof HostError &&
        e.host === 'meet' &&
        /^ansible_host "a\$\(touch.*" of meet is not a host name ssh accepts/.test(e.message),
    );
    assert.equal(existsSync(touched), false);
  });

  test('a command that fails is named, with its exit code and the last line it printed', async () => {
    await assert.rejects(open()(meet(`sh -c 'echo cannot reach the office >&2; exit 3'`)), (e: Error) => {
      assert.match(
        e.message,
        /^proxy command "sh -c 'echo cannot reach the office >&2; exit 3'" exited with code 3: cannot reach the office$/,
      );
      return true;
    });
    await assert.rejects(
      open()(meet(`/nonexistent/proxy %h`)),
      // The wording is the shell's ($SHELL, else /bin/sh): bash says "No such file", dash "not found".
      /proxy command "\/nonexistent\/proxy 127\.0\.0\.1" exited with code 127: .*\/nonexistent\/proxy.*(No such file or directory|not found)$/,
    );
  });
});
