// The rollout engine: reduce(plan, state, event) -> { state, effects }. Pure: no I/O, no clock;
// time arrives in events. The same events in the same order always give the same state.
import type { Plan } from '../plan/schema.js';
import { formatDuration } from '../plan/duration.js';
import { compare, compile, ruleThreshold, type CompiledPlan, type CompiledRule } from './compiled.js';
import { gateTarget, gateView, sameTarget } from './gates.js';
import { append, emptySeries, latest } from './series.js';
import { PodTable } from './podtable.js';
import { metricsFromSlis } from './judgment.js';
import { rollbackScope, trafficDrift, trafficOn } from './traffic.js';
import { judge } from '../analysis/judge.js';
import { signalRefusal } from '../plan/authority.js';
import { classify, evidenceGone, goneText, noRequests, noteProblem, trafficFloor } from './evidence.js';
import { advanceRefusal, approvalGateRefusal, authorityRules, deployCheck, stopRefusal, tickRefusal } from './authority.js';
import { calendarGatesAhead, calendarApprovalWhy, specialDayReason } from './calendar.js';
import { EMPTY_REPORTS, isReportEffect, onReportResult, onReportSent, reportsProgress } from './reports.js';
import { EMPTY_RUNBOOK, runbookPlan, isRunbookCommand, isRunbookEvent, onGo, onRollbackConfirmed, onRolloutStart, onRunbookCommand, onRunbookEvent, runbookHolds, runbookProgress, skippedCheckpoints } from './runbook.js';
import { initialLoadTests, onLoadProgress, onLoadResult, resetPhasePasses, startLoadTest, stopLoadTest } from './loadtests.js';
import {
  EMPTY_COMMS,
  EMPTY_NOTIFICATIONS,
  ackIncident,
  communicationsWritten,
  declareIncident,
  incidentForRollback,
  onNotifyResult,
  peopleProgress,
  resolveIncident,
  rollbackReminder,
  writeCommunications,
} from './people.js';
import {
  HISTORY_CAPACITY,
  type Actor,
  type CheckpointState,
  type CriterionResult,
  type Effect,
  type EffectInput,
  type EngineEvent,
  type GateTarget,
  type HistoryEntry,
  type Incident,
  type JudgmentState,
  type RolloutState,
  type SampleNote,
  type SliSample,
  type SliState,
  type TripExplanation,
  actorName,
} from './types.js';

/** The rules a rollout started now runs under (RolloutState.rules): 2 the stable fleet's answers
 * at the first gate; 3 the canary's traffic floor and the page for evidence gone past noDataAfter
 * (evidence.ts), and who may move traffic and when (authority.ts: approvals for the next gate
 * only, deploy steps only for it and only when it could open, a checked item ticked by hand only
 * over a failed check, with a note). */
export const ENGINE_RULES = 3;

export function initialState(plan: Plan, now: number, rules: number = ENGINE_RULES): RolloutState {
  const slis: Record<string, SliState> = {};
  for (const s of plan.slis) slis[s.name] = { canary: emptySeries(), baseline: emptySeries(), lastAt: null, canaryNote: null, baselineNote: null, stableNote: null };
  return {
    plan: plan.metadata.name,
    rules,
    status: 'pending',
    now,
    startedAt: null,
    statusSince: now,
    phaseStartedAt: null,
    phaseIndex: -1,
    stepIndex: 0,
    stepBakeMs: 0,
    phaseBakeMs: 0,
    stepStartedAt: null,
    monitoring: false,
    overdueSince: null,
    gateOpenSince: null,
    desiredWeight: 0,
    appliedWeight: 0,
    approvals: {},
    checkpoints: {},
    slis,
    criteria: [],
    judgment: null,
    sources: {},
    lastAnalysisAt: null,
    consecutiveFailures: 0,
    holding: {},
    inconclusive: [],
    weightConfirmedAt: null,
    holds: [],
    pods: PodTable.EMPTY,
    podsVersion: 0,
    rollback: null,
    nextEffectId: 1,
    pending: {},
    lastEffectError: null,
    actuation: null,
    traffic: {},
    driver: null,
    journalLost: null,
    evidenceGone: null,
    history: [],
    incidents: [],
    comms: EMPTY_COMMS,
    notifications: EMPTY_NOTIFICATIONS,
    loadTests: initialLoadTests(),
    calendar: null,
    reports: EMPTY_REPORTS,
    runbook: EMPTY_RUNBOOK,
  };
}

/** A small mutable context so each handler can add effects and history without ceremony. */
class Tx {
  effects: Effect[] = [];
  constructor(
    public s: RolloutState,
    readonly cp: CompiledPlan,
  ) {}
  effect(e: EffectInput): Effect {
    const full = { ...e, id: this.s.nextEffectId } as Effect;
    this.s.nextEffectId += 1;
    this.effects.push(full);
    if (full.type === 'set-weight' || full.type === 'rollback') this.s.pending = { ...this.s.pending, [full.id]: { type: full.type, at: this.s.now } };
    return full;
  }
  log(kind: HistoryEntry['kind'], text: string): void {
    const h = this.s.history.length >= HISTORY_CAPACITY ? this.s.history.slice(-HISTORY_CAPACITY + 1) : this.s.history.slice();
    h.push({ at: this.s.now, kind, text });
    this.s.history = h;
  }
}

