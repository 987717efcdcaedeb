import type { Decision, HostSummary, RunEvent } from '../../engine/events.js';
import type { Finding, HostStatus } from '../../engine/playbook.js';

/** What the UI is waiting for the user to answer. */
export type Question =
  | { kind: 'start' }
  | { kind: 'step'; step: string }
  | { kind: 'host-key'; host: string; address: string; keyType: string; fingerprint: string }
  | { kind: 'secret'; prompt: string };

/** Things the guided session adds to the engine's events. */
export type UiAction = { type: 'ui:ask'; question: Question } | { type: 'ui:answered' } | { type: 'ui:interrupted' };

export interface HostRow {
  name: string;
  role: string;
  address: string;
  conn: 'waiting' | 'connecting' | 'connected' | 'unreachable' | 'failed';
  os?: string;
  firewall?: string;
  error?: string;
}

export interface PlannedChange {
  description: string;
  diff?: string;
}

/** One host's part of the step on screen. */
export interface HostWork {
  host: string;
  phase: 'planning' | 'planned' | 'running' | 'done';
  changes: PlannedChange[];
  skip?: string;
  notes: string[];
  /** What runs now: a change or a handler. */
  current?: string;
  /** What runs now is a handler (a restart after the changes). */
  handler?: boolean;
  /** Changes made so far, with their backups. */
  made: { description: string; backup?: string }[];
  /** The last few output lines of what runs now. */
  lines: string[];
  result?: HostStatus;
  error?: string;
}

export interface StepView {
  id: string;
  title: string;
  why: string;
  kind: 'change' | 'check';
  /** 1-based position among the playbook's steps. */
  number: number;
  hosts: string[];
  work: Record<string, HostWork>;
  decision?: Decision;
  done: boolean;
}

export interface VerifyResult {
  host: string;
  ok: boolean;
  lines: string[];
}

/** Output that is final: rendered once, above the live area, and never redrawn. */
export type Settled =
  | {
      kind: 'start';
      key: string;
      hosts: HostRow[];
      findings: Finding[];
      refused?: { host: string | null; reason: string };
    }
  | { kind: 'step'; key: string; step: StepView }
  | { kind: 'end'; key: string };

export interface RunState {
  mode: 'apply' | 'check';
  runId: string;
  playbook: string;
  /** The playbook's roles, with what their hosts are called on screen. */
  roles: { name: string; label: readonly [string, string] }[];
  steps: { id: string; title: string; why: string; kind: 'change' | 'check' }[];
  hosts: HostRow[];
  findings: Finding[];
  refused?: { host: string | null; reason: string };
  /** The step on screen, until it is settled. */
  current?: StepView;
  settled: Settled[];
  /** Per host, the result of each step that ran on it, by step id. */
  matrix: Record<string, Record<string, HostStatus>>;
  verification: VerifyResult[];
  backups: { host: string; path: string }[];
  question?: Question;
  interrupted: boolean;
  startedAt: number;
  done?: { exitCode: number; aborted: boolean; hosts: HostSummary[]; backupDir: string; at: number; advice?: string };
}

export function initialState(now = Date.now()): RunState {
  return {
    mode: 'apply',
    runId: '',
    playbook: '',
    roles: [],
    steps: [],
    hosts: [],
    findings: [],
    settled: [],
    matrix: {},
    verification: [],
    backups: [],
    interrupted: false,
    startedAt: now,
  };
}

const OUTPUT_LINES = 3;

function emptyWork(host: string): HostWork {
  return { host, phase: 'planning', changes: [], notes: [], made: [], lines: [] };
}

function withHost(state: RunState, name: string, patch: Partial<HostRow>): RunState {
  return { ...state, hosts: state.hosts.map((h) => (h.name === name ? { ...h, ...patch } : h)) };
}

function withWork(state: RunState, step: string, host: string, patch: (w: HostWork) => Partial<HostWork>): RunState {
  const cur = state.current;
  if (!cur || cur.id !== step) return state;
  const w = cur.work[host] ?? emptyWork(host);
  return { ...state, current: { ...cur, work: { ...cur.work, [host]: { ...w, ...patch(w) } } } };
}

function settleStart(state: RunState): RunState {
  if (state.settled.some((s) => s.kind === 'start')) return state;
  const item: Settled = {
    kind: 'start',
    key: 'start',
    hosts: state.hosts,
    findings: state.findings,
    ...(state.refused ? { refused: state.refused } : {}),
  };
  return { ...state, settled: [...state.settled, item] };
}

