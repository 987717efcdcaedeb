import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { gatherBaseFacts } from '../../src/engine/base-facts.js';
import { CachedReads } from '../../src/transport/cached-reads.js';
import { commandLabel, setExecTrace, type ExecTraceEntry } from '../../src/transport/exec-trace.js';
import { LocalHost } from '../../src/transport/local-host.js';

let trace: ExecTraceEntry[] = [];
let dir = '';
beforeEach(async () => {
  trace = [];
  setExecTrace((e) => trace.push(e));
  dir = await mkdtemp(join(tmpdir(), 'js-cache-'));
});
afterEach(() => setExecTrace(null));

const open = () => new CachedReads(new LocalHost('local', { enabled: false, user: 'root' }, join(dir, 'backups')));
/** Commands sent to the host since the last call. */
const sent = (): number => trace.splice(0).length;

test('files read with the facts are answered without a command, missing and odd ones included', async () => {
  const host = open();
  await writeFile(join(dir, 'a'), 'one\n');
  await mkdir(join(dir, 'sub'));
  const { facts, files } = await gatherBaseFacts(host, [], [join(dir, 'a'), join(dir, 'none'), join(dir, 'sub')]);
  assert.ok(facts.user, 'facts still read');
  assert.deepEqual(
    [...files.values()],
    ['one\n', null, { refused: `${join(dir, 'sub')} is not a regular file: it is a directory` }],
  );
  host.remember(files);
  sent();
  assert.equal(await host.readFile(join(dir, 'a')), 'one\n');
  assert.equal(await host.readFile(join(dir, 'none')), null);
  await assert.rejects(
    host.readFiles([join(dir, 'sub'), join(dir, 'a')]),
    /sub is not a regular file: it is a directory/,
  );
  await assert.rejects(host.readFile(join(dir, 'sub')), /is not a regular file/);
  assert.equal(sent(), 0, 'no command for remembered files');
});

test('readFiles asks the host only for what it does not know, and remembers it', async () => {
  const host = open();
  await writeFile(join(dir, 'a'), 'A');
  await writeFile(join(dir, 'b'), 'B');
  host.remember(new Map([[join(dir, 'a'), 'A']]));
  assert.deepEqual([...(await host.readFiles([join(dir, 'a'), join(dir, 'b')])).values()], ['A', 'B']);
  assert.equal(sent(), 1);
  assert.deepEqual([...(await host.readFiles([join(dir, 'b'), join(dir, 'a')])).values()], ['B', 'A']);
  assert.equal(sent(), 0);
});

test('a command that may change files makes the next read go to the host; a read-only one does not', async () => {
  const host = open();
  const path = join(dir, 'f');
  await writeFile(path, 'before');
  assert.equal(await host.readFile(path), 'before');
  await writeFile(path, 'behind its back');
  await host.exec(['true'], { readOnly: true });
  assert.equal(await host.readFile(path), 'before', 'a read-only command keeps what was read');
  await host.exec(['sh', '-c', 'echo -n changed > "$1"', 'sh', path]);
  sent();
  assert.equal(await host.readFile(path), 'changed');
  assert.equal(sent(), 1);
});

test('a write makes that file be read again; forget() drops everything', async () => {
  const host = open();
  const [a, b] = [join(dir, 'a'), join(dir, 'b')];
  await writeFile(a, 'a1');
  await writeFile(b, 'b1');
  await host.readFiles([a, b]);
  await host.writeFile(a, 'a2');
  sent();
  assert.equal(await host.readFile(a), 'a2');
  assert.equal(sent(), 1, 'the written file is read again');
  assert.equal(await host.readFile(b), 'b1');
  assert.equal(sent(), 0, 'the other one is still known');
  host.forget();
  await writeFile(b, 'b2');
  assert.equal(await host.readFile(b), 'b2');
});

test('a read that overlaps a change is not remembered', async () => {
  const host = open();
  const path = join(dir, 'f');
  await writeFile(path, 'old');
  // The change starts first and ends after the read has answered with the old content: it
  // waits for a go file that is made only then.
  const go = join(dir, 'go');
  const change = host.exec([
    'sh',
    '-c',
    'while [ ! -e "$2" ]; do sleep 0.02; done; echo -n new > "$1"',
    'sh',
    path,
    go,
  ]);
  assert.equal(await host.readFile(path), 'old');
  await writeFile(go, '');
  await change;
  assert.equal(await host.readFile(path), 'new');
});

test('the trace names commands without their arguments or input', () => {
  assert.equal(commandLabel(['sh', '-c', '\n  set -eu\nsecret=$1', 'jitsi-scale', 'hunter2']), 'sh: set -eu');
  assert.equal(commandLabel(['sudo', '-n', '-H', '-u', 'root', '--', 'prosodyctl', 'shell', 'x']), 'prosodyctl');
  assert.equal(commandLabel(['debconf-set-selections']), 'debconf-set-selections');
});
