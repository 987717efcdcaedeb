import type { Host } from '../transport/host.js';
import type { ApplyIO } from './change.js';

/** Something run once per host after the changes that notified it (a restart, a reload). */
export interface Handler {
  description: string;
  run(host: Host, io: ApplyIO): Promise<void>;
}
