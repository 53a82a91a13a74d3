// Sparklines: a series of values (with gaps) drawn with the eight block glyphs ▁▂▃▄▅▆▇█.
// Pure; the newest point is at the right edge, so two series drawn at the same width line up.
//
// An SLI's sparklines are drawn on an honest scale (sliSparkScale + scaledRange), not on the
// data's own min–max: a line scaled to its own extremes turns 99.95–99.97% availability into a
// full-height collapse and 0.02–0.05% error-rate noise into a spike. The scale always reaches the
// ideal end (0 for lower-is-better, 100% for a higher-is-better percentage) and goes past the
// success criterion's threshold by 1.5x the ideal-to-threshold distance, so while the data stays
// within that, the threshold sits at a fixed height (40% of the way from the ideal end), noise
// inside the target is a nearly flat line near the ideal end, and a crossing is visibly far.
import { compare, compile } from '../src/engine/compiled.js';
import type { Series } from '../src/engine/types.js';
import { formatDuration, type Criterion, type Plan, type Sli } from '../src/plan/schema.js';

export const BLOCKS = '▁▂▃▄▅▆▇█';
/** Drawn for a sample that had no data (distinct from a 0, which is ▁). */
export const GAP = '·';

export interface SparkRange {
  min: number;
  max: number;
}

