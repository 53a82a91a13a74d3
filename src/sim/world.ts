// The embedded simulated world: a service with stable, canary and baseline tracks, modelled the way
// Prometheus sees a real one (cumulative counters and a latency histogram), and a Kubernetes-like
// set of pods that start, restart, get replaced and crash. `npm start` runs the product on it.
//
// This is the facade; each concern is its own module: traffic.ts (requests, latency, errors, the
// scenario's fault, noise), counters.ts (the cumulative counters and their snapshots), promql.ts
// (SLI values from the snapshots, as the plan's `slis[].simulate` says), pods.ts (pod lifecycle).
//
// Time only moves through `advanceTo(t)`. Counters are integrated piecewise between calls (and at
// every analysis-interval boundary, where a snapshot is kept), so `counters()` grows on every
// advance, however short: a Prometheus scraping the exporter (exporter.ts) every second at speed 1
// sees them rise every scrape. Noise changes only at boundaries. SLI values are computed from
// snapshot deltas over each SLI's window (rate over [5m], histogram_quantile, increase over
// [1h]/[24h]), so a value is what the plan's query would return from the same counters. What an
// SLI measures is the plan's `simulate` field, never its name; an SLI without one has no value here.
//
// Pods change through a time-ordered queue of scheduled transitions: advancing over a quiet minute
// touches no pods at all, whatever their number.
//
// Deterministic: the same seed and the same sequence of calls give the same events. Two PRNG
// streams (metrics, pods) are kept apart so changing the pod count does not change SLI noise.
import type { EngineEvent, PodInfo, SliSample, Track } from '../engine/types.js';
import { parseDuration } from '../plan/duration.js';
import type { Plan } from '../plan/schema.js';
import type { ActuationResult, TrafficActuator } from '../runtime/ports.js';
import { BOUNDS_WITH_INF, CounterStore, TRACKS, type SimTrack, type TrackCounters } from './counters.js';
import { SimPods } from './pods.js';
import { compileSli, evaluate, type SliSpec } from './promql.js';
import { resolveScenario } from './scenarios.js';
import type { Scenario, ScenarioName } from './scenarios.js';
import { LATENCY_SIGMA, TrafficModel } from './traffic.js';

export { LATENCY_BUCKETS } from './counters.js';
export { histogramQuantile } from './promql.js';
export { TOTAL_RPS } from './traffic.js';

/** With more boundaries than this crossed in one call, only the newest samples are emitted. */
export const MAX_CATCHUP_SAMPLES = 3;

