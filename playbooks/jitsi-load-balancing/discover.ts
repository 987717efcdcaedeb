import type { DiscoveryContext } from '../../src/engine/types.js';
import { PlaybookRefusal } from '../../src/engine/types.js';
import { getHocon } from '../../src/modules/hocon/set-hocon.js';
import { splitSections } from '../../src/modules/probe-sections.js';
import { whyFailed } from '../../src/transport/host.js';
import { shScript } from '../../src/transport/shell-quote.js';
import { c2sPort, jitsiDomainOf, readGlobals, type ProsodyGlobals } from './prosody-config.js';

export const PROSODY_MAIN = '/etc/prosody/prosody.cfg.lua';
export const JICOFO_CONF = '/etc/jitsi/jicofo/jicofo.conf';

/** What the meet host says about the shard; every step reads it, none re-reads it. */
export interface ShardFacts {
  domain: string;
  /** The site config that holds `VirtualHost "auth.<domain>"`. */
  siteConfig: string;
  breweryJid: string;
  prosody: ProsodyGlobals;
  c2sPort: number;
  /** The address the bridges reach the meet host on. */
  meetAddress: string;
}

/*
 * One round trip: the main config, every site config Prosody includes, and jicofo.conf, each after
 * a marker line naming it.
 */
const READ_MEET = `
echo "@@main"; cat /etc/prosody/prosody.cfg.lua 2>/dev/null | sed 's/^@@/ @@/'
for f in /etc/prosody/conf.d/*.cfg.lua; do
  [ -f "$f" ] || continue
  echo "@@site:$f"; sed 's/^@@/ @@/' "$f"
done
echo "@@jicofo"; cat /etc/jitsi/jicofo/jicofo.conf 2>/dev/null | sed 's/^@@/ @@/'
echo "@@end"`;

/** Pure: the site configs from the probe's sections, path → text. */
export function sitesOf(sections: Map<string, string[]>): Map<string, string> {
  const sites = new Map<string, string>();
  for (const [name, lines] of sections) if (name.startsWith('site:')) sites.set(name.slice(5), lines.join('\n'));
  return sites;
}

export async function discoverShard(ctx: DiscoveryContext): Promise<ShardFacts> {
  const meetSpec = ctx.inventory.meet;
  const meet = ctx.hosts.get(meetSpec.name);
  if (!meet) throw new PlaybookRefusal(meetSpec.name, `the meet host ${meetSpec.name} could not be read`);
  const r = await meet.host.exec(shScript(READ_MEET));
  const sections = splitSections(r.stdout);
  if (!sections.has('end')) throw new PlaybookRefusal(meetSpec.name, `cannot read the Prosody and Jicofo configs on ${meetSpec.name}: ${whyFailed(r)}`);
  const main = (sections.get('main') ?? []).join('\n');
  if (!main) throw new PlaybookRefusal(meetSpec.name, `${meetSpec.name} is not a Jitsi Meet server: ${PROSODY_MAIN} is missing (is prosody installed?)`);

  const sites = sitesOf(sections);
  const wanted = meetSpec.jitsi.domain;
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
    const why = wanted ? `no Prosody site config declares VirtualHost "auth.${wanted}" (jitsi_domain)` : 'no Prosody site config in /etc/prosody/conf.d declares VirtualHost "auth.<domain>"';
    throw new PlaybookRefusal(meetSpec.name, `${meetSpec.name} is not a Jitsi Meet server: ${why}`);
  }
  const jicofo = (sections.get('jicofo') ?? []).join('\n');
  let brewery = meetSpec.jitsi.breweryJid;
  if (!brewery && jicofo) {
    try {
      brewery = getHocon(jicofo, ['jicofo', 'bridge', 'brewery-jid']);
    } catch (e) {
      throw new PlaybookRefusal(meetSpec.name, `cannot read ${JICOFO_CONF} on ${meetSpec.name}: ${(e as Error).message}`);
    }
  }
  const prosody = { ...readGlobals(main) };
  for (const text of sites.values()) {
    const g = readGlobals(text);
    if (g.c2sInterfaces) prosody.c2sInterfaces = g.c2sInterfaces;
    if (g.c2sPorts) prosody.c2sPorts = g.c2sPorts;
  }
  return {
    domain,
    siteConfig,
    breweryJid: brewery ?? `JvbBrewery@internal.auth.${domain}`,
    prosody,
    c2sPort: c2sPort(prosody),
    meetAddress: meetSpec.jitsi.privateAddress,
  };
}
