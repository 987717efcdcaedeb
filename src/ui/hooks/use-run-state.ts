import { useSyncExternalStore } from 'react';
import type { GuidedSession } from '../guided/guided-session.js';
import type { RunState } from '../guided/run-state.js';

/** The session's state; the component re-renders on every change. */
export function useRunState(session: GuidedSession): RunState {
  return useSyncExternalStore(session.subscribe, session.getState, session.getState);
}
