import { isIP } from 'node:net';
import type { RunHost } from '../../src/engine/playbook.js';
import { valueText } from '../../src/inventory/known-variables.js';
import { duplicates, positionOf } from '../../src/inventory/unique.js';
import type { HostSpec, Inventory, InventoryProblem, RoleSpec, VarSpec } from '../../src/inventory/types.js';
import type { LinkPolicy } from '../../src/transport/link-policy.js';
import { DEFAULT_APT_KEY_URL, JITSI_VARIABLES, type JitsiVariable } from './variables.js';
import { publicAddressProblem } from './media-config.js';

export type NicknamePolicy = 'stable' | 'per-start';
export type FirewallChoice = 'auto' | 'ufw' | 'firewalld' | 'nftables' | 'iptables' | 'none';

/** The shard's roles: one meet server (read for discovery even outside --limit), one or more bridges. */
export const SHARD_ROLES: readonly RoleSpec[] = [
  { name: 'meet', count: 'one', what: 'the Jitsi Meet server', label: ['meet server', 'meet servers'], anchor: true },
  { name: 'jvb', count: 'one-or-more', what: 'the videobridge hosts', label: ['bridge', 'bridges'] },
];

/** A host's Jitsi settings, from its inventory variables and their declared defaults. */
export interface JitsiSettings {
  /** The Jitsi Meet domain; discovered on the meet host when not given. */
  domain?: string;
  nicknamePolicy: NicknamePolicy;
  /** A fixed nickname for this bridge; default: a unique id made once per host. */
  nickname?: string;
  /** The apt source line for jitsi-videobridge2. */
  aptSource: string;
  /** URL of the key that signs aptSource, or '' when the source needs none (a local repository). */
  aptKeyUrl: string;
  /** Pin the bridge package version; default: the meet host's version when it can be known. */
  videobridgeVersion?: string;
  /** Verify Prosody's certificate from the bridges (needs it in their trust store). */
  verifyCertificate: boolean;
  firewall: FirewallChoice;
  /** The user allows turning on a default-deny firewall (SSH is allowed first). */
  firewallEnable: boolean;
  /** manual: the user loads the firewall's rules at boot; required: a service of the host must. */
  firewallBoot: 'required' | 'manual';
  /** The user allows a package install to remove conflicting packages. */
  allowPackageRemoval: boolean;
  /** Override the brewery MUC JID found in jicofo.conf. */
  breweryJid?: string;
  /** UDP port for media on the bridges. */
  mediaPort: number;
  /** Directories the user lets a symbolic link lead into (jitsi_link_targets). */
  linkTargets: readonly string[];
  /** The bridge's channel to its clients (jitsi_bridge_channel). */
  bridgeChannel: 'sctp' | 'websocket';
  /** The bridge's public address in front of its private one (a static NAT mapping). */
  publicAddress?: string;
  /** Where Prosody takes clients when the bind step changes it (jitsi_c2s_interfaces). */
  c2sInterfaces: 'private' | 'all';
}

/** The variable's value on the host, else its declared default (the inventory has coerced its type). */
function valueOf(spec: HostSpec, name: JitsiVariable): unknown {
  const declared: VarSpec = JITSI_VARIABLES[name];
  return spec.vars[name] ?? declared.default;
}

const str = (spec: HostSpec, name: JitsiVariable): string | undefined => {
  const v = valueOf(spec, name);
  return v === undefined || v === '' ? undefined : valueText(v);
};

