import { createHash, createHmac } from 'node:crypto';
import { matchesPatternList } from './patterns.js';

/** One line of a known_hosts file. */
export interface KnownHost {
  marker?: 'cert-authority' | 'revoked';
  /** Host patterns ("host", "[host]:port", wildcards, "!negated"), or null for a hashed entry. */
  patterns: string[] | null;
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The public key blob, base64. */
  key: string;
  file: string;
  line: number;
}

/** Pure: the entries of a known_hosts file; lines it cannot read are passed over, as ssh does. */
export function parseKnownHosts(text: string, file: string): KnownHost[] {
  const out: KnownHost[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    let marker: KnownHost['marker'];
    if (words[0] === '@cert-authority' || words[0] === '@revoked')
      marker = words.shift()!.slice(1) as KnownHost['marker'];
    const [hosts, keyType, key] = words;
    if (!hosts || !keyType || !key) return;
    const entry: KnownHost = { patterns: null, keyType, key, file, line: i + 1, ...(marker ? { marker } : {}) };
    const h = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    if (h) entry.hashed = { salt: Buffer.from(h[1]!, 'base64'), hash: Buffer.from(h[2]!, 'base64') };
    else entry.patterns = hosts.split(',');
    out.push(entry);
  });
  return out;
}

/** How known_hosts names a host: "host" on port 22, "[host]:port" otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** Pure: does the entry name this host (token from hostToken)? Negated patterns veto. */
export function entryMatches(e: KnownHost, token: string): boolean {
  if (e.hashed) return createHmac('sha1', e.hashed.salt).update(token).digest().equals(e.hashed.hash);
  return matchesPatternList(e.patterns ?? [], token);
}

/** OpenSSH's fingerprint of a public key blob: "SHA256:" and unpadded base64. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob ("ssh-ed25519", …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('ascii');
}

export type HostKeyCheck =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'revoked'; file: string; line: number }
  | { status: 'changed'; expected: { keyType: string; fingerprint: string; file: string; line: number }[] };

/**
 * Pure: the offered key against what the files say about the host. A host the files know, with
 * a key of any type, that offers a key they do not hold has changed its key: refused, never
 * recorded, whatever the policy. (The connection asks for the known types first, so a host that
 * still has its known key offers it.) Only a host the files do not name at all is unknown.
 */
export function checkHostKey(entries: KnownHost[], token: string, blob: Buffer): HostKeyCheck {
  const key = blob.toString('base64');
  const mine = entries.filter((e) => !e.marker && entryMatches(e, token));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key === key);
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line };
  if (mine.some((e) => e.key === key)) return { status: 'known' };
  if (mine.length === 0) return { status: 'unknown' };
  return {
    status: 'changed',
    expected: mine.map((e) => ({
      keyType: e.keyType,
      fingerprint: fingerprint(Buffer.from(e.key, 'base64')),
      file: e.file,
      line: e.line,
    })),
  };
}

/** The key types the files hold for a host, to offer those first (so a known key is the one sent). */
export function knownKeyTypes(entries: KnownHost[], token: string): string[] {
  return [...new Set(entries.filter((e) => !e.marker && entryMatches(e, token)).map((e) => e.keyType))];
}

/** The line recorded for a newly trusted key. */
export function knownHostsLine(token: string, blob: Buffer): string {
  return `${token} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
