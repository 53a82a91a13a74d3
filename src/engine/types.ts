// The engine's vocabulary: what can happen (events), what the rollout is (state), and what it
// asks the world to do (effects). Everything here is plain data so that it can be journaled,
// sent over a socket and replayed.

export type Track = 'canary' | 'baseline';

/** Who did something. `system` for the engine's own decisions, `sim` for the embedded crew. */
export interface Actor {
  id: string;
  name?: string;
  roles?: string[];
  /** A war-room viewer (a view-only token): sees everything, can never act. */
  viewer?: boolean;
  /** A person of the embedded world's simulated crew, not a human at a keyboard. Every line the
   * engine writes about them says so ("Ben Okafor (simulated)"). */
  simulated?: boolean;
}

/** How the engine names an actor in history, approvals and the journal's words. */
export function actorName(a: Actor): string {
  const n = a.name ?? a.id;
  return a.simulated ? `${n} (simulated)` : n;
}

export type RolloutStatus =
  | 'pending' // not started: waiting for the first gate
  | 'running' // traffic on the canary, baking
  | 'paused' // a person paused: bake clock stopped, safety rules still watch
  | 'completed' // 100% and the final monitoring period is over
  | 'rolled-back'; // traffic back on stable; stays so until a person starts again

export interface PodInfo {
  /** Unique key: cluster/region + namespace + name. */
  key: string;
  name: string;
  namespace: string;
  region: string;
  track: Track | 'stable' | 'unknown';
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  /** What kubectl shows in STATUS: Running, CrashLoopBackOff, ImagePullBackOff, OOMKilled, ContainerCreating… */
  reason: string;
  /** Longer explanation (e.g. Pending because of Insufficient cpu). */
  message?: string;
  restarts: number;
  lastRestartReason?: string;
  startedAt: number;
}

export interface SliSample {
  sli: string;
  /** `stable`: the fleet that carries the traffic before the canary takes any (the first gate's
   * evidence); it has a note, no series. */
  track: Track | 'stable';
  /** When the source's own answer says the value was measured (clock ms), when that is older than
   * the event's time: a Prometheus answer evaluated long ago (a caching proxy, a stuck query
   * frontend) is as old as it says, never "now". */
  measuredAt?: number;
  /** null: the query returned no data (kept distinct from 0). NaN and ±Infinity are kept as the
   * source saw them: the engine calls them invalid data, never a pass. */
  value: number | null;
  /** The query failed or answered in a shape that is not one number (several series, a matrix):
   * what went wrong, for the screen and the journal. The value is then null. */
  error?: string;
  /** Warnings the source gave with the value (Prometheus `warnings`, e.g. partial data). */
  warnings?: string[];
}

/** What the newest sample of one SLI on one track said, and when it was measured. */
export interface SampleNote {
  at: number;
  /** ok: a valid value; no-data: nothing measured; invalid: an impossible value, a failed or
   * odd-shaped query, or (per the plan) a value that came with warnings. */
  status: 'ok' | 'no-data' | 'invalid';
  value: number | null;
  /** The value as measured when it was impossible: "+Inf", "NaN", "120". */
  raw?: string;
  /** Why it is not ok, in words. */
  why?: string;
  warnings?: string[];
}

/** Which move an advance makes: enter a phase, take a phase's next step, or complete. */
export interface GateTarget {
  kind: 'phase' | 'step' | 'complete';
  phase: string;
  step: number;
}

