import { Static, useInput, useStdin } from 'ink';
import { useRef, useState } from 'react';
import type { GuidedSession } from '../guided/guided-session.js';
import type { Line } from '../guided/lines.js';
import { diffLines, pagerLines, settledLines, startLines, stepLines } from '../guided/screens.js';
import { useRunState } from '../hooks/use-run-state.js';
import { useSpinner } from '../hooks/use-spinner.js';
import { useTerminalSize } from '../hooks/use-terminal-size.js';
import { LineView } from './LineView.js';

export interface AppProps {
  session: GuidedSession;
  inventoryPath: string;
  /** The command line that runs this again, for the end screen's advice. */
  rerun: string;
  showDiffs: boolean;
}

/**
 * The guided run. Finished output (the start screen once begun, each step once done, the end
 * screen) goes to <Static> and is never redrawn; the live area below is cut to the terminal's
 * height, so redrawing it never scrolls or flickers.
 */
// eslint-disable-next-line max-lines-per-function -- the Ink root: state, keys and layout of one screen
export function App({ session, inventoryPath, rerun, showDiffs }: AppProps) {
  const state = useRunState(session);
  const { columns, rows } = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  // The pager's offset lives in a ref as well as in state: keys typed faster than a render (a
  // paste, a held arrow) must see the latest value, not the one of the last render.
  const [pager, setPagerState] = useState<number | null>(null);
  const pagerRef = useRef<number | null>(null);
  const setPager = (v: number | null) => {
    pagerRef.current = v;
    setPagerState(v);
  };
  const width = Math.max(20, columns);
  // One row stays free: a live area as tall as the terminal would make Ink redraw the screen.
  const height = Math.max(6, rows - 1);
  const question = state.question;
  const step = state.current;
  // Ready before the pager opens, so a key right after "d" already scrolls the right text.
  const diffs = step && (pager !== null || question?.kind === 'step') ? diffLines(step, width) : [];
  const pageRoom = height - 2;
  const maxOffset = Math.max(0, diffs.length - pageRoom);
  const typed$ = useRef('');
  const latest = useRef({ maxOffset, pageRoom });
  latest.current = { maxOffset, pageRoom };

  let live: Line[];
  if (state.done || !state.runId) live = [];
  else if (pager !== null && step) live = pagerLines(step, diffs, Math.min(pager, maxOffset), height);
  else if (step)
    live = stepLines(step, {
      width,
      height,
      mode: state.mode,
      total: state.steps.length,
      asking: question?.kind === 'step' && question.step === step.id,
      interrupted: state.interrupted,
      showDiffs,
    });
  else live = startLines(state, { width, height, inventoryPath, asking: question?.kind === 'start' });
  const frame = useSpinner(live.some((l) => l.some((s) => s.spinner)));

  useInput(
    // eslint-disable-next-line complexity -- the key map: one arm per key and question
    (input, key) => {
      if (key.ctrl && input === 'c') {
        setPager(null);
        session.interrupt();
        return;
      }
      const { maxOffset, pageRoom } = latest.current;
      const pager = pagerRef.current;
      const question = session.getState().question;
      if (pager !== null) {
        const at = Math.min(pager, maxOffset);
        const to = (n: number) => setPager(Math.max(0, Math.min(maxOffset, n)));
        if (key.escape || input === 'd' || input === 'q') setPager(null);
        else if (key.upArrow || input === 'k') to(at - 1);
        else if (key.downArrow || input === 'j' || key.return) to(at + 1);
        else if (key.pageUp || input === 'b') to(at - pageRoom);
        else if (key.pageDown || input === ' ' || input === 'f') to(at + pageRoom);
        else if (key.home || input === 'g') to(0);
        else if (key.end || input === 'G') to(maxOffset);
        return;
      }
      if (!question) return;
      if (question.kind === 'secret') {
        // Kept in a ref, never in what is drawn.
        if (key.return) {
          const typed = typed$.current;
          typed$.current = '';
          session.answer({ secret: typed });
        } else if (key.escape) {
          typed$.current = '';
          session.answer({ secret: null });
        } else if (key.backspace || key.delete) typed$.current = typed$.current.slice(0, -1);
        else if (input && !key.ctrl && !key.meta) typed$.current += input;
        return;
      }
      if (question.kind === 'host-key') {
        if (input === 'y') session.answer({ trust: true });
        else if (input === 'n' || key.escape) session.answer({ trust: false });
        return;
      }
      const yes = key.return || input === 'y';
      if (question.kind === 'start') {
        if (yes) session.answer('go');
        else if (input === 'q') session.answer('quit');
        return;
      }
      if (yes) session.answer('apply');
      else if (input === 's') session.answer('skip');
      else if (input === 'q') session.answer('quit');
      else if (input === 'd') setPager(0);
    },
    { isActive: isRawModeSupported },
  );

  return (
    <>
      <Static items={state.settled}>
        {(item) => (
          <LineView key={item.key} lines={settledLines(item, state, { width, inventoryPath, showDiffs, rerun })} />
        )}
      </Static>
      <LineView lines={live} frame={frame} />
    </>
  );
}
