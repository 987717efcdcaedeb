import { render } from 'ink';
import type { RunResult } from '../../engine/run-playbook.js';
import { EXIT } from '../../engine/exit-codes.js';
import type { FrontEnd } from '../../engine/front-end.js';
import type { OpenerPrompts } from '../../engine/open-host.js';
import { App } from '../components/App.js';
import { ThemeContext, themeFor } from '../theme.js';
import { GuidedSession } from './guided-session.js';

export interface GuidedOptions {
  inventoryPath: string;
  rerun: string;
  showDiffs: boolean;
  /** Ask before beginning and before each step (false under --yes and --check). */
  ask: boolean;
  abort: AbortController;
  run: (frontEnd: FrontEnd) => Promise<RunResult>;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** The run on the full terminal screen; returns the exit code once the end screen is drawn. */
export async function runGuided(o: GuidedOptions): Promise<number> {
  let unmount = (): void => undefined;
  const session = new GuidedSession({
    abort: () => o.abort.abort(),
    hardExit: () => {
      unmount();
      process.exit(EXIT.interrupted);
    },
  });
  // Ctrl-C arrives as a key while the screen reads keys; a signal from elsewhere means the same.
  const onSigint = () => session.interrupt();
  process.on('SIGINT', onSigint);
  const ink = render(
    <ThemeContext.Provider value={themeFor(process.env)}>
      <App session={session} inventoryPath={o.inventoryPath} rerun={o.rerun} showDiffs={o.showDiffs} />
    </ThemeContext.Provider>,
    { exitOnCtrlC: false, ...(o.stdin ? { stdin: o.stdin } : {}), ...(o.stdout ? { stdout: o.stdout } : {}) },
  );
  unmount = () => ink.unmount();
  try {
    // Under --yes and --check nothing is asked, as without a terminal: unknown keys are refused
    // (unless --accept-new-host-keys) and passwords come from the environment.
    const prompts: OpenerPrompts = {
      trustHostKey: session.trustHostKey,
      passphrase: ({ host, keyFile }) =>
        session.secret(`Passphrase for the private key ${keyFile} (to reach ${host}):`),
      becomePassword: ({ host, user }) =>
        session.secret(
          `sudo on ${host} asks ${user} for a password. Type it once; it is used on every host that asks, and never shown:`,
        ),
    };
    const result = await o.run({
      sink: session.sink,
      ...(o.ask ? { prompts, decide: session.decide, ready: session.ready } : {}),
    });
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
    // Let the end screen reach the terminal before the app lets go of it.
    await new Promise((r) => setTimeout(r, 60));
    ink.unmount();
    await ink.waitUntilExit();
  }
}
