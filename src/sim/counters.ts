// The simulated service's cumulative counters, laid out the way Prometheus would scrape them: one
// block of STRIDE counters per track (canary, baseline, stable), the expected (real-valued) counts in
// `acc`, and a ring of floored snapshots, one per analysis-interval boundary, that SLI values are
// computed from (promql.ts). The traffic model (traffic.ts) adds to `acc`; nothing else writes it.
import type { Track } from '../engine/types.js';
import type { SimCounter } from '../plan/simulate.js';
import type { ScenarioEventRates } from './scenarios.js';

/** Upper bounds (seconds) of http_request_duration_seconds_bucket; +Inf is implicit. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 5, 10,
];
export const BOUNDS_WITH_INF: readonly number[] = [...LATENCY_BUCKETS, Infinity];

// Counter layout: one block of STRIDE cumulative counters per track (canary, baseline).
export const C_REQ = 0; // http_requests_total
export const C_ERR = 1; // http_requests_total{code=~"5.."}
export const C_WF = 2; // workflows_total
export const C_WF_FAIL = 3; // workflow_failures_total
export const C_SAFETY = 4; // safety_violations_total (all kinds, security included)
export const C_SEC_VIOL = 5; // safety_violations_total{kind="security"}
export const C_CRIT = 6; // critical_errors_total
export const C_DATA = 7; // data_integrity_failures_total
export const C_MEM = 8; // memory_leak_detections_total
export const C_COMPLAINTS = 9; // customer_complaints_total
export const C_SEC_INC = 10; // security_incidents_total
export const C_LAT_SUM = 11; // http_request_duration_seconds_sum (seconds; not floored when exported)
export const C_BUCKET = 12; // http_request_duration_seconds_bucket{le=...}, then le="+Inf"
/** http_requests_total{code="503"}: the mesh's fast fails (no healthy upstream), a part of C_ERR. */
export const C_ERR_503 = C_BUCKET + LATENCY_BUCKETS.length + 1;
export const STRIDE = C_ERR_503 + 1;
/** The world's tracks, in counter-block order: 0 canary, 1 baseline, 2 the stable fleet. */
export type SimTrack = Track | 'stable';
export const TRACKS: readonly SimTrack[] = ['canary', 'baseline', 'stable'];
export const N_TRACKS = 3;
export const trackIndex = (track: SimTrack): number => (track === 'canary' ? 0 : track === 'baseline' ? 1 : 2);

/** The counter a plan's `simulate: { counter }` names. */
export const COUNTER_OF: Record<SimCounter, number> = {
  requests: C_REQ,
  errors: C_ERR,
  workflows: C_WF,
  workflow_failures: C_WF_FAIL,
  safety_violations: C_SAFETY,
  security_violations: C_SEC_VIOL,
  critical_errors: C_CRIT,
  data_integrity_failures: C_DATA,
  memory_leaks: C_MEM,
  customer_complaints: C_COMPLAINTS,
  security_incidents: C_SEC_INC,
};

/** The counter each rare event of a scenario counts in. */
export const EVENT_COUNTERS: Record<keyof ScenarioEventRates, number> = {
  safetyViolations: C_SAFETY,
  securityViolations: C_SEC_VIOL,
  criticalErrors: C_CRIT,
  dataIntegrityFailures: C_DATA,
  memoryLeaks: C_MEM,
  customerComplaints: C_COMPLAINTS,
  securityIncidents: C_SEC_INC,
};

/** The counters of one track as Prometheus would scrape them (see SimWorld.counters). */
export interface TrackCounters {
  requests: number;
  errors: number;
  workflows: number;
  workflowFailures: number;
  safetyViolations: number;
  securityViolations: number;
  criticalErrors: number;
  dataIntegrityFailures: number;
  memoryLeaks: number;
  customerComplaints: number;
  securityIncidents: number;
  /** Cumulative bucket counts, aligned with LATENCY_BUCKETS and then +Inf (= the _count). */
  buckets: number[];
  /** http_request_duration_seconds_sum. */
  latencySumSeconds: number;
  /**
   * http_requests_total split by status code ("200", "500", "503"): each one is the floor of
   * its own (monotone) expected count, so their sum can be 1-2 below `requests`.
   */
  requestsByCode: Record<'200' | '500' | '503', number>;
  /** safety_violations_total split by kind: "security" (= securityViolations) and "content". */
  safetyViolationsByKind: Record<'security' | 'content', number>;
}

export class CounterStore {
  /** Expected (real-valued) counts; the exported counters are their floors. */
  readonly acc = new Float64Array(N_TRACKS * STRIDE);
  private readonly ring: Float64Array;

  /** `ringSize` snapshots are kept: enough for the longest SLI window plus one. */
  constructor(readonly ringSize: number) {
    this.ring = new Float64Array(ringSize * N_TRACKS * STRIDE); // snapshot 0: all zero
  }

  /** Keeps the floored counters as snapshot k (boundary k). */
  snapshot(k: number): void {
    const off = (k % this.ringSize) * N_TRACKS * STRIDE;
    for (let i = 0; i < N_TRACKS * STRIDE; i++) this.ring[off + i] = Math.floor(this.acc[i]!);
  }

  /** Counter `c` of track `tr` at snapshot k minus at snapshot j. */
  delta(tr: number, k: number, j: number, c: number): number {
    const cur = (k % this.ringSize) * N_TRACKS * STRIDE + tr * STRIDE;
    const prev = (j % this.ringSize) * N_TRACKS * STRIDE + tr * STRIDE;
    return this.ring[cur + c]! - this.ring[prev + c]!;
  }

  counters(track: SimTrack): TrackCounters {
    const b = trackIndex(track) * STRIDE;
    const f = (i: number) => Math.floor(this.acc[b + i]!);
    const buckets: number[] = [];
    for (let i = 0; i < BOUNDS_WITH_INF.length; i++) buckets.push(f(C_BUCKET + i));
    return {
      requests: f(C_REQ),
      errors: f(C_ERR),
      workflows: f(C_WF),
      workflowFailures: f(C_WF_FAIL),
      safetyViolations: f(C_SAFETY),
      securityViolations: f(C_SEC_VIOL),
      criticalErrors: f(C_CRIT),
      dataIntegrityFailures: f(C_DATA),
      memoryLeaks: f(C_MEM),
      customerComplaints: f(C_COMPLAINTS),
      securityIncidents: f(C_SEC_INC),
      buckets,
      latencySumSeconds: this.acc[b + C_LAT_SUM]!,
      requestsByCode: {
        '200': Math.max(0, Math.floor(this.acc[b + C_REQ]! - this.acc[b + C_ERR]!)),
        '500': Math.max(0, Math.floor(this.acc[b + C_ERR]! - this.acc[b + C_ERR_503]!)),
        '503': f(C_ERR_503),
      },
      safetyViolationsByKind: {
        security: f(C_SEC_VIOL),
        content: Math.max(0, Math.floor(this.acc[b + C_SAFETY]! - this.acc[b + C_SEC_VIOL]!)),
      },
    };
  }
}
