import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HoconSyntaxError, parseHocon } from '../../src/modules/hocon/parse-hocon.js';
import { getHocon, hoconObjectsUnder, setHocon } from '../../src/modules/hocon/set-hocon.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

const SHARD = ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard'];

describe('HOCON key paths', () => {
  const jvb = fixture('jitsi/jvb.conf');

  test('reads nested, dotted, quoted and unquoted values', () => {
    assert.equal(getHocon(jvb, [...SHARD, 'HOSTNAME']), 'localhost');
    assert.equal(getHocon(jvb, [...SHARD, 'DOMAIN']), 'auth.meet.example.test');
    assert.equal(getHocon(jvb, [...SHARD, 'hostname'], { ignoreCase: true }), 'localhost');
    assert.equal(getHocon(jvb, [...SHARD, 'hostname']), undefined);
    assert.equal(getHocon(jvb, ['videobridge', 'websockets', 'enabled']), 'true');
    assert.deepEqual(hoconObjectsUnder(jvb, ['videobridge', 'apis', 'xmpp-client', 'configs']), ['shard']);
  });

  test('changing values touches only those values; every other byte is kept', () => {
    const out = assertIdempotent(
      (t) => setHocon(t, SHARD, { HOSTNAME: '10.0.0.10', MUC_NICKNAME: 'jvb-a', PASSWORD: 's3cr3t-Pa55' }),
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
    const out = setHocon(jvb, SHARD, { hostname: 'meet.internal' }, { ignoreCase: true });
    assert.ok(out.includes('HOSTNAME=meet.internal\n'));
    assert.ok(!out.includes('hostname'));
  });

  test('a missing key is added inside the existing block, indented like its neighbours', () => {
    const out = assertIdempotent((t) => setHocon(t, SHARD, { DISABLE_CERTIFICATE_VERIFICATION: true }), jvb);
    assert.ok(
      out.includes(
        '            MUC_NICKNAME=5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d\n            DISABLE_CERTIFICATE_VERIFICATION = true\n        }\n',
      ),
    );
    assert.equal(getHocon(out, [...SHARD, 'DISABLE_CERTIFICATE_VERIFICATION']), 'true');
  });

  test('a missing block is created as nested blocks in the deepest existing object', () => {
    const out = assertIdempotent(
      (t) => setHocon(t, ['videobridge', 'apis', 'xmpp-client', 'configs', 'shard2'], { HOSTNAME: 'h', PORT: 5222 }),
      jvb,
    );
    assert.ok(
      out.includes(
        '            MUC_NICKNAME=5b4f6a4e-1c1d-4a55-9d0e-0f5e2a1b7c3d\n        }\n        shard2 {\n            HOSTNAME = "h"\n            PORT = 5222\n        }\n    }\n',
      ),
    );
    const fresh = assertIdempotent(
      (t) => setHocon(t, ['videobridge', 'websockets'], { enabled: false }),
      'ice4j {\n  a = 1\n}\n',
    );
    assert.equal(fresh, 'ice4j {\n  a = 1\n}\nvideobridge {\n  websockets {\n    enabled = false\n  }\n}\n');
    assert.equal(setHocon(null, ['a'], { b: 'c' }), 'a {\n    b = "c"\n}\n');
  });

  test('the last of several definitions is the one edited (HOCON merges, last wins)', () => {
    const text = 'a { b = 1 }\na.b = 2\n';
    assert.equal(getHocon(text, ['a', 'b']), '2');
    assert.equal(setHocon(text, ['a'], { b: 3 }), 'a { b = 1 }\na.b = 3\n');
  });

  test('comments, arrays, substitutions, includes, triple quotes and root braces', () => {
    const text = [
      '{',
      '  include "other.conf"',
      '  # comment with { brace',
      '  list = [ "a", { x = "}" } ] // trailing',
      '  path = ${HOME}"/x"',
      '  multi = """a "quoted" } thing"""',
      '  obj { inner: "v", other = 2 }',
      '}',
      '',
    ].join('\n');
    assert.equal(getHocon(text, ['path']), '${HOME}"/x"');
    assert.equal(getHocon(text, ['multi']), 'a "quoted" } thing');
    assert.equal(getHocon(text, ['obj', 'inner']), 'v');
    const out = assertIdempotent((t) => setHocon(t, ['obj'], { inner: 'w', added: true }), text);
    assert.ok(out.includes('  obj { inner: "w", other = 2 \n    added = true\n  }\n}'), out);
    const top = setHocon(text, ['x'], { y: 1 });
    assert.ok(top.endsWith('  x {\n    y = 1\n  }\n}\n'), top);
  });

  test('CRLF files get CRLF lines', () => {
    assert.equal(setHocon('a {\r\n  b = 1\r\n}\r\n', ['a'], { c: 2 }), 'a {\r\n  b = 1\r\n  c = 2\r\n}\r\n');
  });

  test('broken files are refused with a position, never half-edited', () => {
    assert.throws(
      () => parseHocon('a {\n  b = 1\n'),
      (e: unknown) => e instanceof HoconSyntaxError && /line 3, column 1: missing }/.test(e.message),
    );
    assert.throws(() => parseHocon('a = "open\n'), /line 1, column 5: unterminated string/);
    assert.throws(() => setHocon('a }', ['a'], { b: 1 }), /line 1, column 3: no value for a/);
    assert.throws(() => parseHocon('b = 1\n}\n'), /line 2, column 1: unexpected }/);
  });
});
