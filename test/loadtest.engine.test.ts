// Load tests in the engine and the plan: declared targets only (file:line when not), only in their
// phase, one at a time, verdicts against the pass criteria and the phase's benchmarks, and a gate
// that waits for a passing run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPlanError, loadPlanText } from '../src/plan/loader.js';
import { gateView } from '../src/engine/gates.js';
import { judgeLoad, type LoadSummary } from '../src/engine/loadtests.js';
import { Driver, HOUR, PLAN_PATH, loadSeedPlan } from './helpers/drive.js';

const planText = readFileSync(PLAN_PATH, 'utf8');
const plan = loadSeedPlan();
const ana = { id: 'ana', name: 'Ana Ortiz' };

function at25(p = plan): Driver {
  const d = new Driver(p);
  d.runFor(6 * 24 * HOUR, (s) => s.desiredWeight === 25);
  expect(d.state.desiredWeight).toBe(25);
  return d;
}

const good: LoadSummary = { requests: 9_000, durationMs: 30_000, rps: 300, latency: { p50: 120, p95: 300, p99: 420 }, byStatus: { '200': 9_000 }, errors: 0 };

describe('load tests in the plan', () => {
  it('refuses a target that is neither loopback nor in loadTargets, at its file:line', () => {
    const text = planText.replace('target: http://127.0.0.1:8080/v1/workflows', 'target: https://api.maestro-conductor.com/v1/workflows');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('target: https://api.maestro-conductor.com/v1/workflows')) + 1;
    const msg = r.errors.map(formatPlanError).find((m) => m.includes('loadTargets'));
    expect(msg).toMatch(new RegExp(`^plan\\.yaml:${line}:\\d+: loadTests\\[2\\]\\.target: load test "api-smoke": https://api\\.maestro-conductor\\.com/v1/workflows is not a loopback address`));
    // Declared in loadTargets, the same target is allowed.
    const declared = text.replace(/^loadTests:/m, 'loadTargets: [https://api.maestro-conductor.com]\nloadTests:');
    expect(loadPlanText(declared, 'plan.yaml').ok).toBe(true);
  });

  it('refuses a 10.x address even with a port the plan serves, and an unknown benchmark', () => {
    const text = planText
      .replace('target: http://127.0.0.1:8080/v1/workflows', 'target: http://10.0.0.8:8080/v1/workflows')
      .replace('pass: { maxP95Ms: 500, maxErrorRatePercent: 0.1 }', 'pass: { benchmarks: [api_throughput, concurrent_workflows, nope] }');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const all = r.errors.map(formatPlanError).join('\n');
    expect(all).toContain('http://10.0.0.8:8080/v1/workflows is not a loopback address');
    expect(all).toContain('benchmark "concurrent_workflows" is in workflows: a load test measures throughput (req/min) and latency (ms) only');
    expect(all).toContain('unknown benchmark "nope"');
  });
});

