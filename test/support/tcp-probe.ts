import { execFile } from 'node:child_process';

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
