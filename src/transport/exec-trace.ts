/**
 * An optional record of every command a run sends to a host, for profiling: which host, when,
 * how long, and what kind of command. Only the program's name (or a script's first line) is kept,
 * never arguments or input, so no secret reaches the trace.
 */
export interface ExecTraceEntry {
  host: string;
  /** Milliseconds since the trace started. */
  at: number;
  ms: number;
  code: number;
  what: string;
}

let sink: ((e: ExecTraceEntry) => void) | null = null;
let origin = 0;

export function setExecTrace(s: ((e: ExecTraceEntry) => void) | null): void {
  sink = s;
  origin = performance.now();
}

/** What a command is, without its arguments: a script's first line, else the program's name. */
export function commandLabel(argv: readonly string[]): string {
  const i = argv[0] === 'sudo' ? argv.indexOf('--') + 1 : 0;
  const [prog, flag, script] = argv.slice(i);
  if (prog === 'sh' && flag === '-c' && script !== undefined) {
    return `sh: ${
      script
        .split('\n')
        .map((l) => l.trim())
        .find(Boolean)
        ?.slice(0, 60) ?? ''
    }`;
  }
  return prog ?? '';
}

/** Runs one command, recording it when a trace is on. */
export async function traced<T extends { code: number }>(
  host: string,
  argv: readonly string[],
  run: () => Promise<T>,
): Promise<T> {
  if (!sink) return run();
  const start = performance.now();
  let code = -1;
  try {
    const r = await run();
    code = r.code;
    return r;
  } finally {
    sink?.({
      host,
      at: Math.round(start - origin),
      ms: Math.round(performance.now() - start),
      code,
      what: commandLabel(argv),
    });
  }
}
