import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  breweryLua,
  parseBrewery,
  parseBridgeProbe,
  parseMeetProbe,
  parsePrometheus,
  type BridgeProbe,
  type MeetProbe,
} from '../../playbooks/shard-status/probes.js';
import { shardStatus, type BridgeRead, type StatusInput } from '../../playbooks/shard-status/shard-status.js';
import { driftLines, problemLines, statusTable } from '../../playbooks/shard-status/status-lines.js';
import { parseCli } from '../../src/cli-options.js';
import { COMMANDS, DEFAULT_COMMAND } from '../../playbooks/index.js';

const BREWERY = 'jvbbrewery@internal.auth.meet.example.org';
const JVB = '2.0.9823-1';

const healthyProbe: BridgeProbe = {
  health: 200,
  version: '2.3.250-g1',
  drain: false,
  metrics: { jitsi_jvb_conferences: 2, jitsi_jvb_local_endpoints: 9, jitsi_jvb_stress: 0.12, jitsi_jvb_drain_mode: 0 },
  colibriStats: null,
  colibriStatsCode: 404,
  fingerprint: 'fp',
};

const bridgeRead = (name: string, over: Partial<BridgeRead> = {}): BridgeRead => ({
  name,
  address: `10.0.0.${name.slice(-1)}`,
  packages: { 'jitsi-videobridge2': JVB },
  drift: [],
  nickname: `nick-${name}`,
  mediaPort: 10000,
  probe: healthyProbe,
  ...over,
});

const occupant = (nick: string, stats: Record<string, string> = { stress_level: '0.1', version: '2.3' }) => ({
  jid: `${BREWERY}/${nick}`,
  nickname: nick,
  stats,
});

function input(over: Partial<StatusInput> = {}, meetProbe: Partial<MeetProbe> = {}): StatusInput {
  return {
    time: new Date('2026-12-03T07:00:00Z'),
    domain: 'meet.example.org',
    brewery: BREWERY,
    refused: null,
    meet: {
      name: 'meet',
      address: '10.0.0.1',
      packages: { prosody: '0.12.4-1', 'jitsi-videobridge2': JVB },
      drift: [],
      probe: {
        occupants: [occupant('nick-jvb1'), occupant('nick-jvb2'), occupant('meet-local')],
        jicofo: null,
        fingerprint: 'fp',
        ...meetProbe,
      },
    },
    bridges: [bridgeRead('jvb1'), bridgeRead('jvb2')],
    meetBridgeNickname: 'meet-local',
    ...over,
  };
}

describe('status: what the probes say', () => {
  test('the brewery answer carries each occupant and its presence stats, percent-encoded', () => {
    const occupants = parseBrewery(
      `| Result: brewery:${encodeURIComponent(`${BREWERY}/a b`)}|stress_level=0.5&version=2.3%2Dx,${encodeURIComponent(`${BREWERY}/focus`)}|`,
    );
    assert.deepEqual(occupants, [
      { jid: `${BREWERY}/a b`, nickname: 'a b', stats: { stress_level: '0.5', version: '2.3-x' } },
      { jid: `${BREWERY}/focus`, nickname: 'focus', stats: {} },
    ]);
    assert.deepEqual(parseBrewery('brewery:'), []);
    assert.deepEqual(parseBrewery('no-room'), []);
    assert.equal(parseBrewery('prosodyctl: cannot connect'), null, 'Prosody could not be asked');
    assert.match(breweryLua('JvbBrewery@internal.auth.x'), /get_room_from_jid\("jvbbrewery@internal\.auth\.x"\)/);
    assert.match(breweryLua(BREWERY), /get_child\("stats", "http:\/\/jitsi\.org\/protocol\/colibri"\)/);
  });

  test('Prometheus text: names and values, comments and labels skipped', () => {
    assert.deepEqual(parsePrometheus('# HELP x\n# TYPE x gauge\njitsi_jvb_stress 0.17\njitsi_jvb_x{a="b"} 3.0\n'), {
      jitsi_jvb_stress: 0.17,
      jitsi_jvb_x: 3,
    });
  });

  test('the bridge probe: health code, version, drain, metrics, and /colibri/stats off (404)', () => {
    const out = [
      '@@health',
      'HTTP 200',
      '@@version',
      'HTTP 200',
      '{"name":"JVB","version":"2.3.1","os":"Linux"}',
      '@@drain',
      'HTTP 200',
      '{"drain":true}',
      '@@metrics',
      'HTTP 200',
      'jitsi_jvb_conferences 4.0',
      '@@stats',
      'HTTP 404',
      '@@udp',
      '0035',
      '2EE0',
      '@@end',
    ].join('\n');
    assert.deepEqual(parseBridgeProbe(out), {
      health: 200,
      version: '2.3.1',
      drain: true,
      metrics: { jitsi_jvb_conferences: 4 },
      colibriStats: null,
      colibriStatsCode: 404,
      udpPorts: [53, 12000],
      fingerprint: '',
    });
    assert.equal(parseBridgeProbe('@@health\nHTTP 200\n'), null, 'a probe cut short is no answer');
    const silent = parseBridgeProbe('@@health\nHTTP 000\n@@version\nHTTP 000\n@@end');
    assert.equal(silent?.health, 0);
    assert.equal(silent?.version, undefined);
  });

  test("the meet probe: Jicofo's /stats and /debug by member JID, or why it did not answer", () => {
    const debug = { bridge_selector: { bridges: { [`${BREWERY}/Nick-1`]: { healthy: true, operational: false } } } };
    const out = `@@brewery\nbrewery:\n@@jicofo-stats\nHTTP 200\n{"bridge_selector":{"bridge_count":1}}\n@@jicofo-debug\nHTTP 200\n${JSON.stringify(debug)}\n@@end`;
    const p = parseMeetProbe(out, true)!;
    assert.deepEqual(p.jicofo?.bridges.get(`${BREWERY}/nick-1`), { healthy: true, operational: false });
    assert.deepEqual(p.jicofo?.stats, { bridge_selector: { bridge_count: 1 } });
    const down = parseMeetProbe(
      '@@brewery\nbrewery:\n@@jicofo-stats\nHTTP 000\n@@jicofo-debug\nHTTP 000\n@@end',
      true,
    )!;
    assert.equal(down.jicofo, null);
    assert.match(down.jicofoError!, /does not answer/);
    assert.equal(parseMeetProbe('@@brewery\nbrewery:\n@@end', false)!.jicofoError, undefined);
  });
});

