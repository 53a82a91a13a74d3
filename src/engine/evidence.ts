// Evidence: what a sample is worth (valid, no data, invalid) and whether the rollout has seen
// enough valid, fresh data to move traffic. Pure functions of plan + state, shared by reduce (which
// classifies samples and evaluates rules) and gates (which open only on fresh, valid evidence).
//
// The rule, for every gate: no gate opens and no weight goes up unless every SLI the gate needs
// has a valid value measured after the previous weight change was confirmed (and within
// noDataAfter of now). Before there is canary traffic (the first gate, or a restart after a
// rollback) that means: every source healthy, and every SLI the first phase needs answered with a
// valid value for the STABLE fleet (analysis.tracks.stable), the one carrying the traffic now: an
// empty answer there means the query watches nothing (a wrong metric or label name), and the
// canary would then take traffic unwatched. Canary and baseline are not read then: with no traffic
// they answer nothing, or NaN for a ratio (0/0); a query that fails holds through the source. A
// sample's time is the source's own (an answer Prometheus evaluated 2 h ago is 2 h old), so a
// cached or frozen answer past noDataAfter is never evidence. Rollback never asks.
//
// Rules 3 (RolloutState.rules) adds, with traffic on the canary: the canary must serve requests.
// The plan's traffic SLI (plan/traffic-sli.ts: analysis.trafficSli, else its only SLI with unit
// rps) needs a fresh, valid canary value like any other evidence, and above zero: ratio SLIs of a
// canary that serves nothing read "no data", NaN, or (written with `or vector(0)`) perfectly
// healthy, and none of that is a canary judged. Before traffic (0%) nothing changes: the first gate
// reads the stable fleet. `evidenceGone` says which SLIs have had no valid evidence for longer than
// noDataAfter (no data, invalid data, no requests alike): the engine pages once, and
// `run --headless` ends on it (exit 5, or 4 with onNoData: hold).
import type { Plan, Sli } from '../plan/schema.js';
import { trackLabels } from '../plan/tracks.js';
import { formatDuration } from '../plan/duration.js';
import type { CompiledPlan } from './compiled.js';
import { SERIES_CAPACITY, type RolloutState, type SampleNote, type SliSample, type SliState } from './types.js';

/** Prometheus' spelling of a number that is not finite: "+Inf", "-Inf", "NaN". */
export function rawText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Why `v` cannot be a value of an SLI measured in `unit`, or null when it can. */
export function impossible(v: number, unit: Sli['unit']): string | null {
  if (!Number.isFinite(v)) return `${rawText(v)} is not a finite number`;
  if (unit === 'percent' && (v < -1e-9 || v > 100 + 1e-9)) return `${rawText(v)} is not a percentage (0 to 100)`;
  if (v < -1e-9) return `${rawText(v)} is negative: a ${unit === 'ms' ? 'latency' : unit === 'rps' ? 'rate' : 'count'} cannot be`;
  return null;
}

/** What one sample is worth. */
export function classify(plan: Plan, sli: Sli, sample: SliSample, at: number): SampleNote {
  const warnings = sample.warnings?.length ? { warnings: [...sample.warnings] } : {};
  if (sample.error !== undefined) return { at, status: 'invalid', value: null, why: sample.error, ...warnings };
  const v = sample.value;
  if (v === null) return { at, status: 'no-data', value: null, ...warnings };
  const bad = impossible(v, sli.unit);
  if (bad !== null) return { at, status: 'invalid', value: null, raw: rawText(v), why: `invalid data: ${bad}`, ...warnings };
  if (sample.warnings?.length && (plan.sources.prometheus?.warnings ?? 'inconclusive') === 'inconclusive')
    return { at, status: 'invalid', value: null, why: `the source warned: ${sample.warnings.join('; ')} (sources.prometheus.warnings: inconclusive)`, ...warnings };
  return { at, status: 'ok', value: v, ...warnings };
}

interface Needed {
  canary: readonly string[];
  baseline: readonly string[];
  /** `canary` and the traffic SLI (rules 3). */
  canaryAndTraffic: readonly string[];
  /** `canary` and `baseline`, each once. */
  all: readonly string[];
}
const neededCache = new WeakMap<CompiledPlan, Map<number, Needed>>();

/** The SLIs the gates need: the criteria of the phase in question and every SLI a rule reads
 * (computed once per plan and phase: the gates ask at every event). */
export function neededSlis(cp: CompiledPlan, phaseIndex: number): Needed {
  let byPhase = neededCache.get(cp);
  if (!byPhase) neededCache.set(cp, (byPhase = new Map()));
  let hit = byPhase.get(phaseIndex);
  if (!hit) byPhase.set(phaseIndex, (hit = computeNeeded(cp, phaseIndex)));
  return hit;
}

