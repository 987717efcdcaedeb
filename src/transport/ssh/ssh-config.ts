import { createHash } from 'node:crypto';
import { matchesPatternList, wildcardMatch } from './patterns.js';

/**
 * What `ssh -G` prints for a host: each option (lower case) with its values, one entry per line.
 * Both the real `ssh -G` and this module's reader produce it, so the rest of the tool has one
 * shape to read, and a test can hold one against the other.
 */
export type SshSettings = Map<string, string[]>;

export class SshConfigError extends Error {}

/** What the reader needs from the machine (the real one, or a test's). */
export interface ConfigMachine {
  home: string;
  localUser: string;
  /** gethostname(): the full local host name. */
  localHost: string;
  uid: number;
  env: Readonly<Record<string, string | undefined>>;
  /** A file's text, or null when it is missing. */
  read(path: string): string | null;
  /** The names in a folder (none when it is missing). */
  list(dir: string): string[];
  /** `Match exec`: does the command exit 0? */
  exec(command: string): boolean;
}

/** ssh's command line split into config lines (-o, -l, -p, -J) and the -F file. */
export interface SshArgs {
  options: string[];
  /** -i files: ssh drops one that is not there at once, before any config is read. */
  identityArgs?: string[];
  configFile?: string;
}

const TAKES_VALUE = new Set('BbcDEeFIiJLlmOopQRSWw'.split(''));

/** Pure: the options of an ssh command line (without the host), as ssh's getopt reads them. */
export function parseSshArgs(words: readonly string[]): SshArgs {
  const out: SshArgs = { options: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w === '-') continue;
    // Flags may be bundled ("-4C"); the first that takes a value takes the rest or the next word.
    for (let j = 1; j < w.length; j++) {
      const flag = w[j]!;
      if (!TAKES_VALUE.has(flag)) continue;
      const value = j + 1 < w.length ? w.slice(j + 1) : (words[++i] ?? '');
      if (flag === 'o') out.options.push(value);
      else if (flag === 'F') out.configFile = value;
      else if (flag === 'J') out.options.push(`ProxyJump ${value}`);
      else if (flag === 'i') out.identityArgs = [...(out.identityArgs ?? []), value];
      else if (flag === 'p') out.options.push(`Port ${value}`);
      else if (flag === 'l') out.options.push(`User ${value}`);
      break;
    }
  }
  return out;
}

/** One word of a config line from `i`: quotes and the escapes \\ \" \' (and "\ " outside quotes). */
function configWord(text: string, i: number): { word: string; next: number } {
  let word = '';
  let quote = '';
  for (; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\\' && next !== undefined && (`'"\\`.includes(next) || (!quote && next === ' '))) word += text[++i];
    else if (!quote && (c === ' ' || c === '\t')) break;
    else if (!quote && (c === '"' || c === "'")) quote = c;
    else if (quote && c === quote) quote = '';
    else word += c;
  }
  if (quote) throw new SshConfigError('unterminated quote');
  return { word, next: i };
}

/** OpenSSH's argument splitting of a config line: quotes, a few escapes, `#` starting a word ends the line. */
export function configWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /[ \t]/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '#') return words;
    const { word, next } = configWord(text, i);
    words.push(word);
    i = next;
  }
}

/** Keyword and the rest of a line: "Key value", "Key=value", "Key = value". */
function splitKeyword(line: string): { key: string; rest: string } | null {
  const m = /^\s*([^\s=]+)(?:\s*=\s*|\s+|$)(.*)$/.exec(line);
  return m ? { key: m[1]!.toLowerCase(), rest: m[2]!.replace(/\s+$/, '') } : null;
}

/** Options whose value is the rest of the line, quotes and all. */
const RAW = new Set(['proxycommand', 'localcommand', 'remotecommand', 'knownhostscommand']);
/** Options that take exactly one argument (ssh refuses a line with more). */
const ONE_ARG = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'proxyjump',
  'hostkeyalias',
  'stricthostkeychecking',
  'identitiesonly',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
]);
/** Options that gather every value instead of keeping the first. */
const GATHER = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'sendenv', 'setenv']);

const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/** One of the key files ssh looks for unasked (~/.ssh/id_rsa …): its absence is not worth a word. */
export function isDefaultKey(path: string): boolean {
  return DEFAULT_KEYS.some((k) => path.endsWith(`/.ssh/${k}`));
}

interface ReadState {
  alias: string;
  settings: SshSettings;
  m: ConfigMachine;
  /** Set when -F names the file: no system config then. */
  depth: number;
}

