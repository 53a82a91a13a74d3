import { describe, expect, it } from 'vitest';
import {
  erfc,
  exactCdfU,
  hodgesLehmann,
  mannWhitney,
  normalCdf,
  normalQuantile,
  rankWithTies,
} from '../src/analysis/mannwhitney.js';
import { judge, smallestTwoSidedP, type MetricInput } from '../src/analysis/judge.js';
import { metricsFromSlis } from '../src/engine/judgment.js';
import type { SliState } from '../src/engine/types.js';

/** Deterministic noise (mulberry32): the same seed always gives the same sequence. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** n samples spread uniformly over center +- spread/2. */
function noise(n: number, center: number, spread: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => center + spread * (r() - 0.5));
}

describe('normal distribution', () => {
  it('erfc matches reference values (Python math.erfc, i.e. the C library)', () => {
    const ref: [number, number][] = [
      [-1, 1.842700792949715],
      [0, 1],
      [0.2, 0.7772974107895215],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047265],
      [4.1, 6.700027654084918e-9],
      [6, 2.1519736712498916e-17],
      [10, 2.088487583762545e-45],
    ];
    for (const [x, want] of ref) expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1e-14);
  });

  it('normal quantiles match scipy.stats.norm.ppf', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 13);
    expect(normalQuantile(0.1)).toBeCloseTo(-1.2815515655446004, 13);
    expect(normalQuantile(1e-8)).toBeCloseTo(-5.612001244174789, 12);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalCdf(normalQuantile(0.3))).toBeCloseTo(0.3, 15);
  });
});