/** Pure: the next screen state after an engine event or a UI action. */
// eslint-disable-next-line complexity, max-lines-per-function -- a reducer: one flat arm per event type, the mapping from the engine stream to the screen in one place
export function reduce(state: RunState, a: RunEvent | UiAction, now = Date.now()): RunState {
  switch (a.type) {
    case 'ui:ask':
      return { ...state, question: a.question };
    case 'ui:answered': {
      const { question: _answered, ...rest } = state;
      return rest;
    }
    case 'ui:interrupted':
      return { ...state, interrupted: true };
    case 'run:start':
      return {
        ...state,
        mode: a.mode,
        runId: a.runId,
        playbook: a.playbook,
        roles: a.roles,
        steps: a.steps,
        hosts: a.hosts.map((h) => ({ ...h, conn: 'waiting' })),
        startedAt: now,
      };
    case 'host:connecting':
      return withHost(state, a.host, { conn: 'connecting' });
    case 'host:connected':
      return withHost(state, a.host, { conn: 'connected' });
    case 'host:unreachable':
      return withHost(state, a.host, { conn: 'unreachable', error: a.reason });
    case 'host:failed':
      return withHost(state, a.host, {
        conn: 'failed',
        error: a.stage === 'discover' ? `discovery: ${a.reason}` : a.reason,
      });
    case 'facts:gathered':
      return withHost(state, a.host, { os: a.os, firewall: a.firewall });
    case 'run:discovered':
      return { ...state, findings: a.findings };
    case 'run:report':
      return state;
    case 'run:refused':
      return { ...state, refused: { host: a.host, reason: a.reason } };
    case 'step:start': {
      const index = state.steps.findIndex((s) => s.id === a.step);
      const info = state.steps[index];
      const base = settleStart(state);
      return {
        ...base,
        current: {
          id: a.step,
          title: a.title,
          why: a.why,
          kind: info?.kind ?? 'change',
          number: index + 1,
          hosts: a.hosts,
          work: Object.fromEntries(a.hosts.map((h) => [h, emptyWork(h)])),
          done: false,
        },
      };
    }
    case 'step:planned':
      return withWork(state, a.step, a.host, () => ({
        phase: 'planned',
        changes: a.changes,
        notes: a.notes,
        ...(a.skip ? { skip: a.skip } : {}),
      }));
    case 'step:decision':
      return state.current?.id === a.step ? { ...state, current: { ...state.current, decision: a.decision } } : state;
    case 'task:start':
    case 'handler:run':
      return withWork(state, a.step, a.host, () => ({
        phase: 'running',
        current: a.description,
        handler: a.type === 'handler:run',
        lines: [],
      }));
    case 'host:output':
      return withWork(state, a.step, a.host, (w) => ({ lines: [...w.lines, a.line].slice(-OUTPUT_LINES) }));
    case 'task:changed': {
      const next = withWork(state, a.step, a.host, (w) => ({
        made: [...w.made, { description: a.description, ...(a.backup ? { backup: a.backup } : {}) }],
      }));
      return a.backup ? { ...next, backups: [...next.backups, { host: a.host, path: a.backup }] } : next;
    }
    case 'step:host-result': {
      const next = withWork(state, a.step, a.host, () => ({
        phase: 'done',
        result: a.status,
        ...(a.error ? { error: a.error } : {}),
      }));
      const matrix = { ...next.matrix, [a.host]: { ...next.matrix[a.host], [a.step]: a.status } };
      let verification = next.verification;
      if (next.current?.kind === 'check' && next.current.id === a.step && a.status !== 'skipped') {
        const w = next.current.work[a.host]!;
        verification = [...verification, { host: a.host, ok: a.status === 'ok', lines: a.error ? [a.error] : w.notes }];
      }
      return { ...next, matrix, verification };
    }
    case 'step:done': {
      const cur = state.current;
      if (!cur || cur.id !== a.step) return state;
      const step = { ...cur, done: true };
      const { current: _settledNow, ...rest } = state;
      return { ...rest, settled: [...state.settled, { kind: 'step', key: `step:${cur.id}`, step }] };
    }
    case 'run:done': {
      const base = settleStart(state);
      const { question: _none, ...rest } = base;
      return {
        ...rest,
        done: {
          exitCode: a.exitCode,
          aborted: a.aborted,
          hosts: a.hosts,
          backupDir: a.backupDir,
          at: now,
          ...(a.advice ? { advice: a.advice } : {}),
        },
        settled: [...base.settled, { kind: 'end', key: 'end' }],
      };
    }
  }
}