/** The tokens ssh expands in paths (%d %h %r …, ~ and ${VAR}), for a host's settings. */
export function expandPath(
  value: string,
  t: { alias: string; host: string; port: string; user: string; hostKeyAlias?: string; jump?: string },
  m: ConfigMachine,
): string {
  const shortHost = m.localHost.split('.')[0]!;
  const tokens: Record<string, string> = {
    '%': '%',
    C: createHash('sha1').update(`${m.localHost}${t.host}${t.port}${t.user}`).digest('hex'),
    d: m.home,
    h: t.host,
    i: String(m.uid),
    j: t.jump ?? '',
    k: t.hostKeyAlias ?? t.host,
    L: shortHost,
    l: m.localHost,
    n: t.alias,
    p: t.port,
    r: t.user,
    u: m.localUser,
  };
  return value
    .replace(/^~(?=\/|$)/, m.home)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_s, name: string) => m.env[name] ?? '')
    .replace(/%(.)/g, (s, c: string) => tokens[c] ?? s);
}

function set(st: ReadState, key: string, rest: string, where: string): void {
  const s = st.settings;
  // ProxyJump and ProxyCommand exclude each other: the first one given counts.
  if ((key === 'proxyjump' && s.has('proxycommand')) || (key === 'proxycommand' && s.has('proxyjump'))) return;
  if (RAW.has(key)) {
    if (!s.has(key)) s.set(key, [rest]);
    return;
  }
  let words: string[];
  try {
    words = configWords(rest);
  } catch (e) {
    throw new SshConfigError(`${where}: ${(e as Error).message}`);
  }
  if (ONE_ARG.has(key) && words.length > 1)
    throw new SshConfigError(`${where}: keyword ${key} extra arguments at end of line`);
  if (key === 'port' && !/^\d+$/.test(words[0] ?? ''))
    throw new SshConfigError(`${where}: bad port "${words[0] ?? ''}"`);
  if (GATHER.has(key)) s.set(key, [...(s.get(key) ?? []), ...words]);
  else if (!s.has(key)) s.set(key, words);
}

/** One criterion of a `Match` line that takes an argument: does it hold for this host? */
function criterion(w: string, arg: string, st: ReadState, where: string): boolean {
  const hostName = st.settings.get('hostname')?.[0];
  const host = hostName ? hostName.replace(/%h/g, st.alias) : st.alias;
  const user = st.settings.get('user')?.[0] ?? st.m.localUser;
  const list = arg.split(',');
  if (w === 'host') return matchesPatternList(list, host.toLowerCase());
  if (w === 'originalhost') return matchesPatternList(list, st.alias.toLowerCase());
  if (w === 'user') return matchesPatternList(list, user, false);
  if (w === 'localuser') return matchesPatternList(list, st.m.localUser, false);
  if (w === 'exec') return st.m.exec(arg);
  throw new SshConfigError(`${where}: Match ${w} is not understood by the built-in reader`);
}

/** Does a `Match` line's criteria hold for this host? (All of them must.) */
function matchLine(words: string[], st: ReadState, where: string): boolean {
  let ok = true;
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!.toLowerCase();
    const negate = w.startsWith('!');
    if (negate) w = w.slice(1);
    if (w === 'all') {
      ok &&= !negate;
      continue;
    }
    if (w === 'canonical' || w === 'final') {
      // The reader makes one pass, as ssh -G does without CanonicalizeHostname.
      ok &&= negate;
      continue;
    }
    const arg = words[++i];
    if (arg === undefined) throw new SshConfigError(`${where}: Match ${w} needs an argument`);
    // As ssh: a command is run only while the criteria before it on the line all hold.
    if (w === 'exec' && !ok) continue;
    const hit = criterion(w, arg, st, where);
    ok &&= negate ? !hit : hit;
  }
  return ok;
}

/** One config file, with its Includes where they stand; `active` is shared with the caller, as ssh does. */
function readFile(st: ReadState, file: string, base: string, state: { active: boolean }, neverMatch: boolean): void {
  if (st.depth > 16) throw new SshConfigError(`${file}: Include nested too deeply`);
  const text = st.m.read(file);
  if (text === null) return;
  text.split('\n').forEach((raw, i) => {
    const where = `${file} line ${i + 1}`;
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) return;
    const kw = splitKeyword(line);
    if (!kw) return;
    if (kw.key === 'host') {
      const patterns = configWords(kw.rest).map((p) => p.toLowerCase());
      state.active = !neverMatch && matchesPatternList(patterns, st.alias, false);
    } else if (kw.key === 'match') {
      state.active = !neverMatch && matchLine(configWords(kw.rest), st, where);
    } else if (kw.key === 'include') {
      const outer = state.active;
      for (const pattern of configWords(kw.rest)) {
        for (const path of globPaths(pattern, base, st.m)) {
          st.depth++;
          readFile(st, path, base, state, neverMatch || !outer);
          st.depth--;
        }
      }
      state.active = outer;
    } else if (state.active) set(st, kw.key, kw.rest, where);
  });
}

