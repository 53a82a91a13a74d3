// The Mann-Whitney U test (Wilcoxon rank-sum) and the Hodges-Lehmann shift estimate: the
// statistics behind the canary-versus-baseline judgment (see judge.ts). Pure functions: no I/O,
// no clock, no randomness; the same input always gives the same output.
//
// Conventions follow scipy.stats.mannwhitneyu (scipy 1.17), so results can be checked against it:
//  - U1 = R1 - n1(n1+1)/2 is the statistic for the first sample x (R1: the sum of x's midranks in
//    the pooled sample); U2 = n1 n2 - U1. U1 large means x tends to be larger than y.
//  - 'greater' tests "x is stochastically greater than y" and uses U1; 'less' uses U2;
//    'two-sided' uses max(U1, U2) and doubles the one-sided p (clipped at 1).
//  - asymptotic: z = (U - n1 n2/2 - 0.5) / sigma with the 0.5 continuity correction (default on)
//    and the tie-corrected sigma^2 = n1 n2 / 12 * ((n+1) - sum(t^3 - t) / (n(n-1))), t running over
//    the sizes of the groups of tied values; p = P(Z >= z).
//  - exact: P(U' >= U) under H0 from the exact null distribution of U (no tie correction, like
//    scipy). 'auto' picks exact exactly when scipy does: no ties and at least one sample of size
//    <= 8; otherwise asymptotic.

export type Alternative = 'two-sided' | 'less' | 'greater';
export type MannWhitneyMethod = 'auto' | 'exact' | 'asymptotic';

export interface MannWhitneyOptions {
  /** Default 'two-sided'. 'greater': x tends to be larger than y; 'less': smaller. */
  alternative?: Alternative;
  /** The 0.5 continuity correction of the normal approximation. Default true (scipy's default). */
  continuity?: boolean;
  /** Default 'auto' (scipy's rule: exact when there are no ties and min(n1, n2) <= 8). */
  method?: MannWhitneyMethod;
}

export interface MannWhitneyResult {
  /** U for x: R1 - n1(n1+1)/2. Equals the number of pairs (x_i, y_j) with x_i > y_j, ties counting 1/2. */
  u1: number;
  /** U for y: n1 n2 - u1. */
  u2: number;
  /** The standardized statistic the asymptotic p comes from: (U - n1n2/2 - cc) / sigma, with U chosen
   * by the alternative as above (for two-sided: max(U1, U2), so z >= -0.5/sigma). 0 when sigma is 0
   * (every value equal). Reported for the exact method too. */
  z: number;
  p: number;
  n1: number;
  n2: number;
  /** Whether the pooled sample has any tied values. */
  ties: boolean;
  /** Which p was computed. */
  method: 'exact' | 'asymptotic';
  /** The tie-corrected standard deviation of U under H0. */
  sigma: number;
}

// ---------------------------------------------------------------------------------------------
// The normal distribution.

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
// 631-638; coefficients and interval logic from his CALERF (SPECFUN, netlib). Relative accuracy
// about 1e-16 in IEEE double, including far in the upper tail (erfc(x) for x up to 26.5).
const ERF_A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const ERF_C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const ERF_D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const ERF_P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766,
  6.58749161529837803e-4, 0.0163153871373020978,
];
const ERF_Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
const ONE_OVER_SQRT_PI = 0.56418958354775628695;
const ERFC_XBIG = 26.543; // erfc underflows to 0 beyond this

/** exp(-y^2) computed as exp(-ysq^2) exp(-(y-ysq)(y+ysq)) with ysq = y rounded down to 1/16, which
 * keeps the rounding error of y^2 out of the exponent (Cody's trick). */
function expMinusSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del);
}