export type Command =
  /** `target`: the gate the person saw when they confirmed; refused if it is no longer next. */
  | { kind: 'advance'; target?: GateTarget }
  /** Start one of the plan's load tests (declared in the plan, allowed in the current phase). */
  | { kind: 'load-test'; name: string }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'rollback'; reason?: string }
  | { kind: 'ack-checkpoint' }
  /** A person declares an incident; its escalation clock starts now. `kind`: one of the plan's
   * incident kinds (`incidentKinds`): an immediate one (security breach, data corruption, a P0
   * customer escalation) rolls back at once. Absent: an ordinary incident of that severity. */
  | { kind: 'declare-incident'; severity: IncidentSeverity; summary: string; incidentKind?: string }
  /** Stops the escalation clock (default: the most severe, oldest unacknowledged open incident). */
  | { kind: 'ack-incident'; id?: string }
  /** Closes an incident (default: the only open one). */
  | { kind: 'resolve-incident'; id?: string }
  /** Render the communication templates with the current values and write them to files. */
  | { kind: 'write-communications' }
  /** Stop the load test that is running (esc / x in its pane). */
  | { kind: 'stop-load-test' }
  | RunbookCommand;

export type EngineEvent =
  | { type: 'tick'; at: number }
  /** `measuredAt`: when the values were measured (the queries were sent), if earlier than `at`. */
  | { type: 'sli.samples'; at: number; samples: SliSample[]; measuredAt?: number }
  /** History fetched at once (a range query): each point keeps its own time `t` as data; the
   * event itself happens at `at`, so the journal stays in time order. */
  | { type: 'sli.history'; at: number; points: { t: number; samples: SliSample[] }[] }
  /** A whole region's pods as the source now sees them (list, or watch re-sync). */
  | { type: 'pods.sync'; at: number; region: string; pods: PodInfo[] }
  | { type: 'pods.delta'; at: number; upserts: PodInfo[]; deletes: string[] }
  | { type: 'command'; at: number; actor: Actor; command: Command }
  | { type: 'approve'; at: number; actor: Actor; phase: string; role: string }
  /** A person-declared signal, e.g. a P0 customer escalation (immediate rollback). */
  | { type: 'signal'; at: number; actor: Actor; name: string; severity?: 'P0' | 'P1' | 'P2'; note?: string }
  /** A source's health changed (Prometheus unreachable, a query failing...). */
  | { type: 'source.status'; at: number; source: string; ok: boolean; message?: string }
  /** An actuator reports how an effect went. */
  | { type: 'effect.result'; at: number; effectId: number; ok: boolean; detail: string; weight?: number; clusters?: ClusterResult[] }
  /** What a cluster's traffic provider reads now (drift checks); sent when it changes. */
  | { type: 'traffic.observed'; at: number; cluster: string; regions: string[]; weight: number | null; detail: string }
  /** Who drives the rollout (holds the Lease); `self`: this terminal. */
  | { type: 'driver.status'; at: number; holder: string | null; self: boolean; message?: string }
  /** The journal can no longer be written (replaced, truncated, removed under the running canary, or
   * a write failed): from here on nothing is recorded, so the rollout holds (never journaled). */
  | { type: 'journal.lost'; at: number; loss: JournalLossInfo }
  /** The notifier reports how delivering a notify effect to one channel went (after retries). */
  | { type: 'notify.result'; at: number; effectId: number; channel: string; ok: boolean; detail: string; attempts: number }
  /** How producing a report went: the file it was written to, or why not. */
  | { type: 'report.result'; at: number; effectId: number; ok: boolean; detail: string; file?: string }
  /** A running load test's figures so far (about once a second); runId is its start effect's id. */
  | { type: 'loadtest.progress'; at: number; runId: number; name: string; progress: LoadProgress }
  /** A load test ended: its figures (null when it never ran), and where they were saved. */
  | { type: 'loadtest.result'; at: number; runId: number; name: string; outcome: LoadOutcome; detail: string; summary: LoadSummary | null; file?: string }
  | RunbookEvent;

/** What happened to a journal that can no longer be written (src/journal: JournalLoss). */
export interface JournalLossInfo {
  kind: 'replaced' | 'removed' | 'truncated' | 'grew' | 'write-failed';
  path: string;
  reason: string;
  /** The last entry in the chain as canary wrote it. */
  lastSeq: number;
  /** Where the journal as canary wrote it was saved, if it could be. */
  saved: string | null;
  /** What a person should do. */
  todo: string;
}

