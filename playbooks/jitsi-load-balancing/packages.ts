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
