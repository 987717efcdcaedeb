/**
 * POSIX shell quoting. Remote hosts run whatever /bin/sh they have (often dash), so bash-only
 * forms such as $'…' are never used: every word is single-quoted, with embedded quotes closed,
 * escaped and reopened.
 */
export function quoteWord(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one command line a POSIX shell splits back into exactly these words. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('quoteArgv: empty command');
  return argv.map(quoteWord).join(' ');
}

/** argv that runs a POSIX script with positional parameters; values never enter the script text. */
export function shScript(script: string, ...args: string[]): string[] {
  return ['sh', '-c', script, 'jitsi-scale', ...args];
}
