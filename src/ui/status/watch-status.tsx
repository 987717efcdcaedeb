import { render, useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import { StatusScreen } from '../components/StatusScreen.js';
import { useSpinner } from '../hooks/use-spinner.js';
import { useTerminalSize } from '../hooks/use-terminal-size.js';
import { ThemeContext, themeFor } from '../theme.js';
import type { StatusView } from './status-view.js';

export interface WatchOptions {
  look: () => Promise<StatusView>;
  seconds: number;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** Looks now, then `seconds` after each look ends; `r` looks at once. Looks never overlap. */
export function WatchApp(p: { look: () => Promise<StatusView>; seconds: number; done: (code: number) => void }) {
  const { exit } = useApp();
  const { look, seconds } = p;
  const { rows } = useTerminalSize();
  const [view, setView] = useState<StatusView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [looking, setLooking] = useState(false);
  const [showDrift, setShowDrift] = useState(false);
  const spinner = useSpinner(looking);
  const busy = useRef(false);
  const timer = useRef<NodeJS.Timeout | null>(null);
  const last = useRef(0);
  // Once quit (or unmounted), a look still under way schedules no other.
  const alive = useRef(true);
  const lookNow = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    if (timer.current) clearTimeout(timer.current);
    setLooking(true);
    try {
      const v = await look();
      last.current = v.exitCode;
      setView(v);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      busy.current = false;
      setLooking(false);
      if (alive.current) timer.current = setTimeout(() => void lookNow(), seconds * 1000);
    }
  }, [look, seconds]);
  useEffect(() => {
    void lookNow();
    return () => {
      alive.current = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [lookNow]);
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c') || key.escape) {
      alive.current = false;
      if (timer.current) clearTimeout(timer.current);
      p.done(last.current);
      exit();
    } else if (input === 'd') setShowDrift((s) => !s);
    else if (input === 'r') void lookNow();
  });
  return (
    <StatusScreen
      view={view}
      error={error}
      showDrift={showDrift}
      looking={looking}
      spinner={spinner}
      seconds={p.seconds}
      rows={rows}
    />
  );
}

/** The live status screen until q; returns the last look's exit code. */
export async function watchStatus(o: WatchOptions): Promise<number> {
  let code = 0;
  const ink = render(
    <ThemeContext.Provider value={themeFor(process.env)}>
      <WatchApp look={o.look} seconds={o.seconds} done={(c) => (code = c)} />
    </ThemeContext.Provider>,
    { exitOnCtrlC: false, ...(o.stdin ? { stdin: o.stdin } : {}), ...(o.stdout ? { stdout: o.stdout } : {}) },
  );
  await ink.waitUntilExit();
  return code;
}
