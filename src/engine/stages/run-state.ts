import type { HostSpec, Inventory } from '../../inventory/types.js';
import type { CachedReads } from '../../transport/cached-reads.js';
import type { OutputStream } from '../../transport/host.js';
import type { BaseFacts } from '../base-facts.js';
import type { Decision, RunEvent } from '../events.js';
import type { HostPlan } from '../../contract/change.js';
import type { OpenHost } from '../open-host.js';
import type { Finding, HostStatus, Playbook, RunHost, Step } from '../playbook.js';
import type { Redactor } from '../redactor.js';
import type { HeldLock } from '../run-lock.js';

export interface RunOptions {
  mode: 'apply' | 'check';
  runId: string;
  /** Where backups go on each host, for the summary. */
  backupDir: string;
  openHost: OpenHost;
  /** Most hosts worked on at once; default: all. */
  forks?: number;
  /** Host or group names to act on; hosts of an anchor role are still read for discovery. */
  limit?: string[];
  /** Asked before a stage with changes is applied; default: apply. */
  decide?: (
    step: Pick<Step<unknown>, 'id' | 'title' | 'why'>,
    plans: ReadonlyMap<string, HostPlan>,
  ) => Promise<Decision>;
  /** Asked once discovery is done, before the first step: go on, or stop with nothing changed. */
  ready?: () => Promise<'go' | 'quit'>;
  /** Stops the run between changes: the change under way completes, nothing after it starts. */
  signal?: AbortSignal;
  secrets?: Redactor;
  /** The tool's state directory on each host (restart marks, the run lock); default STATE_DIR. */
  stateDir?: string;
  /** The command that runs this again, for the closing advice. */
  rerun?: string;
}

/** A handler started early: its output is held back and reported in the handler stage. */
export interface EarlyRun {
  done: Promise<void>;
  lines: [OutputStream, string][];
}

/** What the run knows about one host, stage after stage. */
export interface HostState {
  spec: HostSpec;
  /** In --limit: steps run on it. An anchor host may be connected for discovery only. */
  target: boolean;
  host?: CachedReads;
  facts?: BaseFacts;
  /** The address the connection reached. */
  address?: string;
  /** unreachable or failed: no further work on this host. */
  lost?: { status: 'unreachable' | 'failed'; reason: string };
  results: HostStatus[];
  /** How each stage ended on this host in this run, by stage id. */
  byStage: Map<string, HostStatus>;
  changed: number;
  /** Handlers notified by changes made (or, in check mode, planned) and not run yet. */
  notified: string[];
  /** Handlers started before the handler stage, by name. */
  early: Map<string, EarlyRun>;
  /** Handlers with a mark on the host (written by this run, or left by an earlier one). */
  marked: Set<string>;
  /** Handlers left pending by an earlier run: the run id that left each. */
  leftPending: Map<string, string>;
  /** Every check step passed on it. */
  proved?: boolean;
}

/** One run: what every stage reads and updates. */
export interface Run<S> {
  inventory: Inventory;
  playbook: Playbook<S>;
  opts: RunOptions;
  secrets: Redactor;
  forks: number;
  states: HostState[];
  emit: (e: RunEvent) => void;
  /** Things the user should know about the run itself (a lock taken over), shown with discovery's findings. */
  notes: Finding[];
  /** The run lock this run holds, and the host it is on. */
  lock?: { held: HeldLock; on: HostState };
  /** Set when the run lost its lock: the sentence; nothing more is changed. */
  halted?: string;
  /** What discovery found, once it has run. */
  shared?: S;
  /** The connected hosts, for discovery and the steps. */
  usable: () => ReadonlyMap<string, RunHost>;
  /** Marks a host as done for: nothing more runs on it. The first reason stays. */
  lose: (s: HostState, status: 'unreachable' | 'failed', reason: string) => void;
  /**
   * Loses a host before the steps and says so: host:unreachable for an unreachable one, else
   * host:failed naming the stage.
   */
  drop: (s: HostState, stage: 'connect' | 'facts' | 'discover', reason: string, unreachable?: boolean) => void;
  /** Files read before a wait for the user may have changed by the time the user answers. */
  forgetReads: () => void;
}
