import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';
import { planUfwCommands, type UfwState } from '../../src/modules/firewall/ufw.js';
import {
  beforeRulesAccepting,
  parseTupleLine,
  ufwVerdict,
  type UfwTuple,
} from '../../src/modules/firewall/ufw-rules.js';

/*
 * review: ufw's numbering as ufw 0.36.2 (Debian 12) really does it, read from its source:
 * - `ufw status numbered` and `ufw delete N` count the rules of user.rules, then user6.rules, and
 *   the tuples of one application rule (same application, source and destination: an application
 *   profile with several port entries, as Debian's own "XMPP" = 5222/tcp|5269/tcp) count once
 *   (backend.py get_rule_by_number, get_rules_count);
 * - `ufw insert N` of an IPv6 rule puts it at N minus that count of IPv4 entries in user6.rules,
 *   and refuses N up to it (frontend.py set_rule); inside one family the position counts tuples,
 *   and one that falls between two tuples of one application rule moves past them
 *   (backend_iptables.py set_rule);
 * - inserting a rule that ufw takes for one already there does nothing and still exits 0
 *   ("Skipping inserting existing rule");
 * - a route rule (`ufw route allow …`, tuple action "route:allow") is a FORWARD rule: it is no
 *   incoming rule, and ufw tells it apart from one (common.py UFWRule.match compares `forward`).
 * test/conformance/ufw.test.ts runs the same plans through the real ufw.
 */

const B1 = '10.77.0.11';
const B2 = '10.77.0.12';
const XMPP: PortRule = { proto: 'tcp', port: 5222, sources: [B1, B2] };
const MEDIA: PortRule = { proto: 'udp', port: 10000, sources: 'any' };

const t4 = (body: string) => parseTupleLine(`### tuple ### ${body}`, false)!;
const t6 = (body: string) => parseTupleLine(`### tuple ### ${body}`, true)!;
const both = (bodies: string[]): UfwState => ({
  v4: bodies.map(t4),
  v6: bodies.map((b) => t6(b.replace(/0\.0\.0\.0\/0/g, '::/0'))),
  ipv6: true,
  defaultInput: 'deny',
});

/** Debian's /etc/ufw/applications.d/ufw-chat "XMPP" profile, as `ufw allow XMPP` writes it. */
const APP_XMPP = [
  'allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 XMPP - in',
  'allow tcp 5269 0.0.0.0/0 any 0.0.0.0/0 XMPP - in',
];
const SSH = 'allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in';
const HTTP = 'allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in';
const PUBLIC_5222 = 'allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in';

/** A route rule, however the parser keeps it (a `forward` flag, or the tuple's "route:" action). */
const forward = (t: UfwTuple) => (t as { forward?: boolean }).forward === true || t.action.startsWith('route:');
const app = (t: UfwTuple) =>
  t.dapp || t.sapp ? `${t.dapp} ${t.dst} ${t.sapp} ${t.src} ${t.direction}_${t.iface}` : '';
/** ufw's own "same rule": everything but action, logging and comment, route or not included. */
const sameRule = (a: UfwTuple, b: UfwTuple) =>
  (['proto', 'dport', 'dst', 'sport', 'src', 'dapp', 'sapp', 'direction', 'iface', 'v6'] as const).every(
    (k) => a[k] === b[k],
  ) && forward(a) === forward(b);

/** The entries `ufw status numbered` shows for a family's tuples: an application rule once. */
function entries(list: readonly UfwTuple[]): UfwTuple[][] {
  const out: UfwTuple[][] = [];
  const seen = new Map<string, UfwTuple[]>();
  for (const t of list) {
    const key = app(t);
    const group = key ? seen.get(key) : undefined;
    if (group) group.push(t);
    else {
      out.push([t]);
      if (key) seen.set(key, out[out.length - 1]!);
    }
  }
  return out;
}

interface Live {
  v4: UfwTuple[];
  v6: UfwTuple[];
}

/** One ufw command as ufw 0.36.2 carries it out on the rule files (see above); its message. */
function realUfw(live: Live, argv: readonly string[]): string {
  const args = argv.slice(1);
  const n4 = entries(live.v4).length;
  if (args[0] === '--force' && args[1] === 'delete') {
    const n = Number(args[2]);
    const all = [...entries(live.v4), ...entries(live.v6)];
    const group = all[n - 1];
    if (!group) return `ERROR: Could not find rule '${n}'`;
    const list = group[0]!.v6 ? live.v6 : live.v4;
    for (const t of group) list.splice(list.indexOf(t), 1);
    return 'Rules updated';
  }
  let position = 0;
  let rest = args;
  if (rest[0] === 'insert') {
    position = Number(rest[1]);
    rest = rest.slice(2);
  }
  const word = (w: string) => rest[rest.indexOf(w) + 1]!;
  const src = word('from');
  const v6 = src.includes(':');
  const proto = rest.includes('proto') ? word('proto') : 'any';
  const body = `${rest[0]} ${proto} ${word('port')} ${v6 ? '::/0' : '0.0.0.0/0'} any ${src} in`;
  const rule = { ...(v6 ? t6 : t4)(body), comment: word('comment') };
  const list = v6 ? live.v6 : live.v4;
  if (position > n4 + entries(live.v6).length) return `ERROR: Invalid position '${position}'`;
  if (position > 0) {
    if (!v6 && position > n4) return `ERROR: Invalid position '${position}'`;
    if (v6 && position <= n4) return `ERROR: Invalid position '${position}'`;
    let p = v6 ? position - n4 : position;
    if (p > list.length) return `ERROR: Invalid position '${position}'`;
    if (list.some((t) => sameRule(t, rule))) return 'Skipping inserting existing rule';
    // A position between two tuples of one application rule moves past them.
    while (p > 1 && p <= list.length && app(list[p - 2]!) !== '' && app(list[p - 2]!) === app(list[p - 1]!)) p++;
    list.splice(p - 1, 0, rule);
    return 'Rules updated';
  }
  const same = list.findIndex((t) => sameRule(t, rule));
  if (same >= 0) list[same] = rule;
  else list.push(rule);
  return 'Rules updated';
}

