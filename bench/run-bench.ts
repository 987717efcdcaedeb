import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { INVENTORY_FILE, LAB_DIR, PROJECT_ROOT, type LabState } from '../test/lab/setup/lab-config.js';
import { breweryMembers } from '../test/lab/setup/lab-probes.js';
import { labDown, labUp } from '../test/lab/setup/lab.js';
import { run } from '../test/lab/setup/run.js';
import {
  TOOL_NAMES,
  renderReport,
  stats,
  type BenchResult,
  type CpuSeconds,
  type RunRecord,
  type Tool,
} from './bench-report.js';

/*
 * `npm run bench -- --bridges N`: jitsi-scale against the same job as an Ansible playbook
 * (bench/ansible), plain and with Mitogen, on a fresh lab for every measured run. Tools alternate
 * run by run; each run is a fresh setup, then the same command again (the no-change rerun).
 */

const USAGE = `Usage: npm run bench -- --bridges N [--runs R] [--peer-runs P] [--tools jitsi-scale,ansible,mitogen] | --report-only

  --bridges N     bridge hosts in the lab (the meet host comes on top)
  --runs R        measured runs per tool (default 5); the tools alternate run by run
  --peer-runs P   runs of each Ansible way, when fewer than R (they take longest): the first P
                  rounds have all tools, the later ones jitsi-scale only
  --tools LIST    which tools to run (default: all three)
  --report-only   run nothing: rewrite BENCHMARKS.md from the stored results (after editing
                  bench/analysis.md)

Results go to bench/results/bridges-N.json; BENCHMARKS.md is rewritten from every results file.
Needs root, and Debian's ansible-core, ansible-mitogen and time packages (see the README).`;

const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');
const ANSIBLE_DIR = join(PROJECT_ROOT, 'bench', 'ansible');
const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli.js');
const BENCH_INVENTORY = join(LAB_DIR, 'bench-inventory.yaml');
const MITOGEN_STRATEGY = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy';
const CONTROL_DIR = '/tmp/jitsi-scale-bench-cp';

const METHOD = [
  'Each measured run starts from a fresh lab (`npm run lab -- up --bridges N --c2s-loopback --init systemd`: a meet host with Prosody listening on loopback only, N fresh bridge hosts, each a network namespace with its own sshd and systemd, all on this one machine). The tool then sets up the shard (**fresh setup**) and is run again at once (**no-change rerun**). The three tools alternate run by run (jitsi-scale, Ansible, Ansible + Mitogen, jitsi-scale, …).',
  '',
  "The job is the same for all: c2s on all interfaces in prosody.cfg.lua (validated, Prosody restarted), TCP 5222 on the meet host open to the bridges only and UDP 10000 on each bridge (nftables, kept at boot), the package source, the debconf answers and the meet host's videobridge version installed from the lab repository, the shard settings in each jvb.conf, the per-start nickname line in jvb.sh, and the restarts. The inventory is the lab's, with `jitsi_nickname_policy: per-start` added; Ansible reads the same file.",
  '',
  'jitsi-scale runs `jitsi-scale -i inventory --yes --plain`. Its time includes discovery (domain, secret and brewery read from the meet host) and its verification step, which waits until every bridge is in the brewery; the Ansible playbook (`bench/ansible/site.yml`) reads the same facts from the meet host but does not wait for the bridges. After every run the bench checks, through Prosody, that all bridges are in the brewery; a run that fails this or exits non-zero is left out of the statistics and listed below.',
  '',
  "Ansible is Debian's ansible-core with `forks` above the host count, no fact gathering, a fixed interpreter, pipelining and SSH ControlPersist (`bench/ansible/ansible.cfg`); the Mitogen runs add Debian's ansible-mitogen with `ANSIBLE_STRATEGY=mitogen_linear`. Ansible's debconf module cannot compare passwords, so its rerun reports the secret's task as changed on every bridge (nothing is restarted for it). Peak RSS is the maximum resident size of the jitsi-scale process (`/usr/bin/time`). `--help` is the median of 20 runs. Where an Ansible way has fewer runs than jitsi-scale (`--peer-runs`, for time at the largest N), the n in its cell says so.",
].join('\n');

interface Measured {
  seconds: number;
  code: number;
  output: string;
  peakRssKiB?: number;
  cpu?: CpuSeconds;
}

/** CPU time the whole machine spent busy so far (all cores, every process: tool and hosts alike). */
async function machineBusySeconds(): Promise<number> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ is 100 on Linux
}

/** Runs a command, timing it from spawn to exit; output is kept for checks and failures. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ seconds, code: code ?? 1, output: Buffer.concat(out).toString('utf8') });
    });
  });
}

/**
 * Runs one tool under /usr/bin/time (peak RSS; user and system CPU of the tool and the children
 * it waited for) and reads the machine's busy time around it.
 */
