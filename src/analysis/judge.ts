// Canary-versus-baseline judgment in the manner of Kayenta (Netflix/Google's automated canary
// analysis): every metric is classified by a nonparametric test of canary against baseline, each
// group scores the share of its metrics that passed, the total score is the weighted mean of the
// group scores, and thresholds turn the score into a verdict. Pure: no I/O, no clock, no
// randomness.
//
// Per metric (canary = x, baseline = y):
//  - usable values: finite numbers (null, NaN and infinities are dropped; `n` counts what is left);
//  - NoData when either track has fewer than `minSamples` usable values, or when the samples are so
//    small that a two-sided test at the requested confidence could never reject: the smallest
//    attainable p is 2 / C(n1+n2, n1) (complete separation, exact test, no ties) and if that is not
//    below alpha the metric could only ever "pass", which would be a lie;
//  - otherwise a two-sided Mann-Whitney U test (method 'auto': exact for small samples without
//    ties, else the normal approximation with tie and continuity corrections). p < alpha
//    (alpha = 1 - confidence) means a real difference: High when the canary tends to be larger
//    (U1 > n1 n2 / 2), Low when it tends to be smaller; p >= alpha is Pass;
//  - High fails a lower-is-better metric, Low fails a higher-is-better metric; a significant move
//    in the good direction passes (an improvement is not a regression);
//  - effect size: the Hodges-Lehmann shift (median of canary_i - baseline_j) with its interval at
//    the same confidence, and the ratio of medians canary / baseline (null when the baseline median
//    is 0).
//
// Score and verdict:
//  - group score = 100 * passed / (passed + failed); NoData metrics are left out of the denominator
//    (and reported); a group whose metrics are all NoData has no score;
//  - total score = sum(w_g * score_g) / sum(w_g) over the groups that have a score. Weights default
//    to 1 per group (equal). When `weights` is given it must name every group that has metrics (a
//    misspelt group must not silently drop out of the score);
//  - verdict, first match wins:
//      1. any critical metric failed                         -> fail (whatever the score)
//      2. no metric has data / the score has no weight       -> inconclusive (never pass)
//      3. score < thresholds.marginal                         -> fail
//      4. a critical metric has no data                       -> inconclusive (it cannot be vouched for)
//      5. score >= thresholds.pass                            -> pass
//      6. otherwise                                           -> marginal
//    Defaults: confidence 0.98 and thresholds { pass: 95, marginal: 75 } as in Kayenta's defaults.
//
// minSamples defaults to 5 per track: at the default 98% confidence, 5 against 5 is the smallest
// balanced design that can reject at all (2 / C(10, 5) = 0.0079 < 0.02, while 4 against 4 gives
// 2 / C(8, 4) = 0.029 > 0.02), and with canary's 1m analysis interval over a 5m window it is what
// one window holds. The attainability rule above still applies for other confidences and for
// unbalanced sample sizes (5 against 3 cannot reject at 98%: 2 / C(8, 3) = 0.036).
import type { Sli } from '../plan/schema.js';
import { hodgesLehmann, mannWhitney, median } from './mannwhitney.js';

export type Direction = Sli['direction'];
export type Classification = 'Pass' | 'High' | 'Low' | 'NoData';
export type CanaryVerdict = 'pass' | 'marginal' | 'fail' | 'inconclusive';

export interface MetricInput {
  name: string;
  group: string;
  direction: Direction;
  /** A failing critical metric fails the whole judgment whatever the score. */
  critical?: boolean;
  /** Kayenta's effect-size tolerance: a significant difference only counts as High when the
   * ratio of medians canary/baseline is at least `allowedIncrease`, as Low when it is at most
   * `allowedDecrease` (defaults 1: any significant difference counts). */
  allowedIncrease?: number;
  allowedDecrease?: number;
  /** Samples of the metric on each track; null / NaN / infinities are ignored. */
  canary: readonly (number | null)[];
  baseline: readonly (number | null)[];
}

