import type { HostSpec } from '../../inventory/types.js';
import {
  configWords,
  expandPath,
  parseSshArgs,
  SshConfigError,
  type ConfigMachine,
  type SshSettings,
} from './ssh-config.js';
import { shellWords } from './shell-words.js';
import { expandShellTokens } from './shell-tokens.js';
import { checkHostName, checkUserName } from './ssh-names.js';

/** What ssh needs to reach one machine, after the inventory and the ssh config are combined. */
export interface Endpoint {
  /** The name ssh was given (the inventory's address, or a ProxyJump hop). */
  alias: string;
  address: string;
  port: number;
  user: string;
  /** Key files in the order they are tried; a missing one is passed over, as ssh does. */
  identityFiles: string[];
  /** Only the identity files, not every key of the agent. */
  identitiesOnly: boolean;
  /** Host keys are looked up here and in the global files; a newly trusted key goes to the first. */
  knownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** The name host keys are filed under instead of the address (ssh's HostKeyAlias). */
  hostKeyAlias?: string;
  /** ask: guided mode asks, headless refuses; accept-new: record new keys; yes: never trust a new key. */
  hostKeyPolicy: 'ask' | 'accept-new' | 'yes';
  /** A command whose stdin and stdout carry the connection (ssh's ProxyCommand), tokens expanded. */
  proxyCommand?: string;
}

export interface SshTarget extends Endpoint {
  name: string;
  /** Hops to go through, outermost first. */
  jumps: Endpoint[];
}

/** Where a host's ssh settings come from: OpenSSH's own `ssh -G`, or the built-in reader. */
export interface SshResolver {
  source: 'ssh -G' | 'built-in reader';
  machine: ConfigMachine;
  /** The settings for `alias` with these ssh command-line words before it. */
  settings(words: string[], alias: string): Promise<SshSettings>;
}

export interface EndpointOptions {
  /** --known-hosts: overrides the ssh config's UserKnownHostsFile. */
  knownHostsFile?: string;
  acceptNewHostKeys: boolean;
  /** --ssh-config: as ssh's -F (the inventory's own -F wins, as a later -F does on ssh's command line). */
  sshConfigFile?: string;
}

/**
 * Pure: the ssh command-line words Ansible's ssh connection gives for a host, in its order: the
 * port, the key and the user it knows, then ansible_ssh_common_args and ansible_ssh_extra_args.
 */
export function ansibleSshWords(spec: HostSpec): string[] {
  const set = (names: string[]) => names.some((n) => spec.vars[n] !== undefined && spec.vars[n] !== '');
  const words: string[] = [];
  if (set(['ansible_ssh_port', 'ansible_port'])) words.push('-o', `Port=${spec.port}`);
  if (spec.privateKeyPath) words.push('-o', `IdentityFile=${spec.privateKeyPath}`);
  if (set(['ansible_ssh_user', 'ansible_user'])) words.push('-o', `User=${spec.user}`);
  for (const name of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const v = spec.vars[name];
    if (typeof v !== 'string') continue;
    try {
      words.push(...shellWords(v));
    } catch (e) {
      throw new SshConfigError(`${name} of ${spec.name}: ${(e as Error).message}`);
    }
  }
  return words;
}

const hopRe = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/;

/** Pure: one ProxyJump hop, "[user@]host[:port]" or "ssh://[user@]host[:port]". */
export function parseHop(text: string): { user?: string; host: string; port?: number } {
  const m = hopRe.exec(text.trim());
  if (!m) throw new SshConfigError(`cannot read the ProxyJump hop "${text}"`);
  return {
    ...(m[1] ? { user: m[1] } : {}),
    host: m[2]!.replace(/^\[|\]$/g, ''),
    ...(m[3] ? { port: Number(m[3]) } : {}),
  };
}

/** Pure: an endpoint from ssh's settings for it. */
export function endpointOf(s: SshSettings, alias: string, o: EndpointOptions, m: ConfigMachine): Endpoint {
  const one = (k: string) => s.get(k)?.[0];
  const address = one('hostname') ?? alias;
  const port = one('port') ?? '22';
  const user = one('user') ?? m.localUser;
  const hostKeyAlias = one('hostkeyalias');
  const t = { alias, host: address, port, user, ...(hostKeyAlias ? { hostKeyAlias } : {}) };
  const strict = one('stricthostkeychecking');
  const policy =
    o.acceptNewHostKeys || strict === 'accept-new' || strict === 'false'
      ? 'accept-new'
      : strict === 'true'
        ? 'yes'
        : 'ask';
  const proxy = one('proxycommand');
  return {
    alias,
    address,
    port: Number(port),
    user,
    identityFiles: (s.get('identityfile') ?? []).map((f) => expandPath(f, t, m)),
    identitiesOnly: one('identitiesonly') === 'yes',
    knownHostsFiles: o.knownHostsFile ? [o.knownHostsFile] : (s.get('userknownhostsfile') ?? []),
    globalKnownHostsFiles: o.knownHostsFile ? [] : (s.get('globalknownhostsfile') ?? []),
    ...(hostKeyAlias ? { hostKeyAlias } : {}),
    hostKeyPolicy: policy,
    ...(proxy && proxy !== 'none' ? { proxyCommand: proxyTokens(proxy, t) } : {}),
  };
}

/**
 * ProxyCommand's tokens, as ssh fills them (sshconnect.c): %h host, %p port, %r user, %n the name
 * given, %k the host key alias; each quoted for where the shell reads it (shell-tokens.ts).
 */
function proxyTokens(
  cmd: string,
  t: { alias: string; host: string; port: string; user: string; hostKeyAlias?: string },
): string {
  const values = { h: t.host, p: t.port, r: t.user, n: t.alias, k: t.hostKeyAlias ?? t.alias };
  return expandShellTokens(cmd, values, `the ProxyCommand for ${t.alias}`);
}

const MAX_HOPS = 10;

/**
 * The endpoint for one inventory host and the hops before it, each resolved as ssh resolves it.
 * A ProxyJump hop gets only -l, -p and -F, as ssh's own jump does; the outermost hop follows its
 * own ProxyJump or ProxyCommand, and each later hop is reached through the one before it.
 */
export async function resolveTarget(spec: HostSpec, r: SshResolver, o: EndpointOptions): Promise<SshTarget> {
  const words = [...(o.sshConfigFile ? ['-F', o.sshConfigFile] : []), ...ansibleSshWords(spec)];
  const args = parseSshArgs(words);
  checkNames(spec, args.options);
  const settings = await r.settings(words, spec.address);
  const target = endpointOf(settings, spec.address, o, r.machine);
  const jumpText = settings.get('proxyjump')?.[0];
  const chain = jumpText ? await hops(spec.name, jumpText, args.configFile, r, o, [spec.address]) : [];
  return { ...target, name: spec.name, jumps: chain };
}

/**
 * The names the inventory gives ssh on its command line, checked as ssh checks them (ssh.c): the
 * host, and the first user of -o User= or -l, which ssh keeps.
 */
function checkNames(spec: HostSpec, options: readonly string[]): void {
  const given = (names: string[]) => names.some((n) => spec.vars[n] !== undefined && spec.vars[n] !== '');
  checkHostName(
    spec.name,
    given(['ansible_ssh_host', 'ansible_host']) ? 'ansible_host' : 'the host name',
    spec.address,
  );
  const user = options.map((o) => /^\s*user(?:\s*=\s*|\s+)(.*)$/is.exec(o)?.[1]).find((u) => u !== undefined);
  if (user === undefined) return;
  const what = given(['ansible_ssh_user', 'ansible_user']) ? 'ansible_user' : 'the user in ansible_ssh_*_args';
  let words: string[] = [];
  try {
    words = configWords(user);
  } catch {
    // An unclosed quote: the name itself holds the quote, which is refused below.
  }
  checkUserName(spec.name, what, words.length === 1 ? words[0]! : user);
}

async function hops(
  host: string,
  jumpText: string,
  configFile: string | undefined,
  r: SshResolver,
  o: EndpointOptions,
  seen: string[],
): Promise<Endpoint[]> {
  const list = jumpText.split(',').map(parseHop);
  const out: Endpoint[] = [];
  for (const [i, hop] of list.entries()) {
    if (seen.length > MAX_HOPS || seen.includes(hop.host))
      throw new SshConfigError(`ProxyJump goes round in a loop: ${[...seen, hop.host].join(' → ')}`);
    // ssh reaches a hop by running ssh again with it as the host and -l user: the same checks.
    checkHostName(host, 'the ProxyJump hop', hop.host);
    if (hop.user !== undefined) checkUserName(host, `the user of the ProxyJump hop ${hop.host}`, hop.user);
    const words = [
      ...(configFile ? ['-F', configFile] : []),
      ...(hop.user ? ['-l', hop.user] : []),
      ...(hop.port ? ['-p', String(hop.port)] : []),
    ];
    const s = await r.settings(words, hop.host);
    const ep = endpointOf(s, hop.host, o, r.machine);
    if (i === 0) {
      const own = s.get('proxyjump')?.[0];
      if (own) out.push(...(await hops(host, own, configFile, r, o, [...seen, hop.host])));
      out.push(ep);
    } else {
      // Reached through the hop before: its own ProxyJump or ProxyCommand does not count.
      const { proxyCommand: _ignored, ...rest } = ep;
      out.push(rest);
    }
  }
  return out;
}
