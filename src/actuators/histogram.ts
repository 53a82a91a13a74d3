// A latency histogram with ~1% resolution and fixed memory (about 1,400 buckets up to 10 minutes),
// so a long load test at tens of thousands of requests per second never keeps every sample.
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MAX_MS = 600_000;
const BUCKETS = Math.ceil(Math.log(MAX_MS + 1) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;

  record(ms: number): void {
    if (!(ms >= 0)) return;
    const v = Math.min(ms, MAX_MS);
    this.counts[Math.floor(Math.log(v + 1) / LOG_GROWTH)]! += 1;
    this.count += 1;
    if (ms > this.max) this.max = ms;
  }

  /** The q-quantile in ms (upper edge of its bucket, so never under the true value by > 1%); null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.exp((i + 1) * LOG_GROWTH) - 1);
    }
    return this.max;
  }

  percentiles(): { p50: number; p95: number; p99: number; max: number } | null {
    if (this.count === 0) return null;
    return { p50: this.quantile(0.5)!, p95: this.quantile(0.95)!, p99: this.quantile(0.99)!, max: this.max };
  }
}