async function runTool(tool: Tool): Promise<Measured> {
  const timeFile = join(LAB_DIR, 'bench-time');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
  };
  if (tool === 'mitogen')
    Object.assign(env, { ANSIBLE_STRATEGY_PLUGINS: MITOGEN_STRATEGY, ANSIBLE_STRATEGY: 'mitogen_linear' });
  const argv =
    tool === 'jitsi-scale'
      ? [process.execPath, CLI, '-i', BENCH_INVENTORY, '--yes', '--plain']
      : ['ansible-playbook', '-i', BENCH_INVENTORY, join(ANSIBLE_DIR, 'site.yml')];
  const busy0 = await machineBusySeconds();
  const m = await timed('/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, ...argv], env);
  const machine = (await machineBusySeconds()) - busy0;
  const [rss, user, sys] = (await readFile(timeFile, 'utf8').catch(() => ''))
    .trim()
    .split('\n')
    .pop()!
    .split(' ')
    .map(Number);
  const own = (user ?? NaN) + (sys ?? NaN);
  return {
    ...m,
    ...(tool === 'jitsi-scale' && rss && rss > 0 ? { peakRssKiB: rss } : {}),
    ...(Number.isFinite(own) ? { cpu: { own, machine } } : {}),
  };
}

/** What a run changed, from its own summary: jitsi-scale's "changed N" or Ansible's recap. */
function changesReported(tool: Tool, output: string): number {
  const re = tool === 'jitsi-scale' ? /^\s+\S+\s+\S+\s+changed (\d+)$/gm : /\bchanged=(\d+)/g;
  let total = 0;
  for (const m of output.matchAll(re)) total += Number(m[1]);
  return total;
}

async function waitForBrewery(lab: LabState, expected: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let members: string[] = [];
  while (Date.now() - t0 < timeoutMs) {
    members = await breweryMembers(lab);
    if (members.length >= expected) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return members.length;
}

/** Ansible's persistent SSH masters would outlive a lab; each fresh lab starts without them. */
async function dropControlMasters(): Promise<void> {
  await run('pkill', ['-f', CONTROL_DIR], { allowFail: true });
  await rm(CONTROL_DIR, { recursive: true, force: true });
}

async function measuredRun(tool: Tool, round: number, bridges: number, log: (l: string) => void): Promise<RunRecord> {
  await labDown();
  await dropControlMasters();
  // systemd hosts, as real servers are: what loads the firewall at boot is real for both tools
  const lab = await labUp({ bridges, era: 'current', c2sLoopback: true, init: 'systemd' });
  const inventory = await readFile(INVENTORY_FILE, 'utf8');
  await writeFile(
    BENCH_INVENTORY,
    inventory.replace(
      /^(\s+)jitsi_domain: .*$/m,
      (line, indent: string) => `${line}\n${indent}jitsi_nickname_policy: per-start`,
    ),
  );
  const notes: string[] = [];
  const fresh = await runTool(tool);
  const inBrewery = fresh.code === 0 ? await waitForBrewery(lab, bridges + 1, 60_000) : 0;
  const rerun = await runTool(tool);
  const rerunChanges = changesReported(tool, rerun.output);
  let ok = fresh.code === 0 && rerun.code === 0 && inBrewery >= bridges + 1;
  if (fresh.code !== 0)
    notes.push(`fresh run exit ${fresh.code}: ${fresh.output.trim().split('\n').slice(-3).join(' / ')}`);
  if (rerun.code !== 0)
    notes.push(`rerun exit ${rerun.code}: ${rerun.output.trim().split('\n').slice(-3).join(' / ')}`);
  if (inBrewery < bridges + 1) notes.push(`${inBrewery} of ${bridges + 1} bridges in the brewery`);
  notes.push(`rerun reported ${rerunChanges} changed`);
  if (tool === 'jitsi-scale' && rerunChanges !== 0) ok = false;
  const rss = Math.max(fresh.peakRssKiB ?? 0, rerun.peakRssKiB ?? 0);
  log(
    `${TOOL_NAMES[tool].padEnd(22)} round ${round}: fresh ${fresh.seconds.toFixed(2)} s, rerun ${rerun.seconds.toFixed(2)} s${rss ? `, peak RSS ${(rss / 1024).toFixed(0)} MB` : ''}${ok ? '' : `  LEFT OUT: ${notes.join('; ')}`}`,
  );
  return {
    tool,
    round,
    freshSeconds: fresh.seconds,
    rerunSeconds: rerun.seconds,
    ...(rss ? { peakRssKiB: rss } : {}),
    ...(fresh.cpu ? { freshCpu: fresh.cpu } : {}),
    ...(rerun.cpu ? { rerunCpu: rerun.cpu } : {}),
    ok,
    notes,
  };
}

async function helpMilliseconds(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) times.push((await timed(process.execPath, [CLI, '--help'])).seconds * 1000);
  return stats(times)!.median;
}

