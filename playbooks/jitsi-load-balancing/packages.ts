/** The packages the shard's facts read on every host: Jitsi's own, and the firewalls the steps drive. */
export const SHARD_PACKAGES = [
  'prosody',
  'jicofo',
  'jitsi-meet',
  'jitsi-meet-prosody',
  'jitsi-videobridge2',
  'ufw',
  'firewalld',
  'nftables',
  'iptables',
  'iptables-persistent',
  'netfilter-persistent',
] as const;

/** A Debian package version's upstream part: no epoch, no Debian revision ("1:2.0.9823-1" → "2.0.9823"). */
export function upstreamVersion(v: string): string {
  return v.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/** Pure: the exact version a relation list ("a (= 1), b (>= 2) | c") pins `pkg` to, if it does. */
export function exactDependency(relations: string | undefined, pkg: string): string | undefined {
  for (const part of (relations ?? '').split(/[,|]/)) {
    const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*\(\s*=\s*([^)\s]+)\s*\)/.exec(part);
    if (m && m[1] === pkg) return m[2];
  }
  return undefined;
}

/*
 * How a Jitsi release pairs its parts: the jitsi-meet metapackage is built per release with
 * `Pre-Depends: jitsi-videobridge2 (= <jvb>-1)` and `Depends: jicofo (= 1.0-<n>-1), jitsi-meet-web
 * (= …), …` (jitsi/jitsi-meet-debian-meta, control-tmpl and build-new-package.sh, which fills them
 * from its `jitsi-videobridge` and `jicofo` files). Jicofo's and the bridge's own version numbers
 * are independent (jicofo 1.0-<n>, the bridge 2.x-<n>-g<hash>): only a metapackage says which go
 * together.
 */

/** Where the bridges' version pin came from, said in the plan. */
export type PinSource = 'own-bridge' | 'jitsi-meet' | 'jicofo' | 'none';

export interface BridgePin {
  version?: string;
  source: PinSource;
  /** The words the plan says it with. */
  why: string;
}

/** One stanza of `apt-cache show jitsi-meet`: its version and its relations. */
interface MetaStanza {
  version: string;
  relations: string;
}

/** Pure: the stanzas of `apt-cache show` output (continuation lines joined). */
export function aptStanzas(text: string): MetaStanza[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of block.split('\n')) {
        if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
        else {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) fields.set((last = m[1]!), m[2]!);
        }
      }
      const relations = [fields.get('Pre-Depends'), fields.get('Depends')].filter(Boolean).join(', ');
      return { version: fields.get('Version') ?? '', relations };
    })
    .filter((s) => s.version);
}

/**
 * Pure: the bridge version the meet host's Jitsi release pairs with. Its own bridge's version
 * first (it is what Jicofo works with today); else what the installed jitsi-meet metapackage
 * pins; else, for Jicofo's installed version, the jitsi-meet release in the meet host's apt
 * catalogue (`catalogue`: `apt-cache show jitsi-meet`) that depends on exactly it.
 */
export function pairedBridgeVersion(
  meet: { packages: Record<string, string>; depends?: Record<string, string> },
  catalogue: string | null,
): BridgePin {
  const own = meet.packages['jitsi-videobridge2'];
  if (own) return { version: own, source: 'own-bridge', why: "the meet host's own bridge" };
  const meta = meet.packages['jitsi-meet'];
  const pinned = exactDependency(meet.depends?.['jitsi-meet'], 'jitsi-videobridge2');
  if (meta && pinned)
    return { version: pinned, source: 'jitsi-meet', why: `the meet host's jitsi-meet ${meta} depends on it` };
  const jicofo = meet.packages.jicofo;
  if (jicofo && catalogue) {
    const release = aptStanzas(catalogue).find((s) => exactDependency(s.relations, 'jicofo') === jicofo);
    const version = release ? exactDependency(release.relations, 'jitsi-videobridge2') : undefined;
    if (release && version)
      return {
        version,
        source: 'jicofo',
        why: `Jicofo ${jicofo} on the meet host is of the release jitsi-meet ${release.version}, which depends on it`,
      };
  }
  const missing = jicofo
    ? `no jitsi-meet release the meet host's apt knows names its Jicofo ${jicofo}`
    : 'the meet host runs neither a bridge, the jitsi-meet package nor Jicofo';
  return { source: 'none', why: missing };
}
