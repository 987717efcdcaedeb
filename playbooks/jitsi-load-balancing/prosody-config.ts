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

/** Global options: everything before the first VirtualHost or Component line. */
export function readGlobals(text: string): ProsodyGlobals {
  const out: ProsodyGlobals = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = stripComments(raw).trim();
    if (/^(VirtualHost|Component)\b/.test(line)) break;
    const m = /^(c2s_interfaces|component_interface|c2s_ports)\s*=\s*(.+?)\s*;?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'c2s_interfaces') out.c2sInterfaces = m[2]!;
    if (m[1] === 'component_interface') out.componentInterface = m[2]!;
    if (m[1] === 'c2s_ports') out.c2sPorts = m[2]!;
  }
  return out;
}

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
