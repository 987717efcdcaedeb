import { homedir, userInfo } from 'node:os';
import type { HostSpec } from '../../inventory/types.js';
import { expandTokens, parseSshConfig, resolveSshConfig, sshArgsAsConfig, type SshConfigBlock } from './ssh-config.js';

/** What ssh needs to reach one machine, after the inventory and the ssh config are combined. */
export interface Endpoint {
  /** The name the user wrote (inventory's ansible_host, or a ProxyJump hop). */
  alias: string;
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Only the identity files, not every key of the agent. */
  identitiesOnly: boolean;
  /** Explicitly named identity files must exist; ssh's default ones are tried when present. */
  identitiesExplicit: boolean;
  knownHostsFiles: string[];
  /** ask: guided mode asks, headless refuses; accept-new: record new keys; yes: never trust a new key. */
  hostKeyPolicy: 'ask' | 'accept-new' | 'yes';
}

export interface SshTarget extends Endpoint {
  name: string;
  /** Hops to go through, outermost first. */
  jumps: Endpoint[];
}

export interface EndpointOptions {
  /** --known-hosts: overrides the ssh config's UserKnownHostsFile. */
  knownHostsFile?: string;
  acceptNewHostKeys: boolean;
  home?: string;
  localUser?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function hop(text: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text.replace(/^ssh:\/\//, ''));
  if (!m) return { host: text };
  return {
    ...(m[1] ? { user: m[1] } : {}),
    host: m[2]!.replace(/^\[|\]$/g, ''),
    ...(m[3] ? { port: Number(m[3]) } : {}),
  };
}

/**
 * Pure: the endpoint for one inventory host from its variables and the ssh config blocks
 * (Ansible's ssh args first, so they win over the file, as on ssh's command line). Inventory
 * values win over both.
 */
export function resolveTarget(spec: HostSpec, fileBlocks: SshConfigBlock[], o: EndpointOptions): SshTarget {
  const home = o.home ?? homedir();
  const localUser = o.localUser ?? userInfo().username;
  const args = [spec.vars.ansible_ssh_common_args, spec.vars.ansible_ssh_extra_args]
    .filter((a): a is string => typeof a === 'string')
    .join(' ');
  const blocks = [...parseSshConfig(sshArgsAsConfig(args), `${spec.name}: ansible_ssh_common_args`), ...fileBlocks];

  const endpoint = (alias: string, over: { user?: string; port?: number; keyFile?: string }): Endpoint => {
    const c = resolveSshConfig(blocks, alias);
    const port = over.port ?? c.port ?? 22;
    const user = over.user ?? c.user ?? localUser;
    const address = c.hostName ? expandTokens(c.hostName, { home, host: alias, port, user, alias, localUser }) : alias;
    const expand = (v: string) => expandTokens(v, { home, host: address, port, user, alias, localUser });
    const named = over.keyFile ? [over.keyFile] : c.identityFiles.map(expand);
    const policy =
      o.acceptNewHostKeys ||
      c.strictHostKeyChecking === 'accept-new' ||
      c.strictHostKeyChecking === 'no' ||
      c.strictHostKeyChecking === 'off'
        ? 'accept-new'
        : c.strictHostKeyChecking === 'yes'
          ? 'yes'
          : 'ask';
    return {
      alias,
      address,
      port,
      user,
      identityFiles: named.length ? named : DEFAULT_KEYS.map((k) => `${home}/.ssh/${k}`),
      identitiesOnly: c.identitiesOnly ?? false,
      identitiesExplicit: named.length > 0,
      knownHostsFiles: o.knownHostsFile
        ? [o.knownHostsFile]
        : (c.userKnownHostsFiles ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']).map(expand),
      hostKeyPolicy: policy,
    };
  };

  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const target = endpoint(spec.address, {
    ...(str(spec.vars.ansible_user ?? spec.vars.ansible_ssh_user) ? { user: spec.user } : {}),
    ...(num(spec.vars.ansible_port ?? spec.vars.ansible_ssh_port) !== undefined ? { port: spec.port } : {}),
    ...(spec.privateKeyPath ? { keyFile: spec.privateKeyPath } : {}),
  });
  const jumps = (resolveSshConfig(blocks, spec.address).proxyJump ?? []).map((h) => {
    const p = hop(h);
    const j = endpoint(p.host, { ...(p.user ? { user: p.user } : {}), ...(p.port ? { port: p.port } : {}) });
    // A hop with no key of its own is tried with the host's key too: a bastion usually takes the
    // same key as the hosts behind it (ssh would need it in the agent or the config).
    return j.identitiesExplicit || !target.identitiesExplicit
      ? j
      : { ...j, identityFiles: [...target.identityFiles, ...j.identityFiles] };
  });
  return { ...target, name: spec.name, jumps };
}
