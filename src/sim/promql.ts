// The small part of PromQL the simulated world evaluates: each SLI's value from the counter
// snapshots (counters.ts) over its window, as the plan's query would compute it from the same
// counters in a real Prometheus. What to compute is the plan's `slis[].simulate`
// (src/plan/simulate.ts), never inferred from the SLI's name; the window is `simulate.window`,
// else the range written in the query (`[5m]`), else 5m.
import { parseDuration } from '../plan/duration.js';
import type { Simulate } from '../plan/simulate.js';
import { BOUNDS_WITH_INF, C_BUCKET, C_ERR, C_REQ, C_WF, C_WF_FAIL, COUNTER_OF, type CounterStore } from './counters.js';

const SECOND = 1_000;
const DEFAULT_WINDOW_MS = 5 * 60_000;

/**
 * Prometheus's histogram_quantile over one histogram: `upperBounds` ascending and ending with
 * +Infinity, `counts` cumulative (count of observations <= each bound). NaN when there is no data
 * (no observations, or no +Inf bucket), like PromQL. Linear interpolation inside the bucket;
 * a rank in the +Inf bucket answers the highest finite bound; the first bucket starts at 0.
 */
export function histogramQuantile(q: number, upperBounds: readonly number[], counts: ArrayLike<number>): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = upperBounds.length;
  if (n < 2 || counts.length !== n || upperBounds[n - 1] !== Infinity) return NaN;
  // Counts of a real histogram can be slightly non-monotonic (scrape skew): Prometheus evens them out.
  const fixed: number[] = new Array<number>(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    max = Math.max(max, counts[i]!);
    fixed[i] = max;
  }
  const observations = fixed[n - 1]!;
  if (!(observations > 0)) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < n - 1 && fixed[b]! < rank) b++;
  if (b === n - 1) return upperBounds[n - 2]!;
  if (b === 0 && upperBounds[0]! <= 0) return upperBounds[0]!;
  let bucketStart = 0;
  const bucketEnd = upperBounds[b]!;
  let count = fixed[b]!;
  if (b > 0) {
    bucketStart = upperBounds[b - 1]!;
    count -= fixed[b - 1]!;
    rank -= fixed[b - 1]!;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** An SLI as the world computes it: what, and over how many analysis intervals. */
export interface SliSpec {
  name: string;
  how: Simulate | null;
  /** Window length in analysis intervals. */
  steps: number;
}

const RANGE_RE = /\[(\d+(?:\.\d+)?(?:ms|s|m|h|d|w))\]/;

export function compileSli(sli: { name: string; query: string; simulate?: Simulate | undefined }, intervalMs: number): SliSpec {
  const how = sli.simulate ?? null;
  if (!how) return { name: sli.name, how: null, steps: 1 };
  const written = RANGE_RE.exec(sli.query)?.[1];
  const windowMs = (how.window !== undefined ? parseDuration(how.window) : undefined) ?? (written !== undefined ? parseDuration(written) : undefined) ?? DEFAULT_WINDOW_MS;
  return { name: sli.name, how, steps: Math.max(1, Math.round(windowMs / intervalMs)) };
}

/**
 * The value of `spec` for track `tr` at boundary k (snapshots k and k - steps); null when there
 * is no data (no requests, no window yet, or no `simulate`), as the query would return nothing.
 * `scratch` holds one histogram (BOUNDS_WITH_INF.length numbers).
 */
export function evaluate(spec: SliSpec, store: CounterStore, tr: number, k: number, intervalMs: number, scratch: Float64Array): number | null {
  const how = spec.how;
  if (how === null) return null;
  const j = Math.max(0, k - spec.steps);
  if (j === k) return null;
  const delta = (c: number) => store.delta(tr, k, j, c);
  const spanSec = ((k - j) * intervalMs) / SECOND;
  switch (how.kind) {
    case 'availability': {
      const req = delta(C_REQ);
      return req > 0 ? 100 * (1 - delta(C_ERR) / req) : null;
    }
    case 'error_rate': {
      const req = delta(C_REQ);
      return req > 0 ? (100 * delta(C_ERR)) / req : null;
    }
    case 'workflow_success': {
      const wf = delta(C_WF);
      return wf > 0 ? 100 * (1 - delta(C_WF_FAIL) / wf) : null;
    }
    case 'latency_quantile': {
      for (let i = 0; i < BOUNDS_WITH_INF.length; i++) scratch[i] = delta(C_BUCKET + i);
      const v = histogramQuantile(how.quantile, BOUNDS_WITH_INF, scratch);
      return Number.isFinite(v) ? 1000 * v : null;
    }
    case 'rate':
      return delta(COUNTER_OF[how.counter]) / spanSec;
    case 'increase':
      return delta(COUNTER_OF[how.counter]);
  }
}
