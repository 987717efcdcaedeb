import { jitsi, bridgesOf, meetOf, privateAddress } from './settings.js';
import type { DiscoveryContext } from '../../src/engine/playbook.js';
import { PlaybookRefusal } from '../../src/engine/playbook.js';
import type { HostSpec, Inventory } from '../../src/inventory/types.js';
import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { hoconFileProblem } from '../../src/modules/hocon/hocon-problem.js';
import { mapLimit } from '../../src/engine/pool.js';
import { HostError, type Host } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import {
  JVB_CONF,
  SIP_PROPERTIES,
  bridgeFiles,
  effectiveShard,
  hoconShards,
  layoutOf,
  legacyShards,
  passwordsIn,
  type BridgeFiles,
  type Layout,
} from './bridge-files.js';
import { assignNicknames } from './nicknames.js';
import { jicofoSctpEnabled, planChannels, type ChannelWant } from './bridge-channel.js';
import {
  accountDisabled,
  accountFile,
  createAccountCommand,
  iterationProblem,
  parseAccount,
  passwordMatches,
} from './prosody-account.js';
import { pairedBridgeVersion, type BridgePin } from './packages.js';
import { ROUTE_PROBE, chooseMeetAddress, parseRoutes, remoteBridges } from './meet-address.js';
import type { RunHost } from '../../src/engine/playbook.js';
import { controlCharacter } from '../../src/inventory/known-variables.js';
import {
  c2sPort,
  evaluateProsody,
  includesOf,
  jitsiDomainOf,
  matchInclude,
  resolveInclude,
  type ProsodyConfig,
} from './prosody-config.js';

export const PROSODY_MAIN = '/etc/prosody/prosody.cfg.lua';
export const JICOFO_CONF = '/etc/jitsi/jicofo/jicofo.conf';
export const DEBCONF_PASSWORDS = '/var/cache/debconf/passwords.dat';
export const PACKAGE = 'jitsi-videobridge2';

export interface BridgeFacts {
  files: BridgeFiles;
  /** Installed jitsi-videobridge2 version, if any. */
  installed?: string;
  /** The shard block id to edit in jvb.conf or the properties ("shard" on package installs). */
  shardId: string;
}

/** What discovery found; every step reads it, none re-reads it. */
export interface ShardFacts {
  domain: string;
  siteConfig: string;
  breweryJid: string;
  /** Prosody's globals as it reads them, and the files they come from. */
  prosody: ProsodyConfig;
  c2sPort: number;
  /** The meet host's inventory name. */
  meetName: string;
  /** The address the bridges reach the meet host on (never loopback when a bridge is elsewhere). */
  meetAddress: string;
  /** How meetAddress was found when the inventory gave loopback (the route towards the bridges). */
  meetAddressDerived?: string;
  /** The bridges' XMPP password (registered as a secret), and where it was found. */
  secret: string;
  secretSource: string;
  /** Whether the secret was checked against Prosody's own account. */
  secretChecked: boolean;
  meetLayout: Layout;
  meetBridgeVersion?: string;
  /** The bridge version the meet host's Jitsi release pairs with, and where that came from. */
  bridgePin: BridgePin;
  meetBridgeNickname?: string;
  /** The auth.<domain> certificate (PEM), read when a bridge is to verify it. */
  certificate?: string;
  jicofoInstalled: boolean;
  bridges: Record<string, BridgeFacts>;
  nicknames: Record<string, string>;
  /** Whether Jicofo allocates SCTP on the bridges (jicofo.conf `jicofo.sctp.enabled`, default true). */
  jicofoSctp: boolean;
  /** Each bridge's channel as it is to be (jitsi_bridge_channel), with its server-id for websockets. */
  channels: Record<string, ChannelWant>;
  /** Bridges whose channel cannot be had as asked, with the sentence that says why and what to do. */
  channelRefusals: Record<string, string>;
}

/**
 * Prosody's config files as Prosody reads them: the main file and what it includes, nested
 * includes and patterns too, a level per round trip or two.
 */