export function jitsi(spec: HostSpec): JitsiSettings {
  const domain = str(spec, 'jitsi_domain');
  const nickname = str(spec, 'jitsi_nickname');
  const version = str(spec, 'jitsi_videobridge_version');
  const brewery = str(spec, 'jitsi_brewery_jid');
  const keyUrl = spec.vars.jitsi_apt_key_url;
  const publicAddress = str(spec, 'jitsi_public_address');
  return {
    ...(domain ? { domain } : {}),
    nicknamePolicy: valueOf(spec, 'jitsi_nickname_policy') as NicknamePolicy,
    ...(nickname ? { nickname } : {}),
    aptSource: valueText(valueOf(spec, 'jitsi_apt_source')),
    // The default key signs the default source only; another source names its own key, or none.
    aptKeyUrl:
      keyUrl !== undefined ? valueText(keyUrl) : spec.vars.jitsi_apt_source === undefined ? DEFAULT_APT_KEY_URL : '',
    ...(version ? { videobridgeVersion: version } : {}),
    verifyCertificate: Boolean(valueOf(spec, 'jitsi_verify_certificate')),
    firewall: valueOf(spec, 'jitsi_firewall') as FirewallChoice,
    firewallEnable: Boolean(valueOf(spec, 'jitsi_firewall_enable')),
    firewallBoot: valueOf(spec, 'jitsi_firewall_boot') === 'manual' ? 'manual' : 'required',
    allowPackageRemoval: Boolean(valueOf(spec, 'jitsi_allow_package_removal')),
    ...(brewery ? { breweryJid: brewery } : {}),
    mediaPort: Number(valueOf(spec, 'jitsi_media_port')),
    linkTargets: (valueOf(spec, 'jitsi_link_targets') as readonly string[] | undefined) ?? [],
    bridgeChannel: valueOf(spec, 'jitsi_bridge_channel') === 'websocket' ? 'websocket' : 'sctp',
    ...(publicAddress ? { publicAddress } : {}),
    c2sInterfaces: valueOf(spec, 'jitsi_c2s_interfaces') === 'all' ? 'all' : 'private',
  };
}

/*
 * Where a link among a host's files may lead, beyond each file's own directory. Prosody's own
 * packaging links /etc/prosody/conf.d/DOMAIN.cfg.lua to conf.avail/, and its certificates in
 * /etc/prosody/certs/ to /var/lib/prosody/ (jitsi-meet's debian/jitsi-meet-prosody.postinst);
 * certbot keeps a certificate named in a site config in live/, as links into archive/.
 */
const LINK_HOMES: LinkPolicy['homes'] = [
  { under: '/etc/prosody', into: ['/etc/prosody'] },
  { under: '/etc/prosody/certs', into: ['/var/lib/prosody'] },
  { under: '/etc/letsencrypt/live', into: ['/etc/letsencrypt/archive'] },
];

/** The link policy of a host of the shard: Prosody's homes, and the directories the user allows. */
export function jitsiLinkPolicy(spec: HostSpec): LinkPolicy {
  return {
    homes: LINK_HOMES,
    allowed: jitsi(spec).linkTargets,
    hint: 'to follow it, list the directory it leads into in jitsi_link_targets',
  };
}

/**
 * The address the other hosts reach this host on: private_address, else ansible_host; when that is
 * a name (an ssh alias), the address the connection resolved it to, since firewall rules need an IP.
 */
export function privateAddress(spec: HostSpec, connected?: Pick<RunHost, 'address'>): string {
  const given = spec.vars.private_address;
  if (given !== undefined) return valueText(given);
  if (connected && isIP(spec.address) === 0 && isIP(connected.address) !== 0) return connected.address;
  return spec.address;
}

export function meetOf(inventory: Inventory): HostSpec {
  return inventory.byRole.meet![0]!;
}

export function bridgesOf(inventory: Inventory): HostSpec[] {
  return inventory.byRole.jvb ?? [];
}

/** The shard's rules across hosts: every host its own private address, every bridge its own nickname. */
export function checkShardInventory(inventory: Inventory): InventoryProblem[] {
  return [
    ...duplicates(
      inventory.hosts,
      (h) => privateAddress(h),
      'private address',
      (h) => positionOf(h, 'private_address', 'ansible_ssh_host', 'ansible_host'),
    ),
    ...duplicates(
      bridgesOf(inventory),
      (h) => jitsi(h).nickname ?? null,
      'nickname',
      (h) => positionOf(h, 'jitsi_nickname'),
    ),
    ...publicAddressProblems(inventory),
  ];
}

/** A jitsi_public_address that is no public IP address, refused by name; on the meet host it means nothing. */
function publicAddressProblems(inventory: Inventory): InventoryProblem[] {
  return inventory.hosts.flatMap((h) => {
    const v = str(h, 'jitsi_public_address');
    if (v === undefined) return [];
    const problem =
      h.role === 'jvb'
        ? publicAddressProblem(v)
        : `jitsi_public_address is a bridge's setting; ${h.name} is not a bridge`;
    return problem ? [{ ...positionOf(h, 'jitsi_public_address'), message: `${h.name}: ${problem}` }] : [];
  });
}