/** How one cluster took a traffic change. */
export interface ClusterResult {
  cluster: string;
  ok: boolean;
  weight: number | null;
  attempts: number;
  detail: string;
}

export type Effect =
  | { id: number; type: 'set-weight'; weight: number; phase: string; step: number; regions: string[] }
  | { id: number; type: 'rollback'; reason: string; fromWeight: number; regions: string[]; trigger?: TripExplanation }
  | {
      id: number;
      type: 'notify';
      severity: 'info' | 'warning' | 'critical';
      message: string;
      /** What it is about (channels can listen to some kinds only); absent: 'info'. */
      kind?: NotifyKind;
      /** The incident it belongs to, and for escalation steps who is paged. */
      incident?: string;
      recipients?: Paged[];
      /** Only these channels (by name), whatever their `on` says (a report's `channels`). */
      channels?: string[];
    }
  | { id: number; type: 'write-communications'; files: { name: string; text: string }[] }
  /** A stakeholder report is due: the runtime renders it from the journal's facts as of now (the
   * period [from, dueAt)), writes it, and sends it to `channels`; `report.result` says how it went. */
  | { id: number; type: 'produce-report'; name: string; every: 'daily' | 'weekly'; audience: string; dueAt: number; from: number; channels: string[] }
  | { id: number; type: 'start-load-test'; name: string }
  | { id: number; type: 'stop-load-test'; runId: number; name: string }
  | RunbookEffect;

export type EffectInput = Effect extends infer E ? (E extends { id: number } ? Omit<E, 'id'> : never) : never;

/** Why a rule tripped, in words and numbers: the rule, the value(s), the threshold. */
export interface TripExplanation {
  rule: string;
  group: 'automatic' | 'circuit-breaker' | 'immediate' | 'manual';
  /** The canary value as measured when it was impossible (invalid-data rollbacks). */
  raw?: string;
  title: string;
  sli?: string;
  canary?: number | null;
  baseline?: number | null;
  threshold?: number;
  op?: string;
  window?: string;
  query?: string;
  text: string;
}

/** `invalid`: the value is impossible (+Inf, NaN, out of its SLI's range) or its query failed or
 * warned: inconclusive, never a pass. */
export type Verdict = 'pass' | 'fail' | 'no-data' | 'invalid';

export interface CriterionResult {
  sli: string;
  op: string;
  threshold: number;
  /** The canary value judged; null without a valid one (see `raw` and `why`). */
  value: number | null;
  verdict: Verdict;
  /** When the judged sample was measured. */
  at?: number;
  /** For `invalid`: the value as measured ("+Inf", "NaN", "120") when there was one, and why. */
  raw?: string;
  why?: string;
  seed?: string;
}

/** Sample history: a window [start, end) over append-only buffers shared between versions.
 * Read it with the functions in series.ts (seriesValues, latest, valuesSince...). */
export interface Series {
  readonly bt: number[];
  readonly bv: (number | null)[];
  readonly start: number;
  readonly end: number;
}

export interface SliState {
  canary: Series;
  baseline: Series;
  /** Time of the newest valid sample of either track. */
  lastAt: number | null;
  /** The newest sample of each track as measured (valid, no data or invalid, and why). */
  canaryNote: SampleNote | null;
  baselineNote: SampleNote | null;
  /** The stable fleet's newest sample: what the first gate needs (see evidence.ts). */
  stableNote: SampleNote | null;
}

export interface CheckpointState {
  index: number;
  at: number; // ms into the phase
  title: string;
  /** When it came due (phase bake reached `at`). */
  dueAt?: number;
  ackedAt?: number;
  ackedBy?: string;
}

export interface ApprovalGiven {
  role: string;
  by: string;
  at: number;
}

/** The last canary-versus-baseline judgment, as the views and the journal keep it. */
export interface JudgmentState {
  at: number;
  score: number | null;
  verdict: 'pass' | 'marginal' | 'fail' | 'inconclusive';
  reason: string;
  metrics: { name: string; outcome: 'pass' | 'fail' | 'nodata'; classification: string; critical: boolean; explanation: string }[];
}

