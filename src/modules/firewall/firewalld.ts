import type { Change } from '../../contract/change.js';
import { HostError, execChecked, whyFailed, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';
import { splitSections } from '../probe-sections.js';
import { BOOT_STATE_FN, parseBootState, planBoot } from './boot.js';
import { describeRule, sourcesByFamily, type PortRule } from './port-rule.js';
import type { FirewallPlan } from './nftables.js';

/*
 * firewalld puts each packet in one zone: the zone of its source address when a zone lists it,
 * else the zone of the interface it came in on, else the default zone. So the port must be kept
 * to the bridges in every zone a packet can land in: each zone with a source or an interface, and
 * the default zone. In each, our rich rules carry the lowest priorities firewalld has, so they
 * come before the zone's ports, services (a service such as xmpp-client, or one of the user's own
 * that lists the port) and the user's own rich rules: the bridges' accepts first, then a drop for
 * everyone else (firewalld sorts a drop before an accept of the same priority, so the drop's is one
 * higher). Everything is changed in the permanent configuration, then loaded with one reload, so
 * the running firewall moves from the old rules to the new ones at once.
 */

/** The priorities of our rich rules: the lowest firewalld takes (-32768 … 32767). */
export const ACCEPT_PRIORITY = -32768;
export const DROP_PRIORITY = -32767;

/** One zone, as `firewall-cmd --permanent --list-all-zones` shows it. */
export interface FirewalldZone {
  name: string;
  interfaces: string[];
  sources: string[];
  services: string[];
  /** "5222/tcp", "5000-6000/tcp". */
  ports: string[];
  sourcePorts: string[];
  richRules: string[];
}

export interface FirewalldState {
  defaultZone: string;
  /** Zones with an interface or a source at runtime (`--get-active-zones`). */
  activeZones: string[];
  zones: FirewalldZone[];
  /** Each service's ports ("5222/tcp"), with included services followed. */
  servicePorts: ReadonlyMap<string, string[]>;
}

/** A rich rule's fields, as firewalld lists them back (in any order of its attributes). */
export interface RichRule {
  priority: number;
  family: string;
  source: string;
  port: string;
  protocol: string;
  action: string;
}

/** The attributes of one element of a rich rule ("port", "source"), from `name a="…" b="…"`. */
function element(text: string, name: string): Record<string, string> {
  // "port" must not match inside "source-port" or "forward-port"
  const m = new RegExp(`(?:^|\\s)${name}((?:\\s+(?:NOT|[\\w-]+="[^"]*"))+)`).exec(text);
  const out: Record<string, string> = {};
  for (const a of (m?.[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)) out[a[1]!] = a[2]!;
  return out;
}

/** Pure: the fields of a rich rule we need. */
export function parseRichRule(text: string): RichRule {
  const rule = element(text, 'rule');
  const port = element(text, 'port');
  return {
    priority: Number(rule.priority ?? 0),
    family: rule.family ?? '',
    source: element(text, 'source').address ?? '',
    port: port.port ?? '',
    protocol: port.protocol ?? '',
    // the action is the one bare word of those, outside any quoted value
    action: /\b(accept|reject|drop|mark)\b/.exec(text.replace(/"[^"]*"/g, '""'))?.[1] ?? '',
  };
}

/**
 * Pure: does a rich rule of the user's accept new connections to the port: by the port itself or a
 * range, a service that lists it, its whole protocol, or everything from its source (no element
 * that narrows it to other traffic: a port, a service, a protocol, icmp, forwarding; a source port
 * does not, an attacker picks its own)?
 */
function richAdmits(text: string, rule: PortRule, servicePorts: ReadonlyMap<string, string[]>): boolean {
  const p = parseRichRule(text);
  if (p.action !== 'accept') return false;
  // A rule for one of the sources alone admits nobody else.
  if (rule.sources !== 'any' && rule.sources.includes(p.source) && !/\bsource\s+NOT\b/.test(text)) return false;
  if (p.port) return portFieldHas(`${p.port}/${p.protocol}`, rule);
  const service = element(text, 'service').name;
  if (service !== undefined) return (servicePorts.get(service) ?? []).some((f) => portFieldHas(f, rule));
  const protocol = element(text, 'protocol').value;
  if (protocol !== undefined) return protocol === rule.proto;
  return !/(?:^|\s)(?:icmp-block|icmp-type|forward-port|masquerade)\b/.test(text);
}

/** The rich rule that accepts the port from one source, before everything else. */
export function richAccept(source: string, rule: PortRule): string {
  const family = sourcesByFamily({ ...rule, sources: [source] }).v4.length ? 'ipv4' : 'ipv6';
  return `rule priority="${ACCEPT_PRIORITY}" family="${family}" source address="${source}" port port="${rule.port}" protocol="${rule.proto}" accept`;
}

/** The rich rule that drops the port for everyone else, in both families. */
export function richDrop(rule: PortRule): string {
  return `rule priority="${DROP_PRIORITY}" port port="${rule.port}" protocol="${rule.proto}" drop`;
}

/** Pure: does a port field ("5222/tcp", "5000-6000/tcp") or a service's port cover the rule's port? */
export function portFieldHas(field: string, rule: Pick<PortRule, 'port' | 'proto'>): boolean {
  const [ports = '', proto = ''] = field.split('/');
  if (proto !== rule.proto) return false;
  const [lo, hi] = ports.split('-').map(Number);
  return hi === undefined ? lo === rule.port : rule.port >= lo! && rule.port <= hi;
}

/** The zones a packet can land in: every zone with an interface or a source, and the default zone. */
export function zonesInScope(state: FirewalldState): FirewalldZone[] {
  return state.zones.filter(
    (z) =>
      z.name === state.defaultZone ||
      state.activeZones.includes(z.name) ||
      z.interfaces.length > 0 ||
      z.sources.length > 0,
  );
}

const sameRich = (a: RichRule, b: RichRule) =>
  a.priority === b.priority &&
  a.family === b.family &&
  a.source === b.source &&
  a.port === b.port &&
  a.protocol === b.protocol &&
  a.action === b.action;

/** Ours: our priorities on our port, or the plain source accepts earlier versions of this tool added. */
function isOurs(r: RichRule, rule: PortRule): boolean {
  if (r.port !== String(rule.port) || r.protocol !== rule.proto) return false;
  if (r.priority === ACCEPT_PRIORITY || r.priority === DROP_PRIORITY) return true;
  return r.priority === 0 && r.action === 'accept' && r.source !== '' && rule.sources !== 'any';
}

export interface FirewalldPlan {
  commands: string[][];
  /** What the user has in a zone that also admits the port, now shadowed by ours. */
  shadowed: string[];
  /** The user's own rules that come before ours and admit the port. */
  ahead: string[];
}

/** Pure: the firewall-cmd argv lists (all --permanent; a reload follows) that make the rule true in every zone in scope. */
export function planFirewalldCommands(state: FirewalldState, rule: PortRule): FirewalldPlan {
  const adds: string[][] = [];
  const removes: string[][] = [];
  const shadowed: string[] = [];
  const ahead: string[] = [];
  const portProto = `${rule.port}/${rule.proto}`;
  for (const z of zonesInScope(state)) {
    const cmd = (arg: string) => ['firewall-cmd', '--permanent', `--zone=${z.name}`, arg];
    const opens = [
      ...z.ports.filter((p) => portFieldHas(p, rule)).map((p) => `port ${p}`),
      ...z.services
        .filter((s) => (state.servicePorts.get(s) ?? []).some((p) => portFieldHas(p, rule)))
        .map((s) => `service ${s}`),
    ];
    if (rule.sources === 'any') {
      if (opens.length === 0) adds.push(cmd(`--add-port=${portProto}`));
      continue;
    }
    const wanted = [...rule.sources.map((s) => richAccept(s, rule)), richDrop(rule)];
    const present = z.richRules.map(parseRichRule);
    for (const w of wanted)
      if (!present.some((p) => sameRich(p, parseRichRule(w)))) adds.push(cmd(`--add-rich-rule=${w}`));
    for (const [i, p] of present.entries()) {
      if (isOurs(p, rule) && !wanted.some((w) => sameRich(p, parseRichRule(w))))
        removes.push(cmd(`--remove-rich-rule=${z.richRules[i]}`));
      else if (!isOurs(p, rule) && p.priority <= DROP_PRIORITY && richAdmits(z.richRules[i]!, rule, state.servicePorts))
        ahead.push(`zone ${z.name}: ${z.richRules[i]}`);
    }
    // The exact public openings go (after ours are in, and all at one reload); wider ones stay, shadowed.
    if (z.ports.includes(portProto)) removes.push(cmd(`--remove-port=${portProto}`));
    const exact = z.services.filter((s) => {
      const ports = state.servicePorts.get(s) ?? [];
      return ports.length > 0 && ports.every((p) => p === portProto);
    });
    for (const s of exact) removes.push(cmd(`--remove-service=${s}`));
    const kept = opens.filter((o) => o !== `port ${portProto}` && !exact.some((s) => o === `service ${s}`));
    shadowed.push(...kept.map((o) => `zone ${z.name}: ${o}`));
  }
  return { commands: [...adds, ...removes], shadowed, ahead };
}

/** Pure: zones from `--list-all-zones` (a header line per zone, then "  key: values", rich rules one per line). */
export function parseZones(lines: readonly string[]): FirewalldZone[] {
  const zones: FirewalldZone[] = [];
  let z: FirewalldZone | null = null;
  let inRich = false;
  for (const raw of lines) {
    const head = /^(\S+)(?: \(.*\))?\s*$/.exec(raw);
    if (head) {
      z = { name: head[1]!, interfaces: [], sources: [], services: [], ports: [], sourcePorts: [], richRules: [] };
      zones.push(z);
      inRich = false;
      continue;
    }
    if (!z) continue;
    const kv = /^\s+([a-z -]+):\s*(.*)$/.exec(raw);
    if (kv) {
      inRich = kv[1] === 'rich rules';
      const words = kv[2]!.split(/\s+/).filter(Boolean);
      if (kv[1] === 'interfaces') z.interfaces = words;
      else if (kv[1] === 'sources') z.sources = words;
      else if (kv[1] === 'services') z.services = words;
      else if (kv[1] === 'ports') z.ports = words;
      else if (kv[1] === 'source-ports') z.sourcePorts = words;
    } else if (inRich && raw.trim().startsWith('rule')) z.richRules.push(raw.trim());
  }
  return zones;
}

/** Pure: each service's ports from `grep -H` of the service files' <port> and <include> lines, includes followed. */
export function parseServicePorts(lines: readonly string[]): Map<string, string[]> {
  const own = new Map<string, string[]>();
  const includes = new Map<string, string[]>();
  // A service file in /etc/firewalld/services/ replaces the package's of the same name.
  const fromEtc = new Set(lines.map((l) => /^\/etc\/firewalld\/services\/([^/]+)\.xml:/.exec(l)?.[1]).filter(Boolean));
  for (const line of lines) {
    const m = /^(.*\/)([^/]+)\.xml:(.*)$/.exec(line);
    if (!m) continue;
    const [, dir = '', name = '', body = ''] = m;
    if (fromEtc.has(name) && !dir.startsWith('/etc/')) continue;
    const port =
      /<port\b[^>]*\bport="([^"]+)"[^>]*\bprotocol="([^"]+)"|<port\b[^>]*\bprotocol="([^"]+)"[^>]*\bport="([^"]+)"/.exec(
        body,
      );
    if (port) own.set(name, [...(own.get(name) ?? []), `${port[1] ?? port[4]}/${port[2] ?? port[3]}`]);
    const inc = /<include\b[^>]*\bservice="([^"]+)"/.exec(body);
    if (inc) includes.set(name, [...(includes.get(name) ?? []), inc[1]!]);
  }
  const resolve = (name: string, depth = 0): string[] =>
    depth > 8 ? [] : [...(own.get(name) ?? []), ...(includes.get(name) ?? []).flatMap((i) => resolve(i, depth + 1))];
  return new Map([...new Set([...own.keys(), ...includes.keys()])].map((n) => [n, resolve(n)]));
}

// The service files: the user's (/etc) first, so that they win over the package's.
const PROBE = `${BOOT_STATE_FN}
echo '@@default'; firewall-cmd --get-default-zone || echo '@@error'
echo '@@active'; firewall-cmd --get-active-zones 2>/dev/null | grep -v '^ ' || true
echo '@@zones'; firewall-cmd --permanent --list-all-zones || echo '@@error'
echo '@@services'; grep -H -E '<(port|include) ' /etc/firewalld/services/*.xml /usr/lib/firewalld/services/*.xml 2>/dev/null
echo '@@boot'; boot_state firewalld.service firewalld
echo '@@end'`;

export interface FirewalldOptions {
  allowEnable?: boolean;
  manualBoot?: boolean;
}

export async function planFirewalld(host: Host, rule: PortRule, opts: FirewalldOptions = {}): Promise<FirewallPlan> {
  const r = await host.exec(shScript(PROBE), { readOnly: true, what: "reading firewalld's zones" });
  const s = splitSections(r.stdout);
  if (!s.has('end') || s.has('error'))
    throw new HostError(host.name, `cannot read the firewalld configuration: ${whyFailed(r)}`);
  const state: FirewalldState = {
    defaultZone: s.get('default')?.[0]?.trim() ?? 'public',
    activeZones: (s.get('active') ?? []).map((l) => l.trim()).filter(Boolean),
    zones: parseZones(s.get('zones') ?? []),
    servicePorts: parseServicePorts(s.get('services') ?? []),
  };
  const plan = planFirewalldCommands(state, rule);
  const notes = plan.shadowed.map(
    (o) =>
      `your firewalld ${o} also admits ${rule.port}/${rule.proto}; it stays, and our rules come first in that zone`,
  );
  const changes: Change[] = [];
  if (plan.commands.length) changes.push(firewalldChange(plan.commands, rule, zonesInScope(state).length));
  const boot = planBoot(parseBootState(s.get('boot')?.[0]), {
    name: 'firewalld',
    keptIn: 'its permanent configuration',
    service: { unit: 'firewalld.service', script: 'firewalld' },
    deniesByDefault: true,
    allowEnable: !!opts.allowEnable,
    manual: !!opts.manualBoot,
  });
  if (boot.change) changes.push(boot.change);
  if (boot.note) notes.push(boot.note);
  const unprotected = [
    ...plan.ahead.map((a) => `a rich rule of yours comes before ours and accepts the port (${a})`),
    ...(boot.unprotected ? [boot.unprotected] : []),
  ];
  return { changes, notes, ...(unprotected.length ? { unprotected: unprotected.join('; ') } : {}) };
}

function firewalldChange(cmds: string[][], rule: PortRule, zones: number): Change {
  const removed = cmds
    .flat()
    .filter((a) => /^--remove-(port|service)=/.test(a))
    .map((a) => a.replace(/^--remove-(port|service)=/, ''));
  const opening = removed.length
    ? `; removes the public opening of ${rule.port}/${rule.proto} (${[...new Set(removed)].join(', ')}): it must stay private`
    : '';
  return {
    description: `firewalld: ${describeRule(rule)} in ${zones} zone${zones > 1 ? 's' : ''} (${cmds.length} permanent rule change${cmds.length > 1 ? 's' : ''}, then one reload)${opening}`,
    diff: cmds.map((c) => c.join(' ')).join('\n') + '\nfirewall-cmd --reload\n',
    async apply(h) {
      for (const argv of [...cmds, ['firewall-cmd', '--reload']])
        await execChecked(h, argv, argv.join(' '), { deadline: 'command' });
    },
  };
}
