import { HostError, whyFailed, type Host } from '../../transport/host.js';
import { shScript } from '../../transport/shell-quote.js';

// One line per path, in the order given: "F" and the content in base64 (byte for byte, whatever
// it holds), or "M" for a missing file. One base64 process per file and no subshells: on a busy
// host every process counts.
const READ_MANY = `
for p in "$@"; do
  if [ -f "$p" ]; then printf 'F '; base64 -w0 < "$p"; echo; else echo M; fi
done
echo END`;

/** Reads several files in one round trip; a missing file maps to null. */
export async function readFiles(host: Host, paths: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (paths.length === 0) return out;
  const r = await host.exec(shScript(READ_MANY, ...paths));
  if (r.code !== 0 || !r.stdout.endsWith('END\n')) throw new HostError(host.name, `cannot read ${paths.join(', ')}: ${whyFailed(r)}`);
  const lines = r.stdout.split('\n');
  paths.forEach((path, i) => {
    const [kind, body] = (lines[i] ?? '').split(' ');
    if (kind !== 'F' && kind !== 'M') throw new HostError(host.name, `cannot read ${path}: unexpected answer from the host`);
    out.set(path, kind === 'F' ? Buffer.from(body ?? '', 'base64').toString('utf8') : null);
  });
  return out;
}
