import type { Step } from '../../../src/engine/playbook.js';
import { HostError, whyFailed, type Host } from '../../../src/transport/host.js';
import { meetOf } from '../settings.js';
import { READ_MANY_LOOP, asText, parseReadMany, readArgs } from '../../../src/transport/read-many.js';
import { splitSections } from '../../../src/modules/probe-sections.js';
import { shScript } from '../../../src/transport/shell-quote.js';
import { JVB_CONF, SIP_PROPERTIES, bridgeFiles, effectiveShard } from '../bridge-files.js';
import type { ShardFacts } from '../discover.js';
import { JICOFO_DEBUG, breweryLua, jicofoDebugAnswer, parseBrewery, type JicofoBridgeView } from '../brewery.js';
import { HTTP_GET, JVB_LOG_SINCE_START, TCP_OPEN, UDP_PORTS, parseUdpPorts } from '../host-shell.js';
import { jitsi } from '../settings.js';

export { parseJicofoBridges } from '../brewery.js';

const WAIT_MS = Number(process.env.JITSI_SCALE_VERIFY_WAIT_MS ?? 30_000);

/*
 * One round trip per try, from the bridge: can it reach the meet host's XMPP port (first try only:
 * $1 is 1), what does its own health endpoint answer (with whatever client it has), which UDP
 * ports it listens on (the media port must be one once it is healthy), and its two
 * config files (the nickname may change when the bridge starts).
 */
const PROBE = `${TCP_OPEN}${HTTP_GET}${UDP_PORTS}
echo '@@reach'
if [ "$1" = 1 ]; then tcp_open "$2" "$3" && echo open || echo closed; fi
shift 3
echo '@@health'
get http://127.0.0.1:8080/about/health | head -n 1
echo '@@udp'; udp_ports
echo '@@files'${READ_MANY_LOOP}
echo '@@end'`;

/** The last error the bridge logged since it last started. */
const LAST_ERROR = `${JVB_LOG_SINCE_START}
jvb_log_since_start 500 | grep -E 'SEVERE|not-authorized|Failed to|Exception' | tail -n 1
exit 0`;

/** How long one answer from the meet host serves every bridge that asks. */
const SHARE_MS = 250;
/** Waits between tries: quick at first (a bridge usually joins within a second of its start), then once a second. */
const RETRY_MS = [250, 500, 1000];

/**
 * One question to the meet host serves every bridge asking within SHARE_MS, so thirty bridges
 * polling together cost one prosodyctl (or one Jicofo request), not thirty.
 */
function sharedBriefly<T>(ask: (meet: Host) => Promise<T>): (meet: Host) => Promise<T> {
  const asked = new WeakMap<Host, { at: number; answer: Promise<T> }>();
  return (meet) => {
    const hit = asked.get(meet);
    if (hit && Date.now() - hit.at < SHARE_MS) return hit.answer;
    const answer = ask(meet);
    asked.set(meet, { at: Date.now(), answer });
    return answer;
  };
}

const breweryAsked = new Map<string, (meet: Host) => Promise<string[] | null>>();
function brewery(meet: Host, breweryJid: string): Promise<string[] | null> {
  let ask = breweryAsked.get(breweryJid);
  if (!ask) {
    ask = sharedBriefly(
      async (m) =>
        parseBrewery(
          (
            await m.exec(['prosodyctl', 'shell', breweryLua(breweryJid)], {
              readOnly: true,
              deadline: 'prosodyctl',
              what: 'prosodyctl shell (the brewery)',
            })
          ).stdout,
        )?.map((o) => o.jid.toLowerCase()) ?? null,
    );
    breweryAsked.set(breweryJid, ask);
  }
  return ask(meet);
}

const jicofoBridges = sharedBriefly(async (meet) => {
  const r = await meet.exec(shScript(JICOFO_DEBUG), { noBecome: true, readOnly: true });
  return jicofoDebugAnswer(r.stdout);
});

/** The member JID a bridge has in the brewery: the room's node part is case-insensitive. */
export function memberJid(breweryJid: string, nickname: string): string {
  return `${breweryJid}/${nickname}`.toLowerCase();
}

/** What the last try found wrong, one phrase each. */
function problemsOf(
  seen: {
    reachable: boolean | null;
    inRoom: boolean | null;
    nickname: string;
    health: string;
    listens: boolean;
    mediaPort: number;
    jicofo: JicofoBridgeView | undefined | null;
  },
  shared: ShardFacts,
): string[] {
  const { reachable, inRoom, nickname, health, listens, mediaPort, jicofo } = seen;
  const problems: string[] = [];
  if (!reachable) problems.push(`cannot reach ${shared.meetAddress}:${shared.c2sPort}`);
  if (inRoom === false) problems.push(`not in the brewery as ${nickname}`);
  if (health !== '200') problems.push(`/about/health answers ${health}`);
  if (!listens) problems.push(`nothing listens on UDP ${mediaPort}, its media port (jitsi_media_port)`);
  if (jicofo === undefined) problems.push('Jicofo does not list it among its bridges');
  else if (jicofo && (jicofo.healthy === false || jicofo.operational === false))
    problems.push(`Jicofo sees it as ${jicofo.healthy === false ? 'unhealthy' : 'not operational'}`);
  return problems;
}

