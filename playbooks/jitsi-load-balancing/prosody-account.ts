import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

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

/** Would Prosody accept this password? (SCRAM-SHA-1: StoredKey = H(HMAC(SaltedPassword, "Client Key"))) */
export function passwordMatches(account: ScramAccount, password: string): boolean {
  const salted = pbkdf2Sync(password.normalize('NFKC'), account.salt, account.iterations, 20, 'sha1');
  const clientKey = createHmac('sha1', salted).update('Client Key').digest();
  return createHash('sha1').update(clientKey).digest('hex') === account.storedKey;
}
