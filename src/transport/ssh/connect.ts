import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as Ssh2Client, ParsedKey } from 'ssh2';
import { UnreachableError } from '../host.js';
import type { Endpoint } from './endpoint.js';
import type { HostKeyTrust } from './host-key-trust.js';
import { fingerprint, hostToken, keyTypeOf } from './known-hosts.js';
import { proxySocket } from './proxy-command.js';
import { isDefaultKey } from './ssh-config.js';

const { Client, utils } = ssh2;
export type Client = Ssh2Client;

/** Questions a connection may need answered; absent ones are answered "no" / "none". */
export interface ConnectPrompts {
  /** An unknown host key under the "ask" policy: trust it (and record it)? */
  trustHostKey?(q: { host: string; address: string; keyType: string; fingerprint: string }): Promise<boolean>;
  /** A key file's passphrase; null when none can be had. */
  passphrase?(q: { host: string; keyFile: string }): Promise<string | null>;
}

export interface ConnectSettings {
  trust: HostKeyTrust;
  prompts: ConnectPrompts;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Registers secrets (passphrases) so they never reach the screen. */
  secret?: (value: string) => void;
}

const where = (ep: Endpoint) => `${ep.address}:${ep.port}`;

/** One sentence for why a connection failed, from the error ssh2 or the socket gave. */
export function describeConnectError(
  err: unknown,
  ep: Endpoint,
  timeoutMs: number,
  tried: string[] = [],
  missing: string[] = [],
): string {
  const e = err as { code?: string; level?: string; message?: string };
  const w = where(ep);
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${w} (is sshd running on that port?)`;
    case 'ETIMEDOUT':
      return `timed out connecting to ${w} after ${timeoutMs / 1000}s`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `no such host: ${ep.address}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${w}`;
    case 'ECONNRESET':
      return `connection to ${w} was reset`;
  }
  const msg = e.message ?? String(err);
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    // ssh's own key names are looked for quietly; a key someone named and that is not there is worth a word.
    const named = missing.filter((f) => !isDefaultKey(f));
    return (
      `permission denied for ${ep.user}@${w} (tried ${tried.length ? tried.join(', ') : 'no key: none found, and no ssh-agent'}` +
      `${named.length ? `; not found: ${named.join(', ')}` : ''})`
    );
  }
  if (e.level === 'client-timeout' || /timed out/i.test(msg))
    return `timed out connecting to ${w} after ${timeoutMs / 1000}s (no SSH handshake)`;
  return `cannot connect to ${w}: ${msg.split('\n')[0]}`;
}

/** The keys to offer, parsed; an encrypted one needs its passphrase (asked, or from the environment). */
async function identities(
  ep: Endpoint,
  forHost: string,
  s: ConnectSettings,
): Promise<{ keys: { key: ParsedKey; label: string }[]; missing: string[] }> {
  const keys: { key: ParsedKey; label: string }[] = [];
  const missing: string[] = [];
  for (const file of ep.identityFiles) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      // ssh passes over a key file it cannot read, named or default alike.
      missing.push(file);
      continue;
    }
    let parsed = utils.parseKey(data);
    if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message)) {
      const pass =
        (process.env.JITSI_SCALE_SSH_PASSPHRASE || undefined) ??
        (await s.prompts.passphrase?.({ host: forHost, keyFile: file })) ??
        null;
      if (pass === null)
        throw new UnreachableError(
          forHost,
          `private key ${file} is protected by a passphrase and none was given; set JITSI_SCALE_SSH_PASSPHRASE, add the key to ssh-agent, or run on a terminal to be asked`,
        );
      s.secret?.(pass);
      parsed = utils.parseKey(data, pass);
      if (parsed instanceof Error) throw new UnreachableError(forHost, `wrong passphrase for private key ${file}`);
    }
    if (parsed instanceof Error) {
      missing.push(`${file} (${parsed.message})`);
      continue;
    }
    const key: ParsedKey = Array.isArray(parsed) ? (parsed as ParsedKey[])[0]! : parsed;
    keys.push({ key, label: file });
  }
  return { keys, missing };
}

const RSA = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

class HostKeyRefused extends Error {
  constructor(
    readonly kind: 'unknown' | 'changed' | 'revoked',
    message: string,
    readonly blob: Buffer,
  ) {
    super(message);
  }
}

/**
 * One SSH connection to an endpoint, directly or over `sock` (a channel through a jump host).
 * The host key is checked against known_hosts before anything is sent; an unknown key is asked
 * about (outside the connect timeout) and the connection made again once trusted.
 */
// eslint-disable-next-line max-lines-per-function -- ssh2's handshake wiring: each event handler is a few lines, and they share the attempt's state
export async function openClient(
  ep: Endpoint,
  to: { host: string; jump: boolean },
  s: ConnectSettings,
  sock?: () => Promise<Duplex>,
): Promise<Client> {
  const forHost = to.host;
  const { keys, missing } = await identities(ep, forHost, s);
  // Host keys are filed under HostKeyAlias when there is one, else "host" or "[host]:port".
  const token = ep.hostKeyAlias ?? hostToken(ep.address, ep.port);
  const lookIn = [...ep.knownHostsFiles, ...ep.globalKnownHostsFiles];
  const known = await s.trust.knownTypes(lookIn, token);
  const prefer = known.flatMap((t) => (t === 'ssh-rsa' ? RSA : [t]));
  const agent = process.env.SSH_AUTH_SOCK && !ep.identitiesOnly ? process.env.SSH_AUTH_SOCK : undefined;
  // A jump host's connection is shared by every host behind it: its messages name it, not one of them.
  const label = to.jump ? `jump host ${ep.alias} (${where(ep)})` : `${forHost} (${where(ep)})`;

  const attempt = async (): Promise<Client> => {
    const client = new Client();
    const tried: string[] = [];
    const methods: AnyAuthMethod[] = [
      ...(agent ? [{ type: 'agent' as const, username: ep.user, agent }] : []),
      ...keys.map((k) => ({ type: 'publickey' as const, username: ep.user, key: k.key })),
    ];
    const labels = [...(agent ? ['ssh-agent'] : []), ...keys.map((k) => k.label)];
    let refused: HostKeyRefused | undefined;
    const proxy = !sock && ep.proxyCommand ? proxySocket(ep.proxyCommand) : undefined;
    const stream = sock ? await sock() : proxy?.stream;
    return new Promise<Client>((resolve, reject) => {
      client.once('ready', () => {
        // Every command is a small request and a small answer: without this, Nagle's algorithm
        // and the host's delayed ACK add about 40 ms to each round trip.
        client.setNoDelay(true);
        resolve(client);
      });
      let settled = false;
      // ssh2 may report more than one error for one failure; the first one counts.
      client.on('error', (err) => {
        if (settled) return;
        settled = true;
        client.end();
        // A proxy command that failed says why better than the cut connection does.
        const proxyFailure = proxy
          ? Promise.race([proxy.ended, new Promise((r) => setTimeout(r, 500))]).then(() => proxy.failure())
          : Promise.resolve(null);
        void proxyFailure.then((why) =>
          reject(
            refused ??
              new UnreachableError(
                forHost,
                `${to.jump ? `jump host ${ep.alias}: ` : ''}${why ?? describeConnectError(err, ep, s.connectTimeoutMs, tried, missing)}`,
              ),
          ),
        );
      });
      client.once('ready', () => (settled = true));
      client.connect({
        ...(stream ? { sock: stream } : { host: ep.address, port: ep.port }),
        username: ep.user,
        readyTimeout: s.connectTimeoutMs,
        keepaliveInterval: s.keepaliveIntervalMs,
        keepaliveCountMax: s.keepaliveCountMax,
        ...(prefer.length ? { algorithms: { serverHostKey: { prepend: prefer } as never } } : {}),
        hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
          void s.trust.check(lookIn, token, blob).then(async (c) => {
            const fp = `${keyTypeOf(blob)} ${fingerprint(blob)}`;
            if (c.status === 'known') return verify(true);
            if (c.status === 'revoked')
              refused = new HostKeyRefused(
                'revoked',
                `the host key of ${label} is revoked (${c.file}:${c.line}); not connecting`,
                blob,
              );
            else if (c.status === 'changed') {
              const was = c.expected.map((x) => `${x.keyType} ${x.fingerprint} (${x.file}:${x.line})`).join(', ');
              refused = new HostKeyRefused(
                'changed',
                `HOST KEY CHANGED for ${label}: known_hosts has ${was}, the host offers ${fp}. If the host was reinstalled, remove the old line (ssh-keygen -R ${JSON.stringify(token)}); otherwise someone may be in the middle: do not connect`,
                blob,
              );
            } else if (ep.hostKeyPolicy === 'accept-new') {
              await s.trust.record(ep.knownHostsFiles[0]!, token, blob);
              return verify(true);
            } else refused = new HostKeyRefused('unknown', `unknown host key for ${label}: ${fp}`, blob);
            verify(false);
          });
        },
        authHandler: (_left, _partial, next) => {
          const m = methods.shift();
          if (m) tried.push(labels.shift()!);
          (next as (m: AnyAuthMethod | false) => void)(m ?? false);
        },
      });
    });
  };

  try {
    return await attempt();
  } catch (e) {
    if (!(e instanceof HostKeyRefused)) throw e;
    const fp = fingerprint(e.blob);
    if (e.kind === 'unknown' && ep.hostKeyPolicy === 'ask' && s.prompts.trustHostKey) {
      if (
        await s.prompts.trustHostKey({
          host: to.jump ? `jump host ${ep.alias}` : forHost,
          address: where(ep),
          keyType: keyTypeOf(e.blob),
          fingerprint: fp,
        })
      ) {
        await s.trust.record(ep.knownHostsFiles[0]!, token, e.blob);
        return attempt();
      }
      throw new UnreachableError(forHost, `${e.message}: not trusted at your request`);
    }
    if (e.kind === 'unknown') {
      throw new UnreachableError(
        forHost,
        ep.hostKeyPolicy === 'yes'
          ? `${e.message}; StrictHostKeyChecking is yes: add the key to ${ep.knownHostsFiles[0]} first`
          : `${e.message}; check it, then run again with --accept-new-host-keys to trust and record it in ${ep.knownHostsFiles[0]}`,
      );
    }
    throw new UnreachableError(forHost, e.message);
  }
}