export interface SourceHealth {
  ok: boolean;
  message: string | null;
  /** Since when it has been in this condition. */
  since: number;
}

export interface HistoryEntry {
  at: number;
  /** `refused`: the engine said no to a person's command, and why (shown as a refusal, never as success). */
  kind: 'phase' | 'command' | 'approval' | 'checkpoint' | 'rollback' | 'effect' | 'hold' | 'info' | 'incident' | 'refused';
  text: string;
}

export interface RolloutState {
  plan: string;
  /** The evidence rules this rollout runs under (ENGINE_RULES when it started with this canary):
   * 1 = the first gate judged on the baseline's answers, an empty one allowed (journals and
   * cluster snapshots written before the stable fleet's answers existed, which carry no `rules`
   * and replay as they ran); 2 = the first gate needs the stable fleet's valid, fresh answers.
   * A journal re-reduced under rules it was not written with would not give the state it recorded
   * (a rollout at 5% would read "pending at 0%" and open its first gate again). 3 = with traffic
   * on the canary, a gate also needs the canary's requests per second (the plan's traffic SLI)
   * above zero, and evidence missing or invalid past noDataAfter pages once (`evidenceGone`). */
  rules?: number;
  status: RolloutStatus;
  now: number;
  /** When the first gate was passed (or the last restart). */
  startedAt: number | null;
  /** When `status` last changed (communications say "rolled-back since" this, not the start). */
  statusSince: number;
  /** When the current phase was entered (a fact; the phase's planned end is computed from it). */
  phaseStartedAt: number | null;
  phaseIndex: number; // -1 before the first phase
  stepIndex: number;
  /** Bake time accumulated in the current step (paused time excluded). */
  stepBakeMs: number;
  /** Bake time accumulated in the current phase (all its steps). */
  phaseBakeMs: number;
  /** When the current step started (wall/injected clock). */
  stepStartedAt: number | null;
  /** In the final monitoring period after the last step. */
  monitoring: boolean;
  /** When the current step passed its maximum bake without moving on (null: not overdue). */
  overdueSince: number | null;
  /** Since when the next move's gate has been open in this step, waiting for a person (null: not open). */
  gateOpenSince: number | null;
  /** The weight canary asked for, and the weight the traffic provider confirmed. */
  desiredWeight: number;
  appliedWeight: number | null;
  approvals: Record<string, ApprovalGiven[]>; // by phase id: approvals for entering it
  checkpoints: Record<string, CheckpointState[]>; // by phase id
  slis: Record<string, SliState>;
  criteria: CriterionResult[];
  /** Canary versus baseline, when the plan asks for a judgment (null before the first one). */
  judgment: JudgmentState | null;
  /** Health of each source by name, as the sources report it. */
  sources: Record<string, SourceHealth>;
  /** The last analysis interval's outcome and the run of consecutive failures. */
  lastAnalysisAt: number | null;
  consecutiveFailures: number;
  /** Per rule: since when its condition has held (for rules with `for:`). */
  holding: Record<string, number>;
  /** Rules that cannot be evaluated now (no baseline for a relative rule, no valid canary value),
   * with why and since when: they cannot fire, so no gate opens while any is listed. */
  inconclusive: { rule: string; why: string; since: number }[];
  /** When the last traffic change (set-weight) was confirmed: evidence for the next gate must be
   * measured after it. Null before the first one. */
  weightConfirmedAt: number | null;
  /** Why the rollout cannot move on right now (no data, a checkpoint, approvals...). */
  holds: string[];
  /** By key. A Map: replacing it per pods event costs ~6x less than spreading a 3,000-key object. */
  pods: ReadonlyMap<string, PodInfo>;
  podsVersion: number;
  rollback: { at: number; by: string; reason: string; trigger?: TripExplanation; fromWeight: number } | null;
  nextEffectId: number;
  /** Effects sent but not yet confirmed. */
  pending: Record<number, { type: Effect['type']; at: number }>;
  lastEffectError: string | null;
  /** The last traffic change as each cluster took it (console: per-cluster result). */
  actuation: { effectId: number; type: Effect['type']; at: number; ok: boolean; clusters: ClusterResult[] } | null;
  /** What each cluster's provider read last (drift checks). */
  traffic: Record<string, { regions: string[]; weight: number | null; detail: string; at: number }>;
  /** Who drives (the Lease holder); null when no lease is used (embedded world, one terminal). */
  driver: { holder: string | null; self: boolean; since: number; message: string | null } | null;
  /** The journal was lost while the rollout ran (see `journal.lost`): no gate opens, no weight goes
   * up, until canary is started again on a journal; rolling back is still allowed. */
  journalLost: (JournalLossInfo & { at: number }) | null;
  /** Rules 3: since when SLIs the gate needs have had no valid canary evidence past noDataAfter
   * (no data, invalid data, no requests), and which: said and paged once, cleared when it is back.
   * Absent in states and snapshots written before rules 3. */
  evidenceGone?: { since: number; slis: string[] } | null;
  history: HistoryEntry[];
  /** Every incident of this run, open and closed, oldest first (see people.ts). */
  incidents: Incident[];
  /** Communications: the plan's schedule from the rollout start, and reminders (rollback notice). */
  comms: CommsState;
  /** How notifications went: counts and the newest outcomes (failures are what the console shows). */
  notifications: NotificationsState;
  /** The load test running now, the last results, and which tests passed in the current phase. */
  loadTests: LoadTestsState;
  /** Why today is a weekend or plan holiday in the plan's time zone (the approvals that depend on
   * the calendar are then asked for), or null on a working day. */
  calendar: string | null;
  /** Stakeholder reports (plan `reports`): when each is next due, and the last ones produced. */
  reports: ReportsState;
  /** Checklists ticked, commands run (deploy, validation, rollback verification), no-go, pod inspection. */
  runbook: RunbookState;
}

