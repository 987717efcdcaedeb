import type { Decision, EventSink } from '../../engine/events.js';
import { initialState, reduce, type Question, type RunState } from './run-state.js';

export type Answer = Decision | 'go' | { trust: boolean } | { secret: string | null };

/**
 * Between the engine and the screen: the engine's events and questions come in, the user's answers
 * go out. Holds the screen state; components only read it.
 */
export class GuidedSession {
  private state: RunState = initialState();
  private readonly listeners = new Set<() => void>();
  private pending: ((answer: Answer) => void) | undefined;
  /** Questions come one at a time: hosts connecting in parallel may each have one. */
  private queue: Promise<unknown> = Promise.resolve();
  private interrupts = 0;

  constructor(private readonly hooks: { abort: () => void; hardExit: () => void }) {}

  readonly getState = (): RunState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private dispatch(action: Parameters<typeof reduce>[1]): void {
    this.state = reduce(this.state, action);
    for (const l of this.listeners) l();
  }

  readonly sink: EventSink = (event) => this.dispatch(event);

  private ask(question: Question): Promise<Answer> {
    const turn = this.queue.then(
      () =>
        new Promise<Answer>((resolve) => {
          if (this.state.interrupted) return resolve('quit');
          this.pending = resolve;
          this.dispatch({ type: 'ui:ask', question });
        }),
    );
    this.queue = turn;
    return turn;
  }

  /** For the connection: trust a host key not yet known? */
  readonly trustHostKey = async (q: {
    host: string;
    address: string;
    keyType: string;
    fingerprint: string;
  }): Promise<boolean> => {
    const a = await this.ask({ kind: 'host-key', ...q });
    return typeof a === 'object' && 'trust' in a && a.trust;
  };

  /** For the connection: a passphrase or password, typed hidden; null when the user declines. */
  readonly secret = async (prompt: string): Promise<string | null> => {
    const a = await this.ask({ kind: 'secret', prompt });
    return typeof a === 'object' && 'secret' in a ? a.secret : null;
  };

  /** For the engine: asked once discovery is done. */
  readonly ready = async (): Promise<'go' | 'quit'> => ((await this.ask({ kind: 'start' })) === 'quit' ? 'quit' : 'go');

  /** For the engine: asked before a step with changes. */
  readonly decide = async (step: { id: string }): Promise<Decision> => {
    const a = await this.ask({ kind: 'step', step: step.id });
    return a === 'skip' || a === 'quit' ? a : 'apply';
  };

  /** The user's answer to the question on screen; ignored when none is. */
  answer(answer: Answer): void {
    const resolve = this.pending;
    if (!resolve) return;
    this.pending = undefined;
    this.dispatch({ type: 'ui:answered' });
    resolve(answer);
  }

  /**
   * Ctrl-C. The first lets the change under way finish (or not start) and stops the run with its
   * summary; the second quits at once.
   */
  interrupt(): void {
    this.interrupts++;
    if (this.interrupts > 1) {
      this.hooks.hardExit();
      return;
    }
    this.dispatch({ type: 'ui:interrupted' });
    this.hooks.abort();
    this.answer('quit');
  }
}
