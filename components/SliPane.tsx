// SLIs: canary against baseline, one row per rate/latency/percentage SLI (two sparklines on a
// shared scale, current values, the target and the rollback trigger, a verdict, the sample age),
// and the zero-tolerance counters on a compact line at the bottom.
import { Box } from 'ink';
import { useEffect, useState } from 'react';
import type { Plan, Sli } from '../src/plan/schema.js';
import { compare, compile, type CompiledPlan, type CompiledRule } from '../src/engine/compiled.js';
import { latest } from '../src/engine/series.js';
import { SERIES_CAPACITY, type RolloutState, type SampleNote } from '../src/engine/types.js';
import { trafficOn } from '../src/engine/traffic.js';
import { cellWidth, fit, fitLeft, formatAge, formatOp, formatThreshold, formatValue } from './format.js';
import { fitLines, flowItems, Lines, type PLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import { eitherFlag, scaledRange, sliSparkScale, sparkRange, sparkRuns, sparkWindow, windowValues, worseOf, type SparkWindow } from './sparkline.js';
import type { Theme, Tone } from './theme.js';

/** `invalid`: the newest canary value is impossible (+Inf, NaN, out of range) or its query failed
 * or warned: shown as measured, never a pass. */
export type SliVerdict = 'pass' | 'fail' | 'no-data' | 'invalid' | 'none';
export const VERDICT_GLYPH: Record<SliVerdict, string> = { pass: '✓', fail: '✗', 'no-data': '?', invalid: '!', none: '·' };
const VERDICT_TONE: Record<SliVerdict, Tone> = { pass: 'ok', fail: 'bad', 'no-data': 'warn', invalid: 'bad', none: 'muted' };

/** Short names for the counters line. */
const COUNT_LABELS: Record<string, string> = {
  critical_errors: 'critical',
  security_violations: 'security',
  data_integrity_failures: 'data',
  memory_leaks: 'leaks',
  customer_complaints: 'complaints',
  security_incidents: 'incidents',
};
export function countLabel(name: string): string {
  return COUNT_LABELS[name] ?? name.split('_')[0] ?? name;
}

interface SliMeta {
  sli: Sli;
  /** The absolute rollback rule that trips first as the value degrades (shown as `rb ≥ 1000ms`). */
  rb?: CompiledRule & { kind: 'value' };
  /** A baseline-relative rule, shown when there is no absolute one (`rb ≥ 3×base`). */
  rbRelative?: CompiledRule & { kind: 'relative' };
  /** Absolute rules on this SLI: a point is drawn red when one of them holds. */
  trips: (CompiledRule & { kind: 'value' })[];
}

const metaCache = new WeakMap<Plan, SliMeta[]>();

function sliMeta(cp: CompiledPlan): SliMeta[] {
  const hit = metaCache.get(cp.plan);
  if (hit) return hit;
  const metas = cp.plan.slis.map((sli): SliMeta => {
    const rules = cp.rules.filter((r) => (r.kind === 'value' || r.kind === 'relative') && r.sli === sli.name);
    const trips = rules.filter((r): r is CompiledRule & { kind: 'value' } => r.kind === 'value');
    // the one that trips first: for `<`/`<=` the highest threshold, for `>`/`>=` the lowest
    let rb: (typeof trips)[number] | undefined;
    for (const r of trips) {
      if (!rb) rb = r;
      else if (r.op.startsWith('<') ? r.value > rb.value : r.value < rb.value) rb = r;
    }
    const rbRelative = rules.find((r): r is CompiledRule & { kind: 'relative' } => r.kind === 'relative');
    return { sli, trips, ...(rb ? { rb } : {}), ...(rbRelative ? { rbRelative } : {}) };
  });
  metaCache.set(cp.plan, metas);
  return metas;
}

export interface SliView {
  sli: Sli;
  canaryNow: number | null;
  baselineNow: number | null;
  /** The newest value as measured when it was invalid ("+Inf", "NaN", "120"; "error" for a failed
   * or odd-shaped query), shown instead of a number. */
  canaryRaw?: string;
  baselineRaw?: string;
  target: string;
  rollback: string;
  verdict: SliVerdict;
  ageMs: number | null;
  stale: boolean;
  flag?: (v: number) => boolean;
}

/** What the pane shows for each SLI. The verdict uses the engine's own rules: the latest canary
 * value while fresh (within noDataAfter), else no data; judged by the current phase's criterion
 * and the absolute rollback triggers. */
export function sliViews(plan: Plan, state: RolloutState): SliView[] {
  const cp = compile(plan);
  const phase = cp.phases[Math.max(0, state.phaseIndex)];
  const criteria = phase ? phase.criteria : [...plan.successCriteria, ...plan.safetyThresholds];
  return sliMeta(cp).map((m): SliView => {
    const s = state.slis[m.sli.name];
    const lastAt = s?.lastAt ?? null;
    const ageMs = lastAt === null ? null : Math.max(0, state.now - lastAt);
    const fresh = ageMs !== null && ageMs <= cp.noDataMs;
    const canaryNow = s ? latest(s.canary) : null;
    const baselineNow = s ? latest(s.baseline) : null;
    const judged = fresh ? canaryNow : null;
    const crit = criteria.find((c) => c.sli === m.sli.name);
    const rawOf = (n: SampleNote | null | undefined) => (n && n.status === 'invalid' && state.now - n.at <= cp.noDataMs ? (n.raw ?? 'error') : undefined);
    const canaryRaw = rawOf(s?.canaryNote);
    const baselineRaw = rawOf(s?.baselineNote);
    // While the engine judges (traffic on the canary), a criterion's verdict is the engine's, from
    // its last analysis: the one the gate acts on and the details view explains. A newer sample
    // does not turn its "no data" into a ✓ before the engine has looked at it.
    const engine = trafficOn(state) ? state.criteria.find((c) => c.sli === m.sli.name) : undefined;
    let verdict: SliVerdict;
    if (canaryRaw !== undefined) verdict = 'invalid';
    else if (judged !== null && m.trips.some((r) => compare(judged, r.op, r.value))) verdict = 'fail';
    else if (crit && engine) verdict = engine.verdict;
    else if (!crit && m.trips.length === 0) verdict = judged === null ? 'no-data' : 'none';
    else if (judged === null) verdict = 'no-data';
    else if (crit && !compare(judged, crit.op, crit.value)) verdict = 'fail';
    else verdict = 'pass';
    const unit = m.sli.unit;
    const target = crit ? `${formatOp(crit.op)} ${formatThreshold(crit.value, unit)}` : '';
    const rollback = m.rb
      ? `rb ${formatOp(m.rb.op)} ${formatThreshold(m.rb.value, unit)}`
      : m.rbRelative
        ? `rb ${formatOp(m.rbRelative.op)} ${m.rbRelative.baselineFactor}×base`
        : '';
    const view: SliView = {
      sli: m.sli,
      canaryNow,
      baselineNow,
      ...(canaryRaw !== undefined ? { canaryRaw } : {}),
      ...(baselineRaw !== undefined ? { baselineRaw } : {}),
      target,
      rollback,
      verdict,
      ageMs,
      stale: ageMs !== null && ageMs > cp.staleMs,
    };
    if (m.trips.length) view.flag = (v) => m.trips.some((r) => compare(v, r.op, r.value));
    return view;
  });
}

function ageText(v: SliView): string {
  if (v.ageMs === null) return '—';
  return `${formatAge(v.ageMs)}${v.stale ? '⌛' : ''}`;
}

/** The pane's lines for an inner area of `width` x `height`. */
/** SLIs in the order the pane shows them (rows, then the counters line): what ↑/↓ select. */
export function sliOrder(plan: Plan): string[] {
  return [...plan.slis.filter((s) => s.unit !== 'count'), ...plan.slis.filter((s) => s.unit === 'count')].map((s) => s.name);
}

export interface SliLineOptions {
  /** Name of the selected SLI (marked with ▸ when the pane has focus). */
  selected?: string | null;
  /** Phase of the pulse of data that is older than noDataAfter (false: the mark is hidden). */
  pulseOn?: boolean;
  /** The clock's speed (simulated ms per real ms; null: unknown): sets the sparklines' window. */
  speed?: number | null;
}

export function sliLines(plan: Plan, state: RolloutState, width: number, height: number, colour = true, opts: SliLineOptions = {}): PLine[] {
  return sliPaneBody(plan, state, width, height, colour, opts).lines;
}

/** The pane's lines and the sparklines' window (its span goes in the title). */
export function sliPaneBody(plan: Plan, state: RolloutState, width: number, height: number, colour = true, opts: SliLineOptions = {}): { lines: PLine[]; window: SparkWindow } {
  const views = sliViews(plan, state);
  const rowsV = views.filter((v) => v.sli.unit !== 'count');
  const countsV = views.filter((v) => v.sli.unit === 'count');
  const cp = compile(plan);
  const mark = (name: string) => (opts.selected === undefined || opts.selected === null ? '' : opts.selected === name ? '▸' : ' ');
  // Data older than noDataAfter (the rollout holds on it) pulses: its mark blinks.
  const age = (v: SliView) => (v.ageMs !== null && v.ageMs > cp.noDataMs && opts.pulseOn === false ? ageText(v).replace('⌛', ' ') : ageText(v));
  const lines: PLine[] = [];

  // column widths
  const maxTitle = Math.max(4, ...rowsV.map((v) => cellWidth(v.sli.title)));
  const titleW = Math.min(maxTitle, width >= 100 ? 20 : width >= 76 ? 14 : 12) - (opts.selected === undefined || opts.selected === null ? 0 : 1);
  const shown = (n: number | null, raw: string | undefined, unit: Sli['unit']) => raw ?? formatValue(n, unit);
  const valW = Math.max(6, ...rowsV.flatMap((v) => [cellWidth(shown(v.canaryNow, v.canaryRaw, v.sli.unit)), cellWidth(shown(v.baselineNow, v.baselineRaw, v.sli.unit))]));
  const targetW = Math.max(0, ...rowsV.map((v) => cellWidth(v.target)));
  const rbMax = Math.max(0, ...rowsV.map((v) => cellWidth(v.rollback)));
  // Fixed, never from the values: the sparklines must not change width as an age grows (59s -> 1m, 2h⌛).
  const ageW = 5;
  const markW = opts.selected === undefined || opts.selected === null ? 0 : 1;
  const fixedNoRb = markW + titleW + 1 + valW + 2 + valW + 1 + targetW + 1 + 1 + 1 + ageW;
  const showRb = rbMax > 0 && width - fixedNoRb - rbMax - 1 - 2 >= 2 * 7;
  const fixed = fixedNoRb + (showRb ? rbMax + 1 : 0);
  const sparkW = Math.max(1, Math.floor((width - fixed - 2) / 2));
  const showSparks = width - fixed - 2 >= 4;
  // How much time the sparklines cover: longer at a faster clock, so they show a trend.
  const win = sparkWindow(opts.speed ?? null, cp.intervalMs, sparkW, SERIES_CAPACITY * cp.intervalMs);

  const header = rowsV.length > 0 && showSparks;
  if (header) {
    lines.push({
      // the column labels say which number is the canary's: before the counters, after the SLIs
      prio: 85,
      segs: [
        {
          text:
            `${' '.repeat(markW + titleW)} ${fit('canary', sparkW + 1 + valW)}  ${fit('baseline', sparkW + 1 + valW)} ${fit('target', targetW)} ` +
            (showRb ? `${fit('rollback', rbMax)} ` : '') +
            `  ${fitLeft('age', ageW)}`,
          tone: 'muted',
        },
      ],
    });
  }
  for (const v of rowsV) {
    const unit = v.sli.unit;
    // one honest scale for canary and baseline: it reaches the ideal end and the threshold, and
    // points that miss the criterion or trip a rollback rule are drawn in the bad tone
    const scale = sliSparkScale(plan, state.phaseIndex, v.sli);
    const st = state.slis[v.sli.name];
    const worse = worseOf(v.sli.direction);
    const canaryPts = st ? windowValues(st.canary, win, state.now, worse, sparkW) : [];
    const baselinePts = st ? windowValues(st.baseline, win, state.now, worse, sparkW) : [];
    const range = scaledRange(sparkRange(sparkW, canaryPts, baselinePts), scale);
    const flag = colour ? eitherFlag(v.flag, scale.miss) : undefined;
    const segs: Seg[] = [{ text: mark(v.sli.name), tone: 'info', bold: true }, { text: `${fit(v.sli.title, titleW)} ` }];
    if (showSparks) {
      for (const r of sparkRuns(canaryPts, sparkW, range, flag)) segs.push({ text: r.text, tone: r.flagged ? 'bad' : 'info' });
      segs.push({ text: ' ' });
    }
    segs.push({ text: fitLeft(shown(v.canaryNow, v.canaryRaw, unit), valW), tone: VERDICT_TONE[v.verdict], bold: v.verdict === 'fail' || v.verdict === 'invalid' });
    segs.push({ text: '  ' });
    if (showSparks) {
      for (const r of sparkRuns(baselinePts, sparkW, range, flag)) segs.push({ text: r.text, tone: r.flagged ? 'bad' : 'muted' });
      segs.push({ text: ' ' });
    }
    segs.push({ text: fitLeft(shown(v.baselineNow, v.baselineRaw, unit), valW), tone: v.baselineRaw !== undefined ? 'bad' : 'muted' });
    segs.push({ text: ` ${fit(v.target, targetW)} ` });
    if (showRb) segs.push({ text: `${fit(v.rollback, rbMax)} `, tone: 'muted' });
    segs.push({ text: VERDICT_GLYPH[v.verdict], tone: VERDICT_TONE[v.verdict], bold: true });
    segs.push({ text: ` ${fitLeft(age(v), ageW)}`, tone: v.stale || v.ageMs === null ? 'warn' : 'muted' });
    // An SLI no criterion and no rule judges (request rate) gives way first.
    lines.push({ prio: v.target || v.rollback ? 90 : 70, segs });
  }

  if (countsV.length) {
    const order: Record<SliVerdict, number> = { fail: 0, invalid: 0, 'no-data': 1, pass: 2, none: 3 };
    const sorted = [...countsV].sort((a, b) => order[a.verdict] - order[b.verdict]);
    const item = (v: SliView): Seg[] => [
      { text: `${opts.selected === v.sli.name ? '▸' : ''}${countLabel(v.sli.name)} ` },
      { text: v.canaryRaw ?? formatValue(v.canaryNow === null || v.verdict === 'no-data' ? null : v.canaryNow, 'count'), tone: VERDICT_TONE[v.verdict] },
      { text: ` ${VERDICT_GLYPH[v.verdict]}`, tone: VERDICT_TONE[v.verdict], bold: v.verdict !== 'pass' },
    ];
    const budget = Math.max(1, height - rowsV.length - (header ? 1 : 0));
    let flowed: Seg[][] = [];
    for (let k = sorted.length; k >= 0; k--) {
      const shown = sorted.slice(0, k).map(item);
      const rest = sorted.slice(k);
      if (rest.length) {
        const allOk = rest.every((v) => v.verdict === 'pass' || v.verdict === 'none');
        shown.push([{ text: `+${rest.length} ${allOk ? '✓' : 'more'}`, tone: allOk ? 'ok' : 'warn' }]);
      }
      flowed = flowItems([], shown, width, '', ' · ');
      if (flowed.length <= budget) break;
    }
    flowed.forEach((segs, k) => lines.push({ prio: 80 - k, segs }));
  }
  return { lines, window: win };
}

export interface SliPaneProps {
  plan: Plan;
  state: RolloutState;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
  /** The selected SLI's name (marked when focused). */
  selected?: string;
  /** The clock's speed (null: unknown): the sparklines' window grows with it. */
  speed?: number | null;
}

/** Why the last judgment no longer describes the canary (null: it is the current one). Display
 * only: the engine keeps the judgment it made; the screen says when it is history. A judgment is
 * current while traffic is on the canary, it is not older than two judgment periods, and at least
 * one SLI it judged still has fresh data. */
export function judgmentStaleness(plan: Plan, state: RolloutState): string | null {
  const j = state.judgment;
  if (!j) return null;
  if (state.status === 'rolled-back') return 'before the rollback';
  if (state.status === 'completed') return 'before completion';
  if (!trafficOn(state)) return 'no traffic on the canary';
  const cp = compile(plan);
  const every = Math.max(cp.judgmentEveryMs, cp.intervalMs);
  if (state.now - j.at > 2 * every) return `${formatAge(state.now - j.at)} old`;
  const judged = plan.analysis.judgment?.metrics.map((m) => m.sli) ?? [];
  const fresh = judged.some((n) => {
    const at = state.slis[n]?.lastAt;
    return at !== null && at !== undefined && state.now - at <= cp.noDataMs;
  });
  if (judged.length && !fresh) return 'its SLIs have no data now';
  return null;
}

/** The judgment in a few characters, for the pane title: glyph, verdict, score; a judgment that
 * no longer holds says so (⌛ was ...) instead of showing an old pass as the current one. */
export function judgmentBadge(state: RolloutState, plan?: Plan): string {
  const j = state.judgment;
  if (!j) return 'canary vs baseline';
  const glyph = j.verdict === 'pass' ? '✓' : j.verdict === 'fail' ? '✗' : j.verdict === 'marginal' ? '~' : '?';
  const what = `${j.verdict}${j.score === null ? '' : ` ${Math.round(j.score)}`}`;
  const stale = plan ? judgmentStaleness(plan, state) : null;
  return stale ? `judgment ⌛ was ${what}, ${stale}` : `judgment ${glyph} ${what}`;
}

export function SliPane({ plan, state, width, height, focused, theme, selected, speed }: SliPaneProps) {
  const w = paneInnerWidth(width);
  const h = paneInnerHeight(height);
  // Cheap per frame: only the newest sample time of each SLI, not a second pass over the views.
  const noDataMs = compile(plan).noDataMs;
  const pulseOn = usePulse(Object.values(state.slis).some((x) => x.lastAt !== null && state.now - x.lastAt > noDataMs));
  const body = sliPaneBody(plan, state, w, h, theme.enabled, { selected: focused ? (selected ?? null) : null, pulseOn, speed: speed ?? null });
  const lines = fitLines(body.lines, h);
  return (
    <Pane title={`SLIs · ${body.window.label}`} right={judgmentBadge(state, plan)} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={lines} width={w} theme={theme} />
      </Box>
    </Pane>
  );
}

/** A 1 Hz blink while `active`: no timer at all otherwise. */
function usePulse(active: boolean): boolean {
  const [on, setOn] = useState(true);
  useEffect(() => {
    if (!active) {
      setOn(true);
      return;
    }
    const t = setInterval(() => setOn((x) => !x), 500);
    return () => clearInterval(t);
  }, [active]);
  return on;
}