export async function readProsodyFiles(
  host: Host,
  mainText: string,
): Promise<{ files: Map<string, string>; listing: string[] }> {
  const files = new Map<string, string>([[PROSODY_MAIN, mainText]]);
  const listed = new Set<string>();
  const asked = new Set<string>([PROSODY_MAIN]);
  const listing: string[] = [];
  for (let depth = 0; depth < 8; depth++) {
    const wanted = [...files.values()].flatMap((t) => includesOf(t).map((p) => resolveInclude(PROSODY_MAIN, p)));
    const dirs = [...new Set(wanted.filter((p) => p.includes('*')).map((p) => p.replace(/\/[^/]*$/, '')))].filter(
      (d) => !listed.has(d),
    );
    if (dirs.length) {
      const r = await host.exec(
        shScript('for d in "$@"; do for f in "$d"/*; do [ -f "$f" ] && echo "$f"; done; done; exit 0', ...dirs),
        { readOnly: true },
      );
      dirs.forEach((d) => listed.add(d));
      listing.push(...r.stdout.split('\n').filter(Boolean));
    }
    const next = [...new Set(wanted.flatMap((p) => matchInclude(p, listing)))].filter((p) => !asked.has(p));
    if (next.length === 0) break;
    next.forEach((p) => asked.add(p));
    for (const [p, text] of await host.readFiles(next)) if (text !== null) files.set(p, text);
  }
  return { files, listing };
}

