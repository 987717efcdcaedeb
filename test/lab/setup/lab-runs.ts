import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../../src/engine/events.js';
import { CLIENT_KEY, DOMAIN, KNOWN_HOSTS, REPO_DIR, type LabHost, type LabState } from './lab-config.js';
import { inHost } from './run.js';

/* How the lab tests run jitsi-scale as a user would, and read what a run did. */

const CLI = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  events: RunEvent[];
}

/** Runs jitsi-scale as a user would; with `json`, the NDJSON events too. */
export function jitsiScale(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
      (_err, stdout, stderr) => {
        const events = args.includes('--json')
          ? stdout
              .trim()
              .split('\n')
              .filter((l) => l.startsWith('{"')) // one event per line; a read-only command's document spans lines
              .map((l) => JSON.parse(l) as RunEvent)
          : [];
        resolve({ code: child.exitCode ?? -1, stdout: stdout + stderr, events });
      },
    );
    child.stdin?.end();
  });
}

/** The lab inventory with only some bridges, and extra variables per host. */
export function inventory(lab: LabState, bridges: string[], extra: Record<string, string> = {}, allVars = ''): string {
  const addr = (n: string) => lab.hosts.find((h) => h.name === n)!.address;
  const hostLine = (n: string) => `        ${n}: { ansible_host: ${addr(n)}${extra[n] ? `, ${extra[n]}` : ''} }`;
  return [
    'all:',
    '  vars:',
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: ${CLIENT_KEY}`,
    `    ansible_ssh_common_args: "-o UserKnownHostsFile=${KNOWN_HOSTS}"`,
    `    jitsi_domain: ${DOMAIN}`,
    `    jitsi_apt_source: "deb [trusted=yes] file:${REPO_DIR} ./"`,
    '    jitsi_apt_key_url: ""',
    ...(allVars ? [allVars] : []),
    '  children:',
    '    meet:',
    '      hosts:',
    hostLine('meet'),
    '    jvb:',
    '      hosts:',
    ...bridges.map(hostLine),
    '',
  ].join('\n');
}

/** What a run did: its changes and its restarts (which --check lists in the restart step). */
export const changed = (r: Run) =>
  r.events
    .filter(
      (e): e is Extract<RunEvent, { type: 'task:changed' | 'handler:run' }> =>
        e.type === 'task:changed' || e.type === 'handler:run',
    )
    .map((e) => `${e.host} ${e.step}: ${e.description}`)
    .sort();
export const planned = (r: Run) =>
  r.events
    .filter((e): e is Extract<RunEvent, { type: 'step:planned' }> => e.type === 'step:planned')
    .flatMap((e) => e.changes.map((c) => `${e.host} ${e.step}: ${c.description}`))
    .sort();

/** Each host's answer lines to a script (one path per line), as "host:path". */
export async function pathsOnHosts(hosts: readonly LabHost[], script: string, args: string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const h of hosts) {
    const r = await inHost(h.sshdPid, script, args);
    out.push(
      ...r.stdout
        .split('\n')
        .filter(Boolean)
        .map((f) => `${h.name}:${f}`),
    );
  }
  return out;
}

/** Files under the trees the tool writes, changed since the marker was set, on every host. */
export function touchedSince(lab: LabState, marker: string): Promise<string[]> {
  return pathsOnHosts(
    lab.hosts,
    'find /etc /usr/share/jitsi-videobridge /var/backups -newer "$1" -type f 2>/dev/null; exit 0',
    [marker],
  );
}

export async function mark(lab: LabState, name: string): Promise<string> {
  const path = `/run/${name}`;
  for (const h of lab.hosts) await inHost(h.sshdPid, 'touch "$1"', [path]);
  await new Promise((r) => setTimeout(r, 1100)); // mtimes have one-second resolution on some filesystems
  return path;
}
