import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EVERYWHERE_LINE,
  c2sLine,
  decideC2s,
  evaluateProsody,
  listensFor,
} from '../../playbooks/jitsi-load-balancing/prosody-config.js';
import { ensureLineAtTop } from '../../src/modules/text/ensure-line-at-top.js';

const MAIN = '/etc/prosody/prosody.cfg.lua';
const ADDRESS = '10.0.0.1';

/** What the bind step decides for a main file's text. */
function decide(text: string, mode: 'private' | 'all' = 'private') {
  const config = evaluateProsody(MAIN, new Map([[MAIN, text]]), []);
  return decideC2s(config.c2sInterfaces, config.c2sInterfacesAt, mode, ADDRESS);
}

/** The file after the bind step's edit, as the step makes it. */
function apply(text: string, mode: 'private' | 'all' = 'private'): string {
  const d = decide(text, mode);
  if ('keep' in d) return text;
  return ensureLineAtTop(text, { line: d.line, conflicts: /^\s*c2s_interfaces\s*=/, commentPrefix: '--' });
}

describe('c2s bound to loopback and the private address by default', () => {
  test('loopback only: widened to loopback and the private address, no further', () => {
    const d = decide('c2s_interfaces = { "127.0.0.1" }\nadmins = { }\n');
    assert.ok('line' in d);
    assert.equal(d.line, 'c2s_interfaces = { "127.0.0.1", "::1", "10.0.0.1" }');
    assert.equal(d.widens, true, 'a wider binding waits for the firewall');
    assert.match(d.note, /keeps the bridges out; it becomes \{ "127\.0\.0\.1", "::1", "10\.0\.0\.1" \}/);
  });

  test('an interface the user listed is kept beside ours', () => {
    const d = decide('c2s_interfaces = { "127.0.0.1", "192.168.7.2" }\n');
    assert.ok('line' in d);
    assert.equal(d.line, 'c2s_interfaces = { "127.0.0.1", "::1", "192.168.7.2", "10.0.0.1" }');
  });

  test('a second run changes nothing: the private address is already there', () => {
    const once = apply('c2s_interfaces = { "127.0.0.1" }\n');
    assert.equal(once.split('\n')[0], 'c2s_interfaces = { "127.0.0.1", "::1", "10.0.0.1" }');
    assert.match(once, /^-- c2s_interfaces = \{ "127\.0\.0\.1" \} \(disabled by jitsi-scale\)$/m);
    assert.ok('keep' in decide(once));
    assert.equal(apply(once), once);
  });

  test('an earlier run\'s { "*" } at the top is narrowed, and that opens nothing', () => {
    const earlier = `${EVERYWHERE_LINE}\n-- c2s_interfaces = { "127.0.0.1" } (disabled by jitsi-scale)\n`;
    const d = decide(earlier);
    assert.ok('line' in d);
    assert.equal(d.widens, false, 'narrowing needs no firewall first');
    assert.match(d.note, /an earlier run of jitsi-scale wrote; it is narrowed to loopback and 10\.0\.0\.1/);
    const after = apply(earlier);
    assert.equal(after.split('\n')[0], 'c2s_interfaces = { "127.0.0.1", "::1", "10.0.0.1" }');
    assert.equal(apply(after), after);
  });

  test('Prosody\'s default, or a { "*" } the user wrote below the top, is left alone with a word', () => {
    const def = decide('admins = { }\n');
    assert.ok('keep' in def);
    assert.equal(def.warn, true);
    assert.match(def.keep, /all interfaces \(Prosody's default, all interfaces\), left as it is/);
    const theirs = decide('admins = { }\nc2s_interfaces = { "*" }\n');
    assert.ok('keep' in theirs);
  });

  test('jitsi_c2s_interfaces: all listens everywhere, and keeps an everywhere it finds', () => {
    const d = decide('c2s_interfaces = { "127.0.0.1", "::1", "10.0.0.1" }\n', 'all');
    assert.ok('line' in d);
    assert.equal(d.line, EVERYWHERE_LINE);
    assert.ok('keep' in decide('admins = { }\n', 'all'));
    assert.ok('keep' in decide(`${EVERYWHERE_LINE}\n`, 'all'), 'all: our own { "*" } stays');
  });

  test('listening for the bridges means everywhere, or on the address they reach', () => {
    assert.ok(listensFor(undefined, ADDRESS));
    assert.ok(listensFor('{ "::" }', ADDRESS));
    assert.ok(listensFor("{ '127.0.0.1', '10.0.0.1' }", ADDRESS));
    assert.ok(!listensFor('{ "127.0.0.1", "::1" }', ADDRESS));
    assert.equal(c2sLine(['127.0.0.1', '::1', '127.0.0.1']), 'c2s_interfaces = { "127.0.0.1", "::1" }');
  });
});
