import type { EventSink } from './events.js';
import type { OpenerPrompts } from './open-host.js';
import type { RunOptions } from './stages/run-state.js';

/** What a front end adds to a run: where events go, and the questions when it asks them. */
export type FrontEnd = { sink: EventSink; prompts?: OpenerPrompts } & Pick<RunOptions, 'decide' | 'ready'>;