/** The complementary error function erfc(x) = 1 - erf(x), by Cody's rational approximations. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  let result: number;
  if (y <= 0.46875) {
    const ysq = y > 1.11e-16 ? y * y : 0;
    let xnum = ERF_A[4]! * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + ERF_A[i]!) * ysq;
      xden = (xden + ERF_B[i]!) * ysq;
    }
    return 1 - (x * (xnum + ERF_A[3]!)) / (xden + ERF_B[3]!);
  }
  if (y <= 4) {
    let xnum = ERF_C[8]! * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + ERF_C[i]!) * y;
      xden = (xden + ERF_D[i]!) * y;
    }
    result = ((xnum + ERF_C[7]!) / (xden + ERF_D[7]!)) * expMinusSquare(y);
  } else if (y >= ERFC_XBIG) {
    result = 0;
  } else {
    const ysq = 1 / (y * y);
    let xnum = ERF_P[5]! * ysq;
    let xden = ysq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + ERF_P[i]!) * ysq;
      xden = (xden + ERF_Q[i]!) * ysq;
    }
    const r = (ysq * (xnum + ERF_P[4]!)) / (xden + ERF_Q[4]!);
    result = ((ONE_OVER_SQRT_PI - r) / y) * expMinusSquare(y);
  }
  return x < 0 ? 2 - result : result;
}

/** The standard normal CDF, P(Z <= z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The standard normal survival function, P(Z >= z), accurate in the upper tail. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

// P. J. Acklam's rational approximation of the normal quantile (relative error < 1.15e-9),
// polished with one Halley step against the CDF above, which brings it to machine precision.
const ICDF_A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const ICDF_B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const ICDF_C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ICDF_D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** The standard normal quantile: the z with P(Z <= z) = p. */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const [a0, a1, a2, a3, a4, a5] = ICDF_A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = ICDF_B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = ICDF_C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = ICDF_D as [number, number, number, number];
  const tail = (q: number) =>
    (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  let x: number;
  if (p < 0.02425) {
    x = tail(Math.sqrt(-2 * Math.log(p)));
  } else if (p > 1 - 0.02425) {
    x = -tail(Math.sqrt(-2 * Math.log1p(-p)));
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  }
  // Halley refinement (Acklam): e = Phi(x) - p, u = e * sqrt(2 pi) * exp(x^2 / 2).
  const e = p < 0.5 ? normalCdf(x) - p : p > 0.5 ? (1 - p) - normalSf(x) : normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// ---------------------------------------------------------------------------------------------
// Ranks.

export interface Ranked {
  /** Midranks (1-based; tied values share the mean of the ranks they span), in input order. */
  ranks: number[];
  /** The sizes of the groups of tied values (only groups of 2 or more). */
  tieGroups: number[];
}

/** Midranks of `values`, like scipy.stats.rankdata(values, method='average'). */
export function rankWithTies(values: readonly number[]): Ranked {
  const n = values.length;
  // A plain loop, not Array.from({ length }): that went through the generic iterable path and was
  // the ranking's main cost (the engine judges thousands of times in a fast-forwarded plan).
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]! || a - b);
  const ranks = new Array<number>(n).fill(0);
  const tieGroups: number[] = [];
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!]! === values[order[i]!]!) j++;
    // Positions i..j-1 (0-based) hold equal values: ranks i+1..j, mean (i+1+j)/2.
    const mid = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k]!] = mid;
    if (j - i > 1) tieGroups.push(j - i);
    i = j;
  }
  return { ranks, tieGroups };
}

