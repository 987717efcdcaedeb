import { jitsi, bridgesOf, meetOf, privateAddress } from './settings.js';
import type { DiscoveryContext } from '../../src/engine/playbook.js';
import { PlaybookRefusal } from '../../src/engine/playbook.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { getHocon } from '../../src/modules/hocon/set-hocon.js';
import { mapLimit } from '../../src/engine/pool.js';
import type { Host } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import {
  JVB_CONF,
  SIP_PROPERTIES,
  effectiveShard,
  hoconShards,
  layoutOf,
  legacyShards,
  type BridgeFiles,
  type Layout,
} from './bridge-files.js';
import { assignNicknames } from './nicknames.js';
import { accountFile, parseAccount, passwordMatches } from './prosody-account.js';
import { c2sPort, jitsiDomainOf, readGlobals, type ProsodyGlobals } from './prosody-config.js';

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
  prosody: ProsodyGlobals;
  c2sPort: number;
  /** The meet host's inventory name. */
  meetName: string;
  /** The address the bridges reach the meet host on. */
  meetAddress: string;
  /** The bridges' XMPP password (registered as a secret), and where it was found. */
  secret: string;
  secretSource: string;
  /** Whether the secret was checked against Prosody's own account. */
  secretChecked: boolean;
  meetLayout: Layout;
  meetBridgeVersion?: string;
  meetBridgeNickname?: string;
  /** The auth.<domain> certificate (PEM), read when a bridge is to verify it. */
  certificate?: string;
  jicofoInstalled: boolean;
  bridges: Record<string, BridgeFacts>;
  nicknames: Record<string, string>;
}

