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

export interface ScramAccount {
  storedKey: string;
  salt: string;
  iterations: number;
}

/** Pure: the SCRAM fields of an internal_hashed account file (a Lua table), or null. */
export function parseAccount(text: string): ScramAccount | null {
  const field = (name: string) => new RegExp(`\\["${name}"\\]\\s*=\\s*("?)([^";]*)\\1`).exec(text)?.[2];
  const storedKey = field('stored_key');
  const salt = field('salt');
  const iterations = Number(field('iteration_count'));
  if (!storedKey || salt === undefined || !iterations) return null;
  return { storedKey: storedKey.toLowerCase(), salt, iterations };
}

/** Why the account's iteration count will not be computed (beyond the cap), naming the host and file; or null. */
export function iterationProblem(account: ScramAccount, host: string, file: string): string | null {
  if (Number.isSafeInteger(account.iterations) && account.iterations > 0 && account.iterations <= MAX_ITERATIONS)
    return null;
  return `${file} on ${host} gives a PBKDF2 iteration count of ${account.iterations}, not a whole number from 1 to ${MAX_ITERATIONS} (Prosody's default is 10000), so no password is checked against it`;
}

/**
 * Would Prosody accept this password? (SCRAM-SHA-1: StoredKey = H(HMAC(SaltedPassword, "Client Key"))).
 * Computed off the event loop; a count beyond the cap is refused before any work (see iterationProblem).
 */
export async function passwordMatches(account: ScramAccount, password: string): Promise<boolean> {
  if (iterationProblem(account, '', '') !== null)
    throw new RangeError(`refusing a PBKDF2 iteration count of ${account.iterations} (at most ${MAX_ITERATIONS})`);
  const salted = await pbkdf2Async(password.normalize('NFKC'), account.salt, account.iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return createHash('sha1').update(clientKey).digest('hex') === account.storedKey;
}
