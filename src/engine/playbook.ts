import type { HostPlan } from '../contract/change.js';
import type { Handler } from '../contract/handler.js';
import type { HostSpec, Inventory, InventoryProblem, RoleSpec, VarSpec } from '../inventory/types.js';
import type { Host } from '../transport/host.js';
import type { LinkPolicy } from '../transport/link-policy.js';
import type { BaseFacts } from './base-facts.js';
import type { Redactor } from './redactor.js';

export type { Change, HostPlan } from '../contract/change.js';

/** Per-host outcome of a step, and of the whole run (the worst of its steps). */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

/** A host the run is connected to, as the engine hands it to discovery and to the steps. */
export interface RunHost {
  host: Host;
  spec: HostSpec;
  facts: BaseFacts;
  /** The address the connection reached: what ansible_host or an ssh alias resolved to. */
  address: string;
}

export interface StepContext<Shared> {
  /** check: the plan is only shown; steps that prove an outcome skip themselves. */
  mode: 'apply' | 'check';
  host: Host;
  spec: HostSpec;
  facts: BaseFacts;
  /** The address this host's connection reached. */
  address: string;
  inventory: Inventory;
  /** What the playbook's discovery stage found, for every step. */
  shared: Shared;
  secrets: Redactor;
  /** Every connected host of the run, by name: the only way a step reaches another host. */
  hosts: ReadonlyMap<string, RunHost>;
  /** How an earlier step ended on this host in this run (ok: nothing to do; changed: done), if it ran here. */
  earlier: (stepId: string) => HostStatus | undefined;
}

export interface Step<Shared> {
  id: string;
  title: string;
  /** Why the step exists, in a sentence or two, shown before it is applied. */
  why: string;
  /** Roles the step runs on. */
  roles: readonly string[];
  /** 'check' steps change nothing and prove an outcome; their notes are the run's verification. */
  kind?: 'change' | 'check';
  /** Reads the host and returns what would change; never writes. */
  plan(ctx: StepContext<Shared>): Promise<HostPlan>;
}

/** A handler as a playbook declares it: its name (what changes notify) and when it may run. */
export interface HandlerSpec extends Handler {
  name: string;
  /**
   * In a run that asks nothing, it may start on a host as soon as no later change step can touch
   * that host, while the steps go on elsewhere. Only for a handler that needs no other handler
   * to run before it: flagged handlers come first in the list.
   */
  mayStartEarly?: boolean;
}

export interface DiscoveryContext {
  inventory: Inventory;
  hosts: ReadonlyMap<string, RunHost>;
  secrets: Redactor;
  /**
   * Gives up on one host that is not an anchor (an unreadable file of its own): it fails, with the
   * reason shown, and the run goes on with the others. Throw PlaybookRefusal to stop the run.
   */
  fail: (host: string, reason: string) => void;
}

/** One thing discovery found, in a sentence; `host` when it is about one host. */
export interface Finding {
  host?: string;
  text: string;
  /** Something the user should look at before going on. */
  warn?: boolean;
}

/** A read-only playbook's answer: a table for people and a document for scripts. */
export interface Report {
  columns: string[];
  rows: string[][];
  data: unknown;
}

/** What the closing advice may say: how the run went. */
export interface Outcome {
  /** Hosts that passed every check step. */
  proved: number;
  /** The command that runs this again. */
  rerun: string;
}

/**
 * A playbook: a command of the tool. The engine knows nothing else about the job: every role,
 * variable, package, step and handler comes from here.
 */
export interface Playbook<Shared> {
  /** The command that runs it: `jitsi-scale NAME`. */
  name: string;
  roles: readonly RoleSpec[];
  /** The inventory variables it reads, with types, defaults and docs. */
  variables: Readonly<Record<string, VarSpec>>;
  /** Its rules across hosts of the inventory (unique addresses…), each problem with its position. */
  checkInventory?: (inventory: Inventory) => InventoryProblem[];
  /** Packages whose installed versions the facts read on every host. */
  watchPackages: readonly string[];
  /**
   * Files the run will read on a host, read with its facts in one round trip. Steps read them
   * again for free until a command or a write on that host (or a wait for the user) could have
   * changed them.
   */
  prefetch?(spec: HostSpec): readonly string[];
  /**
   * Where a symbolic link among the host's files may lead, for every read and write on it; without
   * it, each file's own directory only.
   */
  linkPolicy?(spec: HostSpec): LinkPolicy;
  /** Reads what every step needs (domain, secret, …); throws PlaybookRefusal when it cannot go on. */
  discover(ctx: DiscoveryContext): Promise<Shared>;
  /** What discovery found, for the user (never a secret). */
  describe?(shared: Shared): Finding[];
  /** A read-only playbook's answer, made from what discovery found. */
  report?(shared: Shared): Report;
  steps: Step<Shared>[];
  /** Run once per host after the change steps, in this order, each on all its hosts at once. */
  handlers: HandlerSpec[];
  /** The handler stage as the user sees it; a plain default when absent. */
  handlerStage?: { title: string; why: string };
  /** What to tell the user when the run went well. */
  closing?(outcome: Outcome): string;
}

/** The roles discovery cannot do without: their hosts are read even outside --limit. */
export function anchorRoles<S>(playbook: Playbook<S>): Set<string> {
  return new Set(playbook.roles.filter((r) => r.anchor).map((r) => r.name));
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
