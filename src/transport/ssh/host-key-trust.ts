import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  checkHostKey,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
  type HostKeyCheck,
  type KnownHost,
} from './known-hosts.js';

/**
 * The known_hosts files of a run: read once, checked for every connection, and appended to when
 * the user trusts a new key (the first file is the one written, as ssh does).
 */
export class HostKeyTrust {
  private readonly cache = new Map<string, Promise<KnownHost[]>>();

  private entries(files: string[]): Promise<KnownHost[]> {
    return Promise.all(
      files.map((f) => {
        let p = this.cache.get(f);
        if (!p) {
          p = readFile(f, 'utf8').then(
            (t) => parseKnownHosts(t, f),
            () => [],
          );
          this.cache.set(f, p);
        }
        return p;
      }),
    ).then((all) => all.flat());
  }

  async check(files: string[], token: string, blob: Buffer): Promise<HostKeyCheck> {
    return checkHostKey(await this.entries(files), token, blob);
  }

  async knownTypes(files: string[], token: string): Promise<string[]> {
    return knownKeyTypes(await this.entries(files), token);
  }

  /** Appends the key to `file` (created 0600 in a 0700 folder when missing) and to what this run knows. */
  async record(file: string, token: string, blob: Buffer): Promise<void> {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const line = knownHostsLine(token, blob);
    await appendFile(file, `${line}\n`, { mode: 0o600 });
    const known = await (this.cache.get(file) ?? Promise.resolve([]));
    this.cache.set(file, Promise.resolve([...known, ...parseKnownHosts(line, file)]));
  }
}
