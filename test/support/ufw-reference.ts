import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUfwRules, type UfwTuple } from '../../src/modules/firewall/ufw-rules.js';
import { UFW_FILES } from '../../src/modules/firewall/ufw.js';

/*
 * The real ufw, as Debian 12 ships it, to hold the ufw planner to: the package is downloaded and
 * unpacked (never installed, so this machine's firewall and its packages are left alone) and run
 * with its own --rootdir/--datadir on a throwaway copy of /etc/ufw, inactive, so that a rule
 * command changes only its files, in a network namespace of its own (its capability probe runs
 * iptables there, never on this machine).
 */

const ROOT = '/var/cache/jitsi-scale-tests/ufw';
const TREE = join(ROOT, 'tree');
const PYTHON = '/usr/bin/python3';

/**
 * Downloads and unpacks Debian's ufw once (as root). ufw runs iptables by its absolute path
 * (/usr/sbin, ufw/common.py) for its version and capability probes, so a machine without it gets
 * Debian's iptables package: installing it adds no rule (a fresh Debian machine has none).
 */
export function ensureUfwReference(): void {
  if (process.getuid?.() !== 0) return;
  if (!existsSync('/usr/sbin/iptables')) {
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'iptables'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status === 0;
    if (!install()) {
      execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
      install();
    }
  }
  if (existsSync(join(TREE, 'usr/sbin/ufw'))) return;
  mkdirSync(ROOT, { recursive: true });
  const download = () => spawnSync('apt-get', ['download', 'ufw'], { cwd: ROOT, stdio: 'ignore' }).status === 0;
  if (!download()) {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    if (!download()) return;
  }
  const deb = readdirSync(ROOT).find((f) => /^ufw_.*\.deb$/.test(f));
  if (deb) execFileSync('dpkg', ['-x', join(ROOT, deb), TREE]);
}

/** Why real ufw cannot be run here, or null. In CI this is a failure, never a skip. */
export function ufwReferenceUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a network namespace for ufw)';
  if (!existsSync(PYTHON)) return 'python3 is missing';
  if (!existsSync(join(TREE, 'usr/sbin/ufw'))) return "Debian's ufw package could not be downloaded";
  if (!existsSync('/usr/sbin/iptables')) return "Debian's iptables package could not be installed (ufw runs it)";
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return 'unshare -n does not work here';
  return null;
}

/** A fresh, inactive ufw configuration of its own. */
export class UfwSandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'js-ufw-'));

  constructor() {
    const etc = join(this.dir, 'etc');
    mkdirSync(join(etc, 'ufw'), { recursive: true });
    mkdirSync(join(etc, 'default'), { recursive: true });
    mkdirSync(join(this.dir, 'lib', 'ufw'), { recursive: true });
    for (const f of readdirSync(join(TREE, 'usr/share/ufw/iptables')))
      cpSync(join(TREE, 'usr/share/ufw/iptables', f), join(etc, 'ufw', f));
    cpSync(join(TREE, 'usr/share/ufw/ufw.conf'), join(etc, 'ufw', 'ufw.conf'));
    cpSync(join(TREE, 'etc/default/ufw'), join(etc, 'default', 'ufw'));
    cpSync(join(TREE, 'etc/ufw/applications.d'), join(etc, 'ufw', 'applications.d'), { recursive: true });
    for (const f of readdirSync(join(etc, 'ufw'))) if (f.endsWith('.rules')) chmodSync(join(etc, 'ufw', f), 0o640);
    chmodSync(this.dir, 0o755);
  }

  /** One ufw command line (without "ufw"): its exit code and what it said. */
  ufw(args: readonly string[]): { code: number; out: string } {
    const r = spawnSync(
      'unshare',
      ['-n', PYTHON, join(TREE, 'usr/sbin/ufw'), `--rootdir=${TREE}`, `--datadir=${this.dir}`, ...args],
      { env: { PATH: process.env.PATH, PYTHONPATH: join(TREE, 'usr/lib/python3/dist-packages') }, encoding: 'utf8' },
    );
    const out = `${r.stdout}${r.stderr}`
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('WARN: '))
      .join(' | ');
    return { code: r.status ?? 1, out };
  }

  /** The tuples of both rule files, as the planner reads them. */
  rules(): { v4: UfwTuple[]; v6: UfwTuple[] } {
    const file = (p: string) => readFileSync(join(this.dir, p), 'utf8');
    return { v4: parseUfwRules(file(UFW_FILES.v4), false), v6: parseUfwRules(file(UFW_FILES.v6), true) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
