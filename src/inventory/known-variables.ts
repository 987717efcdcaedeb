/** Inventory variables: their types, and how a raw YAML value becomes one. */

import type { VarSpec } from './types.js';

/** The connection variables, Ansible's own: every command reads them. */
export const CONNECTION_VARIABLES: Readonly<Record<string, VarSpec>> = {
  ansible_host: { type: { kind: 'address' }, doc: 'address to connect to (default: the host name)' },
  ansible_port: { type: { kind: 'port' }, default: 22, doc: 'SSH port' },
  ansible_user: { type: { kind: 'string' }, doc: 'SSH login user (default: your local user)' },
  ansible_ssh_private_key_file: {
    type: { kind: 'path' },
    doc: "private key file, tried before the ssh config's keys; a relative path is from the working directory",
  },
  ansible_private_key_file: {
    type: { kind: 'path' },
    doc: 'newer spelling of ansible_ssh_private_key_file',
  },
  ansible_become: { type: { kind: 'bool' }, doc: 'run commands through sudo (default: yes unless the user is root)' },
  ansible_become_user: { type: { kind: 'string' }, default: 'root', doc: 'user to become' },
  ansible_become_password: {
    type: { kind: 'string' },
    secret: true,
    doc: 'sudo password (better: JITSI_SCALE_BECOME_PASSWORD, or be asked); never printed',
  },
  ansible_become_pass: {
    type: { kind: 'string' },
    secret: true,
    doc: 'old spelling of ansible_become_password',
    aliasOf: 'ansible_become_password',
  },
  ansible_sudo_pass: {
    type: { kind: 'string' },
    secret: true,
    doc: 'oldest spelling of ansible_become_password',
    aliasOf: 'ansible_become_password',
  },
  ansible_sudo_user: {
    type: { kind: 'string' },
    doc: 'old spelling of ansible_become_user',
    aliasOf: 'ansible_become_user',
  },
  ansible_ssh_common_args: {
    type: { kind: 'string' },
    doc: 'ssh options for every connection: -o Key=Value, -J jump hosts, -F config',
  },
  ansible_ssh_extra_args: { type: { kind: 'string' }, doc: 'more ssh options, as ansible_ssh_common_args' },
  ansible_connection: { type: { kind: 'enum', values: ['ssh', 'local'] }, doc: 'ssh (default) or local' },
  ansible_ssh_host: { type: { kind: 'address' }, doc: 'old spelling of ansible_host', aliasOf: 'ansible_host' },
  ansible_ssh_port: { type: { kind: 'port' }, doc: 'old spelling of ansible_port', aliasOf: 'ansible_port' },
  ansible_ssh_user: { type: { kind: 'string' }, doc: 'old spelling of ansible_user', aliasOf: 'ansible_user' },
};

/**
 * Which spelling Ansible uses when several are set for a host, whatever the level each was set
 * at: the old spelling wins (its connection and sudo plugins read them in this order).
 */
export const SPELLINGS = {
  address: ['ansible_ssh_host', 'ansible_host'],
  port: ['ansible_ssh_port', 'ansible_port'],
  user: ['ansible_ssh_user', 'ansible_user'],
  key: ['ansible_ssh_private_key_file', 'ansible_private_key_file'],
  becomeUser: ['ansible_sudo_user', 'ansible_become_user'],
  becomePassword: ['ansible_sudo_pass', 'ansible_become_pass', 'ansible_become_password'],
} as const;

export type CoerceResult =
  { ok: true; value: string | number | boolean | readonly string[] } | { ok: false; message: string };

const TRUE = new Set(['true', 'yes', 'on', '1', 'y']);
const FALSE = new Set(['false', 'no', 'off', '0', 'n']);

/** Checks and converts one value; messages say what was expected. */
// eslint-disable-next-line complexity -- one arm per variable type, each with its own message
export function coerce(name: string, spec: VarSpec, raw: unknown): CoerceResult {
  if (typeof raw === 'string' && raw.includes('{{')) {
    return {
      ok: false,
      message: `${name} uses a Jinja template, which this tool does not evaluate; write the value itself`,
    };
  }
  const shown = spec.secret ? kindOf(raw) : describe(raw);
  switch (spec.type.kind) {
    case 'string':
    case 'path':
      if (typeof raw !== 'string' && typeof raw !== 'number')
        return { ok: false, message: `${name} must be a string, not ${shown}` };
      return oneLine(name, spec, String(raw));
    case 'address': {
      const v = typeof raw === 'number' ? String(raw) : raw;
      if (typeof v === 'string' && /^[^\s/]+$/.test(v)) return { ok: true, value: v };
      return { ok: false, message: `${name} must be a host name or IP address, not ${shown}` };
    }
    case 'port': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535) return { ok: true, value: n };
      return { ok: false, message: `${name} must be a port number from 1 to 65535, not ${shown}` };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const s = String(raw).toLowerCase();
      if (TRUE.has(s)) return { ok: true, value: true };
      if (FALSE.has(s)) return { ok: true, value: false };
      return { ok: false, message: `${name} must be true or false, not ${shown}` };
    }
    case 'directories':
      return directories(name, raw);
    case 'enum': {
      const values = spec.type.values;
      if (typeof raw === 'string' && values.includes(raw)) return { ok: true, value: raw };
      return { ok: false, message: `${name} must be one of ${values.join(', ')}, not ${shown}` };
    }
  }
}

/** Absolute directories, each without a newline (they go to the host's scripts one a line) and without `..`. */
function directories(name: string, raw: unknown): CoerceResult {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list))
    return { ok: false, message: `${name} must be a list of directories, not ${describe(raw)}` };
  const out: string[] = [];
  for (const d of list as unknown[]) {
    if (typeof d !== 'string' || !d.startsWith('/') || /[\n\0]/.test(d) || d.split('/').includes('..'))
      return { ok: false, message: `${name} must list absolute directories (no "..", no newline), not ${describe(d)}` };
    out.push(d.replace(/\/+$/, '') || '/');
  }
  return { ok: true, value: out };
}

/** C0 and C1 controls, DEL, and U+2028/U+2029: what ends or breaks a line somewhere a value is written. */
const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;

/** The first control character of the text, named ("a line break (U+000A)"); null when it has none. */
export function controlCharacter(text: string): string | null {
  const c = [...text].find((ch) => isControl(ch.charCodeAt(0)));
  if (c === undefined) return null;
  const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') return `a line break (${code})`;
  return c === '\t' ? `a tab (${code})` : `a control character (${code})`;
}

/**
 * A value that is written as one line (a secret in debconf answers and config lines, a domain, a
 * nickname) refuses control characters: a newline would add lines of its own there.
 */
function oneLine(name: string, spec: VarSpec, value: string): CoerceResult {
  const bad = spec.secret || spec.oneLine ? controlCharacter(value) : null;
  if (!bad) return { ok: true, value };
  const block = /[\n]$/.test(value) ? ' (a YAML block scalar, | or >, ends in a newline)' : '';
  return {
    ok: false,
    message: `${name} holds ${bad}${block}; it must be one line of text, since it is written into config lines and debconf answers`,
  };
}

/** What kind of value it is, never the value (for secrets). */
function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

/** An inventory value as text: scalars as written, anything else as JSON (never "[object Object]"). */
export function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}
