import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PortRule } from '../../src/modules/firewall/port-rule.js';
import { planUfwCommands, type UfwCommand, type UfwState } from '../../src/modules/firewall/ufw.js';
import {
  beforeRulesAccepting,
  parseTupleLine,
  parseUfwDefaults,
  parseUfwRules,
  portSpecHas,
  ufwVerdict,
  type UfwTuple,
} from '../../src/modules/firewall/ufw-rules.js';

/*
 * ufw's first-match order, attacked: every form of user rule that admits 5222 (exact, range, list,
 * limit, logging, interface, application profile, a network, a source port, a destination) before
 * ours. The planned commands are run through a small interpreter of ufw's numbering (IPv4 rules
 * first, then IPv6; `insert N`, a plain add at the family's end, `--force delete N`, ufw's refusal
 * of a rule that differs only in its action), and the resulting lists are judged by first match:
 * the outsider refused, every bridge admitted, at every step, and the user's other rules kept.
 */

const B1 = '10.77.0.11';
const B2 = '10.77.0.12';
const XMPP: PortRule = { proto: 'tcp', port: 5222, sources: [B1, B2] };
const tag = Buffer.from('jitsi-scale-tcp-5222').toString('hex');

const line = (body: string, comment?: string) => `### tuple ### ${body}${comment ? ` comment=${comment}` : ''}`;
const v4 = (body: string, comment?: string) => parseTupleLine(line(body, comment), false)!;
const v6 = (body: string, comment?: string) => parseTupleLine(line(body, comment), true)!;

/** The quick-start rules of the lab's ubuntu-ufw profile (a guide's `ufw allow …` list). */
const QUICK_START = ['22', '80', '443'].map((p) => `allow tcp ${p} 0.0.0.0/0 any 0.0.0.0/0 in`);

/** Hostile rules, each a form that admits 5222/tcp from some outsider, put before everything of ours. */
const HOSTILE: Record<string, string> = {
  exact: 'allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in',
  'any protocol': 'allow any 5222 0.0.0.0/0 any 0.0.0.0/0 in',
  range: 'allow tcp 5000:6000 0.0.0.0/0 any 0.0.0.0/0 in',
  list: 'allow tcp 5222,5269 0.0.0.0/0 any 0.0.0.0/0 in',
  'list with a range': 'allow tcp 80,443,5200:5300 0.0.0.0/0 any 0.0.0.0/0 in',
  limit: 'limit tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in',
  'allow with logging': 'allow_log tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in',
  interface: 'allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in_eth0',
  'application profile': 'allow tcp 5222,5269 0.0.0.0/0 any 0.0.0.0/0 Prosody - in',
  'a network': 'allow any 5222 0.0.0.0/0 any 10.0.0.0/8 in',
  'every port from a network on an interface': 'allow any any 0.0.0.0/0 any 198.51.100.0/24 in_eth0',
  'a source port': 'allow tcp any 0.0.0.0/0 5222 0.0.0.0/0 in',
  'a destination': 'allow tcp 5222 10.77.0.10 any 0.0.0.0/0 in',
};

