import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OpenHost } from '../../src/engine/open-host.js';
import type { ExecOptions, ExecResult } from '../../src/transport/host.js';
import type { RunLimits } from '../../src/transport/shell-host.js';
import { LocalHost } from '../../src/transport/local-host.js';

/**
 * The directories of a Jitsi host a run reads and writes; a rooted host keeps them below a test
 * directory, so the real playbook runs against fixture files on this machine.
 */
export const ROOTED = [
  '/etc/jitsi/',
  '/etc/prosody/',
  '/var/lib/prosody/',
  '/var/cache/debconf/',
  '/usr/share/jitsi-videobridge/',
  '/usr/share/jitsi/',
  '/usr/local/share/ca-certificates/',
  '/etc/apt/sources.list.d/jitsi-scale.list',
];

/**
 * This machine, with the Jitsi directories moved below `root`: every command line is rewritten
 * (the paths appear in it as whole quoted words or inside them), and its output rewritten back.
 * The root's name holds a '-', which base64 never does, so file contents are never touched.
 */
export class RootedLocalHost extends LocalHost {
  constructor(
    name: string,
    private readonly root: string,
    backupDir: string,
  ) {
    super(name, { enabled: false, user: 'root' }, backupDir);
    if (!root.includes('-')) throw new Error('the root of a rooted host needs a "-" in its name');
  }

  protected override async run(commandLine: string, opts: ExecOptions, limits: RunLimits): Promise<ExecResult> {
    let line = commandLine;
    for (const p of ROOTED) line = line.split(p).join(`${this.root}${p}`);
    const r = await super.run(line, opts, limits);
    const back = (s: string) => s.split(this.root).join('');
    return { ...r, stdout: back(r.stdout), stderr: back(r.stderr) };
  }
}

/** Opens every inventory host as a rooted host below root/<host name>. */
export function rootedOpener(root: string): OpenHost {
  return async (spec) => ({
    host: new RootedLocalHost(spec.name, join(root, spec.name), join(root, 'backups', spec.name)),
    address: spec.address,
  });
}

/** Writes a host's files (absolute paths, as on the host) below its root. */
export async function plant(root: string, host: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const at = join(root, host, path);
    await mkdir(dirname(at), { recursive: true });
    await writeFile(at, text);
  }
}
