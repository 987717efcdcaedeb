import type { Change } from '../../contract/change.js';
import { HostError, type Host } from '../../transport/host.js';
import { aptChange, type AptLog } from './apt-run.js';
import { shScript } from '../../transport/shell-quote.js';
import { NEEDRESTART_LIST_ONLY } from './needrestart.js';

/*
 * Installing a Debian package on a user's server may pull in others and, through Breaks or
 * Conflicts, remove some (ufw declares Breaks: iptables-persistent). The plan therefore asks apt
 * what it would do (`apt-get install -s`) and lists every package installed and removed; a plan
 * that removes anything is refused unless the inventory allows it, and the install itself runs
 * with --no-remove so that apt can never remove behind the plan's back.
 */

export interface AptSimulation {
  /** Packages apt would install or upgrade, with the version it would install. */
  install: { name: string; version: string }[];
  /** Packages apt would remove. */
  remove: string[];
  /** Packages apt does not know (lists not refreshed, or no source has them). */
  unknown: string[];
}

/** Pure: reads `apt-get install -s` output ("Inst x (1.0 …)", "Remv y [2.0]", "E: Unable to locate package z"). */
export function parseAptSimulation(text: string): AptSimulation {
  const sim: AptSimulation = { install: [], remove: [], unknown: [] };
  for (const line of text.split('\n')) {
    const inst = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/.exec(line);
    if (inst) sim.install.push({ name: inst[1]!, version: inst[2]! });
    const remv = /^Remv (\S+)/.exec(line);
    if (remv) sim.remove.push(remv[1]!);
    const unknown = /^E: (?:Unable to locate package |Package '?)([^\s']+)/.exec(line);
    if (unknown && !sim.unknown.includes(unknown[1]!)) sim.unknown.push(unknown[1]!);
  }
  return sim;
}

/** How apt installs; the simulation asks with the same flags, so the plan lists what the install does. */
export interface InstallFlags {
  /** The inventory allows removing packages (jitsi_allow_package_removal). */
  allowRemoval: boolean;
  /** Install the packages' Recommends too (apt's default); off: only what they depend on. */
  recommends?: boolean;
  /** A pinned version may be older than the one installed. */
  allowDowngrades?: boolean;
}

export interface InstallOptions extends InstallFlags {
  /** Why the packages are needed, for the plan's line. */
  why: string;
  /** debconf answers given on stdin before the install, so that nothing asks. */
  preseed?: string;
}

/** Pure: the plan's sentence for a simulated install. */
export function describeInstall(names: readonly string[], sim: AptSimulation, why: string): string {
  // names may pin a version (name=version); apt's lines name the package alone
  const bare = names.map((n) => n.replace(/=.*$/, ''));
  const main = sim.install.filter((p) => bare.includes(p.name));
  const extra = sim.install.filter((p) => !bare.includes(p.name));
  const listed = (ps: { name: string; version: string }[]) => ps.map((p) => `${p.name} ${p.version}`).join(', ');
  let s = `install ${main.length ? listed(main) : names.join(', ')}${why ? ` ${why}` : ''}`;
  if (extra.length) s += `; with ${listed(extra)}`;
  if (sim.remove.length) s += `; REMOVES ${sim.remove.join(', ')}`;
  else s += '; removes nothing';
  return s;
}

const SIMULATE = `
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt-get install -s "$@" 2>&1
echo "@@rc $?"`;

/**
 * apt-get install's flags. The simulation leaves out --no-remove: it must see the removals an
 * install would need, to list them and refuse them.
 */
function installFlags(f: InstallFlags, simulation = false): string[] {
  return [
    '-q',
    ...(f.recommends ? [] : ['--no-install-recommends']),
    ...(f.allowDowngrades ? ['--allow-downgrades'] : []),
    // apt may never remove a package the user did not ask to remove (Breaks/Conflicts).
    ...(f.allowRemoval || simulation ? [] : ['--no-remove']),
  ];
}

/**
 * The argv that installs the packages (never removing any unless allowed), with needrestart told to
 * list only (see needrestart.ts).
 */
export function installArgv(names: readonly string[], f: InstallFlags): string[] {
  return [
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    NEEDRESTART_LIST_ONLY,
    'apt-get',
    'install',
    '-y',
    ...installFlags(f),
    '-o',
    'Dpkg::Options::=--force-confold',
    ...names,
  ];
}

/**
 * The changes that install `names` (none when all are installed), with what apt would install and
 * remove in the plan. Throws, naming the host and the variable that allows it, when apt would
 * remove a package.
 */
export async function planInstallPackages(
  host: Host,
  names: readonly string[],
  opts: InstallOptions,
): Promise<Change[]> {
  const r = await host.exec(shScript(SIMULATE, ...installFlags(opts, true), ...names), { readOnly: true });
  const sim = parseAptSimulation(r.stdout);
  if (sim.install.length === 0 && sim.unknown.length === 0 && /@@rc 0/.test(r.stdout)) return [];
  if (sim.remove.length && !opts.allowRemoval) {
    throw new HostError(
      host.name,
      `installing ${names.join(', ')} would remove ${sim.remove.join(', ')}; jitsi-scale never removes a package unless asked: set jitsi_allow_package_removal: true for ${host.name} to allow it`,
    );
  }
  const changes: Change[] = [];
  const log: AptLog = [];
  if (opts.preseed) {
    changes.push(
      aptChange(
        `preseed debconf for ${names.join(', ')}, so that the install asks nothing`,
        ['debconf-set-selections'],
        log,
        { stdin: opts.preseed },
      ),
    );
  }
  if (sim.unknown.length) {
    // apt cannot say what it would do before its lists know the package: refresh them first; the
    // install still never removes anything (--no-remove) unless allowed.
    const removes = opts.allowRemoval ? '' : '; removes nothing';
    changes.push(aptChange('refresh the package lists (apt-get update)', ['apt-get', 'update', '-q'], log));
    changes.push(
      aptChange(
        `install ${names.join(', ')} ${opts.why}; apt does not know ${sim.unknown.join(', ')} yet, so the list of what comes with it is shown when it runs${removes}`,
        installArgv(names, opts),
        log,
        { what: `installing ${names.join(', ')}` },
      ),
    );
    return changes;
  }
  if (!/@@rc 0/.test(r.stdout)) {
    const why =
      r.stdout
        .split('\n')
        .filter((l) => /^E: /.test(l))
        .join(' ') || 'apt-get -s failed';
    throw new HostError(host.name, `cannot plan installing ${names.join(', ')}: ${why}`);
  }
  changes.push(
    aptChange(describeInstall(names, sim, opts.why), installArgv(names, opts), log, {
      what: `installing ${names.join(', ')}`,
    }),
  );
  return changes;
}
