// The runbook's vocabulary: commands a person sends (tick a checklist item, run the deploy steps,
// a no-go with a reason, look at a pod), effects the runtime carries out (run a command, follow a
// pod's logs) and the events that come back (output lines, an exit).
// Plain data, like everything the engine keeps.

export type RunPurpose = 'deploy' | 'validate' | 'verify-rollback' | 'check' | 'flag';

export type RunbookCommand =
  /** A person ticks a checklist item (key: `<checklist id or name>#<n>`, 1-based). */
  | { kind: 'tick-item'; item: string; note?: string }
  /** Run an item's check (a command or a query) now. */
  | { kind: 'run-check'; item: string }
  /** Run the deploy steps of a phase (default: the phase of the next gate, else the current one). */
  | { kind: 'run-deploy'; phase?: string }
  /** No-go at the due (or early-asked) checkpoint: holds the phase, or rolls back (plan's `noGo`). */
  | { kind: 'no-go'; reason: string }
  /** Run the post-rollout validation again (after a failure). */
  | { kind: 'run-validation' }
  /** Run the rollback verification again. */
  | { kind: 'verify-rollback' }
  /** Enable a phase's feature flag (its approvals must be in). */
  | { kind: 'enable-flag'; flag: string }
  /** Approve enabling a flag in a role (absent: the first role it still needs that the person holds). */
  | { kind: 'approve-flag'; flag: string; role?: string }
  /** Kill a running command (its process group). */
  | { kind: 'stop-command'; runId: number };
// A pod's description and followed log (enter on a pod) are not here: what one terminal looks at
// is that terminal's (src/runtime/inspection.ts), never the shared, journaled rollout state.

export type RunbookEffect =
  | {
      id: number;
      type: 'run-command';
      purpose: RunPurpose;
      /** deploy:<phase>:<n>, validate:<n>, verify-rollback, check:<item>, flag:<name>. */
      key: string;
      name: string;
      /** As written in the plan; run through /bin/sh with `env` (values are never pasted in). */
      run: string;
      /** The embedded world's stand-in. */
      sim?: string;
      /** A PromQL query (checklist checks) instead of a command. */
      query?: string;
      /** A webhook instead of a command (flags): POST to the URL in this environment variable. */
      webhookEnv?: string;
      env: Record<string, string>;
      timeoutMs: number;
    }
  | { id: number; type: 'stop-command'; runId: number };

export interface PodDetail {
  node?: string;
  ip?: string;
  phase: string;
  /** Ready, ContainersReady, PodScheduled, Initialized: status and reason. */
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  containers: {
    name: string;
    image?: string;
    ready: boolean;
    restarts: number;
    /** Running (since), Waiting (reason), Terminated (reason, exit code). */
    state: string;
    lastState?: string;
  }[];
  /** Newest last: type, reason, count, age source, message (kubectl describe's Events). */
  events: { type: string; reason: string; message: string; count: number; at: number }[];
}

export type RunbookEvent =
  /** New output lines of a running command (batched). */
  | { type: 'command.output'; at: number; runId: number; lines: string[] }
  /** A command ended (or could not start, or was skipped on the simulated world). */
  | { type: 'command.result'; at: number; runId: number; ok: boolean; exitCode: number | null; detail: string; skipped?: boolean };

export interface CommandRun {
  id: number;
  purpose: RunPurpose;
  key: string;
  name: string;
  /** The command as run, the plan's values filled in (secrets left as ${NAME}). */
  command: string;
  sim?: string;
  by: string;
  startedAt: number;
  endedAt?: number;
  status: 'running' | 'passed' | 'failed' | 'skipped';
  exitCode: number | null;
  detail: string;
  /** The last lines of output. */
  lines: string[];
}

export interface RunbookState {
  /** Checklist items ticked, by item key. */
  ticks: Record<string, { by: string; at: number; how: 'person' | 'check'; detail?: string }>;
  /** Commands run, oldest first (bounded). */
  runs: CommandRun[];
  /** Post-rollout validation of this rollout: when it started (null: not yet). */
  validationAt: number | null;
  /** The last rollback's verification. */
  verification: { rollbackAt: number; runId: number | null; status: 'running' | 'passed' | 'failed' | 'skipped'; detail: string } | null;
  /** A no-go holding the phase, with the person's reason. */
  noGo: { phase: string; index: number; hour: number; title: string; by: string; reason: string; at: number } | null;
  /** Feature flags: approvals given and whether enabled (by phase id + flag name). */
  flags: Record<string, { approvals: { role: string; by: string; at: number }[]; runId?: number; enabledAt?: number; enabledBy?: string }>;
}

export const EMPTY_RUNBOOK: RunbookState = { ticks: {}, runs: [], validationAt: null, verification: null, noGo: null, flags: {} };
export const RUN_LINES = 200;
export const RUNS_KEPT = 40;