export function reduce(plan: Plan, state: RolloutState, event: EngineEvent): { state: RolloutState; effects: Effect[] } {
  const cp = compile(plan);
  const tx = new Tx({ ...state }, cp);
  advanceTime(tx, event.at);
  switch (event.type) {
    case 'tick':
      break;
    case 'sli.samples':
      onSamples(tx, event.measuredAt !== undefined && event.measuredAt < event.at ? event.measuredAt : event.at, event.samples);
      break;
    case 'sli.history':
      onHistory(tx, event.points);
      break;
    // Pods: a PodTable shares every shard a change does not touch with the state before (it
    // used to copy the whole Map, 3,000 entries, per event).
    case 'pods.sync': {
      tx.s.pods = PodTable.from(tx.s.pods).withRegion(event.region, event.pods);
      tx.s.podsVersion += 1;
      break;
    }
    case 'pods.delta': {
      if (event.upserts.length === 0 && event.deletes.length === 0) break;
      tx.s.pods = PodTable.from(tx.s.pods).with(event.upserts, event.deletes);
      tx.s.podsVersion += 1;
      break;
    }
    case 'command':
      onCommand(tx, event.actor, event.command);
      break;
    case 'approve':
      onApprove(tx, event.actor, event.phase, event.role);
      break;
    case 'signal':
      onSignal(tx, event.actor, event.name, event.severity, event.note);
      break;
    case 'effect.result':
      onEffectResult(tx, event.effectId, event.ok, event.detail, event.weight);
      if (event.clusters) {
        const p = state.pending[event.effectId];
        if (p) tx.s.actuation = { effectId: event.effectId, type: p.type, at: tx.s.now, ok: event.ok, clusters: event.clusters };
        // The read-backs are readings too: the drift check compares against them, not a 10 s old poll.
        const traffic = { ...tx.s.traffic };
        for (const c of event.clusters) {
          const t = traffic[c.cluster];
          if (t && c.weight !== null) traffic[c.cluster] = { ...t, weight: c.weight, detail: c.detail, at: tx.s.now };
        }
        tx.s.traffic = traffic;
      }
      break;
    case 'traffic.observed': {
      const before = new Set(trafficDrift(tx.cp, tx.s));
      tx.s.traffic = { ...tx.s.traffic, [event.cluster]: { regions: event.regions, weight: event.weight, detail: event.detail, at: tx.s.now } };
      const drift = trafficDrift(tx.cp, tx.s);
      for (const d of drift)
        if (!before.has(d)) {
          tx.log('info', `traffic drift: ${d} - someone or something else changed the weights`);
          tx.effect({ type: 'notify', kind: 'gate', severity: 'warning', message: `${tx.cp.plan.metadata.service}: traffic drift: ${d}` });
        }
      externalRollback(tx);
      break;
    }
    case 'driver.status': {
      const prev = tx.s.driver;
      if (prev && prev.holder === event.holder && prev.self === event.self && prev.message === (event.message ?? null)) break;
      tx.s.driver = { holder: event.holder, self: event.self, since: prev && prev.holder === event.holder && prev.self === event.self ? prev.since : tx.s.now, message: event.message ?? null };
      if (!prev || prev.self !== event.self || prev.holder !== event.holder)
        tx.log('info', event.self ? 'this terminal drives the rollout (holds the lease)' : `read-only: ${event.holder ?? 'nobody'} drives${event.message ? ` (${event.message})` : ''}`);
      break;
    }
    case 'journal.lost': {
      if (tx.s.journalLost) break;
      const l = event.loss;
      tx.s.journalLost = { ...l, at: tx.s.now };
      tx.log('hold', `JOURNAL LOST: ${l.path}: ${l.reason}. Nothing after seq ${l.lastSeq} is recorded, so the rollout holds: no gate opens and no weight goes up (rolling back still works: R y).${l.saved ? ` The journal as canary wrote it is saved in ${l.saved}.` : ''} To do: ${l.todo}`);
      tx.effect({ type: 'notify', kind: 'gate', severity: 'critical', message: `${tx.cp.plan.metadata.service}: canary's journal ${l.path} was lost (${l.kind}); the rollout holds at ${tx.s.desiredWeight}% until someone restores it` });
      break;
    }
    case 'loadtest.progress':
      onLoadProgress(tx, event.runId, event.progress);
      break;
    case 'loadtest.result':
      onLoadResult(tx, event);
      break;
    case 'notify.result':
      if (isReportEffect(tx.s, event.effectId)) onReportSent(tx, event);
      else onNotifyResult(tx, event);
      break;
    case 'report.result':
      onReportResult(tx, event);
      break;
    case 'command.output':
    case 'command.result':
      if (isRunbookEvent(event)) onRunbookEvent(tx, event);
      break;
    case 'source.status': {
      const prev = tx.s.sources[event.source];
      const message = event.message ?? null;
      if (prev && prev.ok === event.ok && prev.message === message) break;
      tx.s.sources = { ...tx.s.sources, [event.source]: { ok: event.ok, message, since: prev && prev.ok === event.ok ? prev.since : tx.s.now } };
      // "is back" only after it was down: a first report of a healthy source says nothing.
      if (prev ? prev.ok !== event.ok : !event.ok) tx.log('info', `source ${event.source} ${event.ok ? 'is back' : `failing: ${message ?? 'unknown error'}`}`);
      break;
    }
  }
  progress(tx);
  evidenceProgress(tx);
  if (tx.s.status !== state.status) tx.s.statusSince = tx.s.now;
  peopleProgress(tx);
  calendarProgress(tx);
  reportsProgress(tx);
  // The same holds as before: keep the array (views and the war room compare by reference).
  const holds = computeHolds(tx);
  if (!sameStrings(holds, state.holds)) tx.s.holds = holds;
  return { state: tx.s, effects: tx.effects };
}

// ---------------------------------------------------------------------------------------------
// time

/** The plan's calendar: when the day turns into a weekend or plan holiday (or back) while a gate
 * ahead asks for more on such days, the history says so, and why (the gate dialog and `status`
 * say it again at the gate). Only plans with such approvals pay for the look-up. */
function calendarProgress(tx: Tx): void {
  const s = tx.s;
  if (s.status === 'completed') return;
  const ahead = calendarGatesAhead(tx.cp.plan, s.phaseIndex);
  if (ahead.length === 0) return;
  const reason = specialDayReason(tx.cp.plan, s.now);
  if (reason === (s.calendar ?? null)) return;
  const first = s.calendar === undefined;
  s.calendar = reason;
  const gates = ahead.map((g) => `${g.roles.join(', ')} for the gate into ${g.phase}`).join('; ');
  if (reason !== null) tx.log('info', `calendar: ${reason}: approval now also needed from ${gates}`);
  else if (!first) tx.log('info', `calendar: a working day again (${tx.cp.plan.metadata.timezone}): no longer needed: ${gates}`);
}

function advanceTime(tx: Tx, at: number): void {
  const s = tx.s;
  if (!(at > s.now)) return; // time never goes backwards; late events are applied at `now`
  const dt = at - s.now;
  s.now = at;
  // Bake time counts only while running and once the provider confirmed the weight.
  if (s.status === 'running' && s.phaseIndex >= 0 && s.appliedWeight === s.desiredWeight) {
    s.stepBakeMs += dt;
    s.phaseBakeMs += dt;
  }
}

// ---------------------------------------------------------------------------------------------
// SLI samples, analysis and rules

export { latest } from './series.js';

function onSamples(tx: Tx, at: number, samples: SliSample[]): void {
  const s = tx.s;
  s.slis = applySamples(tx, { ...s.slis }, at, samples);
  if (!trafficOn(s)) return;
  analyze(tx);
  checkRules(tx);
}

/** History from a range query: each point at its own time, oldest first, never before what the
 * series already hold. It fills the sparklines and says what the data was; rules and the analysis
 * do not judge it as news. */
function onHistory(tx: Tx, points: { t: number; samples: SliSample[] }[]): void {
  let slis = { ...tx.s.slis };
  for (const p of [...points].sort((a, b) => a.t - b.t)) {
    if (!(p.t <= tx.s.now)) continue;
    slis = applySamples(tx, slis, p.t, p.samples.filter((x) => {
      const cur = slis[x.sli];
      if (x.track === 'stable') return false; // the stable fleet has a note, no history
      const series = cur ? (x.track === 'canary' ? cur.canary : cur.baseline) : undefined;
      return !series || series.end === series.start || series.bt[series.end - 1]! < p.t;
    }));
  }
  tx.s.slis = slis;
}

/** Classifies each sample (valid, no data, invalid: see evidence.ts), keeps valid values in the
 * series (an invalid one is a gap there) and the newest note per track; says in the history when
 * what a track reports changes from valid to invalid and back, or a new warning comes. */
