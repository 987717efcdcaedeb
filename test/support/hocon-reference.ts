import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './debian-packages.js';

/**
 * The HOCON readers the conformance test holds ours to: Typesafe Config (Debian's
 * libtypesafe-config-java, the library the videobridge reads jvb.conf with) run by a small Java
 * program in single-file source mode, and ruby-hocon (what the Jitsi package scripts use).
 */
const DIR = fileURLToPath(new URL('../../../test/support/hocon-reference/', import.meta.url));
const JAR = '/usr/share/java/typesafe-config.jar';

const TOOLS = {
  [JAR]: 'libtypesafe-config-java',
  '/usr/bin/java': 'default-jre-headless',
  '/usr/bin/hocon': 'ruby-hocon',
  '/usr/bin/ruby': 'ruby',
};

export async function ensureHoconReferences(): Promise<void> {
  if (process.getuid?.() === 0) await ensureDebianPackages(TOOLS);
}

/** Why the HOCON conformance test cannot run here, or null. In CI this is a failure, never a skip. */
export function hoconReferencesUnavailable(): string | null {
  const missing = Object.entries(TOOLS).filter(([p]) => !existsSync(p));
  return missing.length ? `${[...new Set(missing.map(([, pkg]) => pkg))].join(', ')} not installed` : null;
}

/** One file as a reference reader saw it: its leaves as [path, type, concise rendering], or its error. */
export interface ReferenceReading {
  file: string;
  ok: boolean;
  leaves?: [(string | number)[], string, string][];
  error?: string;
  /** Typesafe Config only: each shard block as the bridge turns it into its settings (keys upper-cased). */
  bridge?: Record<string, Record<string, string>> | null;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8', maxBuffer: 256 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout)),
    );
  });
}

function byFile(stdout: string): Map<string, ReferenceReading> {
  const out = new Map<string, ReferenceReading>();
  for (const line of stdout.split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as ReferenceReading;
    out.set(r.file, r);
  }
  return out;
}

/** Typesafe Config's reading of each file (parseFile as .conf, then resolve), with this environment. */
export async function readWithTypesafe(files: string[], env: Record<string, string>) {
  return byFile(await run('java', ['-cp', JAR, `${DIR}ReadHocon.java`, ...files], env));
}

/** ruby-hocon's reading of each file (parse_file, then resolve), with this environment. */
export async function readWithRubyHocon(files: string[], env: Record<string, string>) {
  return byFile(await run('ruby', [`${DIR}read-hocon.rb`, ...files], env));
}
