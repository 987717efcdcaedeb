import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileChange, sha256 } from '../../src/modules/file/edit-file.js';
import { encodeText } from '../../src/transport/file-bytes.js';
import type { Host } from '../../src/transport/host.js';

/**
 * The file contract every transport must honour; run against the local host and against a real
 * sshd so both are held to the same behaviour.
 */
export function fileOperationContract(
  label: string,
  open: () => Promise<{ host: Host; dir: string; backupDir: string }>,
): void {
  test(`${label}: readFile returns exact bytes, or null when missing`, async () => {
    const { host, dir } = await open();
    try {
      const path = `${dir}/exact.txt`;
      await host.writeFile(path, 'a\r\nb\n\n  trailing  ');
      assert.equal(await host.readFile(path), 'a\r\nb\n\n  trailing  ');
      assert.equal(await host.readFile(`${dir}/missing`), null);
      await assert.rejects(host.readFile(dir), /is not a regular file/);
    } finally {
      await host.close();
    }
  });

  test(`${label}: readFiles reads several files in one go, exact bytes, in any order, missing as null`, async () => {
    const { host, dir } = await open();
    try {
      await host.writeFile(`${dir}/a file.txt`, 'x\r\n\ttab  ');
      await host.writeFile(`${dir}/empty`, '');
      await host.writeFile(`${dir}/utf8`, 'ünïcode ✓\n');
      const paths = [`${dir}/utf8`, `${dir}/missing`, `${dir}/a file.txt`, `${dir}/empty`];
      const read = await host.readFiles(paths);
      assert.deepEqual(
        [...read.entries()],
        [
          [`${dir}/utf8`, 'ünïcode ✓\n'],
          [`${dir}/missing`, null],
          [`${dir}/a file.txt`, 'x\r\n\ttab  '],
          [`${dir}/empty`, ''],
        ],
      );
    } finally {
      await host.close();
    }
  });

  test(`${label}: writeFile keeps owner and mode, backs up the old content once per run`, async () => {
    const { host, dir, backupDir } = await open();
    try {
      const path = `${dir}/kept.conf`;
      await host.writeFile(path, 'one\n', { mode: 0o640, owner: 'nobody', group: 'nogroup' });
      const before = await host.stat(path);
      assert.equal(before?.mode, 0o640);
      assert.equal(before?.owner, 'nobody');
      assert.equal(before?.group, 'nogroup');

      const first = await host.writeFile(path, 'two\n');
      assert.equal(first.backup, `${backupDir}${path}`);
      const after = await host.stat(path);
      assert.equal(after?.mode, 0o640, 'mode kept');
      assert.equal(after?.owner, 'nobody', 'owner kept');
      assert.equal(await host.readFile(path), 'two\n');
      assert.equal(await host.readFile(`${backupDir}${path}`), 'one\n');
      assert.equal((await host.stat(`${backupDir}${path}`))?.mode, 0o640, 'backup keeps mode');

      await host.writeFile(path, 'three\n');
      assert.equal(await host.readFile(`${backupDir}${path}`), 'one\n', 'the backup is the state before the run');

      const fresh = await host.writeFile(`${dir}/new.conf`, 'x');
      assert.equal(fresh.backup, null);
      assert.equal((await host.stat(`${dir}/new.conf`))?.mode, 0o644);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a failed validation leaves the live file and no temp file behind`, async () => {
    const { host, dir } = await open();
    try {
      const path = `${dir}/validated.cfg`;
      await host.writeFile(path, 'good\n');
      await assert.rejects(
        host.writeFile(path, 'bad\n', {
          validate: ['sh', '-c', 'grep -q good "$1" || { echo "config is bad"; exit 1; }', 'v', '%s'],
        }),
        /cannot write .*validated\.cfg: validation failed: config is bad/,
      );
      assert.equal(await host.readFile(path), 'good\n');
      await host.writeFile(path, 'still good\n', { validate: ['sh', '-c', 'grep -q good "$1"', 'v', '%s'] });
      assert.equal(await host.readFile(path), 'still good\n');
      const ls = await host.exec(['ls', '-A', dir]);
      assert.doesNotMatch(ls.stdout, /jitsi-scale/, 'no temp files left');
    } finally {
      await host.close();
    }
  });

  test(`${label}: a write into a missing directory fails with the path named`, async () => {
    const { host, dir } = await open();
    try {
      await assert.rejects(
        host.writeFile(`${dir}/nope/x.conf`, 'x'),
        /cannot write .*nope\/x\.conf: directory .*nope does not exist/,
      );
    } finally {
      await host.close();
    }
  });

  test(`${label}: exec quotes every word and streams lines`, async () => {
    const { host, dir } = await open();
    try {
      const tricky = `it's $HOME; rm -rf ${dir} \`id\` "q" \\ *`;
      const r = await host.exec(['printf', '%s\n', tricky, 'line2']);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${tricky}\nline2\n`);
      assert.ok((await host.stat(dir)) !== null, 'nothing was interpreted');
      const lines: string[] = [];
      const s = await host.exec(['sh', '-c', 'echo out1; echo err1 >&2; printf out2'], {
        onLine: (st, l) => lines.push(`${st}:${l}`),
      });
      assert.equal(s.code, 0);
      assert.deepEqual(lines.sort(), ['stderr:err1', 'stdout:out1', 'stdout:out2']);
      const f = await host.exec(['sh', '-c', 'exit 7']);
      assert.equal(f.code, 7);
      const stdin = await host.exec(['cat'], { stdin: 'from stdin\n' });
      assert.equal(stdin.stdout, 'from stdin\n');
    } finally {
      await host.close();
    }
  });

  test(`${label}: stat reports mode, owner, size and a nanosecond mtime`, async () => {
    const { host, dir } = await open();
    try {
      await host.writeFile(`${dir}/s`, '12345', { mode: 0o600 });
      const st = await host.stat(`${dir}/s`);
      assert.equal(st?.size, 5);
      assert.equal(st?.mode, 0o600);
      assert.match(st?.mtimeNs ?? '', /^\d{19}$/);
      assert.equal(await host.stat(`${dir}/absent`), null);
    } finally {
      await host.close();
    }
  });

  fileBytesContract(label, open);
}

/** Bytes that are not UTF-8, and links, on any transport. */
export function fileBytesContract(
  label: string,
  open: () => Promise<{ host: Host; dir: string; backupDir: string }>,
): void {
  test(`${label}: a file that is not UTF-8 reads, hashes and writes back byte for byte`, async () => {
    const { host, dir } = await open();
    try {
      const path = `${dir}/latin1.conf`;
      const bytes = Buffer.concat([
        Buffer.from('a = 1\n# caf'),
        Buffer.from([0xe9, 0x20, 0x01, 0xff, 0xfe]),
        Buffer.from('\n'),
      ]);
      await host.exec(['sh', '-c', 'base64 -d > "$1"', 'w', path], { stdin: bytes.toString('base64') });
      const text = await host.readFile(path);
      assert.ok(text !== null);
      assert.deepEqual(encodeText(text), bytes);
      // An edit planned on it applies: the planned sha matches the bytes on the host.
      const change = fileChange({ path, transform: (t) => `b = 2\n${t ?? ''}` }, text);
      await change!.apply(host, { output: () => undefined });
      const after = await host.exec(['base64', '-w0', path]);
      assert.deepEqual(Buffer.from(after.stdout, 'base64'), Buffer.concat([Buffer.from('b = 2\n'), bytes]));
      assert.ok((change!.diff ?? '').includes('# caf\\xe9 \u0001\\xff\\xfe'), change!.diff);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a write to a symbolic link goes to the file it leads to, and the link stays`, async () => {
    const { host, dir } = await open();
    try {
      await host.writeFile(`${dir}/real.conf`, 'old\n');
      await host.exec(['ln', '-s', `${dir}/real.conf`, `${dir}/link.conf`]);
      const r = await host.writeFile(`${dir}/link.conf`, 'new\n', { expectSha256: sha256('old\n') });
      assert.equal(r.through, `${dir}/real.conf`);
      assert.equal((await host.exec(['readlink', `${dir}/link.conf`])).stdout.trim(), `${dir}/real.conf`);
      assert.equal(await host.readFile(`${dir}/real.conf`), 'new\n');
    } finally {
      await host.close();
    }
  });
}
