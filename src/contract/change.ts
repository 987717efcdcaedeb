import type { Host, OutputStream } from '../transport/host.js';

/*
 * The contract between the engine and the code that decides what to change (modules and
 * playbooks). It lives apart from the engine so that a module can build a change without knowing
 * who runs it.
 */

/** What a change may do while it runs: report output lines (shown live, redacted). */
export interface ApplyIO {
  output: (stream: OutputStream, line: string) => void;
}

/**
 * One thing a step will do on one host, decided at plan time. Ansible's module contract: a
 * description, a diff where it is a file, and nothing done until apply.
 */
export interface Change {
  description: string;
  /** Unified diff for file changes. */
  diff?: string;
  /** Handlers (by name) to run once on this host, in the handler stage after the last change step. */
  notify?: string[];
  /**
   * Changes of a step run phase by phase (default 0): every host finishes a phase before any
   * host starts the next.
   */
  phase?: number;
  apply(host: Host, io: ApplyIO): Promise<ChangeResult | void>;
}

export interface ChangeResult {
  /** Where the previous content went, for file writes. */
  backup?: string | null;
  /** What the user should know about what the change did (e.g. what needrestart listed), shown with it. */
  notes?: string[];
}

/** What a step will do on one host. */
export interface HostPlan {
  changes: Change[];
  /** Set when the step does not apply to this host, with the reason shown to the user. */
  skip?: string;
  /** Facts the user should see about this step on this host (e.g. which case was found). */
  notes?: string[];
}
