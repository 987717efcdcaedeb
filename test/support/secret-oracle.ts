import { HoconDoc } from '../../src/modules/hocon/hocon-doc.js';
import { spawnSync } from 'node:child_process';
import { setHocon } from '../../src/modules/hocon/set-hocon.js';
import { setProperties } from '../../src/modules/properties/properties.js';
import { setShellVars } from '../../src/modules/shell-vars/shell-vars.js';
import { quoteWord } from '../../src/transport/shell-quote.js';

/*
 * The test's own idea of how a secret can be spelled in an output, made apart from the redactor's
 * list: by writing it with the modules that write configs and reading it back from the file, by
 * asking bash and Node's own encoders, and, for base64, by finding which characters of a longer
 * stream the secret alone decides (flipping the bytes around it).
 */

/** What the module wrote between `before` and `after` in its output. */
const between = (text: string, before: string, after: string) => {
  const start = text.indexOf(before) + before.length;
  return text.slice(start, text.lastIndexOf(after));
};

/** bash's printf %q in a locale (C: bytes beyond ASCII in $'…'); null where bash is missing. */
function bashQuoted(s: string, lang: string): string | null {
  const r = spawnSync('bash', ['-c', 'printf %q "$1"', 'q', s], {
    env: { LANG: lang, LC_ALL: lang },
    encoding: 'utf8',
  });
  if (r.status !== 0) return null;
  return r.stdout.startsWith("$'") ? r.stdout.slice(2, -1) : r.stdout;
}

/** The characters of base64(prefix + secret + suffix) that no prefix or suffix changes, at offset k mod 3. */
export function stableBase64(secret: Buffer, k: number): string {
  const encode = (pre: Buffer, post: Buffer) => Buffer.concat([pre, secret, post]).toString('base64');
  const pre = (b: number) => Buffer.alloc(k + 3, b);
  const base = encode(pre(0), Buffer.alloc(3, 0));
  const fixed = [...base].map(() => true);
  for (const [a, b] of [
    [0xff, 0xff],
    [0x55, 0xaa],
    [0xaa, 0x55],
    [0x0f, 0xf0],
  ] as const) {
    const other = encode(pre(a), Buffer.alloc(3, b));
    for (let i = 0; i < base.length; i++) if (other[i] !== base[i]) fixed[i] = false;
  }
  // The longest run of characters the secret alone decides.
  let best = '';
  let run = '';
  for (let i = 0; i < base.length; i++) {
    run = fixed[i] ? run + base[i]! : '';
    if (run.length > best.length) best = run;
  }
  return best;
}

const known = new Map<string, { form: string; how: string }[]>();

/** Every spelling the test looks for, with where it comes from. */
export function oracleForms(secret: string): { form: string; how: string }[] {
  if (!known.has(secret)) known.set(secret, formsOf(secret));
  return known.get(secret)!;
}

function formsOf(secret: string): { form: string; how: string }[] {
  const out: { form: string; how: string }[] = [];
  const add = (how: string, form: string | null) => {
    if (form && !out.some((o) => o.form === form)) out.push({ form, how });
  };
  add('plain', secret);
  add('NFD', secret.normalize('NFD'));
  add('JSON', JSON.stringify(secret).slice(1, -1));
  add(
    'JSON, ASCII only',
    JSON.stringify(secret)
      .slice(1, -1)
      .replace(/[^ -~]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
  add('HOCON as written', between(setHocon(new HoconDoc(''), ['a'], { k: secret }).text, '"', '"'));
  add('.properties as written', between(setProperties(null, { k: secret }), 'k=', '\n'));
  add('shell "…" as written', between(setShellVars(null, { K: secret }), 'K="', '"\n'));
  const word = quoteWord(secret);
  add("shell '…'", word.startsWith("'") ? word.slice(1, -1) : word);
  add('bash printf %q (UTF-8)', bashQuoted(secret, 'C.UTF-8'));
  add('bash printf %q (C)', bashQuoted(secret, 'C'));
  add('percent-encoded', encodeURIComponent(secret));
  add('form-encoded', new URLSearchParams({ v: secret }).toString().slice(2));
  const bytes = Buffer.from(secret, 'utf8');
  add('base64', bytes.toString('base64'));
  for (const k of [0, 1, 2]) {
    const run = stableBase64(bytes, k);
    // Fewer than 4 characters of base64 are in any base64 text: the redactor does not claim them.
    if (run.length >= 4) add(`base64 inside a stream at offset ${k}`, run);
  }
  if (/[\x80-\xff]/.test(secret) && [...secret].every((c) => c.charCodeAt(0) <= 0xff))
    add(
      'Latin-1 shown as \\xNN',
      secret.replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`),
    );
  return out;
}

/** Where a short form stands as a value: a line of its own, after = or :, or between like quotes. */
function shortForm(text: string, form: string): boolean {
  const f = form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alone = form.trim() !== '' && new RegExp(`^[ \\t]*${f}[ \\t]*$`, 'm').test(text);
  return (
    alone ||
    new RegExp(`[=:][ \\t]*["'\`]?${f}(?:$|[\\s"'\`,;)}\\]])`, 'm').test(text) ||
    new RegExp(`(["'\`])${f}\\1`).test(text)
  );
}

export interface Scan {
  outputs: number;
  forms: number;
  checks: number;
  leaks: string[];
}

export const newScan = (): Scan => ({ outputs: 0, forms: 0, checks: 0, leaks: [] });

/**
 * Looks for every form of every secret in one output: a form of 4 characters or more anywhere, a
 * shorter one where it stands as a value. Records what leaked, with the form and the output's name.
 */
export function scanOutput(scan: Scan, name: string, text: string, secrets: readonly string[]): void {
  scan.outputs++;
  // Screen rows are cut at the terminal's width: a form cut in two is looked for in the rows joined too.
  const joined = text
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .replace(/[ \t]*\n[ \t]*/g, '');
  for (const secret of secrets) {
    for (const { form, how } of oracleForms(secret)) {
      scan.forms++;
      const texts =
        form.length >= 4
          ? [
              ['', text],
              [' (rows joined)', joined],
            ]
          : [['', text]];
      for (const [where, t] of texts as [string, string][]) {
        scan.checks++;
        const found = form.length >= 4 ? t.includes(form) : shortForm(t, form);
        if (found) {
          const at = form.length >= 4 ? t.indexOf(form) : 0;
          scan.leaks.push(
            `${name}${where}: ${how} of ${JSON.stringify(secret)} (${JSON.stringify(form)}) near ${JSON.stringify(t.slice(Math.max(0, at - 60), at + 60))}`,
          );
        }
      }
    }
  }
}
