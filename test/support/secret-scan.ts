import assert from 'node:assert/strict';
import { newScan, oracleForms, scanOutput } from './secret-oracle.js';
import type { SecretPair } from './secret-playbook.js';

/** Lengths 1, 2, 3 and 8; quotes, backslashes, $, %, spaces and non-ASCII. */
export const SECRETS = ['Z', '$%', 'a"\\', "Kx7'q$9%", 'pass word ünï', `Bäck\\sl@sh"Qu'ote $HOME %41 ✓`];

/** Each secret is the old one once and the new one once. */
export const PAIRS: SecretPair[] = SECRETS.map((s, i) => ({ old: s, new: SECRETS[(i + 1) % SECRETS.length]! }));

export const label = (p: SecretPair) => `${JSON.stringify(p.old)} → ${JSON.stringify(p.new)}`;

/** A test file's scan of its outputs: each output asserted free of both secrets, and a count for the figures. */
export function secretScanner(): {
  noLeak: (name: string, text: string, pair: SecretPair) => void;
  summary: () => string;
} {
  const scan = newScan();
  const kinds = new Set<string>();
  return {
    noLeak: (name, text, pair) => {
      kinds.add(name);
      const before = scan.leaks.length;
      scanOutput(scan, name, text, [pair.old, pair.new]);
      assert.deepEqual(scan.leaks.slice(before), [], `${name} shows a secret`);
    },
    summary: () => {
      const forms = new Set(SECRETS.flatMap((s) => oracleForms(s).map((f) => `${s}\u0000${f.form}`)));
      return (
        `secret scan: ${scan.outputs} outputs of ${kinds.size} kinds (${[...kinds].join('; ')}), ` +
        `${SECRETS.length} secrets in ${forms.size} forms, ${scan.checks} searches, ${scan.leaks.length} leaks`
      );
    },
  };
}
