import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ensureLineAtTop } from '../../src/modules/text/ensure-line-at-top.js';
import { getProperty, parseProperties, setProperties } from '../../src/modules/properties/properties.js';
import { getShellVar, setShellVars } from '../../src/modules/shell-vars/shell-vars.js';
import { assertIdempotent, fixture } from '../support/fixtures.js';

describe('line at the top of a file', () => {
  const prosody = {
    line: 'component_interface = "0.0.0.0"',
    conflicts: /^\s*component_interface\s*=/,
    commentPrefix: '--',
  };

  test('goes first, and a conflicting assignment further down is disabled', () => {
    const out = assertIdempotent((t) => ensureLineAtTop(t, prosody), fixture('jitsi/prosody.cfg.lua'));
    const lines = out.split('\n');
    assert.equal(lines[0], 'component_interface = "0.0.0.0"');
    assert.ok(lines.includes('-- component_interface = "127.0.0.1" (disabled by jitsi-scale)'));
    assert.equal(out.match(/^component_interface/gm)?.length, 1);
    assert.ok(out.endsWith('Include "conf.d/*.cfg.lua"\n'));
  });

  test('in a script it goes right after the shebang', () => {
    const line = 'sed -i "s/x/y/" /etc/jitsi/videobridge/jvb.conf';
    const out = assertIdempotent((t) => ensureLineAtTop(t, { line, afterShebang: true }), fixture('jitsi/jvb.sh'));
    assert.deepEqual(out.split('\n').slice(0, 3), ['#!/bin/bash', line, '# launcher, written for our tests']);
  });

  test('an existing copy elsewhere is moved, not duplicated', () => {
    assert.equal(ensureLineAtTop('a\nX\nb\nX\n', { line: 'X' }), 'X\na\nb\n');
  });

  test('already in place: the very same text comes back', () => {
    const text = 'X\nrest\n';
    assert.equal(ensureLineAtTop(text, { line: 'X' }), text);
  });

  test('CRLF files stay CRLF, a missing final newline stays missing, a missing file is created', () => {
    assert.equal(ensureLineAtTop('a\r\nb', { line: 'X' }), 'X\r\na\r\nb');
    assert.equal(ensureLineAtTop(null, { line: 'X' }), 'X\n');
    assert.equal(ensureLineAtTop('', { line: 'X' }), 'X\n');
  });
});

describe('Java .properties', () => {
  const P = 'org.jitsi.videobridge.xmpp.user.shard.';

  test('sets values in place, keeping comments, order and other keys', () => {
    const src = fixture('jitsi/sip-communicator.properties');
    const out = assertIdempotent(
      (t) => setProperties(t, { [`${P}HOSTNAME`]: '10.0.0.10', [`${P}DISABLE_CERTIFICATE_VERIFICATION`]: 'true' }),
      src,
    );
    const before = src.split('\n');
    const after = out.split('\n');
    assert.equal(after[0], before[0], 'comment kept');
    assert.equal(after[4], `${P}HOSTNAME=10.0.0.10`);
    assert.equal(after.length, before.length + 1, 'one line appended');
    assert.deepEqual(
      after.slice(0, before.length - 1).filter((l, n) => l !== before[n]),
      [`${P}HOSTNAME=10.0.0.10`],
      'one line replaced',
    );
    assert.equal(after[after.length - 2], `${P}DISABLE_CERTIFICATE_VERIFICATION=true`);
    assert.equal(getProperty(out, `${P}DISABLE_CERTIFICATE_VERIFICATION`), 'true');
    assert.equal(getProperty(out, `${P}PASSWORD`), 's3cr3t-Pa55');
  });

  test('separators, continuation lines and escapes are read as Java reads them', () => {
    const text = 'a = 1\nb: two\nc three\nlong=first \\\n    second\nesc\\=key=x\\:y\nuni=\\u0041\n! bang comment\n';
    const map = Object.fromEntries(parseProperties(text).map((e) => [e.key, e.value]));
    assert.deepEqual(map, { a: '1', b: 'two', c: 'three', long: 'first second', 'esc=key': 'x:y', uni: 'A' });
    assert.equal(setProperties(text, { a: '1', uni: 'A' }), text, 'equal values are not rewritten');
    assert.equal(setProperties(text, { b: '2' }), text.replace('b: two', 'b: 2'), 'the separator style is kept');
    const out = setProperties(text, { long: 'one' });
    assert.ok(out.includes('long=one\nesc'), 'a continued value is replaced whole');
  });

  test('a value with special characters is escaped, and reads back the same', () => {
    const out = setProperties('', { 'k:ey': ' lead\\back\nline' });
    assert.equal(getProperty(out, 'k:ey'), ' lead\\back\nline');
    assert.equal(setProperties(out, { 'k:ey': ' lead\\back\nline' }), out);
  });

  test('duplicate keys: the effective (last) one is set, earlier ones commented out', () => {
    const out = assertIdempotent((t) => setProperties(t, { k: 'new' }), 'k=old1\nx=1\nk=old2\n');
    assert.equal(out, '#k=old1\nx=1\nk=new\n');
  });

  test('null disables every definition of a key', () => {
    assert.equal(
      assertIdempotent((t) => setProperties(t, { k: null }), 'k=1\nk=2\n'),
      '#k=1\n#k=2\n',
    );
  });

  test('CRLF and a missing final newline are kept', () => {
    assert.equal(setProperties('a=1\r\nb=2', { b: '3', c: '4' }), 'a=1\r\nb=3\r\nc=4');
  });
});

describe('shell variable files', () => {
  test('sets KEY="value" in place and appends missing keys', () => {
    const src = fixture('jitsi/config.legacy');
    const out = assertIdempotent((t) => setShellVars(t, { JVB_HOST: '10.0.0.10', JVB_SECRET: null, NEW: 'a b' }), src);
    assert.match(out, /^JVB_HOST="10\.0\.0\.10"$/m);
    assert.match(out, /^#JVB_SECRET=s3cr3t-Pa55$/m);
    assert.ok(out.endsWith('NEW="a b"\n'));
    assert.equal(getShellVar(out, 'JVB_OPTS'), '--apis=,');
  });

  test('quoted, single-quoted and bare values compare by what the shell sees', () => {
    const text = `A="x y"\nB='q'\nC=plain\nexport D="a\\"b"\n`;
    assert.equal(setShellVars(text, { A: 'x y', B: 'q', C: 'plain', D: 'a"b' }), text);
    assert.equal(setShellVars(text, { D: 'new' }), text.replace('export D="a\\"b"', 'export D="new"'));
  });

  test('values are quoted so that the shell expands nothing', () => {
    const out = setShellVars(null, { V: 'a $HOME `id` "q" \\' });
    assert.equal(out, 'V="a \\$HOME \\`id\\` \\"q\\" \\\\"\n');
    assert.equal(getShellVar(out, 'V'), 'a $HOME `id` "q" \\');
  });

  test('duplicates: the last assignment is set, earlier ones commented out; CRLF kept', () => {
    assert.equal(setShellVars('K=1\r\nK=2\r\n', { K: '3' }), '#K=1\r\nK="3"\r\n');
  });
});
