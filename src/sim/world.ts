// The embedded simulated world: a service with stable, canary and baseline tracks, modelled the way
// Prometheus sees a real one (cumulative counters and a latency histogram), and a Kubernetes-like
// set of pods that start, restart, get replaced and crash. `npm start` runs the product on it.
//
// Time only moves through `advanceTo(t)`. Counters are integrated piecewise between calls (and at
// every analysis-interval boundary, where a snapshot is kept), so `counters()` grows on every
// advance, however short: a Prometheus scraping the exporter (exporter.ts) every second at speed 1
// sees them rise every scrape. Noise changes only at boundaries. SLI values are computed from
// snapshot deltas over each SLI's PromQL window (rate over [5m], histogram_quantile, increase over
// [1h]/[24h]), so a value is what the plan's query would return from the same counters.
//
// Pods change through a time-ordered queue of scheduled transitions: advancing over a quiet minute
// touches no pods at all, whatever their number.
//
// Deterministic: the same seed and the same sequence of calls give the same events. Two PRNG
// streams (metrics, pods) are kept apart so changing the pod count does not change SLI noise.
import type { EngineEvent, PodInfo, SliSample, Track } from '../engine/types.js';
import { parseDuration } from '../plan/schema.js';
import type { Plan } from '../plan/schema.js';
import type { ActuationResult, TrafficActuator } from '../runtime/ports.js';
import { Rng, hash32 } from './random.js';
import { resolveScenario } from './scenarios.js';
import type { Scenario, ScenarioEventRates, ScenarioName } from './scenarios.js';

// ---------------------------------------------------------------------------------------------
// Model constants

/** The seed's 50,000 requests per minute, as requests per second (daily average). */
export const TOTAL_RPS = 50_000 / 60;
/** Upper bounds (seconds) of http_request_duration_seconds_bucket; +Inf is implicit. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 2.5, 5, 10,
];
const BOUNDS_WITH_INF: readonly number[] = [...LATENCY_BUCKETS, Infinity];

/** Healthy p95 (ms) before noise; noise keeps it within ~180-260 ms. */
const HEALTHY_P95_MS = 215;
/** Healthy 5xx share before noise (0.03%); noise keeps it within ~0.02-0.04%. */
const HEALTHY_ERROR = 0.0003;
/** Workflows started per request, and the healthy workflow failure share (99.9% success). */
const WORKFLOWS_PER_REQUEST = 0.1;
const HEALTHY_WORKFLOW_FAILURE = 0.001;
/** Shape of the latency distribution (log-normal sigma): p95 = median x e^(1.645 sigma). */
const LATENCY_SIGMA = 0.5;
const P95_Z = 1.6448536269514722;
/** A 503 from the mesh (no healthy upstream) answers in about 2 ms. */
const FAST_FAIL_SECONDS = 0.002;
/** With more boundaries than this crossed in one call, only the newest samples are emitted. */
export const MAX_CATCHUP_SAMPLES = 3;

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

// Counter layout: one block of STRIDE cumulative counters per track (canary, baseline).
const C_REQ = 0; // http_requests_total
const C_ERR = 1; // http_requests_total{code=~"5.."}
const C_WF = 2; // workflows_total
const C_WF_FAIL = 3; // workflow_failures_total
const C_SAFETY = 4; // safety_violations_total (all kinds, security included)
const C_SEC_VIOL = 5; // safety_violations_total{kind="security"}
const C_CRIT = 6; // critical_errors_total
const C_DATA = 7; // data_integrity_failures_total
const C_MEM = 8; // memory_leak_detections_total
const C_COMPLAINTS = 9; // customer_complaints_total
const C_SEC_INC = 10; // security_incidents_total
const C_LAT_SUM = 11; // http_request_duration_seconds_sum (seconds; not floored when exported)
const C_BUCKET = 12; // http_request_duration_seconds_bucket{le=...}, then le="+Inf"
/** http_requests_total{code="503"}: the mesh's fast fails (no healthy upstream), a part of C_ERR. */
const C_ERR_503 = C_BUCKET + LATENCY_BUCKETS.length + 1;
const STRIDE = C_ERR_503 + 1;
const TRACKS: readonly Track[] = ['canary', 'baseline'];

const EVENT_COUNTERS: Record<keyof ScenarioEventRates, number> = {
  safetyViolations: C_SAFETY,
  securityViolations: C_SEC_VIOL,
  criticalErrors: C_CRIT,
  dataIntegrityFailures: C_DATA,
  memoryLeaks: C_MEM,
  customerComplaints: C_COMPLAINTS,
  securityIncidents: C_SEC_INC,
};

// ---------------------------------------------------------------------------------------------
// Maths

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), monotone. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

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

