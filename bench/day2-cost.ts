import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { INVENTORY_FILE, LAB_DIR, PROJECT_ROOT } from '../test/lab/setup/lab-config.js';
import { labDown, labUp } from '../test/lab/setup/lab.js';

/*
 * `npm run bench:day2 -- --bridges N [--looks L]`: what status and doctor cost on a set-up lab
 * shard: wall time of one run (median of 5), commands sent per host (JITSI_SCALE_TRACE), and for
 * `status --watch` the commands per host of the first look and of each later one.
 */

const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli.js');
const TRACE = join(LAB_DIR, 'day2-trace.ndjson');

function jitsiScale(
  args: string[],
  env: Record<string, string> = {},
  untilLines = 0,
): Promise<{ ms: number; out: string; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args, '-i', INVENTORY_FILE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (untilLines && out.split('\n').filter((l) => l.startsWith('{')).length >= untilLines) child.kill('SIGINT');
    });
    child.on('exit', (code) => resolve({ ms: performance.now() - t0, out, code }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function commandsPerHost(): Promise<Record<string, number>> {
  const lines = (await readFile(TRACE, 'utf8')).trim().split('\n').filter(Boolean);
  const by: Record<string, number> = {};
  for (const l of lines) {
    const host = (JSON.parse(l) as { host: string }).host;
    by[host] = (by[host] ?? 0) + 1;
  }
  return by;
}

async function timed(args: string[]): Promise<{ medianMs: number; commands: Record<string, number> }> {
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await jitsiScale(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}:\n${r.out.slice(-2000)}`);
    ms.push(r.ms);
  }
  await rm(TRACE, { force: true });
  await jitsiScale(args, { JITSI_SCALE_TRACE: TRACE });
  return { medianMs: Math.round(median(ms)), commands: await commandsPerHost() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { bridges: { type: 'string' }, looks: { type: 'string' } } });
  const bridges = Number(values.bridges ?? 3);
  const looks = Number(values.looks ?? 10);
  await labDown();
  await labUp({ bridges, era: 'current' });
  const setup = await jitsiScale(['--yes', '--plain']);
  if (setup.code !== 0) throw new Error(`setup failed:\n${setup.out.slice(-2000)}`);
  const status = await timed(['status']);
  const doctor = await timed(['doctor']);
  await rm(TRACE, { force: true });
  const watch = await jitsiScale(['status', '--watch', '1', '--json'], { JITSI_SCALE_TRACE: TRACE }, looks);
  const watched = await commandsPerHost();
  const later = Object.fromEntries(
    Object.entries(watched).map(([h, n]) => [h, (n - status.commands[h]!) / (looks - 1)]),
  );
  const result = {
    date: new Date().toISOString(),
    bridges,
    status: { medianMs: status.medianMs, commandsPerHost: status.commands },
    doctor: { medianMs: doctor.medianMs, commandsPerHost: doctor.commands },
    watch: { looks, wallMs: Math.round(watch.ms), laterLookCommandsPerHost: later },
  };
  await writeFile(
    join(PROJECT_ROOT, 'bench', 'results', `day2-bridges-${bridges}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await labDown();
}

await main();
