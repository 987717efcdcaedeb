import { BlockList, isIP } from 'node:net';

/*
 * ufw's user rules as ufw keeps them (/etc/ufw/user.rules, user6.rules: one "### tuple ###" line
 * per rule, in order), and what they do to a packet. ufw, like iptables under it, stops at the
 * first rule that matches, so whether a port is open is a question of order, not of whether some
 * rule is present: a port range, a port list, `limit`, an application profile or an
 * interface-bound rule earlier in the list admits the port just as `allow 5222/tcp` does.
 */

export interface UfwTuple {
  /** allow, deny, reject or limit (a logging suffix such as _log is dropped; see `log`). */
  action: string;
  log: boolean;
  /** A route rule (`ufw route …`, "route:allow" in the tuple): it filters forwarded packets, not incoming ones. */
  forward: boolean;
  /** tcp, udp, any, … */
  proto: string;
  /** "5222", "5000:6000", "5222,5269", "any". */
  dport: string;
  dst: string;
  sport: string;
  src: string;
  /** Application profiles ("Prosody"), when the rule names one. */
  dapp: string;
  sapp: string;
  direction: 'in' | 'out';
  /** The interface the rule is bound to ("in on eth0"), or ''. */
  iface: string;
  comment: string;
  v6: boolean;
}

export const UFW_FILES = { v4: '/etc/ufw/user.rules', v6: '/etc/ufw/user6.rules' };
/** ufw's own defaults (the incoming policy, IPv6 on or off), and the rules it loads before the user's. */
export const UFW_DEFAULTS = '/etc/default/ufw';
export const UFW_BEFORE = { v4: '/etc/ufw/before.rules', v6: '/etc/ufw/before6.rules' };

const TUPLE = /^### tuple ### (.+?)(?: comment=([0-9a-f]*))?\s*$/;

/** Pure: one tuple line, or null when the line is not one. Both the plain and the application form. */
export function parseTupleLine(line: string, v6: boolean): UfwTuple | null {
  const m = TUPLE.exec(line);
  if (!m) return null;
  const f = m[1]!.split(/\s+/);
  if (f.length !== 7 && f.length !== 9) return null;
  const [action = '', proto = '', dport = '', dst = '', sport = '', src = ''] = f;
  const [dapp, sapp] = f.length === 9 ? [f[6]!, f[7]!] : ['-', '-'];
  const [dir = 'in', ...ifaceParts] = f[f.length - 1]!.split('_');
  const forward = action.startsWith('route:');
  return {
    action: action.replace(/^route:/, '').replace(/_.*/, ''),
    log: action.includes('_log'),
    forward,
    proto,
    dport,
    dst,
    sport,
    src,
    dapp: dapp === '-' ? '' : dapp,
    sapp: sapp === '-' ? '' : sapp,
    direction: dir === 'out' ? 'out' : 'in',
    iface: ifaceParts.join('_'),
    comment: Buffer.from(m[2] ?? '', 'hex').toString('utf8'),
    v6,
  };
}

/** Pure: the rule tuples of a user.rules file, in order. */
export function parseUfwRules(text: string | null, v6: boolean): UfwTuple[] {
  return (text ?? '').split(/\r?\n/).flatMap((l) => parseTupleLine(l, v6) ?? []);
}

export const isAnySource = (src: string): boolean => src === '0.0.0.0/0' || src === '::/0' || src === 'any';

/** Pure: does a ufw port field ("5222", "5000:6000", "80,443,5000:6000", "any") cover `port`? */
export function portSpecHas(spec: string, port: number): boolean {
  if (spec === 'any') return true;
  return spec.split(',').some((part) => {
    const [lo, hi] = part.split(':').map(Number);
    return hi === undefined ? lo === port : port >= lo! && port <= hi;
  });
}

/** The packet a rule is asked about: proto and port, from a source ('outsider': any host that is not a bridge). */
export interface Knock {
  proto: 'tcp' | 'udp';
  port: number;
  from: string;
}

const admitting = (t: UfwTuple) => t.action === 'allow' || t.action === 'limit';

/** Does the tuple concern this knock's port at all (incoming, its protocol, its port)? */
export function concernsPort(t: UfwTuple, k: Pick<Knock, 'proto' | 'port'>): boolean {
  return (
    !t.forward && t.direction === 'in' && (t.proto === k.proto || t.proto === 'any') && portSpecHas(t.dport, k.port)
  );
}

/** Does `src` (an address or CIDR) hold `address`? */
function holds(src: string, address: string): boolean {
  if (isAnySource(src)) return true;
  const [net = '', bits] = src.split('/');
  const family = isIP(net);
  if (family === 0 || isIP(address) !== family) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(net, type);
  else list.addSubnet(net, Number(bits), type);
  return list.check(address, type);
}

/**
 * How a tuple meets a knock: 'all' when it matches every such packet, 'some' when it matches some
 * of them (a source port, a destination address, an interface or, for an outsider, a source
 * network: an attacker picks its source port and may sit in the network), 'none' otherwise.
 */
