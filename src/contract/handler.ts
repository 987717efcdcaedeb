import type { Host } from '../transport/host.js';
import type { ApplyIO } from './change.js';

/** Something run once per host after the changes that notified it (a restart, a reload). */
export interface Handler {
  description: string;
  run(host: Host, io: ApplyIO): Promise<void>;
  /**
   * Throws (a HostError saying what is wrong) unless what run() did has taken effect: the service
   * listens where its config says, its process started after its config was written. Until it
   * passes, the host keeps the handler's pending mark and the next run does it again.
   */
  confirm?(host: Host, io: ApplyIO): Promise<void>;
}
