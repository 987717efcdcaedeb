import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** A ProxyCommand's pipes as the connection's socket, and why it ended when it failed. */
export interface ProxySocket {
  stream: Duplex;
  /** A sentence when the command could not start or exited with an error; null while it runs well. */
  failure(): string | null;
  /** Settles when the command has ended (or could not start). */
  ended: Promise<void>;
}

/**
 * Starts the command as ssh does (through the shell, `exec`ed) and speaks SSH over its stdin and
 * stdout. Its stderr is kept: the last line says why it failed.
 */
export function proxySocket(command: string): ProxySocket {
  const child = spawn(process.env.SHELL || '/bin/sh', ['-c', `exec ${command}`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let failure: string | null = null;
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-2000);
  });
  const lastLine = () =>
    stderr
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop();
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  child.on('error', (e) => {
    failure = `proxy command "${command}" could not start: ${e.message}`;
    end();
  });
  child.on('close', (code, signal) => {
    end();
    if (code === 0) return;
    const why = lastLine();
    failure = `proxy command "${command}" ${code === null ? `was killed by ${signal}` : `exited with code ${code}`}${why ? `: ${why}` : ''}`;
  });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  // Closing the connection ends the command.
  stream.on('close', () => child.kill());
  stream.on('error', () => undefined);
  return { stream, failure: () => failure, ended };
}