function computeNeeded(cp: CompiledPlan, phaseIndex: number): Needed {
  const canary = new Set<string>();
  const baseline = new Set<string>();
  for (const c of cp.phases[phaseIndex]?.criteria ?? []) canary.add(c.sli);
  for (const r of cp.rules) {
    if (r.kind === 'value' || r.kind === 'relative') canary.add(r.sli);
    if (r.kind === 'relative') baseline.add(r.sli);
  }
  const t = cp.trafficSli;
  return Object.freeze({ canary: Object.freeze([...canary]), baseline: Object.freeze([...baseline]), canaryAndTraffic: Object.freeze(t !== null && !canary.has(t) ? [...canary, t] : [...canary]), all: Object.freeze([...new Set([...canary, ...baseline])]) });
}

/** Why a note is not fresh, valid evidence measured at or after `since`; null when it is. */
export function noteProblem(cp: CompiledPlan, now: number, note: SampleNote | null, since: number | null): string | null {
  if (!note) return 'no data yet (never counted as a pass)';
  if (now - note.at > cp.noDataMs) return `no sample for ${formatDuration(now - note.at)} (never counted as a pass)`;
  if (note.status === 'no-data') return 'no data (never counted as a pass)';
  if (note.status === 'invalid') return `${note.raw !== undefined ? `invalid value ${note.raw}` : 'inconclusive'}: ${note.why ?? 'invalid data'}`;
  if (since !== null && note.at < since) return `no sample measured since the weight change was confirmed ${formatDuration(now - since)} ago`;
  return null;
}

const noteOf = (s: SliState | undefined, track: 'canary' | 'baseline' | 'stable') =>
  s ? (track === 'canary' ? s.canaryNote : track === 'baseline' ? s.baselineNote : s.stableNote) : null;

/** Why the evidence does not allow moving traffic now (empty when it does). */
export function evidenceBlockers(cp: CompiledPlan, s: RolloutState, trafficOn: boolean): string[] {
  const out: string[] = [];
  if (!trafficOn && (s.rules ?? 1) < 2) {
    // Rules 1 (a rollout journaled before the stable fleet's answers existed, replayed as it ran):
    // the baseline's answers, measured, fresh and not invalid, an empty one allowed.
    for (const name of neededSlis(cp, 0).all) {
      const note = noteOf(s.slis[name], 'baseline');
      const why = note?.status === 'no-data' && s.now - note.at <= cp.noDataMs ? null : noteProblem(cp, s.now, note, null);
      if (why) out.push(`baseline ${name}: ${why}`);
    }
    return out;
  }
  if (!trafficOn) {
    // The first gate (or a restart): no canary traffic to judge, so the fleet that carries the
    // traffic must be seen clearly, through the very queries that will watch the canary.
    const label = trackLabels(cp.plan).stable;
    for (const name of neededSlis(cp, 0).all) {
      const why = noteProblem(cp, s.now, noteOf(s.slis[name], 'stable'), null);
      if (why) out.push(`stable ${name}: ${why}${why.startsWith('no data (') ? ` - the query matched nothing on the stable fleet ($track="${label}"): a metric or label name that does not exist (or analysis.tracks.stable), and the canary would take traffic unwatched` : ''}`);
    }
    return out;
  }
  for (const name of canarySlisNeeded(cp, s)) {
    const why = noteProblem(cp, s.now, noteOf(s.slis[name], 'canary'), s.weightConfirmedAt);
    if (why) out.push(`${name}: ${why}`);
  }
  const idle = noRequests(cp, s);
  if (idle) out.push(`${idle.text}: nothing to judge, so no gate opens`);
  for (const r of s.inconclusive) out.push(`rule ${r.rule} cannot be evaluated: ${r.why}`);
  return out;
}

/** Rules 3 and later: a gate with traffic on the canary also needs the canary to serve requests. */
export const trafficFloor = (s: RolloutState): boolean => (s.rules ?? 1) >= 3;

/** The canary SLIs a gate needs with traffic on: the phase's criteria, every SLI a rule reads, and
 * (rules 3) the traffic SLI. */
function canarySlisNeeded(cp: CompiledPlan, s: RolloutState): readonly string[] {
  const needed = neededSlis(cp, s.phaseIndex);
  return trafficFloor(s) ? needed.canaryAndTraffic : needed.canary;
}

/** A rate as the holds say it: "0", "0.25", "850". */
const rate = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : String(+v.toFixed(2)));

/** Rules 3: the canary serves no requests (a fresh, valid answer of the traffic SLI measured since
 * the weight change was confirmed is 0/s), with
 * the words the holds and blockers use. Null when it serves some, when the plan has no traffic SLI,
 * or when there is no fresh valid answer (that is missing evidence, said as such). */
export function noRequests(cp: CompiledPlan, s: RolloutState): { sli: string; value: number; text: string } | null {
  const sli = cp.trafficSli;
  if (sli === null || !trafficFloor(s)) return null;
  const note = s.slis[sli]?.canaryNote;
  if (!note || note.status !== 'ok' || note.value === null || note.value > 0 || s.now - note.at > cp.noDataMs) return null;
  // Measured before the weight change was confirmed (at 0%, or at the step before): not yet news.
  if (s.weightConfirmedAt !== null && note.at < s.weightConfirmedAt) return null;
  return { sli, value: note.value, text: `canary serves no requests: ${rate(note.value)}/s (${sli})` };
}

