// The load test in the console, frames from ink-testing-library over the real engine: `l` opens
// the picker of this phase's tests, enter picks, the confirmation names target, load, duration and
// pass criteria, `y` starts it (one start-load-test effect), the load pane shows progress against
// the criteria, `x` (or esc) stops it, and the result stays until esc. Existing keys still work.
import { vi, describe, it, expect, afterEach } from 'vitest';
vi.hoisted(() => {
  delete process.env['NO_COLOR'];
});
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { BINDINGS, handleKey, INITIAL_UI } from '../components/keys.js';
import type { Plan } from '../src/plan/schema.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());

const tick = () => new Promise<void>((r) => setImmediate(r));
const settle = async () => {
  await tick();
  await tick();
};
const KEY = { esc: '\u001B', enter: '\r', down: '\u001B[B' };

/** The seed plan, with api-smoke also allowed in canary-1 (where runningScenario leaves the rollout). */
function planAt1(): Plan {
  const p = loadPlan();
  return { ...p, loadTests: p.loadTests.map((t) => (t.name === 'api-smoke' ? { ...t, phase: ['canary-1', 'canary-5', 'canary-25'] } : t)) };
}

async function show(plan: Plan, store: TestStore, columns = 120, rows = 40) {
  const r = sized(render(<App plan={plan} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={() => undefined} />), columns, rows);
  await settle();
  return {
    frame: () => stripVTControlCharacters(r.lastFrame() ?? ''),
    write: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
  };
}

describe('load tests in the console', () => {
  it('l, enter, y starts the one this phase allows; the pane shows progress against the criteria; x stops it', async () => {
    const plan = planAt1();
    const store = makeStore(plan, T0);
    runningScenario(store);
    const ui = await show(plan, store);
    expect(ui.frame()).toContain('Roster');

    await ui.write('l');
    let f = ui.frame();
    expect(f).toContain('Load tests for Canary 1%: internal validation');
    expect(f).toContain('▶ 1 api-smoke: autocannon, 30s, 50 conn → http://127.0.0.1:8080/v1/workflows');
    expect(f).not.toContain('production-simulation'); // canary-25 only

    await ui.write(KEY.enter);
    f = ui.frame();
    expect(f).toContain('Start load test api-smoke');
    expect(f).toContain('Target: GET http://127.0.0.1:8080/v1/workflows');
    expect(f).toContain('Load: autocannon, 50 connections, for 30s');
    expect(f).toContain('Pass: p95 <= 500 ms, errors <= 0.1%');
    expect(store.effects.filter((e) => e.type === 'start-load-test')).toHaveLength(0); // nothing before y

    await ui.write('y');
    const started = store.effects.filter((e) => e.type === 'start-load-test');
    expect(started).toEqual([expect.objectContaining({ name: 'api-smoke' })]);
    f = ui.frame();
    expect(f).toContain('Load api-smoke');
    expect(f).toContain('starting…');
    expect(f).not.toContain('Roster');
    expect(f).toContain('x/esc stop load test');

    // The runner's progress, as the runtime would send it.
    const runId = started[0]!.id;
    store.dispatch({
      type: 'loadtest.progress',
      at: store.clock.t,
      runId,
      name: 'api-smoke',
      progress: { elapsedMs: 12_000, durationMs: 30_000, requests: 3_600, rps: 301, latency: { p50: 140, p95: 620, p99: 800 }, byStatus: { '200': 3_597, '503': 3 }, errors: 3 },
    });
    await settle();
    f = ui.frame();
    expect(f).toMatch(/█{10,}░+ 18s left/);
    expect(f).toContain('req/s  301   total 3,600');
    expect(f).toContain('p50 140 ms  p95 620 ms ✗  p99 800 ms');
    expect(f).toContain('status 200: 3,597  503: 3');
    expect(f).toContain('so far ✗ p95 620 ms <= 500 ms');
    expect(f).toContain('✓ errors 0.08 % <= 0.10 %');

    await ui.write('x');
    expect(store.effects.filter((e) => e.type === 'stop-load-test')).toEqual([expect.objectContaining({ runId })]);
    expect(ui.frame()).toContain('stopping…');
    store.dispatch({ type: 'loadtest.result', at: store.clock.t, runId, name: 'api-smoke', outcome: 'stopped', detail: 'stopped after 12.3 s of 30s', summary: { requests: 3_650, durationMs: 12_300, rps: 297, latency: { p50: 140, p95: 610, p99: 790 }, byStatus: { '200': 3_647, '503': 3 }, errors: 3 }, file: '/tmp/state/canary/loadtests/api-smoke-run.json' });
    await settle();
    f = ui.frame();
    expect(f).toContain('✗ FAIL stopped in 12s');
    expect(f).toContain('stopped after 12.3 s of 30s');
    expect(f).toContain('esc closes');
    // esc closes the result; the roster is back.
    await ui.write(KEY.esc);
    await new Promise((r) => setTimeout(r, 60)); // Ink tells a lone ESC from a sequence after a moment
    await settle();
    expect(ui.frame()).toContain('Roster');
  });

  it('in a phase with no load test the picker says which phases have them; any key closes', async () => {
    const plan = loadPlan();
    const store = makeStore(plan, T0);
    runningScenario(store);
    const ui = await show(plan, store);
    await ui.write('l');
    expect(ui.frame()).toContain('No load test may run in Canary 1%: internal validation.');
    expect(ui.frame()).toContain('production-simulation (canary-25)');
    expect(ui.frame()).toContain('api-smoke (canary-5, canary-25)');
    await ui.write('y');
    expect(store.effects.filter((e) => e.type === 'start-load-test')).toHaveLength(0);
    expect(ui.frame()).not.toContain('No load test may run');
  });

  it('esc stops a running test; R still opens the rollback from the picker; l and x are in the help', () => {
    const ctx = { status: 'running' as const, loadTests: ['api-smoke'], loadRunning: true };
    expect(handleKey(INITIAL_UI, '', { escape: true }, ctx).command).toEqual({ kind: 'stop-load-test' });
    expect(handleKey(INITIAL_UI, 'x', {}, ctx).command).toEqual({ kind: 'stop-load-test' });
    expect(handleKey(INITIAL_UI, 'x', {}, { ...ctx, loadRunning: false }).command).toBeUndefined();
    const picker = handleKey(INITIAL_UI, 'l', {}, ctx).ui;
    expect(picker.overlay.kind).toBe('load-picker');
    expect(handleKey(picker, 'R', {}, ctx).ui.overlay.kind).toBe('confirm-rollback');
    expect(handleKey(picker, '1', {}, ctx).ui).toMatchObject({ overlay: { kind: 'confirm-load', name: 'api-smoke' } });
    expect(handleKey({ ...picker, overlay: { kind: 'confirm-load', index: 0, name: 'api-smoke' } }, 'n', {}, ctx)).toEqual({ ui: expect.objectContaining({ overlay: { kind: 'none' } }) });
    const keys = BINDINGS.flatMap((b) => b.keys);
    for (const k of ['l', 'x', '?', 'tab', '/', 'a', 'g', 'A', 'p', 'R', 'enter', 'q']) expect(keys).toContain(k);
    for (const k of ['i', 'k', 'I']) expect(BINDINGS.filter((b) => b.action === 'load' || b.action === 'stop-load').flatMap((b) => b.keys)).not.toContain(k);
  });
});