function applySamples(tx: Tx, slis: Record<string, SliState>, batchAt: number, samples: SliSample[]): Record<string, SliState> {
  let stale: { what: string; ageMs: number }[] | undefined;
  for (const sample of samples) {
    const cur = slis[sample.sli];
    const def = tx.cp.sliByName[sample.sli];
    if (!cur || !def) continue; // an SLI the plan does not know
    // The answer's own time when the source says it is older than the batch (a cached answer).
    const at = sample.measuredAt !== undefined && sample.measuredAt < batchAt ? sample.measuredAt : batchAt;
    const note = classify(tx.cp.plan, def, sample, at);
    const prev = sample.track === 'canary' ? cur.canaryNote : sample.track === 'baseline' ? cur.baselineNote : cur.stableNote;
    if (prev !== null && prev.at > at) continue; // never replace a newer answer with an older one
    // Said once per batch, for the answers that just became this old.
    if (batchAt - at > tx.cp.staleMs && !(prev !== null && batchAt - prev.at > tx.cp.staleMs && (batchAt - prev.at > tx.cp.noDataMs) === (batchAt - at > tx.cp.noDataMs)))
      (stale ??= []).push({ what: `${sample.sli}/${sample.track}`, ageMs: batchAt - at });
    if (sample.track === 'stable') {
      if (note.status === 'invalid' && prev?.status !== 'invalid')
        tx.log('hold', `${sample.sli}/stable: ${note.raw !== undefined ? `invalid value ${note.raw}: ` : ''}${note.why ?? 'invalid data'} - never counted as a pass`);
      slis[sample.sli] = { canary: cur.canary, baseline: cur.baseline, lastAt: cur.lastAt, canaryNote: cur.canaryNote, baselineNote: cur.baselineNote, stableNote: note };
      continue;
    }
    // A repeated old answer (the same evaluation time) is not a new point of the series.
    const series = sample.track === 'canary' ? cur.canary : cur.baseline;
    const newPoint = series.end === series.start || series.bt[series.end - 1]! < at;
    const value = note.status === 'ok' ? note.value : null;
    const lastAt = value === null ? cur.lastAt : Math.max(cur.lastAt ?? 0, at);
    const said = (n: SampleNote | null) => (n && n.status === 'invalid' ? `${n.raw ?? ''}|${n.why ?? ''}` : '');
    if (note.status === 'invalid' && said(note) !== said(prev))
      tx.log('hold', `${sample.sli}/${sample.track}: ${note.raw !== undefined ? `invalid value ${note.raw}: ` : ''}${note.why ?? 'invalid data'} - never counted as a pass`);
    else if (note.status !== 'invalid' && prev?.status === 'invalid') tx.log('info', `${sample.sli}/${sample.track}: valid data again`);
    if (note.warnings && note.status !== 'invalid' && (note.warnings.join('; ') !== (prev?.warnings ?? []).join('; ')))
      tx.log('info', `${sample.sli}/${sample.track}: the source warned: ${note.warnings.join('; ')}`);
    // Spelled out (no computed key): keeps these objects in V8's fast shape.
    slis[sample.sli] =
      sample.track === 'canary'
        ? { canary: newPoint ? append(cur.canary, at, value) : cur.canary, baseline: cur.baseline, lastAt, canaryNote: note, baselineNote: cur.baselineNote, stableNote: cur.stableNote }
        : { canary: cur.canary, baseline: newPoint ? append(cur.baseline, at, value) : cur.baseline, lastAt, canaryNote: cur.canaryNote, baselineNote: note, stableNote: cur.stableNote };
  }
  if (stale) {
    const oldest = Math.max(...stale.map((x) => x.ageMs));
    const past = oldest > tx.cp.noDataMs;
    tx.log(
      'hold',
      `${stale.length === 1 ? `${stale[0]!.what}: the answer is` : `${stale.length} answers (${stale[0]!.what}, ...) are up to`} ${formatDuration(oldest)} old by the source's own time (a cached or frozen answer: a caching proxy, a stuck query frontend) - drawn stale${past ? `, and past noDataAfter (${tx.cp.plan.analysis.noDataAfter}): never counted as evidence` : ''}`,
    );
  }
  return slis;
}

/** Success criteria and safety thresholds, once per analysis interval (also when no sample came:
 * missing data must turn into "no data", never keep an old pass alive). */
function analyze(tx: Tx): void {
  const s = tx.s;
  if (s.lastAnalysisAt !== null && s.now - s.lastAnalysisAt < tx.cp.intervalMs) return;
  s.lastAnalysisAt = s.now;
  s.criteria = evaluateCriteria(tx);
  const fresh = s.judgment === null || s.now - s.judgment.at >= tx.cp.judgmentEveryMs;
  if (fresh) s.judgment = judgeNow(tx);
  // A failed judgment counts once, when it is made, not at every interval until the next one.
  const failed = s.criteria.some((c) => c.verdict === 'fail') || (fresh && s.judgment?.verdict === 'fail');
  const allPass = s.criteria.length > 0 && s.criteria.every((c) => c.verdict === 'pass') && (s.judgment === null || s.judgment.verdict === 'pass');
  if (failed) s.consecutiveFailures += 1;
  else if (allPass) s.consecutiveFailures = 0;
}

/** Canary against baseline over the judgment's lookback, when the plan asks for one. */
function judgeNow(tx: Tx): JudgmentState | null {
  const j = tx.cp.plan.analysis.judgment;
  if (!j) return null;
  const s = tx.s;
  const bySli = new Map(j.metrics.map((m) => [m.sli, m]));
  const since = s.now - tx.cp.judgmentLookbackMs;
  const inputs = metricsFromSlis(tx.cp.plan.slis, s.slis, {
    since,
    // One sample per analysis window: the SLI queries average over `window`, so samples closer
    // together share most of their data and would look far more certain than they are.
    spacingMs: tx.cp.windowMs,
    include: (sli) => bySli.has(sli.name),
    group: (sli) => bySli.get(sli.name)!.group,
    critical: j.metrics.filter((m) => m.critical).map((m) => m.sli),
  });
  for (const m of inputs) {
    // The inputs are this call's own objects: set the tolerances on them (a spread per metric took V8's slow path).
    const cfg = bySli.get(m.name)!;
    if (cfg.allowedIncrease !== undefined) m.allowedIncrease = cfg.allowedIncrease;
    if (cfg.allowedDecrease !== undefined) m.allowedDecrease = cfg.allowedDecrease;
  }
  const r = judge({ metrics: inputs, confidence: j.confidence, thresholds: { pass: j.pass, marginal: j.marginal }, minSamples: j.minSamples, ...(j.weights ? { weights: j.weights } : {}) });
  return {
    at: s.now,
    score: r.score,
    verdict: r.verdict,
    reason: r.reason,
    metrics: r.metrics.map((m) => ({ name: m.name, outcome: m.outcome, classification: m.classification, critical: m.critical, explanation: m.explanation })),
  };
}

