import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import type { EngineEvent, PodInfo, SliSample } from '../src/engine/types.js';
import { Plan } from '../src/plan/schema.js';
import { DEMO_START, ManualClock, SimClock } from '../src/sim/clock.js';
import { Rng } from '../src/sim/random.js';
import { SCENARIOS, SCENARIO_NAMES, describeScenarios, resolveScenario } from '../src/sim/scenarios.js';
import type { ScenarioName } from '../src/sim/scenarios.js';
import { SimSource } from '../src/sim/sources.js';
import { LATENCY_BUCKETS, SimWorld, histogramQuantile } from '../src/sim/world.js';

const plan: Plan = Plan.parse(parse(readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8')));
const START = DEMO_START;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const ALL = plan.target.regions;

function world(scenario: ScenarioName, extra: Partial<ConstructorParameters<typeof SimWorld>[0]> = {}): SimWorld {
  return new SimWorld({ plan, scenario, seed: 7, start: START, actuationDelayMs: 0, ...extra });
}

type Samples = Extract<EngineEvent, { type: 'sli.samples' }>;
const sampleEvents = (evs: EngineEvent[]): Samples[] => evs.filter((e): e is Samples => e.type === 'sli.samples');
const value = (e: Samples, sli: string, track: SliSample['track']): number | null => {
  const s = e.samples.find((x) => x.sli === sli && x.track === track);
  if (!s) throw new Error(`no sample ${sli}/${track}`);
  return s.value;
};

/** A consumer's view of pods, fed by sync and delta events. */
class PodView {
  readonly pods = new Map<string, PodInfo>();
  upserts = 0;
  deletes = 0;
  apply(evs: EngineEvent[]): this {
    for (const e of evs) {
      if (e.type === 'pods.sync') {
        for (const [k, p] of this.pods) if (p.region === e.region) this.pods.delete(k);
        for (const p of e.pods) this.pods.set(p.key, p);
      } else if (e.type === 'pods.delta') {
        for (const p of e.upserts) this.pods.set(p.key, p);
        for (const k of e.deletes) this.pods.delete(k);
        this.upserts += e.upserts.length;
        this.deletes += e.deletes.length;
      }
    }
    return this;
  }
  canary(): PodInfo[] {
    return [...this.pods.values()].filter((p) => p.track === 'canary');
  }
}

describe('Rng', () => {
  it('is deterministic and stays in range', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const r = new Rng(1);
    const ints = Array.from({ length: 2000 }, () => r.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    const normals = Array.from({ length: 5000 }, () => r.normal(10, 2));
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    expect(mean).toBeGreaterThan(9.9);
    expect(mean).toBeLessThan(10.1);
    const hits = Array.from({ length: 5000 }, () => r.chance(0.2)).filter(Boolean).length;
    expect(hits / 5000).toBeGreaterThan(0.17);
    expect(hits / 5000).toBeLessThan(0.23);
  });
});

describe('clocks', () => {
  it('SimClock runs speed x real time from start, and setSpeed does not jump', () => {
    let real = 1000;
    const c = new SimClock({ start: START, speed: 3600, realNow: () => real });
    expect(c.now()).toBe(START);
    real += 250;
    expect(c.now()).toBe(START + 250 * 3600);
    c.setSpeed(60);
    expect(c.now()).toBe(START + 250 * 3600);
    real += 1000;
    expect(c.now()).toBe(START + 250 * 3600 + 60_000);
    expect(c.speed).toBe(60);
    expect(new Date(START).getUTCDay()).toBe(1); // a Monday
  });

  it('ManualClock moves only when told', () => {
    const c = new ManualClock(START);
    expect(c.now()).toBe(START);
    expect(c.advance(MIN)).toBe(START + MIN);
    c.set(START + HOUR);
    expect(c.now()).toBe(START + HOUR);
    expect(c.speed).toBe(1);
  });
});

describe('scenarios', () => {
  it('every scenario has a one-line description', () => {
    for (const n of SCENARIO_NAMES) {
      expect(SCENARIOS[n].description.length).toBeGreaterThan(10);
      expect(SCENARIOS[n].description).not.toContain('\n');
    }
    expect(describeScenarios().split('\n')).toHaveLength(SCENARIO_NAMES.length);
    expect(() => resolveScenario('nope' as ScenarioName)).toThrow(/expected one of/);
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket like Prometheus', () => {
    const le = [0.1, 0.25, 0.5, Infinity];
    // rank 95 of 100 falls in (0.25, 0.5], which holds observations 91..100: 0.25 + 0.25 * 5/10.
    expect(histogramQuantile(0.95, le, [50, 90, 100, 100])).toBeCloseTo(0.375, 12);
    // rank 20 in the first bucket, which starts at 0: 0.1 * 20/50.
    expect(histogramQuantile(0.2, le, [50, 90, 100, 100])).toBeCloseTo(0.04, 12);
    // rank in the +Inf bucket: the highest finite bound.
    expect(histogramQuantile(0.95, le, [10, 10, 10, 20])).toBe(0.5);
    // no observations: no data.
    expect(histogramQuantile(0.95, le, [0, 0, 0, 0])).toBeNaN();
  });

  it('the world computes its samples from its own counters as PromQL would', async () => {
    const w = world('healthy');
    await w.setWeight(5, ['us-east-1']);
    w.advanceTo(START + 30 * MIN);
    const before = w.counters('canary');
    const evs = w.advanceTo(START + 35 * MIN, { everyInterval: true });
    const after = w.counters('canary');
    const last = sampleEvents(evs).at(-1)!;
    expect(last.at).toBe(START + 35 * MIN);
    const deltas = after.buckets.map((c, i) => c - before.buckets[i]!);
    const p95 = 1000 * histogramQuantile(0.95, [...LATENCY_BUCKETS, Infinity], deltas);
    expect(value(last, 'latency_p95', 'canary')).toBeCloseTo(p95, 9);
    const req = after.requests - before.requests;
    expect(value(last, 'request_rate', 'canary')).toBeCloseTo(req / 300, 9);
    expect(value(last, 'error_rate', 'canary')).toBeCloseTo((100 * (after.errors - before.errors)) / req, 9);
    expect(after.buckets.at(-1)).toBe(after.requests);
  });
});

describe('SimWorld', () => {
  it('is deterministic for a seed and a sequence of calls', async () => {
    const run = async (seed: number) => {
      const w = new SimWorld({ plan, scenario: 'crashloop', seed, start: START, actuationDelayMs: 0 });
      const out = [...w.advanceTo(START)];
      await w.setWeight(5, ['us-east-1']);
      out.push(...w.advanceTo(START + 3 * HOUR, { everyInterval: true }));
      out.push(...w.advanceTo(START + 9 * HOUR));
      await w.rollback('test', ALL);
      out.push(...w.advanceTo(START + 10 * HOUR));
      return out;
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('healthy at 5%: canary and baseline meet the success criteria', async () => {
    const w = world('healthy');
    await w.setWeight(5, ['us-east-1', 'us-west-2']);
    const samples = sampleEvents(w.advanceTo(START + 2 * HOUR, { everyInterval: true }));
    expect(samples).toHaveLength(120);
    for (const track of ['canary', 'baseline'] as const) {
      const ok = samples.filter(
        (e) =>
          value(e, 'availability', track)! >= 99.9 &&
          value(e, 'latency_p95', track)! < 500 &&
          value(e, 'error_rate', track)! < 0.1 &&
          value(e, 'workflow_success_rate', track)! > 99.5,
      ).length;
      expect(ok / samples.length).toBeGreaterThanOrEqual(0.95);
      const p95s = samples.map((e) => value(e, 'latency_p95', track)!);
      expect(Math.min(...p95s)).toBeGreaterThan(150);
      expect(Math.max(...p95s)).toBeLessThan(300);
      // 5% of ~833 req/s, with a +-20% daily cycle.
      const rps = value(samples.at(-1)!, 'request_rate', track)!;
      expect(rps).toBeGreaterThan(30);
      expect(rps).toBeLessThan(55);
      for (const sli of ['critical_errors', 'security_violations', 'data_integrity_failures', 'memory_leaks', 'customer_complaints', 'security_incidents', 'safety_violations'])
        expect(value(samples.at(-1)!, sli, track)).toBe(0);
    }
  });

  it('with no canary weight, ratios have no data and the rate is 0', () => {
    const w = world('healthy');
    const [e] = sampleEvents(w.advanceTo(START + MIN));
    for (const track of ['canary', 'baseline'] as const) {
      expect(value(e!, 'availability', track)).toBeNull();
      expect(value(e!, 'latency_p95', track)).toBeNull();
      expect(value(e!, 'request_rate', track)).toBe(0);
    }
  });

  it('latency-regression at 25%: canary p95 passes 1000 ms within 30 min, baseline stays healthy', async () => {
    const w = world('latency-regression');
    await w.setWeight(25, ALL);
    const samples = sampleEvents(w.advanceTo(START + 30 * MIN, { everyInterval: true }));
    expect(value(samples.at(-1)!, 'latency_p95', 'canary')!).toBeGreaterThan(1000);
    expect(samples.every((e) => value(e, 'latency_p95', 'baseline')! < 500)).toBe(true);
    // the regression waits for its weight: at 5% the canary is fine.
    const low = world('latency-regression');
    await low.setWeight(5, ALL);
    const lowSamples = sampleEvents(low.advanceTo(START + 30 * MIN, { everyInterval: true }));
    expect(lowSamples.every((e) => value(e, 'latency_p95', 'canary')! < 500)).toBe(true);
  });

  it('error-spike at 5%: canary error rate reaches >= 1%', async () => {
    const w = world('error-spike');
    await w.setWeight(5, ['us-east-1', 'us-west-2']);
    const samples = sampleEvents(w.advanceTo(START + 30 * MIN, { everyInterval: true }));
    const last = samples.at(-1)!;
    expect(value(last, 'error_rate', 'canary')!).toBeGreaterThanOrEqual(1);
    expect(value(last, 'availability', 'canary')!).toBeLessThan(99.5);
    expect(value(last, 'error_rate', 'baseline')!).toBeLessThan(0.1);
  });

  it('crashloop: canary pods in CrashLoopBackOff with climbing restarts; availability collapses', async () => {
    const w = world('crashloop');
    const view = new PodView();
    await w.setWeight(25, ['us-east-1']);
    const evs = w.advanceTo(START + 10 * MIN, { everyInterval: true });
    view.apply(evs);
    const first = view.canary();
    expect(first).toHaveLength(2); // ceil(6 x 25%)
    for (const p of first) {
      expect(p.reason).toBe('CrashLoopBackOff');
      expect(p.ready).toBe(false);
      expect(p.lastRestartReason).toBe('Error');
      expect(p.restarts).toBeGreaterThan(0);
    }
    view.apply(w.advanceTo(START + 40 * MIN));
    for (const p of view.canary()) {
      expect(p.reason).toBe('CrashLoopBackOff');
      expect(p.restarts).toBeGreaterThan(first.find((f) => f.key === p.key)!.restarts);
    }
    const last = sampleEvents(evs).at(-1)!;
    expect(value(last, 'availability', 'canary')!).toBeLessThan(50);
    expect(value(last, 'availability', 'baseline')!).toBeGreaterThan(99.9);
  });

  it('no-traffic: availability is null (not 0) and the request rate is 0', async () => {
    const w = world('no-traffic');
    await w.setWeight(25, ALL);
    const samples = sampleEvents(w.advanceTo(START + 10 * MIN, { everyInterval: true }));
    for (const e of samples)
      for (const track of ['canary', 'baseline'] as const) {
        expect(value(e, 'availability', track)).toBeNull();
        expect(value(e, 'error_rate', track)).toBeNull();
        expect(value(e, 'latency_p95', track)).toBeNull();
        expect(value(e, 'workflow_success_rate', track)).toBeNull();
        expect(value(e, 'request_rate', track)).toBe(0);
      }
  });

  it('an SLI it does not know is null', async () => {
    const custom: Plan = { ...plan, slis: [...plan.slis, { name: 'queue_depth', title: 'Queue', unit: 'count', query: 'sum(queue_depth)', direction: 'lower-is-better' }] };
    const w = new SimWorld({ plan: custom, scenario: 'healthy', start: START, actuationDelayMs: 0 });
    await w.setWeight(5, ALL);
    const [e] = sampleEvents(w.advanceTo(START + MIN));
    expect(value(e!, 'queue_depth', 'canary')).toBeNull();
    expect(value(e!, 'availability', 'canary')).not.toBeNull();
  });

  it('setWeight puts canary pods only in its regions; rollback removes them all', async () => {
    const w = world('healthy');
    const view = new PodView().apply(w.advanceTo(START));
    expect(view.pods.size).toBe(18);
    const res = await w.setWeight(25, ['us-east-1', 'us-west-2']);
    expect(res.weight).toBe(25);
    expect(res.detail).toMatch(/25%/);
    view.apply(w.advanceTo(START + 5 * MIN));
    const canary = view.canary();
    expect(canary.filter((p) => p.region === 'us-east-1')).toHaveLength(2);
    expect(canary.filter((p) => p.region === 'us-west-2')).toHaveLength(2);
    expect(canary.filter((p) => p.region === 'eu-west-1')).toHaveLength(0);
    for (const p of canary) {
      expect(p.name).toMatch(/^orchestrator-canary-[a-z0-9]{5}-[a-z0-9]{5}$/);
      expect(p.key).toBe(`${p.region}/maestro-conductor-canary/${p.name}`);
      expect(p.namespace).toBe('maestro-conductor-canary');
    }
    expect(canary.every((p) => p.phase === 'Running' && p.ready)).toBe(true);

    // Moving to all regions adds eu-west-1; going down to 1% in one region scales the others to 0.
    await w.setWeight(50, ALL);
    view.apply(w.advanceTo(START + 10 * MIN));
    expect(view.canary().filter((p) => p.region === 'eu-west-1')).toHaveLength(3);

    const rb = await w.rollback('p95 over 1000 ms', ALL);
    expect(rb.weight).toBe(0);
    expect(w.weight).toBe(0);
    const soon = view.apply(w.advanceTo(START + 10 * MIN + 1));
    expect(soon.canary().every((p) => p.reason === 'Terminating' && !p.ready)).toBe(true);
    view.apply(w.advanceTo(START + 12 * MIN));
    expect(view.canary()).toHaveLength(0);
    expect([...view.pods.values()].filter((p) => p.track === 'stable')).toHaveLength(18);
    expect(w.listPods().filter((p) => p.track === 'canary')).toHaveLength(0);
  });

  it('pods start Pending, then ContainerCreating, then Running within tens of seconds', async () => {
    const w = world('healthy');
    w.advanceTo(START); // the sync: later changes come as deltas
    await w.setWeight(100, ['us-east-1']);
    const seen = new Map<string, string[]>();
    for (let s = 1; s <= 200; s++)
      for (const e of w.advanceTo(START + s * 1000))
        if (e.type === 'pods.delta')
          for (const p of e.upserts) if (p.track === 'canary') seen.set(p.key, [...(seen.get(p.key) ?? []), p.reason]);
    expect(seen.size).toBe(6);
    for (const reasons of seen.values()) {
      expect(reasons[0]).toBe('Pending');
      expect(reasons).toContain('ContainerCreating');
      expect(reasons.at(-1)).toBe('Running');
    }
  });

  it('rejects a weight out of range and an unknown region', async () => {
    const w = world('healthy');
    await expect(w.setWeight(101, ALL)).rejects.toThrow(/0\.\.100/);
    await expect(w.setWeight(5, ['mars-1'])).rejects.toThrow(/unknown region/);
    expect(w.traffic).toBe(w);
  });

  it('emits one sli.samples per interval with everyInterval, and only the newest when catching up', async () => {
    const a = world('healthy');
    expect(sampleEvents(a.advanceTo(START + 2 * HOUR, { everyInterval: true }))).toHaveLength(120);
    const b = world('healthy');
    const caughtUp = sampleEvents(b.advanceTo(START + 2 * HOUR));
    expect(caughtUp).toHaveLength(1);
    expect(caughtUp[0]!.at).toBe(START + 2 * HOUR);
    // a few intervals at a time are all emitted; never one twice, never backwards
    const c = world('healthy');
    expect(sampleEvents(c.advanceTo(START + 3 * MIN + 5_000))).toHaveLength(3);
    expect(sampleEvents(c.advanceTo(START + 3 * MIN + 50_000))).toHaveLength(0);
    expect(sampleEvents(c.advanceTo(START))).toHaveLength(0);
    expect(c.now).toBe(START + 3 * MIN + 50_000);
  });

  it('pod turnover over a sim day with 6 pods per region stays modest', async () => {
    const w = world('healthy');
    const view = new PodView().apply(w.advanceTo(START));
    await w.setWeight(5, ['us-east-1', 'us-west-2']);
    for (let m = 1; m <= 1440; m++) view.apply(w.advanceTo(START + m * MIN));
    // 20 pods (18 stable + 2 canary), each replaced about once a day and restarted about once in
    // 3 days: ~20 replacements and ~7 restarts. A replacement is at most 4 upserts (old pod
    // Terminating; new pod Pending, ContainerCreating, Running; with a call per minute those three
    // mostly fold into one) and a restart 2, so even unfolded that is ~20 x 4 + 7 x 2 + 6 for the
    // canary start ~= 100. 300 leaves room for noise; the floor shows the table does turn over.
    expect(view.upserts).toBeLessThan(300);
    expect(view.upserts).toBeGreaterThan(20);
    expect(view.deletes).toBeGreaterThan(3);
    expect([...view.pods.values()].filter((p) => p.track === 'stable' && p.reason !== 'Terminating')).toHaveLength(18);
    console.log(`[sim] pods over one sim day: ${view.upserts} upserts, ${view.deletes} deletes`);
  });

  it('a day with 3000 pods keeps every pod and turns over only a few of them', async () => {
    // Its cost is measured by `npm run bench` (sim_minute_3000_pods_us), not asserted here.
    const w = new SimWorld({ plan, scenario: 'healthy', seed: 3, start: START, podsPerRegion: 1000, actuationDelayMs: 0 });
    const view = new PodView().apply(w.advanceTo(START));
    expect(view.pods.size).toBe(3000);
    await w.setWeight(5, ALL);
    for (let m = 1; m <= 1440; m++) view.apply(w.advanceTo(START + m * MIN));
    const stable = [...view.pods.values()].filter((p) => p.track === 'stable').length;
    // A replacement starts its new pod before the old one is gone, so a few extra may be in flight.
    expect(stable).toBeGreaterThanOrEqual(3000);
    expect(stable).toBeLessThanOrEqual(3010);
    expect([...view.pods.values()].filter((p) => p.track === 'canary').length).toBeGreaterThanOrEqual(3 * 50);
  });
});

describe('SimSource', () => {
  it('emits at once on start, then on each tick; stop ends it', () => {
    const w = new SimWorld({ plan, scenario: 'healthy', start: START, actuationDelayMs: 0 });
    const clock = new ManualClock(START);
    const src = new SimSource(w, clock, { periodMs: 60_000 });
    const got: EngineEvent[] = [];
    src.start((e) => got.push(e));
    expect(got.filter((e) => e.type === 'pods.sync')).toHaveLength(3);
    clock.advance(2 * MIN);
    src.tick();
    expect(sampleEvents(got)).toHaveLength(2);
    src.stop();
    clock.advance(MIN);
    src.tick();
    expect(sampleEvents(got)).toHaveLength(2);
  });

  it('at x1 advances the world once a real second (an idle console wakes up once, not four times), and at once when the speed changes', () => {
    vi.useFakeTimers();
    try {
      let real = 0;
      const step = (ms: number) => {
        for (let i = 0; i < ms; i += 10) {
          real += 10;
          vi.advanceTimersByTime(10);
        }
      };
      const clock = new SimClock({ start: START, speed: 1, realNow: () => real });
      const w = world('healthy');
      const src = new SimSource(w, clock, { realNow: () => real });
      let ticks = 0;
      src.start((e) => {
        if (e.type === 'tick') ticks += 1;
      });
      ticks = 0;
      step(3000);
      expect(ticks).toBe(3);
      expect(w.now).toBeGreaterThanOrEqual(START + 2000);
      // From x1 to x3600: the world moves at once, not at the next second.
      clock.setSpeed(3600);
      const before = w.now;
      step(10);
      expect(w.now - before).toBeGreaterThanOrEqual(10 * 3600);
      // At a fast pace it polls every 250 ms again.
      ticks = 0;
      step(1000);
      expect(ticks).toBeGreaterThanOrEqual(4);
      src.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
