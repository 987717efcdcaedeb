import { HostError, whyFailed, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';

// Each file as one base64 line, so that contents come back byte for byte whatever they hold.
const READ_MANY = `
for p in "$@"; do
  if [ -f "$p" ]; then printf 'F %s ' "$(printf %s "$p" | base64 -w0)"; base64 -w0 < "$p"; printf '\\n'
  else printf 'M %s\\n' "$(printf %s "$p" | base64 -w0)"; fi
done
echo END`;

/** Reads several files in one round trip; a missing file maps to null. */
export async function readFiles(host: Host, paths: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (paths.length === 0) return out;
  const r = await host.exec(shScript(READ_MANY, ...paths));
  if (r.code !== 0 || !r.stdout.endsWith('END\n')) throw new HostError(host.name, `cannot read ${paths.join(', ')}: ${whyFailed(r)}`);
  for (const line of r.stdout.split('\n')) {
    const [kind, name, body] = line.split(' ');
    if ((kind !== 'F' && kind !== 'M') || !name) continue;
    out.set(Buffer.from(name, 'base64').toString('utf8'), kind === 'F' ? Buffer.from(body ?? '', 'base64').toString('utf8') : null);
  }
  return out;
}