function evaluateCriteria(tx: Tx): CriterionResult[] {
  const s = tx.s;
  const phase = tx.cp.phases[s.phaseIndex];
  if (!phase) return [];
  return phase.criteria.map((c) => {
    const note = s.slis[c.sli]?.canaryNote ?? null;
    const fresh = note !== null && s.now - note.at <= tx.cp.noDataMs;
    // Built key by key, in this order (sli, op, threshold, at?, seed?, value, verdict, raw?, why?),
    // not by spreading a base object: spreads of conditionally shaped objects took V8's slow path
    // and were the largest single cost of a fast-forwarded plan (every analysis, every criterion).
    const r = { sli: c.sli, op: c.op, threshold: c.value } as CriterionResult;
    if (note) r.at = note.at;
    if (c.seed !== undefined) r.seed = c.seed;
    if (fresh && note.status === 'invalid') {
      r.value = null;
      r.verdict = 'invalid';
      if (note.raw !== undefined) r.raw = note.raw;
      r.why = note.why ?? 'invalid data';
      return r;
    }
    const value = fresh && note.status === 'ok' ? note.value : null;
    r.value = value;
    r.verdict = value === null ? 'no-data' : compare(value, c.op, c.value) ? 'pass' : 'fail';
    return r;
  });
}

function fmt(v: number | null | undefined, unit?: string): string {
  if (v === null || v === undefined) return 'no data';
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3).replace(/\.?0+$/, '') || '0';
  return unit === 'percent' ? `${n}%` : unit === 'ms' ? `${n}ms` : n;
}

type Condition = { kind: 'trip'; trip: TripExplanation } | { kind: 'clear' } | { kind: 'inconclusive'; why: string };

/** Evaluate one rule on the data: it trips, it is clear, or it cannot be evaluated (and why). */
function ruleCondition(tx: Tx, r: CompiledRule): Condition {
  if (r.kind !== 'value' && r.kind !== 'relative') return { kind: 'clear' };
  const sli = tx.s.slis[r.sli];
  const def = tx.cp.sliByName[r.sli];
  if (!sli || !def) return { kind: 'clear' };
  // No valid canary value: never a trip, never a pass; the rule is blind and says so.
  const canaryWhy = noteProblem(tx.cp, tx.s.now, sli.canaryNote, null);
  if (canaryWhy !== null) return { kind: 'inconclusive', why: `canary ${r.sli}: ${canaryWhy}` };
  const canary = sli.canaryNote!.value!;
  let baseline: number | null = null;
  if (r.kind === 'relative') {
    const baseWhy = noteProblem(tx.cp, tx.s.now, sli.baselineNote, null);
    if (baseWhy !== null) {
      const q = tx.cp.plan.analysis.tracks.baseline;
      return { kind: 'inconclusive', why: `${r.baselineFactor}x baseline needs the baseline's ${r.sli}: ${baseWhy} (its query selects $track="${q}"; analysis.tracks.baseline says which label value means baseline)` };
    }
    baseline = sli.baselineNote!.value!;
  }
  const threshold = ruleThreshold(r, baseline);
  if (threshold === null || !compare(canary, r.op, threshold)) return { kind: 'clear' };
  const window = tx.cp.plan.analysis.window;
  const against =
    r.kind === 'relative'
      ? `${r.baselineFactor}x baseline ${fmt(baseline, def.unit)} = ${fmt(threshold, def.unit)}${r.minimum !== undefined ? ` (floor ${fmt(r.minimum, def.unit)})` : ''}`
      : fmt(threshold, def.unit);
  return {
    kind: 'trip',
    trip: {
      rule: r.id,
      group: r.group,
      title: r.title,
      sli: r.sli,
      canary,
      baseline,
      threshold,
      op: r.op,
      window,
      query: def.query.replaceAll('$track', tx.cp.plan.analysis.tracks.canary),
      text: `${r.title} (${r.id}): canary ${def.title} ${fmt(canary, def.unit)} ${r.op} ${against}${r.forMs ? ` for ${formatDuration(r.forMs)}` : ''} [window ${window}]`,
    },
  };
}

/** With `analysis.invalidData: rollback`: the first canary SLI the rollout needs whose newest value
 * is impossible (+Inf, NaN, out of range) trips a rollback. */
function invalidDataTrip(tx: Tx): TripExplanation | null {
  if (tx.cp.plan.analysis.invalidData !== 'rollback') return null;
  for (const sli of tx.cp.plan.slis) {
    const n = tx.s.slis[sli.name]?.canaryNote;
    if (!n || n.status !== 'invalid' || n.raw === undefined || tx.s.now - n.at > tx.cp.noDataMs) continue;
    const text = `invalid data (analysis.invalidData: rollback): canary ${sli.title} is ${n.raw}: ${n.why ?? ''}`;
    return { rule: 'invalid-data', group: 'automatic', title: 'Invalid data', sli: sli.name, canary: null, raw: n.raw, text };
  }
  return null;
}

const GROUP_LABEL: Record<TripExplanation['group'], string> = {
  automatic: 'automatic rollback trigger',
  'circuit-breaker': 'circuit breaker',
  immediate: 'immediate rollback',
  manual: 'manual',
};

function checkRules(tx: Tx): void {
  const s = tx.s;
  if (!trafficOn(s)) return;
  const holding = { ...s.holding };
  const inconclusive: RolloutState['inconclusive'] = [];
  const prevInconclusive = new Map(s.inconclusive.map((x) => [x.rule, x]));
  let trip: TripExplanation | null = invalidDataTrip(tx);
  for (const r of tx.cp.rules) {
    if (trip) break;
    switch (r.kind) {
      case 'consecutive':
        if (s.consecutiveFailures >= r.consecutive) {
          const failing = s.criteria.filter((c) => c.verdict === 'fail').map((c) => `${c.sli} ${fmt(c.value)} (needs ${c.op} ${c.threshold})`);
          if (s.judgment?.verdict === 'fail') failing.push(`canary judgment: ${s.judgment.reason}`);
          trip = {
            rule: r.id,
            group: r.group,
            title: r.title,
            text: `${r.title} (${r.id}): ${s.consecutiveFailures} consecutive failed analyses >= ${r.consecutive} [interval ${tx.cp.plan.analysis.interval}; failing: ${failing.join(', ') || 'n/a'}]`,
            threshold: r.consecutive,
            op: '>=',
            canary: s.consecutiveFailures,
          };
        }
        break;
      case 'value':
      case 'relative': {
        const cond = ruleCondition(tx, r);
        if (cond.kind === 'inconclusive') {
          const was = prevInconclusive.get(r.id);
          inconclusive.push(was && was.why === cond.why ? was : { rule: r.id, why: cond.why, since: was?.since ?? s.now });
          if (!was) tx.log('hold', `rule ${r.id} cannot be evaluated: ${cond.why} - it cannot fire while this lasts, and no gate opens`);
        }
        if (cond.kind !== 'trip') {
          // Only when held: a delete (even of a missing key) sends the object to V8's slow dictionary mode.
          if (holding[r.id] !== undefined) delete holding[r.id];
        } else if (r.forMs > 0) {
          const since = holding[r.id] ?? s.now;
          holding[r.id] = since;
          if (s.now - since >= r.forMs) trip = cond.trip;
        } else trip = cond.trip;
        break;
      }
      case 'signal':
        break; // declared by people: see onSignal
    }
  }
  for (const [rule] of prevInconclusive) if (!trip && !inconclusive.some((x) => x.rule === rule)) tx.log('info', `rule ${rule} can be evaluated again`);
  // Unchanged lists keep their objects: views and the runtime compare by reference, and a tick
  // that changes neither must not look like a change (a redraw, a war-room patch).
  const nextInconclusive = trip ? [] : inconclusive;
  if (nextInconclusive.length !== s.inconclusive.length || nextInconclusive.some((x, i) => x !== s.inconclusive[i])) s.inconclusive = nextInconclusive;
  if (!sameRecord(holding, s.holding)) s.holding = holding;
  if (trip) doRollback(tx, { id: 'system', name: 'canary' }, `${GROUP_LABEL[trip.group]}: ${trip.text}`, trip);
}

