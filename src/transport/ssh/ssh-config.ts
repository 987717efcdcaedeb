import { matchesPatternList } from './patterns.js';

/** One Host (or Match all) block of an OpenSSH client config, with its options in order. */
export interface SshConfigBlock {
  patterns: string[];
  options: { key: string; args: string[]; file: string; line: number }[];
}

export interface ResolvedSshConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** Hops, outermost first: "[user@]host[:port]" each. */
  proxyJump?: string[];
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: string;
  connectTimeout?: number;
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
}

export class SshConfigError extends Error {}

/** Splits a config line's arguments, honouring double quotes. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m;
  while ((m = re.exec(text))) out.push(m[1] ?? m[2]!);
  return out;
}

/**
 * Pure: an OpenSSH client config as blocks. `Include` is resolved by the caller's `include`
 * (paths may be globs). Options before the first Host apply to every host. `Match` blocks other
 * than `Match all` cannot be evaluated here and are passed over.
 */
export function parseSshConfig(
  text: string,
  file: string,
  include: (pattern: string) => { text: string; file: string }[] = () => [],
  depth = 0,
): SshConfigBlock[] {
  if (depth > 8) throw new SshConfigError(`${file}: Include nested too deeply`);
  const blocks: SshConfigBlock[] = [{ patterns: ['*'], options: [] }];
  let current: SshConfigBlock | null = blocks[0]!;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) return;
    const key = m[1]!.toLowerCase();
    const args = splitArgs(m[2]!);
    if (key === 'host') {
      current = { patterns: args, options: [] };
      blocks.push(current);
    } else if (key === 'match') {
      current = args.length === 1 && args[0]!.toLowerCase() === 'all' ? { patterns: ['*'], options: [] } : null;
      if (current) blocks.push(current);
    } else if (key === 'include') {
      for (const pattern of args)
        for (const inc of include(pattern)) blocks.push(...parseSshConfig(inc.text, inc.file, include, depth + 1));
      // Options after an Include belong to the block the Include was in.
      if (current) {
        current = { patterns: current.patterns, options: [] };
        blocks.push(current);
      }
    } else if (current) current.options.push({ key, args, file, line: i + 1 });
  });
  return blocks;
}

const yes = (v: string | undefined) => (v === undefined ? undefined : /^(yes|true)$/i.test(v));

/** Pure: the settings for `alias` (the name ssh is given): the first value of each option wins. */
export function resolveSshConfig(blocks: SshConfigBlock[], alias: string): ResolvedSshConfig {
  const first = new Map<string, string[]>();
  const identityFiles: string[] = [];
  for (const b of blocks) {
    if (!matchesPatternList(b.patterns, alias)) continue;
    for (const o of b.options) {
      if (o.key === 'identityfile') identityFiles.push(...o.args);
      else if (!first.has(o.key)) first.set(o.key, o.args);
    }
  }
  const one = (k: string) => first.get(k)?.[0];
  const num = (k: string) => {
    const v = one(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const out: ResolvedSshConfig = { identityFiles };
  const hostName = one('hostname');
  if (hostName) out.hostName = hostName;
  if (one('user')) out.user = one('user')!;
  if (num('port') !== undefined) out.port = num('port')!;
  const io = yes(one('identitiesonly'));
  if (io !== undefined) out.identitiesOnly = io;
  const jump = one('proxyjump');
  if (jump && jump.toLowerCase() !== 'none')
    out.proxyJump = jump
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (first.has('userknownhostsfile')) out.userKnownHostsFiles = first.get('userknownhostsfile')!;
  if (one('stricthostkeychecking')) out.strictHostKeyChecking = one('stricthostkeychecking')!.toLowerCase();
  if (num('connecttimeout') !== undefined) out.connectTimeout = num('connecttimeout')!;
  if (num('serveraliveinterval') !== undefined) out.serverAliveInterval = num('serveraliveinterval')!;
  if (num('serveralivecountmax') !== undefined) out.serverAliveCountMax = num('serveralivecountmax')!;
  return out;
}

/** Pure: `-o Key=Value`, `-o "Key Value"`, `-J hops`, `-i file`, `-p port`, `-l user` from Ansible's ssh args, as config lines. */
export function sshArgsAsConfig(args: string): string {
  const words = splitArgs(args.replace(/'([^']*)'/g, '"$1"'));
  const lines: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = () => words[++i] ?? '';
    if (w === '-o') lines.push(next());
    else if (w.startsWith('-o')) lines.push(w.slice(2));
    else if (w === '-J') lines.push(`ProxyJump ${next()}`);
    else if (w === '-i') lines.push(`IdentityFile ${next()}`);
    else if (w === '-p') lines.push(`Port ${next()}`);
    else if (w === '-l') lines.push(`User ${next()}`);
  }
  return lines.join('\n');
}

/** Pure: "%h", "%p", "%r", "%u", "%n", "%d", "%%" and a leading "~" in a path option. */
export function expandTokens(
  value: string,
  t: { home: string; host: string; port: number; user: string; alias: string; localUser: string },
): string {
  return value
    .replace(/^~(?=\/|$)/, t.home)
    .replace(
      /%([%hprund])/g,
      (_m, c: string) =>
        ({ '%': '%', h: t.host, p: String(t.port), r: t.user, u: t.localUser, n: t.alias, d: t.home })[c]!,
    );
}
