import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { HoconSyntaxError, MAX_DEPTH } from '../../src/modules/hocon/parse-hocon.js';
import { HoconEditError, editHocon, setHocon, type HoconValue } from '../../src/modules/hocon/set-hocon.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

const SHARD = ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard'];
const doc = (text: string) => new HoconDoc(text);
const set = (text: string, base: string[], values: Record<string, HoconValue>, ignoreCase = false) =>
  setHocon(doc(text), base, values, { ignoreCase }).text;

/** Asserts a HoconSyntaxError at this line and column whose reason matches. */
function refused(text: string, line: number, col: number, reason: RegExp): void {
  assert.throws(
    () => doc(text),
    (e: unknown) => {
      assert.ok(e instanceof HoconSyntaxError, `not a HoconSyntaxError: ${String(e)}`);
      assert.deepEqual([e.line, e.col], [line, col], e.message);
      assert.match(e.reason, reason);
      return true;
    },
  );
}

describe('HOCON key paths', () => {
  const jvb = fixture('jitsi/jvb.conf');

  test('reads nested, dotted, quoted and unquoted values', () => {
    const d = doc(jvb);
    assert.equal(d.get([...SHARD, 'HOSTNAME']), 'localhost');
    assert.equal(d.get([...SHARD, 'DOMAIN']), 'auth.meet.example.test');
    assert.equal(d.get([...SHARD, 'hostname'], { ignoreCase: true }), 'localhost');
    assert.equal(d.get([...SHARD, 'hostname']), undefined);
    assert.equal(d.get(['videobridge', 'websockets', 'enabled']), 'true');
    assert.deepEqual(d.objectsUnder(['videobridge', 'apis', 'xmpp-client', 'configs']), ['shard']);
  });

  test('changing values touches only those values; every other byte is kept', () => {
    const out = assertIdempotent(
      (t) => set(t, SHARD, { HOSTNAME: '10.0.0.10', MUC_NICKNAME: 'jvb-a', PASSWORD: 's3cr3t-Pa55' }),
      jvb,
    );
    assert.equal(
      out,
      jvb
        .replace('HOSTNAME=localhost', 'HOSTNAME="10.0.0.10"')
        .replace('MUC_NICKNAME=5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d', 'MUC_NICKNAME=jvb-a'),
    );
  });

  test('case-insensitive matching edits the key as it is written', () => {
    const r = setHocon(doc(jvb), SHARD, { hostname: 'meet.internal' }, { ignoreCase: true });
    assert.ok(r.text.includes('HOSTNAME=meet.internal\n'));
    assert.ok(!r.text.includes('hostname'));
    assert.deepEqual(r.notes, []);
  });

  test('a key spelled two ways in one block: both are set, and the plan says so with their lines', () => {
    const text = 'shard {\n  HOSTNAME = a\n  PORT = 5222\n  hostname = "b"\n}\n';
    const r = setHocon(doc(text), ['shard'], { HOSTNAME: 'meet.internal' }, { ignoreCase: true });
    assert.equal(r.text, 'shard {\n  HOSTNAME = meet.internal\n  PORT = 5222\n  hostname = "meet.internal"\n}\n');
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0]!, /HOSTNAME is spelled 2 ways, HOSTNAME \(line 2\) and hostname \(line 4\)/);
    assert.match(r.notes[0]!, /all of them are set/);
    // Already right in both spellings: nothing to change, but still said.
    const again = setHocon(doc(r.text), ['shard'], { HOSTNAME: 'meet.internal' }, { ignoreCase: true });
    assert.equal(again.text, r.text);
    assert.equal(again.notes.length, 1);
    // Without ignoreCase, the other spelling is another key and is left alone.
    assert.equal(set(text, ['shard'], { HOSTNAME: 'x' }), text.replace('HOSTNAME = a', 'HOSTNAME = x'));
  });

  test('the block id and the path before it are matched exactly (only the key ignores case)', () => {
    const text = 'configs {\n  Shard {\n    HOSTNAME = a\n  }\n}\n';
    const out = set(text, ['configs', 'shard'], { HOSTNAME: 'b' }, true);
    assert.equal(doc(out).get(['configs', 'Shard', 'HOSTNAME']), 'a');
    assert.equal(doc(out).get(['configs', 'shard', 'HOSTNAME']), 'b');
  });

  test('a missing key is added inside the existing block, indented like its neighbours', () => {
    const out = assertIdempotent((t) => set(t, SHARD, { DISABLE_CERTIFICATE_VERIFICATION: true }), jvb);
    assert.ok(
      out.includes(
        '            MUC_NICKNAME=5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d\n            DISABLE_CERTIFICATE_VERIFICATION = true\n        }\n',
      ),
    );
    assert.equal(doc(out).get([...SHARD, 'DISABLE_CERTIFICATE_VERIFICATION']), 'true');
  });

  test('a missing block is created as nested blocks in the deepest existing object', () => {
    const out = assertIdempotent(
      (t) => set(t, ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard2'], { HOSTNAME: 'h', PORT: 5222 }),
      jvb,
    );
    assert.ok(
      out.includes(
        '            MUC_NICKNAME=5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d\n        }\n        shard2 {\n            HOSTNAME = "h"\n            PORT = 5222\n        }\n    }\n',
      ),
    );
    const fresh = assertIdempotent(
      (t) => set(t, ['videobridge', 'websockets'], { enabled: false }),
      'ice4j {\n  a = 1\n}\n',
    );
    assert.equal(fresh, 'ice4j {\n  a = 1\n}\nvideobridge {\n  websockets {\n    enabled = false\n  }\n}\n');
    assert.equal(set('', ['a'], { b: 'c' }), 'a {\n    b = "c"\n}\n');
  });

  test('keys that would not read back bare are quoted (include is a keyword, digits start a number)', () => {
    const out = set('', ['x'], { include: 'v', '10': 'w', 'a.b': 'y', 'xmpp-client': 'z' });
    assert.equal(out, 'x {\n    "10" = "w"\n    "include" = "v"\n    "a.b" = "y"\n    xmpp-client = "z"\n}\n');
    assert.equal(doc(out).get(['x', 'include']), 'v');
    assert.equal(doc(out).get(['x', 'a.b']), 'y');
  });

  test('the last of several definitions is the one edited (HOCON merges, last wins)', () => {
    const text = 'a { b = 1 }\na.b = 2\n';
    assert.equal(doc(text).get(['a', 'b']), '2');
    assert.equal(set(text, ['a'], { b: 3 }), 'a { b = 1 }\na.b = 3\n');
  });

  test('a += value becomes = value (+= would make a list of it)', () => {
    const out = set('a {\n  b += 1\n}\n', ['a'], { b: 2 });
    assert.equal(out, 'a {\n  b = 2\n}\n');
  });

  test('an edit a later definition overrides is refused, never written', () => {
    const text = 'shard {\n  HOSTNAME = a\n}\nshard = null\n';
    assert.throws(() => set(text, ['shard'], { HOSTNAME: 'b' }), HoconEditError);
  });

  test('several edits in one pass: each applies to the text as parsed', () => {
    const r = editHocon(doc(jvb), [
      { base: SHARD, values: { HOSTNAME: 'h1' }, ignoreCase: true },
      { base: ['videobridge', 'websockets'], values: { enabled: false } },
    ]);
    const d = doc(r.text);
    assert.equal(d.get([...SHARD, 'HOSTNAME']), 'h1');
    assert.equal(d.get(['videobridge', 'websockets', 'enabled']), 'false');
  });

  test('comments, arrays, substitutions, includes, triple quotes and root braces', () => {
    const text = [
      '{',
      '  include "other.conf"',
      '  # comment with { brace',
      '  list = [ "a", { x = "}" } ] // trailing',
      '  home = "/root"',
      '  path = ${home}"/x"',
      '  env = ${HOME}"/x"',
      '  multi = """a "quoted" } thing"""',
      '  obj { inner: "v", other = 2 }',
      '}',
      '',
    ].join('\n');
    const d = doc(text);
    assert.equal(d.get(['path']), '/root/x');
    assert.equal(d.get(['env']), undefined, 'needs the environment, which is not known here');
    assert.equal(new HoconDoc(text, { env: { HOME: '/home/u' } }).get(['env']), '/home/u/x');
    assert.equal(d.get(['multi']), 'a "quoted" } thing');
    assert.equal(d.get(['obj', 'inner']), 'v');
    assert.equal(d.get(['list']), undefined);
    const out = assertIdempotent((t) => set(t, ['obj'], { inner: 'w', added: true }), text);
    assert.ok(out.includes('  obj { inner: "w", other = 2 \n    added = true\n  }\n}'), out);
    const top = set(text, ['x'], { y: 1 });
    assert.ok(top.endsWith('  x {\n    y = 1\n  }\n}\n'), top);
  });

  test('CRLF files get CRLF lines', () => {
    assert.equal(set('a {\r\n  b = 1\r\n}\r\n', ['a'], { c: 2 }), 'a {\r\n  b = 1\r\n  c = 2\r\n}\r\n');
  });
});