function reach(t: UfwTuple, k: Knock, bridges: readonly string[]): 'all' | 'some' | 'none' {
  if (!concernsPort(t, k)) return 'none';
  const partial = t.sport !== 'any' || !isAnySource(t.dst) || t.iface !== '' || t.sapp !== '';
  if (k.from === 'outsider') {
    if (isAnySource(t.src)) return partial ? 'some' : 'all';
    // a single bridge's address matches no outsider
    return bridges.some((b) => b === t.src.replace(/\/(32|128)$/, '')) ? 'none' : 'some';
  }
  if (!holds(t.src, k.from)) return 'none';
  return partial ? 'some' : 'all';
}

/** What ufw does with the knock: the rule that decides it (or the default policy), and whether it gets in. */
export interface Verdict {
  admitted: boolean;
  /** The tuple that decided, or null for the default policy. */
  by: UfwTuple | null;
}

/**
 * Pure: ufw's first-match verdict on a knock over one family's tuples, then its default incoming
 * policy. For an outsider, "admitted" means some outsider gets in: a rule that admits some of them
 * decides, while a deny that stops only some does not.
 */
export function ufwVerdict(
  tuples: readonly UfwTuple[],
  k: Knock,
  defaultPolicy: 'accept' | 'deny',
  bridges: readonly string[] = [],
): Verdict {
  for (const t of tuples) {
    const r = reach(t, k, bridges);
    if (r === 'none') continue;
    if (admitting(t)) return { admitted: true, by: t };
    if (r === 'all') return { admitted: false, by: t };
  }
  return { admitted: defaultPolicy === 'accept', by: null };
}

/** Pure: DEFAULT_INPUT_POLICY and IPV6 from /etc/default/ufw (ufw's own defaults when it is missing). */
export function parseUfwDefaults(text: string | null): { input: 'accept' | 'deny'; ipv6: boolean } {
  const value = (k: string) =>
    new RegExp(`^\\s*${k}\\s*=\\s*"?([^"\\s]*)"?`, 'm').exec(text ?? '')?.[1]?.toLowerCase() ?? undefined;
  return { input: value('DEFAULT_INPUT_POLICY') === 'accept' ? 'accept' : 'deny', ipv6: value('IPV6') !== 'no' };
}

/**
 * Pure: lines of before.rules (chain ufw-before-input) or before6.rules (ufw6-before-input) that
 * accept new connections to the port before any user rule is looked at: with the port among their
 * ports, or with no port at all (everything from an interface or a network). Loopback, replies
 * (RELATED,ESTABLISHED) and other protocols are not the port's business.
 */
export function beforeRulesAccepting(text: string | null, port: number, proto: 'tcp' | 'udp' = 'tcp'): string[] {
  return (text ?? '').split(/\r?\n/).filter((l) => {
    if (!/^-A ufw6?-before-input\b/.test(l) || !/-j ACCEPT\b/.test(l)) return false;
    if (/\s-i lo\b/.test(l) || /--(?:ct)?state RELATED,ESTABLISHED\b/.test(l)) return false;
    const p = /\s-p (\S+)/.exec(l)?.[1];
    if (p !== undefined && p !== proto && p !== 'all') return false;
    const ports = /--dports? (\S+)/.exec(l)?.[1];
    return ports === undefined || portSpecHas(ports, port);
  });
}

/** Pure: a tuple in the words of `ufw status`, for notes: "allow tcp 5000:6000 from anywhere (on eth0)". */
export function describeTuple(t: UfwTuple): string {
  const from = isAnySource(t.src) ? 'anywhere' : t.src;
  const app = t.dapp ? ` (application ${t.dapp})` : '';
  const on = t.iface ? ` on ${t.iface}` : '';
  const sport = t.sport !== 'any' ? ` port ${t.sport}` : '';
  return `${t.forward ? 'route ' : ''}${t.action} ${t.proto === 'any' ? '' : `${t.proto} `}${t.dport}${app} from ${from}${sport}${on}${t.v6 ? ' (v6)' : ''}`;
}

/**
 * How ufw numbers its rules (`ufw status numbered`, `ufw delete N`): the tuples of one application
 * rule (a profile with several port entries, such as Debian's XMPP: 5222/tcp|5269/tcp) are one
 * entry, told apart by application, ports, addresses, direction and interface (ufw 0.36,
 * backend.py get_rule_by_number and get_rules_count). '' for a rule that names no application.
 */
export function appEntry(t: UfwTuple): string {
  if (!t.dapp && !t.sapp) return '';
  return `${t.dapp || t.dport} ${t.dst} ${t.sapp || t.sport} ${t.src} ${t.direction}_${t.iface}`;
}

/** Pure: the entries ufw numbers among a family's first `end` tuples. */
export function entriesBefore(list: readonly UfwTuple[], end = list.length): number {
  const seen = new Set<string>();
  let n = 0;
  for (const t of list.slice(0, end)) {
    const key = appEntry(t);
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    n++;
  }
  return n;
}

/**
 * Pure: where `ufw insert` really puts a rule asked for before tuple `index`: a place between two
 * tuples of one application rule moves past them (ufw 0.36, backend_iptables.py set_rule).
 */
export function insertionIndex(list: readonly UfwTuple[], index: number): number {
  const sameApp = (a: UfwTuple, b: UfwTuple) =>
    (a.dapp !== '' || a.sapp !== '') && a.dst === b.dst && a.src === b.src && a.dapp === b.dapp && a.sapp === b.sapp;
  let at = index;
  while (at > 0 && at < list.length && sameApp(list[at - 1]!, list[at]!)) at++;
  return at;
}
