import type { HostSpec, Inventory } from '../inventory/types.js';
import type { Host, OutputStream } from '../transport/host.js';
import type { BaseFacts } from './base-facts.js';
import type { Redactor } from './redactor.js';

/** Per-host outcome of a step, and of the whole run (the worst of its steps). */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

/** What a change may do while it runs: report output lines (shown live, redacted). */
export interface ApplyIO {
  output(stream: OutputStream, line: string): void;
}

/**
 * One thing a step will do on one host, decided at plan time. Ansible's module contract: a
 * description, a diff where it is a file, and nothing done until apply.
 */
export interface Change {
  description: string;
  /** Unified diff for file changes. */
  diff?: string;
  /** Handlers to fire once on this host, in the restart step after the last change step. */
  notify?: string[];
  /** Set on the restart step's changes: the handler it runs (not a change of its own). */
  handler?: string;
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
}

export interface HostPlan {
  changes: Change[];
  /** Set when the step does not apply to this host, with the reason shown to the user. */
  skip?: string;
  /** Facts the user should see about this step on this host (e.g. which case was found). */
  notes?: string[];
}

export interface StepContext<Shared> {
  /** check: the plan is only shown; steps that prove an outcome skip themselves. */
  mode: 'apply' | 'check';
  host: Host;
  spec: HostSpec;
  facts: BaseFacts;
  inventory: Inventory;
  /** What the playbook's discovery stage found, for every step. */
  shared: Shared;
  secrets: Redactor;
}

export interface Step<Shared> {
  id: string;
  title: string;
  /** Why the step exists, in a sentence or two, shown before it is applied. */
  why: string;
  /** Roles the step runs on. */
  roles: ReadonlyArray<HostSpec['role']>;
  /** 'check' steps change nothing and prove an outcome; their notes are the run's verification. */
  kind?: 'change' | 'check';
  /** Reads the host and returns what would change; never writes. */
  plan(ctx: StepContext<Shared>): Promise<HostPlan>;
}

export interface Handler {
  description: string;
  run(host: Host, io: ApplyIO): Promise<void>;
}

export interface DiscoveryContext {
  inventory: Inventory;
  hosts: ReadonlyMap<string, { host: Host; spec: HostSpec; facts: BaseFacts }>;
  secrets: Redactor;
}

/** One thing discovery found, in a sentence; `host` when it is about one host. */
export interface Finding {
  host?: string;
  text: string;
  /** Something the user should look at before going on. */
  warn?: boolean;
}

export interface Playbook<Shared> {
  name: string;
  /** Reads what every step needs (domain, secret, …); throws PlaybookRefusal when it cannot go on. */
  discover(ctx: DiscoveryContext): Promise<Shared>;
  /** What discovery found, for the user (never a secret). */
  describe?(shared: Shared): Finding[];
  steps: Step<Shared>[];
  handlers: Record<string, Handler>;
  /**
   * Files the run will read on a host, read with its facts in one round trip. Steps read them
   * again for free until a command or a write on that host (or a wait for the user) could have
   * changed them.
   */
  prefetch?(spec: HostSpec): readonly string[];
}

/** The playbook cannot run against these hosts; the message says why and what to do. */
export class PlaybookRefusal extends Error {
  constructor(
    readonly host: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'PlaybookRefusal';
  }
}