describe('HOCON as Typesafe Config reads it', () => {
  test('a value may start on the line after the key, the separator or a comment', () => {
    const text = [
      'd =',
      '{ x = 1 }',
      'f',
      '{ y = 2 }',
      'a =',
      '  "s"',
      'b :',
      '  [1, 2]',
      'c',
      '= 3',
      'e +=',
      '  4',
      'g = # why',
      '  5',
      'h',
      '# a comment',
      '{ z = 6 }',
      '',
    ].join('\n');
    const d = doc(text);
    assert.deepEqual(
      d.leaves().map((l) => `${l.path.join('.')}=${l.value}`),
      ['d.x=1', 'f.y=2', 'a=s', 'b.0=1', 'b.1=2', 'c=3', 'e.0=4', 'g=5', 'h.z=6'],
    );
    // and such a value is edited where it is, the line break kept
    assert.equal(set(text, [], { a: 'new' }), text.replace('a =\n  "s"', 'a =\n  "new"'));
    assert.equal(set(text, ['d'], { x: 7 }), text.replace('{ x = 1 }', '{ x = 7 }'));
  });

  test('but a value never continues on the next line, and a key needs a value', () => {
    refused('a = 1 \n 2\n', 3, 1, /the key 2 must be followed by '=', ':' or '{', not the end of the file/);
    refused('a\n\n', 3, 1, /the key a must be followed by/);
    refused('a =\n', 2, 1, /no value for a/);
  });

  test('values: numbers only where Java reads one, true/false/null at the start, concatenations', () => {
    const d = doc(
      'a = 0x10\nb = 1.5.6\nc = 10.0bar\nd = truefoo\ne = 0010\nf = 1e3\ng = b c\nh = 99999999999999999999\ni = -\n',
    );
    const got = Object.fromEntries(d.leaves().map((l) => [l.path.join('.'), `${l.type}:${l.value}`]));
    assert.deepEqual(got, {
      a: 'STRING:0x10',
      b: 'STRING:1.5.6',
      c: 'STRING:10.0bar',
      d: 'STRING:truefoo',
      e: 'NUMBER:0010',
      f: 'NUMBER:1e3',
      g: 'STRING:b c',
      h: 'STRING:99999999999999999999',
      i: 'STRING:-',
    });
  });

  test('substitutions: forward, self-referential, +=, optional, objects merged', () => {
    const d = doc('x = ${y}\ny = 1\na = 1\na = ${a}2\nl += 1\nl += 2\no = ${?NOPE}\np { q = 1 }\np = ${p} { r = 2 }\n');
    assert.equal(d.get(['x']), '1');
    assert.equal(d.get(['a']), '12');
    assert.deepEqual(
      d
        .leaves()
        .filter((l) => l.path[0] === 'l')
        .map((l) => l.value),
      ['1', '2'],
    );
    assert.equal(d.get(['o']), undefined);
    assert.equal(d.get(['p', 'q']), '1');
    assert.equal(d.get(['p', 'r']), '2');
    assert.deepEqual(new HoconDoc('o = 1\no = ${?NOPE}\n', { env: {} }).leaves(), [
      { path: ['o'], type: 'NUMBER', value: '1' },
    ]);
  });
});

