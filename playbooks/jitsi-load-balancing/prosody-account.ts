import { createHash, createHmac, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/*
 * The iteration count comes from the account file on the meet host, so it is capped. Prosody's own
 * default is 10000 in 0.12 and 13.0 (plugins/mod_auth_internal_hashed.lua, default_iteration_count;
 * 13.0 also sets a floor of 4096 and no ceiling), 4096 in 0.11. The cap leaves room for an admin who
 * raised it well past today's advice (OWASP: 1.3 million for PBKDF2-HMAC-SHA1): checking one
 * password at the cap takes a few seconds, off the event loop.
 */
export const MAX_ITERATIONS = 10_000_000;

/** Prosody's data path for a host: "auth.example.org" → "auth%2eexample%2eorg". */
export function encodeProsodyHost(host: string): string {
  return host.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function accountFile(username: string, host: string): string {
  return `/var/lib/prosody/${encodeProsodyHost(host)}/accounts/${encodeProsodyHost(username)}.dat`;
}

/*
 * Prosody 13 may hash with SHA-256 instead of SHA-1 (the `password_hash` option of
 * mod_auth_internal_hashed, "SHA-1" by default). The account file does not say which: the stored
 * key's length does (40 hex digits for SHA-1, 64 for SHA-256). Prosody 13 also disables accounts
 * (`disabled = true`, from `prosodyctl shell user disable`), and such an account cannot log in.
 * (Read from Debian 13's prosody 13.0.1: modules/mod_auth_internal_hashed.lua.)
 */
export type ScramHash = 'sha1' | 'sha256';

export interface ScramAccount {
  storedKey: string;
  salt: string;
  iterations: number;
  hash: ScramHash;
}

const HASH_BY_HEX_LENGTH: Record<number, ScramHash> = { 40: 'sha1', 64: 'sha256' };
const HASH_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

/** Pure: the SCRAM fields of an internal_hashed account file (a Lua table), or null. */
export function parseAccount(text: string): ScramAccount | null {
  const field = (name: string) => new RegExp(`\\["${name}"\\]\\s*=\\s*("?)([^";]*)\\1`).exec(text)?.[2];
  const storedKey = field('stored_key');
  const salt = field('salt');
  const iterations = Number(field('iteration_count'));
  if (!storedKey || salt === undefined || !iterations) return null;
  const hash = HASH_BY_HEX_LENGTH[storedKey.length];
  if (!hash || !/^[0-9a-fA-F]+$/.test(storedKey)) return null;
  return { storedKey: storedKey.toLowerCase(), salt, iterations, hash };
}

/** Pure: is the account disabled (Prosody 13's `user:disable`, or an account made without a password)? */
export function accountDisabled(text: string): boolean {
  return /\["disabled"\]\s*=\s*true\b/.test(text);
}

/** Why the account's iteration count will not be computed (beyond the cap), naming the host and file; or null. */
export function iterationProblem(account: ScramAccount, host: string, file: string): string | null {
  if (Number.isSafeInteger(account.iterations) && account.iterations > 0 && account.iterations <= MAX_ITERATIONS)
    return null;
  return `${file} on ${host} gives a PBKDF2 iteration count of ${account.iterations}, not a whole number from 1 to ${MAX_ITERATIONS} (Prosody's default is 10000), so no password is checked against it`;
}

/**
 * Would Prosody accept this password? (SCRAM, RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")),
 * with SHA-1 or, RFC 7677, SHA-256.)
 * Computed off the event loop; a count beyond the cap is refused before any work (see iterationProblem).
 */
export async function passwordMatches(account: ScramAccount, password: string): Promise<boolean> {
  if (iterationProblem(account, '', '') !== null)
    throw new RangeError(`refusing a PBKDF2 iteration count of ${account.iterations} (at most ${MAX_ITERATIONS})`);
  const h = account.hash;
  const salted = await pbkdf2Async(password.normalize('NFKC'), account.salt, account.iterations, HASH_BYTES[h], h);
  const clientKey = createHmac(h, salted).update('Client Key').digest();
  return createHash(h).update(clientKey).digest('hex') === account.storedKey;
}

/** Pure: the major version of a Debian prosody package version ("13.0.1-1", "1:0.12.3-1" → 13, 0); null when unreadable. */
export function prosodyMajor(version: string | undefined): number | null {
  const m = /^(?:\d+:)?(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : null;
}

/*
 * How an account is made on the meet host's Prosody. Prosody 13's prosodyctl lists `adduser JID`
 * (it asks for the password, and goes through `prosodyctl shell`, so Prosody must be running);
 * `register USER HOST PASSWORD` still works there but is hidden from its help. Prosody 0.12 and
 * older take `register` with the password on the command line. (Read from Debian 13's prosody
 * 13.0.1, /usr/bin/prosodyctl: commands.adduser, commands.register and its hidden_commands.)
 */
export function createAccountCommand(prosodyVersion: string | undefined, user: string, host: string): string {
  const major = prosodyMajor(prosodyVersion);
  if (major !== null && major >= 13)
    return `\`prosodyctl adduser ${user}@${host}\` (Prosody ${major} asks for the password; Prosody must be running)`;
  return `\`prosodyctl register ${user} ${host} SECRET\``;
}
