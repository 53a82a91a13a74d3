// The small interfaces between the pure engine and the world. Each has a real implementation
// (Prometheus, Kubernetes, ...) and a simulated one (src/sim). The runtime owns them; components
// never see them.
import type { ClusterResult, Effect, EngineEvent, LoadOutcome, LoadProgress, LoadSummary, PodDetail, RolloutState } from '../engine/types.js';
import type { LoadTest } from '../plan/schema.js';

export type Emit = (event: EngineEvent) => void;

/** Time, injected: the real clock, or a simulated one running `speed` times faster. */
export interface Clock {
  now(): number;
  /** Simulated milliseconds per real millisecond (1 for the real clock). */
  readonly speed: number;
}

/** Turns part of the world into events: SLI samples, pod lists and watches. */
export interface Source {
  readonly name: string;
  start(emit: Emit): void;
  stop(): Promise<void> | void;
}

export interface ActuationResult {
  /** The weight read back from the provider after the change. */
  weight: number;
  detail: string;
  /** Per cluster, when the provider spans several. */
  clusters?: ClusterResult[];
}

export type { ClusterResult };

/** Moves traffic. `setWeight` and `rollback` resolve after the change has been read back. */
export interface TrafficActuator {
  readonly name: string;
  setWeight(weight: number, regions: string[]): Promise<ActuationResult>;
  rollback(reason: string, regions: string[]): Promise<ActuationResult>;
}

export type NotifyEffect = Extract<Effect, { type: 'notify' }>;

/** How delivering one notification to one channel went (after its retries). */
export interface NotifyReport {
  effectId: number;
  channel: string;
  ok: boolean;
  detail: string;
  attempts: number;
}

/** Delivers notify effects. `notify` must return at once (queue, then deliver in the background);
 * each channel's outcome comes back through `report`, which the runtime turns into an event. */
export interface Notifier {
  notify(effect: NotifyEffect, ctx: { at: number; report(r: NotifyReport): void }): void;
}

/** Writes rendered communications; resolves with where they went. */
export interface CommsWriter {
  write(files: { name: string; text: string }[]): Promise<string>;
}

export type ReportEffect = Extract<Effect, { type: 'produce-report' }>;

/** Renders a stakeholder report from the journal's facts as of `state` (the state the effect was
 * decided in) and writes it; resolves with the file and the Markdown (sent on to its channels). */
export interface ReportProducer {
  produce(effect: ReportEffect, state: RolloutState): Promise<{ file: string; markdown: string }>;
}

/** What a load-test run reports at the end. `summary` is null when no request was ever sent
 * (artillery not installed, a refused target...); `detail` then says why and what to do. */
export interface LoadRunOutcome {
  outcome: LoadOutcome;
  detail: string;
  summary: LoadSummary | null;
  /** The JSON file the run was saved to. */
  file?: string;
}

/** Runs the plan's load tests (autocannon in-process, artillery as a child process). `run`
 * never rejects: every failure is an outcome. `stop` ends a run within a second; the outcome
 * then says `stopped` with the figures up to that moment. */
export interface LoadRunner {
  run(runId: number, test: LoadTest, onProgress: (p: LoadProgress) => void): Promise<LoadRunOutcome>;
  stop(runId: number): void;
  /** Stops every run and waits until they have ended (on exit). */
  close(): Promise<void>;
}

export type RunCommandEffect = Extract<Effect, { type: 'run-command' }>;
/** What `enter` on a pod asks for: its description and its log, followed (the plan's container
 * and since window). Not an engine effect: what one terminal looks at is that terminal's. */
export interface PodInspectRequest {
  key: string;
  name: string;
  namespace: string;
  region: string;
  track: string;
  container?: string;
  sinceMs: number;
  tail: number;
}

/** How a runbook command ended. `skipped`: not run (the simulated world has no stand-in for it). */
export interface CommandOutcome {
  ok: boolean;
  exitCode: number | null;
  detail: string;
  skipped?: boolean;
}

/** Runs the runbook's commands (deploy steps, validation, rollback verification, checks, flag
 * hooks) the way hooks run (src/actuators/exec.ts). `run` never rejects; output lines are handed
 * on as they come (batched), scrubbed of secrets. */
export interface CommandRunner {
  run(effect: RunCommandEffect, onLines: (lines: string[]) => void): Promise<CommandOutcome>;
  /** Kills a running command's process group. */
  stop(runId: number): void;
  /** Kills every running command (on exit). */
  close(): void;
}

/** Describes a pod and follows its log (kubectl describe + kubectl logs -f). */
export interface PodInspector {
  inspect(
    request: PodInspectRequest,
    out: { detail(d: PodDetail | null, error?: string): void; logs(lines: string[], ended?: string): void },
  ): { stop(): void };
}