// ---------------------------------------------------------------------------------------------
// commands

function onCommand(tx: Tx, actor: Actor, command: EngineEvent & { type: 'command' } extends { command: infer C } ? C : never): void {
  const s = tx.s;
  const who = actorName(actor);
  if (actor.viewer) return tx.log('refused', `${who} asked to ${command.kind}: refused, a viewer cannot act`);
  // The plan's rollback authority (any SRE, the engineering lead...): a person whose roles are
  // known rolls back only with one of those roles. A terminal without roles (one operator) may.
  if (command.kind === 'rollback' && actor.roles && tx.cp.plan.rollback.authority.length && !tx.cp.plan.rollback.authority.some((a) => actor.roles!.includes(a.role)))
    return tx.log('refused', `${who} asked to roll back: refused, the plan gives rollback authority to ${tx.cp.plan.rollback.authority.map((a) => tx.cp.roleTitles[a.role] ?? a.role).join(', ')}`);
  // Any terminal may take traffic off the canary (given the rollback authority above); everything else is the driver's.
  if (readOnly(s) && command.kind !== 'rollback') return tx.log('refused', `${who} asked to ${command.kind}: refused - read-only, ${s.driver!.holder ?? 'nobody'} drives this rollout`);
  // Rules 3: who may move traffic, and when (authority.ts). Older journals replay as they ran.
  if (authorityRules(s) && command.kind === 'run-deploy') {
    const d = deployCheck(tx.cp.plan, s, actor, command.phase);
    if (d.blockers.length) return tx.log('refused', `${who} asked to deploy${d.phase ? ` ${d.phase}` : ''}: refused - ${d.blockers.join('; ')}`);
  }
  if (authorityRules(s) && command.kind === 'stop-command') {
    const run = s.runbook.runs.find((r) => r.id === command.runId && r.status === 'running');
    const why = run ? stopRefusal(tx.cp, actor, run.by) : null;
    if (why) return tx.log('refused', `${who} asked to stop "${run!.name}": refused - ${why}`);
  }
  if (authorityRules(s) && command.kind === 'tick-item') {
    const item = runbookPlan(tx.cp.plan).items.find((i) => i.key === command.item);
    const why = item && !s.runbook.ticks[item.key] ? tickRefusal(tx.cp.plan, s, actor, item, command.note) : null;
    if (why) return tx.log('refused', `${who} ticked "${item!.text}": refused - ${why}`);
  }
  switch (command.kind) {
    case 'rollback': {
      const scope = rollbackScope(s);
      if (!scope.ok) return tx.log('refused', `${who} asked to roll back: refused - ${scope.why}`);
      const reason = `manual rollback by ${who}${command.reason ? `: ${command.reason}` : ''}`;
      doRollback(tx, actor, reason, { rule: 'manual', group: 'manual', title: 'Manual rollback', text: reason }, scope.fromWeight);
      return;
    }
    case 'pause':
      if (s.status !== 'running') return tx.log('refused', `${who} asked to pause: refused - the rollout is ${s.status}`);
      s.status = 'paused';
      tx.log('command', `${who} paused the rollout (bake clock stopped; safety rules still watch)`);
      return;
    case 'resume':
      if (s.status !== 'paused') return tx.log('refused', `${who} asked to resume: refused - the rollout is ${s.status}`);
      s.status = 'running';
      tx.log('command', `${who} resumed the rollout`);
      return;
    case 'ack-checkpoint': {
      const phase = tx.cp.phases[s.phaseIndex];
      const cps = phase ? s.checkpoints[phase.id] : undefined;
      // A checkpoint under a no-go gets its go last: a go for another one never clears it.
      const waiting = cps?.filter((c) => c.dueAt !== undefined && c.ackedAt === undefined) ?? [];
      const noGo = s.runbook.noGo;
      const due = waiting.find((c) => !(noGo && noGo.phase === phase?.id && noGo.index === c.index)) ?? waiting[0];
      if (!trafficOn(s) || !phase || !cps || !due) return tx.log('refused', `${who} asked to give a go: refused - no checkpoint is waiting`);
      s.checkpoints = {
        ...s.checkpoints,
        [phase.id]: cps.map((c) => (c === due ? { ...c, ackedAt: s.now, ackedBy: who } : c)),
      };
      tx.log('checkpoint', `${who} gave GO at ${phase.title} checkpoint ${formatDuration(due.at)}: ${due.title}`);
      onGo(tx, phase.id, due.index);
      return;
    }
    case 'advance':
      return advance(tx, actor, command.target);
    case 'load-test':
      return startLoadTest(tx, actor, command.name);
    case 'stop-load-test':
      return stopLoadTest(tx, actor, '');
    case 'declare-incident': {
      // An immediate kind rolls back: only the people the plan lets declare it may (the same
      // authority as the war-room signal). Anyone else is refused before anything opens or moves.
      const refused = command.incidentKind !== undefined ? immediateRefusal(tx.cp, command.incidentKind, 'P0', actor.roles) : null;
      if (refused) return tx.log('refused', `${who} declared ${command.incidentKind}: refused - ${refused}; declare it as other to page the on-call, or ask one of them to declare it`);
      const declared = declareIncident(tx, actor, command.severity, command.summary, command.incidentKind);
      if (!declared?.kind.immediate) return;
      // An immediate kind (the plan's rollback.immediate list) rolls back now, in the same event:
      // the journal keeps the person, the kind and the summary with the rollback.
      const { incident, kind } = declared;
      const scope = rollbackScope(s);
      if (!scope.ok) return tx.log('refused', `${incident.id} ${kind.title} declared by ${who}: rollback refused - nothing to roll back - ${scope.why}`);
      const text = `${kind.title} (${kind.id}): ${incident.id} ${incident.severity} declared by ${who} - ${command.summary.trim().replace(/\s+/g, ' ')}`;
      doRollback(tx, actor, `${GROUP_LABEL.immediate}: ${text}`, { rule: kind.id, group: 'immediate', title: kind.title, text }, scope.fromWeight, incident);
      return;
    }
    case 'ack-incident':
      return ackIncident(tx, actor, command.id);
    case 'resolve-incident':
      return resolveIncident(tx, actor, command.id);
    case 'write-communications':
      return writeCommunications(tx, actor);
    default:
      if (isRunbookCommand(command)) return onRunbookCommand(tx, actor, command, runbookHooks(tx));
  }
}

