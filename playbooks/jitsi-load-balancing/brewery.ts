import { HTTP_GET, jsonBody, parseHttp } from './host-shell.js';

/*
 * The brewery room, as Prosody and Jicofo see it: who is in it (with the statistics each bridge
 * publishes in its presence), and Jicofo's view of each bridge. Used by verify and by status.
 */

/**
 * Lua for Prosody's admin shell: each occupant of the brewery with the statistics of its presence
 * (the `<stats>` a bridge publishes), percent-encoded, as `brewery:nick|k=v&k=v,nick|…`.
 */
export function breweryLua(breweryJid: string): string {
  const muc = breweryJid.split('@')[1] ?? '';
  const lit = (s: string) => JSON.stringify(s);
  return (
    `>local h = prosody.hosts[${lit(muc)}]; if not h or not h.modules.muc then return "no-muc" end; ` +
    `local r = h.modules.muc.get_room_from_jid(${lit(breweryJid.toLowerCase())}); if not r then return "no-room" end; ` +
    `local function e(s) return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end; ` +
    `local t = {}; for nick, o in r:each_occupant() do local kv = {}; local p = o:get_presence(); ` +
    `local st = p and p:get_child("stats", "http://jitsi.org/protocol/colibri"); ` +
    `if st then for s in st:childtags("stat") do kv[#kv+1] = e(s.attr.name or "") .. "=" .. e(s.attr.value or "") end end; ` +
    `t[#t+1] = e(nick) .. "|" .. table.concat(kv, "&") end; return "brewery:" .. table.concat(t, ",")`
  );
}

/** An occupant of the brewery: its member JID (room/nick) and the statistics in its presence. */
export interface Occupant {
  jid: string;
  nickname: string;
  stats: Record<string, string>;
}

/** Pure: the occupants from the shell's answer; null when Prosody could not be asked. */
export function parseBrewery(out: string): Occupant[] | null {
  const m = /brewery:(\S*)/.exec(out);
  if (!m && /no-room|no-muc/.test(out)) return [];
  if (!m) return null;
  return m[1]!
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [nick = '', kv = ''] = entry.split('|');
      const jid = decodeURIComponent(nick);
      const stats = Object.fromEntries(
        kv
          .split('&')
          .filter(Boolean)
          .map((p) => p.split('=').map((x) => decodeURIComponent(x ?? '')) as [string, string]),
      );
      return { jid, nickname: jid.slice(jid.indexOf('/') + 1), stats };
    });
}

/** Jicofo's view of one bridge, from its /debug. */
export interface JicofoBridgeView {
  healthy?: boolean;
  operational?: boolean;
  drain?: boolean;
  stress?: number;
  version?: string;
  /** The release id the bridge reports (Jicofo Bridge.kt debugState `release`). */
  release?: string;
  endpoints?: number;
}

/**
 * Pure: Jicofo's view of the bridges from its /debug answer, keyed by lower-cased
 * <brewery-jid>/<nickname>; null when the answer is not Jicofo's JSON.
 */
export function jicofoBridgesOf(doc: unknown): Map<string, JicofoBridgeView> | null {
  const selector = (doc as Record<string, unknown> | null)?.bridge_selector as Record<string, unknown> | undefined;
  const list = (selector?.bridges ?? selector?.bridge) as Record<string, JicofoBridgeView> | undefined;
  if (!list || typeof list !== 'object') return null;
  return new Map(Object.entries(list).map(([jid, b]) => [jid.toLowerCase(), b ?? {}]));
}

/** Pure: the same from /debug's text. */
export function parseJicofoBridges(json: string): Map<string, JicofoBridgeView> | null {
  try {
    return jicofoBridgesOf(JSON.parse(json));
  } catch {
    return null;
  }
}

/** Shell, on the meet host: Jicofo's /debug, with whatever client the host has. */
export const JICOFO_DEBUG = `${HTTP_GET}
get http://127.0.0.1:8888/debug`;

/** Pure: Jicofo's view of the bridges from JICOFO_DEBUG's output; null when Jicofo did not answer with it. */
export function jicofoDebugAnswer(stdout: string): Map<string, JicofoBridgeView> | null {
  return jicofoBridgesOf(jsonBody(parseHttp(stdout.split('\n'))));
}