const MINUTE = 60_000;
const DAY = 86_400_000;

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

  private readonly specs: SliSpec[];
  private readonly actuationDelayMs: number;
  private readonly store: CounterStore;
  private readonly model: TrafficModel;
  private readonly pods: SimPods;
  private readonly scratch = new Float64Array(BOUNDS_WITH_INF.length);

  private t: number;
  /** Boundaries processed so far: snapshot k is the counters at start + k x interval. */
  private k = 0;

  private _scenario: Scenario;
  private _weight = 0;
  private canaryRegions: string[] = [];
  private faultSince: number | null = null;

  constructor(opts: SimWorldOptions) {
    this.plan = opts.plan;
    this._scenario = resolveScenario(opts.scenario);
    this.seed = (opts.seed ?? 1) >>> 0;
    if (!Number.isFinite(opts.start)) throw new Error(`SimWorld: start must be epoch ms, got ${opts.start}`);
    this.start = opts.start;
    this.t = opts.start;
    this.regions = [...(opts.regions ?? opts.plan.target.regions)];
    this.podsPerRegion = Math.max(0, Math.floor(opts.podsPerRegion ?? 6));
    this.intervalMs = parseDuration(opts.plan.analysis.interval) ?? MINUTE;
    if (!(this.intervalMs > 0)) throw new Error(`SimWorld: analysis interval must be > 0`);
    this.specs = opts.plan.slis.map((s) => compileSli(s, this.intervalMs));
    this.store = new CounterStore(Math.max(2, ...this.specs.map((s) => s.steps + 1)));
    this.model = new TrafficModel(this.seed);
    this.actuationDelayMs = opts.actuationDelayMs ?? 20;
    this.pods = new SimPods({
      seed: this.seed,
      start: this.start,
      namespace: opts.plan.target.namespace,
      deployment: opts.plan.target.deployment,
      version: opts.plan.metadata.version,
      previousVersion: opts.plan.metadata.previousVersion,
      regions: this.regions,
      podsPerRegion: this.podsPerRegion,
      replaceMeanMs: opts.churn?.replaceMeanMs ?? DAY,
      restartMeanMs: opts.churn?.restartMeanMs ?? 3 * DAY,
    });
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
    return this.pods.list();
  }

  get podCount(): number {
    return this.pods.size;
  }

  /**
   * The cumulative counters of a track as Prometheus would scrape them at the world's time (`now`,
   * the last advanceTo: the exporter advances first). Every value only grows (the per-code and
   * per-kind splits are floors of differences: up to float rounding, which the exporter absorbs).
   */
  counters(track: SimTrack): TrackCounters {
    return this.store.counters(track);
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
      this.pods.run(at);
      this.integrate(this.t, at);
      this.t = at;
      this.k = k;
      this.store.snapshot(k);
      this.model.updateNoise();
      if (emitAll || k === lastBoundary) events.push({ type: 'sli.samples', at, samples: this.samplesAt(k) });
    }
    this.pods.run(target);
    this.integrate(this.t, target);
    this.t = target;
    events.push(...this.pods.emit(target));
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
    const perRegion = this.pods.desiredCanary(weight);
    const detail =
      weight > 0
        ? `canary at ${weight}% in ${this.canaryRegions.join(', ') || 'no region'} (${perRegion} canary pod${perRegion === 1 ? '' : 's'} per region)`
        : 'canary at 0%: canary pods scaled to 0';
    return this.later({ weight: this._weight, detail });
  }

  /** Back to stable everywhere, whatever `regions` says: a rollback never fails for a region list. */
  rollback(reason: string, _regions: string[]): Promise<ActuationResult> {
    const before = this.pods.canaryPods;
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
    if (!this._scenario.crashLoop) this.pods.stopCrashing();
    this.applyWeight(this._weight, this.canaryRegions);
  }

  private later(result: ActuationResult): Promise<ActuationResult> {
    return new Promise((resolve) => setTimeout(() => resolve(result), this.actuationDelayMs));
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
    if (this.scenario.crashLoop && faulty) this.pods.startCrashing(now);
    else if (!faulty) this.pods.stopCrashing();
    this.pods.scaleCanary(weight, this.canaryRegions, now);
  }

  // -- metrics -----------------------------------------------------------------------------

  private faultLevel(at: number): number {
    if (this.faultSince === null) return 0;
    if (this.scenario.rampMs <= 0) return 1;
    return Math.min(1, Math.max(0, (at - this.faultSince) / this.scenario.rampMs));
  }

  /** Adds the expected counts for [from, to) at the current weight, scenario and noise. */
  private integrate(from: number, to: number): void {
    this.model.integrate(this.store.acc, from, to, this._weight, this.faultLevel((from + to) / 2), this.scenario, this.pods.failShare);
  }

  /** Sets the rate of outside requests (a load test) reaching a track, in requests per second. */
  setExtraLoad(track: Track, rps: number): void {
    this.model.setExtraLoad(track, rps);
  }

  /** How a track answers right now: the service (serve.ts) delays and fails requests like this. */
  behaviour(track: Track): { p95Ms: number; errorShare: number; unavailableShare: number; sigma: number; weight: number } {
    const tr = track === 'canary' ? 0 : 1;
    const own = this.model.ownRps(this.t, this._weight);
    const { p95Ms, err, fail } = this.model.trackParams(tr, this.faultLevel(this.t), own, this.scenario, this.pods.failShare);
    return { p95Ms, errorShare: err, unavailableShare: fail, sigma: LATENCY_SIGMA, weight: this._weight };
  }

  private samplesAt(k: number): SliSample[] {
    const samples: SliSample[] = [];
    for (const spec of this.specs)
      for (let tr = 0; tr < 2; tr++) samples.push({ sli: spec.name, track: TRACKS[tr]!, value: evaluate(spec, this.store, tr, k, this.intervalMs, this.scratch) });
    // The stable fleet only while no canary traffic flows: the engine reads it for the first gate
    // (and a restart after a rollback) only, and a third of every batch would cost the journal and
    // the engine for nothing the rest of the time. Prometheus (the exporter) has it at every weight.
    if (this._weight === 0)
      for (const spec of this.specs) samples.push({ sli: spec.name, track: 'stable', value: evaluate(spec, this.store, 2, k, this.intervalMs, this.scratch) });
    return samples;
  }
}
