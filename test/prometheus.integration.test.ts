// The simulated world as a Prometheus target, scraped by a real Prometheus (/usr/bin/prometheus,
// started privately on a free port), queried with the plan's own PromQL.
//
// Locally the Prometheus part is skipped when the binary is missing; with CI set it fails instead
// (test/helpers/prometheus.ts says to `apt-get install -y prometheus`).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Track } from '../src/engine/types.js';
import { Plan } from '../src/plan/schema.js';
import { DEMO_START, ManualClock, SimClock } from '../src/sim/clock.js';
import { startExporter } from '../src/sim/exporter.js';
import type { Exporter } from '../src/sim/exporter.js';
import { atOnce } from '../src/sim/scenarios.js';
import { LATENCY_BUCKETS, SimWorld, histogramQuantile } from '../src/sim/world.js';
import type { SimWorldOptions } from '../src/sim/world.js';
import { PrometheusClient } from '../src/sources/prometheus.js';
import { checkAgainst } from '../src/sources/validate-live.js';
import { PROMETHEUS_JOB, prometheusBinary, startPrometheus } from './helpers/prometheus.js';
import type { PrometheusHandle } from './helpers/prometheus.js';

const plan: Plan = Plan.parse(parse(readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8')));
const REGIONS = plan.target.regions;
const BOUNDS = [...LATENCY_BUCKETS, Infinity];
const TRACKS: readonly Track[] = ['canary', 'baseline'];
const WEIGHT = 25;

function newWorld(extra: Partial<SimWorldOptions> = {}): SimWorld {
  return new SimWorld({ plan, scenario: 'healthy', seed: 7, start: DEMO_START, actuationDelayMs: 0, ...extra });
}

/** The plan's query for an SLI, for one track. */
function sliQuery(name: string, track: Track): string {
  const sli = plan.slis.find((s) => s.name === name);
  if (!sli) throw new Error(`the plan has no SLI ${name}`);
  return sli.query.replaceAll('$track', track);
}

/** Sample lines of a Prometheus text exposition: name, labels, value. */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

async function scrape(ex: Exporter): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(`${ex.url}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

function pick(samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>): number {
  const hit = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hit.length !== 1) throw new Error(`${hit.length} samples for ${name}${JSON.stringify(labels)}`);
  return hit[0]!.value;
}

// ---------------------------------------------------------------------------------------------

describe('sim exporter', () => {
  it('serves /metrics in the Prometheus text format from a dedicated registry', async () => {
    const clock = new ManualClock(DEMO_START);
    const world = newWorld();
    await world.setWeight(WEIGHT, REGIONS);
    const ex = await startExporter({ world, clock });
    try {
      expect(ex.url).toBe(`http://127.0.0.1:${ex.port}`);
      clock.advance(90_000);
      const res = await fetch(`${ex.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toContain('# TYPE http_requests_total counter');
      expect(text).toContain('# TYPE http_request_duration_seconds histogram');
      for (const name of [
        'workflows_total',
        'workflow_failures_total',
        'safety_violations_total',
        'critical_errors_total',
        'data_integrity_failures_total',
        'memory_leak_detections_total',
        'customer_complaints_total',
        'security_incidents_total',
      ])
        expect(text).toContain(`# TYPE ${name} counter`);
      expect(text).toMatch(/^http_request_duration_seconds_bucket\{track="canary",le="\+Inf"\} \d+$/m);
      expect(text).toMatch(/^http_request_duration_seconds_bucket\{track="baseline",le="\+Inf"\} \d+$/m);

      const samples = parseExposition(text);
      expect(world.now).toBe(DEMO_START + 90_000); // the scrape advanced the world
      for (const track of TRACKS) {
        const c = world.counters(track);
        // Buckets: every bound of the world, cumulative, +Inf = _count = the requests.
        const buckets = BOUNDS.map((b) =>
          pick(samples, 'http_request_duration_seconds_bucket', { track, le: b === Infinity ? '+Inf' : String(b) }),
        );
        expect(buckets).toEqual(c.buckets);
        for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
        expect(pick(samples, 'http_request_duration_seconds_count', { track })).toBe(c.requests);
        expect(pick(samples, 'http_request_duration_seconds_sum', { track })).toBeCloseTo(c.latencySumSeconds, 6);
        const byCode = ['200', '500', '503'].map((code) => pick(samples, 'http_requests_total', { track, code }));
        const total = byCode.reduce((a, b) => a + b, 0);
        expect(total).toBeGreaterThan(20_000); // ~248 rps per track for 90 s
        expect(Math.abs(total - c.requests)).toBeLessThanOrEqual(2); // per-code floors
        expect(pick(samples, 'workflows_total', { track })).toBe(c.workflows);
        expect(pick(samples, 'safety_violations_total', { track, kind: 'security' })).toBe(0);
        expect(pick(samples, 'safety_violations_total', { track, kind: 'content' })).toBe(0);
      }

      const index = await fetch(`${ex.url}/`);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('/metrics');
      expect((await fetch(`${ex.url}/nope`)).status).toBe(404);
      expect((await fetch(`${ex.url}/metrics`, { method: 'POST' })).status).toBe(405);
      expect(ex.scrapes).toBe(1);
    } finally {
      await ex.close();
    }
  });

  it('counters grow on every 1 s scrape and never go down; an injected fault shows at once', async () => {
    const clock = new ManualClock(DEMO_START);
    const world = newWorld();
    await world.setWeight(WEIGHT, REGIONS);
    const ex = await startExporter({ world, clock });
    try {
      let prev = await scrape(ex);
      const bucketsOf = (s: ReturnType<typeof parseExposition>, track: Track) =>
        BOUNDS.map((b) => pick(s, 'http_request_duration_seconds_bucket', { track, le: b === Infinity ? '+Inf' : String(b) }));
      const p95Between = (a: ReturnType<typeof parseExposition>, b: ReturnType<typeof parseExposition>, track: Track) => {
        const x = bucketsOf(a, track);
        return 1000 * histogramQuantile(0.95, BOUNDS, bucketsOf(b, track).map((v, i) => v - x[i]!));
      };
      // Across an analysis boundary (60 s) too: growth is smooth, not stepped at boundaries.
      for (let s = 1; s <= 70; s++) {
        clock.advance(1_000);
        if (s === 35) {
          expect(p95Between(prev, await scrape(ex), 'canary')).toBeLessThan(300);
          world.inject(atOnce('latency-regression')); // the world is at the clock: the fault starts now
          prev = await scrape(ex);
          continue;
        }
        const cur = await scrape(ex);
        for (const s0 of prev) {
          const s1 = pick(cur, s0.name, s0.labels);
          expect(s1, `${s0.name}${JSON.stringify(s0.labels)}`).toBeGreaterThanOrEqual(s0.value);
        }
        for (const track of TRACKS) {
          const req = (x: typeof cur) => pick(x, 'http_requests_total', { track, code: '200' });
          expect(req(cur) - req(prev)).toBeGreaterThan(200); // ~248/s each second
        }
        if (s === 36) {
          // The first second after the injection: canary p95 at the regression's ~1400 ms, baseline healthy.
          expect(p95Between(prev, cur, 'canary')).toBeGreaterThan(1000);
          expect(p95Between(prev, cur, 'baseline')).toBeLessThan(300);
        }
        prev = cur;
      }
      expect(world.scenario.canaryP95Ms).toBe(1400);
    } finally {
      await ex.close();
    }
  });

  it('splits 5xx by code: crashing canary pods answer 503 from the mesh', async () => {
    const clock = new ManualClock(DEMO_START);
    const world = newWorld({ scenario: 'crashloop' });
    await world.setWeight(WEIGHT, REGIONS);
    const ex = await startExporter({ world, clock });
    try {
      clock.advance(10 * 60_000);
      const s = await scrape(ex);
      const c = world.counters('canary');
      expect(pick(s, 'http_requests_total', { track: 'canary', code: '503' })).toBe(c.requestsByCode['503']);
      expect(c.requestsByCode['503']).toBeGreaterThan(c.requests / 2);
      expect(pick(s, 'http_requests_total', { track: 'baseline', code: '503' })).toBe(0);
    } finally {
      await ex.close();
    }
  });

  it('listens on loopback only', async () => {
    await expect(startExporter({ world: newWorld(), clock: new ManualClock(), host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });
});

// ---------------------------------------------------------------------------------------------
// A real Prometheus

interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

async function promQuery(url: string, query: string, time?: number): Promise<PromSample[]> {
  const params = new URLSearchParams({ query });
  if (time !== undefined) params.set('time', String(time));
  const res = await fetch(`${url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
  if (res.status !== 200 || body.status !== 'success') throw new Error(`query failed (${res.status}): ${body.error ?? ''}\n${query}`);
  return body.data!.result;
}

/** The single value of an instant vector query; null when it is empty (no data). */
async function promValue(url: string, query: string, time?: number): Promise<number | null> {
  const r = await promQuery(url, query, time);
  if (r.length === 0) return null;
  if (r.length > 1) throw new Error(`${r.length} series for ${query}`);
  return Number(r[0]!.value![1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value, or throws after `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The seconds Prometheus 2.x extrapolates a counter's increase to in rate()/increase()
 * (promql/functions.go, extrapolatedRate): the sampled interval, plus the gap to each end of the
 * range when it is under 1.1 average sample spacings (else half a spacing), the start gap capped
 * where the counter would reach zero. rate(x[5m]) is the increase over this, divided by 300 s.
 */
function extrapolatedSeconds(values: [number, string][], rangeStart: number, rangeEnd: number): number {
  const [t0, v0s] = values[0]!;
  const [t1, v1s] = values.at(-1)!;
  const v0 = Number(v0s);
  const delta = Number(v1s) - v0;
  const sampled = t1 - t0;
  const avg = sampled / (values.length - 1);
  let toStart = t0 - rangeStart;
  const toEnd = rangeEnd - t1;
  if (delta > 0 && v0 >= 0) toStart = Math.min(toStart, (sampled * v0) / delta);
  const threshold = 1.1 * avg;
  return sampled + (toStart < threshold ? toStart : avg / 2) + (toEnd < threshold ? toEnd : avg / 2);
}

const available = prometheusBinary() !== null || Boolean(process.env.CI);

describe.skipIf(!available)('a real Prometheus scraping the sim world', () => {
  let world: SimWorld;
  let clock: SimClock;
  let exporter: Exporter | undefined;
  let prom: PrometheusHandle | null = null;
  let promStarted = 0;
  // A setup failure (no prometheus in CI, a server that never gets ready) fails every test here,
  // rather than failing the hook and leaving the tests counted as skipped.
  let setupError: unknown = null;
  const ready = (): string => {
    if (setupError) throw setupError;
    return prom!.url;
  };

  beforeAll(async () => {
    try {
      clock = new SimClock({ start: DEMO_START, speed: 1 }); // real time
      world = newWorld();
      await world.setWeight(WEIGHT, REGIONS); // at the world's start: the counters run from here
      exporter = await startExporter({ world, clock });
      promStarted = performance.now();
      prom = await startPrometheus({ scrapeTargets: [new URL(exporter.url).host], scrapeIntervalS: 1 });
      if (!prom) throw new Error('startPrometheus found no prometheus binary (set CI to make this an error, not a skip)');
    } catch (err) {
      setupError = err;
    }
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
    await exporter?.close();
  });

  it("answers the plan's own SLI queries with the world's values", async () => {
    const url = ready();
    const SCRAPES = 6;
    const samplesQuery = `count_over_time(http_requests_total{job="${PROMETHEUS_JOB}",track="canary",code="200"}[5m])`;
    const firstData = await waitFor('the first scrape', 20_000, async () =>
      ((await promValue(url, `up{job="${PROMETHEUS_JOB}"}`)) === 1 ? performance.now() : undefined),
    );
    await waitFor(`${SCRAPES} scrapes`, 20_000, async () => (((await promValue(url, samplesQuery)) ?? 0) >= SCRAPES ? true : undefined));
    const withData = performance.now();

    // One evaluation time for every query, and the world as it was at that time.
    const T = Date.now() / 1000;
    world.advanceTo(clock.now()); // nothing consumes the events in this test
    const measured: Record<string, string> = {};
    for (const track of TRACKS) {
      const c = world.counters(track);
      const seconds = (world.now - world.start) / 1000;
      const prom: Record<string, number | null> = {};
      for (const sli of plan.slis) prom[sli.name] = await promValue(url, sliQuery(sli.name, track), T);

      // request_rate: on a fresh Prometheus rate(x[5m]) spreads the few seconds of samples over 300 s.
      const raw = await promQuery(url, `http_requests_total{track="${track}",code="200"}[5m]`, T);
      const covered = extrapolatedSeconds(raw[0]!.values!, T - 300, T);
      const worldRps = c.requests / seconds;
      const expectedRate = (worldRps * covered) / 300;
      expect(prom.request_rate).not.toBeNull();
      expect(Math.abs(prom.request_rate! - expectedRate) / expectedRate, `request_rate ${track}`).toBeLessThan(0.15);
      const promRps = (prom.request_rate! * 300) / covered;

      // Ratios: the world's cumulative ratios (one stationary distribution since the weight was set),
      // within one count of the few seconds Prometheus has.
      const served = c.requestsByCode['200'] + c.requestsByCode['500'] + c.requestsByCode['503'];
      const worldErr = (100 * (c.requestsByCode['500'] + c.requestsByCode['503'])) / served;
      const reqInWindow = worldRps * covered;
      expect(Math.abs(prom.error_rate! - worldErr), `error_rate ${track}`).toBeLessThanOrEqual(100 * (1.5 / reqInWindow) + 0.01);
      expect(prom.availability! + prom.error_rate!).toBeCloseTo(100, 9);
      expect(prom.availability!).toBeGreaterThanOrEqual(99.8);

      const worldWf = 100 * (1 - c.workflowFailures / c.workflows);
      const wfInWindow = (c.workflows / seconds) * covered;
      expect(Math.abs(prom.workflow_success_rate! - worldWf), `workflow_success_rate ${track}`).toBeLessThanOrEqual(100 * (1.5 / wfInWindow) + 0.01);

      // p95: in the world's bucket that holds its own p95, and close to it.
      const worldP95 = 1000 * histogramQuantile(0.95, BOUNDS, c.buckets);
      const b = BOUNDS.findIndex((x) => 1000 * x >= worldP95);
      const lo = b > 0 ? 1000 * BOUNDS[b - 1]! : 0;
      const hi = 1000 * BOUNDS[b]!;
      expect(prom.latency_p95!, `latency_p95 ${track}`).toBeGreaterThan(lo);
      expect(prom.latency_p95!, `latency_p95 ${track}`).toBeLessThanOrEqual(hi);
      expect(Math.abs(prom.latency_p95! - worldP95) / worldP95).toBeLessThan(0.05);
      expect(prom.latency_p95!).toBeLessThan(500);

      // Counts: zero when healthy, and present (0, not "no data").
      for (const name of ['safety_violations', 'critical_errors', 'security_violations', 'data_integrity_failures', 'memory_leaks', 'customer_complaints', 'security_incidents'])
        expect(prom[name], `${name} ${track}`).toBe(0);

      measured[track] =
        `rps world ${worldRps.toFixed(1)} / prom ${promRps.toFixed(1)} (request_rate ${prom.request_rate!.toFixed(2)} over ${covered.toFixed(2)} s covered), ` +
        `error_rate world ${worldErr.toFixed(4)} / prom ${prom.error_rate!.toFixed(4)}, availability ${prom.availability!.toFixed(4)}, ` +
        `workflow_success world ${worldWf.toFixed(3)} / prom ${prom.workflow_success_rate!.toFixed(3)}, ` +
        `p95 world ${worldP95.toFixed(1)} / prom ${prom.latency_p95!.toFixed(1)} ms (bucket ${lo}-${hi})`;
    }
    console.log(
      `prometheus ready after ${prom!.startupMs} ms; first scrape seen ${Math.round(firstData - promStarted)} ms after spawn; ` +
        `${SCRAPES} scrapes after ${Math.round(withData - promStarted)} ms\n` +
        TRACKS.map((t) => `  ${t}: ${measured[t]}`).join('\n'),
    );
  }, 45_000);

  it('shows a latency regression injected at once in the p95 query within 20 s', async () => {
    const url = ready();
    world.advanceTo(clock.now()); // so the fault starts now, not at the last scrape
    world.inject(atOnce('latency-regression'));
    const injected = performance.now();
    const canaryP95 = await waitFor(
      'canary latency_p95 > 1000 ms',
      20_000,
      async () => {
        const v = await promValue(url, sliQuery('latency_p95', 'canary'));
        return v !== null && v > 1000 ? v : undefined;
      },
      250,
    );
    const took = performance.now() - injected;
    const baselineP95 = await promValue(url, sliQuery('latency_p95', 'baseline'));
    expect(canaryP95).toBeGreaterThan(1000);
    expect(baselineP95).not.toBeNull();
    expect(baselineP95!).toBeLessThan(500);
    console.log(
      `latency regression: canary p95 ${canaryP95.toFixed(0)} ms (> 1000) ${Math.round(took)} ms after the injection; baseline p95 ${baselineP95!.toFixed(0)} ms`,
    );
  }, 30_000);

  it("shows an error spike injected at once in error_rate and availability, as the world's counters say", async () => {
    const url = ready();
    world.advanceTo(clock.now());
    world.inject(atOnce('error-spike')); // canary 5xx at ~3%
    const injected = performance.now();
    await waitFor(
      'canary error_rate >= 1%',
      20_000,
      async () => {
        const v = await promValue(url, sliQuery('error_rate', 'canary'));
        return v !== null && v >= 1 ? v : undefined;
      },
      250,
    );
    const took = performance.now() - injected;

    // Stop the world's time, and wait until Prometheus has scraped the frozen counters: then the
    // world's error share over Prometheus's window is its counters now, less the first samples
    // Prometheus holds (what the exporter served at that scrape).
    clock.setSpeed(0);
    world.advanceTo(clock.now());
    const frozen = world.counters('canary').requestsByCode['200'];
    await waitFor('a scrape of the frozen counters', 5_000, async () =>
      (await promValue(url, `http_requests_total{track="canary",code="200"}`)) === frozen ? true : undefined,
    );
    const T = Date.now() / 1000;
    const report: string[] = [];
    for (const track of TRACKS) {
      const errorRate = (await promValue(url, sliQuery('error_rate', track), T))!;
      const availability = (await promValue(url, sliQuery('availability', track), T))!;
      const raw = await promQuery(url, `http_requests_total{track="${track}"}[5m]`, T);
      const c = world.counters(track);
      // Per code: the world's increase over the window (frozen counters less Prometheus's first
      // sample), and the factor by which Prometheus extrapolates that series' increase.
      const series = (['200', '500', '503'] as const).map((code) => {
        const values = raw.find((x) => x.metric.code === code)!.values!;
        expect(Number(values.at(-1)![1]), `last ${track} ${code} sample = the frozen world`).toBe(c.requestsByCode[code]);
        const increase = c.requestsByCode[code] - Number(values[0]![1]);
        const sampled = values.at(-1)![0] - values[0]![0];
        return { code, increase, factor: increase > 0 ? extrapolatedSeconds(values, T - 300, T) / sampled : 1 };
      });
      const sum = (f: (x: (typeof series)[number]) => number, codes: string[]) =>
        series.filter((x) => codes.includes(x.code)).reduce((a, x) => a + f(x), 0);
      const errs = sum((x) => x.increase, ['500', '503']);
      const all = sum((x) => x.increase, ['200', '500', '503']);
      const worldErr = (100 * errs) / all;
      const predicted = (100 * sum((x) => x.increase * x.factor, ['500', '503'])) / sum((x) => x.increase * x.factor, ['200', '500', '503']);
      expect(availability + errorRate).toBeCloseTo(100, 9);
      // Prometheus's number is the world's, extrapolated as Prometheus documents.
      expect(Math.abs(errorRate - predicted), `error_rate ${track} vs the world extrapolated`).toBeLessThan(0.001 + 0.001 * predicted);
      if (track === 'canary') {
        expect(errorRate).toBeGreaterThanOrEqual(1); // the plan's error_rate_threshold rollback trigger
        expect(availability).toBeLessThan(99.5); // and its availability_threshold
        // And close to the world's plain share: the per-series extrapolations differ a little at the start.
        expect(Math.abs(errorRate - worldErr) / worldErr, 'error_rate canary').toBeLessThan(0.1);
      } else {
        expect(errorRate).toBeLessThan(0.1);
        expect(Math.abs(errorRate - worldErr)).toBeLessThanOrEqual(100 * (1.5 / all) + 0.01);
      }
      report.push(`${track} error_rate world ${worldErr.toFixed(3)} (extrapolated ${predicted.toFixed(4)}) / prom ${errorRate.toFixed(4)} %, availability ${availability.toFixed(3)}`);
    }
    console.log(`error spike: canary error_rate >= 1% ${Math.round(took)} ms after the injection; ${report.join('; ')}`);
  }, 35_000);

  it("validate --against: the stable fleet answers every SLI query (the first gate's evidence); a metric name that does not exist fails it, named", async () => {
    const url = ready();
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    try {
      // Until the rate() and increase() windows hold two scrapes of every stable series.
      const good = await waitFor('every stable-fleet query to answer', 30_000, async () => {
        const r = await checkAgainst(plan, client);
        return r.findings.filter((f) => f.track === 'stable').every((f) => f.level === 'ok') ? r : undefined;
      }, 500);
      const stable = good.findings.filter((f) => f.track === 'stable');
      expect(stable).toHaveLength(plan.slis.length);
      expect(Number(stable.find((f) => f.sli === 'request_rate')!.text)).toBeGreaterThan(0);
      // The metric misspelt in the plan: nothing matches on the fleet that carries the traffic.
      const wrong: Plan = { ...plan, slis: plan.slis.map((x) => ({ ...x, query: x.query.replaceAll('http_requests_total', 'http_request_total') })) };
      const r = await checkAgainst(wrong, client);
      expect(r.ok).toBe(false);
      expect(r.lines.find((l) => l.includes(' availability/stable: '))).toMatch(/^✗ .*no data: the query matched nothing on the stable fleet .*usually a metric or label name that does not exist/);
      expect(r.lines).toContain('✗ 3 SLI queries matched nothing on the stable fleet (availability, error_rate, request_rate): check the metric and label names; the first gate would never open');
    } finally {
      client.close();
    }
  }, 40_000);
});