export interface ReportRecord {
  name: string;
  every: 'daily' | 'weekly';
  audience: string;
  /** The scheduled time it stands for; it covers [from, dueAt). */
  dueAt: number;
  from: number;
  effectId: number;
  /** Set by its result. */
  doneAt?: number;
  ok?: boolean;
  file?: string;
  detail?: string;
  /** How sending it to each of its channels went. */
  sent?: { channel: string; ok: boolean; detail: string }[];
}

export interface ReportsState {
  /** Per report name: its next scheduled time (set once the rollout has started). */
  next: Record<string, number>;
  /** Newest last, at most 20. */
  recent: ReportRecord[];
}

export type NotifyKind = 'gate' | 'checkpoint' | 'rollback' | 'incident' | 'escalation' | 'communication' | 'report' | 'info';
export type IncidentSeverity = 'P0' | 'P1' | 'P2';

/** Someone paged by an escalation step: the role, and who held it at that moment. */
export interface Paged {
  role: string;
  title: string;
  person: string | null;
  name: string | null;
  slack?: string;
}

export interface IncidentStep {
  /** When this step is due (absolute; `next_business_day` is resolved when the incident opens). */
  dueAt: number;
  label: string;
  roles: string[];
  pagedAt?: number;
  paged?: Paged[];
}

export interface Incident {
  id: string;
  severity: IncidentSeverity;
  summary: string;
  openedAt: number;
  openedBy: string;
  /** declared by a person, or opened by a rollback rule (its id). */
  cause: 'declared' | 'rollback';
  /** The incident kind the person declared (an immediate rollback rule's id, or 'other'). */
  kind?: string;
  rule?: string;
  steps: IncidentStep[];
  ackedAt?: number;
  ackedBy?: string;
  resolvedAt?: number;
  resolvedBy?: string;
}