/** Runs a plan as real ufw would, and says what went wrong on the way. */
function run(state: UfwState, rule: PortRule): { live: Live; log: string[] } {
  const live = { v4: [...state.v4], v6: [...state.v6] };
  const log = planUfwCommands(state, rule).commands.map((c) => `${c.argv.join(' ')} -> ${realUfw(live, c.argv)}`);
  return { live, log };
}

const outsiderIn = (list: readonly UfwTuple[]) =>
  ufwVerdict(
    list.filter((t) => !forward(t)),
    { proto: 'tcp', port: 5222, from: 'outsider' },
    'deny',
    [B1, B2],
  ).admitted;

describe('review: ufw numbers rules as real ufw does', () => {
  test("review: Debian's XMPP application profile before SSH: after the run, 5222 is still open to every IPv6 outsider", () => {
    const { live, log } = run(both([...APP_XMPP, SSH]), XMPP);
    assert.ok(
      log.every((l) => l.endsWith('Rules updated')),
      log.join('\n'),
    );
    assert.equal(outsiderIn(live.v4), false, `IPv4\n${log.join('\n')}`);
    assert.equal(outsiderIn(live.v6), false, `IPv6: our deny landed after the XMPP rule\n${log.join('\n')}`);
  });

  test("review: the XMPP profile and a guide's `ufw allow 5222/tcp`: the delete meant for 5222 removes the user's port 80 rule", () => {
    const state = both([SSH, ...APP_XMPP, PUBLIC_5222, HTTP]);
    const { live, log } = run(state, XMPP);
    const kept = (l: UfwTuple[]) =>
      l.filter((t) => t.comment === '').map((t) => `${t.dport}${t.dapp ? ` ${t.dapp}` : ''}`);
    assert.deepEqual(kept(live.v4), ['22', '5222 XMPP', '5269 XMPP', '80'], `IPv4 rules kept\n${log.join('\n')}`);
    assert.deepEqual(kept(live.v6), ['22', '5222 XMPP', '5269 XMPP', '80'], `IPv6 rules kept\n${log.join('\n')}`);
    assert.ok(!log.some((l) => /ERROR|Skipping/.test(l)), log.join('\n'));
    assert.equal(outsiderIn(live.v4) || outsiderIn(live.v6), false, log.join('\n'));
  });
});

describe('review: a route rule is no incoming rule', () => {
  test("review: on a bridge, the user's `ufw route allow 10000/udp` is deleted as if it kept the media port closed", () => {
    const state = both([SSH, 'route:allow udp 10000 0.0.0.0/0 any 0.0.0.0/0 in']);
    const commands = planUfwCommands(state, MEDIA).commands.map((c) => c.argv.join(' '));
    assert.ok(!commands.some((c) => / delete /.test(c)), `nothing of the user's is deleted:\n${commands.join('\n')}`);
  });

  test("review: on the meet host, the user's `ufw route deny 5222/tcp` is deleted when our deny goes in", () => {
    const state = both([
      SSH,
      'route:deny tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in',
      'allow tcp 5000:6000 0.0.0.0/0 any 0.0.0.0/0 in',
    ]);
    const { live, log } = run(state, XMPP);
    assert.equal(live.v4.filter(forward).length, 1, `the IPv4 route rule is kept\n${log.join('\n')}`);
    assert.equal(live.v6.filter(forward).length, 1, `the IPv6 route rule is kept\n${log.join('\n')}`);
  });
});

describe("review: ufw's before.rules", () => {
  test('review: an ACCEPT for every port of an interface or a network in before.rules admits 5222 before any user rule', () => {
    const before = [
      '-A ufw-before-input -i lo -j ACCEPT',
      '-A ufw-before-input -i eth1 -j ACCEPT',
      '-A ufw-before-input -s 198.51.100.0/24 -j ACCEPT',
      '-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ].join('\n');
    assert.deepEqual(beforeRulesAccepting(before, 5222), [
      '-A ufw-before-input -i eth1 -j ACCEPT',
      '-A ufw-before-input -s 198.51.100.0/24 -j ACCEPT',
    ]);
  });

  test("review: before6.rules' chain is ufw6-before-input: an IPv6 ACCEPT of 5222 there is not seen", () => {
    const before6 = '-A ufw6-before-input -i lo -j ACCEPT\n-A ufw6-before-input -p tcp --dport 5222 -j ACCEPT\n';
    assert.deepEqual(beforeRulesAccepting(before6, 5222), ['-A ufw6-before-input -p tcp --dport 5222 -j ACCEPT']);
  });

  test("Debian's own before.rules and before6.rules accept nothing on 5222", () => {
    const defaults = [
      '-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A ufw-before-input -p icmp --icmp-type echo-request -j ACCEPT',
      '-A ufw-before-input -p udp --sport 67 --dport 68 -j ACCEPT',
      '-A ufw-before-input -p udp -d 224.0.0.251 --dport 5353 -j ACCEPT',
      '-A ufw6-before-input -i lo -j ACCEPT',
      '-A ufw6-before-input -p icmpv6 --icmpv6-type 130 -s fe80::/10 -j ACCEPT',
      '-A ufw6-before-input -p udp -s fe80::/10 --sport 547 -d fe80::/10 --dport 546 -j ACCEPT',
    ].join('\n');
    assert.deepEqual(beforeRulesAccepting(defaults, 5222), []);
  });
});