/** ufw as far as its numbering and its refusals go. */
function runUfw(state: { v4: UfwTuple[]; v6: UfwTuple[] }, cmd: string[]): void {
  const args = cmd.slice(1);
  if (args[0] === '--force' && args[1] === 'delete') {
    const n = Number(args[2]);
    assert.ok(n >= 1 && n <= state.v4.length + state.v6.length, `delete ${n}: no such rule`);
    if (n <= state.v4.length) state.v4.splice(n - 1, 1);
    else state.v6.splice(n - 1 - state.v4.length, 1);
    return;
  }
  let position: number | null = null;
  let rest = args;
  if (rest[0] === 'insert') {
    position = Number(rest[1]);
    rest = rest.slice(2);
  }
  // ACTION [proto P] from SRC to any port PORT comment TAG
  const word = (w: string) => rest[rest.indexOf(w) + 1]!;
  const [action, proto, src, port, comment] = [
    rest[0]!,
    rest.includes('proto') ? word('proto') : 'any',
    word('from'),
    word('port'),
    word('comment'),
  ];
  const isV6 = src.includes(':');
  const t = (isV6 ? v6 : v4)(
    `${action} ${proto} ${port} ${isV6 ? '::/0' : '0.0.0.0/0'} any ${src} in`,
    Buffer.from(comment).toString('hex'),
  );
  const list = isV6 ? state.v6 : state.v4;
  const same = list.find(
    (x) =>
      x.proto === t.proto &&
      x.dport === t.dport &&
      x.src === t.src &&
      x.dst === t.dst &&
      x.sport === t.sport &&
      x.iface === t.iface &&
      x.dapp === t.dapp,
  );
  assert.equal(same, undefined, `ufw would skip or update ${cmd.join(' ')}: the same rule exists`);
  if (position === null) {
    list.push(t);
    return;
  }
  const base = isV6 ? state.v4.length : 0;
  const index = position - 1 - base;
  assert.ok(index >= 0 && index < list.length, `insert ${position}: invalid position for this family`);
  list.splice(index, 0, t);
}

function judge(state: { v4: UfwTuple[]; v6: UfwTuple[] }, when: string): void {
  for (const [family, list] of [
    ['IPv4', state.v4],
    ['IPv6', state.v6],
  ] as const) {
    const outsider = ufwVerdict(list, { proto: 'tcp', port: 5222, from: 'outsider' }, 'deny', [B1, B2]);
    assert.equal(outsider.admitted, false, `${when}: an ${family} outsider is refused`);
  }
  for (const b of [B1, B2])
    assert.equal(
      ufwVerdict(state.v4, { proto: 'tcp', port: 5222, from: b }, 'deny').admitted,
      true,
      `${when}: ${b} gets in`,
    );
}

/** The same rule body for IPv6 (the addresses swapped for IPv6 ones). */
const toV6 = (body: string) =>
  body
    .replace(/0\.0\.0\.0\/0/g, '::/0')
    .replace('10.0.0.0/8', 'fd00::/8')
    .replace('198.51.100.0/24', '2001:db8::/32')
    .replace('10.77.0.10', 'fd77:7::a');

const stateOf = (v4s: string[], v6s: string[] = []): UfwState => ({
  v4: v4s.map((b) => v4(b)),
  v6: v6s.map((b) => v6(b)),
  ipv6: true,
  defaultInput: 'deny',
});

/** Plans, runs every command, and checks the bridges were never cut off on the way. */
function apply(state: UfwState, rule = XMPP): { after: { v4: UfwTuple[]; v6: UfwTuple[] }; commands: UfwCommand[] } {
  const { commands } = planUfwCommands(state, rule);
  const live = { v4: [...state.v4], v6: [...state.v6] };
  const wasOpen = (b: string) =>
    ufwVerdict(live.v4, { proto: 'tcp', port: 5222, from: b }, state.defaultInput).admitted;
  const bridgesIn = (rule.sources === 'any' ? [] : rule.sources).filter(wasOpen);
  for (const c of commands) {
    runUfw(live, c.argv);
    for (const b of bridgesIn) assert.ok(wasOpen(b), `${b} was cut off after "${c.argv.join(' ')}"`);
  }
  return { after: live, commands };
}