/** AR(1) step around 0 with stationary standard deviation `sd`. */
function ar1(x: number, phi: number, sd: number, rng: Rng): number {
  return phi * x + Math.sqrt(1 - phi * phi) * rng.normal(0, sd);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

// ---------------------------------------------------------------------------------------------
// SLIs: what each known name measures, and its PromQL window

type SliKind =
  | { kind: 'availability' }
  | { kind: 'error_rate' }
  | { kind: 'quantile'; q: number }
  | { kind: 'workflow_success' }
  | { kind: 'rate'; counter: number }
  | { kind: 'increase'; counter: number }
  | { kind: 'unknown' };

interface SliSpec {
  name: string;
  how: SliKind;
  /** Window length in analysis intervals. */
  steps: number;
}

const KNOWN_SLIS: Record<string, { how: SliKind; window: string }> = {
  availability: { how: { kind: 'availability' }, window: '5m' },
  latency_p95: { how: { kind: 'quantile', q: 0.95 }, window: '5m' },
  error_rate: { how: { kind: 'error_rate' }, window: '5m' },
  workflow_success_rate: { how: { kind: 'workflow_success' }, window: '1h' },
  request_rate: { how: { kind: 'rate', counter: C_REQ }, window: '5m' },
  safety_violations: { how: { kind: 'rate', counter: C_SAFETY }, window: '5m' },
  critical_errors: { how: { kind: 'increase', counter: C_CRIT }, window: '1h' },
  security_violations: { how: { kind: 'increase', counter: C_SEC_VIOL }, window: '1h' },
  data_integrity_failures: { how: { kind: 'increase', counter: C_DATA }, window: '1h' },
  memory_leaks: { how: { kind: 'increase', counter: C_MEM }, window: '1h' },
  customer_complaints: { how: { kind: 'increase', counter: C_COMPLAINTS }, window: '24h' },
  security_incidents: { how: { kind: 'increase', counter: C_SEC_INC }, window: '24h' },
};

const RANGE_RE = /\[(\d+(?:\.\d+)?(?:ms|s|m|h|d|w))\]/;
const QUANTILE_RE = /histogram_quantile\(\s*([0-9]*\.?[0-9]+)/;

function compileSli(name: string, query: string, intervalMs: number): SliSpec {
  const known = KNOWN_SLIS[name];
  if (!known) return { name, how: { kind: 'unknown' }, steps: 1 };
  // The range written in the plan's query wins over the default for the name.
  const written = RANGE_RE.exec(query)?.[1];
  const windowMs = (written !== undefined ? parseDuration(written) : undefined) ?? parseDuration(known.window)!;
  let how = known.how;
  if (how.kind === 'quantile') {
    const q = Number(QUANTILE_RE.exec(query)?.[1]);
    if (Number.isFinite(q) && q >= 0 && q <= 1) how = { kind: 'quantile', q };
  }
  return { name, how, steps: Math.max(1, Math.round(windowMs / intervalMs)) };
}

// ---------------------------------------------------------------------------------------------
// Pods

const K_CREATING = 1; // Pending -> ContainerCreating
const K_STARTED = 2; // ContainerCreating -> Running
const K_READY = 3; // Running, not ready after a restart -> ready
const K_RESTART = 4; // a container restart (OOMKilled / Error)
const K_REPLACE = 5; // the pod is evicted/rescheduled: Terminating, and a new one is created
const K_CRASH = 6; // CrashLoopBackOff: the container exits again
const K_DELETE = 7; // Terminating -> gone

interface SimPod {
  key: string;
  name: string;
  region: string;
  track: 'stable' | 'canary';
  phase: PodInfo['phase'];
  ready: boolean;
  reason: string;
  message: string | undefined;
  restarts: number;
  lastRestartReason: string | undefined;
  startedAt: number;
  /** Scheduled transitions carry the token they were made with; bumping it cancels them. */
  token: number;
  alive: boolean;
  terminating: boolean;
  /** Runs the crashing canary build: crashes whenever started. */
  crashing: boolean;
  /** Has crashed at least once while crashing (counts as unavailable for traffic). */
  broken: boolean;
  crashes: number;
  /** Sent to the consumer at least once (a sync or an upsert). */
  emitted: boolean;
}

interface Scheduled {
  at: number;
  seq: number;
  kind: number;
  pod: SimPod;
  token: number;
}

/** A binary min-heap on (at, seq): time order, ties in scheduling order (deterministic). */
class EventQueue {
  private items: Scheduled[] = [];

  get size(): number {
    return this.items.length;
  }

  peekAt(): number {
    return this.items.length ? this.items[0]!.at : Infinity;
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Scheduled, y: Scheduled): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/** The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += NAME_ALPHABET[Math.floor(rng.next() * NAME_ALPHABET.length)];
  return s;
}

function toPodInfo(p: SimPod, namespace: string): PodInfo {
  const info: PodInfo = {
    key: p.key,
    name: p.name,
    namespace,
    region: p.region,
    track: p.track,
    phase: p.phase,
    ready: p.ready,
    reason: p.reason,
    restarts: p.restarts,
    startedAt: p.startedAt,
  };
  if (p.message !== undefined) info.message = p.message;
  if (p.lastRestartReason !== undefined) info.lastRestartReason = p.lastRestartReason;
  return info;
}

// ---------------------------------------------------------------------------------------------
// The world

export interface SimWorldOptions {
  plan: Plan;
  scenario: ScenarioName | Scenario;
  seed?: number;
  /** Sim epoch ms at which the world starts (boundaries are start + k x interval). */
  start: number;
  /** Stable pods per region (default 6); also the base for canary replica counts. */
  podsPerRegion?: number;
  /** Regions of the world (default plan.target.regions). */
  regions?: string[];
  /** Pod turnover: mean sim ms between replacements / restarts of any one running pod. */
  churn?: { replaceMeanMs?: number; restartMeanMs?: number };
  /** Real ms before setWeight/rollback promises resolve (the "read back"); default 20. */
  actuationDelayMs?: number;
}

export interface AdvanceOptions {
  /** Emit one sli.samples per analysis interval crossed, however many (fast-forward tests). */
  everyInterval?: boolean;
}

export class SimWorld implements TrafficActuator {
  readonly name = 'sim';
  readonly plan: Plan;
  readonly seed: number;
  readonly start: number;
  readonly regions: readonly string[];
  readonly podsPerRegion: number;
  /** The analysis interval (ms): one sample per track and SLI per interval. */
  readonly intervalMs: number;

  private readonly namespace: string;
  private readonly specs: SliSpec[];
  private readonly metricsRng: Rng;
  private readonly podRng: Rng;
  private readonly replaceMeanMs: number;
  private readonly restartMeanMs: number;
  private readonly actuationDelayMs: number;
  private readonly nodesPerRegion: number;
  private readonly lnBounds: number[];

  private t: number;
  /** Boundaries processed so far: snapshot k is the counters at start + k x interval. */
  private k = 0;
  private readonly ringSize: number;
  private readonly ring: Float64Array;
  /** Expected (real-valued) counts; the exported counters are their floors. */
  private readonly acc = new Float64Array(2 * STRIDE);
  private readonly scratch = new Float64Array(BOUNDS_WITH_INF.length);

  private _scenario: Scenario;
  private _weight = 0;
  private canaryRegions: string[] = [];
  private faultSince: number | null = null;
  private crashActive = false;
  // Noise, updated once per interval (AR(1) around 0).
  private trafficNoise = 0;
  private readonly latNoise = [0, 0];
  private readonly errNoise = [0, 0];
  /** Requests per second arriving from outside (a load test through the HTTP service), per track. */
  private readonly extraRps = [0, 0];

  private readonly pods = new Map<string, SimPod>();
  private readonly queue = new EventQueue();
  private seq = 0;
  /** Keys deleted since the last emission: never reused before the consumer has seen the delete. */
  private readonly recentDeletes = new Set<string>();
  private readonly dirty = new Set<SimPod>();
  private deletes: string[] = [];
  private synced = false;
  private canaryPods = 0;
  private canaryBroken = 0;
  private readonly stableHash: string;
  private readonly canaryHash: string;

  constructor(opts: SimWorldOptions) {
    this.plan = opts.plan;
    this._scenario = resolveScenario(opts.scenario);
    this.seed = (opts.seed ?? 1) >>> 0;
    if (!Number.isFinite(opts.start)) throw new Error(`SimWorld: start must be epoch ms, got ${opts.start}`);
    this.start = opts.start;
    this.t = opts.start;
    this.regions = [...(opts.regions ?? opts.plan.target.regions)];
    this.podsPerRegion = Math.max(0, Math.floor(opts.podsPerRegion ?? 6));
    this.namespace = opts.plan.target.namespace;
    this.intervalMs = parseDuration(opts.plan.analysis.interval) ?? MINUTE;
    if (!(this.intervalMs > 0)) throw new Error(`SimWorld: analysis interval must be > 0`);
    this.specs = opts.plan.slis.map((s) => compileSli(s.name, s.query, this.intervalMs));
    this.ringSize = Math.max(2, ...this.specs.map((s) => s.steps + 1));
    this.ring = new Float64Array(this.ringSize * 2 * STRIDE); // snapshot 0: all zero
    this.metricsRng = Rng.derive(this.seed, 'metrics');
    this.podRng = Rng.derive(this.seed, 'pods');
    this.replaceMeanMs = opts.churn?.replaceMeanMs ?? DAY;
    this.restartMeanMs = opts.churn?.restartMeanMs ?? 3 * DAY;
    this.actuationDelayMs = opts.actuationDelayMs ?? 20;
    this.nodesPerRegion = Math.max(3, this.podsPerRegion * 2);
    this.lnBounds = LATENCY_BUCKETS.map((b) => Math.log(b));
    const deployment = opts.plan.target.deployment;
    this.stableHash = randomSuffix(new Rng(hash32(`${deployment}:${opts.plan.metadata.previousVersion}`)), 5);
    this.canaryHash = randomSuffix(new Rng(hash32(`${deployment}:canary:${opts.plan.metadata.version}`)), 5);

    for (const region of this.regions)
      for (let i = 0; i < this.podsPerRegion; i++) this.createPod(region, 'stable', this.start, true);
  }

  // -- reading -----------------------------------------------------------------------------

  /** Sim time the world has been advanced to. */
  get now(): number {
    return this.t;
  }

  /** What the canary does: the scenario given at construction, or the last one injected. */
  get scenario(): Scenario {
    return this._scenario;
  }

  /** The canary traffic weight in effect (percent). */
  get weight(): number {
    return this._weight;
  }

  /** The world as a traffic actuator (it is one). */
  get traffic(): TrafficActuator {
    return this;
  }

  /** Regions where canary pods run at the current weight. */
  get activeRegions(): readonly string[] {
    return this.canaryRegions;
  }

  /** All live pods as they are now (copies). */
  listPods(): PodInfo[] {
    const out: PodInfo[] = [];
    for (const p of this.pods.values()) out.push(toPodInfo(p, this.namespace));
    return out;
  }

  get podCount(): number {
    return this.pods.size;
  }

  /**
   * The cumulative counters of a track as Prometheus would scrape them at the world's time (`now`,
   * the last advanceTo: the exporter advances first). Every value only grows (the per-code and
   * per-kind splits are floors of differences: up to float rounding, which the exporter absorbs).
   */
  counters(track: Track): {
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
  } {
    const b = (track === 'canary' ? 0 : 1) * STRIDE;
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

  // -- time --------------------------------------------------------------------------------

  /**
   * Moves the world to `t` (never backwards) and returns what happened: `sli.samples` for the
   * interval boundaries crossed (all of them with `everyInterval`, else all when at most
   * MAX_CATCHUP_SAMPLES were crossed and only the newest otherwise), then `pods.sync` per region
   * on the first call or one `pods.delta` with every pod that changed since the previous call.
   */
  advanceTo(t: number, opts: AdvanceOptions = {}): EngineEvent[] {
    if (Number.isNaN(t)) throw new Error('SimWorld.advanceTo: time is NaN');
    const target = Math.max(t, this.t);
    const events: EngineEvent[] = [];
    const firstBoundary = this.k + 1;
    const lastBoundary = Math.floor((target - this.start) / this.intervalMs);
    const crossed = Math.max(0, lastBoundary - firstBoundary + 1);
    const emitAll = opts.everyInterval === true || crossed <= MAX_CATCHUP_SAMPLES;

    for (let k = firstBoundary; k <= lastBoundary; k++) {
      const at = this.start + k * this.intervalMs;
      this.runPods(at);
      this.integrate(this.t, at);
      this.t = at;
      this.k = k;
      this.snapshot(k);
      this.updateNoise();
      if (emitAll || k === lastBoundary) events.push({ type: 'sli.samples', at, samples: this.samplesAt(k) });
    }
    this.runPods(target);
    this.integrate(this.t, target);
    this.t = target;

    if (!this.synced) {
      this.synced = true;
      const byRegion = new Map<string, PodInfo[]>(this.regions.map((r) => [r, []]));
      for (const p of this.pods.values()) {
        p.emitted = true;
        byRegion.get(p.region)?.push(toPodInfo(p, this.namespace));
      }
      for (const [region, pods] of byRegion) events.push({ type: 'pods.sync', at: target, region, pods });
      this.dirty.clear();
      this.deletes = [];
      this.recentDeletes.clear();
    } else if (this.dirty.size > 0 || this.deletes.length > 0) {
      const upserts: PodInfo[] = [];
      for (const p of this.dirty) {
        p.emitted = true;
        upserts.push(toPodInfo(p, this.namespace));
      }
      events.push({ type: 'pods.delta', at: target, upserts, deletes: this.deletes });
      this.dirty.clear();
      this.deletes = [];
      this.recentDeletes.clear();
    }
    return events;
  }

  // -- traffic -----------------------------------------------------------------------------

  setWeight(weight: number, regions: string[]): Promise<ActuationResult> {
    if (!Number.isFinite(weight) || weight < 0 || weight > 100)
      return Promise.reject(new Error(`sim: weight must be 0..100, got ${weight}`));
    const unknown = regions.filter((r) => !this.regions.includes(r));
    if (unknown.length > 0)
      return Promise.reject(new Error(`sim: unknown region(s) ${unknown.join(', ')}; the world has ${this.regions.join(', ')}`));
    this.applyWeight(weight, weight > 0 ? [...new Set(regions)] : []);
    const perRegion = this.desiredCanary(weight);
    const detail =
      weight > 0
        ? `canary at ${weight}% in ${this.canaryRegions.join(', ') || 'no region'} (${perRegion} canary pod${perRegion === 1 ? '' : 's'} per region)`
        : 'canary at 0%: canary pods scaled to 0';
    return this.later({ weight: this._weight, detail });
  }

  /** Back to stable everywhere, whatever `regions` says: a rollback never fails for a region list. */
  rollback(reason: string, _regions: string[]): Promise<ActuationResult> {
    const before = this.canaryPods;
    this.applyWeight(0, []);
    const detail = `rolled back to stable (${reason}): canary 0%, ${before} canary pod${before === 1 ? '' : 's'} terminating`;
    return this.later({ weight: 0, detail });
  }

  /**
   * Switches what the canary does, from the world's current time (`now`) on: the fault shows at
   * once if the canary weight is already at or above the new scenario's `atWeight` (its ramp
   * starts over from now), else when a later setWeight reaches it; a scenario without a fault
   * (`'healthy'`) clears it. `atOnce(name)` from scenarios.ts gives a fault at full strength from
   * any weight, without a ramp: what a real-time test or a "break it now" demo wants.
   *
   * In real time, advance the world to the clock first (`world.advanceTo(clock.now())`): the
   * stretch between the last advance and the next one is integrated with the new scenario.
   * Canary pods already crashing (crashloop) keep crashing until replaced; a crashloop scenario
   * injected makes the running canary pods crash like a setWeight would.
   */
  inject(scenario: ScenarioName | Scenario): void {
    this._scenario = resolveScenario(scenario);
    this.faultSince = null;
    if (!this._scenario.crashLoop) this.crashActive = false;
    this.applyWeight(this._weight, this.canaryRegions);
  }

  private later(result: ActuationResult): Promise<ActuationResult> {
    return new Promise((resolve) => setTimeout(() => resolve(result), this.actuationDelayMs));
  }

  private desiredCanary(weight: number): number {
    return weight > 0 ? Math.max(1, Math.ceil((this.podsPerRegion * weight) / 100)) : 0;
  }

  /** Takes effect at the world's current time: traffic at once, pods through their lifecycle. */
  private applyWeight(weight: number, regions: string[]): void {
    const now = this.t;
    this._weight = weight;
    this.canaryRegions = weight > 0 ? regions : [];
    const faulty = weight > 0 && weight >= this.scenario.atWeight;
    if (!faulty) this.faultSince = null;
    else if (this.faultSince === null) this.faultSince = now;

    // Crashing build: once the fault shows, running canary pods start crashing too.
    if (this.scenario.crashLoop && faulty && !this.crashActive) {
      this.crashActive = true;
      for (const p of this.pods.values()) {
        if (p.track !== 'canary' || p.terminating || p.crashing) continue;
        p.crashing = true;
        if (p.phase === 'Running') this.schedule(p, K_CRASH, now + this.podRng.uniform(3, 20) * SECOND, true);
      }
    } else if (!faulty) {
      this.crashActive = false;
    }

    // Scale the canary ReplicaSet in each region.
    const desired = this.desiredCanary(weight);
    const current = new Map<string, SimPod[]>(this.regions.map((r) => [r, []]));
    for (const p of this.pods.values())
      if (p.track === 'canary' && !p.terminating) current.get(p.region)?.push(p);
    for (const region of this.regions) {
      const want = this.canaryRegions.includes(region) ? desired : 0;
      const have = current.get(region)!;
      for (let i = have.length; i < want; i++) this.createPod(region, 'canary', now, false);
      if (have.length > want) {
        // Like a ReplicaSet scaling down: not-ready pods first, then the youngest.
        const victims = [...have].sort((a, b) => Number(a.ready) - Number(b.ready) || b.startedAt - a.startedAt || (a.key < b.key ? -1 : 1));
        for (const p of victims.slice(0, have.length - want)) this.terminate(p, now);
      }
    }
  }

  // -- metrics -----------------------------------------------------------------------------

  private faultLevel(at: number): number {
    if (this.faultSince === null) return 0;
    if (this.scenario.rampMs <= 0) return 1;
    return clamp((at - this.faultSince) / this.scenario.rampMs, 0, 1);
  }

  /** Adds the expected counts for [from, to) at the current weight, scenario and noise. */
  private integrate(from: number, to: number): void {
    const dtSec = (to - from) / SECOND;
    if (!(dtSec > 0) || this._weight <= 0) return;
    const mid = (from + to) / 2;
    const level = this.faultLevel(mid);
    const sc = this.scenario;
    const acc = this.acc;

    if (sc.canaryEvents && level > 0) {
      for (const [key, perHour] of Object.entries(sc.canaryEvents) as [keyof ScenarioEventRates, number | undefined][]) {
        if (!perHour) continue;
        const n = (perHour * level * dtSec) / 3600;
        acc[EVENT_COUNTERS[key]] = acc[EVENT_COUNTERS[key]]! + n;
        if (key === 'securityViolations') acc[C_SAFETY] = acc[C_SAFETY]! + n;
      }
    }
    if (sc.noTraffic) return;

    // Daily cycle of +-20% peaking mid-afternoon UTC (late morning in New York).
    const hourOfDay = (((mid % DAY) + DAY) % DAY) / HOUR;
    const diurnal = 1 + 0.2 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
    const total = TOTAL_RPS * diurnal * (1 + this.trafficNoise);
    // Kayenta-style: the baseline gets as many requests as the canary.
    const own = (total * this._weight * dtSec) / 100;

    for (let tr = 0; tr < 2; tr++) {
      const base = tr * STRIDE;
      // A load test's requests add to the track's own (see serve.ts), counted like any other.
      const n = own + this.extraRps[tr]! * dtSec;
      const errF = clamp(1 + this.errNoise[tr]!, 0.67, 1.33);
      const healthyErr = HEALTHY_ERROR * errF;
      const { p95Ms, err, fail } = this.trackParams(tr, level, own / dtSec);
      const errAll = 1 - (1 - err) * (1 - fail);
      acc[base + C_REQ] = acc[base + C_REQ]! + n;
      acc[base + C_ERR] = acc[base + C_ERR]! + n * errAll;
      if (fail > 0) acc[base + C_ERR_503] = acc[base + C_ERR_503]! + n * fail;
      const wf = n * WORKFLOWS_PER_REQUEST;
      acc[base + C_WF] = acc[base + C_WF]! + wf;
      const wfFail = clamp(HEALTHY_WORKFLOW_FAILURE * errF + 0.8 * (errAll - healthyErr), 0, 1);
      acc[base + C_WF_FAIL] = acc[base + C_WF_FAIL]! + wf * wfFail;
      const mu = Math.log(p95Ms / 1000) - P95_Z * LATENCY_SIGMA;
      const meanSeconds = (1 - fail) * Math.exp(mu + (LATENCY_SIGMA * LATENCY_SIGMA) / 2) + fail * FAST_FAIL_SECONDS;
      acc[base + C_LAT_SUM] = acc[base + C_LAT_SUM]! + n * meanSeconds;
      const scale = 1 / (LATENCY_SIGMA * Math.SQRT2);
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        const served = 0.5 * (1 + erf((this.lnBounds[i]! - mu) * scale));
        const frac = (1 - fail) * served + (LATENCY_BUCKETS[i]! >= FAST_FAIL_SECONDS ? fail : 0);
        acc[base + C_BUCKET + i] = acc[base + C_BUCKET + i]! + n * frac;
      }
      acc[base + C_BUCKET + LATENCY_BUCKETS.length] = acc[base + C_BUCKET + LATENCY_BUCKETS.length]! + n;
    }
  }

  /** p95 (ms), 5xx share and 503 (no healthy pod) share of a track at fault `level`, with `ownRps`
   * its own traffic. Extra load slows it like a queue: a track runs at 50% utilisation on its own
   * traffic, and its latency grows as 1/(1 - utilisation) (capped at 90%). */
  private trackParams(tr: number, level: number, ownRps: number): { p95Ms: number; err: number; fail: number } {
    const sc = this.scenario;
    const latF = clamp(1 + this.latNoise[tr]!, 0.84, 1.2);
    const errF = clamp(1 + this.errNoise[tr]!, 0.67, 1.33);
    let p95Ms = HEALTHY_P95_MS * latF;
    let err = HEALTHY_ERROR * errF;
    let fail = 0;
    if (tr === 0) {
      if (sc.canaryP95Ms !== undefined) p95Ms += level * (sc.canaryP95Ms * latF - p95Ms);
      if (sc.canaryErrorPercent !== undefined) err += level * ((sc.canaryErrorPercent / 100) * errF - err);
      if (this.canaryBroken > 0 && this.canaryPods > 0) fail = this.canaryBroken / this.canaryPods;
    }
    const extra = this.extraRps[tr]!;
    if (extra > 0) {
      const u = Math.min(0.9, 0.5 * (1 + extra / Math.max(ownRps, 1)));
      p95Ms *= 0.5 / (1 - u);
    }
    return { p95Ms, err, fail };
  }

  /** Sets the rate of outside requests (a load test) reaching a track, in requests per second. */
  setExtraLoad(track: Track, rps: number): void {
    this.extraRps[track === 'canary' ? 0 : 1] = Math.max(0, Number.isFinite(rps) ? rps : 0);
  }

  /** How a track answers right now: the service (serve.ts) delays and fails requests like this. */
  behaviour(track: Track): { p95Ms: number; errorShare: number; unavailableShare: number; sigma: number; weight: number } {
    const tr = track === 'canary' ? 0 : 1;
    const hourOfDay = (((this.t % DAY) + DAY) % DAY) / HOUR;
    const diurnal = 1 + 0.2 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
    const own = (TOTAL_RPS * diurnal * (1 + this.trafficNoise) * this._weight) / 100;
    const { p95Ms, err, fail } = this.trackParams(tr, this.faultLevel(this.t), own);
    return { p95Ms, errorShare: err, unavailableShare: fail, sigma: LATENCY_SIGMA, weight: this._weight };
  }

  private updateNoise(): void {
    const rng = this.metricsRng;
    this.trafficNoise = clamp(ar1(this.trafficNoise, 0.9, 0.03, rng), -0.1, 0.1);
    for (let tr = 0; tr < 2; tr++) {
      this.latNoise[tr] = ar1(this.latNoise[tr]!, 0.85, 0.07, rng);
      this.errNoise[tr] = ar1(this.errNoise[tr]!, 0.8, 0.2, rng);
    }
  }

  private snapshot(k: number): void {
    const off = (k % this.ringSize) * 2 * STRIDE;
    for (let i = 0; i < 2 * STRIDE; i++) this.ring[off + i] = Math.floor(this.acc[i]!);
  }

  private samplesAt(k: number): SliSample[] {
    const samples: SliSample[] = [];
    for (const spec of this.specs)
      for (let tr = 0; tr < 2; tr++) samples.push({ sli: spec.name, track: TRACKS[tr]!, value: this.value(spec, tr, k) });
    return samples;
  }

  private value(spec: SliSpec, tr: number, k: number): number | null {
    if (spec.how.kind === 'unknown') return null;
    const j = Math.max(0, k - spec.steps);
    if (j === k) return null;
    const ring = this.ring;
    const cur = (k % this.ringSize) * 2 * STRIDE + tr * STRIDE;
    const prev = (j % this.ringSize) * 2 * STRIDE + tr * STRIDE;
    const delta = (c: number) => ring[cur + c]! - ring[prev + c]!;
    const spanSec = ((k - j) * this.intervalMs) / SECOND;
    switch (spec.how.kind) {
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
      case 'quantile': {
        for (let i = 0; i < BOUNDS_WITH_INF.length; i++) this.scratch[i] = delta(C_BUCKET + i);
        const v = histogramQuantile(spec.how.q, BOUNDS_WITH_INF, this.scratch);
        return Number.isFinite(v) ? 1000 * v : null;
      }
      case 'rate':
        return delta(spec.how.counter) / spanSec;
      case 'increase':
        return delta(spec.how.counter);
    }
  }

  // -- pods --------------------------------------------------------------------------------

  private schedule(pod: SimPod, kind: number, at: number, cancelOthers = false): void {
    if (cancelOthers) pod.token++;
    this.queue.push({ at, seq: this.seq++, kind, pod, token: pod.token });
  }

  private podKey(region: string, name: string): string {
    return `${region}/${this.namespace}/${name}`;
  }

  private newName(region: string, track: 'stable' | 'canary'): string {
    const deployment = this.plan.target.deployment;
    const prefix = track === 'canary' ? `${deployment}-canary-${this.canaryHash}-` : `${deployment}-${this.stableHash}-`;
    for (;;) {
      const name = prefix + randomSuffix(this.podRng, 5);
      const key = this.podKey(region, name);
      if (!this.pods.has(key) && !this.recentDeletes.has(key)) return name;
    }
  }

  private createPod(region: string, track: 'stable' | 'canary', at: number, initial: boolean): SimPod {
    const rng = this.podRng;
    const name = this.newName(region, track);
    const pod: SimPod = {
      key: this.podKey(region, name),
      name,
      region,
      track,
      phase: 'Pending',
      ready: false,
      reason: 'Pending',
      message: undefined,
      restarts: 0,
      lastRestartReason: undefined,
      startedAt: at,
      token: 0,
      alive: true,
      terminating: false,
      crashing: track === 'canary' && this.crashActive,
      broken: false,
      crashes: 0,
      emitted: false,
    };
    this.pods.set(pod.key, pod);
    if (track === 'canary') this.canaryPods++;
    if (initial) {
      // Pods that were already running when the world starts: various ages, a few old restarts.
      pod.phase = 'Running';
      pod.ready = true;
      pod.reason = 'Running';
      pod.startedAt = at - Math.round(rng.uniform(2 * HOUR, 6 * DAY));
      if (rng.chance(0.25)) {
        pod.restarts = rng.int(1, 3);
        pod.lastRestartReason = rng.chance(0.6) ? 'OOMKilled' : 'Error';
      }
      this.scheduleChurn(pod, at);
    } else {
      if (rng.chance(0.12)) {
        // Waits for the cluster autoscaler.
        pod.message = `0/${this.nodesPerRegion} nodes are available: insufficient cpu`;
        this.schedule(pod, K_CREATING, at + rng.uniform(25, 120) * SECOND);
      } else {
        this.schedule(pod, K_CREATING, at + rng.uniform(1, 4) * SECOND);
      }
    }
    this.dirty.add(pod);
    return pod;
  }

  /** The next restart or replacement of a running, ready pod (memoryless, so redrawn each time). */
  private scheduleChurn(pod: SimPod, at: number): void {
    const restartIn = this.podRng.exp(this.restartMeanMs);
    const replaceIn = this.podRng.exp(this.replaceMeanMs);
    if (restartIn < replaceIn) this.schedule(pod, K_RESTART, at + restartIn, true);
    else this.schedule(pod, K_REPLACE, at + replaceIn, true);
  }

  private terminate(pod: SimPod, at: number): void {
    if (pod.terminating || !pod.alive) return;
    pod.terminating = true;
    pod.ready = false;
    pod.reason = 'Terminating';
    pod.message = undefined;
    if (pod.track === 'canary') {
      this.canaryPods--;
      if (pod.broken) this.canaryBroken--;
    }
    this.schedule(pod, K_DELETE, at + this.podRng.uniform(5, 30) * SECOND, true);
    this.dirty.add(pod);
  }

  /** Applies every scheduled pod transition due at or before `until`, in time order. */
  private runPods(until: number): void {
    const q = this.queue;
    const rng = this.podRng;
    while (q.peekAt() <= until) {
      const ev = q.pop()!;
      const pod = ev.pod;
      if (!pod.alive || ev.token !== pod.token) continue; // cancelled
      const at = ev.at;
      switch (ev.kind) {
        case K_CREATING:
          pod.reason = 'ContainerCreating';
          pod.message = undefined;
          this.schedule(pod, K_STARTED, at + rng.uniform(6, 25) * SECOND);
          break;
        case K_STARTED:
          pod.phase = 'Running';
          pod.reason = 'Running';
          if (pod.crashing) {
            pod.ready = false;
            this.schedule(pod, K_CRASH, at + rng.uniform(3, 12) * SECOND);
          } else {
            pod.ready = true;
            this.scheduleChurn(pod, at);
          }
          break;
        case K_READY:
          pod.reason = 'Running';
          pod.ready = true;
          this.scheduleChurn(pod, at);
          break;
        case K_RESTART:
          pod.restarts++;
          pod.lastRestartReason = rng.chance(0.6) ? 'OOMKilled' : 'Error';
          pod.reason = pod.lastRestartReason;
          pod.ready = false;
          this.schedule(pod, K_READY, at + rng.uniform(10, 40) * SECOND, true);
          break;
        case K_REPLACE:
          this.terminate(pod, at);
          this.createPod(pod.region, pod.track, at, false);
          break;
        case K_CRASH: {
          pod.restarts++;
          pod.crashes++;
          pod.lastRestartReason = 'Error';
          pod.reason = 'CrashLoopBackOff';
          pod.phase = 'Running';
          pod.ready = false;
          if (!pod.broken) {
            pod.broken = true;
            this.canaryBroken++;
          }
          // Kubelet back-off: 10 s doubling to 5 min, then the container exits again within seconds.
          const backoff = Math.min(300, 10 * 2 ** Math.min(pod.crashes - 1, 5));
          this.schedule(pod, K_CRASH, at + (backoff + rng.uniform(2, 8)) * SECOND);
          break;
        }
        case K_DELETE:
          pod.alive = false;
          this.pods.delete(pod.key);
          this.dirty.delete(pod);
          if (pod.emitted) this.deletes.push(pod.key);
          this.recentDeletes.add(pod.key);
          continue;
      }
      this.dirty.add(pod);
    }
  }
}
