/** The typed, validated inventory the rest of the tool is written against. */

export type NicknamePolicy = 'stable' | 'per-start';
export type FirewallChoice = 'auto' | 'ufw' | 'firewalld' | 'nftables' | 'iptables' | 'none';
export type Connection = 'ssh' | 'local';

/** Where something was written in the inventory file (1-based). */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface JitsiSettings {
  /** The Jitsi Meet domain; discovered on the meet host when not given. */
  domain?: string;
  /** The address the other hosts reach this host on (the meet host's is the bridges' XMPP host). */
  privateAddress: string;
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
  /** The user allows a package install to remove conflicting packages. */
  allowPackageRemoval: boolean;
  /** Override the brewery MUC JID found in jicofo.conf. */
  breweryJid?: string;
  /** UDP port for media on the bridges. */
  mediaPort: number;
}

export interface HostSpec {
  /** Inventory name; every message about the host uses it. */
  name: string;
  role: 'meet' | 'jvb';
  /** Every group the host belongs to, ancestors included. */
  groups: string[];
  connection: Connection;
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  become: boolean;
  becomeUser: string;
  jitsi: JitsiSettings;
  /** All variables after precedence, including ones this tool does not know. */
  vars: Record<string, unknown>;
  /** Where the host is first defined. */
  defined: SourcePosition;
}

export interface Inventory {
  file: string;
  meet: HostSpec;
  bridges: HostSpec[];
  /** meet first, then the bridges in inventory order. */
  hosts: HostSpec[];
  /** Group name → host names (meet and jvb hosts only), for --limit. */
  groups: Record<string, string[]>;
}

export interface InventoryProblem extends SourcePosition {
  message: string;
}

/** Everything wrong with an inventory, each problem with its position; shown all at once. */
export class InventoryError extends Error {
  constructor(readonly problems: InventoryProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'InventoryError';
  }
}

export function formatProblem(p: InventoryProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}