describe('Mann-Whitney U', () => {
  // scipy.stats.mannwhitneyu documentation example (from its reference [4]): ages at diagnosis of
  // type II diabetes. Pooled ranks: 11->1 12->2 16->3 17->4 19->5 20->6 22->7 24->8 29->9;
  // males hold 5+7+3+9+8 = 32, so U1 = 32 - 5*6/2 = 17 and U2 = 20 - 17 = 3.
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];

  it('scipy docs example, exact: U=17, p=0.1111111111111111', () => {
    const r = mannWhitney(males, females, { method: 'exact' });
    expect(r.u1).toBe(17);
    expect(r.u2).toBe(3);
    expect(r.p).toBeCloseTo(0.1111111111111111, 15);
    // Exact by hand: P(U >= 17) = P(U <= 3) = (1+1+2+3)/C(9,4) = 7/126; two-sided 14/126 = 1/9.
    expect(r.p).toBeCloseTo(1 / 9, 15);
    // 'auto' picks exact here (no ties, small samples), as scipy does.
    expect(mannWhitney(males, females)).toMatchObject({ method: 'exact', p: r.p, ties: false });
  });

  it('scipy docs example, asymptotic: p=0.11134688653314041 (continuity) and 0.0864107329737 (none)', () => {
    // By hand: mean n1 n2/2 = 10, sigma = sqrt(5*4*10/12) = 4.0825 (no ties),
    // z = (17 - 10 - 0.5) / 4.0825 = 1.5922, p = 2 * (1 - Phi(1.5922)) = 0.11135.
    const r = mannWhitney(males, females, { method: 'asymptotic' });
    expect(r.method).toBe('asymptotic');
    expect(r.sigma).toBeCloseTo(4.0825, 4);
    expect(r.z).toBeCloseTo(1.5922, 4);
    expect(r.p).toBeCloseTo(0.11134688653314041, 14);
    const nc = mannWhitney(males, females, { method: 'asymptotic', continuity: false });
    expect(nc.p).toBeCloseTo(0.0864107329737, 12);
  });

  it("scipy docs example, one-sided: mannwhitneyu(females, males, alternative='less', method='exact') -> U=3, p=0.0555...", () => {
    const r = mannWhitney(females, males, { alternative: 'less', method: 'exact' });
    expect(r.u1).toBe(3);
    expect(r.p).toBeCloseTo(0.05555555555555555, 15);
  });

  it("R's ?wilcox.test example (Hollander & Wolfe permeability data): W = 35, p = 0.1272 greater, 0.2544 two-sided", () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const g = mannWhitney(x, y, { alternative: 'greater' });
    expect(g.u1).toBe(35);
    expect(g.method).toBe('exact'); // one sample has 5 <= 8 values, no ties
    expect(g.p).toBeCloseTo(0.1272061272061272, 14); // scipy 1.17.1; R prints 0.1272
    expect(mannWhitney(x, y).p).toBeCloseTo(0.2544122544122544, 14);
  });

  it('a worked example with ties: tie-corrected sigma by hand', () => {
    // x = 3 4 2 6 2 5, y = 9 7 5 10 6 8 (n1 = n2 = 6, n = 12).
    // Pooled, sorted: 2 2 | 3 | 4 | 5 5 | 6 6 | 7 | 8 | 9 | 10
    // Midranks:       1.5 1.5 | 3 | 4 | 5.5 5.5 | 7.5 7.5 | 9 | 10 | 11 | 12
    // R1 = 3 + 4 + 1.5 + 7.5 + 1.5 + 5.5 = 23, U1 = 23 - 6*7/2 = 2, U2 = 36 - 2 = 34.
    // Ties: three pairs (2, 5, 6), sum(t^3 - t) = 3 * (8 - 2) = 18.
    // sigma^2 = n1 n2 / 12 * ((n + 1) - 18 / (n (n - 1))) = 3 * (13 - 18/132) = 3 * 12.863636 = 38.590909
    // sigma = 6.2122 (6.2450 without the tie correction).
    // Two-sided: U = max(U1, U2) = 34, z = (34 - 18 - 0.5) / 6.2122 = 2.4951,
    // p = 2 * (1 - Phi(2.4951)) = 2 * 0.0062960 = 0.0126 (scipy 1.17.1: 0.012591911490379705).
    const x = [3, 4, 2, 6, 2, 5];
    const y = [9, 7, 5, 10, 6, 8];
    expect(rankWithTies([...x, ...y])).toEqual({ ranks: [3, 4, 1.5, 7.5, 1.5, 5.5, 11, 9, 5.5, 12, 7.5, 10], tieGroups: [2, 2, 2] });
    const r = mannWhitney(x, y);
    expect(r).toMatchObject({ u1: 2, u2: 34, ties: true, method: 'asymptotic', n1: 6, n2: 6 });
    expect(r.sigma).toBeCloseTo(6.2122, 4);
    expect(r.z).toBeCloseTo(2.4951, 4);
    expect(r.p).toBeCloseTo(0.0126, 4);
    expect(r.p).toBeCloseTo(0.012591911490379705, 13);
    // One-sided (scipy: less 0.006295955745189852, greater 0.9960472777460493).
    expect(mannWhitney(x, y, { alternative: 'less' }).p).toBeCloseTo(0.006295955745189852, 13);
    expect(mannWhitney(x, y, { alternative: 'greater' }).p).toBeCloseTo(0.9960472777460493, 13);
    // Without the continuity correction: z = 16 / 6.2122 = 2.5756 (scipy: 0.01000679435165946).
    expect(mannWhitney(x, y, { continuity: false }).p).toBeCloseTo(0.01000679435165946, 13);
  });

  it('the exact U distribution: closed forms, symmetry and the BigInt path', () => {
    // Complete separation: U = 0 has exactly one arrangement, U <= 1 two.
    expect(exactCdfU(0, 10, 10)).toBeCloseTo(1 / 184756, 18);
    expect(mannWhitney([11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { method: 'exact' }).p).toBeCloseTo(
      2 / 184756,
      18,
    );
    // C(112, 12) > 2^53: counted with BigInt. P(U <= 0) = 1 / C(112, 12), P(U <= 1) = 2 / C(112, 12).
    expect(exactCdfU(0, 12, 100) / 2.2640289323942715e-16).toBeCloseTo(1, 12);
    expect(exactCdfU(1, 100, 12) / (2 * 2.2640289323942715e-16)).toBeCloseTo(1, 12);
    // Symmetry about n1 n2 / 2: P(U <= k) + P(U <= mn - k - 1) = 1.
    for (const k of [0, 3, 11, 17]) expect(exactCdfU(k, 5, 7) + exactCdfU(35 - k - 1, 5, 7)).toBeCloseTo(1, 14);
    // Against scipy 1.17.1 (mannwhitneyu(x, y, method='exact') -> U=473, p=0.23728300654482995).
    const x = Array.from({ length: 12 }, (_, i) => ((i * 37) % 101) + 0.5);
    const y = Array.from({ length: 100 }, (_, j) => (j * 53) % 113);
    const ex = mannWhitney(x, y, { method: 'exact' });
    expect(ex.u1).toBe(473);
    expect(ex.p).toBeCloseTo(0.23728300654482995, 13);
    // Both samples > 8: 'auto' is asymptotic (scipy: 0.2340417154789508).
    expect(mannWhitney(x, y)).toMatchObject({ method: 'asymptotic' });
    expect(mannWhitney(x, y).p).toBeCloseTo(0.2340417154789508, 13);
  });

  it('edge cases: all values equal gives p = 1; empty or non-finite input throws', () => {
    expect(mannWhitney([0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toMatchObject({ p: 1, z: 0, u1: 45 });
    expect(() => mannWhitney([], [1, 2])).toThrow(RangeError);
    expect(() => mannWhitney([1, Number.NaN], [1, 2])).toThrow(/x\[1\]/);
  });
});

describe('Hodges-Lehmann', () => {
  it('median of pairwise differences and the Mann-Whitney interval, by hand', () => {
    // d = x_i - y_j = 10i - j, i, j = 1..5: 5..9, 15..19, 25..29, 35..39, 45..49 (25 values).
    // Estimate: the 13th, 27.
    // sigma0 = sqrt(25 * 11 / 12) = 4.7871.
    // 80%: z = 1.28155, k = round(12.5 - 6.1350) = round(6.365) = 6 -> [d_(6), d_(20)] = [15, 39].
    // 95%: z = 1.95996, k = round(12.5 - 9.3826) = round(3.117) = 3 -> [d_(3), d_(23)] = [7, 47].
    const x = [10, 20, 30, 40, 50];
    const y = [1, 2, 3, 4, 5];
    expect(hodgesLehmann(x, y, 0.8)).toMatchObject({ shift: 27, lower: 15, upper: 39, k: 6, clamped: false });
    expect(hodgesLehmann(x, y, 0.95)).toMatchObject({ shift: 27, lower: 7, upper: 47, k: 3, clamped: false });
    // Swapping the samples mirrors everything.
    expect(hodgesLehmann(y, x, 0.95)).toMatchObject({ shift: -27, lower: -47, upper: -7 });
  });

  it('an even number of differences averages the middle two; tiny samples clamp k to 1', () => {
    // d: 1-2=-1, 1-4=-3, 5-2=3, 5-4=1, 9-2=7, 9-4=5 -> -3 -1 1 3 5 7, median (1 + 3) / 2 = 2.
    // k = round(3 - 1.96 * sqrt(6 * 6 / 12)) = round(-0.39) < 1 -> clamped to 1: [-3, 7].
    expect(hodgesLehmann([1, 5, 9], [2, 4], 0.95)).toMatchObject({ shift: 2, lower: -3, upper: 7, k: 1, clamped: true });
  });

  it("R's ?wilcox.test permeability data: the median of the 50 differences is 0.305", () => {
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const hl = hodgesLehmann(x, y, 0.95);
    expect(hl.shift).toBeCloseTo(0.305, 12);
    expect(hl.lower).toBeLessThanOrEqual(0); // not significant (p = 0.25): 0 lies inside
    expect(hl.upper).toBeGreaterThanOrEqual(0);
  });
});

describe('judge', () => {
  const metric = (over: Partial<MetricInput> & Pick<MetricInput, 'name'>): MetricInput => ({
    group: 'default',
    direction: 'lower-is-better',
    canary: noise(20, 220, 40, 1),
    baseline: noise(20, 220, 40, 2),
    ...over,
  });
  /** A metric where canary and baseline come from the same distribution (different draws). */
  const healthy = (name: string, seed: number, group = 'default', direction: MetricInput['direction'] = 'lower-is-better'): MetricInput => ({
    name,
    group,
    direction,
    canary: noise(20, 100, 10, seed),
    baseline: noise(20, 100, 10, seed + 1000),
  });
  /** A lower-is-better metric where the canary is clearly worse. */
  const regressed = (name: string, group = 'default', critical = false): MetricInput => ({
    name,
    group,
    direction: 'lower-is-better',
    critical,
    canary: noise(20, 1200, 80, 7),
    baseline: noise(20, 220, 40, 8),
  });

  it('identical distributions pass with score 100', () => {
    const same = noise(30, 220, 40, 3);
    const j = judge({ metrics: [metric({ name: 'latency_p95', canary: same, baseline: [...same] }), metric({ name: 'error_rate', canary: [0, 0, 0, 0, 0, 0], baseline: [0, 0, 0, 0, 0, 0] })] });
    expect(j.verdict).toBe('pass');
    expect(j.score).toBe(100);
    expect(j.metrics.map((m) => m.classification)).toEqual(['Pass', 'Pass']);
    expect(j.metrics[0]!.p).toBe(1);
    expect(j.metrics[0]!.shift).toBe(0);
    expect(j.metrics[1]!.explanation).toBe('error_rate: canary median 0 vs baseline 0, shift 0 [0, 0] at 98%, p=1 (U=18, n=6/6): Pass - no significant difference');
  });

  it('a clear latency regression (lower is better) is High and fails', () => {
    // canary 1200..1219, baseline 211..230: every canary value is higher, U for the smaller side 0.
    // Shift: median of 989 + (i - j) = 989; i - j over 0..19 has 20 - |d| pairs at d, so with
    // k = round(200 - 2.3263 * sqrt(400 * 41 / 12)) = round(113.998) = 114 the bounds are d = -5, +5.
    const canary = Array.from({ length: 20 }, (_, i) => 1200 + i);
    const baseline = Array.from({ length: 20 }, (_, i) => 211 + i);
    const j = judge({ metrics: [{ name: 'latency_p95', group: 'latency', direction: 'lower-is-better', canary, baseline }] });
    expect(j.verdict).toBe('fail');
    expect(j.score).toBe(0);
    const m = j.metrics[0]!;
    expect(m).toMatchObject({ classification: 'High', outcome: 'fail', shift: 989, interval: { lower: 984, upper: 994 }, u: 400, uMin: 0, n: { canary: 20, baseline: 20 } });
    expect(m.p!).toBeLessThan(1e-6);
    expect(m.ratio!).toBeCloseTo(1209.5 / 220.5, 12);
    expect(m.explanation).toBe(
      'latency_p95: canary median 1210 vs baseline 220.5 (x5.49), shift +989 [+984, +994] at 98%, p<0.000001 (U=0, n=20/20): High - fail (lower is better)',
    );
    expect(j.reason).toMatch(/score 0 is below the marginal threshold 75/);
  });

  it('a difference in the good direction passes: lower latency, higher availability', () => {
    const j = judge({
      metrics: [
        metric({ name: 'latency_p95', canary: noise(20, 150, 20, 11), baseline: noise(20, 220, 20, 12) }),
        metric({ name: 'availability', direction: 'higher-is-better', canary: noise(20, 99.99, 0.01, 13), baseline: noise(20, 99.9, 0.02, 14) }),
      ],
    });
    expect(j.metrics.map((m) => [m.classification, m.outcome])).toEqual([
      ['Low', 'pass'],
      ['High', 'pass'],
    ]);
    expect(j.metrics[0]!.explanation).toMatch(/: Low - pass \(lower is better\)$/);
    expect(j.metrics[1]!.explanation).toMatch(/: High - pass \(higher is better\)$/);
    expect(j).toMatchObject({ verdict: 'pass', score: 100 });
  });

  it('a drop of a higher-is-better metric is Low and fails', () => {
    const j = judge({ metrics: [metric({ name: 'availability', direction: 'higher-is-better', canary: noise(20, 99.0, 0.2, 21), baseline: noise(20, 99.95, 0.05, 22) })] });
    expect(j.metrics[0]).toMatchObject({ classification: 'Low', outcome: 'fail' });
    expect(j.verdict).toBe('fail');
  });

  it('no canary data, or too few samples, is inconclusive (never pass)', () => {
    const empty = judge({ metrics: [metric({ name: 'latency_p95', canary: [] }), metric({ name: 'error_rate', canary: [null, null, Number.NaN] })] });
    expect(empty).toMatchObject({ verdict: 'inconclusive', score: null });
    expect(empty.metrics.map((m) => m.classification)).toEqual(['NoData', 'NoData']);
    expect(empty.metrics[0]!.explanation).toBe('latency_p95: canary 0 samples, baseline 20 (need at least 5 each): NoData - not judged');
    expect(empty.reason).toMatch(/no metric has enough data/);

    expect(judge({ metrics: [] })).toMatchObject({ verdict: 'inconclusive', score: null, reason: 'no metrics to judge' });

    // 4 against 4 would pass minSamples 3, but at 98% the smallest attainable p is 2/70 = 0.029:
    // such a test could never find a regression, so it is NoData rather than a hollow Pass.
    expect(smallestTwoSidedP(4, 4)).toBeCloseTo(2 / 70, 15);
    const few = judge({ minSamples: 3, metrics: [metric({ name: 'latency_p95', canary: [900, 950, 990, 1000], baseline: [200, 210, 220, 230] })] });
    expect(few.metrics[0]!.classification).toBe('NoData');
    expect(few.metrics[0]!.explanation).toMatch(/too few for a two-sided test at 98% \(the smallest possible p=0\.029\)/);
    expect(few.verdict).toBe('inconclusive');
    // The same four values at 90% confidence can be judged (0.029 < 0.1), and they are High.
    const at90 = judge({ minSamples: 3, confidence: 0.9, metrics: [metric({ name: 'latency_p95', canary: [900, 950, 990, 1000], baseline: [200, 210, 220, 230] })] });
    expect(at90.metrics[0]).toMatchObject({ classification: 'High', method: 'exact' });
    expect(at90.metrics[0]!.p).toBeCloseTo(2 / 70, 15);
  });

  it('null samples are dropped and NoData metrics are left out of the score but reported', () => {
    const j = judge({
      metrics: [
        healthy('a', 31),
        { ...healthy('b', 32), canary: [...noise(20, 100, 10, 32), null, null] },
        metric({ name: 'c', canary: [1, 2] }),
      ],
    });
    expect(j.metrics.map((m) => m.outcome)).toEqual(['pass', 'pass', 'nodata']);
    expect(j.metrics[1]!.n).toEqual({ canary: 20, baseline: 20 });
    expect(j).toMatchObject({ verdict: 'pass', score: 100 });
    expect(j.groups).toEqual([{ group: 'default', weight: 1, score: 100, passed: 2, failed: 0, noData: 1 }]);
    expect(j.reason).toBe('score 100 reaches the pass threshold 95 (2 of 2 judged metrics passed; no data: c)');
  });

  it('a failing critical metric fails the judgment whatever the score', () => {
    const metrics = [...Array.from({ length: 20 }, (_, i) => healthy(`m${i}`, 100 + i)), regressed('data_integrity_failures', 'safety', true)];
    const j = judge({ metrics });
    expect(j.metrics.filter((m) => m.outcome === 'pass')).toHaveLength(20);
    // Score: group "default" 100, group "safety" 0, equal weights -> 50. Put all in one group to
    // see the score above the pass threshold and the verdict still fail.
    const oneGroup = judge({ metrics: metrics.map((m) => ({ ...m, group: 'all' })) });
    expect(oneGroup.score).toBeCloseTo((100 * 20) / 21, 10);
    expect(oneGroup.score!).toBeGreaterThan(95);
    expect(oneGroup.verdict).toBe('fail');
    expect(oneGroup.reason).toBe('critical metric failed: data_integrity_failures is High (lower is better); score 95.2');
    // The same metric, not critical: the score decides (95.2 >= 95: pass).
    expect(judge({ metrics: metrics.map((m) => ({ ...m, group: 'all', critical: false })) }).verdict).toBe('pass');
  });

  it('a critical metric without data makes a passing score inconclusive', () => {
    const j = judge({ metrics: [healthy('a', 41), { ...healthy('b', 42), critical: true, canary: [] }] });
    expect(j).toMatchObject({ verdict: 'inconclusive', score: 100 });
    expect(j.reason).toMatch(/critical metric without enough data: b/);
  });

  it('group weights change the score as expected', () => {
    // Group "latency": 2 of 2 pass (100). Group "errors": 1 of 2 pass (50).
    const metrics = [healthy('p50', 51, 'latency'), healthy('p95', 52, 'latency'), healthy('error_rate', 53, 'errors'), regressed('error_spike', 'errors')];
    const equal = judge({ metrics });
    expect(equal.groups.map((g) => [g.group, g.score])).toEqual([
      ['latency', 100],
      ['errors', 50],
    ]);
    expect(equal).toMatchObject({ score: 75, verdict: 'marginal' });
    expect(judge({ metrics, weights: { latency: 3, errors: 1 } })).toMatchObject({ score: 87.5, verdict: 'marginal' });
    expect(judge({ metrics, weights: { latency: 1, errors: 3 } })).toMatchObject({ score: 62.5, verdict: 'fail' });
    expect(judge({ metrics, weights: { latency: 60, errors: 0 } })).toMatchObject({ score: 100, verdict: 'pass' });
    // Weights must name every group: a typo must not drop a group from the score.
    expect(() => judge({ metrics, weights: { latency: 1, eror: 1 } })).toThrow(/no weight for group "errors"/);
    expect(() => judge({ metrics, weights: { latency: 1, errors: -1 } })).toThrow(RangeError);
  });

  it('the marginal band: 75 <= score < 95', () => {
    const withFails = (passing: number, failing: number) =>
      judge({ metrics: [...Array.from({ length: passing }, (_, i) => healthy(`ok${i}`, 200 + i)), ...Array.from({ length: failing }, (_, i) => regressed(`bad${i}`))] });
    expect(withFails(3, 1)).toMatchObject({ score: 75, verdict: 'marginal' });
    expect(withFails(4, 1)).toMatchObject({ score: 80, verdict: 'marginal' });
    expect(withFails(4, 1).reason).toBe(
      'score 80 is between the marginal threshold 75 and the pass threshold 95 (4 of 5 judged metrics passed; failed: bad0)',
    );
    expect(withFails(19, 1)).toMatchObject({ score: 95, verdict: 'pass' });
    expect(withFails(2, 1).verdict).toBe('fail'); // 66.7
    expect(withFails(2, 1).reason).toMatch(/^score 66\.7 is below the marginal threshold 75/);
    // Custom thresholds.
    const custom = judge({ thresholds: { pass: 80, marginal: 50 }, metrics: [healthy('a', 61), regressed('b')] });
    expect(custom).toMatchObject({ score: 50, verdict: 'marginal' });
  });

  it('is deterministic', () => {
    const metrics = [healthy('a', 71), regressed('b'), metric({ name: 'c', canary: [] })];
    expect(judge({ metrics })).toEqual(judge({ metrics }));
  });

  it('rejects invalid options', () => {
    expect(() => judge({ metrics: [], confidence: 1 })).toThrow(RangeError);
    expect(() => judge({ metrics: [], thresholds: { pass: 70, marginal: 80 } })).toThrow(RangeError);
    expect(() => judge({ metrics: [], minSamples: 0 })).toThrow(RangeError);
  });

  it("builds its input from the plan's SLIs and the engine's series", () => {
    const series = (t: number[], v: (number | null)[]) => ({ bt: t, bv: v, start: 0, end: t.length });
    const state: Record<string, SliState> = {
      latency_p95: { canary: series([1, 2, 3], [300, null, 310]), baseline: series([1, 2, 3], [200, 210, 220]), lastAt: 3, canaryNote: null, baselineNote: null, stableNote: null },
      request_rate: { canary: series([1], [5]), baseline: series([1], [500]), lastAt: 1, canaryNote: null, baselineNote: null, stableNote: null },
    };
    const slis = [
      { name: 'latency_p95', direction: 'lower-is-better', unit: 'ms' },
      { name: 'request_rate', direction: 'higher-is-better', unit: 'rps' },
      { name: 'error_rate', direction: 'lower-is-better', unit: 'percent' },
    ] as const;
    const inputs = metricsFromSlis(slis, state, { since: 2, critical: ['error_rate'] });
    expect(inputs).toEqual([
      { name: 'latency_p95', group: 'slis', direction: 'lower-is-better', critical: false, canary: [null, 310], baseline: [210, 220] },
      { name: 'error_rate', group: 'slis', direction: 'lower-is-better', critical: true, canary: [], baseline: [] },
    ]);
  });
});

describe('judge: effect-size tolerance (Kayenta allowedIncrease / allowedDecrease)', () => {
  const base = [200, 205, 210, 215, 220, 225, 230, 235, 240, 245];
  const up = (f: number) => base.map((v) => v * f);
  it('a significant increase inside allowedIncrease passes, and says so', () => {
    const r = judge({ metrics: [{ name: 'latency_p95', group: 'latency', direction: 'lower-is-better', canary: up(1.1), baseline: base, allowedIncrease: 1.2 }] });
    expect(r.metrics[0]!.classification).toBe('Pass');
    expect(r.metrics[0]!.explanation).toContain('significant but within the allowed increase x1.2');
    expect(r.verdict).toBe('pass');
  });
  it('the same increase beyond allowedIncrease is High and fails', () => {
    const r = judge({ metrics: [{ name: 'latency_p95', group: 'latency', direction: 'lower-is-better', canary: up(1.3), baseline: base, allowedIncrease: 1.2 }] });
    expect(r.metrics[0]!.classification).toBe('High');
    expect(r.verdict).toBe('fail');
  });
  it('allowedDecrease tolerates a small significant drop of a higher-is-better metric', () => {
    const avail = [99.95, 99.96, 99.97, 99.96, 99.95, 99.97, 99.96, 99.95, 99.96, 99.97];
    const lower = avail.map((v) => v - 0.03);
    const ok = judge({ metrics: [{ name: 'availability', group: 'a', direction: 'higher-is-better', canary: lower, baseline: avail, allowedDecrease: 0.9995 }] });
    expect(ok.metrics[0]!.classification).toBe('Pass');
    const bad = judge({ metrics: [{ name: 'availability', group: 'a', direction: 'higher-is-better', canary: avail.map((v) => v - 0.1), baseline: avail, allowedDecrease: 0.9995 }] });
    expect(bad.metrics[0]!.classification).toBe('Low');
  });
});