function runbookHooks(tx: Tx) {
  return {
    rollback: (actor: Actor, reason: string) => {
      const scope = rollbackScope(tx.s);
      if (!scope.ok) return tx.log('info', `rollback asked (${reason}): ${scope.why}`);
      doRollback(tx, actor, reason, { rule: 'no-go', group: 'manual', title: 'No-go at a checkpoint', text: reason }, scope.fromWeight);
    },
    trafficOn: () => trafficOn(tx.s),
    deployPhase: () => {
      const g = gateView(tx.cp.plan, tx.s);
      if (g.kind === 'phase' && g.phase) return g.phase.id;
      return tx.cp.phases[tx.s.phaseIndex]?.id ?? tx.cp.phases[0]?.id ?? null;
    },
  };
}

function enterPhase(tx: Tx, index: number, actor: Actor): void {
  const s = tx.s;
  const phase = tx.cp.phases[index]!;
  const step = phase.steps[0]!;
  const from = s.desiredWeight;
  s.phaseIndex = index;
  s.stepIndex = 0;
  s.stepBakeMs = 0;
  s.phaseBakeMs = 0;
  s.stepStartedAt = s.now;
  s.phaseStartedAt = s.now;
  s.overdueSince = null;
  s.gateOpenSince = null;
  s.status = 'running';
  s.consecutiveFailures = 0;
  s.lastAnalysisAt = null;
  s.criteria = [];
  s.judgment = null;
  s.holding = {};
  s.inconclusive = [];
  resetPhasePasses(s);
  const prev = tx.cp.phases[index - 1];
  if (prev && s.phaseIndex === index) skippedCheckpoints(tx, prev.id);
  if (index === 0) {
    s.startedAt = s.now;
    s.rollback = null;
    onRolloutStart(tx);
  }
  s.desiredWeight = step.weight;
  s.checkpoints = {
    ...s.checkpoints,
    [phase.id]: phase.checkpoints.map((c, i): CheckpointState => ({ index: i, at: c.atMs, title: c.title })),
  };
  const by = actorName(actor);
  tx.log('phase', `${by} opened the gate: ${phase.title}, traffic ${from}% -> ${step.weight}% in ${phase.regions.join(', ')}`);
  tx.effect({ type: 'set-weight', weight: step.weight, phase: phase.id, step: 0, regions: phase.regions });
  tx.effect({ type: 'notify', kind: 'gate', severity: 'info', message: `${tx.cp.plan.metadata.service}: entering ${phase.title} (${step.weight}%), gate opened by ${by}` });
}

function advance(tx: Tx, actor: Actor, target: GateTarget | undefined): void {
  const s = tx.s;
  const who = actorName(actor);
  const gate = gateView(tx.cp.plan, s);
  if (target && !sameTarget(target, gateTarget(gate, s))) {
    tx.log('refused', `advance refused - the next move has changed since the dialog opened (it showed ${target.phase} step ${target.step + 1}); look again (${who})`);
    return;
  }
  if (!gate.allowed) {
    tx.log('refused', `${who} asked to advance: refused - ${gate.blockers.join('; ')}`);
    return;
  }
  // Rules 3: only someone with rollout authority where traffic moves (authority.ts).
  const notYours = authorityRules(s) ? advanceRefusal(tx.cp, s, actor) : null;
  if (notYours) {
    tx.log('refused', `${who} asked to advance: refused - ${notYours}`);
    return;
  }
  if (gate.kind === 'phase') enterPhase(tx, gate.phaseIndex, actor);
  else if (gate.kind === 'step') nextStep(tx, who);
  else if (gate.kind === 'complete') complete(tx, who);
}

function nextStep(tx: Tx, who: string): void {
  const s = tx.s;
  const phase = tx.cp.phases[s.phaseIndex]!;
  const from = phase.steps[s.stepIndex]!.weight;
  s.stepIndex += 1;
  s.stepBakeMs = 0;
  s.stepStartedAt = s.now;
  s.overdueSince = null;
  s.gateOpenSince = null;
  const step = phase.steps[s.stepIndex]!;
  s.desiredWeight = step.weight;
  tx.log('phase', `${who}: ${phase.title} step ${s.stepIndex + 1}/${phase.steps.length}, traffic ${from}% -> ${step.weight}%`);
  tx.effect({ type: 'set-weight', weight: step.weight, phase: phase.id, step: s.stepIndex, regions: phase.regions });
  tx.effect({ type: 'notify', kind: 'gate', severity: 'info', message: `${tx.cp.plan.metadata.service}: ${phase.title} step ${s.stepIndex + 1}/${phase.steps.length}, traffic ${from}% -> ${step.weight}% (${who})` });
}

function complete(tx: Tx, who: string): void {
  const s = tx.s;
  s.status = 'completed';
  tx.log('phase', `rollout completed at ${s.desiredWeight}% (${who})`);
  tx.effect({ type: 'notify', kind: 'gate', severity: 'info', message: `${tx.cp.plan.metadata.service}: rollout completed, ${s.desiredWeight}% on ${tx.cp.plan.metadata.version}` });
}

/** `incident`: the incident this rollback answers (declared by a person), so none is opened for it. */
function doRollback(tx: Tx, actor: Actor, reason: string, trigger: TripExplanation, from?: number, incident?: Incident): void {
  const s = tx.s;
  const fromWeight = from ?? s.desiredWeight;
  const regions = tx.cp.plan.target.regions;
  s.status = 'rolled-back';
  s.desiredWeight = 0;
  s.rollback = { at: s.now, by: actorName(actor), reason, trigger, fromWeight };
  // Approvals and checkpoint answers were given for the rollout that just failed: a restart asks again.
  s.approvals = {};
  s.holding = {};
  s.inconclusive = [];
  tx.log('rollback', `ROLLBACK from ${fromWeight}%: ${reason}`);
  tx.effect({ type: 'rollback', reason, fromWeight, regions, trigger });
  stopLoadTest(tx, null, 'the rollout rolled back');
  const notice = tx.effect({ type: 'notify', kind: 'rollback', severity: 'critical', message: `${tx.cp.plan.metadata.service}: ROLLED BACK from ${fromWeight}% - ${reason}` });
  if (trigger.group === 'manual') rollbackReminder(tx, actor, notice.id);
  else if (!incident) incidentForRollback(tx, trigger);
}

// ---------------------------------------------------------------------------------------------
// approvals and signals