export const verify: Step<ShardFacts> = {
  id: 'verify',
  title: 'Prove each bridge is in the shard',
  why:
    'A config that looks right is not proof. Each bridge must be logged in to Prosody and sitting in the brewery room (asked from Prosody on the meet host), ' +
    'answer its own health check, and reach the meet host on the XMPP port.',
  roles: ['jvb'],
  kind: 'check',
  // eslint-disable-next-line complexity -- one retry loop over the four proofs (room, health, reach, Jicofo); each branch names one problem
  async plan(ctx) {
    if (ctx.mode === 'check') return { changes: [], skip: 'verification runs after the changes are made' };
    const { host, shared } = ctx;
    // The view from Prosody is asked on the meet host, which the engine hands every step.
    const meet = ctx.hosts.get(meetOf(ctx.inventory).name)?.host;
    if (!meet) throw new HostError(host.name, 'the meet host is not connected, so Prosody cannot be asked');
    const notes: string[] = [];
    const mediaPort = jitsi(ctx.spec).mediaPort;
    let reachable: boolean | null = null;
    let listens = false;
    // The files are read again at every try, past any cache: with the per-start policy the
    // launcher writes a new nickname when the bridge starts, which can be after its restart
    // command has returned.
    const probe = async () => {
      const r = await host.exec(
        shScript(
          PROBE,
          reachable === null ? '1' : '0',
          shared.meetAddress,
          String(shared.c2sPort),
          ...readArgs([JVB_CONF, SIP_PROPERTIES], host.linkPolicy),
        ),
        { readOnly: true },
      );
      const s = splitSections(r.stdout);
      const files = s.has('end')
        ? parseReadMany([JVB_CONF, SIP_PROPERTIES], s.get('files') ?? [], host.linkPolicy)
        : null;
      if (!files) throw new HostError(host.name, `cannot check the bridge: ${whyFailed(r)}`);
      reachable ??= s.get('reach')?.[0] === 'open';
      const nick =
        effectiveShard(bridgeFiles(host.name, asText(files.get(JVB_CONF)), asText(files.get(SIP_PROPERTIES))))?.values
          .MUC_NICKNAME ?? shared.nicknames[ctx.spec.name]!;
      return {
        nick,
        health: /HTTP (\d{3})/.exec(s.get('health')?.join('\n') ?? '')?.[1] ?? 'no answer',
        udp: parseUdpPorts(s.get('udp')).includes(mediaPort),
      };
    };
    let nickname = '';
    let member = '';
    let inRoom: boolean | null = null;
    let health = '';
    let jicofo: JicofoBridgeView | undefined | null = null;
    const deadline = Date.now() + WAIT_MS;
    for (let tries = 0; ; tries++) {
      const [mine, occupants, seen] = await Promise.all([
        probe(),
        brewery(meet, shared.breweryJid),
        shared.jicofoInstalled ? jicofoBridges(meet) : Promise.resolve(null),
      ]);
      nickname = mine.nick;
      member = memberJid(shared.breweryJid, nickname);
      health = mine.health;
      listens = mine.udp;
      inRoom = occupants === null ? null : occupants.includes(member);
      jicofo = seen === null ? null : seen.get(member);
      const jicofoOk =
        jicofo === null || (jicofo !== undefined && jicofo.healthy !== false && jicofo.operational !== false);
      if ((inRoom ?? true) && health === '200' && listens && jicofoOk) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(tries, RETRY_MS.length - 1)]));
    }
    const problems = problemsOf({ reachable, inRoom, nickname, health, listens, mediaPort, jicofo }, shared);
    if (problems.length) {
      const last = (await host.exec(shScript(LAST_ERROR), { readOnly: true })).stdout.trim();
      const why = last ? ` — the bridge's log says: ${last.replace(/^\d{4}-\d\d-\d\d \S+ /, '')}` : '';
      throw new HostError(host.name, `${problems.join('; ')}${why}`);
    }
    notes.push(
      inRoom === null
        ? `Prosody could not be asked (prosodyctl shell); health answers 200`
        : `in the brewery ${shared.breweryJid} as ${nickname}; health answers 200`,
    );
    notes.push(`reaches ${shared.meetAddress}:${shared.c2sPort}; listens for media on UDP ${mediaPort}`);
    if (!shared.jicofoInstalled) notes.push('Jicofo is not installed on the meet host: checked through Prosody only');
    else
      notes.push(
        jicofo
          ? 'Jicofo lists it as healthy and operational'
          : "Jicofo's REST API (127.0.0.1:8888/debug) did not answer: checked through Prosody only",
      );
    return { changes: [], notes };
  },
};
