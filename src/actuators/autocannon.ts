// The embedded load engine: autocannon, as a library, in this process. Counts every response by
// status and every transport error itself (autocannon's own latency percentiles have no p95), and
// reports progress once a second. Bounded three ways: the test's duration, its maxRequests, and a
// hard stop a few seconds past the duration whatever autocannon does.
import type { LoadTest } from '../plan/schema.js';
import { parseDuration } from '../plan/duration.js';
import type { LoadProgress, LoadSummary } from '../engine/types.js';
import { LatencyHistogram } from './histogram.js';

export interface EngineRun {
  /** Resolves when the run has ended (completed, stopped or failed); never rejects. */
  done: Promise<{ outcome: 'completed' | 'stopped' | 'failed'; detail: string; summary: LoadSummary | null; extra?: unknown }>;
  stop(): void;
}

/** Counts of one run, shared by the progress ticks and the final summary. */
export class Tally {
  readonly hist = new LatencyHistogram();
  /** Last second's responses only, for the live percentiles. */
  private recent = new LatencyHistogram();
  requests = 0;
  errors = 0;
  readonly byStatus: Record<string, number> = {};
  private lastRequests = 0;
  private lastTickAt: number;

  constructor(readonly startedAt: number) {
    this.lastTickAt = startedAt;
  }

  response(status: number, ms: number): void {
    this.requests += 1;
    const k = String(status);
    this.byStatus[k] = (this.byStatus[k] ?? 0) + 1;
    if (status >= 400 || status < 100) this.errors += 1;
    this.hist.record(ms);
    this.recent.record(ms);
  }

  transportError(timeout: boolean): void {
    const k = timeout ? 'timeouts' : 'errors';
    this.byStatus[k] = (this.byStatus[k] ?? 0) + 1;
    this.errors += 1;
  }

  progress(now: number, durationMs: number): LoadProgress {
    const dt = Math.max(1, now - this.lastTickAt);
    const rps = ((this.requests - this.lastRequests) * 1000) / dt;
    this.lastRequests = this.requests;
    this.lastTickAt = now;
    const p = this.recent.percentiles() ?? this.hist.percentiles();
    this.recent = new LatencyHistogram();
    return { elapsedMs: now - this.startedAt, durationMs, requests: this.requests, rps, latency: p ? { p50: p.p50, p95: p.p95, p99: p.p99 } : null, byStatus: { ...this.byStatus }, errors: this.errors };
  }

  summary(now: number): LoadSummary {
    const durationMs = Math.max(1, now - this.startedAt);
    return { requests: this.requests, durationMs, rps: (this.requests * 1000) / durationMs, latency: this.hist.percentiles(), byStatus: { ...this.byStatus }, errors: this.errors };
  }
}

/** Grace past the duration before the hard stop (autocannon ends on its own well before). */
const HARD_STOP_GRACE_MS = 5_000;

export function startAutocannon(test: LoadTest, onProgress: (p: LoadProgress) => void): EngineRun {
  const durationMs = parseDuration(test.duration) ?? 0;
  let stopRequested = false;
  let instance: { stop(): void } | null = null;
  let stopNow: () => void = () => {
    stopRequested = true;
  };
  const done = (async () => {
    const mod = await import('autocannon');
    const autocannon = mod.default;
    const started = Date.now();
    const tally = new Tally(started);
    return await new Promise<Awaited<EngineRun['done']>>((resolve) => {
      let finished = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (outcome: 'completed' | 'stopped' | 'failed', detail: string) => {
        if (finished) return;
        finished = true;
        for (const t of timers) clearTimeout(t);
        clearInterval(ticker);
        resolve({ outcome, detail, summary: tally.requests + tally.errors > 0 ? tally.summary(Date.now()) : null });
      };
      const inst = autocannon(
        {
          url: test.target,
          connections: test.connections ?? 10,
          duration: Math.max(1, Math.ceil(durationMs / 1000)),
          ...(test.maxRequests ? { amount: test.maxRequests } : {}),
          ...(test.rate ? { overallRate: test.rate } : {}),
          method: test.method,
          headers: test.headers,
          ...(test.body !== undefined ? { body: test.body } : {}),
          // Each request times out after 10 s; the run checks for a stop 5 times a second.
          timeout: 10,
          sampleInt: 200,
        },
        (err) => {
          if (err) return finish('failed', `autocannon: ${err.message}`);
          if (stopRequested) return finish('stopped', `stopped after ${((Date.now() - started) / 1000).toFixed(1)} s of ${test.duration}`);
          finish('completed', `ran ${test.duration}${test.maxRequests ? ` (or ${test.maxRequests} requests)` : ''} against ${test.target}`);
        },
      );
      instance = inst;
      inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => tally.response(status, ms));
      inst.on('reqError', (err: Error) => tally.transportError(/timed out/i.test(err.message)));
      const ticker = setInterval(() => onProgress(tally.progress(Date.now(), durationMs)), 1000);
      ticker.unref();
      // Every load loop stops by itself: autocannon's own duration, or this.
      const hard = setTimeout(() => {
        inst.stop();
        timers.push(setTimeout(() => finish('failed', `autocannon did not stop within ${HARD_STOP_GRACE_MS / 1000} s past ${test.duration}; stopped by canary`), 1_000));
      }, durationMs + HARD_STOP_GRACE_MS);
      timers.push(hard);
      // With maxRequests, autocannon drops its own duration timer (it arms it only without an
      // amount): the duration is kept here, so a run ends at whichever comes first.
      if (test.maxRequests) timers.push(setTimeout(() => inst.stop(), durationMs));
      stopNow = () => {
        stopRequested = true;
        inst.stop();
        // autocannon notices within one sample interval (200 ms); the outcome does not wait longer than this.
        timers.push(setTimeout(() => finish('stopped', `stopped after ${((Date.now() - started) / 1000).toFixed(1)} s of ${test.duration}`), 800));
      };
      if (stopRequested) stopNow();
    });
  })().catch((err: unknown) => ({ outcome: 'failed' as const, detail: `autocannon: ${err instanceof Error ? err.message : String(err)}`, summary: null }));
  return {
    done,
    stop: () => {
      stopRequested = true;
      if (instance) stopNow();
    },
  };
}
