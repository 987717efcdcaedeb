import type { HostSpec } from '../inventory/types.js';
import type { Playbook } from './playbook.js';

/*
 * What a plan depends on, in a few hundred bytes: each file's size, inode and mtime (an atomic
 * write changes the inode), the watched packages' versions, and a hash of the live firewall. A
 * repeated look (status --watch) compares it with the last one and plans again only when it moved,
 * so a look costs one command per host while nothing changes.
 */

/** Shell, for embedding in a host's probe: `fingerprint PACKAGES PATH...` prints the fingerprint. */
export const FINGERPRINT_FN = `
fingerprint() {
  pk=$1; shift
  for f in "$@"; do stat -L -c '%n %s %i %y' "$f" 2>/dev/null || echo "$f -"; done
  dpkg-query -W -f '\${Package} \${Version} \${db:Status-Abbrev}\\n' $pk 2>/dev/null
  { nft list ruleset; iptables-save | grep -v '^#'; ip6tables-save | grep -v '^#'; ufw status verbose; firewall-cmd --list-all-zones; } 2>/dev/null | cksum
}`;

/** The arguments of `fingerprint` for a host: the playbook's watched packages, and its files plus `extra`. */
export function fingerprintArgs<S>(playbook: Playbook<S>, spec: HostSpec, extra: readonly string[] = []): string[] {
  return [playbook.watchPackages.join(' '), ...new Set([...(playbook.prefetch?.(spec) ?? []), ...extra])];
}
