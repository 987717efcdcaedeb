import { HostError, type Host } from '../../src/transport/host.js';
import { LocalHost } from '../../src/transport/local-host.js';
import { connectSsh, type TestTarget } from './ssh-connect.js';

/*
 * Runs one host operation in a process of its own and prints its peak memory, so that a test can
 * measure what the operation costs without the test runner's own heap in the figure.
 * argv: a JSON { target?: TestTarget, become?: boolean, op: 'flood' | 'read', path?: string }.
 */

interface Job {
  target?: TestTarget;
  become?: boolean;
  op: 'flood' | 'read';
  path?: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const become = { enabled: !!job.become, user: 'root' };
const host: Host = job.target
  ? await connectSsh(job.target, become, '/tmp/js-rss-backups')
  : new LocalHost('jvb1', become, '/tmp/js-rss-backups');
const base = process.resourceUsage().maxRSS;
let error = '';
try {
  if (job.op === 'flood') await host.exec(['yes', 'flood'], { readOnly: true, what: 'yes' });
  else await host.readFile(job.path!);
} catch (e) {
  error = e instanceof HostError ? e.message : `unexpected: ${String(e)}`;
}
await host.close();
const peak = process.resourceUsage().maxRSS;
process.stdout.write(`${JSON.stringify({ baseMiB: base / 1024, peakMiB: peak / 1024, error })}\n`);
