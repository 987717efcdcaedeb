import { existsSync } from 'node:fs';
import { run } from '../lab/setup/run.js';

/**
 * Installs the Debian packages a test or the lab needs on this machine when the command they
 * provide is missing, so that a fresh Debian machine needs nothing set up by hand. `needed` maps a
 * file the package provides to the package's name.
 */
export async function ensureDebianPackages(
  needed: Readonly<Record<string, string>>,
  log: (s: string) => void = () => undefined,
): Promise<void> {
  const missing = [
    ...new Set(
      Object.entries(needed)
        .filter(([path]) => !existsSync(path))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`${missing.join(', ')} must be installed (as root: apt-get install ${missing.join(' ')})`);
  log(`installing ${missing.join(', ')} (Debian packages)`);
  await run('apt-get', ['update', '-q']);
  await run('env', [
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    'install',
    '-y',
    '-q',
    '--no-install-recommends',
    ...missing,
  ]);
}