export interface JudgeInput {
  metrics: readonly MetricInput[];
  /** Group weights. Default: every group weighs the same. If given, every group with metrics must
   * appear; weights need not sum to 100 (the mean is normalized). */
  weights?: Readonly<Record<string, number>>;
  /** Confidence of the two-sided test and of the shift interval, in (0, 1). Default 0.98. */
  confidence?: number;
  /** Score thresholds in percent. Default { pass: 95, marginal: 75 }. */
  thresholds?: { pass: number; marginal: number };
  /** Fewest usable samples per track before a metric is judged. Default 5 (see above). */
  minSamples?: number;
}

export interface MetricJudgment {
  name: string;
  group: string;
  direction: Direction;
  critical: boolean;
  classification: Classification;
  /** What the classification means for this metric given its direction. */
  outcome: 'pass' | 'fail' | 'nodata';
  n: { canary: number; baseline: number };
  median: { canary: number | null; baseline: number | null };
  /** median(canary) / median(baseline); null without data or when the baseline median is 0. */
  ratio: number | null;
  /** Hodges-Lehmann estimate of canary - baseline, and its interval at `confidence`. */
  shift: number | null;
  interval: { lower: number; upper: number } | null;
  confidence: number;
  /** Two-sided Mann-Whitney p-value. */
  p: number | null;
  /** U for the canary sample (U1) and the smaller of U1, U2 (what the explanation shows). */
  u: number | null;
  uMin: number | null;
  method: 'exact' | 'asymptotic' | null;
  /** One line, e.g. "latency_p95: canary median 1210 vs baseline 221 (x5.48), shift +989 [+960,
   * +1010] at 98%, p=0.00002 (U=0, n=20/20): High - fail (lower is better)". */
  explanation: string;
}

export interface GroupJudgment {
  group: string;
  weight: number;
  /** 100 * passed / (passed + failed); null when no metric of the group has data. */
  score: number | null;
  passed: number;
  failed: number;
  noData: number;
}

export interface Judgment {
  /** Weighted mean of the group scores, 0..100; null when nothing could be judged. */
  score: number | null;
  verdict: CanaryVerdict;
  reason: string;
  metrics: MetricJudgment[];
  groups: GroupJudgment[];
}

export const JUDGE_DEFAULTS = {
  confidence: 0.98,
  thresholds: { pass: 95, marginal: 75 },
  minSamples: 5,
} as const;

// ---------------------------------------------------------------------------------------------
// Formatting (explanations are read by people at 3am: short numbers, signs on shifts).

/** 1210 -> "1210", 221.04 -> "221", 5.4751 -> "5.475", 0.000021 -> "0.000021". */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

function signed(v: number): string {
  const s = formatNumber(v);
  return v > 0 ? `+${s}` : s;
}

/** p=0.11, p=0.012, p=0.00002, p<0.000001. */
export function formatP(p: number): string {
  if (p < 1e-6) return 'p<0.000001';
  return `p=${String(Number(p.toPrecision(p < 0.001 ? 1 : 2)))}`;
}

/** 5.4853 -> "x5.49", 1.0005 -> "x1.00", 0.0123 -> "x0.0123", 1234.5 -> "x1235". */
function ratioText(r: number): string {
  const a = Math.abs(r);
  return `x${a >= 0.1 && a < 100 ? r.toFixed(2) : formatNumber(r)}`;
}

function percent(c: number): string {
  return `${Number((c * 100).toPrecision(4))}%`;
}

function scoreText(s: number): string {
  return String(Number(s.toFixed(1)));
}

const directionText = (d: Direction) => (d === 'lower-is-better' ? 'lower is better' : 'higher is better');

// ---------------------------------------------------------------------------------------------

