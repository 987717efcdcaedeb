import type { OutputStream } from '../transport/host.js';
import type { Finding, HostStatus, Report } from './playbook.js';

/**
 * The engine's only output. Front ends (Ink UI, plain lines, NDJSON) render these; every string in
 * them has been redacted before it leaves the engine.
 */
export type RunEvent =
  | {
      type: 'run:start';
      runId: string;
      mode: 'apply' | 'check';
      playbook: string;
      /** The playbook's roles and what their hosts are called on screen. */
      roles: { name: string; label: readonly [string, string] }[];
      hosts: { name: string; role: string; address: string }[];
      steps: { id: string; title: string; why: string; kind: 'change' | 'check' }[];
    }
  | { type: 'host:connecting'; host: string; address: string }
  | { type: 'host:connected'; host: string; ms: number }
  | { type: 'host:unreachable'; host: string; reason: string }
  | { type: 'host:failed'; host: string; stage: 'connect' | 'facts' | 'discover'; reason: string }
  | {
      type: 'facts:gathered';
      host: string;
      os: string;
      init: string;
      firewall: string;
      packages: Record<string, string>;
    }
  | { type: 'run:discovered'; findings: Finding[] }
  | { type: 'run:report'; report: Report }
  | { type: 'run:refused'; host: string | null; reason: string }
  | { type: 'step:start'; step: string; title: string; why: string; hosts: string[] }
  | {
      type: 'step:planned';
      step: string;
      host: string;
      changes: { description: string; diff?: string }[];
      skip?: string;
      notes: string[];
    }
  | { type: 'step:decision'; step: string; decision: Decision }
  | { type: 'task:start'; step: string; host: string; description: string }
  | { type: 'host:output'; step: string; host: string; stream: OutputStream; line: string }
  | { type: 'task:changed'; step: string; host: string; description: string; backup?: string; notes?: string[] }
  | { type: 'handler:run'; step: string; host: string; handler: string; description: string }
  | { type: 'step:host-result'; step: string; host: string; status: HostStatus; changed: number; error?: string }
  | { type: 'step:done'; step: string; counts: Record<HostStatus, number> }
  | {
      type: 'run:done';
      exitCode: number;
      aborted: boolean;
      hosts: HostSummary[];
      backupDir: string;
      /** The playbook's closing advice, for a run that went well. */
      advice?: string;
    };

export type Decision = 'apply' | 'skip' | 'quit';

export interface HostSummary {
  host: string;
  role: string;
  status: HostStatus;
  changed: number;
  /** Why the host failed or was unreachable: "step: reason". */
  error?: string;
}

export type EventSink = (event: RunEvent) => void;