/** The site configs Prosody includes from conf.d, path → text. */
async function siteConfigs(meet: Host): Promise<Map<string, string>> {
  const r = await meet.exec(
    shScript('for f in /etc/prosody/conf.d/*.cfg.lua; do [ -f "$f" ] && echo "$f"; done; exit 0'),
    { readOnly: true },
  );
  const paths = r.stdout.split('\n').filter(Boolean);
  const files = await meet.readFiles(paths);
  return new Map([...files].filter((e): e is [string, string] => e[1] !== null));
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

export async function discoverShard(ctx: DiscoveryContext): Promise<ShardFacts> {
  const meetSpec = meetOf(ctx.inventory);
  const meetEntry = ctx.hosts.get(meetSpec.name);
  if (!meetEntry) throw new PlaybookRefusal(meetSpec.name, `the meet host ${meetSpec.name} could not be read`);
  const meet = meetEntry.host;
  const name = meetSpec.name;
  for (const spec of ctx.inventory.hosts) ctx.secrets.add(secretOverride(spec));

  const [main, sites] = await Promise.all([
    meet.readFiles([PROSODY_MAIN, JICOFO_CONF, JVB_CONF, SIP_PROPERTIES, DEBCONF_PASSWORDS]),
    siteConfigs(meet),
  ]);
  const prosodyMain = main.get(PROSODY_MAIN);
  if (!prosodyMain)
    throw new PlaybookRefusal(
      name,
      `${name} is not a Jitsi Meet server: ${PROSODY_MAIN} is missing (is prosody installed?)`,
    );

  const wanted = jitsi(meetSpec).domain;
  let domain: string | undefined;
  let siteConfig: string | undefined;
  for (const [path, text] of sites) {
    const d = jitsiDomainOf(text);
    if (d && (!wanted || d === wanted)) {
      domain = d;
      siteConfig = path;
      break;
    }
  }
  if (!domain || !siteConfig) {
    const why = wanted
      ? `no Prosody site config declares VirtualHost "auth.${wanted}" (jitsi_domain)`
      : 'no Prosody site config in /etc/prosody/conf.d declares VirtualHost "auth.<domain>"';
    throw new PlaybookRefusal(name, `${name} is not a Jitsi Meet server: ${why}`);
  }

  const jicofo = main.get(JICOFO_CONF) ?? null;
  let brewery = jitsi(meetSpec).breweryJid;
  if (!brewery && jicofo) {
    try {
      brewery = getHocon(jicofo, ['jicofo', 'bridge', 'brewery-jid']);
    } catch (e) {
      throw new PlaybookRefusal(name, `cannot read ${JICOFO_CONF} on ${name}: ${(e as Error).message}`);
    }
  }
  const prosody = { ...readGlobals(prosodyMain) };
  for (const text of sites.values()) {
    const g = readGlobals(text);
    if (g.c2sInterfaces) prosody.c2sInterfaces = g.c2sInterfaces;
    if (g.c2sPorts) prosody.c2sPorts = g.c2sPorts;
  }

  // The bridges' secret: the meet host's own bridge config first, then debconf; checked against
  // Prosody's stored account when Prosody keeps it in files.
  const meetFiles: BridgeFiles = { jvbConf: main.get(JVB_CONF) ?? null, properties: main.get(SIP_PROPERTIES) ?? null };
  const candidates: { value: string; source: string }[] = [];
  const override = secretOverride(meetSpec);
  if (override) candidates.push({ value: override, source: 'jitsi_jvb_secret in the inventory' });
  else {
    for (const s of legacyShards(meetFiles.properties))
      if (s.values.PASSWORD) candidates.push({ value: s.values.PASSWORD, source: `${SIP_PROPERTIES} on ${name}` });
    for (const s of hoconShards(meetFiles.jvbConf))
      if (s.values.PASSWORD) candidates.push({ value: s.values.PASSWORD, source: `${JVB_CONF} on ${name}` });
    const fromDebconf = debconfValue(main.get(DEBCONF_PASSWORDS) ?? null, 'jitsi-videobridge/jvbsecret');
    if (fromDebconf)
      candidates.push({ value: fromDebconf, source: `debconf (jitsi-videobridge/jvbsecret) on ${name}` });
  }
  for (const c of candidates) ctx.secrets.add(c.value);
  if (candidates.length === 0) {
    throw new PlaybookRefusal(
      name,
      `no secret for the bridges found on ${name}: neither ${JVB_CONF}, ${SIP_PROPERTIES} nor debconf holds the jvb password; set jitsi_jvb_secret in the inventory`,
    );
  }
  const account = accountFile('jvb', `auth.${domain}`);
  const accountText = (await meet.readFiles([account])).get(account) ?? null;
  const stored = accountText ? parseAccount(accountText) : null;
  let chosen = candidates[0]!;
  let checked = false;
  if (stored) {
    const match = candidates.find((c) => passwordMatches(stored, c.value));
    if (!match) {
      throw new PlaybookRefusal(
        name,
        `the secret in ${candidates.map((c) => c.source).join(' and ')} is not the password of jvb@auth.${domain} in Prosody; ` +
          `set one with \`prosodyctl passwd jvb@auth.${domain}\` on ${name} and give it as jitsi_jvb_secret`,
      );
    }
    chosen = match;
    checked = true;
  } else {
    const dir = await meet.exec(['test', '-d', `/var/lib/prosody/${account.split('/')[4]}/accounts`], {
      readOnly: true,
    });
    if (dir.code === 0)
      throw new PlaybookRefusal(
        name,
        `Prosody on ${name} has no account jvb@auth.${domain}; create it with \`prosodyctl register jvb auth.${domain} SECRET\` and give the secret as jitsi_jvb_secret`,
      );
  }

  const needCert = bridgesOf(ctx.inventory).some((b) => jitsi(b).verifyCertificate);
  let certificate: string | undefined;
  if (needCert) {
    const site = sites.get(siteConfig)!;
    const certPath =
      /certificate\s*=\s*"([^"]+auth\.[^"]+)"/.exec(site)?.[1] ?? `/etc/prosody/certs/auth.${domain}.crt`;
    certificate = (await meet.readFiles([certPath])).get(certPath) ?? undefined;
    if (!certificate)
      throw new PlaybookRefusal(
        name,
        `jitsi_verify_certificate is set, but ${certPath} (the auth.${domain} certificate) is missing on ${name}`,
      );
  }

  // Each bridge: what it runs today (files, package, launcher).
  const bridges: Record<string, BridgeFacts> = {};
  await mapLimit(
    bridgesOf(ctx.inventory).filter((b) => ctx.hosts.has(b.name)),
    Number.POSITIVE_INFINITY,
    async (spec) => {
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
      const bf: BridgeFiles = { jvbConf: files.get(JVB_CONF) ?? null, properties: files.get(SIP_PROPERTIES) ?? null };
      const shard = effectiveShard(bf);
      const installed = facts.packages[PACKAGE];
      bridges[spec.name] = {
        files: bf,
        ...(installed ? { installed } : {}),
        shardId: shard?.id ?? 'shard',
      };
    },
  );

  const meetShard = effectiveShard(meetFiles);
  const nick = assignNicknames(
    bridgesOf(ctx.inventory).map((b) => {
      const existing = bridges[b.name] ? effectiveShard(bridges[b.name]!.files)?.values.MUC_NICKNAME : undefined;
      return {
        bridge: b.name,
        ...(jitsi(b).nickname ? { wanted: jitsi(b).nickname } : {}),
        ...(existing ? { existing } : {}),
      };
    }),
    meetShard?.values.MUC_NICKNAME ? [meetShard.values.MUC_NICKNAME] : [],
  );
  if (!nick.ok) throw new PlaybookRefusal(nick.host, nick.message);

  const meetVersion = meetEntry.facts.packages[PACKAGE];
  return {
    domain,
    siteConfig,
    breweryJid: brewery ?? `JvbBrewery@internal.auth.${domain}`,
    prosody,
    c2sPort: c2sPort(prosody),
    meetName: meetSpec.name,
    meetAddress: privateAddress(meetSpec, meetEntry),
    secret: chosen.value,
    secretSource: chosen.source,
    secretChecked: checked,
    meetLayout: layoutOf(meetFiles),
    ...(meetVersion ? { meetBridgeVersion: meetVersion } : {}),
    ...(meetShard?.values.MUC_NICKNAME ? { meetBridgeNickname: meetShard.values.MUC_NICKNAME } : {}),
    ...(certificate ? { certificate } : {}),
    jicofoInstalled: !!meetEntry.facts.packages.jicofo,
    bridges,
    nicknames: Object.fromEntries(nick.nicknames),
  };
}
