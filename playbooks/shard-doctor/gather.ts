import type { Inspection } from '../../src/engine/inspect.js';
import type { RunHost } from '../../src/engine/playbook.js';
import { reasonOf } from '../../src/engine/reason.js';
import type { Inventory } from '../../src/inventory/types.js';
import { splitSections } from '../../src/modules/probe-sections.js';
import { shScript } from '../../src/transport/shell-quote.js';
import { LAUNCHER, NO_BRIDGE_FILES, effectiveShard, type BridgeFiles } from '../jitsi-load-balancing/bridge-files.js';
import { jitsi, privateAddress } from '../jitsi-load-balancing/settings.js';
import { LIST_NGINX_SITES, nginxLocations, preferSctpOf } from '../jitsi-load-balancing/colibri-routes.js';
import { JICOFO_CONF, type ShardFacts } from '../jitsi-load-balancing/discover.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { accountFile, parseAccount, type ScramAccount } from '../jitsi-load-balancing/prosody-account.js';
import { JICOFO_DEBUG, jicofoDebugAnswer } from '../jitsi-load-balancing/brewery.js';
import { HTTP_GET, JVB_LOG_SINCE_START, TCP_OPEN, parseHttp } from '../jitsi-load-balancing/host-shell.js';
import { HARVEST_PATTERN } from './harvest-log.js';
import { runChecks, type BridgeProbe, type BridgeRead, type Finding, type MeetRead } from './checks.js';

/*
 * What the doctor reads: the inspection (facts, discovery, the setup plan), one command per bridge
 * for what only the bridge can say, and on the meet host Prosody's accounts and nginx's routes.
 * Reads only.
 */

/**
 * On a bridge: $1 $2 the meet host's client port, $3 the meet host's certificate (or empty). The
 * certificate is checked on stdin: nothing is written.
 */
const BRIDGE_PROBE = `${HTTP_GET}${TCP_OPEN}${JVB_LOG_SINCE_START}
echo '@@reach'
tcp_open "$1" "$2" && echo open || echo closed
echo '@@log'
jvb_log_since_start 2000 | grep -E 'not-authorized|PKIX|Connection refused|EndpointConnectionException|No valid IP|SEVERE' | tail -n 5 | sed 's/^@@/@@@/'
echo '@@health'; get http://127.0.0.1:8080/about/health | head -n 4 | cut -c 1-300
echo '@@stats'; get http://127.0.0.1:8080/colibri/stats | head -n 1
echo '@@addresses'
ip -o addr show 2>/dev/null | awk '{ print $4 }'
echo '@@harvest'
jvb_log_since_start 20000 | grep -E '${HARVEST_PATTERN}' | tail -n 30 | cut -c 1-400 | sed 's/^@@/@@@/'
echo '@@trust'
if [ -n "$3" ]; then
  if command -v openssl >/dev/null 2>&1; then
    out=$(printf '%s\\n' "$3" | openssl verify -CApath /etc/ssl/certs 2>&1) && echo "trusted" || echo "untrusted $(printf '%s' "$out" | grep -i error | head -n 1)"
  else echo 'unknown openssl is not installed'; fi
fi
echo '@@consumers'
[ -d /etc/jitsi/autoscaler-sidecar ] && echo 'the autoscaler sidecar'
# [x]yz matches the process, never this script's own command line.
for p in '[j]itsi-autoscaler-sidecar' '[p]rometheus-jitsi-meet-exporter' '[j]itsi-colibri-exporter'; do pgrep -f "$p" >/dev/null 2>&1 && echo "$p" | tr -d '[]'; done
grep -ls 'graceful_shutdown' /etc/systemd/system/jitsi-videobridge2.service.d/*.conf /etc/systemd/system/jitsi-videobridge2.service 2>/dev/null | sed 's/^/a graceful-shutdown hook in /'
echo '@@end'`;

/** Pure: the bridge probe's output; null when it did not run to its end. */
export function parseDoctorProbe(stdout: string): BridgeProbe | null {
  const s = splitSections(stdout);
  if (!s.has('end')) return null;
  const unescape = (l: string) => l.replace(/^@@@/, '@@');
  const health = parseHttp(s.get('health'));
  const trust = s.get('trust')?.[0];
  return {
    reach: s.get('reach')?.[0] === 'open' ? 'open' : 'closed',
    log: (s.get('log') ?? []).map(unescape),
    health,
    colibriStatsCode: parseHttp(s.get('stats')).code,
    addresses: (s.get('addresses') ?? []).map((a) => a.replace(/\/\d+$/, '')),
    harvest: (s.get('harvest') ?? []).map(unescape),
    trust: trust ? { trusted: trust === 'trusted', detail: trust.replace(/^\S+\s*/, '') } : null,
    restConsumers: s.get('consumers') ?? [],
  };
}