function onApprove(tx: Tx, actor: Actor, phaseId: string, role: string): void {
  const s = tx.s;
  const who = actorName(actor);
  if (actor.viewer) return tx.log('refused', `${who} approved ${phaseId} as ${role}: refused, a viewer cannot approve`);
  // Approvals go to the driver's terminal (the war room brings remote approvers there).
  if (readOnly(s)) return tx.log('refused', `${who} approved ${phaseId} as ${role}: refused - read-only, ${s.driver!.holder ?? 'nobody'} drives this rollout; approve there`);
  const phase = tx.cp.phases.find((p) => p.id === phaseId);
  if (!phase) return tx.log('refused', `${who} approved unknown phase "${phaseId}": refused - no such phase`);
  if (!phase.approvals.some((a) => a.role === role))
    return tx.log('refused', `${who} approved ${phase.title} as ${role}: refused - that role is not asked for at this gate`);
  if (actor.roles && !actor.roles.includes(role)) return tx.log('refused', `${who} cannot approve as ${role}: refused - not one of their roles`);
  // Rules 3: an approval is for the gate the rollout waits at or reaches next, never one ahead.
  const notNext = authorityRules(s) ? approvalGateRefusal(tx.cp, s, phase.id) : null;
  if (notNext) return tx.log('refused', `${who} approved ${phase.title} as ${role}: refused - ${notNext}`);
  const given = s.approvals[phaseId] ?? [];
  if (given.some((g) => g.role === role)) return tx.log('refused', `${who} approved ${phase.title} as ${role}: refused - already approved`);
  if (given.some((g) => g.by === who)) return tx.log('refused', `${who} approved ${phase.title} again: refused - already approved in another role; one person fills one role`);
  s.approvals = { ...s.approvals, [phaseId]: [...given, { role, by: who, at: s.now }] };
  const title = tx.cp.roleTitles[role] ?? role;
  // An approval asked for because of the calendar says which day made it needed.
  const special = phase.approvals.some((a) => a.role === role && a.when === 'weekend-or-holiday') ? specialDayReason(tx.cp.plan, s.now) : null;
  tx.log('approval', `${who} approved ${phase.title} as ${title}${special ? ` (${calendarApprovalWhy(title, special)})` : ''}`);
}

/** Why a person with `roles` may not declare the immediate rule `id` (a security breach...), or
 * null when they may (or it is no immediate rule a person declares). A signal rule has its own
 * declarers; a rule a person witnessed is declared like a signal of that name at `severity`. */
function immediateRefusal(cp: CompiledPlan, id: string, severity: 'P0' | 'P1' | 'P2', roles: readonly string[] | undefined): string | null {
  const rule = cp.rules.find((r) => r.group === 'immediate' && r.id === id);
  if (!rule) return null;
  const asSignal = (rule.kind === 'signal' ? rule : { ...rule, kind: 'signal', signal: { name: rule.id, severity } }) as CompiledRule & { kind: 'signal' };
  return signalRefusal(cp.plan, asSignal, roles);
}

function onSignal(tx: Tx, actor: Actor, name: string, severity: string | undefined, note: string | undefined): void {
  const who = actorName(actor);
  if (actor.viewer) return tx.log('refused', `${who} signalled ${name}: refused, a viewer cannot act`);
  tx.log('info', `${who} signalled ${name}${severity ? ` ${severity}` : ''}${note ? `: ${note}` : ''}`);
  if (!trafficOn(tx.s)) return;
  type SignalCompiled = CompiledRule & { kind: 'signal' };
  const declared = tx.cp.rules.find((r): r is SignalCompiled => r.kind === 'signal' && r.signal.name === name && (r.signal.severity === undefined || r.signal.severity === severity));
  // Or an immediate rule a person witnessed (security_breach, data_corruption): declared like a P0
  // signal, so the same people may declare it (the rollback authority and the P0 escalation matrix).
  const witnessed = declared ? undefined : tx.cp.rules.find((r) => r.group === 'immediate' && r.kind !== 'signal' && r.forMs === 0 && r.id === name);
  const rule = declared ?? witnessed;
  if (!rule) return;
  // Who may declare it is the plan's decision (declaredBy, or its authority and escalation matrix).
  const refused = declared ? signalRefusal(tx.cp.plan, declared, actor.roles) : immediateRefusal(tx.cp, witnessed!.id, 'P0', actor.roles);
  if (refused) return tx.log('info', `${who} signalled ${name}${severity ? ` ${severity}` : ''}: no rollback - ${refused}; someone with that authority can roll back (R y)`);
  const text = `${rule.title} (${rule.id}): ${name}${severity ? ` ${severity}` : ''} declared by ${who}${note ? ` - ${note}` : ''}`;
  doRollback(tx, actor, `${GROUP_LABEL[rule.group]}: ${text}`, { rule: rule.id, group: rule.group, title: rule.title, text });
}

function onEffectResult(tx: Tx, id: number, ok: boolean, detail: string, weight: number | undefined): void {
  const s = tx.s;
  if (s.comms.writing === id) return communicationsWritten(tx, ok, detail);
  const p = s.pending[id];
  if (!p) return;
  const pending = { ...s.pending };
  delete pending[id];
  s.pending = pending;
  if (ok) {
    if (weight !== undefined) s.appliedWeight = weight;
    if (p.type === 'set-weight') s.weightConfirmedAt = s.now;
    s.lastEffectError = null;
    tx.log('effect', `${p.type} #${id} confirmed: ${detail}`);
    if (p.type === 'rollback' && s.status === 'rolled-back') onRollbackConfirmed(tx);
  } else {
    s.lastEffectError = `${p.type} #${id} failed: ${detail}`;
    tx.log('effect', s.lastEffectError);
  }
}

// ---------------------------------------------------------------------------------------------
// progress: checkpoints coming due, steps that proceed on their own, completion

function progress(tx: Tx): void {
  const s = tx.s;
  if (!trafficOn(s)) return;
  if (s.lastAnalysisAt !== null) {
    analyze(tx);
    checkRules(tx);
    if (!trafficOn(s)) return;
  }
  const phase = tx.cp.phases[s.phaseIndex]!;
  const cps = s.checkpoints[phase.id];
  if (cps?.some((c) => c.dueAt === undefined && s.phaseBakeMs >= c.at)) {
    s.checkpoints = {
      ...s.checkpoints,
      [phase.id]: cps.map((c) => {
        if (c.dueAt !== undefined || s.phaseBakeMs < c.at) return c;
        tx.log('checkpoint', `checkpoint due: ${phase.title} hour ${c.at / 3_600_000}: ${c.title} - waiting for a go (g)`);
        tx.effect({ type: 'notify', kind: 'checkpoint', severity: 'warning', message: `${phase.title}: go/no-go checkpoint "${c.title}" (hour ${c.at / 3_600_000}) is due` });
        return { ...c, dueAt: s.now };
      }),
    };
  }
  runbookProgress(tx, trafficOn(s));
  if (s.status !== 'running' || readOnly(s)) return;
  const step = phase.steps[s.stepIndex]!;
  // Nothing can proceed by itself before the step's minimum bake: skip the full gate check.
  if (s.stepBakeMs < step.minMs) return;
  const gate = gateView(tx.cp.plan, s);
  if (gate.allowed && gate.kind === 'step' && gate.auto) return nextStep(tx, 'canary (step criteria met)');
  if (gate.allowed && gate.kind === 'complete') return complete(tx, 'canary (final bake complete)');
  // An open gate waits for a person; how long it has waited decides whether it is overdue.
  if (gate.allowed !== (s.gateOpenSince !== null)) s.gateOpenSince = gate.allowed ? s.now : null;
  // Past the maximum bake and still here: the plan wanted a decision by now. Say it once, loudly.
  // A gate that is open gets DECISION_GRACE_MS for a person to act first: with the minimum equal
  // to the maximum (the seed's 72h at 5%), it opens the moment the maximum passes.
  const waitedOpen = s.gateOpenSince === null ? null : s.now - s.gateOpenSince;
  if (s.stepBakeMs > step.maxMs && s.overdueSince === null && (waitedOpen === null || waitedOpen > DECISION_GRACE_MS)) {
    s.overdueSince = s.now;
    const what = `${phase.title}: maximum bake ${formatDuration(step.maxMs)} passed without moving on - advance (a) when the gate is open, or roll back`;
    tx.log('hold', `OVERDUE ${what}; waiting on: ${gate.blockers.join('; ') || 'a person to advance'}`);
    tx.effect({ type: 'notify', kind: 'gate', severity: 'warning', message: `${tx.cp.plan.metadata.service}: ${what}` });
  }
}

