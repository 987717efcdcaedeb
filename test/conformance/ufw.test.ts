import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';
import { planUfwCommands } from '../../src/modules/firewall/ufw.js';
import { describeTuple, ufwVerdict, type UfwTuple } from '../../src/modules/firewall/ufw-rules.js';
import { UfwSandbox, ensureUfwReference, ufwReferenceUnavailable } from '../support/ufw-reference.js';

/*
 * review: the ufw planner's commands run by the real ufw (Debian 12's 0.36.2), each case set up with
 * the commands an operator types. After the run: every command succeeded, 5222 is refused to an
 * outsider over both families, the bridges get in, the user's own rules are all still there (but
 * the public openings of 5222 we remove), and a second plan changes nothing.
 */

ensureUfwReference();
const why = ufwReferenceUnavailable();
if (why && process.env.CI) throw new Error(`the ufw conformance test cannot run in CI: ${why}`);

const B1 = '10.77.0.11';
const B2 = '10.77.0.12';
const XMPP: PortRule = { proto: 'tcp', port: 5222, sources: [B1, B2] };
const MEDIA: PortRule = { proto: 'udp', port: 10000, sources: 'any' };

const sandboxes: UfwSandbox[] = [];
after(() => sandboxes.forEach((s) => s.remove()));

const isOpening = (t: UfwTuple) =>
  (t.action === 'allow' || t.action === 'limit') && t.dport === '5222' && !t.dapp && /^(0\.0\.0\.0|::)\/0$/.test(t.src);

function applyWithRealUfw(setup: string[][], rule: PortRule) {
  const ufw = new UfwSandbox();
  sandboxes.push(ufw);
  for (const s of setup) assert.equal(ufw.ufw(s).code, 0, `setup: ufw ${s.join(' ')}`);
  const before = ufw.rules();
  const state = { ...before, ipv6: true, defaultInput: 'deny' as const };
  const log = planUfwCommands(state, rule).commands.map((c) => {
    const r = ufw.ufw(c.argv.slice(1));
    return { ok: r.code === 0 && !/Skipping|ERROR/.test(r.out), line: `${c.argv.join(' ')} -> ${r.out}` };
  });
  const now = ufw.rules();
  const text = [...log.map((l) => l.line), 'after:', ...[...now.v4, ...now.v6].map(describeTuple)].join('\n');
  return { before, now, log, text, again: planUfwCommands({ ...state, ...now }, rule).commands };
}

function judge(r: ReturnType<typeof applyWithRealUfw>, rule: PortRule): void {
  assert.ok(
    r.log.every((l) => l.ok),
    `every command did what it was planned for:\n${r.text}`,
  );
  const users = (l: UfwTuple[]) =>
    l
      .filter((t) => !t.comment.startsWith('jitsi-scale-') && !(rule.sources !== 'any' && isOpening(t)))
      .map(describeTuple)
      .sort();
  assert.deepEqual(users(r.now.v4), users(r.before.v4), `the user's IPv4 rules are kept:\n${r.text}`);
  assert.deepEqual(users(r.now.v6), users(r.before.v6), `the user's IPv6 rules are kept:\n${r.text}`);
  if (rule.sources !== 'any')
    for (const [family, list] of [
      ['IPv4', r.now.v4],
      ['IPv6', r.now.v6],
    ] as const) {
      const inputOnly = list.filter((t) => !(t as { forward?: boolean }).forward && !t.action.startsWith('route:'));
      const k = { proto: rule.proto, port: rule.port, from: 'outsider' as const };
      assert.equal(ufwVerdict(inputOnly, k, 'deny', rule.sources).admitted, false, `${family} outsider:\n${r.text}`);
    }
  assert.deepEqual(
    r.again.map((c) => c.argv.join(' ')),
    [],
    `a second plan changes nothing:\n${r.text}`,
  );
}

describe('review: the ufw plan, run by the real ufw', { skip: why ?? false }, () => {
  test("the lab's quick-start rules and a guide's public 5222/tcp", () => {
    const setup = ['22/tcp', '80/tcp', '443/tcp', '10000/udp', '3478/udp', '5349/tcp', '5222/tcp'].map((p) => [
      'allow',
      p,
    ]);
    judge(applyWithRealUfw(setup, XMPP), XMPP);
  });

  test("review: Debian's XMPP application profile (5222/tcp|5269/tcp) before SSH: the IPv6 deny lands after it", () => {
    judge(
      applyWithRealUfw(
        [
          ['allow', 'XMPP'],
          ['allow', '22/tcp'],
        ],
        XMPP,
      ),
      XMPP,
    );
  });

  test("review: the XMPP profile and a guide's public 5222/tcp: a delete by number removes the user's port 80 rule", () => {
    const setup = [
      ['allow', '22/tcp'],
      ['allow', 'XMPP'],
      ['allow', '5222/tcp'],
      ['allow', '80/tcp'],
    ];
    judge(applyWithRealUfw(setup, XMPP), XMPP);
  });

  test('bridges of both families, the XMPP profile, a public 5222 and a limited range', () => {
    const both: PortRule = { proto: 'tcp', port: 5222, sources: [B1, 'fd77:7::b', 'fd77:7::c'] };
    const setup = [
      ['allow', 'XMPP'],
      ['allow', '22/tcp'],
      ['allow', '5222/tcp'],
      ['limit', '5000:6000/tcp'],
    ];
    judge(applyWithRealUfw(setup, both), both);
  });

  test("review: a bridge's `ufw route allow` for the media port is deleted as if it were an incoming rule", () => {
    const setup = [
      ['allow', '22/tcp'],
      ['route', 'allow', 'proto', 'udp', 'from', 'any', 'to', 'any', 'port', '10000'],
    ];
    judge(applyWithRealUfw(setup, MEDIA), MEDIA);
  });

  test("review: the meet host's `ufw route deny` for 5222 is deleted when our deny goes in", () => {
    const setup = [
      ['allow', '22/tcp'],
      ['route', 'deny', 'proto', 'tcp', 'from', 'any', 'to', 'any', 'port', '5222'],
      ['allow', '5000:6000/tcp'],
    ];
    judge(applyWithRealUfw(setup, XMPP), XMPP);
  });
});