describe('ufw rules as ufw keeps them', () => {
  test('every tuple form: plain, application, interface, logging, comment', () => {
    assert.deepEqual(
      parseUfwRules(
        [
          line('allow tcp 5222,5269 0.0.0.0/0 any 0.0.0.0/0 Prosody - in'),
          line('limit_log tcp 22 0.0.0.0/0 any 0.0.0.0/0 in_eth0', tag),
          'not a tuple',
        ].join('\n'),
        false,
      ).map((t) => [t.action, t.log, t.dport, t.dapp, t.iface, t.comment]),
      [
        ['allow', false, '5222,5269', 'Prosody', '', ''],
        ['limit', true, '22', '', 'eth0', 'jitsi-scale-tcp-5222'],
      ],
    );
  });

  test('port fields: one, a range, a list, a list with ranges, any', () => {
    assert.equal(portSpecHas('5222', 5222), true);
    assert.equal(portSpecHas('5000:6000', 5222), true);
    assert.equal(portSpecHas('5223:6000', 5222), false);
    assert.equal(portSpecHas('80,443,5200:5300', 5222), true);
    assert.equal(portSpecHas('5269,5280', 5222), false);
    assert.equal(portSpecHas('any', 5222), true);
  });

  test("ufw's defaults and the rules it loads before the user's", () => {
    assert.deepEqual(parseUfwDefaults('IPV6=no\nDEFAULT_INPUT_POLICY="ACCEPT"\n'), { input: 'accept', ipv6: false });
    assert.deepEqual(parseUfwDefaults(null), { input: 'deny', ipv6: true });
    assert.deepEqual(
      beforeRulesAccepting(
        '-A ufw-before-input -i lo -j ACCEPT\n-A ufw-before-input -p tcp -m multiport --dports 5000:6000 -j ACCEPT\n',
        5222,
      ),
      ['-A ufw-before-input -p tcp -m multiport --dports 5000:6000 -j ACCEPT'],
    );
  });

  for (const [name, body] of Object.entries(HOSTILE))
    test(`first match: a user rule admitting 5222 by ${name} lets an outsider in`, () => {
      assert.equal(ufwVerdict([v4(body)], { proto: 'tcp', port: 5222, from: 'outsider' }, 'deny').admitted, true);
    });

  test('first match: a deny for some sources does not stop the others; a deny for all does', () => {
    const open = v4('allow tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in');
    const some = v4('deny tcp 5222 0.0.0.0/0 any 192.0.2.0/24 in');
    const all = v4('deny tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in');
    const k = { proto: 'tcp' as const, port: 5222, from: 'outsider' as const };
    assert.equal(ufwVerdict([some, open], k, 'deny').admitted, true);
    assert.equal(ufwVerdict([all, open], k, 'deny').admitted, false);
    assert.equal(ufwVerdict([], k, 'accept').admitted, true, 'no rule: the default policy decides');
  });
});

