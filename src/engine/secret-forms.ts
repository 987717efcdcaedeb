import { escapeKey, escapeValue } from '../modules/properties/properties.js';
import { quoteShellValue } from '../modules/shell-vars/shell-vars.js';

/*
 * Pure: every spelling a secret can take in what a run shows. A value is written into configs of
 * several syntaxes, echoed by commands and carried in JSON, so the redactor masks each of these
 * forms, not only the plain value.
 */

const hex4 = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(4, '0');
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/** JSON and HOCON quoted strings (HOCON's escapes are JSON's): as JSON.stringify writes it, and all-ASCII. */
function jsonForms(s: string): string[] {
  const inner = JSON.stringify(s).slice(1, -1);
  return [
    inner,
    inner.replace(/[^\x20-\x7e]/g, (c) => hex4(c, false)),
    inner.replace(/[^\x20-\x7e]/g, (c) => hex4(c, true)),
  ];
}

/** .properties: as this tool writes a value and a key, and as java.util.Properties.store writes one (\uXXXX beyond ASCII). */
function propertiesForms(s: string): string[] {
  const java = s
    .replace(/[\\=:#!]/g, '\\$&')
    .replace(/\t/g, '\\t')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\f/g, '\\f')
    .replace(/^ /, '\\ ')
    .replace(/[^\x20-\x7e]/g, (c) => hex4(c, true));
  return [escapeValue(s), escapeKey(s), java];
}

/** Bash's $'…' with every byte beyond ASCII in octal, as `printf %q` writes it in the C locale. */
function dollarQuoted(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      if (b >= 0x80) return `\\${b.toString(8).padStart(3, '0')}`;
      const c = String.fromCharCode(b);
      return c === "'" || c === '\\' ? `\\${c}` : c;
    })
    .join('');
}

/**
 * POSIX shell: inside '…' (a quote closed, escaped and reopened, both ways), inside "…",
 * backslash-escaped bare (every special character, or the ASCII ones only, as bash's printf %q
 * does in a UTF-8 locale), and bash's $'…'.
 */
function shellForms(s: string): string[] {
  return [
    s.replace(/'/g, `'\\''`),
    s.replace(/'/g, `'"'"'`),
    quoteShellValue(s).slice(1, -1),
    s.replace(/[^A-Za-z0-9_@%+=:,./-]/g, '\\$&'),
    s.replace(/[\x20-\x7e]/g, (c) => (/[A-Za-z0-9_@%+=:./~#-]/.test(c) ? c : `\\${c}`)),
    dollarQuoted(s),
  ];
}

/** Percent-encoding: as encodeURIComponent writes it, with lower-case hex, as a form value (+ for space, both ways), RFC 3986 strict, and encodeURI. */
function urlForms(s: string): string[] {
  const component = encodeURIComponent(s);
  const strict = component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [
    component,
    component.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    component.replace(/%20/g, '+'),
    strict,
    encodeURI(s),
    new URLSearchParams([['', s]]).toString().slice(1),
  ];
}

/**
 * Base64 of the bytes: alone (padded, unpadded, URL-safe), and the characters that the bytes alone
 * decide when they sit inside a longer stream, at each of the three offsets modulo 3.
 */
export function base64Forms(bytes: Buffer): string[] {
  const n = bytes.length;
  const whole = bytes.toString('base64');
  const out = [whole, whole.replace(/=+$/, '')];
  for (const k of [0, 1, 2]) {
    const stream = Buffer.concat([Buffer.alloc(k), bytes, Buffer.alloc(3)]).toString('base64');
    // Character i holds bits 6i..6i+5; the secret holds bits 8k..8(k+n)-1.
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + n) - 6) / 6);
    if (last >= first) out.push(stream.slice(first, last + 1));
  }
  // A run of one to three characters is in any base64 text: it tells nothing and is not masked.
  const runs = out.filter((f) => f.length >= 4);
  return [...runs, ...runs.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_'))];
}

/** A file in Latin-1: how its bytes read (one escaped byte each, file-bytes.ts) and how a diff shows them (\xNN). */
function latin1Forms(s: string): string[] {
  if (!/[\x80-\xff]/.test(s) || [...s].some((c) => c.charCodeAt(0) > 0xff)) return [];
  return [
    s.replace(/[\x80-\xff]/g, (c) => String.fromCharCode(0xdc00 + c.charCodeAt(0))),
    s.replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  ];
}

/** Every form of the secret, the plain value first, without repeats or empty ones. */
export function secretForms(secret: string): string[] {
  const spellings = [...new Set([secret, secret.normalize('NFC'), secret.normalize('NFD'), secret.normalize('NFKC')])];
  const forms = spellings.flatMap((s) => [
    s,
    ...jsonForms(s),
    ...propertiesForms(s),
    ...shellForms(s),
    ...urlForms(s),
    ...base64Forms(Buffer.from(s, 'utf8')),
    ...latin1Forms(s),
  ]);
  return [...new Set(forms)].filter((f) => f !== '');
}
