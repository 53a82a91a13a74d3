// The load-test runners for real, on loopback: autocannon against the simulated service (the
// server's own count against the report), stopping, refusing undeclared targets, and artillery
// both absent (the message says how to install it) and present (a small script runs as a child
// process and its JSON report is read). Under CI=true a missing artillery is a failure: .ci/run
// installs it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadTest, Plan } from '../src/plan/schema.js';
import { crossCheck } from '../src/plan/schema.js';
import type { LoadProgress } from '../src/engine/types.js';
import { PlanLoadRunner } from '../src/actuators/loadtest.js';
import { ArtilleryTextParser, checkScript, findArtillery } from '../src/actuators/artillery.js';
import { SimWorld } from '../src/sim/world.js';
import { startSimService, type SimService } from '../src/sim/serve.js';
import { loadSeedPlan, T0 } from './helpers/drive.js';

const artillery = findArtillery();
if (!artillery && process.env.CI) throw new Error('artillery is required for the load-test runner test under CI (.ci/run installs artillery@2.0.21); set CANARY_ARTILLERY or put it on PATH');

const seed = loadSeedPlan();
let world: SimWorld;
let svc: SimService;
let dir: string;

function testOf(over: Partial<LoadTest>): LoadTest {
  return { ...seed.loadTests.find((t) => t.name === 'api-smoke')!, ...over };
}
function planWith(tests: LoadTest[], extra: Partial<Plan> = {}): Plan {
  return { ...seed, loadTests: tests, ...extra };
}
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

beforeEach(async () => {
  world = new SimWorld({ plan: seed, scenario: 'healthy', start: T0, seed: 3 });
  await world.setWeight(25, ['us-east-1', 'us-west-2', 'eu-west-1']);
  svc = await startSimService({ world, host: '127.0.0.1', port: 0, identity: seed.metadata.name });
  dir = mkdtempSync(join(tmpdir(), 'canary-load-'));
});
afterEach(async () => {
  await svc.close();
});

describe('autocannon (embedded) against the simulated service on 127.0.0.1', () => {
  it('reports what the server counted, by status, with plausible latencies, saved as JSON', async () => {
    const test = testOf({ target: `${svc.url}/v1/workflows`, duration: '2s', connections: 8 });
    const runner = new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir });
    const progress: LoadProgress[] = [];
    const out = await runner.run(7, test, (p) => progress.push(p));
    expect(out.outcome).toBe('completed');
    const s = out.summary!;
    const served = svc.total();
    console.log(`load runner: autocannon reported ${s.requests} responses, the server sent ${served} (8 connections, 2 s); p50 ${s.latency!.p50.toFixed(0)} ms, p95 ${s.latency!.p95.toFixed(0)} ms`);
    // Every response the client counted was sent by the server; at most one per connection was in
    // flight when the run ended (sent, never read).
    expect(s.requests).toBeGreaterThan(20);
    expect(s.requests).toBeLessThanOrEqual(served);
    expect(served - s.requests).toBeLessThanOrEqual(8);
    expect(sum(s.byStatus)).toBe(s.requests);
    const counts = svc.counts();
    expect(sum(counts.canary) + sum(counts.baseline) + sum(counts.stable)).toBe(served);
    // The mesh split: 25% canary, as much again baseline, the rest stable.
    expect(sum(counts.canary) / served).toBeGreaterThan(0.2);
    expect(sum(counts.canary) / served).toBeLessThan(0.3);
    // The service answers like the world: log-normal around a ~215 ms p95, slower under load.
    expect(s.latency!.p50).toBeGreaterThan(30);
    expect(s.latency!.p95).toBeGreaterThan(s.latency!.p50);
    expect(s.latency!.p95).toBeLessThan(2_000);
    expect(s.rps).toBeCloseTo((s.requests * 1000) / s.durationMs, 6);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)!.requests).toBeLessThanOrEqual(s.requests);
    const saved = JSON.parse(readFileSync(out.file!, 'utf8'));
    expect(saved).toMatchObject({ kind: 'canary/load-test-result', test: 'api-smoke', engine: 'autocannon', runId: 7, outcome: 'completed', summary: { requests: s.requests } });
    expect(saved.criteria.map((c: { name: string }) => c.name)).toEqual(['maxP95Ms', 'maxErrorRatePercent']);
  });

  it('with maxRequests, stops at that count and the server sent exactly as many', async () => {
    const test = testOf({ target: `${svc.url}/v1/workflows`, duration: '20s', connections: 4, maxRequests: 60 });
    const out = await new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir }).run(1, test, () => undefined);
    expect(out.outcome).toBe('completed');
    expect(out.summary!.requests).toBe(60);
    expect(svc.total()).toBe(60);
  });

  it('with maxRequests, the duration still ends the run (autocannon drops its own timer when given an amount)', async () => {
    // 2 s at 5 requests a second: about 10 requests, far from the 1,000 allowed
    const test = testOf({ target: `${svc.url}/v1/workflows`, duration: '2s', connections: 1, rate: 5, maxRequests: 1000 });
    const out = await new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir }).run(2, test, () => undefined);
    expect(out.outcome).toBe('completed');
    expect(svc.total()).toBeGreaterThan(0);
    expect(svc.total()).toBeLessThanOrEqual(15); // the hard stop (duration + 5 s) would have let ~35 through
  });

  it('stops within a second: no request reaches the server after that', async () => {
    const test = testOf({ target: `${svc.url}/v1/workflows`, duration: '30s', connections: 8 });
    const runner = new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir });
    let started!: () => void;
    const going = new Promise<void>((r) => (started = r));
    const done = runner.run(2, test, (p) => p.requests > 0 && started());
    await going;
    const t0 = performance.now();
    runner.stop(2);
    const out = await done;
    const ended = performance.now() - t0;
    expect(out.outcome).toBe('stopped');
    expect(out.detail).toMatch(/^stopped after \d+\.\d s of 30s$/);
    // One second after the stop the load has ceased: nothing more arrives in the next second.
    await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - ended)));
    const atOneSecond = svc.total();
    await new Promise((r) => setTimeout(r, 1_000));
    console.log(`load runner: stop -> outcome in ${ended.toFixed(0)} ms; server total ${atOneSecond} at 1 s after the stop, ${svc.total()} a second later`);
    expect(svc.total()).toBe(atOneSecond);
    expect(out.summary!.requests).toBeGreaterThan(0);
  });

  it('refuses a target the plan does not declare, before sending anything', async () => {
    const test = testOf({ target: 'http://192.0.2.10:8080/v1/workflows' });
    const out = await new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir }).run(3, test, () => undefined);
    expect(out.outcome).toBe('failed');
    expect(out.summary).toBeNull();
    expect(out.detail).toBe("refused: http://192.0.2.10:8080/v1/workflows is not a loopback address and its origin http://192.0.2.10:8080 is not declared in the plan's loadTargets; canary aims load only at 127.0.0.1/localhost or at origins listed in loadTargets");
    expect(JSON.parse(readFileSync(out.file!, 'utf8'))).toMatchObject({ outcome: 'failed', passed: false, summary: null });
  });
});