function usable(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** The smallest two-sided p a Mann-Whitney test can reach with these sizes: 2 / C(n1+n2, n1). */
export function smallestTwoSidedP(n1: number, n2: number): number {
  const k = Math.min(n1, n2);
  const n = n1 + n2;
  let logC = 0;
  for (let i = 1; i <= k; i++) logC += Math.log(n - k + i) - Math.log(i);
  return Math.min(1, 2 * Math.exp(-logC));
}

function judgeMetric(m: MetricInput, confidence: number, minSamples: number): MetricJudgment {
  const canary = usable(m.canary);
  const baseline = usable(m.baseline);
  const n = { canary: canary.length, baseline: baseline.length };
  // Key by key rather than spreading a shared base (same keys, same order): the spread took V8's
  // slow path, thousands of times in a fast-forwarded plan.
  const critical = m.critical === true;
  const alpha = 1 - confidence;
  const noData = (why: string): MetricJudgment => ({
    name: m.name,
    group: m.group,
    direction: m.direction,
    critical,
    n,
    confidence,
    classification: 'NoData',
    outcome: 'nodata',
    median: { canary: canary.length ? median(canary) : null, baseline: baseline.length ? median(baseline) : null },
    ratio: null,
    shift: null,
    interval: null,
    p: null,
    u: null,
    uMin: null,
    method: null,
    explanation: `${m.name}: ${why}: NoData - not judged`,
  });
  if (n.canary < minSamples || n.baseline < minSamples) {
    const none = n.canary === 0 && n.baseline === 0;
    return noData(
      none
        ? 'no samples on either track'
        : `canary ${n.canary} samples, baseline ${n.baseline} (need at least ${minSamples} each)`,
    );
  }
  const pMin = smallestTwoSidedP(n.canary, n.baseline);
  if (!(pMin < alpha)) {
    return noData(
      `canary ${n.canary} samples, baseline ${n.baseline}: too few for a two-sided test at ${percent(confidence)} ` +
        `(the smallest possible ${formatP(pMin)})`,
    );
  }

  const mw = mannWhitney(canary, baseline, { alternative: 'two-sided' });
  const hl = hodgesLehmann(canary, baseline, confidence);
  const mc = median(canary);
  const mb = median(baseline);
  const ratio = mb === 0 ? null : mc / mb;
  const mn = n.canary * n.baseline;
  let classification: Classification = 'Pass';
  let tolerated = '';
  if (mw.p < alpha) {
    const side: Classification = mw.u1 > mn / 2 ? 'High' : 'Low';
    // A significant difference smaller than the tolerated effect size is still a Pass (Kayenta's
    // allowedIncrease / allowedDecrease): statistics find tiny drifts; people care about real ones.
    const inc = m.allowedIncrease ?? 1;
    const dec = m.allowedDecrease ?? 1;
    const within = ratio !== null && (side === 'High' ? ratio < inc : ratio > dec);
    if (within) tolerated = ` within the allowed ${side === 'High' ? `increase x${formatNumber(inc)}` : `decrease x${formatNumber(dec)}`}`;
    else classification = side;
  }
  const bad = m.direction === 'lower-is-better' ? 'High' : 'Low';
  const outcome = classification === bad ? 'fail' : 'pass';
  const uMin = Math.min(mw.u1, mw.u2);

  const verdictText =
    classification === 'Pass'
      ? tolerated
        ? `Pass - significant but${tolerated}`
        : 'Pass - no significant difference'
      : `${classification} - ${outcome} (${directionText(m.direction)})`;
  const explanation =
    `${m.name}: canary median ${formatNumber(mc)} vs baseline ${formatNumber(mb)}` +
    (ratio === null ? '' : ` (${ratioText(ratio)})`) +
    `, shift ${signed(hl.shift)} [${signed(hl.lower)}, ${signed(hl.upper)}] at ${percent(confidence)}` +
    `, ${formatP(mw.p)} (U=${formatNumber(uMin)}, n=${n.canary}/${n.baseline}): ${verdictText}`;

  return {
    name: m.name,
    group: m.group,
    direction: m.direction,
    critical,
    n,
    confidence,
    classification,
    outcome,
    median: { canary: mc, baseline: mb },
    ratio,
    shift: hl.shift,
    interval: { lower: hl.lower, upper: hl.upper },
    p: mw.p,
    u: mw.u1,
    uMin,
    method: mw.method,
    explanation,
  };
}

function checkOptions(input: JudgeInput): { confidence: number; pass: number; marginal: number; minSamples: number } {
  const confidence = input.confidence ?? JUDGE_DEFAULTS.confidence;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`judge: confidence must be between 0 and 1 (exclusive), got ${confidence}`);
  const { pass, marginal } = input.thresholds ?? JUDGE_DEFAULTS.thresholds;
  if (!(marginal >= 0 && pass >= marginal && pass <= 100))
    throw new RangeError(`judge: thresholds must satisfy 0 <= marginal <= pass <= 100, got pass ${pass}, marginal ${marginal}`);
  const minSamples = input.minSamples ?? JUDGE_DEFAULTS.minSamples;
  if (!(Number.isInteger(minSamples) && minSamples >= 1)) throw new RangeError(`judge: minSamples must be a whole number >= 1, got ${minSamples}`);
  return { confidence, pass, marginal, minSamples };
}

