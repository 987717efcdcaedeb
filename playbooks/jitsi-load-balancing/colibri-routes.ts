/**
 * Pure: the meet host's nginx site and its /colibri-ws routes, read as nginx reads them (a `#`
 * outside quotes comments out the rest of the line), and the block of per-bridge routes this tool
 * keeps in it.
 *
 * Upstream: jitsi-meet's doc/debian/jitsi-meet/jitsi-meet.example (the site the jitsi-meet-web-config
 * package installs as /etc/nginx/sites-available/<domain>.conf) routes `location ~
 * ^/colibri-ws/default-id/(.*)` to the local bridge (`upstream jvb1 { server 127.0.0.1:9090; }`),
 * with `proxy_http_version 1.1`, `Upgrade $http_upgrade` and `Connection "upgrade"` (seen at
 * 6e49cfeb); jitsi-meet PR #17431 (2026-05-26, "Disable colibri (JVB) WebSocket proxy in
 * nginx/apache config by default") comments the `upstream jvb1` block and that location out.
 * jitsi-videobridge's doc/web-sockets.md shows one such location per server-id for several
 * bridges behind one nginx.
 */

export interface ColibriRoute {
  serverId: string;
  /** The bridge's private address, as the meet host reaches it. */
  address: string;
  port: number;
}

export const ROUTES_BEGIN = '# BEGIN jitsi-scale colibri-ws routes: one location per bridge, rewritten by jitsi-scale';
export const ROUTES_END = '# END jitsi-scale colibri-ws routes';

/** Characters after which nginx starts a new token (where a quote opens a string, a `#` a comment). */
const TOKEN_START = /[\s;{}]/;

/**
 * The text with every comment blanked to spaces (same offsets, same lines): what nginx parses. As
 * in nginx's own reader, a `#` or a quote counts only where a token starts; inside a word (a regex
 * such as `^/([^/?&:'"]+)$`) it is a character like any other.
 */
export function withoutComments(text: string): string {
  let out = '';
  let quote: string | null = null;
  let comment = false;
  let start = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === '\n') comment = false;
      out += c === '\n' ? c : ' ';
      start = true;
      continue;
    }
    if (quote) {
      if (c === '\\' && i + 1 < text.length) {
        out += c + text[++i]!;
        continue;
      }
      if (c === quote) quote = null;
      out += c;
      continue;
    }
    if (start && (c === '"' || c === "'")) quote = c;
    else if (start && c === '#') {
      comment = true;
      out += ' ';
      continue;
    }
    start = TOKEN_START.test(c);
    out += c;
  }
  return out;
}

/** A `location` of the site whose path is /colibri-ws: its pattern, its proxy_pass, its line. */
export interface ColibriLocation {
  line: number;
  /** Where the location starts in its file. */
  offset: number;
  /** The location line as written (trimmed). */
  text: string;
  /** The regular expression (for `~`/`~*`) or prefix it matches on. */
  pattern: string;
  /** nginx's modifier: '' (prefix), '=', '^~', '~' or '~*'. */
  modifier: string;
  regex: boolean;
  proxyPass: string | null;
}