/** The range over the last `width` points of every series (nulls ignored); null when none has data. */
export function sparkRange(width: number, ...series: readonly (readonly (number | null)[])[]): SparkRange | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const values of series) {
    for (let i = Math.max(0, values.length - width); i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min === Number.POSITIVE_INFINITY ? null : { min, max };
}

/** One glyph per cell: the last `width` values, right-aligned; cells before the first value are spaces. */
export function sparkCells(values: readonly (number | null)[], width: number, range?: SparkRange | null): string[] {
  if (width <= 0) return [];
  const r = range === undefined ? sparkRange(width, values) : range;
  const cells: string[] = new Array<string>(width);
  const start = values.length - width;
  const span = r ? r.max - r.min : 0;
  for (let i = 0; i < width; i++) {
    const j = start + i;
    if (j < 0) {
      cells[i] = ' ';
      continue;
    }
    const v = values[j];
    if (v === null || v === undefined || !Number.isFinite(v) || !r) {
      cells[i] = GAP;
      continue;
    }
    let level: number;
    if (span <= 0) level = v === 0 ? 0 : 3; // a flat line: at the floor for 0, mid-height otherwise
    else level = Math.round(((v - r.min) / span) * 7);
    cells[i] = BLOCKS[Math.max(0, Math.min(7, level))]!;
  }
  return cells;
}

/** The sparkline as a string of exactly `width` cells. */
export function sparkline(values: readonly (number | null)[], width: number, range?: SparkRange | null): string {
  return sparkCells(values, width, range).join('');
}

export interface SparkRun {
  text: string;
  /** The points in this run satisfy `flag` (e.g. beyond the rollback threshold). */
  flagged: boolean;
}

/** The sparkline cut into runs of flagged / unflagged points, for drawing flagged ones in another colour. */
export function sparkRuns(
  values: readonly (number | null)[],
  width: number,
  range: SparkRange | null | undefined,
  flag: ((v: number) => boolean) | undefined,
): SparkRun[] {
  const cells = sparkCells(values, width, range);
  if (!flag) return [{ text: cells.join(''), flagged: false }];
  const runs: SparkRun[] = [];
  const start = values.length - width;
  for (let i = 0; i < cells.length; i++) {
    const v = start + i >= 0 ? values[start + i] : null;
    const flagged = v !== null && v !== undefined && Number.isFinite(v) && flag(v);
    const last = runs[runs.length - 1];
    if (last && last.flagged === flagged) last.text += cells[i]!;
    else runs.push({ text: cells[i]!, flagged });
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// The scale of an SLI's sparklines

/** Past the threshold, the scale goes on for this many times the distance ideal → threshold. */
export const THRESHOLD_HEADROOM = 1.5;

export interface SparkScale {
  /** The ideal end of the scale: 0 (lower-is-better) or 100 (a higher-is-better percentage). */
  ideal?: number;
  /** The success criterion's threshold: always on the scale, with headroom beyond it. */
  threshold?: number;
  /** Other levels the scale must include (0 for a request rate: a drop to nothing is far). */
  include?: number[];
  /** Percentages: the headroom stops at 0 and 100 (the data itself may go anywhere). */
  clamp?: SparkRange;
  /** The point misses the success criterion (drawn like a rollback trip). */
  miss?: (v: number) => boolean;
}

/** The data's range widened to the scale's levels; null (nothing to draw) stays null. */
export function scaledRange(data: SparkRange | null, scale: SparkScale, headroom = THRESHOLD_HEADROOM): SparkRange | null {
  if (!data) return null;
  let { min, max } = data;
  const take = (v: number | undefined) => {
    if (v === undefined || !Number.isFinite(v)) return;
    if (v < min) min = v;
    if (v > max) max = v;
  };
  take(scale.ideal);
  take(scale.threshold);
  for (const v of scale.include ?? []) take(v);
  if (scale.ideal !== undefined && scale.threshold !== undefined) {
    let far = scale.threshold + (scale.threshold - scale.ideal) * headroom;
    if (scale.clamp) far = Math.max(scale.clamp.min, Math.min(scale.clamp.max, far));
    take(far);
  }
  return { min, max };
}

/** The scale for an SLI judged by `criterion` (the current phase's, as the target column shows). */
export function sliScale(sli: Pick<Sli, 'unit' | 'direction'>, criterion?: Pick<Criterion, 'op' | 'value'>): SparkScale {
  const scale: SparkScale = {};
  if (sli.unit === 'count') return scale;
  const lower = sli.direction === 'lower-is-better';
  if (lower) scale.ideal = 0;
  else if (sli.unit === 'percent') scale.ideal = 100;
  else if (sli.unit === 'rps') scale.include = [0];
  if (sli.unit === 'percent') scale.clamp = { min: 0, max: 100 };
  if (criterion) {
    scale.threshold = criterion.value;
    const { op, value } = criterion;
    scale.miss = (v) => !compare(v, op, value);
  }
  return scale;
}

/** sliScale with the criterion found as the SLI pane finds its target: the current phase's
 * criteria, else the plan's success criteria and safety thresholds. */
export function sliSparkScale(plan: Plan, phaseIndex: number, sli: Sli): SparkScale {
  const phase = compile(plan).phases[Math.max(0, phaseIndex)];
  const criteria = phase ? phase.criteria : [...plan.successCriteria, ...plan.safetyThresholds];
  return sliScale(sli, criteria.find((c) => c.sli === sli.name));
}

/** Either flag holds (a rollback trip, or a miss of the criterion); undefined when neither exists. */
export function eitherFlag(a?: (v: number) => boolean, b?: (v: number) => boolean): ((v: number) => boolean) | undefined {
  if (!a) return b;
  if (!b) return a;
  return (v) => a(v) || b(v);
}

// ---------------------------------------------------------------------------------------------
// The window: how much simulated time a sparkline covers at the clock's speed

/** About this much real watching across the line: at one simulated hour a second a window of a
 * few minutes is gone in a blink (noise), so the window grows with the speed. */
export const SPARK_REAL_MS = 2 * 60_000;
/** The shortest window (real time, an unknown speed): half an hour of samples. */
export const MIN_SPARK_SPAN_MS = 30 * 60_000;
/** Spans a window snaps to (the label stays still while a measured speed wobbles). */
const NICE_SPANS = [30, 60, 120, 180, 360, 720, 1440, 2880].map((m) => m * 60_000);

export interface SparkWindow {
  /** 'buckets': `cells` buckets of `bucketMs` (aligned to multiples of it), each drawn as its
   * worst sample, an empty one as a gap; 'samples': the samples of the span, spread over the cells
   * by count (a bucket shorter than 1.5 sample intervals would leave empty ones by jitter alone);
   * 'newest': the speed is not known (yet): the newest sample in each cell, as they come. */
  mode: 'newest' | 'samples' | 'buckets';
  /** The simulated time the line covers: the same for every width at a given speed. */
  spanMs: number;
  bucketMs: number;
  /** For a title: "last 6h". */
  label: string;
}

/** The window at `speed` simulated ms per real ms (null/0: not known yet) for `cells` cells:
 * about SPARK_REAL_MS of watching, snapped to a round span, at least MIN_SPARK_SPAN_MS and never
 * longer than the series hold (`heldMs`). The span depends on the speed only, so the SLIs pane,
 * the SLI details and the wall agree; the width only sets the resolution. */
export function sparkWindow(speed: number | null, intervalMs: number, cells: number, heldMs: number): SparkWindow {
  const n = Math.max(1, cells);
  if (speed === null || !(speed > 0)) return { mode: 'newest', spanMs: n * intervalMs, bucketMs: intervalMs, label: `last ${n} samples` };
  let span = MIN_SPARK_SPAN_MS;
  const target = speed * SPARK_REAL_MS;
  // the nearest round span on a log scale
  for (const s of NICE_SPANS) if (Math.abs(Math.log(s / target)) < Math.abs(Math.log(span / target))) span = s;
  span = Math.max(intervalMs, Math.min(span, heldMs));
  const label = `last ${formatDuration(span)}`;
  if (span / n < 1.5 * intervalMs) return { mode: 'samples', spanMs: span, bucketMs: intervalMs, label };
  return { mode: 'buckets', spanMs: span, bucketMs: span / n, label };
}

/** The worse of two values for an SLI: the higher for lower-is-better, else the lower. */
export function worseOf(direction: 'higher-is-better' | 'lower-is-better'): (a: number, b: number) => number {
  return direction === 'lower-is-better' ? (a, b) => (b > a ? b : a) : (a, b) => (b < a ? b : a);
}

function worst(a: number | null | undefined, v: number | null | undefined, worse: (a: number, b: number) => number): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return a ?? null;
  return a === null || a === undefined ? v : worse(a, v);
}

/** The values to draw for `series` over `win` ending at `now`, at most `cells` of them, newest
 * last (for sparkCells, which right-aligns them). Each is the worst sample of its bucket or group,
 * so a one-sample spike stays visible however long the window; null where there is no number (a
 * gap). Buckets before the first sample are left out (drawn as blanks). */
export function windowValues(series: Series, win: SparkWindow, now: number, worse: (a: number, b: number) => number, cells: number): (number | null)[] {
  const n = Math.max(1, cells);
  if (win.mode === 'newest') return series.bv.slice(Math.max(series.start, series.end - n), series.end);
  if (win.mode === 'samples') {
    const since = now - win.spanMs;
    let from = series.end;
    while (from > series.start && series.bt[from - 1]! > since) from--;
    const m = series.end - from;
    if (m <= n) return series.bv.slice(from, series.end);
    // more samples than cells: cell i takes samples [i*m/n, (i+1)*m/n), its worst
    const out: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      let v: number | null = null;
      for (let j = from + Math.floor((i * m) / n); j < from + Math.floor(((i + 1) * m) / n); j++) v = worst(v, series.bv[j], worse);
      out.push(v);
    }
    return out;
  }
  const last = Math.floor(now / win.bucketMs);
  const first = last - n + 1;
  const from = first * win.bucketMs;
  const out: (number | null)[] = new Array<number | null>(n).fill(null);
  let oldest = n;
  for (let i = series.end - 1; i >= series.start; i--) {
    const t = series.bt[i]!;
    if (t < from) break;
    const k = Math.floor(t / win.bucketMs) - first;
    if (k < 0 || k >= n) continue;
    if (k < oldest) oldest = k;
    out[k] = worst(out[k], series.bv[i], worse);
  }
  return oldest >= n ? [] : out.slice(oldest);
}

/** The clock's speed as a screen sees it: simulated time per real time over the last few real
 * seconds of state changes (a war-room viewer or a joined wall does not know the server's
 * speed). null until it has seen enough; a paused clock keeps the last speed. */
export class SpeedMeter {
  private readonly points: { real: number; sim: number }[] = [];
  private last: number | null = null;

  constructor(private readonly spanMs = 3_000) {}

  observe(realMs: number, simMs: number): void {
    const p = this.points;
    const prev = p[p.length - 1];
    if (prev && (simMs === prev.sim || realMs <= prev.real)) return;
    if (prev && simMs < prev.sim) p.length = 0; // the clock went back (a replay, a new run)
    p.push({ real: realMs, sim: simMs });
    while (p.length > 2 && realMs - p[1]!.real >= this.spanMs) p.shift();
    const a = p[0]!;
    if (realMs - a.real >= Math.min(1_000, this.spanMs / 3)) this.last = (simMs - a.sim) / (realMs - a.real);
  }

  speed(): number | null {
    return this.last;
  }
}
