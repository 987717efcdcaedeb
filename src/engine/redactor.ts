import { MASK, SECRET_NAME, maskSecretValues } from './mask-secret-values.js';
import { secretForms } from './secret-forms.js';

/**
 * Secrets (the bridges' XMPP password, old ones found in a config, a sudo password) are registered
 * here the moment they are read, and every event passes through `redact` before any front end sees
 * it: output lines, diffs, error messages and JSON records alike; so do the status and doctor
 * documents. It is the one place every output passes, so it is where masking lives: a diff a
 * playbook builds by hand, a command echoing a config, an error quoting a line are all masked
 * without their authors having to remember.
 *
 * Two masks, one over the other:
 * - every form of every registered secret (plain, JSON/HOCON, .properties, shell-quoted,
 *   percent-encoded, base64 at each alignment: secret-forms.ts);
 * - the value of every setting whose name is secret, whatever the value (mask-secret-values.ts):
 *   this covers secrets nobody registered, and short ones in the configs they live in.
 *
 * Short forms: a form of fewer than SHORT characters is masked only where it stands as a value (the
 * whole text or line, right after `=` or `:`, or alone between quotes), never inside words: a
 * one-letter secret masked everywhere would leave nothing readable.
 */
export const REDACTED = MASK;

/** Forms this long or longer are masked wherever they occur. */
export const SHORT = 4;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a short form stands as a value: the whole line, after `=`/`:`, or between like quotes. */
function valuePositions(forms: readonly string[]): RegExp[] {
  const alt = forms.map(escapeRegExp).join('|');
  const blankFree = forms.filter((f) => f.trim() !== '').map(escapeRegExp);
  return [
    ...(blankFree.length ? [new RegExp(`^([ \\t]*)(?:${blankFree.join('|')})(?=[ \\t]*$)`, 'gm')] : []),
    new RegExp(`([=:][ \\t]*["'\`]?)(?:${alt})(?=$|[\\s"'\`,;)}\\]])`, 'gm'),
    new RegExp(`(["'\`])(?:${alt})(?=\\1)`, 'g'),
  ];
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private anywhere: RegExp | null = null;
  private positions: RegExp[] = [];

  /** Registers a value as secret, with every form it can take; a secret of any length counts. */
  add(value: string | undefined | null): void {
    if (!value || this.secrets.has(value)) return;
    this.secrets.add(value);
    this.compile();
  }

  private compile(): void {
    const forms = [...new Set([...this.secrets].flatMap(secretForms))].sort((a, b) => b.length - a.length);
    // Longest first, so a secret containing another is masked whole.
    const long = forms.filter((f) => f.length >= SHORT);
    const short = forms.filter((f) => f.length < SHORT);
    this.anywhere = long.length ? new RegExp(long.map(escapeRegExp).join('|'), 'g') : null;
    this.positions = short.length ? valuePositions(short) : [];
  }

  redactText(text: string): string {
    let out = this.anywhere ? text.replace(this.anywhere, MASK) : text;
    for (const re of this.positions) out = out.replace(re, (_, head: string) => `${head}${MASK}`);
    return maskSecretValues(out);
  }

  /** A deep copy with every string masked, and the value of every field whose name is secret. */
  redact<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.redactText(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, this.walk(x)]));
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        out[k] =
          SECRET_NAME.test(k) && (typeof x === 'string' || typeof x === 'number') && x !== '' ? MASK : this.walk(x);
      return out;
    }
    return v;
  }
}
