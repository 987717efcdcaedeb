/** Pure reading of Prosody's Lua config: what Jitsi's layout and the bind step need to know. */

export interface ProsodyGlobals {
  /** Raw Lua value of c2s_interfaces in the global section, if set. */
  c2sInterfaces?: string;
  componentInterface?: string;
  c2sPorts?: string;
}

function stripComments(line: string): string {
  return line.replace(/--.*$/, '');
}

/** A line that ends the global section of a file. */
const SECTION = /^(VirtualHost|Component)\b/;
/** `Include "path"` (or `Include("path")`), the path captured. */
const INCLUDE = /^Include\s*\(?\s*["']([^"']+)["']/;
/** A global setting this tool reads, name and raw Lua value captured. */
const SETTING = /^(c2s_interfaces|component_interface|c2s_ports)\s*=\s*(.+?)\s*;?$/;

/** A file's lines without comments or surrounding blanks. */
const codeLines = (text: string): string[] => text.split(/\r?\n/).map((raw) => stripComments(raw).trim());

/** Does a Lua interface list ({ "127.0.0.1", "::1" } or "*") include every interface? */
export function listensEverywhere(luaValue: string | undefined): boolean {
  if (luaValue === undefined) return true; // Prosody's default: all interfaces
  const items = [...luaValue.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]);
  return items.some((i) => i === '*' || i === '0.0.0.0' || i === '::');
}

/** The Jitsi domain from a site config: the X of `VirtualHost "auth.X"`. */
export function jitsiDomainOf(text: string): string | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*VirtualHost\s+["']auth\.([^"']+)["']/.exec(stripComments(raw));
    if (m) return m[1];
  }
  return undefined;
}

/** Prosody's client port when its config names none. */
export const DEFAULT_C2S_PORT = 5222;

/** The c2s port: the first of c2s_ports, or Prosody's default. */
export function c2sPort(globals: ProsodyGlobals): number {
  const m = /\d+/.exec(globals.c2sPorts ?? '');
  return m ? Number(m[0]) : DEFAULT_C2S_PORT;
}

/*
 * Prosody's config as Prosody reads it: the main file, and the files it pulls in with `Include`,
 * at the point where each Include stands. A relative path is taken from the main file's folder;
 * a `*` in the last part of a path is a pattern, and its files are read in name order. Each file
 * starts in the global section, as Prosody parses every file afresh; later settings win.
 */

/** Where a global setting was made: the file and its line (1-based). */
export interface SettingSource {
  file: string;
  line: number;
}

export interface ProsodyConfig extends ProsodyGlobals {
  /** Every file read, in the order Prosody reads them. */
  files: string[];
  /** Where the effective c2s_interfaces is set, when it is. */
  c2sInterfacesAt?: SettingSource;
}

/** The paths a file's Include lines name, as written, in order. */
export function includesOf(text: string): string[] {
  return codeLines(text).flatMap((line) => INCLUDE.exec(line)?.[1] ?? []);
}

/** An Include path made absolute, from the main config's folder. */
export function resolveInclude(mainFile: string, path: string): string {
  if (path.startsWith('/')) return path;
  return `${mainFile.replace(/\/[^/]*$/, '')}/${path}`;
}

