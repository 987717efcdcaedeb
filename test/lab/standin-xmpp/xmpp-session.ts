import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/*
 * TEST STAND-IN support: the small XMPP client the lab's simulated bridge and stand-in Jicofo
 * share. STARTTLS, SASL PLAIN, resource binding, one MUC join, then a stream of stanzas. Enough
 * to speak to a real Prosody as the real components do; not a general client.
 */

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

export const unesc = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** A login or join that failed: what a real component logs, and the exception line after it. */
export class XmppFailure extends Error {
  constructor(
    message: string,
    readonly logged: string,
  ) {
    super(message);
  }
}

/** Reads from a socket until `done` matches the text received so far. */
function waitFor(
  sock: Socket | TLSSocket,
  state: { buf: string },
  done: RegExp,
  timeoutMs = 10_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = done.exec(state.buf);
      if (m) {
        state.buf = state.buf.slice(m.index + m[0].length);
        cleanup();
        resolve(m);
        return true;
      }
      const err = /<stream:error>([\s\S]*?)<\/stream:error>/.exec(state.buf);
      if (err) {
        cleanup();
        reject(new Error(`stream error: ${/<([a-z-]+)[ /]/.exec(err[1]!)?.[1] ?? 'unknown'}`));
        return true;
      }
      return false;
    };
    const onData = (d: Buffer) => {
      state.buf += d.toString('utf8');
      check();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('connection closed by the server'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('timed out waiting for the server'));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
    };
    sock.on('data', onData);
    sock.on('close', onClose);
    check();
  });
}

function openStream(sock: Socket | TLSSocket, domain: string): void {
  sock.write(
    `<?xml version='1.0'?><stream:stream to='${esc(domain)}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
  );
}

export interface LoginOptions {
  host: string;
  port: number;
  domain: string;
  username: string;
  password: string;
  /** Verify Prosody's certificate against the system trust store (run node with --use-openssl-ca). */
  verify: boolean;
}

export interface Session {
  sock: TLSSocket;
  jid: string;
  /** Joins a MUC room as `room/nick` with extra presence children; rejects with the error condition. */
  join(roomAndNick: string, extra?: string): Promise<void>;
  /** Every stanza after the join, whole (presence, iq, message). */
  onStanza(listener: (stanza: string) => void): void;
  send(xml: string): void;
}

const PKIX =
  'javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target';

/** Logs in over STARTTLS with SASL PLAIN and binds a resource. */
export async function login(o: LoginOptions): Promise<Session> {
  const plain = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: o.host, port: o.port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const state = { buf: '' };
  openStream(plain, o.domain);
  await waitFor(plain, state, /<\/stream:features>/);
  plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await waitFor(plain, state, /<proceed[^>]*\/>/);
  const sock = await new Promise<TLSSocket>((resolve, reject) => {
    const t = tlsConnect({ socket: plain, servername: o.domain, rejectUnauthorized: o.verify });
    t.once('secureConnect', () => resolve(t));
    t.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS_CERT/.test(e.code ?? '')
          ? new XmppFailure('Error connecting:', PKIX)
          : new Error(`TLS: ${e.message}`),
      ),
    );
  });
  const tls = { buf: '' };
  openStream(sock, o.domain);
  const features = await waitFor(sock, tls, /<stream:features>([\s\S]*?)<\/stream:features>/);
  if (!/PLAIN/.test(features[1]!)) throw new Error('the server offers no PLAIN mechanism over TLS');
  const auth = Buffer.from(`\0${o.username}\0${o.password}`).toString('base64');
  sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${auth}</auth>`);
  const result = await waitFor(
    sock,
    tls,
    /<success[^>]*\/>|<success[^>]*>[\s\S]*?<\/success>|<failure[^>]*>([\s\S]*?)<\/failure>/,
  );
  if (result[0].startsWith('<failure')) {
    const condition = /<([a-z-]+)\s*\/>/.exec(result[1] ?? '')?.[1] ?? 'failure';
    throw new XmppFailure(
      'Failed to login. Disconnecting to trigger a re-connect.',
      `org.jivesoftware.smack.sasl.SASLErrorException: SASLError using PLAIN: ${condition}`,
    );
  }
  openStream(sock, o.domain);
  await waitFor(sock, tls, /<\/stream:features>/);
  sock.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  const bound = await waitFor(sock, tls, /<iq[^>]*id=['"]bind1['"][^>]*>([\s\S]*?)<\/iq>/);
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound[1]!)?.[1] ?? '?';
  const listeners: ((s: string) => void)[] = [];
  return {
    sock,
    jid,
    send: (xml) => sock.write(xml),
    onStanza: (l) => listeners.push(l),
    async join(roomAndNick, extra = '') {
      sock.write(`<presence to='${esc(roomAndNick)}'><x xmlns='http://jabber.org/protocol/muc'/>${extra}</presence>`);
      const presence = await waitFor(
        sock,
        tls,
        new RegExp(
          `<presence[^>]*from=['"]${roomAndNick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"][^>]*(?:/>|>[\\s\\S]*?</presence>)|<presence[^>]*type=['"]error['"][\\s\\S]*?</presence>`,
          'i',
        ),
      );
      if (/type=['"]error['"]/.test(presence[0])) {
        const condition = /<error[^>]*>\s*<([a-z-]+)/.exec(presence[0])?.[1] ?? 'error';
        throw new Error(`Failed to join the MUC ${roomAndNick}: ${condition}`);
      }
      // From here on the stream is read stanza by stanza, starting with the occupants' presences
      // that came before our own.
      tls.buf = presence.input.slice(0, presence.index) + tls.buf;
      const pump = () => {
        for (;;) {
          const m = /<(presence|iq|message)\b[^>]*?\/>|<(presence|iq|message)\b[^>]*>[\s\S]*?<\/\2>/.exec(tls.buf);
          if (!m) return;
          tls.buf = tls.buf.slice(m.index + m[0].length);
          for (const l of listeners) l(m[0]);
        }
      };
      sock.on('data', (d: Buffer) => {
        tls.buf += d.toString('utf8');
        pump();
      });
      setImmediate(pump);
    },
  };
}

/** An attribute of a stanza's opening tag. */
export function attr(stanza: string, name: string): string | undefined {
  const open = /^<[^>]*>/.exec(stanza)?.[0] ?? '';
  const m = new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`).exec(open);
  return m ? unesc(m[1] ?? m[2] ?? '') : undefined;
}