function checkSample(name: string, values: readonly number[]): void {
  if (values.length === 0) throw new RangeError(`${name} is empty: the test needs at least one value in each sample`);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name}[${i}] is ${String(v)}, not a finite number`);
  });
}

// ---------------------------------------------------------------------------------------------
// The exact null distribution of U.

const SAFE = Number.MAX_SAFE_INTEGER;

/** C(a, b) as a float (exact while the result stays below 2^53). */
function binomial(a: number, b: number): number {
  const k = Math.min(b, a - b);
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (a - k + i)) / i;
  return Math.round(c);
}

/**
 * P(U <= k) under H0 for samples of sizes n1 and n2 without ties.
 *
 * Under H0 every one of the C(n1+n2, n1) arrangements of the pooled ranks is equally likely, and
 * the number of arrangements with U = u is the coefficient of q^u in the Gaussian binomial
 * coefficient [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), m = min(n1, n2),
 * n = max(n1, n2). We build it one factor at a time (dynamic programming over the U distribution):
 * multiplying by (1 - q^a) is c[j] -= c[j-a], dividing by (1 - q^i) is c[j] += c[j-i], and both
 * only look at lower degrees, so every polynomial can be truncated at degree k. After step i the
 * polynomial is [n+i choose i]_q, whose coefficients are counts no larger than C(n+m, m): when that
 * total is below 2^53 the float arithmetic is exact; above it we count with BigInt.
 * Cost: O(m k), k <= n1 n2 / 2.
 */
export function exactCdfU(k: number, n1: number, n2: number): number {
  const m = Math.min(n1, n2);
  const n = Math.max(n1, n2);
  if (k < 0) return 0;
  if (k >= m * n) return 1;
  const K = Math.floor(k);
  const total = binomial(m + n, m);
  if (total < SAFE) {
    const c = new Float64Array(K + 1);
    c[0] = 1;
    for (let i = 1; i <= m; i++) {
      const a = n + i;
      for (let j = K; j >= a; j--) c[j]! -= c[j - a]!;
      for (let j = i; j <= K; j++) c[j]! += c[j - i]!;
    }
    let s = 0;
    for (let j = 0; j <= K; j++) s += c[j]!;
    return s / total;
  }
  const c = new Array<bigint>(K + 1).fill(0n);
  c[0] = 1n;
  for (let i = 1; i <= m; i++) {
    const a = n + i;
    for (let j = K; j >= a; j--) c[j] = c[j]! - c[j - a]!;
    for (let j = i; j <= K; j++) c[j] = c[j]! + c[j - i]!;
  }
  let s = 0n;
  for (let j = 0; j <= K; j++) s += c[j]!;
  let big = 1n;
  for (let i = 1; i <= m; i++) big = (big * BigInt(n + i)) / BigInt(i);
  return bigRatio(s, big);
}

/** a / b for BigInts of any size, as a float (a ratio below ~1e-300 comes out as 0). */
function bigRatio(a: bigint, b: bigint): number {
  const shift = Math.max(0, b.toString(2).length - 1000);
  const bs = BigInt(shift);
  return Number(a >> bs) / Number(b >> bs);
}

/** P(U >= k) under H0, without ties (the exact survival function scipy uses for p). */
function exactSfU(k: number, n1: number, n2: number): number {
  const mn = n1 * n2;
  // The distribution is symmetric about mn/2: P(U >= k) = P(U <= mn - k). Sum from the nearer end.
  return k > mn / 2 ? exactCdfU(mn - k, n1, n2) : 1 - exactCdfU(k - 1, n1, n2);
}

// ---------------------------------------------------------------------------------------------
// The test.

/** scipy's method='auto': exact when there are no ties and at least one sample has at most 8 values. */
export function chooseMethod(n1: number, n2: number, ties: boolean): 'exact' | 'asymptotic' {
  if (n1 > 8 && n2 > 8) return 'asymptotic';
  if (ties) return 'asymptotic';
  return 'exact';
}

/**
 * The Mann-Whitney U test of x against y (see the conventions at the top of this file).
 * Throws a RangeError when a sample is empty or holds a value that is not a finite number.
 */
export function mannWhitney(x: readonly number[], y: readonly number[], opts: MannWhitneyOptions = {}): MannWhitneyResult {
  checkSample('x', x);
  checkSample('y', y);
  const alternative = opts.alternative ?? 'two-sided';
  const continuity = opts.continuity ?? true;
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  const mn = n1 * n2;

  const { ranks, tieGroups } = rankWithTies([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i]!;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = mn - u1;
  const ties = tieGroups.length > 0;

  const [u, f] = alternative === 'greater' ? [u1, 1] : alternative === 'less' ? [u2, 1] : [Math.max(u1, u2), 2];

  const tieTerm = tieGroups.reduce((s, t) => s + (t * t * t - t), 0);
  // n = 1 cannot happen (both samples are non-empty), so n(n-1) > 0.
  const variance = (mn / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const sigma = Math.sqrt(Math.max(0, variance));
  const z = sigma > 0 ? (u - mn / 2 - (continuity ? 0.5 : 0)) / sigma : 0;

  const requested = opts.method ?? 'auto';
  const method = requested === 'auto' ? chooseMethod(n1, n2, ties) : requested;
  let p: number;
  if (method === 'exact') {
    // Like scipy, a non-integer U (only possible with ties) is truncated.
    p = exactSfU(Math.trunc(u), n1, n2);
  } else {
    // Every value equal (sigma 0): no evidence either way. (scipy gives 1 here with the
    // continuity correction and NaN without it.)
    p = sigma > 0 ? normalSf(z) : 1;
  }
  p = Math.min(1, Math.max(0, p * f));
  return { u1, u2, z, p, n1, n2, ties, method, sigma };
}

// ---------------------------------------------------------------------------------------------
// Hodges-Lehmann.

export interface HodgesLehmannResult {
  /** The Hodges-Lehmann estimate of the shift x - y: the median of the n1 n2 differences x_i - y_j. */
  shift: number;
  /** The confidence interval for the shift: [d_(k), d_(n1 n2 - k + 1)] of the sorted differences. */
  lower: number;
  upper: number;
  confidence: number;
  /** The order statistic used for the lower bound (1-based), after clamping. */
  k: number;
  /** True when k had to be clamped up to 1: the samples are too small for the confidence asked,
   * the interval is the whole range of differences and its real coverage is below `confidence`. */
  clamped: boolean;
}

/** The median of an array already sorted ascending. */
function sortedMedian(s: ArrayLike<number>): number {
  const n = s.length;
  const h = n >> 1;
  return n % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** The median of `values` (NaN for an empty array). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  // new Float64Array(array) copies directly; Float64Array.from took the iterator path (same values).
  return sortedMedian(new Float64Array(values).sort());
}

/**
 * The Hodges-Lehmann estimate of the location shift between x and y, with a confidence interval.
 *
 * Method (Hollander & Wolfe, "Nonparametric Statistical Methods", section 4.3; the interval that
 * inverts the Mann-Whitney test, as in R's wilcox.test(conf.int = TRUE)):
 *  - the n1 n2 differences d = x_i - y_j are sorted; the estimate is their median;
 *  - the interval is [d_(k), d_(n1 n2 - k + 1)], where k is the Mann-Whitney critical value from
 *    the large-sample (normal) approximation k = n1 n2 / 2 - z_{alpha/2} sqrt(n1 n2 (n+1) / 12),
 *    alpha = 1 - confidence, taken to the nearest integer (halves down: k = ceil(value - 1/2)).
 *    Rounding that way makes "0 is outside the interval" equivalent to the two-sided test with the
 *    continuity correction rejecting (for data without ties): d_(k) > 0 exactly when
 *    min(U1, U2) <= k - 1, i.e. min(U1, U2) < n1 n2 / 2 - 1/2 - z sigma.
 *  - k is clamped to at least 1 (tiny samples: the interval becomes [min d, max d], with less
 *    coverage than asked, flagged by `clamped`) and to at most ceil(n1 n2 / 2) so the bounds stay
 *    ordered.
 * The variance here has no tie correction (the textbook interval); ties make it slightly wide.
 * Cost: O(n1 n2 log(n1 n2)) time and O(n1 n2) memory.
 */
export function hodgesLehmann(x: readonly number[], y: readonly number[], confidence = 0.95): HodgesLehmannResult {
  checkSample('x', x);
  checkSample('y', y);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1 (exclusive), got ${confidence}`);
  const n1 = x.length;
  const n2 = y.length;
  const mn = n1 * n2;
  // The differences go in a scratch buffer the module keeps (allocating a typed array per call
  // was most of this function's time); only its first mn entries are used, and nothing escapes.
  if (scratch.length < mn) scratch = new Float64Array(Math.max(mn, scratch.length * 2));
  const d = scratch;
  let i = 0;
  for (let a = 0; a < n1; a++) {
    const xi = x[a]!;
    for (let b = 0; b < n2; b++) d[i++] = xi - y[b]!;
  }
  const zc = normalQuantile(1 - (1 - confidence) / 2);
  const raw = mn / 2 - zc * Math.sqrt((mn * (n1 + n2 + 1)) / 12);
  let k = Math.ceil(raw - 0.5);
  const clamped = k < 1;
  k = Math.min(Math.max(k, 1), Math.ceil(mn / 2));
  // Order statistics by selection instead of a full sort (the engine judges every few minutes,
  // thousands of times in a fast-forwarded plan): each select leaves d partitioned around k.
  const h = mn >> 1;
  const upperMid = select(d, mn, h);
  const shift = mn % 2 === 1 ? upperMid : (maxBelow(d, h) + upperMid) / 2;
  const lower = select(d, mn, k - 1);
  const upper = select(d, mn, mn - k);
  return { shift, lower, upper, confidence, k, clamped };
}

/** Scratch for hodgesLehmann's differences: grows, never shrinks (a few KB for the usual sizes). */
let scratch = new Float64Array(1024);

/** The k-th smallest (0-based) of a[0..n-1], in place (Hoare's quickselect with a middle pivot). */
function select(a: Float64Array, n: number, k: number): number {
  let l = 0;
  let r = n - 1;
  while (r > l) {
    const p = a[(l + r) >> 1]!;
    let i = l;
    let j = r;
    while (i <= j) {
      while (a[i]! < p) i++;
      while (a[j]! > p) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) r = j;
    else if (k >= i) l = i;
    else break;
  }
  return a[k]!;
}

/** After select(a, h): the largest of a[0..h-1], i.e. the (h-1)-th smallest. */
function maxBelow(a: Float64Array, h: number): number {
  let m = -Infinity;
  for (let i = 0; i < h; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