/** The files a resolved pattern stands for, from a listing of its folder, in name order. */
export function matchInclude(pattern: string, listing: readonly string[]): string[] {
  if (!pattern.includes('*')) return [pattern];
  const dir = pattern.replace(/\/[^/]*$/, '');
  const re = new RegExp(
    `^${pattern
      .slice(dir.length + 1)
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return listing
    .filter((f) => f.startsWith(`${dir}/`) && re.test(f.slice(dir.length + 1)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Pure: Prosody's globals given the files (path → text; a missing path is skipped, as Prosody
 * skips a pattern that matches nothing) and a folder listing for patterns.
 */
export function evaluateProsody(
  mainFile: string,
  files: ReadonlyMap<string, string>,
  listing: readonly string[],
): ProsodyConfig {
  const out: ProsodyConfig = { files: [] };
  const visit = (file: string, depth: number): void => {
    const text = files.get(file);
    if (text === undefined || depth > 8) return;
    out.files.push(file);
    let global = true;
    for (const [i, line] of codeLines(text).entries()) {
      if (SECTION.test(line)) global = false;
      const inc = INCLUDE.exec(line);
      if (inc) {
        for (const f of matchInclude(resolveInclude(mainFile, inc[1]!), listing)) visit(f, depth + 1);
        continue;
      }
      if (!global) continue;
      const m = SETTING.exec(line);
      if (!m) continue;
      if (m[1] === 'c2s_interfaces') {
        out.c2sInterfaces = m[2]!;
        out.c2sInterfacesAt = { file, line: i + 1 };
      }
      if (m[1] === 'component_interface') out.componentInterface = m[2]!;
      if (m[1] === 'c2s_ports') out.c2sPorts = m[2]!;
    }
  };
  visit(mainFile, 0);
  return out;
}

/*
 * c2s_interfaces (https://prosody.im/doc/ports): network options live in the global section only;
 * without one Prosody listens on every interface; "*" means all IPv4 interfaces and "::" all IPv6
 * ones; `c2s_interfaces` overrides `interfaces` for client connections.
 */

/** The interfaces a Lua list ({ "a", 'b' } or "a") names, in order. */
export function interfaceItems(luaValue: string | undefined): string[] {
  return [...(luaValue ?? '').matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => (m[1] ?? m[2])!);
}

/** Does Prosody take clients on `address` with this c2s_interfaces (everywhere, or the address itself)? */
export function listensFor(luaValue: string | undefined, address: string): boolean {
  return listensEverywhere(luaValue) || interfaceItems(luaValue).includes(address);
}

/** The line this tool wrote before it bound c2s more tightly: all interfaces, at the top of the file. */
export const EVERYWHERE_LINE = 'c2s_interfaces = { "*" }';

/** Pure: the c2s_interfaces line for these interfaces, each once, in order. */
export function c2sLine(items: readonly string[]): string {
  return `c2s_interfaces = { ${[...new Set(items)].map((i) => JSON.stringify(i)).join(', ')} }`;
}

export type C2sMode = 'private' | 'all';

/** What the bind step does to c2s_interfaces: keep it (saying why), or write a line. */
export type C2sDecision =
  | { keep: string; warn?: boolean }
  | {
      line: string;
      note: string;
      /** it opens more than Prosody listens on now (the firewall must protect first) */ widens: boolean;
    };

/**
 * Pure: the bind step's decision. `private` (the default) takes clients on loopback and the
 * address the bridges reach the meet host on, keeping whatever else the user listed; an
 * everywhere line at the top of a file is this tool's earlier work and is narrowed; Prosody's
 * default, or an everywhere the user wrote, is left as it is (Jibri or Jigasi elsewhere may log in
 * there) with a word. `all` listens everywhere.
 */
export function decideC2s(
  current: string | undefined,
  at: SettingSource | undefined,
  mode: C2sMode,
  address: string,
): C2sDecision {
  const shown = current === undefined ? "Prosody's default, all interfaces" : `c2s_interfaces = ${current}`;
  const where = at ? ` (${at.file} line ${at.line})` : '';
  if (mode === 'all') {
    if (listensEverywhere(current)) return { keep: `c2s already listens on all interfaces (${shown})` };
    return {
      line: EVERYWHERE_LINE,
      note: `${shown}${where} keeps the bridges out; it becomes { "*" } (all interfaces, jitsi_c2s_interfaces: all)`,
      widens: true,
    };
  }
  const wanted = c2sLine(['127.0.0.1', '::1', address]);
  const ours = at?.line === 1 && current !== undefined && `c2s_interfaces = ${current}` === EVERYWHERE_LINE;
  if (ours)
    return {
      line: wanted,
      note: `${shown} (line 1 of ${at.file}) is what an earlier run of jitsi-scale wrote; it is narrowed to loopback and ${address}, where the bridges log in`,
      widens: false,
    };
  if (listensEverywhere(current))
    return {
      keep: `c2s listens on all interfaces (${shown}), left as it is; the firewall alone keeps port 5222 from the public. jitsi-scale binds it to loopback and ${address} only where it has to change it`,
      warn: true,
    };
  if (interfaceItems(current).includes(address)) return { keep: `c2s already listens on ${address} (${shown})` };
  const line = c2sLine(['127.0.0.1', '::1', ...interfaceItems(current), address]);
  return {
    line,
    note: `${shown}${where} keeps the bridges out; it becomes ${line.replace('c2s_interfaces = ', '')} (loopback and ${address})`,
    widens: true,
  };
}
