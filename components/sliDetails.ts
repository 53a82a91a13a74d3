// The details view of one SLI: everything behind its verdict, in words and numbers — the queries
// as sent, the newest values, the criterion and each rollback rule on it with its threshold and
// state, the canary-versus-baseline judgment with its effect size and interval, and the data's age.
import type { Plan } from '../src/plan/schema.js';
import { formatDuration } from '../src/plan/duration.js';
import { compare, compile, ruleThreshold, type CompiledRule } from '../src/engine/compiled.js';
import { latest, seriesLength } from '../src/engine/series.js';
import { SERIES_CAPACITY, type RolloutState } from '../src/engine/types.js';
import { scaledRange, sliSparkScale, sparkline, sparkRange, sparkWindow, windowValues, worseOf } from './sparkline.js';
import { formatValue } from './format.js';

/** `spark`: the sparklines' window as the SLIs pane sets it (the clock's speed) and the width the
 * dialog gives them; without it, no sparkline. */
export function sliDetails(plan: Plan, state: RolloutState, name: string, spark?: { speed: number | null; width: number }): { title: string; lines: string[] } {
  const cp = compile(plan);
  const def = cp.sliByName[name];
  if (!def) return { title: name, lines: ['unknown SLI'] };
  const sli = state.slis[name];
  const canary = sli ? latest(sli.canary) : null;
  const baseline = sli ? latest(sli.baseline) : null;
  const age = sli?.lastAt === null || sli?.lastAt === undefined ? null : state.now - sli.lastAt;
  const lines: string[] = [];
  const v = (x: number | null) => formatValue(x, def.unit);

  lines.push(`canary ${v(canary)}   baseline ${v(baseline)}   (${def.direction}; ${sli ? seriesLength(sli.canary) : 0} samples held)`);
  lines.push(
    age === null
      ? 'data: none yet'
      : `data: newest sample ${formatDuration(age)} old${age > cp.noDataMs ? ` - NO DATA (over ${plan.analysis.noDataAfter}): holds the rollout` : age > cp.staleMs ? ` - stale (over ${plan.analysis.staleAfter})` : ''}`,
  );
  for (const [src, h] of Object.entries(state.sources)) if (!h.ok) lines.push(`source ${src} failing: ${h.message ?? ''}`);
  if (spark && sli && spark.width >= 20) {
    // Canary and baseline on one scale over the same window as the pane: longer at a faster clock.
    const cells = spark.width - 10;
    const win = sparkWindow(spark.speed, cp.intervalMs, cells, SERIES_CAPACITY * cp.intervalMs);
    const worse = worseOf(def.direction);
    const c = windowValues(sli.canary, win, state.now, worse, cells);
    const b = windowValues(sli.baseline, win, state.now, worse, cells);
    const range = scaledRange(sparkRange(cells, c, b), sliSparkScale(plan, state.phaseIndex, def));
    lines.push(`${win.label}${win.mode === 'buckets' ? `, the worst sample of each ${formatDuration(Math.round(win.bucketMs / 1000) * 1000)}` : ''} (the span follows the clock's speed):`);
    lines.push(`canary   ${sparkline(c, cells, range)}`);
    lines.push(`baseline ${sparkline(b, cells, range)}`);
  }

  const crit = cp.phases[Math.max(0, state.phaseIndex)]?.criteria.find((c) => c.sli === name);
  if (crit) {
    const r = state.criteria.find((c) => c.sli === name);
    const verdict = r
      ? r.verdict === 'pass'
        ? '✓ pass'
        : r.verdict === 'fail'
          ? '✗ FAIL'
          : r.verdict === 'invalid'
            ? `! ${r.raw !== undefined ? `invalid value ${r.raw}` : 'inconclusive'}: ${r.why ?? 'invalid data'} (never a pass)`
            : '? no data (never a pass)'
      : 'not judged yet';
    const when = r && state.lastAnalysisAt !== null ? ` (last analysis ${formatDuration(Math.max(0, state.now - state.lastAnalysisAt))} ago, every ${plan.analysis.interval})` : '';
    lines.push(`criterion: canary ${crit.op} ${v(crit.value)}${crit.seed ? ` (seed: ${crit.seed})` : ''} over ${plan.analysis.window}: ${verdict}${when}${r ? notCurrent(state, name, r.verdict) : ''}`);
  }
  const rules = cp.rules.filter((r): r is CompiledRule & { kind: 'value' | 'relative' } => (r.kind === 'value' || r.kind === 'relative') && r.sli === name);
  for (const r of rules) {
    const t = ruleThreshold(r, baseline);
    const threshold =
      r.kind === 'relative'
        ? `${r.op} ${r.baselineFactor}x baseline${t === null ? '' : ` = ${v(t)}`}${r.minimum !== undefined ? ` (floor ${v(r.minimum)})` : ''}`
        : `${r.op} ${v(t)}`;
    const blind = state.inconclusive.find((x) => x.rule === r.id);
    const state_ = blind ? `CANNOT BE EVALUATED: ${blind.why}` : canary !== null && t !== null && compare(canary, r.op, t) ? 'CONDITION HOLDS' : 'not tripped';
    const holding = state.holding[r.id];
    const forText = r.forMs ? ` for ${formatDuration(r.forMs)}${holding !== undefined ? ` (holding ${formatDuration(state.now - holding)})` : ''}` : '';
    lines.push(`rule ${r.id} [${r.group}]: roll back when canary ${threshold}${forText}: ${state_}`);
  }

  const j = state.judgment?.metrics.find((m) => m.name === name);
  if (j) lines.push(`judgment (${plan.analysis.judgment?.confidence !== undefined ? `${plan.analysis.judgment.confidence * 100}%` : ''}): ${j.explanation}`);
  else if (plan.analysis.judgment?.metrics.some((m) => m.sli === name)) lines.push('judgment: none yet');

  lines.push(`query (canary):   ${def.query.replaceAll('$track', 'canary')}`);
  if (def.seedQuery) lines.push(`seed query:       ${def.seedQuery}`);
  lines.push('esc closes; ↑/↓ the next SLI; R then y rolls back.');
  return { title: `${def.title} (${name})`, lines };
}

/** A pass (or fail) from the last analysis that what came since contradicts: a source failing now,
 * or a newer canary answer that is not a valid value. The engine judges once per interval; until it
 * does again, the verdict on screen must not read as current. */
function notCurrent(state: RolloutState, name: string, verdict: string): string {
  if ((verdict !== 'pass' && verdict !== 'fail') || state.lastAnalysisAt === null) return '';
  const failing = Object.entries(state.sources).filter(([, h]) => !h.ok);
  const note = state.slis[name]?.canaryNote ?? null;
  const newer = note !== null && note.at > state.lastAnalysisAt && note.status !== 'ok' ? note : null;
  if (failing.length === 0 && newer === null) return '';
  const ago = formatDuration(Math.max(0, state.now - state.lastAnalysisAt));
  const why = failing.length
    ? failing.map(([src, h]) => `source ${src} failing now (for ${formatDuration(Math.max(0, state.now - h.since))}): ${h.message ?? 'unknown error'}`).join('; ')
    : `the newest canary answer is ${newer!.status === 'no-data' ? 'no data' : `inconclusive: ${newer!.why ?? 'invalid data'}`}`;
  return ` - NOT CURRENT: that ${verdict} is ${ago} old, from before this: ${why}`;
}
