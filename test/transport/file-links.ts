import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileChange, linkTargets, planFileEdit, sha256 } from '../../src/modules/file/edit-file.js';
import type { Host } from '../../src/transport/host.js';
import { OWN_DIRECTORY_ONLY, type LinkPolicy } from '../../src/transport/link-policy.js';

/** A host whose files live in a fresh `dir`, with the link policy made for that directory. */
export type OpenWithPolicy = (
  policy: (dir: string) => LinkPolicy,
) => Promise<{ host: Host; dir: string; backupDir: string }>;

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nsecret-looking-line\n';

/**
 * A stand-in for a bridge's /etc: `vb` plays /etc/jitsi/videobridge, `passwd` a file outside it
 * that must never be read for a diff nor written.
 */
function etc(dir: string): { vb: string; passwd: string } {
  const vb = join(dir, 'jitsi', 'videobridge');
  mkdirSync(vb, { recursive: true });
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, PASSWD);
  return { vb, passwd };
}

const noTempFiles = (dir: string) =>
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('jitsi-scale')),
    [],
    'no temp file left',
  );

/** Reading and writing through links, on any transport: links stay inside the file's directory or an allowed one. */
export function fileLinksContract(label: string, open: OpenWithPolicy, opts: { root: boolean }): void {
  const policy =
    (allowed: (dir: string) => string[] = () => []) =>
    (dir: string): LinkPolicy => ({
      ...OWN_DIRECTORY_ONLY,
      allowed: allowed(dir),
      hint: 'to follow it, list the directory it leads into in jitsi_link_targets',
    });
  const srv = (dir: string) => join(dir, 'srv', 'jitsi');

  test(`${label}: a link to a file outside its directory is neither read nor written, absolute or relative; the refusal names the link and its target`, async () => {
    const { host, dir } = await open(policy());
    try {
      const { vb, passwd } = etc(dir);
      symlinkSync(passwd, join(vb, 'jvb.conf'));
      symlinkSync('../../passwd', join(vb, 'sip-communicator.properties'));
      for (const name of ['jvb.conf', 'sip-communicator.properties']) {
        const link = join(vb, name);
        const named = new RegExp(
          `cannot (read|write) ${link}: ${link} is a symbolic link to ${passwd}, outside ${vb}: it is not followed \\(to follow it, list the directory it leads into in jitsi_link_targets\\)$`,
        );
        await assert.rejects(host.readFile(link), (e: Error) => named.test(e.message) && !e.message.includes('root:x'));
        await assert.rejects(host.readFiles([join(vb, 'missing'), link]), named);
        await assert.rejects(host.writeFile(link, 'shard block and secret\n', { expectSha256: sha256(PASSWD) }), named);
        // At plan time, as --check shows it: the plan itself is refused, with no diff of the target.
        await assert.rejects(planFileEdit(host, { path: link, transform: (t) => `${t ?? ''}shard\n` }), named);
        assert.equal(readlinkSync(link), name === 'jvb.conf' ? passwd : '../../passwd', 'the link is left alone');
      }
      assert.equal(readFileSync(passwd, 'utf8'), PASSWD);
      noTempFiles(vb);
      noTempFiles(dir);
    } finally {
      await host.close();
    }
  });

  test(`${label}: every hop of a chain of links must stay inside; a chain that does is followed to its end`, async () => {
    const { host, dir } = await open(policy());
    try {
      const { vb, passwd } = etc(dir);
      writeFileSync(join(vb, 'real.conf'), 'real\n');
      // In, then out: the last hop leaves.
      symlinkSync('b.conf', join(vb, 'a.conf'));
      symlinkSync(passwd, join(vb, 'b.conf'));
      await assert.rejects(
        host.writeFile(join(vb, 'a.conf'), 'x\n'),
        new RegExp(`${vb}/a\\.conf leads through the link ${vb}/b\\.conf to ${passwd}, outside ${vb}`),
      );
      // Out, then back in: the middle hop lies outside, where someone else may swap it.
      const hop = join(dir, 'hop');
      symlinkSync(join(vb, 'real.conf'), hop);
      symlinkSync(hop, join(vb, 'round.conf'));
      await assert.rejects(host.readFile(join(vb, 'round.conf')), new RegExp(`symbolic link to ${hop}, outside ${vb}`));
      // All inside: followed, and the links stay links.
      symlinkSync('c.conf', join(vb, 'chain.conf'));
      symlinkSync(join(vb, 'real.conf'), join(vb, 'c.conf'));
      assert.equal(await host.readFile(join(vb, 'chain.conf')), 'real\n');
      assert.deepEqual(
        await linkTargets(host, [join(vb, 'chain.conf'), join(vb, 'a.conf'), join(vb, 'real.conf')]),
        new Map([[join(vb, 'chain.conf'), join(vb, 'real.conf')]]),
      );
      const r = await host.writeFile(join(vb, 'chain.conf'), 'through\n', { expectSha256: sha256('real\n') });
      assert.equal(r.through, join(vb, 'real.conf'));
      assert.equal(readFileSync(join(vb, 'real.conf'), 'utf8'), 'through\n');
      assert.ok(lstatSync(join(vb, 'chain.conf')).isSymbolicLink() && lstatSync(join(vb, 'c.conf')).isSymbolicLink());
      assert.equal(readFileSync(passwd, 'utf8'), PASSWD);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a link is judged by where it really leads: through a directory link or ".." out of the directory is outside`, async () => {
    const { host, dir } = await open(policy());
    try {
      const { vb, passwd } = etc(dir);
      const away = join(dir, 'away');
      mkdirSync(away);
      writeFileSync(join(away, 'x.conf'), 'away\n');
      symlinkSync(away, join(vb, 'sub'));
      symlinkSync('sub/x.conf', join(vb, 'jvb.conf'));
      await assert.rejects(host.readFile(join(vb, 'jvb.conf')), new RegExp(`link to ${away}/x\\.conf, outside ${vb}`));
      await assert.rejects(
        host.writeFile(join(vb, 'jvb.conf'), 'x\n'),
        new RegExp(`link to ${away}/x\\.conf, outside`),
      );
      assert.equal(readFileSync(join(away, 'x.conf'), 'utf8'), 'away\n');
      symlinkSync('./../videobridge/../../passwd', join(vb, 'dots.conf'));
      await assert.rejects(host.writeFile(join(vb, 'dots.conf'), 'x\n'), new RegExp(`link to ${passwd}, outside`));
      assert.equal(readFileSync(passwd, 'utf8'), PASSWD);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a dangling link is refused, and what it points at is not created`, async () => {
    const { host, dir } = await open(policy());
    try {
      const { vb } = etc(dir);
      const link = join(vb, 'jvb.conf');
      symlinkSync(join(vb, 'gone.conf'), link);
      const dangling = new RegExp(
        `${link} is a symbolic link to ${vb}/gone\\.conf, which does not exist \\(a dangling link\\)$`,
      );
      await assert.rejects(host.readFile(link), dangling);
      await assert.rejects(host.writeFile(link, 'x\n', { expectSha256: 'absent' }), dangling);
      assert.equal(existsSync(join(vb, 'gone.conf')), false);
      // Outside and dangling: refused too, and nothing appears there either.
      symlinkSync(join(dir, 'nowhere', 'new.conf'), join(vb, 'far.conf'));
      await assert.rejects(host.writeFile(join(vb, 'far.conf'), 'x\n'), /which does not exist \(a dangling link\)$/);
      assert.equal(existsSync(join(dir, 'nowhere')), false);
      noTempFiles(vb);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a link swapped in between the plan and the write is judged again on the host, and refused`, async () => {
    const { host, dir } = await open(policy());
    try {
      const { vb, passwd } = etc(dir);
      const conf = join(vb, 'jvb.conf');
      writeFileSync(join(vb, 'real.conf'), 'same\n');
      symlinkSync(join(vb, 'real.conf'), conf);
      const change = fileChange({ path: conf, transform: (t) => `${t ?? ''}shard\n` }, await host.readFile(conf));
      // Between plan and write, the link is pointed at the password file, whose bytes the plan did not see.
      execFileSync('ln', ['-sfn', passwd, conf]);
      await assert.rejects(
        change!.apply(host, { output: () => undefined }),
        new RegExp(`${conf} is a symbolic link to ${passwd}, outside`),
      );
      // A plain file replaced by a link after the plan: the same.
      const plain = join(vb, 'plain.conf');
      writeFileSync(plain, PASSWD);
      const second = fileChange({ path: plain, transform: (t) => `${t ?? ''}shard\n` }, await host.readFile(plain));
      execFileSync('sh', ['-c', 'rm "$1" && ln -s "$2" "$1"', 'swap', plain, passwd]);
      await assert.rejects(second!.apply(host, { output: () => undefined }), /is a symbolic link to .*passwd, outside/);
      assert.equal(readFileSync(passwd, 'utf8'), PASSWD);
      assert.equal(readFileSync(join(vb, 'real.conf'), 'utf8'), 'same\n');
      noTempFiles(vb);
      noTempFiles(dir);
    } finally {
      await host.close();
    }
  });

  test(`${label}: a link into a directory the user allows is read and written through; the link stays, the backup is of the target`, async () => {
    const opened = await open(policy((dir) => [srv(dir)]));
    const { dir, backupDir } = opened;
    const allowedDir = srv(dir);
    try {
      const { vb, passwd } = etc(dir);
      mkdirSync(allowedDir, { recursive: true });
      const target = join(allowedDir, 'jvb.conf');
      writeFileSync(target, 'kept elsewhere\n');
      const link = join(vb, 'jvb.conf');
      symlinkSync(target, link);
      assert.equal(await opened.host.readFile(link), 'kept elsewhere\n');
      const plan = await planFileEdit(opened.host, { path: link, transform: (t) => `${t ?? ''}more\n` });
      assert.equal(plan?.description, `edit ${link} (a link: the file written is ${target}; the link stays)`);
      const r = await opened.host.writeFile(link, 'shard\n', { expectSha256: sha256('kept elsewhere\n') });
      assert.equal(r.through, target);
      assert.equal(r.backup, `${backupDir}${target}`);
      assert.equal(readlinkSync(link), target);
      assert.equal(readFileSync(target, 'utf8'), 'shard\n');
      // Allowing one directory allows no other.
      symlinkSync(passwd, join(vb, 'other.conf'));
      await assert.rejects(
        opened.host.writeFile(join(vb, 'other.conf'), 'x\n'),
        new RegExp(`outside ${vb}, ${allowedDir}:`),
      );
    } finally {
      await opened.host.close();
    }
  });

  test(
    `${label}: a directory, a FIFO${opts.root ? ' or a device' : ''} where a file is expected is refused at once, never waited on`,
    { timeout: 30_000 },
    async () => {
      const { host, dir } = await open(policy());
      try {
        const { vb } = etc(dir);
        mkdirSync(join(vb, 'jvb.conf'));
        execFileSync('mkfifo', [join(vb, 'fifo.conf')]);
        symlinkSync('fifo.conf', join(vb, 'to-fifo.conf'));
        if (opts.root) execFileSync('mknod', [join(vb, 'null.conf'), 'c', '1', '3']);
        const cases: [string, RegExp][] = [
          ['jvb.conf', /jvb\.conf is not a regular file: it is a directory$/],
          ['fifo.conf', /fifo\.conf is not a regular file: it is a FIFO/],
          [
            'to-fifo.conf',
            new RegExp(`to-fifo\\.conf is not a regular file: it is a symbolic link to ${vb}/fifo\\.conf, a FIFO`),
          ],
          ...(opts.root
            ? [['null.conf', /null\.conf is not a regular file: it is a device$/] as [string, RegExp]]
            : []),
        ];
        const t0 = Date.now();
        for (const [name, why] of cases) {
          await assert.rejects(host.readFile(join(vb, name)), why);
          await assert.rejects(host.readFiles([join(vb, name)]), why);
          await assert.rejects(host.writeFile(join(vb, name), 'x\n', { expectSha256: 'absent' }), why);
          await assert.rejects(host.writeFile(join(vb, name), 'x\n'), why);
        }
        assert.ok(Date.now() - t0 < 15_000, 'nothing waited on the FIFO');
        assert.ok(lstatSync(join(vb, 'jvb.conf')).isDirectory());
        assert.deepEqual(readdirSync(join(vb, 'jvb.conf')), [], 'nothing was moved into the directory');
        assert.ok(lstatSync(join(vb, 'fifo.conf')).isFIFO());
        if (opts.root) assert.ok(lstatSync(join(vb, 'null.conf')).isCharacterDevice());
        noTempFiles(vb);
      } finally {
        await host.close();
      }
    },
  );

  test(`${label}: the bytes on the host are checked against what was sent: a temp file changed before the rename is refused and removed`, async () => {
    const { host, dir } = await open(policy());
    try {
      const path = join(dir, 'checked.conf');
      writeFileSync(path, 'old\n');
      // The validator runs on the temp file between the write and the check; this one changes a byte.
      await assert.rejects(
        host.writeFile(path, 'new\n', { validate: ['sh', '-c', 'printf X >> "$1"', 'corrupt', '%s'] }),
        new RegExp(
          `cannot write ${path}: the bytes written on the host are not the ones sent \\(sha256 ${sha256('new\nX')}, sent ${sha256('new\n')}\\): the temp file is removed and ${path} is left as it was$`,
        ),
      );
      assert.equal(readFileSync(path, 'utf8'), 'old\n');
      noTempFiles(dir);
      // An honest validator leaves the bytes alone: the write goes through.
      await host.writeFile(path, 'new\n', { validate: ['sh', '-c', 'grep -q new "$1"', 'check', '%s'] });
      assert.equal(readFileSync(path, 'utf8'), 'new\n');
    } finally {
      await host.close();
    }
  });
}
