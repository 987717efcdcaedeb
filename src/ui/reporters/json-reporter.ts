import type { EventSink } from '../../engine/events.js';

/** NDJSON: one event per line with a timestamp, for machines (events are already redacted). */
export function jsonReporter(write: (line: string) => void): EventSink {
  return (e) => write(JSON.stringify({ time: new Date().toISOString(), ...e }));
}
