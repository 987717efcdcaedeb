/**
 * Secrets (the bridges' XMPP password, a sudo password) are registered here the moment they are
 * read, and every event passes through `redact` before any front end sees it: output lines,
 * diffs, error messages and JSON records alike.
 */
export const REDACTED = '********';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value as secret; values shorter than 4 characters are too ambiguous to mask. */
  add(value: string | undefined | null): void {
    if (value && value.length >= 4) this.secrets.add(value);
  }

  redactText(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
    return out;
  }

  /** A deep copy with every string masked. */
  redact<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    return this.walk(value) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.redactText(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.walk(x);
      return out;
    }
    return v;
  }
}