/** An Include pattern's files, in name order: `~` is home, a relative path is under `base`. */
function globPaths(pattern: string, base: string, m: ConfigMachine): string[] {
  const abs = pattern.startsWith('~')
    ? pattern.replace(/^~/, m.home)
    : pattern.startsWith('/')
      ? pattern
      : `${base}/${pattern}`;
  if (!/[*?[]/.test(abs)) return [abs];
  const parts = abs.split('/');
  let paths = [''];
  for (const part of parts.slice(1)) {
    if (!/[*?[]/.test(part)) {
      paths = paths.map((p) => `${p}/${part}`);
      continue;
    }
    paths = paths.flatMap((p) =>
      m
        .list(p || '/')
        .filter((n) => !n.startsWith('.') && wildcardMatch(part, n, false))
        .sort()
        .map((n) => `${p}/${n}`),
    );
  }
  return paths;
}

/**
 * Pure but for `m`: the settings ssh would use for `alias`, the built-in way, for machines
 * without an OpenSSH client. The command line's options come first, then -F's file or
 * ~/.ssh/config and /etc/ssh/ssh_config; the first value of an option wins.
 */
export function readSshSettings(alias: string, args: SshArgs, m: ConfigMachine): SshSettings {
  const st: ReadState = { alias, settings: new Map(), m, depth: 0 };
  const given = (args.identityArgs ?? []).filter((f) => m.read(f.replace(/^~(?=\/)/, m.home)) !== null);
  if (given.length) st.settings.set('identityfile', given);
  args.options.forEach((o, i) => {
    const kw = splitKeyword(o);
    if (!kw) return;
    if (['host', 'match', 'include'].includes(kw.key))
      throw new SshConfigError(`command-line option ${i + 1}: ${kw.key} is not allowed there`);
    set(st, kw.key, kw.rest, `command-line option "${o}"`);
  });
  const userDir = `${m.home}/.ssh`;
  if (args.configFile) {
    const file = args.configFile.replace(/^~(?=\/)/, m.home);
    if (file !== 'none') {
      if (m.read(file) === null) throw new SshConfigError(`cannot read the ssh config ${file}`);
      readFile(st, file, userDir, { active: true }, false);
    }
  } else {
    readFile(st, `${userDir}/config`, userDir, { active: true }, false);
    readFile(st, '/etc/ssh/ssh_config', '/etc/ssh', { active: true }, false);
  }
  return withDefaults(st);
}

function withDefaults(st: ReadState): SshSettings {
  const s = st.settings;
  const one = (k: string) => s.get(k)?.[0];
  const lowerAlias = st.alias.toLowerCase();
  const host = (one('hostname') ?? '%h')
    .replace(/%%/g, '\0')
    .replace(/%h/g, lowerAlias)
    .replace(/\0/g, '%')
    .toLowerCase();
  const out: SshSettings = new Map();
  const port = one('port') ?? '22';
  const user = one('user') ?? st.m.localUser;
  out.set('user', [user]);
  out.set('hostname', [host]);
  out.set('port', [port]);
  out.set('identityfile', s.get('identityfile') ?? DEFAULT_KEYS.map((k) => `~/.ssh/${k}`));
  out.set('identitiesonly', [yesNo(one('identitiesonly')) ?? 'no']);
  const jump = one('proxyjump');
  if (jump && jump.toLowerCase() !== 'none') out.set('proxyjump', [jump]);
  const proxy = one('proxycommand');
  if (proxy && proxy.toLowerCase() !== 'none') out.set('proxycommand', [proxy]);
  const alias = one('hostkeyalias');
  if (alias) out.set('hostkeyalias', [alias]);
  const t = { alias: st.alias, host, port, user, ...(alias ? { hostKeyAlias: alias } : {}) };
  const files = (k: string, dflt: string[]) => (s.get(k) ?? dflt).map((f) => expandPath(f, t, st.m));
  out.set('userknownhostsfile', files('userknownhostsfile', ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']));
  out.set(
    'globalknownhostsfile',
    files('globalknownhostsfile', ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
  );
  const strict = one('stricthostkeychecking')?.toLowerCase();
  out.set('stricthostkeychecking', [
    strict === undefined || strict === 'ask'
      ? 'ask'
      : strict === 'accept-new'
        ? 'accept-new'
        : /^(yes|true)$/.test(strict)
          ? 'true'
          : 'false',
  ]);
  out.set('connecttimeout', [one('connecttimeout') ?? 'none']);
  out.set('serveraliveinterval', [one('serveraliveinterval') ?? '0']);
  out.set('serveralivecountmax', [one('serveralivecountmax') ?? '3']);
  return out;
}

function yesNo(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return /^(yes|true)$/i.test(v) ? 'yes' : 'no';
}

/** Pure: `ssh -G` output as settings. */
export function parseSshG(stdout: string): SshSettings {
  const out: SshSettings = new Map();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!;
    const value = m[2]!;
    const words = key === 'userknownhostsfile' || key === 'globalknownhostsfile' ? value.split(' ') : [value];
    out.set(key, [...(out.get(key) ?? []), ...words]);
  }
  return out;
}