describe('load tests in the engine', () => {
  it('is refused outside its phase and when undeclared; starts in its phase; one at a time', () => {
    const d = new Driver(plan);
    d.runFor(HOUR);
    expect(d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } })).toHaveLength(0);
    expect(d.state.history.at(-1)!.text).toContain('it may run in canary-5, canary-25, the rollout is in canary-1');
    const d25 = at25();
    const eff = d25.send({ type: 'command', at: d25.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    expect(eff).toEqual([expect.objectContaining({ type: 'start-load-test', name: 'api-smoke' })]);
    expect(d25.state.loadTests.running).toMatchObject({ name: 'api-smoke', phase: 'canary-25', target: 'http://127.0.0.1:8080/v1/workflows', durationMs: 30_000 });
    expect(d25.send({ type: 'command', at: d25.now, actor: ana, command: { kind: 'load-test', name: 'production-simulation' } })).toHaveLength(0);
    expect(d25.state.history.at(-1)!.text).toContain('"api-smoke" is still running (one at a time');
    // x: a stop effect for that run
    const stop = d25.send({ type: 'command', at: d25.now, actor: ana, command: { kind: 'stop-load-test' } });
    expect(stop).toEqual([expect.objectContaining({ type: 'stop-load-test', runId: eff[0]!.id })]);
    expect(d25.state.loadTests.running!.stopping).toBe(true);
  });

  it('progress shows in state; a stopped run is never a pass; a completed one is judged', () => {
    const d = at25();
    const [start] = d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    const runId = start!.id;
    d.send({ type: 'loadtest.progress', at: d.now, runId, name: 'api-smoke', progress: { elapsedMs: 1_000, durationMs: 30_000, requests: 300, rps: 300, latency: { p50: 100, p95: 250, p99: 400 }, byStatus: { '200': 300 }, errors: 0 } });
    expect(d.state.loadTests.running!.progress!.requests).toBe(300);
    d.send({ type: 'loadtest.result', at: d.now, runId, name: 'api-smoke', outcome: 'stopped', detail: 'stopped after 1.0 s', summary: { ...good, requests: 300, durationMs: 1_000 } });
    expect(d.state.loadTests.running).toBeNull();
    expect(d.state.loadTests.results.at(-1)).toMatchObject({ outcome: 'stopped', passed: false });
    expect(d.state.loadTests.passed).toEqual([]);
    const [again] = d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    d.send({ type: 'loadtest.result', at: d.now, runId: again!.id, name: 'api-smoke', outcome: 'completed', detail: 'ran 30s', summary: good, file: '/tmp/x.json' });
    const r = d.state.loadTests.results.at(-1)!;
    expect(r).toMatchObject({ outcome: 'completed', passed: true, file: '/tmp/x.json' });
    expect(r.criteria.map((c) => [c.name, c.pass])).toEqual([
      ['maxP95Ms', true],
      ['maxErrorRatePercent', true],
    ]);
    expect(d.state.loadTests.passed).toEqual(['api-smoke']);
    expect(d.state.history.at(-1)!.text).toMatch(/^load test "api-smoke" completed: PASS - 9,000 requests, 300 req\/s, p95 300 ms, 0 errors; saved \/tmp\/x\.json$/);
  });

  it("judges production-simulation against the seed's phase 3 numbers, and benchmarks by name", () => {
    const sim = plan.loadTests.find((t) => t.name === 'production-simulation')!;
    // 9,000 requests in 30 s is 18,000 req/min: under the seed's 50,000 req/min.
    const c = judgeLoad(plan, sim, good);
    expect(c.map((x) => `${x.pass ? 'ok' : 'FAIL'} ${x.text}`)).toEqual(['FAIL throughput 18,000 req/min >= 50,000 req/min', 'FAIL p95 300 ms <= 200 ms']);
    const byName = judgeLoad(plan, { ...sim, pass: { benchmarks: ['api_throughput', 'model_inference_latency'] } }, { ...good, requests: 30_000, latency: { p50: 50, p95: 150, p99: 190 } });
    expect(byName.map((x) => `${x.pass ? 'ok' : 'FAIL'} ${x.text}`)).toEqual(['ok api_throughput 60,000 req/min >= 50,000 req/min', 'ok model_inference_latency (p95) 150 ms < 200 ms']);
  });

  it('a rollback stops a running load test', () => {
    const d = at25();
    d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    const eff = d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'rollback' } });
    expect(eff.map((e) => e.type)).toEqual(['rollback', 'stop-load-test', 'notify']);
  });

  it('a gate that requires a passing load test waits for one, and opens after it', () => {
    const text = planText.replace(/(  - id: canary-25\n)/, '$1    requireLoadTests: [api-smoke]\n');
    const r = loadPlanText(text, 'plan.yaml');
    if (!r.ok) throw new Error(r.errors.map(formatPlanError).join('\n'));
    const p = r.plan;
    const d = at25(p);
    d.runFor(100 * HOUR);
    // The whole 96 h bake has passed, checkpoints were answered by the crew: only the load test is missing.
    expect(d.state.desiredWeight).toBe(25);
    const g = gateView(p, d.state);
    expect(g.allowed).toBe(false);
    expect(g.blockers).toEqual(['load test "api-smoke" has not passed in this phase - l runs it']);
    expect(g.peopleBlockers).toEqual(g.blockers);
    // A failing run does not open it.
    const [s1] = d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    d.send({ type: 'loadtest.result', at: d.now, runId: s1!.id, name: 'api-smoke', outcome: 'completed', detail: 'ran', summary: { ...good, latency: { p50: 400, p95: 900, p99: 1200 } } });
    expect(gateView(p, d.state).blockers).toEqual(['load test "api-smoke" has not passed in this phase (last run: completed, fail) - l runs it']);
    d.runFor(2 * HOUR);
    expect(d.state.desiredWeight).toBe(25);
    const [s2] = d.send({ type: 'command', at: d.now, actor: ana, command: { kind: 'load-test', name: 'api-smoke' } });
    d.send({ type: 'loadtest.result', at: d.now, runId: s2!.id, name: 'api-smoke', outcome: 'completed', detail: 'ran', summary: good });
    d.runFor(2 * HOUR, (s) => s.desiredWeight === 50);
    expect(d.state.desiredWeight).toBe(50);
    expect(d.state.loadTests.passed).toEqual([]); // a new phase: passes from the last one no longer count
  });

  it('a plan cannot require a load test its phase may not run', () => {
    const text = planText.replace(/(  - id: canary-1\n)/, '$1    requireLoadTests: [api-smoke]\n');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatPlanError).join('\n')).toMatch(/phases\[0\]\.requireLoadTests\[0\]: load test "api-smoke" may not run in canary-1 \(it runs in canary-5, canary-25\), so this gate could never open/);
  });
});
