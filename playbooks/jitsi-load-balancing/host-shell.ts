/*
 * Shell functions the probes on the shard's hosts share (verify, status, doctor), and the parsing of
 * what they print. Each is defined once here and embedded in a probe's script.
 */

/**
 * `get URL`: "HTTP <code>" (000: no answer), then the body, with whatever client the host has
 * (curl, wget, python3; bash alone gives the status line only). Body lines that start with "@@"
 * are escaped so they cannot end a probe's section.
 */
export const HTTP_GET = `
get() {
  if command -v curl >/dev/null 2>&1; then
    out=$(curl -s --max-time 3 -w '\\n%{http_code}' "$1" 2>/dev/null); code=$(printf '%s' "$out" | tail -n 1); body=$(printf '%s' "$out" | sed '$d')
  elif command -v wget >/dev/null 2>&1; then
    body=$(wget -q -O - -T 3 "$1" 2>/dev/null) && code=200 || code=$(wget -S -O /dev/null -T 3 "$1" 2>&1 | sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p' | tail -n 1)
  elif command -v python3 >/dev/null 2>&1; then
    body=$(python3 -c 'import sys,urllib.request,urllib.error
try: r=urllib.request.urlopen(sys.argv[1], timeout=3); print(r.read().decode()); print(r.status)
except urllib.error.HTTPError as e: print(); print(e.code)
except Exception: print(); print("000")' "$1" 2>/dev/null); code=$(printf '%s' "$body" | tail -n 1); body=$(printf '%s' "$body" | sed '$d')
  else
    hp=\${1#http://}; path=/\${hp#*/}; hp=\${hp%%/*}
    code=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\\r\\n\\r\\n" "$3" >&3 && head -n 1 <&3' get "\${hp%:*}" "\${hp##*:}" "$path" 2>/dev/null | sed -n 's/^HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p'); body=
  fi
  echo "HTTP \${code:-000}"
  printf '%s\\n' "$body" | sed 's/^@@/@@@/'
}`;

/** `tcp_open HOST PORT`: succeeds when a TCP connection opens within 3 s. */
export const TCP_OPEN = `
tcp_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' tcp_open "$1" "$2" 2>/dev/null; }`;

/** `jvb_log_since_start N`: the bridge's log from its last start, within its last N lines. */
export const JVB_LOG_SINCE_START = `
jvb_log_since_start() {
  f=/var/log/jitsi/jvb.log
  [ -f "$f" ] && tail -n "$1" "$f" | awk 'tolower($0) ~ /starting/ { n = 0 } { line[n++] = $0 } END { for (i = 0; i < n; i++) print line[i] }'
}`;

/** An HTTP answer as `get` prints it: the status code (0: no answer) and the body. */
export interface HttpAnswer {
  code: number;
  body: string;
}

/** Pure: `get`'s lines back into the code and the body. */
export function parseHttp(lines: readonly string[] | undefined): HttpAnswer {
  const [first = '', ...rest] = lines ?? [];
  const code = Number(/^HTTP (\d{3})/.exec(first)?.[1] ?? 0);
  return { code, body: rest.map((l) => l.replace(/^@@@/, '@@')).join('\n') };
}

/** Pure: a 200 answer's JSON object, or null. */
export function jsonBody(a: HttpAnswer): Record<string, unknown> | null {
  if (a.code !== 200) return null;
  try {
    const v = JSON.parse(a.body) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * `udp_ports`: the UDP ports something listens on, one hexadecimal port a line, from the kernel's
 * socket tables (no ss or netstat needed).
 */
export const UDP_PORTS = `
udp_ports() { awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' /proc/net/udp /proc/net/udp6 2>/dev/null | sort -u; }`;

/** Pure: udp_ports' lines to port numbers. */
export function parseUdpPorts(lines: readonly string[] | undefined): number[] {
  return (lines ?? []).filter((l) => /^[0-9A-Fa-f]{4}$/.test(l.trim())).map((l) => parseInt(l.trim(), 16));
}