describe('malformed HOCON: always a positioned HoconSyntaxError, never another error', () => {
  test('bad escapes and raw control characters in quoted strings', () => {
    refused('a = "x\\qy"\n', 1, 7, /'\\q' is not a valid escape/);
    refused('a = "\\u12G4"\n', 1, 6, /\\u must be followed by 4 hex digits/);
    refused('a = "x\ty"\n', 1, 7, /a raw tab inside a quoted string/);
    refused('a = "x\u0000y"\n', 1, 7, /the control character U\+0000/);
    refused('a = "x\u001by"\n', 1, 7, /U\+001B/);
    refused('a = "open\nb = 1\n', 1, 10, /not closed on its line/);
    refused('a = "open', 1, 5, /a quoted string is not closed/);
    refused('a = """open\n', 1, 5, /a """ string is not closed/);
    refused('a = "\\', 1, 6, /a backslash at the end of the file/);
  });

  test('the characters HOCON reserves, outside quotes', () => {
    refused('a = x`y\n', 1, 6, /the character '`' is not allowed outside quotes/);
    refused('a = foo\\bar\n', 1, 8, /the character '\\' is not allowed outside quotes/);
    refused('a = 1+2\n', 1, 6, /the character '\+' is not allowed/);
    refused('a + 1\n', 1, 3, /'\+' is not followed by '='/);
    refused('a = $x\n', 1, 5, /'\$' is not followed by '\{'/);
  });

  test('structure: braces, brackets, commas, keys, the root', () => {
    refused('a {\n  b = 1\n', 3, 1, /missing \} \(the '\{' of line 1 is not closed\)/);
    refused('b = 1\n}\n', 2, 1, /a '\}' with no '\{' before it/);
    refused('a = [1,,2]\n', 1, 8, /expected a value or '\]' in the list, found ','/);
    refused('a = [1, 2\n', 2, 1, /expected a value or '\]' in the list, found the end of the file/);
    refused('a = [1, 2 }\n', 1, 11, /expected a new line, ',' or '\]' before '\}'/);
    refused('a = 1,,b = 2\n', 1, 7, /expected a key, found ','/);
    refused('{ a = 1 } b = 2\n', 1, 11, /'b' after the end of the root object/);
    refused('[1, 2]\n', 1, 1, /the file holds a list/);
    refused('a..b = 1\n', 1, 1, /a key has an empty part/);
    refused('a { } { }\n', 1, 7, /expected a new line, ',' or '\}' before '\{'/);
    refused('a = { x = 1 } "s"\n', 1, 5, /cannot be joined with a string/);
    refused('include = 1\n', 1, 9, /include must be followed by a quoted name/);
    refused('a = 1 }', 1, 7, /a '\}' with no '\{' before it/);
  });

  test('substitutions: unclosed, nested, empty, a cycle, unknown with a known environment', () => {
    refused('a = ${b\n', 1, 5, /not closed with \}/);
    refused('a = ${b${c}}\n', 1, 8, /cannot hold another substitution/);
    refused('a = ${}\n', 1, 5, /a substitution has no path/);
    refused('a = ${b}\nb = ${a}\n', 1, 5, /depends on itself/);
    assert.throws(
      () => new HoconDoc('a = ${b}\n', { env: {} }),
      /\$\{b\} is set neither in the file nor in the environment/,
    );
    assert.equal(doc('a = ${b}\n').get(['a']), undefined, 'unknown environment: not refused, not guessed');
  });

  test(`nesting is bounded at ${MAX_DEPTH} levels: objects, lists, dotted keys, substitution chains`, () => {
    const deep = (n: number, open: string, close: string) => `a = ${open.repeat(n)}${close.repeat(n)}\n`;
    assert.doesNotThrow(() => doc(deep(MAX_DEPTH - 1, '[', ']')));
    refused(deep(100_000, '[', ']'), 1, 5 + MAX_DEPTH, /nest deeper than 256 levels/);
    refused(`a = ${'{b = '.repeat(100_000)}`, 1, 1 + 5 * MAX_DEPTH, /the key nests deeper than 256 levels/);
    refused('a {'.repeat(300), 1, 1 + 3 * MAX_DEPTH, /the key nests deeper than 256 levels/);
    refused(`a = ${'[{b = '.repeat(300)}`, 1, 5 + 6 * 128, /objects and lists nest deeper than 256 levels/);
    refused(`${Array.from({ length: 100_000 }, (_, i) => `k${i}`).join('.')} = 1\n`, 1, 1, /the key nests deeper/);
    const chain = Array.from({ length: 5000 }, (_, i) => `v${i} = \${v${i + 1}}`).join('\n') + '\nv5000 = 1\n';
    assert.throws(
      () => doc(chain),
      (e: unknown) => e instanceof HoconSyntaxError && /more than 256 deep/.test(e.reason),
    );
  });
});

describe('review: the cost of reading a file stays in proportion to its size', () => {
  /** Parses `text` in a child with a small heap and a deadline: an exponential parse fails here, not the test runner. */
  function parsesWithin(text: string, ms: number): { ok: boolean; out: string } {
    const module = new URL('../../src/modules/hocon/hocon-doc.js', import.meta.url).href;
    const script = `const { HoconDoc } = await import(${JSON.stringify(module)});
const { readFileSync } = await import('node:fs');
try { new HoconDoc(readFileSync(0, 'utf8')); process.stdout.write('read'); }
catch (e) { if (e.name !== 'HoconSyntaxError') throw e; process.stdout.write('refused: ' + e.message); }`;
    // On stdin: one argument may hold at most 128 KiB.
    const r = spawnSync(process.execPath, ['--max-old-space-size=128', '--input-type=module', '-e', script], {
      input: text,
      timeout: ms,
      encoding: 'utf8',
    });
    const ended = r.signal ? `ended by ${r.signal} (SIGABRT: out of its 128 MiB heap; SIGTERM: past ${ms} ms)` : '';
    return { ok: r.status === 0, out: r.stdout || ended || String(r.stderr).slice(-300) };
  }

  test('review: 24 lines of `a += 1` (160 bytes) are read in well under a second, not in exponential time and memory', () => {
    const text = `a = []\n${'a += 1\n'.repeat(24)}`;
    const r = parsesWithin(text, 5000);
    assert.ok(r.ok, `${text.length} bytes: ${r.out}`);
  });

  test('review: 20000 lines of `a += 1` (140 KB, far under the 4 MiB read bound) are read, or refused in words, within 5 s and 128 MiB', () => {
    const text = `a = []\n${'a += 1\n'.repeat(20_000)}`;
    const r = parsesWithin(text, 5000);
    assert.ok(r.ok, `${text.length} bytes: ${r.out}`);
    assert.match(r.out, /^(read|refused: line \d+, column \d+: .+)$/);
  });

  test('review: a self-reference repeated: `a = ${a} {…}` 40 times', () => {
    const text = `a = { x = 1 }\n${Array.from({ length: 40 }, (_, i) => `a = \${a} { y${i} = ${i} }\n`).join('')}`;
    const r = parsesWithin(text, 5000);
    assert.ok(r.ok, `${text.length} bytes: ${r.out}`);
  });
});