/** Pure: the value of a debconf question in passwords.dat / config.dat text. */
export function debconfValue(text: string | null, question: string): string | undefined {
  if (!text) return undefined;
  for (const block of text.split(/\n\s*\n/)) {
    if (!new RegExp(`^Name: ${question.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(block)) continue;
    const v = /^Value: (.*)$/m.exec(block)?.[1];
    if (v) return v;
  }
  return undefined;
}

function secretOverride(spec: HostSpec): string | undefined {
  const v = spec.vars.jitsi_jvb_secret;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The secret a bridge is given: its own jitsi_jvb_secret if the inventory sets one, else the shard's. */
export function secretFor(spec: HostSpec, shard: ShardFacts): string {
  return secretOverride(spec) ?? shard.secret;
}

/** The meet host's site config that declares auth.<domain> (the one jitsi_domain names, if set). */
function findSite(
  name: string,
  sites: Map<string, string>,
  wanted: string | undefined,
): { domain: string; siteConfig: string } {
  for (const [path, text] of sites) {
    const d = jitsiDomainOf(text);
    const bad = d ? controlCharacter(d) : null;
    // The domain goes into debconf answers and config lines: a line break there would add its own.
    if (bad)
      throw new PlaybookRefusal(
        name,
        `${path} on ${name} declares an auth.<domain> VirtualHost whose domain holds ${bad}; fix it by hand`,
      );
    if (d && (!wanted || d === wanted)) return { domain: d, siteConfig: path };
  }
  const why = wanted
    ? `no Prosody site config declares VirtualHost "auth.${wanted}" (jitsi_domain)`
    : 'no Prosody site config in /etc/prosody/conf.d declares VirtualHost "auth.<domain>"';
  throw new PlaybookRefusal(name, `${name} is not a Jitsi Meet server: ${why}`);
}

/** jicofo.conf parsed, or null when there is none; refused when Jicofo could not read it either. */
function parseJicofo(name: string, jicofo: string | null): HoconDoc | null {
  if (!jicofo) return null;
  try {
    return new HoconDoc(jicofo);
  } catch (e) {
    throw new PlaybookRefusal(
      name,
      `${hoconFileProblem(JICOFO_CONF, name, e)}; fix it by hand (Jicofo cannot read it either)`,
    );
  }
}

interface Candidate {
  value: string;
  source: string;
}

/** Where the bridges' secret may be: the inventory, else the meet host's own bridge config, then debconf. */
function secretCandidates(meetSpec: HostSpec, meetFiles: BridgeFiles, debconf: string | null): Candidate[] {
  const name = meetSpec.name;
  const override = secretOverride(meetSpec);
  if (override) return [{ value: override, source: 'jitsi_jvb_secret in the inventory' }];
  const candidates: Candidate[] = [];
  for (const s of legacyShards(meetFiles.properties))
    if (s.values.PASSWORD) candidates.push({ value: s.values.PASSWORD, source: `${SIP_PROPERTIES} on ${name}` });
  for (const s of hoconShards(meetFiles.jvb))
    if (s.values.PASSWORD) candidates.push({ value: s.values.PASSWORD, source: `${JVB_CONF} on ${name}` });
  const fromDebconf = debconfValue(debconf, 'jitsi-videobridge/jvbsecret');
  if (fromDebconf) candidates.push({ value: fromDebconf, source: `debconf (jitsi-videobridge/jvbsecret) on ${name}` });
  // The secret goes into debconf answers (one per line) and config lines: a line break would add its own.
  for (const c of candidates) {
    const bad = controlCharacter(c.value);
    if (bad)
      throw new PlaybookRefusal(
        name,
        `the jvb password in ${c.source} holds ${bad}, which would break the debconf answers and config lines it is written to; set a one-line password (prosodyctl passwd) and give it as jitsi_jvb_secret`,
      );
  }
  if (candidates.length === 0) {
    throw new PlaybookRefusal(
      name,
      `no secret for the bridges found on ${name}: neither ${JVB_CONF}, ${SIP_PROPERTIES} nor debconf holds the jvb password; set jitsi_jvb_secret in the inventory`,
    );
  }
  return candidates;
}

/** The candidate that is Prosody's password for jvb@auth.<domain>, when Prosody keeps accounts in files. */
async function checkSecret(
  meet: Host,
  name: string,
  domain: string,
  candidates: Candidate[],
  prosodyVersion: string | undefined,
): Promise<{ chosen: Candidate; checked: boolean }> {
  const account = accountFile('jvb', `auth.${domain}`);
  const accountText = (await meet.readFiles([account])).get(account) ?? null;
  if (accountText && accountDisabled(accountText))
    throw new PlaybookRefusal(
      name,
      `Prosody on ${name} has the account jvb@auth.${domain} disabled, so no bridge can log in; enable it with \`prosodyctl shell user enable jvb@auth.${domain}\` (and set its password with \`prosodyctl passwd jvb@auth.${domain}\` if it has none)`,
    );
  const stored = accountText ? parseAccount(accountText) : null;
  if (stored) {
    const problem = iterationProblem(stored, name, account);
    if (problem) throw new PlaybookRefusal(name, problem);
    for (const c of candidates) if (await passwordMatches(stored, c.value)) return { chosen: c, checked: true };
    throw new PlaybookRefusal(
      name,
      `the secret in ${candidates.map((c) => c.source).join(' and ')} is not the password of jvb@auth.${domain} in Prosody; ` +
        `set one with \`prosodyctl passwd jvb@auth.${domain}\` on ${name} and give it as jitsi_jvb_secret`,
    );
  }
  const dir = await meet.exec(['test', '-d', `/var/lib/prosody/${account.split('/')[4]}/accounts`], {
    readOnly: true,
  });
  if (dir.code === 0)
    throw new PlaybookRefusal(
      name,
      `Prosody on ${name} has no account jvb@auth.${domain}; create it with ${createAccountCommand(prosodyVersion, 'jvb', `auth.${domain}`)} and give the secret as jitsi_jvb_secret`,
    );
  return { chosen: candidates[0]!, checked: false };
}

/** The auth.<domain> certificate, read only when a bridge is to verify it. */
async function readCertificate(
  meet: Host,
  name: string,
  domain: string,
  site: string,
  needed: boolean,
): Promise<string | undefined> {
  if (!needed) return undefined;
  const certPath = /certificate\s*=\s*"([^"]+auth\.[^"]+)"/.exec(site)?.[1] ?? `/etc/prosody/certs/auth.${domain}.crt`;
  const certificate = (await meet.readFiles([certPath])).get(certPath) ?? undefined;
  if (!certificate)
    throw new PlaybookRefusal(
      name,
      `jitsi_verify_certificate is set, but ${certPath} (the auth.${domain} certificate) is missing on ${name}`,
    );
  return certificate;
}

/**
 * A host's bridge files, parsed once; or, when its jvb.conf is not one the bridge can read, the
 * sentence that names that host, the file, the line and the column.
 */
export function readBridgeFiles(
  host: string,
  jvbConf: string | null,
  properties: string | null,
): { files: BridgeFiles } | { problem: string } {
  try {
    return { files: bridgeFiles(host, jvbConf, properties) };
  } catch (e) {
    if (e instanceof HostError) return { problem: e.message };
    throw e;
  }
}

/** Each connected bridge: what it runs today (its files, its package). */
async function readBridges(ctx: DiscoveryContext): Promise<Record<string, BridgeFacts>> {
  const bridges: Record<string, BridgeFacts> = {};
  const connected = bridgesOf(ctx.inventory).filter((b) => ctx.hosts.has(b.name));
  await mapLimit(connected, Number.POSITIVE_INFINITY, async (spec) => {
    const { host, facts } = ctx.hosts.get(spec.name)!;
    let files;
    try {
      files = await host.readFiles([JVB_CONF, SIP_PROPERTIES]);
    } catch (e) {
      throw new PlaybookRefusal(
        spec.name,
        `cannot read the videobridge files on ${spec.name}: ${(e as Error).message}`,
      );
    }
    // A bridge whose jvb.conf cannot be read fails alone, named; the run goes on with the others.
    const read = readBridgeFiles(spec.name, files.get(JVB_CONF) ?? null, files.get(SIP_PROPERTIES) ?? null);
    if ('problem' in read) return ctx.fail(spec.name, read.problem);
    const bf = read.files;
    // The password a bridge has now is masked too: setup's diff shows it being replaced.
    for (const p of passwordsIn(bf)) ctx.secrets.add(p);
    const installed = facts.packages[PACKAGE];
    bridges[spec.name] = {
      files: bf,
      ...(installed ? { installed } : {}),
      shardId: effectiveShard(bf)?.id ?? 'shard',
    };
  });
  return bridges;
}

/** One nickname per bridge: the inventory's, else the one it has, else a new one; never the meet host's. */
function nicknames(inventory: Inventory, bridges: Record<string, BridgeFacts>, meetNick: string | undefined) {
  const nick = assignNicknames(
    bridgesOf(inventory).map((b) => {
      const existing = bridges[b.name] ? effectiveShard(bridges[b.name]!.files)?.values.MUC_NICKNAME : undefined;
      return {
        bridge: b.name,
        ...(jitsi(b).nickname ? { wanted: jitsi(b).nickname } : {}),
        ...(existing ? { existing } : {}),
      };
    }),
    meetNick ? [meetNick] : [],
  );
  if (!nick.ok) throw new PlaybookRefusal(nick.host, nick.message);
  return Object.fromEntries(nick.nicknames);
}

/** What the meet host says about the shard: its files, its site configs, and that it is a Jitsi Meet server. */
async function readMeet(meet: Host, name: string) {
  const main = await meet.readFiles([PROSODY_MAIN, JICOFO_CONF, JVB_CONF, SIP_PROPERTIES, DEBCONF_PASSWORDS]);
  const prosodyMain = main.get(PROSODY_MAIN);
  if (!prosodyMain)
    throw new PlaybookRefusal(
      name,
      `${name} is not a Jitsi Meet server: ${PROSODY_MAIN} is missing (is prosody installed?)`,
    );
  const { files: prosodyFiles, listing } = await readProsodyFiles(meet, prosodyMain);
  const prosody = evaluateProsody(PROSODY_MAIN, prosodyFiles, listing);
  // The site configs: every file Prosody reads besides the main one, in its order.
  const sites = new Map(prosody.files.filter((f) => f !== PROSODY_MAIN).map((f) => [f, prosodyFiles.get(f)!]));
  const read = readBridgeFiles(name, main.get(JVB_CONF) ?? null, main.get(SIP_PROPERTIES) ?? null);
  if ('problem' in read) throw new PlaybookRefusal(name, read.problem);
  return { main, sites, prosody, files: read.files };
}

/**
 * The address the bridges reach the meet host on: the inventory's, unless that is loopback while
 * bridges are elsewhere (the tool run on the meet host); then the source of the meet host's route
 * towards them, asked in one round trip, or a refusal naming private_address.
 */
async function meetAddressOf(
  ctx: DiscoveryContext,
  meetSpec: HostSpec,
  meetEntry: RunHost,
): Promise<{ address: string; derived?: string }> {
  const address = privateAddress(meetSpec, meetEntry);
  const given = meetSpec.vars.private_address === undefined ? undefined : address;
  const remote = remoteBridges(bridgesOf(ctx.inventory), (b) => privateAddress(b, ctx.hosts.get(b.name)));
  let routes = null;
  const first = chooseMeetAddress(meetSpec.name, given, address, remote, null);
  if ('address' in first) return first;
  if (given === undefined) {
    const asked = [...new Set(remote.map((b) => b.address))];
    routes = parseRoutes((await meetEntry.host.exec(shScript(ROUTE_PROBE, ...asked), { readOnly: true })).stdout);
  }
  const chosen = chooseMeetAddress(meetSpec.name, given, address, remote, routes);
  if ('refuse' in chosen) throw new PlaybookRefusal(meetSpec.name, chosen.refuse);
  return chosen;
}

/** `apt-cache show jitsi-meet` on the meet host, asked only when its own packages cannot pair a bridge version. */
async function releaseCatalogue(ctx: DiscoveryContext, meetEntry: RunHost): Promise<string | null> {
  const p = meetEntry.facts.packages;
  const everyBridgePinned = bridgesOf(ctx.inventory).every((b) => jitsi(b).videobridgeVersion);
  if (p[PACKAGE] || p['jitsi-meet'] || !p.jicofo || everyBridgePinned) return null;
  const r = await meetEntry.host.exec(['apt-cache', 'show', 'jitsi-meet'], { readOnly: true });
  return r.code === 0 ? r.stdout : null;
}

export async function discoverShard(ctx: DiscoveryContext): Promise<ShardFacts> {
  const meetSpec = meetOf(ctx.inventory);
  const meetEntry = ctx.hosts.get(meetSpec.name);
  if (!meetEntry) throw new PlaybookRefusal(meetSpec.name, `the meet host ${meetSpec.name} could not be read`);
  const meet = meetEntry.host;
  const name = meetSpec.name;
  for (const spec of ctx.inventory.hosts) ctx.secrets.add(secretOverride(spec));

  const { main, sites, prosody, files: meetFiles } = await readMeet(meet, name);
  const { domain, siteConfig } = findSite(name, sites, jitsi(meetSpec).domain);
  const jicofo = parseJicofo(name, main.get(JICOFO_CONF) ?? null);
  const brewery = jitsi(meetSpec).breweryJid ?? jicofo?.get(['jicofo', 'bridge', 'brewery-jid']);
  const candidates = secretCandidates(meetSpec, meetFiles, main.get(DEBCONF_PASSWORDS) ?? null);
  for (const c of candidates) ctx.secrets.add(c.value);
  const { chosen, checked } = await checkSecret(meet, name, domain, candidates, meetEntry.facts.packages.prosody);
  const needCert = bridgesOf(ctx.inventory).some((b) => jitsi(b).verifyCertificate);
  const certificate = await readCertificate(meet, name, domain, sites.get(siteConfig)!, needCert);
  const bridges = await readBridges(ctx);
  const meetShard = effectiveShard(meetFiles);

  const meetVersion = meetEntry.facts.packages[PACKAGE];
  const jicofoSctp = jicofoSctpEnabled(jicofo);
  const { channels, refused } = planChannels(
    bridgesOf(ctx.inventory).map((b) => ({
      name: b.name,
      channel: jitsi(b).bridgeChannel,
      jvb: bridges[b.name]?.files.jvb ?? null,
      properties: bridges[b.name]?.files.properties ?? null,
    })),
    jicofoSctp,
    domain,
  );
  const meetAddress = await meetAddressOf(ctx, meetSpec, meetEntry);
  const bridgePin = pairedBridgeVersion(meetEntry.facts, await releaseCatalogue(ctx, meetEntry));
  return {
    domain,
    siteConfig,
    breweryJid: brewery ?? `JvbBrewery@internal.auth.${domain}`,
    prosody,
    c2sPort: c2sPort(prosody),
    meetName: meetSpec.name,
    meetAddress: meetAddress.address,
    ...(meetAddress.derived ? { meetAddressDerived: meetAddress.derived } : {}),
    secret: chosen.value,
    secretSource: chosen.source,
    secretChecked: checked,
    meetLayout: layoutOf(meetFiles),
    ...(meetVersion ? { meetBridgeVersion: meetVersion } : {}),
    bridgePin,
    ...(meetShard?.values.MUC_NICKNAME ? { meetBridgeNickname: meetShard.values.MUC_NICKNAME } : {}),
    ...(certificate ? { certificate } : {}),
    jicofoInstalled: !!meetEntry.facts.packages.jicofo,
    bridges,
    nicknames: nicknames(ctx.inventory, bridges, meetShard?.values.MUC_NICKNAME),
    jicofoSctp,
    channels: Object.fromEntries(channels),
    channelRefusals: Object.fromEntries(refused),
  };
}