async function machine(): Promise<string[]> {
  const cpu = cpus();
  const version = async (cmd: string, args: string[]) =>
    (await run(cmd, args, { allowFail: true }).catch(() => ({ stdout: 'not installed' }))).stdout.trim().split('\n')[0];
  const os = (await readFile('/etc/os-release', 'utf8')).match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? 'unknown';
  const pkg = async (name: string) =>
    (await run('dpkg-query', ['-W', '-f', '${Version}', name], { allowFail: true })).stdout || 'not installed';
  return [
    `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; ${os}, kernel ${await version('uname', ['-r'])}`,
    `Node.js ${process.version}; ${await version('ansible-playbook', ['--version'])}; ansible-mitogen ${await pkg('ansible-mitogen')}; OpenSSH ${await pkg('openssh-server')}`,
    'All hosts (meet, bridges) are network namespaces on this one machine and share its cores with the tool under test.',
  ];
}

/** BENCHMARKS.md from every stored result, with the hand-written analysis after it. */
async function writeReport(): Promise<void> {
  const all: BenchResult[] = [];
  for (const f of (await readdir(RESULTS_DIR)).filter((f) => /^bridges-\d+\.json$/.test(f)))
    all.push(JSON.parse(await readFile(join(RESULTS_DIR, f), 'utf8')) as BenchResult);
  const analysis = await readFile(join(PROJECT_ROOT, 'bench', 'analysis.md'), 'utf8').catch(() => '');
  await writeFile(join(PROJECT_ROOT, 'BENCHMARKS.md'), renderReport(all, METHOD) + (analysis ? `\n${analysis}` : ''));
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bridges: { type: 'string' },
      runs: { type: 'string' },
      'peer-runs': { type: 'string' },
      tools: { type: 'string' },
      'report-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values['report-only']) {
    await writeReport();
    process.stdout.write('bench: wrote BENCHMARKS.md from bench/results\n');
    return 0;
  }
  if (values.help || values.bridges === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 1;
  }
  const bridges = Number(values.bridges);
  const runs = Number(values.runs ?? 5);
  const peerRuns = Number(values['peer-runs'] ?? runs);
  const tools = (values.tools ?? 'jitsi-scale,ansible,mitogen').split(',') as Tool[];
  if (!Number.isInteger(bridges) || bridges < 1)
    throw new Error(`--bridges takes a whole number from 1, not "${values.bridges}"`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number from 1, not "${values.runs}"`);
  if (!Number.isInteger(peerRuns) || peerRuns < 1 || peerRuns > runs)
    throw new Error(`--peer-runs takes a whole number from 1 to --runs, not "${values['peer-runs']}"`);
  for (const t of tools)
    if (!(t in TOOL_NAMES)) throw new Error(`--tools: unknown tool "${t}" (jitsi-scale, ansible, mitogen)`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  if (
    tools.some((t) => t !== 'jitsi-scale') &&
    (await run('sh', ['-c', 'command -v ansible-playbook'], { allowFail: true })).code !== 0
  ) {
    throw new Error('ansible-playbook is not installed: apt-get install ansible-core ansible-mitogen');
  }
  if (tools.includes('mitogen') && !existsSync(MITOGEN_STRATEGY))
    throw new Error('ansible-mitogen is not installed: apt-get install ansible-mitogen');
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');

  const log = (l: string) => process.stdout.write(`bench: ${l}\n`);
  const times = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  log(
    `${bridges} bridge${bridges === 1 ? '' : 's'}; ${tools.join(', ')}; ${times(runs)} each${peerRuns < runs ? ` (${times(peerRuns)} of each Ansible way)` : ''}; a fresh lab per run`,
  );
  const result: BenchResult = {
    bridges,
    when: new Date().toISOString(),
    machine: await machine(),
    runs: [],
    helpMs: await helpMilliseconds(),
  };
  log(`jitsi-scale --help: ${result.helpMs!.toFixed(0)} ms (median of 20)`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `bridges-${bridges}.json`);
  try {
    for (let round = 1; round <= runs; round++) {
      for (const tool of tools) {
        if (tool !== 'jitsi-scale' && round > peerRuns) continue;
        result.runs.push(await measuredRun(tool, round, bridges, log));
        await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      }
    }
  } finally {
    await labDown();
    await dropControlMasters();
  }
  await writeReport();
  log(`wrote ${file} and BENCHMARKS.md`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
