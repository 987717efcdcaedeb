import { spawn, type ChildProcess } from 'node:child_process';
import { applyPatch } from 'diff';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/engine/events.js';
import { decodeBytes, showEscapes } from '../../src/transport/file-bytes.js';
import type { LabHost, LabState } from '../lab/setup/lab-config.js';
import { pathsOnHosts } from '../lab/setup/lab-runs.js';
import { inHost } from '../lab/setup/run.js';
import { knockUntilStopped } from '../support/tcp-probe.js';

/*
 * What the fault suite needs around the lab: a run whose events are read as they come (so that a
 * fault lands at a chosen moment), the outsider probing the meet host's c2s port all the while,
 * and snapshots of every file the tool may write, byte for byte.
 */

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface LiveRun {
  child: ChildProcess;
  events: RunEvent[];
  /** Resolves with the first event (already seen or to come) that matches. */
  when(match: (e: RunEvent) => boolean): Promise<RunEvent>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
}

/** Starts jitsi-scale with --json, reading its events as they come. */
export function startRun(args: string[], env: Record<string, string> = {}): LiveRun {
  const child = spawn(process.execPath, [CLI, ...args, '--json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: RunEvent[] = [];
  const waiters: { match: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void }[] = [];
  let out = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{"')) continue;
      const e = JSON.parse(line) as RunEvent;
      events.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, out })),
  );
  return {
    child,
    events,
    done,
    when: (match) => {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void done.then(() => reject(new Error('the run ended before the moment came')));
      });
    },
  };
}

/** The outsider tries the meet host's c2s port every 50 ms; stop() says when it got in (ms since start). */
export function probeFromOutsider(lab: LabState, port = 5222): { stop: () => Promise<number[]> } {
  const outsider = lab.hosts.find((h) => h.role === 'outsider')!;
  const meet = lab.hosts.find((h) => h.role === 'meet')!;
  const knocks = knockUntilStopped(outsider.ns, outsider.address, meet.address, port);
  return { stop: async () => (await knocks.stop()).open };
}

/** The trees the tool writes to; every regular file in them, by host and path, as base64. */
const TREES = [
  '/etc/prosody',
  '/etc/jitsi',
  '/etc/nftables.conf',
  '/etc/nftables.d',
  '/etc/apt/sources.list.d',
  '/usr/share/jitsi-videobridge',
];

export type Snapshot = Map<string, string>;

export async function snapshot(lab: LabState): Promise<Snapshot> {
  const shot: Snapshot = new Map();
  for (const h of hostsOf(lab)) {
    const r = await inHost(
      h.sshdPid,
      'find "$@" -type f 2>/dev/null | while read -r f; do printf "%s %s\\n" "$f" "$(base64 -w0 < "$f")"; done; exit 0',
      TREES,
    );
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const i = line.lastIndexOf(' ');
      shot.set(`${h.name}:${line.slice(0, i)}`, line.slice(i + 1));
    }
  }
  return shot;
}

export const hostsOf = (lab: LabState): LabHost[] => lab.hosts.filter((h) => h.role === 'meet' || h.role === 'jvb');

/** Temp files of the tool's atomic writes left anywhere it writes. */
export function leftoverTemps(lab: LabState): Promise<string[]> {
  return pathsOnHosts(
    hostsOf(lab),
    'find /etc /usr/share/jitsi-videobridge -name "*.jitsi-scale.*" 2>/dev/null; exit 0',
  );
}

/** A snapshot's file as the run's diffs show it: odd bytes as \\xNN, secrets masked. */
function shown(b64: string, secrets: readonly string[]): string {
  let text = showEscapes(decodeBytes(Buffer.from(b64, 'base64')));
  for (const s of secrets) text = text.split(s).join('********');
  return text;
}

/**
 * Every file a run planned to write, with what it would have written: "host:path" → the new
 * content as the diffs show it (secrets masked), from the planned diff and the content before
 * the run. Null when the diff's base is not the content before the run (a package's own install
 * wrote the file during the run).
 */
export function plannedWrites(
  events: RunEvent[],
  before: Snapshot,
  secrets: readonly string[],
): Map<string, { old: string | null; next: string } | null> {
  const out = new Map<string, { old: string | null; next: string } | null>();
  for (const e of events) {
    if (e.type !== 'step:planned') continue;
    for (const c of e.changes) {
      if (!c.diff) continue;
      const path = /^\+\+\+ b(\S+)/m.exec(c.diff)?.[1];
      if (!path) continue;
      const key = `${e.host}:${path}`;
      const fromNothing = /^--- \/dev\/null/m.test(c.diff);
      const base = before.get(key);
      const old = base === undefined ? null : shown(base, secrets);
      const next = old === null && !fromNothing ? false : applyPatch(old ?? '', c.diff);
      out.set(key, next === false ? null : { old, next });
    }
  }
  return out;
}

/** Files the run meant to write that are now neither wholly old nor wholly new (a torn write). */
export function tornFiles(
  after: Snapshot,
  planned: Map<string, { old: string | null; next: string } | null>,
  secrets: readonly string[],
): string[] {
  const torn: string[] = [];
  for (const [key, want] of planned) {
    if (want === null) continue;
    const b64 = after.get(key);
    const now = b64 === undefined ? null : shown(b64, secrets);
    if (now === want.old || now === want.next) continue;
    torn.push(key);
  }
  return torn;
}