const names = (ms: readonly MetricJudgment[]) => ms.map((m) => m.name).join(', ');

/** Judges canary against baseline over every metric; see the top of this file for the rules.
 * Throws a RangeError on invalid options (confidence, thresholds, minSamples, weights). */
export function judge(input: JudgeInput): Judgment {
  const { confidence, pass, marginal, minSamples } = checkOptions(input);
  const metrics = input.metrics.map((m) => judgeMetric(m, confidence, minSamples));

  const order: string[] = [];
  for (const m of metrics) if (!order.includes(m.group)) order.push(m.group);
  const groups: GroupJudgment[] = order.map((group) => {
    let weight = 1;
    if (input.weights !== undefined) {
      const w = Object.prototype.hasOwnProperty.call(input.weights, group) ? input.weights[group] : undefined;
      if (w === undefined)
        throw new RangeError(`judge: no weight for group "${group}"; weights name: ${Object.keys(input.weights).join(', ') || '(none)'}`);
      weight = w;
    }
    if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`judge: the weight of group "${group}" must be a number >= 0, got ${weight}`);
    const inGroup = metrics.filter((m) => m.group === group);
    const passed = inGroup.filter((m) => m.outcome === 'pass').length;
    const failed = inGroup.filter((m) => m.outcome === 'fail').length;
    const noData = inGroup.length - passed - failed;
    return { group, weight, score: passed + failed > 0 ? (100 * passed) / (passed + failed) : null, passed, failed, noData };
  });

  let sumW = 0;
  let sum = 0;
  for (const g of groups) {
    if (g.score === null) continue;
    sumW += g.weight;
    sum += g.weight * g.score;
  }
  const score = sumW > 0 ? sum / sumW : null;

  const failed = metrics.filter((m) => m.outcome === 'fail');
  const withoutData = metrics.filter((m) => m.outcome === 'nodata');
  const judged = metrics.length - withoutData.length;
  const criticalFailed = failed.filter((m) => m.critical);
  const criticalNoData = withoutData.filter((m) => m.critical);
  const tally = `${judged - failed.length} of ${judged} judged metrics passed` + (withoutData.length ? `; no data: ${names(withoutData)}` : '');
  const failedText = failed.length ? `; failed: ${names(failed)}` : '';

  const result = (verdict: CanaryVerdict, reason: string): Judgment => ({ score, verdict, reason, metrics, groups });

  if (criticalFailed.length > 0) {
    const what = criticalFailed.map((m) => `${m.name} is ${m.classification} (${directionText(m.direction)})`).join(', ');
    return result('fail', `critical metric${criticalFailed.length > 1 ? 's' : ''} failed: ${what}` + (score === null ? '' : `; score ${scoreText(score)}`));
  }
  if (metrics.length === 0) return result('inconclusive', 'no metrics to judge');
  if (judged === 0) return result('inconclusive', `no metric has enough data to judge (need at least ${minSamples} samples per track): ${names(withoutData)}`);
  if (score === null) return result('inconclusive', `the groups with data all have weight 0 (${tally})`);
  if (score < marginal) return result('fail', `score ${scoreText(score)} is below the marginal threshold ${marginal} (${tally}${failedText})`);
  if (criticalNoData.length > 0)
    return result('inconclusive', `critical metric${criticalNoData.length > 1 ? 's' : ''} without enough data: ${names(criticalNoData)} (score ${scoreText(score)} without ${criticalNoData.length > 1 ? 'them' : 'it'})`);
  if (score >= pass) return result('pass', `score ${scoreText(score)} reaches the pass threshold ${pass} (${tally})`);
  return result('marginal', `score ${scoreText(score)} is between the marginal threshold ${marginal} and the pass threshold ${pass} (${tally}${failedText})`);
}
