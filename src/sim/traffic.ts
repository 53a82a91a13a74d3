// The simulated service's traffic: how many requests each track gets (a daily cycle, noise, the
// canary weight, load tests from outside), how fast and how well it answers (healthy numbers, the
// scenario's fault, broken canary pods), integrated into the cumulative counters (counters.ts).
// The metrics PRNG stream is its own: changing the pod count does not change SLI noise.
import type { Track } from '../engine/types.js';
import { Rng } from './random.js';
import type { Scenario, ScenarioEventRates } from './scenarios.js';
import { C_BUCKET, C_ERR, C_ERR_503, C_LAT_SUM, C_REQ, C_SAFETY, C_WF, C_WF_FAIL, EVENT_COUNTERS, LATENCY_BUCKETS, STRIDE } from './counters.js';

/** The seed's 50,000 requests per minute, as requests per second (daily average). */
export const TOTAL_RPS = 50_000 / 60;
/** Healthy p95 (ms) before noise; noise keeps it within ~180-260 ms. */
const HEALTHY_P95_MS = 215;
/** Healthy 5xx share before noise (0.03%); noise keeps it within ~0.02-0.04%. */
const HEALTHY_ERROR = 0.0003;
/** Workflows started per request, and the healthy workflow failure share (99.9% success). */
const WORKFLOWS_PER_REQUEST = 0.1;
const HEALTHY_WORKFLOW_FAILURE = 0.001;
/** Shape of the latency distribution (log-normal sigma): p95 = median x e^(1.645 sigma). */
export const LATENCY_SIGMA = 0.5;
const P95_Z = 1.6448536269514722;
/** A 503 from the mesh (no healthy upstream) answers in about 2 ms. */
const FAST_FAIL_SECONDS = 0.002;

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), monotone. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

/** AR(1) step around 0 with stationary standard deviation `sd`. */
function ar1(x: number, phi: number, sd: number, rng: Rng): number {
  return phi * x + Math.sqrt(1 - phi * phi) * rng.normal(0, sd);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Daily cycle of +-20% peaking mid-afternoon UTC (late morning in New York). */
export function diurnal(at: number): number {
  const hourOfDay = (((at % DAY) + DAY) % DAY) / HOUR;
  return 1 + 0.2 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
}

export class TrafficModel {
  private readonly rng: Rng;
  private readonly lnBounds = LATENCY_BUCKETS.map((b) => Math.log(b));
  // Noise, updated once per interval (AR(1) around 0).
  private trafficNoise = 0;
  private readonly latNoise = [0, 0, 0];
  private readonly errNoise = [0, 0, 0];
  /** Requests per second arriving from outside (a load test through the HTTP service), per track. */
  private readonly extraRps = [0, 0, 0];
  /** The stable fleet's noise has its own stream: canary and baseline values stay as they were. */
  private readonly stableRng: Rng;

  constructor(seed: number) {
    this.rng = Rng.derive(seed, 'metrics');
    this.stableRng = Rng.derive(seed, 'metrics-stable');
  }

  /** Requests per second a track gets from the service's own traffic at `weight`, at time `at`. */
  ownRps(at: number, weight: number): number {
    return (TOTAL_RPS * diurnal(at) * (1 + this.trafficNoise) * weight) / 100;
  }

  /** Adds to `acc` the expected counts for [from, to) at `weight`, the scenario's fault at `level`
   * (0..1, taken at the middle of the span), the noise, and `canaryFail` (the canary's 503 share). */
  integrate(acc: Float64Array, from: number, to: number, weight: number, level: number, sc: Scenario, canaryFail: number): void {
    const dtSec = (to - from) / SECOND;
    if (!(dtSec > 0)) return;
    const mid = (from + to) / 2;
    // The stable fleet carries what the canary does not, at any weight (all of it at 0%).
    if (!sc.noTraffic && weight < 100) {
      const stableOwn = (TOTAL_RPS * diurnal(mid) * (1 + this.trafficNoise) * (100 - weight) * dtSec) / 100;
      this.addTrack(acc, 2, stableOwn, dtSec, level, sc, canaryFail);
    }
    if (weight <= 0) return;

    if (sc.canaryEvents && level > 0) {
      for (const [key, perHour] of Object.entries(sc.canaryEvents) as [keyof ScenarioEventRates, number | undefined][]) {
        if (!perHour) continue;
        const n = (perHour * level * dtSec) / 3600;
        acc[EVENT_COUNTERS[key]] = acc[EVENT_COUNTERS[key]]! + n;
        if (key === 'securityViolations') acc[C_SAFETY] = acc[C_SAFETY]! + n;
      }
    }
    if (sc.noTraffic) return;

    const total = TOTAL_RPS * diurnal(mid) * (1 + this.trafficNoise);
    // Kayenta-style: the baseline gets as many requests as the canary.
    const own = (total * weight * dtSec) / 100;

    for (let tr = 0; tr < 2; tr++) this.addTrack(acc, tr, own, dtSec, level, sc, canaryFail);
  }

  /** Adds `own` requests of track `tr` over `dtSec` (and its load test's), as the track answers them. */
  private addTrack(acc: Float64Array, tr: number, own: number, dtSec: number, level: number, sc: Scenario, canaryFail: number): void {
    const base = tr * STRIDE;
    // A load test's requests add to the track's own (see serve.ts), counted like any other.
    const n = own + this.extraRps[tr]! * dtSec;
    const errF = clamp(1 + this.errNoise[tr]!, 0.67, 1.33);
    const healthyErr = HEALTHY_ERROR * errF;
    const { p95Ms, err, fail } = this.trackParams(tr, level, own / dtSec, sc, canaryFail);
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

  /** p95 (ms), 5xx share and 503 (no healthy pod) share of a track at fault `level`, with `ownRps`
   * its own traffic, `canaryFail` the canary's share of broken pods. Extra load slows it like a queue: a track runs at 50% utilisation on its own
   * traffic, and its latency grows as 1/(1 - utilisation) (capped at 90%). */
  trackParams(tr: number, level: number, ownRps: number, sc: Scenario, canaryFail: number): { p95Ms: number; err: number; fail: number } {
    const latF = clamp(1 + this.latNoise[tr]!, 0.84, 1.2);
    const errF = clamp(1 + this.errNoise[tr]!, 0.67, 1.33);
    let p95Ms = HEALTHY_P95_MS * latF;
    let err = HEALTHY_ERROR * errF;
    let fail = 0;
    if (tr === 0) {
      if (sc.canaryP95Ms !== undefined) p95Ms += level * (sc.canaryP95Ms * latF - p95Ms);
      if (sc.canaryErrorPercent !== undefined) err += level * ((sc.canaryErrorPercent / 100) * errF - err);
      fail = canaryFail;
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

  /** One step of every noise process: once per analysis interval. */
  updateNoise(): void {
    const rng = this.rng;
    this.trafficNoise = clamp(ar1(this.trafficNoise, 0.9, 0.03, rng), -0.1, 0.1);
    for (let tr = 0; tr < 2; tr++) {
      this.latNoise[tr] = ar1(this.latNoise[tr]!, 0.85, 0.07, rng);
      this.errNoise[tr] = ar1(this.errNoise[tr]!, 0.8, 0.2, rng);
    }
    this.latNoise[2] = ar1(this.latNoise[2]!, 0.85, 0.07, this.stableRng);
    this.errNoise[2] = ar1(this.errNoise[2]!, 0.8, 0.2, this.stableRng);
  }

}