export interface CommsItem {
  key: string;
  kind: 'schedule' | 'rollback-notice';
  /** T-24h, T+6h... (schedule), or the notify-within duration (rollback notice). */
  label: string;
  what: string;
  template?: string;
  dueAt: number;
  /** Reminders with a deadline (the rollback notice: within 15 min). */
  deadline?: number;
  /** When the engine said it was due (once). */
  remindedAt?: number;
  doneAt?: number;
  doneHow?: string;
  /** The notify effect whose delivery satisfies it (the rollback notice). */
  effectId?: number;
}

export interface CommsState {
  /** The rollout start the schedule is measured from (null: not started). */
  anchor: number | null;
  items: CommsItem[];
  /** The write-communications effect in flight. */
  writing?: number;
}

export interface NotifyOutcome {
  at: number;
  effectId: number;
  channel: string;
  ok: boolean;
  detail: string;
  attempts: number;
}

export interface NotificationsState {
  delivered: number;
  failed: number;
  /** Newest last, at most 20. */
  recent: NotifyOutcome[];
}

// ---------------------------------------------------------------------------------------------
// Load tests: what the engine keeps of them (src/engine/loadtests.ts decides; these are its shapes).

export type LoadOutcome = 'completed' | 'stopped' | 'failed';

export interface LoadLatency {
  p50: number;
  p95: number;
  p99: number;
  max?: number;
}

/** Figures so far, as the live pane shows them. */
export interface LoadProgress {
  elapsedMs: number;
  durationMs: number;
  /** Responses received so far (any status). */
  requests: number;
  /** Requests per second over the last second. */
  rps: number;
  latency: LoadLatency | null;
  /** Responses by HTTP status ("200", "503"...), plus transport errors as "errors"/"timeouts". */
  byStatus: Record<string, number>;
  /** Non-2xx/3xx responses plus transport errors. */
  errors: number;
}

/** The figures of a whole run. */
export interface LoadSummary {
  requests: number;
  durationMs: number;
  /** Mean requests per second over the run. */
  rps: number;
  latency: LoadLatency | null;
  byStatus: Record<string, number>;
  errors: number;
}

export interface LoadCriterionResult {
  name: string;
  /** "p95 212 ms <= 200 ms" */
  text: string;
  measured: number | null;
  op: '<' | '<=' | '>' | '>=';
  threshold: number;
  unit: string;
  pass: boolean;
}

export interface LoadResultView {
  runId: number;
  name: string;
  phase: string;
  at: number;
  startedAt: number;
  outcome: LoadOutcome;
  passed: boolean;
  detail: string;
  summary: LoadSummary | null;
  criteria: LoadCriterionResult[];
  file?: string;
}

export interface LoadRunView {
  runId: number;
  name: string;
  phase: string;
  target: string;
  /** The plan's LoadTest['engine'] (written out: this module imports nothing; engine/loadtests.ts assigns it from the plan, so a new engine fails to compile there). */
  engine: 'autocannon' | 'artillery';
  by: string;
  startedAt: number;
  durationMs: number;
  progress: LoadProgress | null;
  stopping: boolean;
}

export interface LoadTestsState {
  running: LoadRunView | null;
  /** Newest last; at most RESULTS_KEPT. */
  results: LoadResultView[];
  /** Tests that passed since the current phase was entered. */
  passed: string[];
}

export type { CommandRun, PodDetail, RunbookCommand, RunbookEffect, RunbookEvent, RunbookState, RunPurpose } from './runbook-types.js';
import type { RunbookCommand, RunbookEffect, RunbookEvent, RunbookState } from './runbook-types.js';

export interface ReduceResult {
  state: RolloutState;
  effects: Effect[];
}

/** Samples kept per SLI and track: 6 h at a one-minute interval, so a sparkline at a fast clock
 * (the embedded world's one simulated hour a second) can show hours of trend, not minutes of noise
 * (the SLIs pane picks its window from the clock's speed). */
export const SERIES_CAPACITY = 360;
export const HISTORY_CAPACITY = 200;
