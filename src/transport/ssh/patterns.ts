/** OpenSSH's glob: `*` any run of characters, `?` one character, everything else literal. */
export function wildcardMatch(pattern: string, text: string, ignoreCase = true): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'i' : '').test(text);
}

/**
 * A pattern list as ssh_config `Host` lines and known_hosts entries have them: some pattern
 * matches, and no negated one (`!pattern`) does.
 */
export function matchesPatternList(patterns: readonly string[], text: string, ignoreCase = true): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1), text, ignoreCase)) return false;
    } else if (wildcardMatch(p, text, ignoreCase)) hit = true;
  }
  return hit;
}
