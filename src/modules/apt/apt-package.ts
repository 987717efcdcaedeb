import type { Change } from '../../contract/change.js';
import { controlCharacter } from '../../inventory/known-variables.js';
import { HostError, whyFailed, type Host } from '../../transport/host.js';
import { commandChange } from '../command-change.js';
import { shScript } from '../../transport/shell-quote.js';
import { fileChange } from '../file/edit-file.js';
import { splitSections } from '../probe-sections.js';
import { installArgv, planInstallPackages, type InstallFlags } from './install-packages.js';
import { aptChange, type AptLog } from './apt-run.js';

/** A debconf answer given before install, so the package asks nothing. */
export interface Preseed {
  question: string;
  type: 'string' | 'password' | 'boolean' | 'select';
  value: string;
}

export interface AptPackage {
  name: string;
  /** Exact version to install; default: the candidate. */
  version?: string;
  /** apt source: file under /etc/apt/sources.list.d and its one line. */
  source?: { file: string; line: string };
  /** Signing key: downloaded once into `keyring` when missing. */
  key?: { url: string; keyring: string };
  preseed?: Preseed[];
}

export interface AptProbe {
  /** Installed version, or null. */
  installed: string | null;
  /** Candidate version apt would install now, or null when apt does not know the package. */
  candidate: string | null;
  /** Versions apt knows of. */
  available: string[];
  keyringPresent: boolean;
}

/** Pure: reads `dpkg-query` and `apt-cache policy` output. */
export function parseAptProbe(text: string): AptProbe {
  const s = splitSections(text);
  const status = (s.get('status') ?? [])[0] ?? '';
  const m = /^install ok installed (\S+)$/.exec(status.trim());
  const policy = s.get('policy') ?? [];
  const cand = policy.map((l) => /^\s*Candidate:\s*(\S+)/.exec(l)?.[1]).find(Boolean);
  const available = policy
    .map((l) => /^\s*(?:\*\*\*\s+)?(\d\S*)\s+\d+\s*$/.exec(l)?.[1])
    .filter((v): v is string => !!v);
  return {
    installed: m ? m[1]! : null,
    candidate: cand && cand !== '(none)' ? cand : null,
    available,
    keyringPresent: (s.get('keyring') ?? [])[0] === 'yes',
  };
}

const PROBE = `
echo '@@status'; dpkg-query -W -f '\${Status} \${Version}\\n' "$1" 2>/dev/null
echo '@@policy'; apt-cache policy "$1" 2>/dev/null
echo '@@keyring'; if [ -n "$2" ] && [ -s "$2" ]; then echo yes; fi
echo '@@end'`;

const FETCH_KEY = `
set -e
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.gpg"' EXIT
if command -v curl >/dev/null 2>&1; then curl -fsSL --connect-timeout 20 --max-time 60 "$1" -o "$tmp"; else wget -q -T 20 -t 3 -O "$tmp" "$1"; fi
if grep -q 'BEGIN PGP' "$tmp"; then gpg --batch --yes --dearmor -o "$tmp.gpg" "$tmp"; else cp "$tmp" "$tmp.gpg"; fi
mkdir -p "$(dirname "$2")"
chmod 0644 "$tmp.gpg"
mv -f "$tmp.gpg" "$2"`;

function run(description: string, argv: string[], stdin?: string): Change {
  return commandChange(description, argv, { what: description, ...(stdin !== undefined ? { stdin } : {}) });
}

/** How an AptPackage is installed: with its Recommends (apt's default), to a pinned version even when older. */
function aptPackageInstall(allowRemoval: boolean): InstallFlags {
  return { allowRemoval, recommends: true, allowDowngrades: true };
}

/** What apt-get install is given: the name, pinned to the version when one is wanted. */
function aptTarget(pkg: Pick<AptPackage, 'name' | 'version'>): string {
  return pkg.version ? `${pkg.name}=${pkg.version}` : pkg.name;
}

/** Is the package already there as wanted (at the pinned version, when one is pinned)? */
export function isSatisfied(pkg: Pick<AptPackage, 'version'>, installed: string | null | undefined): boolean {
  return !!installed && (!pkg.version || installed === pkg.version);
}

/**
 * Pure: what installing `pkg` takes on a host in the `probe` state. Nothing at all when the
 * package is installed (at the pinned version, when one is pinned).
 */