async function bridgeRead(
  h: RunHost | undefined,
  name: string,
  inspection: Inspection<ShardFacts>,
): Promise<BridgeRead> {
  const base = {
    name,
    address: h ? privateAddress(h.spec, h) : '',
    packages: h?.facts.packages ?? {},
    perStartNickname: !!h && jitsi(h.spec).nicknamePolicy === 'per-start',
  };
  const empty: BridgeFiles = NO_BRIDGE_FILES;
  const lost = inspection.lost.get(name);
  if (!h || lost) return { ...base, lost: lost?.reason ?? 'not connected', files: empty, launcher: null, probe: null };
  const shared = inspection.shared!;
  try {
    // The bridge's config as discovery read it; the launcher from the same round trip's cache.
    const files = shared.bridges[name]?.files ?? empty;
    const launcher = (await h.host.readFiles([LAUNCHER])).get(LAUNCHER) ?? null;
    const r = await h.host.exec(
      shScript(BRIDGE_PROBE, shared.meetAddress, String(shared.c2sPort), shared.certificate ?? ''),
      { readOnly: true },
    );
    return { ...base, files, launcher, probe: parseDoctorProbe(r.stdout) };
  } catch (e) {
    return { ...base, lost: reasonOf(e), files: empty, launcher: null, probe: null };
  }
}

/**
 * The active locations of nginx's enabled sites on the meet host (every one: a catch-all regex may
 * take /colibri-ws/ before the route meant for it), commented lines left
 * out as nginx leaves them (jitsi-meet's 2026 template comments its block out); null when nginx
 * has no enabled site.
 */
async function nginxRoutes(meet: RunHost): Promise<MeetRead['colibriLocations']> {
  const listed = await meet.host.exec(shScript(LIST_NGINX_SITES), { readOnly: true });
  const paths = [...new Set(listed.stdout.split('\n').filter(Boolean))];
  if (!paths.length) return null;
  const texts = await meet.host.readFiles(paths);
  return paths.flatMap((p) => nginxLocations(texts.get(p) ?? ''));
}

/** Pure: jicofo.octo from jicofo.conf's text; null without one, off when it cannot be read. */
export function jicofoOctoOf(text: string | null): { enabled: boolean; mixedVersions: boolean } | null {
  if (text === null) return null;
  try {
    const doc = new HoconDoc(text);
    const on = (k: string) => /^true$/i.test(doc.get(['jicofo', 'octo', k]) ?? '');
    return { enabled: on('enabled'), mixedVersions: on('allow-mixed-versions') };
  } catch {
    return { enabled: false, mixedVersions: false };
  }
}

async function meetRead(meet: RunHost, shared: ShardFacts, bridges: readonly BridgeRead[]): Promise<MeetRead> {
  // Prosody's accounts the bridges log in with, read where Prosody keeps them.
  const users = [
    ...new Set(
      bridges.flatMap((b) => {
        const s = effectiveShard(b.files)?.values;
        return s?.USERNAME ? [`${s.USERNAME}@${s.DOMAIN ?? `auth.${shared.domain}`}`.toLowerCase()] : [];
      }),
    ),
  ];
  const paths = users.map((u) => accountFile(u.split('@')[0]!, u.split('@')[1]!));
  const files = paths.length ? await meet.host.readFiles(paths) : new Map<string, string | null>();
  const accounts = new Map<string, ScramAccount | null>(
    users.map((u, i) => {
      const text = files.get(paths[i]!);
      return [u, text ? parseAccount(text) : null];
    }),
  );
  const configJs = `/etc/jitsi/meet/${shared.domain}-config.js`;
  const [routes, js] = await Promise.all([nginxRoutes(meet), meet.host.readFiles([configJs])]);
  const configText = js.get(configJs);
  const jicofo = meet.facts.packages.jicofo
    ? jicofoDebugAnswer((await meet.host.exec(shScript(JICOFO_DEBUG), { readOnly: true, noBecome: true })).stdout)
    : null;
  return {
    name: meet.spec.name,
    address: shared.meetAddress,
    packages: meet.facts.packages,
    prosody: shared.prosody,
    c2sPort: shared.c2sPort,
    domain: shared.domain,
    breweryJid: shared.breweryJid,
    accounts,
    colibriLocations: routes,
    jicofoSctp: shared.jicofoSctp,
    preferSctp: configText ? preferSctpOf(configText) : undefined,
    meetNickname: shared.meetBridgeNickname ?? null,
    jicofo,
    pin: shared.bridgePin,
    jicofoOcto: jicofoOctoOf((await meet.host.readFiles([JICOFO_CONF])).get(JICOFO_CONF) ?? null),
  };
}

export interface DoctorReport {
  findings: Finding[];
  /** Why the shard could not be examined at all (the meet host unreachable, discovery refused). */
  refused: string | null;
}

/** Everything the doctor reads, then its checks; `only`: the bridges to examine (--limit). */
export async function examineShard(
  inventory: Inventory,
  inspection: Inspection<ShardFacts>,
  only: ReadonlySet<string> | null,
): Promise<DoctorReport> {
  const meetSpec = inventory.hosts.find((h) => h.role === 'meet')!;
  const meet = inspection.hosts.get(meetSpec.name);
  if (!meet || !inspection.shared)
    return {
      findings: [],
      refused:
        inspection.lost.get(meetSpec.name)?.reason ??
        inspection.refused ??
        `the meet host ${meetSpec.name} could not be read`,
    };
  const specs = inventory.hosts.filter((h) => h.role === 'jvb');
  const bridges = await Promise.all(specs.map((s) => bridgeRead(inspection.hosts.get(s.name), s.name, inspection)));
  const m = await meetRead(meet, inspection.shared, bridges);
  // Nicknames are compared across every bridge; the findings are those of the bridges asked for.
  return { findings: (await runChecks(m, bridges)).filter((f) => !only || only.has(f.host)), refused: null };
}
