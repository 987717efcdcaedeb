/** One look at the shard as the live screen shows it: lines made by the command, nothing to compute. */
export interface StatusView {
  /** The shard, the meet host and the bridge table. */
  table: string[];
  /** The problems, or the all-well line. */
  problems: string[];
  /** Every drifted change with its diff. */
  drift: string[];
  exitCode: number;
  /** When the look was taken (HH:MM:SS). */
  at: string;
}
