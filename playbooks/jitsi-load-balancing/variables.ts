import type { VarSpec } from '../../src/inventory/types.js';

export const DEFAULT_APT_SOURCE =
  'deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/';
export const DEFAULT_APT_KEY_URL = 'https://download.jitsi.org/jitsi-key.gpg.key';

/**
 * The inventory variables of the shard's playbooks: the one declaration the inventory's checks,
 * `jitsi-scale setup --help` and the README's table are made from.
 */
export const JITSI_VARIABLES = {
  jitsi_domain: {
    type: { kind: 'string' },
    oneLine: true,
    doc: 'the Jitsi Meet domain (default: discovered on the meet host)',
  },
  private_address: {
    type: { kind: 'address' },
    doc: 'address the other hosts reach this host on (default: ansible_host, or the address ssh resolved it to)',
  },
  jitsi_nickname_policy: {
    type: { kind: 'enum', values: ['stable', 'per-start'] },
    default: 'stable',
    doc: 'stable: one id per bridge; per-start: a fresh id at every start (jvb.sh patch)',
  },
  jitsi_nickname: {
    type: { kind: 'string' },
    oneLine: true,
    doc: "this bridge's fixed nickname (default: a unique id)",
  },
  jitsi_apt_source: {
    type: { kind: 'string' },
    oneLine: true,
    default: DEFAULT_APT_SOURCE,
    doc: 'apt source line for jitsi-videobridge2',
  },
  jitsi_apt_key_url: {
    type: { kind: 'string' },
    oneLine: true,
    doc: `URL of the apt source's signing key ('' for none; default: ${DEFAULT_APT_KEY_URL} with the default source)`,
  },
  jitsi_videobridge_version: {
    type: { kind: 'string' },
    oneLine: true,
    doc: "package version to install (default: the meet host's)",
  },
  jitsi_verify_certificate: {
    type: { kind: 'bool' },
    default: false,
    doc: "verify Prosody's certificate from the bridges",
  },
  jitsi_firewall: {
    type: { kind: 'enum', values: ['auto', 'ufw', 'firewalld', 'nftables', 'iptables', 'none'] },
    default: 'auto',
    doc: 'firewall to use (auto: the one in charge)',
  },
  jitsi_firewall_enable: {
    type: { kind: 'bool' },
    default: false,
    doc: 'let jitsi-scale turn on a firewall that denies by default (an inactive ufw, an nftables.conf with a drop policy); SSH is allowed first',
  },
  jitsi_firewall_boot: {
    type: { kind: 'enum', values: ['required', 'manual'] },
    default: 'required',
    doc: "required: Prosody is opened to the bridges only once the firewall's rules are loaded at boot by a service of the host; manual: you load them at boot yourself",
  },
  jitsi_allow_package_removal: {
    type: { kind: 'bool' },
    default: false,
    doc: 'let a package install remove packages that conflict with it (otherwise such a plan is refused)',
  },
  jitsi_brewery_jid: { type: { kind: 'string' }, oneLine: true, doc: 'brewery MUC JID (default: from jicofo.conf)' },
  jitsi_jvb_secret: {
    type: { kind: 'string' },
    secret: true,
    doc: "the bridges' XMPP password (default: found on the meet host); never printed",
  },
  jitsi_media_port: { type: { kind: 'port' }, default: 10000, doc: 'UDP media port on the bridges' },
  jitsi_link_targets: {
    type: { kind: 'directories' },
    doc: "directories a symbolic link among the host's Jitsi and Prosody files may lead into, besides the file's own directory (e.g. [/srv/jitsi]); a link that leads anywhere else is refused, never read or written through",
  },
  jitsi_bridge_channel: {
    type: { kind: 'enum', values: ['sctp', 'websocket'] },
    default: 'sctp',
    doc: "a bridge's channel to its clients. sctp: SCTP data channels, colibri websockets off (refused where SCTP is off on the bridge or in Jicofo); websocket: websockets on, with a server-id of its own and a route in the meet host's nginx",
  },
  jitsi_public_address: {
    type: { kind: 'address' },
    oneLine: true,
    doc: "this bridge's public IP address in front of its private one (1:1 NAT, most cloud hosts): written as a static mapping (ice4j.harvest.mapping.static-mappings, legacy NAT_HARVESTER_*), the package's STUN mapping kept (default: none)",
  },
  jitsi_c2s_interfaces: {
    type: { kind: 'enum', values: ['private', 'all'] },
    default: 'private',
    doc: 'where Prosody takes clients when the bridges need it to: private, loopback and the address the bridges reach the meet host on (c2s_interfaces = { "127.0.0.1", "::1", "<address>" }); all, every interface ({ "*" })',
  },
} as const satisfies Record<string, VarSpec>;

export type JitsiVariable = keyof typeof JITSI_VARIABLES;
