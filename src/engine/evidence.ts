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
import type { Plan, Sli } from '../plan/schema.js';
import { trackLabels } from '../plan/tracks.js';
import { formatDuration } from '../plan/duration.js';
import type { CompiledPlan } from './compiled.js';
import type { RolloutState, SampleNote, SliSample, SliState } from './types.js';

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

/** The SLIs the gates need: the criteria of the phase in question and every SLI a rule reads. */
export function neededSlis(cp: CompiledPlan, phaseIndex: number): { canary: string[]; baseline: string[] } {
  const canary = new Set<string>();
  const baseline = new Set<string>();
  for (const c of cp.phases[phaseIndex]?.criteria ?? []) canary.add(c.sli);
  for (const r of cp.rules) {
    if (r.kind === 'value' || r.kind === 'relative') canary.add(r.sli);
    if (r.kind === 'relative') baseline.add(r.sli);
  }
  return { canary: [...canary], baseline: [...baseline] };
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
    for (const name of new Set([...neededSlis(cp, 0).canary, ...neededSlis(cp, 0).baseline])) {
      const note = noteOf(s.slis[name], 'baseline');
      const why = note?.status === 'no-data' && s.now - note.at <= cp.noDataMs ? null : noteProblem(cp, s.now, note, null);
      if (why) out.push(`baseline ${name}: ${why}`);
    }
    return out;
  }
  if (!trafficOn) {
    // The first gate (or a restart): no canary traffic to judge, so the fleet that carries the
    // traffic must be seen clearly, through the very queries that will watch the canary.
    const needed = neededSlis(cp, 0);
    const all = [...new Set([...needed.canary, ...needed.baseline])];
    const label = trackLabels(cp.plan).stable;
    for (const name of all) {
      const why = noteProblem(cp, s.now, noteOf(s.slis[name], 'stable'), null);
      if (why) out.push(`stable ${name}: ${why}${why.startsWith('no data (') ? ` - the query matched nothing on the stable fleet ($track="${label}"): a metric or label name that does not exist (or analysis.tracks.stable), and the canary would take traffic unwatched` : ''}`);
    }
    return out;
  }
  const needed = neededSlis(cp, s.phaseIndex);
  for (const name of needed.canary) {
    const why = noteProblem(cp, s.now, noteOf(s.slis[name], 'canary'), s.weightConfirmedAt);
    if (why) out.push(`${name}: ${why}`);
  }
  for (const r of s.inconclusive) out.push(`rule ${r.rule} cannot be evaluated: ${r.why}`);
  return out;
}
