/**
 * Probe scripts answer several questions in one round trip, each answer after a marker line
 * "@@name" (or "@@name:argument", e.g. a file path). This splits such output back into its
 * sections (lines, blank ones dropped). Probes escape content lines that start with "@@".
 */
export function splitSections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = /^@@([\w-]+(?::.+)?)$/.exec(line);
    if (m) {
      current = [];
      out.set(m[1]!, current);
    } else if (current && line !== '') {
      current.push(line);
    }
  }
  return out;
}