export function planAptChanges(
  pkg: AptPackage,
  probe: AptProbe,
  currentSource: string | null,
  allowRemoval = false,
): Change[] {
  if (isSatisfied(pkg, probe.installed)) return [];
  const changes: Change[] = [];
  // What apt and debconf print in this plan's changes, for the reason of a failure.
  const log: AptLog = [];
  let sourcesChanged = false;
  if (pkg.key && !probe.keyringPresent) {
    changes.push(
      run(
        `download the signing key ${pkg.key.url} into ${pkg.key.keyring}`,
        shScript(FETCH_KEY, pkg.key.url, pkg.key.keyring),
      ),
    );
    sourcesChanged = true;
  }
  if (pkg.source) {
    const c = fileChange(
      {
        path: pkg.source.file,
        description: `add the apt source ${pkg.source.file}`,
        transform: () => `${pkg.source!.line}\n`,
      },
      currentSource,
    );
    if (c) {
      changes.push(c);
      sourcesChanged = true;
    }
  }
  if (pkg.preseed?.length) {
    // Answers go on stdin, never on a command line where `ps` would show a password.
    const selections = pkg.preseed.map((p) => `${pkg.name} ${p.question} ${p.type} ${p.value}`).join('\n') + '\n';
    changes.push(
      aptChange(
        `preseed debconf for ${pkg.name}: ${pkg.preseed.map((p) => p.question).join(', ')}`,
        ['debconf-set-selections'],
        log,
        { stdin: selections },
      ),
    );
  }
  const known = pkg.version ? probe.available.includes(pkg.version) : probe.candidate !== null;
  if (sourcesChanged || !known)
    changes.push(aptChange('refresh the package lists (apt-get update)', ['apt-get', 'update', '-q'], log));
  const target = aptTarget(pkg);
  const replacing = probe.installed ? ` (replacing ${probe.installed})` : '';
  // Before the lists know the source, apt cannot say what comes with the package: the plan says so.
  const removes = allowRemoval ? '' : '; removes nothing';
  const what = sourcesChanged || !known ? `; what comes with it is known once the lists are refreshed${removes}` : '';
  const description = `install ${target}${replacing}${what}`;
  changes.push(aptChange(description, installArgv([target], aptPackageInstall(allowRemoval)), log));
  return changes;
}

/**
 * The changes that install `pkg`. When apt already knows the package, the plan's install line is
 * apt's own answer: every package installed with it and every package removed (a removal is
 * refused unless `allowRemoval`).
 */
export async function planAptPackage(
  host: Host,
  pkg: AptPackage,
  opts: { allowRemoval?: boolean } = {},
): Promise<Change[]> {
  // debconf-set-selections reads one answer per line: a line break in a value would add answers of its own.
  const broken = pkg.preseed?.find((p) => controlCharacter(`${p.question}${p.value}`));
  if (broken)
    throw new HostError(
      host.name,
      `the debconf answer for ${broken.question} holds a line break or control character; it is not given to debconf-set-selections`,
    );
  const r = await host.exec(shScript(PROBE, pkg.name, pkg.key?.keyring ?? ''), { readOnly: true });
  if (!r.stdout.includes('@@end'))
    throw new HostError(host.name, `cannot query the package ${pkg.name}: ${whyFailed(r)}`);
  const probe = parseAptProbe(r.stdout);
  if (isSatisfied(pkg, probe.installed)) return []; // spares reading the source file
  const allowRemoval = !!opts.allowRemoval;
  const currentSource = pkg.source ? await host.readFile(pkg.source.file) : null;
  const changes = planAptChanges(pkg, probe, currentSource, allowRemoval);
  const install = changes[changes.length - 1]!;
  if (changes.some((c) => c.description.startsWith('refresh the package lists'))) return changes;
  // apt already knows the package: the install line becomes apt's own answer, asked with the
  // flags the install runs with.
  const [simulated] = await planInstallPackages(host, [aptTarget(pkg)], {
    why: probe.installed ? `(replacing ${probe.installed})` : '',
    ...aptPackageInstall(allowRemoval),
  });
  if (simulated) changes[changes.length - 1] = { ...install, description: simulated.description };
  return changes;
}
