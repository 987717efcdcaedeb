import { execFile, spawn } from 'node:child_process';

/**
 * Whether a TCP connection from `fromNs` (bound to `localAddress`) to host:port is accepted,
 * tried for real with a short timeout. Runs node inside the namespace.
 */
export function canConnect(
  fromNs: string,
  localAddress: string,
  host: string,
  port: number,
  timeoutMs = 700,
): Promise<boolean> {
  const script =
    `const s=require('net').connect({host:${JSON.stringify(host)},port:${port},localAddress:${JSON.stringify(localAddress)}});` +
    `s.setTimeout(${timeoutMs},()=>{process.stdout.write('no');process.exit(0)});` +
    `s.on('connect',()=>{process.stdout.write('yes');process.exit(0)});s.on('error',()=>{process.stdout.write('no');process.exit(0)});`;
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', fromNs, process.execPath, '-e', script], (err, stdout) =>
      err ? reject(new Error(err.message)) : resolve(stdout === 'yes'),
    );
  });
}

/**
 * Knocks on host:port from a namespace every 50 ms until stopped, for watching a port through a
 * whole run: when each knock was let in and when one was not (ms since the start; a knock that
 * gets no answer within `timeoutMs` counts as not let in).
 */
export function knockUntilStopped(
  fromNs: string,
  localAddress: string,
  host: string,
  port: number,
  timeoutMs = 300,
): { stop: () => Promise<{ open: number[]; closed: number[] }> } {
  const script = `
const net = require('net'); const t0 = Date.now();
function once() {
  const s = net.connect({ host: ${JSON.stringify(host)}, port: ${port}, localAddress: ${JSON.stringify(localAddress)} });
  let said = false;
  const say = (w) => { if (!said) { said = true; process.stdout.write(w + ' ' + (Date.now() - t0) + '\\n'); } s.destroy(); setTimeout(once, 50); };
  s.setTimeout(${timeoutMs}, () => say('closed'));
  s.on('connect', () => say('open'));
  s.on('error', () => say('closed'));
}
once();`;
  const child = spawn('ip', ['netns', 'exec', fromNs, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const times = (w: string) => [...out.matchAll(new RegExp(`^${w} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  return {
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      return { open: times('open'), closed: times('closed') };
    },
  };
}
