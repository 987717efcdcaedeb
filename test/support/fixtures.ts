import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

/** A fixture from test/fixtures (tests run from dist/, fixtures stay in the source tree). */
export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)), 'utf8');
}

/** Applying an edit a second time changes nothing: every module's contract. */
export function assertIdempotent(edit: (text: string) => string, input: string): string {
  const once = edit(input);
  const twice = edit(once);
  assert.equal(twice, once, 'a second application changed the text again');
  return once;
}