export interface GoneEvidence {
  /** The SLI, with " (stable fleet)" before the first gate. */
  sli: string;
  /** How long it has had no valid evidence. */
  forMs: number;
  /** What the newest answer is: "no data", "invalid value NaN: ...", "canary serves no requests: 0/s". */
  why: string;
  noData: boolean;
}

/** SLIs the gate needs that have had no valid evidence for longer than noDataAfter, while the
 * source keeps answering (a sample within two intervals: a gap in sampling itself, a stalled event
 * loop or a source that is down, is said by the source's health, not here). With traffic on: the
 * canary's answers (no data, invalid, or the traffic SLI at 0/s under rules 3), since its last valid
 * one. Before the first gate (rules 2 and later): the stable fleet's newest answer, no data or
 * invalid, while the rollout has waited there longer than noDataAfter. */
export function evidenceGone(cp: CompiledPlan, s: RolloutState): GoneEvidence[] {
  const out: GoneEvidence[] = [];
  if (s.status === 'pending') {
    if ((s.rules ?? 1) < 2) return out; // a rollout journaled under rules 1 judged the baseline there
    if (s.now - s.statusSince <= cp.noDataMs) return out;
    for (const name of neededSlis(cp, 0).all) {
      const note = s.slis[name]?.stableNote;
      if (!note || note.status === 'ok' || s.now - note.at > 2 * cp.intervalMs) continue;
      out.push({ sli: `${name} (stable fleet)`, forMs: s.now - s.statusSince, why: noteWhy(note, s), noData: note.status === 'no-data' });
    }
    return out;
  }
  if ((s.status !== 'running' && s.status !== 'paused') || s.phaseIndex < 0) return out;
  const traffic = trafficFloor(s) ? cp.trafficSli : null;
  for (const name of canarySlisNeeded(cp, s)) {
    const sli = s.slis[name];
    if (!sli) continue;
    const c = sli.canary;
    const sampledAt = c.end > c.start ? c.bt[c.end - 1]! : null;
    if (sampledAt === null || s.now - sampledAt > 2 * cp.intervalMs) continue;
    const note = sli.canaryNote;
    const good = (v: number | null | undefined) => v !== null && v !== undefined && (name !== traffic || v > 0);
    if (note && note.status === 'ok' && good(note.value) && s.now - note.at <= cp.noDataMs) continue;
    // Since its last valid value (the series keeps valid values, and a gap for anything else);
    // none in the window: since the window's first sample when it is full (at least that long),
    // else since the phase started. Never before the rollout (re)started.
    let since: number | null = null;
    for (let i = c.end - 1; i >= c.start; i--)
      if (good(c.bv[i])) {
        since = c.bt[i]!;
        break;
      }
    since ??= c.end - c.start >= SERIES_CAPACITY ? c.bt[c.start]! : (s.phaseStartedAt ?? s.startedAt);
    if (since === null) continue;
    since = Math.max(since, s.startedAt ?? since);
    if (s.now - since <= cp.noDataMs) continue;
    const idle = name === traffic && note?.status === 'ok' && note.value !== null && !good(note.value);
    out.push({ sli: name, forMs: s.now - since, why: idle ? `canary serves no requests: ${rate(note.value!)}/s` : noteWhy(note, s), noData: !idle && (note === null || note.status === 'no-data') });
  }
  return out;
}

/** A note that is not valid evidence, in a few words: a failed query while a source is failing
 * says so (the source's health has the error), any other reason is cut at 200 characters. */
function noteWhy(note: SampleNote | null, s: RolloutState): string {
  if (!note || note.status === 'no-data') return 'no data';
  if (note.status === 'ok') return `no sample for ${formatDuration(s.now - note.at)}`;
  if (note.raw !== undefined) return `invalid value ${note.raw}: ${(note.why ?? 'invalid data').replace(/^invalid data: /, '')}`;
  const failing = Object.entries(s.sources).filter(([, h]) => !h.ok).map(([n]) => n);
  if (failing.length) return `no valid answer: source ${failing.join(', ')} failing`;
  const why = note.why ?? 'invalid data';
  return `inconclusive: ${why.length > 200 ? `${why.slice(0, 199)}…` : why}`;
}

/** The gone evidence in words, SLIs with the same reason together ("availability, error_rate (no
 * valid answer: source prometheus failing) for 12m"); `named`: say "(no data)" too. */
export function goneText(gone: readonly GoneEvidence[], named: boolean): string {
  const groups = new Map<string, GoneEvidence[]>();
  // Without `named`, every SLI with no data is said alone, as "availability for 12m".
  gone.forEach((g, i) => {
    const key = !named && g.noData ? `\0${i}` : g.why;
    groups.set(key, [...(groups.get(key) ?? []), g]);
  });
  return [...groups.values()]
    .map((gs) => `${gs.map((g) => g.sli).join(', ')}${named || !gs[0]!.noData ? ` (${gs[0]!.why})` : ''} for ${formatDuration(Math.max(...gs.map((g) => g.forMs)))}`)
    .join(', ');
}