/** The block that opens at `open` (a `{`) ends at the offset returned (its `}`), in comment-free text. */
function closeOf(clean: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  let start = true;
  for (let i = open; i < clean.length; i++) {
    const c = clean[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (start && (c === '"' || c === "'")) quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
    start = TOKEN_START.test(c);
  }
  return -1;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;
const unquote = (s: string) => (/^(["']).*\1$/.test(s) ? s.slice(1, -1) : s);

/** Every active (uncommented) location of an nginx config file, in file order. */
export function nginxLocations(text: string): ColibriLocation[] {
  const clean = withoutComments(text);
  const out: ColibriLocation[] = [];
  const re = /\blocation\s+(~\*?|\^~|=)?\s*("[^"]*"|'[^']*'|[^\s{]+)\s*\{/g;
  for (let m = re.exec(clean); m; m = re.exec(clean)) {
    const pattern = unquote(m[2]!);
    const open = m.index + m[0].length - 1;
    const close = closeOf(clean, open);
    const body = close < 0 ? clean.slice(open) : clean.slice(open, close);
    const pass = /\bproxy_pass\s+([^;]+);/.exec(body)?.[1]?.trim() ?? null;
    const lineStart = clean.lastIndexOf('\n', m.index) + 1;
    const lineEnd = text.indexOf('\n', m.index);
    const modifier = m[1] ?? '';
    out.push({
      line: lineAt(text, m.index),
      offset: m.index,
      text: text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim(),
      pattern,
      modifier,
      regex: modifier.startsWith('~'),
      proxyPass: pass,
    });
  }
  return out;
}

/** Every active location for /colibri-ws in an nginx config file. */
export function colibriLocations(text: string): ColibriLocation[] {
  return nginxLocations(text).filter((l) => l.pattern.includes('colibri-ws'));
}

const wsPath = (serverId: string) => `/colibri-ws/${serverId}/conference/endpoint`;

/** Whether this location's pattern matches `/colibri-ws/<serverId>/…` (its regex read as JavaScript reads it). */
export function locationMatches(loc: ColibriLocation, serverId: string): boolean {
  const path = wsPath(serverId);
  if (loc.modifier === '=') return path === loc.pattern;
  if (!loc.regex) return path.startsWith(loc.pattern);
  try {
    return new RegExp(loc.pattern, loc.modifier === '~*' ? 'i' : '').test(path);
  } catch {
    return false;
  }
}

/**
 * The location nginx picks for the bridge's websocket path among one server's locations, as
 * nginx's ngx_http_core_module documents it: an exact `=` match; else the longest matching
 * prefix if it is `^~`; else the first matching regex in file order; else the longest prefix.
 */
export function chosenLocation(locs: readonly ColibriLocation[], serverId: string): ColibriLocation | undefined {
  const matching = locs.filter((l) => locationMatches(l, serverId));
  const exact = matching.find((l) => l.modifier === '=');
  if (exact) return exact;
  const prefixes = matching.filter((l) => !l.regex).sort((a, b) => b.pattern.length - a.pattern.length);
  if (prefixes[0]?.modifier === '^~') return prefixes[0];
  return matching.find((l) => l.regex) ?? prefixes[0];
}

/** `.` and the other regex characters a safe server-id may hold, escaped for nginx's PCRE. */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const hostPart = (address: string) => (address.includes(':') ? `[${address}]` : address);

/** The managed block: one location per bridge, as jitsi-meet.example writes the local bridge's. */
export function routeBlock(routes: readonly ColibriRoute[], indent = '    '): string {
  const i2 = indent + indent;
  const lines = [`${indent}${ROUTES_BEGIN}`];
  for (const r of routes) {
    lines.push(
      `${indent}location ~ ^/colibri-ws/${regexEscape(r.serverId)}/(.*) {`,
      `${i2}proxy_pass http://${hostPart(r.address)}:${r.port}/colibri-ws/${r.serverId}/$1$is_args$args;`,
      `${i2}proxy_http_version 1.1;`,
      `${i2}proxy_set_header Upgrade $http_upgrade;`,
      `${i2}proxy_set_header Connection "upgrade";`,
      `${i2}tcp_nodelay on;`,
      `${indent}}`,
    );
  }
  lines.push(`${indent}${ROUTES_END}`);
  return lines.join('\n') + '\n';
}

/** The `server { … }` blocks at the top of a site file, with where they open and close. */
function serverBlocks(clean: string): { open: number; close: number; body: string }[] {
  const out: { open: number; close: number; body: string }[] = [];
  const re = /(^|[;}\s])server\s*\{/g;
  for (let m = re.exec(clean); m; m = re.exec(clean)) {
    const open = m.index + m[0].length - 1;
    const close = closeOf(clean, open);
    if (close < 0) break;
    out.push({ open, close, body: clean.slice(open + 1, close) });
    re.lastIndex = close + 1;
  }
  return out;
}

/** The locations of the server block that holds `offset` (all of the file's when none does). */
export function serverLocations(text: string, offset: number): ColibriLocation[] {
  const server = serverBlocks(withoutComments(text)).find((b) => b.open < offset && offset < b.close);
  return nginxLocations(text).filter((l) => !server || (l.offset > server.open && l.offset < server.close));
}

/** Where the managed block is (the offsets of its first and past its last line), or null. */
function managedSpan(text: string): { from: number; to: number } | null {
  const b = text.indexOf(ROUTES_BEGIN);
  if (b < 0) return null;
  const e = text.indexOf(ROUTES_END, b);
  if (e < 0) return null;
  const from = text.lastIndexOf('\n', b) + 1;
  const endLine = text.indexOf('\n', e);
  return { from, to: endLine < 0 ? text.length : endLine + 1 };
}

/**
 * The site with the managed block holding exactly `routes` (removed when there are none): in
 * place when it is there, else just before the closing brace of the server that serves `domain`
 * over TLS. A problem sentence when there is no such server, or the block's markers are broken.
 */
export function editSiteRoutes(
  text: string,
  routes: readonly ColibriRoute[],
  domain: string,
): { text: string } | { problem: string } {
  const span = managedSpan(text);
  if (span === null && text.includes(ROUTES_BEGIN))
    return { problem: `it holds "${ROUTES_BEGIN}" without its end line; fix the block by hand` };
  if (span) {
    const indent = /^[ \t]*/.exec(text.slice(span.from))![0];
    const block = routes.length ? routeBlock(routes, indent || '    ') : '';
    return { text: text.slice(0, span.from) + block + text.slice(span.to) };
  }
  if (!routes.length) return { text };
  const clean = withoutComments(text);
  const servers = serverBlocks(clean);
  const names = (body: string) => /\bserver_name\s+([^;]*);/.exec(body)?.[1]?.split(/\s+/) ?? [];
  const tls = (body: string) => /\blisten\s+[^;]*\b443\b[^;]*;/.test(body) || /\blisten\s+[^;]*\bssl\b/.test(body);
  const target = servers.find((s) => tls(s.body) && names(s.body).includes(domain)) ?? servers.find((s) => tls(s.body));
  if (!target) return { problem: `no server block in it listens on 443 for ${domain}` };
  const inner = /\n([ \t]+)\S/.exec(text.slice(target.open, target.close))?.[1] ?? '    ';
  // nginx tries regex locations in file order and takes the first that matches: the block goes
  // before the server's first one (jitsi-meet.example ends with a catch-all
  // `location ~ ^/([^/?&:'"]+)/(.*)$` that would take /colibri-ws/<id>/ first).
  const firstRegex = nginxLocations(text).find((l) => l.regex && l.offset > target.open && l.offset < target.close);
  if (firstRegex) {
    const at = text.lastIndexOf('\n', firstRegex.offset) + 1;
    return { text: text.slice(0, at) + routeBlock(routes, inner) + '\n' + text.slice(at) };
  }
  const lineStart = text.lastIndexOf('\n', target.close - 1) + 1;
  const before = text.slice(lineStart, target.close);
  // The closing brace on a line of its own: the block goes on the lines before it.
  const at = before.trim() === '' ? lineStart : target.close;
  const sep = at === lineStart ? '' : '\n';
  return { text: text.slice(0, at) + sep + '\n' + routeBlock(routes, inner) + text.slice(at) };
}

/** Lists nginx's enabled site configs on a host, each as the file it really is (links resolved). */
export const LIST_NGINX_SITES = `
for f in /etc/nginx/sites-enabled/* /etc/nginx/conf.d/*.conf; do
  [ -f "$f" ] || continue
  printf '%s\\n' "$(readlink -f -- "$f")"
done
exit 0`;

/** JavaScript text with its comments blanked (outside strings): what the browser runs. */
function withoutJsComments(text: string): string {
  // A string is blanked too (its quotes kept), unless it is the key itself ('preferSctp': false).
  return text.replace(
    /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g,
    (m: string, str: string | undefined) =>
      str && str.slice(1, -1) === 'preferSctp'
        ? m
        : str
          ? str[0] + ' '.repeat(str.length - 2) + str[0]
          : m.replace(/[^\n]/g, ' '),
  );
}

/**
 * The `bridgeChannel.preferSctp` a meet host's config.js sets (the last active assignment), or
 * undefined when it sets none (lib-jitsi-meet then prefers SCTP: JitsiConference.ts
 * `_setBridgeChannel`, `preferSctp ?? true`). config.js sets it as `bridgeChannel: { preferSctp: … }`
 * or, as docker-jitsi-meet's web/rootfs/defaults/system-config.js does, `config.bridgeChannel = { … }`.
 */
export function preferSctpOf(configJs: string): boolean | undefined {
  const all = [...withoutJsComments(configJs).matchAll(/\bpreferSctp['"]?\s*[:=]\s*(true|false)\b/g)];
  const last = all[all.length - 1];
  return last ? last[1] === 'true' : undefined;
}