describe('status: the shard as a document', () => {
  test('all well: every bridge in, healthy, same version, load from metrics then presence; exit 0', () => {
    const doc = shardStatus(input());
    assert.deepEqual(doc.problems, []);
    assert.equal(doc.exitCode, 0);
    const b = doc.bridges[0]!;
    assert.equal(b.inBrewery, true);
    assert.equal(b.conferences, 2);
    assert.equal(b.endpoints, 9);
    assert.equal(b.stress, 0.12);
    assert.deepEqual(b.loadFrom, ['metrics', 'presence']);
    assert.deepEqual(doc.strangers, [], "the meet host's own bridge is accounted for");
  });

  test('load from presence alone when the bridge API is silent', () => {
    const meet = {
      occupants: [
        occupant('nick-jvb1', { conferences: '5', participants: '20', stress_level: '0.4', drain: 'true' }),
        occupant('nick-jvb2'),
      ],
    };
    const doc = shardStatus(input({ bridges: [bridgeRead('jvb1', { probe: null }), bridgeRead('jvb2')] }, meet));
    const b = doc.bridges[0]!;
    assert.deepEqual([b.conferences, b.endpoints, b.stress, b.drain], [5, 20, 0.4, true]);
    assert.deepEqual(b.loadFrom, ['presence']);
    assert.ok(b.problems.some((p) => /private API .* does not answer/.test(p)));
  });

  test('a bridge out of the brewery, an unknown occupant, a twin nickname and a version apart are each named; exit 2', () => {
    const doc = shardStatus(
      input(
        {
          bridges: [
            bridgeRead('jvb1'),
            bridgeRead('jvb2', { nickname: 'nick-jvb1' }),
            bridgeRead('jvb3', { packages: { 'jitsi-videobridge2': '2.0.9000-1' } }),
          ],
        },
        { occupants: [occupant('nick-jvb1'), occupant('nick-jvb3'), occupant('cloned'), occupant('focus', {})] },
      ),
    );
    assert.equal(doc.exitCode, 2);
    const text = doc.problems.join('\n');
    assert.match(text, /^jvb1: nickname nick-jvb1 is also used by jvb2/m);
    assert.match(text, /^jvb3: runs 2\.0\.9000 while the meet host runs 2\.0\.9823: Jicofo does not mix versions$/m);
    assert.match(text, /^brewery: cloned is in the brewery, but no host of the inventory/m);
    assert.deepEqual(
      doc.strangers.map((s) => s.nickname),
      ['cloned'],
      'an occupant without bridge stats (Jicofo) is not a stranger bridge',
    );
    const out = shardStatus(input({}, { occupants: [occupant('nick-jvb1')] }));
    assert.match(out.problems.join('\n'), /^jvb2: not in the brewery as nick-jvb2$/m);
  });

  test("Jicofo's view: not listed, unhealthy, not operational", () => {
    const bridges = new Map([
      [`${BREWERY}/nick-jvb1`, { healthy: false }],
      [`${BREWERY}/nick-jvb3`, { healthy: true, operational: false }],
    ]);
    const doc = shardStatus(
      input(
        { bridges: [bridgeRead('jvb1'), bridgeRead('jvb2'), bridgeRead('jvb3')] },
        { occupants: ['nick-jvb1', 'nick-jvb2', 'nick-jvb3'].map((n) => occupant(n)), jicofo: { stats: {}, bridges } },
      ),
    );
    const text = doc.problems.join('\n');
    assert.match(text, /^jvb1: Jicofo sees it as unhealthy$/m);
    assert.match(text, /^jvb2: Jicofo does not list it among its bridges$/m);
    assert.match(text, /^jvb3: Jicofo sees it as not operational$/m);
    assert.equal(doc.meet.jicofo.answering, true);
  });

  test('drift is a problem that names the change; an unreachable host wins exit 3', () => {
    const drift = [
      {
        step: 'bridge-config',
        stepTitle: 'Point the bridge',
        description: 'edit /etc/jitsi/videobridge/jvb.conf',
        diff: '-a\n+b',
      },
    ];
    const doc = shardStatus(
      input({
        bridges: [
          bridgeRead('jvb1', { drift }),
          bridgeRead('jvb2', {
            lost: { status: 'unreachable', reason: 'connection refused' },
            probe: null,
            nickname: null,
          }),
        ],
      }),
    );
    assert.equal(doc.exitCode, 3);
    assert.match(
      doc.problems.join('\n'),
      /^jvb1: drift: edit \/etc\/jitsi\/videobridge\/jvb\.conf \(run jitsi-scale setup\)$/m,
    );
    assert.match(doc.problems.join('\n'), /^jvb2: unreachable: connection refused$/m);
    assert.deepEqual(driftLines(doc), [
      'jvb1:',
      '  Point the bridge: edit /etc/jitsi/videobridge/jvb.conf',
      '    -a',
      '    +b',
    ]);
  });

  test('a meet host whose discovery refused, or whose Jicofo is installed but silent, is a problem', () => {
    const refused = shardStatus(input({ refused: 'Prosody is not installed on meet' }));
    assert.deepEqual(refused.problems, ['meet: Prosody is not installed on meet']);
    const base = input().meet;
    const silent = shardStatus(
      input({
        meet: {
          ...base,
          packages: { ...base.packages, jicofo: '1.0-1' },
          probe: { ...base.probe!, jicofoError: "Jicofo's REST API (127.0.0.1:8888) does not answer" },
        },
      }),
    );
    assert.match(silent.problems.join('\n'), /^meet: Jicofo is installed, but Jicofo's REST API/m);
  });

  test('--limit shows some bridges; the others still account for their occupants', () => {
    const doc = shardStatus(
      input(
        { bridges: [bridgeRead('jvb1'), bridgeRead('jvb2', { probe: null })], shown: new Set(['jvb1']) },
        { occupants: [occupant('nick-jvb1'), occupant('nick-jvb2')] },
      ),
    );
    assert.deepEqual(
      doc.bridges.map((b) => b.host),
      ['jvb1'],
    );
    assert.deepEqual(doc.strangers, [], "jvb2's occupant is jvb2, shown or not");
    assert.deepEqual(doc.problems, [], "jvb2's silent API is not reported when jvb2 is not asked for");
    assert.equal(doc.exitCode, 0);
  });

  test("each bridge's media port shown; a healthy bridge with nothing on it is a problem", () => {
    const doc = shardStatus(
      input({
        bridges: [
          bridgeRead('jvb1', { mediaPort: 12000, probe: { ...healthyProbe, udpPorts: [12000] } }),
          bridgeRead('jvb2', { mediaPort: 12000, probe: { ...healthyProbe, udpPorts: [10000] } }),
        ],
      }),
    );
    assert.deepEqual(
      doc.bridges.map((b) => [b.mediaPort, b.mediaListening]),
      [
        [12000, true],
        [12000, false],
      ],
    );
    assert.deepEqual(
      doc.problems.filter((p) => /UDP/.test(p)),
      ['jvb2: nothing listens on UDP 12000, its media port: clients get no media'],
    );
    assert.match(statusTable(doc).join('\n'), /^jvb2 +nick-jvb2 +yes +ok +12000 /m);
  });

  test('the table and the problems fit 80 columns', () => {
    const long = 'x'.repeat(120);
    const doc = shardStatus(input({ bridges: [bridgeRead(`jvb-${long}`, { nickname: long }), bridgeRead('jvb2')] }));
    for (const line of [...statusTable(doc), ...problemLines(doc)]) assert.ok(line.length <= 80, line);
    assert.match(
      statusTable(shardStatus(input())).join('\n'),
      /^jvb1 +nick-jvb1 +yes +ok +10000 +2\.0\.9823 +no +0\.12 +2 +9 +- +none$/m,
    );
  });
});

describe('status on the command line', () => {
  const parse = (...argv: string[]) => parseCli(argv, COMMANDS, DEFAULT_COMMAND);
  test('--watch takes an optional number of seconds; other commands do not know it', () => {
    const opts = (p: ReturnType<typeof parse>) => (p.kind === 'run' ? p.options : null);
    assert.equal(opts(parse('status', '--watch'))?.watch, 5);
    assert.equal(opts(parse('status', '--watch', '2', '--json'))?.watch, 2);
    assert.equal(opts(parse('status', '--watch=7'))?.watch, 7);
    assert.equal(opts(parse('status'))?.watch, undefined);
    const zero = parse('status', '--watch=0');
    assert.equal(zero.kind === 'error' && zero.message, '--watch takes a whole number above 0, not "0"');
    const setup = parse('setup', '--watch');
    assert.equal(setup.kind, 'error');
    const yes = parse('status', '--yes');
    assert.match(yes.kind === 'error' ? yes.message : '', /unknown option --yes for status, which changes nothing/);
  });
});
