/** The variables this tool reads, their types and defaults. Anything else is passed through. */

export type VarType =
  | { kind: 'string' }
  | { kind: 'address' }
  | { kind: 'port' }
  | { kind: 'bool' }
  | { kind: 'path' }
  | { kind: 'enum'; values: readonly string[] };

export interface VarSpec {
  type: VarType;
  doc: string;
  /** Older Ansible spelling that means the same. */
  aliasOf?: string;
}

export const DEFAULT_APT_SOURCE =
  'deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/';
export const DEFAULT_APT_KEY_URL = 'https://download.jitsi.org/jitsi-key.gpg.key';

export const KNOWN_VARIABLES: Readonly<Record<string, VarSpec>> = {
  ansible_host: { type: { kind: 'address' }, doc: 'address to connect to (default: the host name)' },
  ansible_port: { type: { kind: 'port' }, doc: 'SSH port (default 22)' },
  ansible_user: { type: { kind: 'string' }, doc: 'SSH login user (default: your local user)' },
  ansible_ssh_private_key_file: { type: { kind: 'path' }, doc: 'private key file, relative to the inventory file' },
  ansible_become: { type: { kind: 'bool' }, doc: 'run commands through sudo (default: yes unless the user is root)' },
  ansible_become_user: { type: { kind: 'string' }, doc: 'user to become (default root)' },
  ansible_become_password: {
    type: { kind: 'string' },
    doc: 'sudo password (better: JITSI_SCALE_BECOME_PASSWORD, or be asked); never printed',
  },
  ansible_become_pass: {
    type: { kind: 'string' },
    doc: 'old spelling of ansible_become_password',
    aliasOf: 'ansible_become_password',
  },
  ansible_ssh_common_args: {
    type: { kind: 'string' },
    doc: 'ssh options for every connection: -o Key=Value, -J jump hosts',
  },
  ansible_ssh_extra_args: { type: { kind: 'string' }, doc: 'more ssh options, as ansible_ssh_common_args' },
  ansible_connection: { type: { kind: 'enum', values: ['ssh', 'local'] }, doc: 'ssh (default) or local' },
  ansible_ssh_host: { type: { kind: 'address' }, doc: 'old spelling of ansible_host', aliasOf: 'ansible_host' },
  ansible_ssh_port: { type: { kind: 'port' }, doc: 'old spelling of ansible_port', aliasOf: 'ansible_port' },
  ansible_ssh_user: { type: { kind: 'string' }, doc: 'old spelling of ansible_user', aliasOf: 'ansible_user' },
  jitsi_domain: { type: { kind: 'string' }, doc: 'the Jitsi Meet domain (default: discovered on the meet host)' },
  private_address: {
    type: { kind: 'address' },
    doc: 'address the other hosts reach this host on (default: ansible_host)',
  },
  jitsi_nickname_policy: {
    type: { kind: 'enum', values: ['stable', 'per-start'] },
    doc: 'stable (default): one id per bridge; per-start: a fresh id at every start (jvb.sh patch)',
  },
  jitsi_nickname: { type: { kind: 'string' }, doc: "this bridge's fixed nickname (default: a unique id)" },
  jitsi_apt_source: { type: { kind: 'string' }, doc: 'apt source line for jitsi-videobridge2' },
  jitsi_apt_key_url: { type: { kind: 'string' }, doc: "URL of the apt source's signing key ('' for none)" },
  jitsi_videobridge_version: { type: { kind: 'string' }, doc: "package version to install (default: the meet host's)" },
  jitsi_verify_certificate: {
    type: { kind: 'bool' },
    doc: "verify Prosody's certificate from the bridges (default no)",
  },
  jitsi_firewall: {
    type: { kind: 'enum', values: ['auto', 'ufw', 'firewalld', 'nftables', 'iptables', 'none'] },
    doc: 'firewall to use (default auto: the one in charge)',
  },
  jitsi_firewall_enable: {
    type: { kind: 'bool' },
    doc: 'let jitsi-scale turn on a firewall that denies by default (an inactive ufw, an nftables.conf with a drop policy); SSH is allowed first (default no)',
  },
  jitsi_allow_package_removal: {
    type: { kind: 'bool' },
    doc: 'let a package install remove packages that conflict with it (default no: such a plan is refused)',
  },
  jitsi_brewery_jid: { type: { kind: 'string' }, doc: 'brewery MUC JID (default: from jicofo.conf)' },
  jitsi_jvb_secret: {
    type: { kind: 'string' },
    doc: "the bridges' XMPP password (default: found on the meet host); never printed",
  },
  jitsi_media_port: { type: { kind: 'port' }, doc: 'UDP media port on the bridges (default 10000)' },
};

export type CoerceResult = { ok: true; value: string | number | boolean } | { ok: false; message: string };

const TRUE = new Set(['true', 'yes', 'on', '1', 'y']);
const FALSE = new Set(['false', 'no', 'off', '0', 'n']);

/** Checks and converts one value; messages say what was expected. */
export function coerce(name: string, spec: VarSpec, raw: unknown): CoerceResult {
  if (typeof raw === 'string' && raw.includes('{{')) {
    return {
      ok: false,
      message: `${name} uses a Jinja template, which this tool does not evaluate; write the value itself`,
    };
  }
  switch (spec.type.kind) {
    case 'string':
    case 'path':
      if (typeof raw === 'string' || typeof raw === 'number') return { ok: true, value: String(raw) };
      return { ok: false, message: `${name} must be a string, not ${describe(raw)}` };
    case 'address': {
      const v = typeof raw === 'number' ? String(raw) : raw;
      if (typeof v === 'string' && /^[^\s/]+$/.test(v)) return { ok: true, value: v };
      return { ok: false, message: `${name} must be a host name or IP address, not ${describe(raw)}` };
    }
    case 'port': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535) return { ok: true, value: n };
      return { ok: false, message: `${name} must be a port number from 1 to 65535, not ${describe(raw)}` };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const s = String(raw).toLowerCase();
      if (TRUE.has(s)) return { ok: true, value: true };
      if (FALSE.has(s)) return { ok: true, value: false };
      return { ok: false, message: `${name} must be true or false, not ${describe(raw)}` };
    }
    case 'enum': {
      const values = spec.type.values;
      if (typeof raw === 'string' && values.includes(raw)) return { ok: true, value: raw };
      return { ok: false, message: `${name} must be one of ${values.join(', ')}, not ${describe(raw)}` };
    }
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}
