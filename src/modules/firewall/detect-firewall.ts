/** Which firewall is in charge of a host, decided from what its tools report. */

export type FirewallKind = 'ufw' | 'firewalld' | 'nftables' | 'iptables' | 'none';

export interface FirewallProbe {
  /** Firewall commands present on the host. */
  tools: ReadonlySet<string>;
  /** First line of `ufw status`. */
  ufwStatus: string;
  /** Output of `firewall-cmd --state`. */
  firewalldState: string;
  /** Output of `iptables -V`, e.g. "iptables v1.8.9 (nf_tables)". */
  iptablesVersion: string;
  /**
   * The filter table's rules, from `iptables-save -t filter` (which only reads: listing with
   * `iptables -S` could create the table's empty chains in nftables on some versions).
   */
  iptablesRules: string;
  /** Output of `nft list tables`. */
  nftTables: string;
}

/** Tables iptables-nft creates for itself; seeing only these means iptables, not nft, is used. */
const IPTABLES_NFT_TABLES = /^table (ip|ip6) (filter|nat|mangle|raw|security)$/;

/**
 * The front end that manages the rules wins over the backend it writes to: an active ufw or a
 * running firewalld is in charge even though iptables/nft show their rules. Then a host with its
 * own nft tables is run with nftables; one with iptables rules (legacy or nft backend) with
 * iptables. A host with no rules at all gets whichever tool is installed, nft first (Debian's
 * default since 10). A host with ufw installed but inactive gets nftables too (see below), and
 * a host with no tool at all gets 'none': the firewall step then installs nftables.
 */
export function detectFirewall(p: FirewallProbe): FirewallKind {
  if (ufwState(p) === 'active') return 'ufw';
  if (p.tools.has('firewall-cmd') && /^running$/m.test(p.firewalldState.trim())) return 'firewalld';
  const nftTables = p.nftTables
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const ownNft = nftTables.filter((t) => !IPTABLES_NFT_TABLES.test(t) && t !== 'table inet jitsi_scale');
  if (p.tools.has('nft') && ownNft.length > 0) return 'nftables';
  // With ufw installed (even inactive) the iptables path is closed: iptables-persistent, which it
  // needs to keep rules over a reboot, Breaks ufw, so installing it would remove ufw.
  if (ufwState(p) === 'inactive') return 'nftables';
  const rules = p.iptablesRules.split('\n').filter((l) => l.startsWith('-A '));
  if (p.tools.has('iptables') && rules.length > 0) return 'iptables';
  if (p.tools.has('nft') && nftTables.includes('table inet jitsi_scale')) return 'nftables';
  if (p.tools.has('nft')) return 'nftables';
  if (p.tools.has('iptables')) return 'iptables';
  return 'none';
}

/** Pure: ufw's state from the facts' probe. */
export function ufwState(p: Pick<FirewallProbe, 'tools' | 'ufwStatus'>): 'active' | 'inactive' | 'absent' {
  if (!p.tools.has('ufw')) return 'absent';
  return /^Status: active/m.test(p.ufwStatus) ? 'active' : 'inactive';
}