describe('ufw: our rules go where they take effect', () => {
  for (const [name, body] of Object.entries(HOSTILE))
    test(`before a user rule that admits 5222 by ${name}: outsider refused, bridges in, their rule kept`, () => {
      const state = stateOf([body, ...QUICK_START], [body, ...QUICK_START].map(toV6));
      judgeFails(state, name);
      const { after } = apply(state);
      judge(after, `after the plan (${name})`);
      const exact = name === 'exact' || name === 'any protocol' || name === 'limit' || name === 'allow with logging';
      const kept = after.v4.filter((t) => t.comment === '').map((t) => t.dport);
      assert.equal(
        kept.includes(v4(body).dport),
        !exact,
        `the user's rule is ${exact ? 'removed (a public opening)' : 'kept'}`,
      );
      assert.deepEqual(planUfwCommands({ ...state, ...after }, XMPP).commands, [], 'a second plan changes nothing');
    });

  test('the quick-start rules: bridges first, then the deny, then theirs; the public 5222 goes last', () => {
    const state = stateOf([...QUICK_START, HOSTILE.exact!], [toV6(HOSTILE.exact!)]);
    const { after, commands } = apply(state);
    assert.deepEqual(
      after.v4.slice(0, 3).map((t) => `${t.action} ${t.src}`),
      [`allow ${B1}`, `allow ${B2}`, 'deny 0.0.0.0/0'],
    );
    assert.deepEqual(
      after.v4.slice(3).map((t) => t.dport),
      ['22', '80', '443'],
    );
    assert.deepEqual(
      after.v6.map((t) => `${t.action} ${t.src} ${t.comment}`),
      ['deny ::/0 jitsi-scale-tcp-5222'],
    );
    const deletes = commands.filter((c) => c.argv[2] === 'delete');
    assert.ok(
      deletes.every((c) =>
        /the public opening of 5222\/tcp: it must reach 10\.77\.0\.11, 10\.77\.0\.12 only/.test(c.why),
      ),
    );
    // every allow of a bridge comes before the first delete
    const firstDelete = commands.findIndex((c) => c.argv[2] === 'delete');
    const lastAllow = commands.map((c) => c.argv.includes('allow')).lastIndexOf(true);
    assert.ok(lastAllow < firstDelete, commands.map((c) => c.argv.join(' ')).join('\n'));
  });

  test('an empty rule set: plain adds (ufw cannot insert into an empty list)', () => {
    const { after, commands } = apply(stateOf([]));
    assert.ok(
      commands.every((c) => c.argv[1] !== 'insert'),
      commands.map((c) => c.argv.join(' ')).join('\n'),
    );
    judge(after, 'after');
  });

  test("a bridge removed from the inventory loses its allow; the others' stay at the top", () => {
    const done = apply(stateOf(QUICK_START, QUICK_START.map(toV6))).after;
    const { commands, after } = apply({ ...stateOf([]), ...done }, { ...XMPP, sources: [B2] });
    assert.deepEqual(
      commands.map((c) => c.argv.join(' ')),
      ['ufw --force delete 1'],
    );
    assert.deepEqual(
      after.v4.slice(0, 2).map((t) => `${t.action} ${t.src}`),
      [`allow ${B2}`, 'deny 0.0.0.0/0'],
    );
  });

  test('rules the user put above ours later are overtaken again', () => {
    const done = apply(stateOf(QUICK_START)).after;
    const pushed = { ...stateOf([]), v4: [v4(HOSTILE.range!), ...done.v4], v6: done.v6 };
    judgeFails(pushed, 'a range above ours');
    const { after } = apply(pushed);
    judge(after, 'after');
    assert.equal(after.v4.filter((t) => t.dport === '5000:6000').length, 1, 'their range is kept');
  });

  test('the old layout (our deny appended at the end) is moved to the top', () => {
    const old = stateOf(
      [`allow tcp 5222 0.0.0.0/0 any ${B1} in`, HOSTILE.range!, 'deny tcp 5222 0.0.0.0/0 any 0.0.0.0/0 in'],
      ['deny tcp 5222 ::/0 any ::/0 in'],
    );
    old.v4 = old.v4.map((t, i) => (i === 1 ? t : { ...t, comment: 'jitsi-scale-tcp-5222' }));
    old.v6 = old.v6.map((t) => ({ ...t, comment: 'jitsi-scale-tcp-5222' }));
    judgeFails(old, 'the old layout');
    judge(apply(old).after, 'after');
  });

  test('media on a bridge: an open range of theirs needs nothing; their deny of it is replaced by our allow', () => {
    const media: PortRule = { proto: 'udp', port: 10000, sources: 'any' };
    const knock = { proto: 'udp' as const, port: 10000, from: 'outsider' as const };
    assert.deepEqual(
      planUfwCommands(
        stateOf(['allow udp 10000:20000 0.0.0.0/0 any 0.0.0.0/0 in'], ['allow udp 10000:20000 ::/0 any ::/0 in']),
        media,
      ).commands,
      [],
    );
    const denied = stateOf(['deny udp 10000 0.0.0.0/0 any 0.0.0.0/0 in', ...QUICK_START]);
    const { commands } = planUfwCommands(denied, media);
    const live = { v4: [...denied.v4], v6: [...denied.v6] };
    for (const c of commands) runUfw(live, c.argv);
    assert.equal(ufwVerdict(live.v4, knock, 'deny').admitted, true);
    assert.equal(ufwVerdict(live.v6, knock, 'deny').admitted, true);
  });

  test('IPv6 off in ufw: only IPv4 rules are planned', () => {
    const { commands } = planUfwCommands({ ...stateOf(QUICK_START), ipv6: false }, XMPP);
    assert.ok(commands.every((c) => !c.argv.includes('::/0')));
  });
});

/** The state is exposed before the plan: the test means something. */
function judgeFails(state: UfwState, what: string): void {
  const before = [state.v4, state.v6].some(
    (l) => ufwVerdict(l, { proto: 'tcp', port: 5222, from: 'outsider' }, state.defaultInput, [B1, B2]).admitted,
  );
  assert.ok(before, `${what}: an outsider gets in before the plan`);
}