/** Rules 3: SLIs the gate needs with no valid canary evidence past noDataAfter (no data, invalid
 * data, no requests) are said and paged once, like no data and invalid data alike; "back" once
 * they all have valid evidence again. Judged once per analysis (and cleared when traffic is off). */
function evidenceProgress(tx: Tx): void {
  const s = tx.s;
  if (!trafficFloor(s)) return;
  if (!trafficOn(s)) {
    if (s.evidenceGone) s.evidenceGone = null;
    return;
  }
  if (s.lastAnalysisAt !== s.now) return;
  const gone = evidenceGone(tx.cp, s);
  const was = s.evidenceGone ?? null;
  if (gone.length === 0) {
    if (was) {
      s.evidenceGone = null;
      tx.log('info', `valid evidence again for ${was.slis.join(', ')}`);
    }
    return;
  }
  const slis = gone.map((g) => g.sli);
  if (was) {
    if (!sameStrings(slis, was.slis)) s.evidenceGone = { since: was.since, slis };
    return;
  }
  s.evidenceGone = { since: s.now, slis };
  const what = goneText(gone, true);
  const text = `no valid evidence past noDataAfter (${tx.cp.plan.analysis.noDataAfter}) at ${s.desiredWeight}%: ${what}`;
  tx.log('hold', `${text} - no gate opens, and the rules that read these cannot fire; look at the source and the queries, or roll back (R y)`);
  tx.effect({ type: 'notify', kind: 'gate', severity: 'critical', message: `${tx.cp.plan.metadata.service}: ${text}; the canary is not watched - look at the source, or roll back` });
}

function sameRecord(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** How long an open gate past the step's maximum bake waits for a person before it is OVERDUE. */
export const DECISION_GRACE_MS = 3_600_000;

function computeHolds(tx: Tx): string[] {
  const s = tx.s;
  // Not running: only what still needs a person (a rollback not confirmed everywhere, drift).
  const lost = s.journalLost ? [journalLostHold(s.journalLost)] : [];
  if (!trafficOn(s)) return [...lost, ...(s.lastEffectError ? [s.lastEffectError] : []), ...trafficDrift(tx.cp, s).map((d) => `traffic drift: ${d}`)];
  const holds: string[] = [...lost];
  if (s.status === 'paused') holds.push('paused by a person');
  if (s.overdueSince !== null) {
    const step = tx.cp.phases[s.phaseIndex]?.steps[s.stepIndex];
    if (step) holds.push(`overdue: maximum bake ${formatDuration(step.maxMs)} passed ${formatDuration(s.now - s.overdueSince)} ago - decide: advance or roll back`);
  }
  for (const c of s.criteria) {
    if (c.verdict === 'no-data') {
      const last = s.slis[c.sli]?.lastAt;
      holds.push(`no data for ${c.sli}${last ? ` for ${formatDuration(s.now - last)}` : ' yet'} (holds after ${tx.cp.plan.analysis.noDataAfter})`);
    } else if (c.verdict === 'invalid') holds.push(`${c.sli}: ${c.raw !== undefined ? `invalid value ${c.raw}: ` : 'inconclusive: '}${c.why ?? 'invalid data'}`);
  }
  // Rules 3: the traffic SLI (unless a criterion already says it): no requests, or no valid answer.
  const t = trafficFloor(s) ? tx.cp.trafficSli : null;
  if (t !== null) {
    const idle = noRequests(tx.cp, s);
    if (idle) holds.push(idle.text);
    else if (!s.criteria.some((c) => c.sli === t)) {
      const why = noteProblem(tx.cp, s.now, s.slis[t]?.canaryNote ?? null, null);
      if (why) holds.push(`canary traffic (${t}): ${why}`);
    }
  }
  for (const r of s.inconclusive) holds.push(`rule ${r.rule} cannot be evaluated: ${r.why}`);
  for (const [name, h] of Object.entries(s.sources)) if (!h.ok) holds.push(`source ${name} failing since ${formatDuration(s.now - h.since)} ago: ${h.message ?? 'unknown error'}`);
  if (s.judgment && s.judgment.verdict !== 'pass') holds.push(`canary judgment ${s.judgment.verdict}: ${s.judgment.reason}`);
  if (s.lastEffectError) holds.push(s.lastEffectError);
  holds.push(...runbookHolds(tx.cp.plan, s, tx.cp.phases[s.phaseIndex]?.id ?? null));
  if (Object.keys(s.pending).length) holds.push('waiting for the traffic provider to confirm the weight');
  for (const d of trafficDrift(tx.cp, s)) holds.push(`traffic drift: ${d}`);
  if (readOnly(s)) holds.push(`read-only: ${s.driver!.holder ?? 'nobody'} drives${s.driver!.message ? ` (${s.driver!.message})` : ''}`);
  return holds;
}

/** Every cluster of the phase reads 0% while canary had traffic there and no change is under way:
 * someone rolled back outside this console (`canary rollback` in a shell, a person with kubectl).
 * The rollout is rolled back, here too, with that reason: never re-applied by the next step. */
function externalRollback(tx: Tx): void {
  const s = tx.s;
  if (!trafficOn(s) || !(s.appliedWeight && s.appliedWeight > 0) || Object.keys(s.pending).length) return;
  const phase = tx.cp.phases[s.phaseIndex]!;
  const mine = Object.entries(s.traffic).filter(([, t]) => t.regions.some((r) => phase.regions.includes(r)));
  const covered = new Set(mine.flatMap(([, t]) => t.regions));
  if (!phase.regions.every((r) => covered.has(r)) || !mine.every(([, t]) => t.weight === 0)) return;
  const reason = `traffic is at 0% in every cluster of ${phase.title}: rolled back outside this console (canary rollback, or by hand)`;
  doRollback(tx, { id: 'system', name: 'system' }, reason, { rule: 'external', group: 'manual', title: 'Rolled back outside canary', text: reason });
}

/** The hold (and gate blocker) a lost journal puts on the rollout. */
export function journalLostHold(l: NonNullable<RolloutState['journalLost']>): string {
  return `JOURNAL LOST (${l.kind}): ${l.path} - nothing after seq ${l.lastSeq} is recorded; restore it and start canary again${l.saved ? ` (saved: ${l.saved})` : ''}`;
}

/** Not this terminal's rollout to drive (another holds the lease, or ours lapsed). */
export function readOnly(s: RolloutState): boolean {
  return s.driver !== null && !s.driver.self;
}