describe('artillery (child process)', () => {
  const script = (target: string) => `config:\n  target: ${target}\n  phases:\n    - duration: 3\n      arrivalRate: 5\nscenarios:\n  - flow:\n      - get:\n          url: "/v1/workflows"\n`;

  it('absent: fails at once, saying it is not installed and how to install it', async () => {
    const test = testOf({ name: 'art', engine: 'artillery', script: 'x.yml', target: svc.url });
    expect(findArtillery({ PATH: '/nonexistent' })).toBeNull();
    const out = await new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir, artilleryBin: null }).run(4, test, () => undefined);
    expect(out.outcome).toBe('failed');
    expect(out.detail).toContain('load test "art" needs artillery, which is not installed here: npm install -g --ignore-scripts artillery@2.0.21');
    expect(svc.total()).toBe(0);
  });

  it('refuses a script that names an origin the plan does not declare', () => {
    const plan = planWith([]);
    const target = 'http://127.0.0.1:8080';
    expect(checkScript(plan, target, script('https://api.maestro-conductor.com')).problems.join('\n')).toContain('https://api.maestro-conductor.com is not loopback or in loadTargets');
    expect(checkScript(plan, target, script('http://127.0.0.1:8080')).problems).toEqual([]);
    expect(checkScript({ loadTargets: ['https://api.maestro-conductor.com'] }, target, script('https://api.maestro-conductor.com')).problems).toEqual([]);
  });

  it('checks the parsed script: escapes, templated hosts, processors, proxies and Host headers cannot aim load elsewhere; redirects are not followed', () => {
    const plan = planWith([]);
    const target = 'http://127.0.0.1:8080';
    const req = (url: string, extra = '') => `config:\n  target: ${target}\n  phases: [{ duration: 1, arrivalRate: 1 }]\n${extra}scenarios:\n  - flow:\n      - get:\n          url: ${url}\n`;
    const problems = (text: string) => checkScript(plan, target, text).problems.join('\n');
    expect(problems(req('"http\\x3a//10.1.2.3:80/escaped"'))).toMatch(/http:\/\/10\.1\.2\.3:80\/escaped is not loopback/);
    expect(problems(req('"{{ scheme }}://10.1.2.3/templated"'))).toMatch(/must be a fixed, allowed origin|must be a path/);
    expect(problems(req('"evil.example.com/x"'))).toMatch(/must be a path starting with \//);
    expect(problems(req('/ok', '  processor: ./hooks.js\n'))).toMatch(/config\.processor is not allowed/);
    expect(problems(req('/ok', '  http:\n    proxy: http://127.0.0.1:3128\n'))).toMatch(/config\.http\.proxy is not allowed/);
    expect(problems(req('/ok', '  defaults:\n    headers:\n      Host: api.maestro-conductor.com\n'))).toMatch(/header Host: api\.maestro-conductor\.com would send the load to another host/);
    const ok = checkScript(plan, target, req('/v1/workflows'));
    expect(ok.problems).toEqual([]);
    const flow = (ok.script as { scenarios: { flow: { get: Record<string, unknown> }[] }[] }).scenarios[0]!.flow[0]!.get;
    expect(flow).toEqual({ url: '/v1/workflows', followRedirect: false });
  });

  it('a Host header in the plan that names another host is a plan error', () => {
    const problems = crossCheck(planWith([testOf({ name: 'h', engine: 'autocannon', target: 'http://127.0.0.1:8080/', headers: { Host: 'api.maestro-conductor.com' } })]));
    expect(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('\n')).toMatch(/loadTests\.\d+\.headers\.Host: load test "h": header Host: api\.maestro-conductor\.com would send the load/);
  });

  it("reads artillery's text reports as progress", () => {
    const p = new ArtilleryTextParser();
    for (const l of ['Metrics for period to: 13:22:00(+0000) (width: 2.1s)', '', 'http.codes.200: ....... 10', 'http.codes.503: ....... 2', 'http.request_rate: .... 5/sec', 'http.requests: ....... 12', 'http.responses: ...... 12', 'http.response_time:', '  min: ....... 1', '  median: ....... 3', '  p95: ....... 13.1', '  p99: ....... 19.9', 'Summary report @ 13:22:08(+0000)', 'http.codes.200: ....... 99'])
      p.line(l);
    expect(p.figures()).toEqual({ requests: 12, byStatus: { '200': 10, '503': 2 }, errors: 2 });
    expect(p.latest).toEqual({ p50: 3, p95: 13.1, p99: 19.9 });
    expect(p.rps).toBe(5);
  });

  it.skipIf(!artillery)('present: runs a small script against the service and reads its JSON report', async () => {
    const file = join(dir, 'small.yml');
    writeFileSync(file, script('http://127.0.0.1:9'));
    const test = testOf({ name: 'art', engine: 'artillery', script: file, target: svc.url, duration: '10s', output: 'small-report.json', connections: undefined });
    const progress: LoadProgress[] = [];
    const out = await new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir }).run(5, test, (p) => progress.push(p));
    console.log(`load runner: artillery ${artillery}: ${out.outcome}, ${out.summary?.requests} responses reported, server sent ${svc.total()}`);
    expect(out.outcome, out.detail).toBe('completed');
    expect(out.summary!.requests).toBe(15); // 3 s at 5 arrivals a second, one request each
    expect(svc.total()).toBe(15);
    expect(out.summary!.latency!.p95).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(out.file!, 'utf8'));
    expect(saved).toMatchObject({ engine: 'artillery', outcome: 'completed', summary: { requests: 15 } });
    expect(existsSync(saved.artilleryReport)).toBe(true);
    expect(JSON.parse(readFileSync(saved.artilleryReport, 'utf8')).aggregate.counters['http.requests']).toBe(15);
  }, 90_000);

  it.skipIf(!artillery)('present: a stop ends the child process group within a second', async () => {
    const file = join(dir, 'long.yml');
    writeFileSync(file, script('http://127.0.0.1:9').replace('duration: 3', 'duration: 30'));
    const test = testOf({ name: 'art', engine: 'artillery', script: file, target: svc.url, duration: '30s', connections: undefined });
    const runner = new PlanLoadRunner({ plan: planWith([test]), resultsDir: dir });
    const done = runner.run(6, test, () => undefined);
    const until = Date.now() + 60_000;
    while (svc.total() < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(svc.total()).toBeGreaterThanOrEqual(3);
    const t0 = performance.now();
    runner.stop(6);
    const out = await done;
    const ended = performance.now() - t0;
    expect(out.outcome, out.detail).toBe('stopped');
    await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - ended)));
    const atOneSecond = svc.total();
    await new Promise((r) => setTimeout(r, 1_500));
    console.log(`load runner: artillery stop -> outcome in ${ended.toFixed(0)} ms; server total ${atOneSecond} at 1 s after the stop, ${svc.total()} 1.5 s later`);
    expect(svc.total()).toBe(atOneSecond);
  }, 90_000);
});
