// The simulated clock never runs ahead of what the simulated world has produced (back-pressure):
// a world too slow for its speed makes a slower rollout, never "no data". At --speed 100000 on a
// loaded machine a healthy headless run used to end with exit 5 ("no data past noDataAfter"):
// effect results were stamped with a clock that had run ahead of the world's samples. The speed
// actually reached is shown next to the speed asked (status bar, headless output).
import { describe, it, expect, afterAll, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { App } from '../components/App.js';
import { readEnv } from '../src/env.js';
import { runHeadless } from '../src/headless.js';
import type { EngineEvent } from '../src/engine/types.js';
import { SimClock } from '../src/sim/clock.js';
import { lagging, SimPace } from '../src/sim/pace.js';
import { SimSource } from '../src/sim/sources.js';
import { SimWorld, type AdvanceOptions, type SimWorldOptions } from '../src/sim/world.js';
import { buildRuntime, type WorldValues } from '../src/wiring/build.js';
import { startPrometheus, type PrometheusHandle } from './helpers/prometheus.js';
import { sized } from './helpers/sized.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0 } from './helpers/state.js';

const tmp = mkdtempSync(join(tmpdir(), 'canary-backpressure-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => cleanup());

/** Blocks the thread for `ms` of real time (a slow step: the world's work, or a loaded machine). */
const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A world that takes `stepMs` of real time for every advance, however short. */
class SlowWorld extends SimWorld {
  constructor(
    opts: SimWorldOptions,
    private readonly stepMs: number,
  ) {
    super(opts);
  }
  override advanceTo(t: number, opts?: AdvanceOptions): EngineEvent[] {
    block(this.stepMs);
    return super.advanceTo(t, opts);
  }
}

describe('back-pressure: simulated time waits for the simulated world', () => {
  it('a healthy headless run at --speed 100000 on a world too slow for it reaches canary-5 with exit 0 and passing verdicts, and says the speed it reached', async () => {
    const env = readEnv({ XDG_STATE_HOME: join(tmp, 'state'), HOME: tmp });
    const values = { scenario: 'healthy', speed: 100_000, 'no-journal': true, 'comms-dir': join(tmp, 'comms') } as WorldValues;
    const w = await buildRuntime(values, env, { speed: 36_000, notifyEveryMs: 0, world: (o) => new SlowWorld(o, 15) });
    expect(w.pace).not.toBeNull();
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    w.runtime.start();
    const r = await runHeadless({ plan: w.plan, runtime: w.runtime, json: true, peopleAct: true, until: 'canary-5', out, speed: w.pace!.average });
    await w.close();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'exit', code: 0, status: 'running', weight: 5, appliedWeight: 5 });
    expect(r.code).toBe(0);
    // The right verdicts: every criterion of canary-1 passed on data, never "no data" with traffic on.
    const verdicts = lines.filter((l) => l.type === 'verdict') as { criteria: { sli: string; verdict: string }[]; judgment: { verdict: string } | null }[];
    const passed = verdicts.find((v) => v.criteria.length > 0 && v.criteria.every((c) => c.verdict === 'pass') && v.judgment?.verdict === 'pass');
    expect(passed?.criteria.map((c) => c.sli)).toEqual(expect.arrayContaining(['availability', 'latency_p95', 'error_rate']));
    // Nothing the rollout read was later than the world's samples: no "no sample for ..." (stale data).
    expect(lines.filter((l) => /no sample for/.test(String(l.text)))).toEqual([]);
    // Each advance takes 15 ms of real time and covers at most 500 simulated seconds: the world
    // cannot reach 100000, and the run says what it reached instead of claiming the speed.
    const clock = lines.find((l) => l.type === 'clock') as { asked: number; actual: number; keptUp: boolean };
    expect(clock).toMatchObject({ asked: 100_000, keptUp: false });
    expect(clock.actual).toBeGreaterThan(0);
    expect(clock.actual).toBeLessThan(100_000);
  }, 90_000);

  it('every event the source emits is at or before the world time it has produced, and a batch that runs out of budget holds the clock at the world', () => {
    const plan = loadPlan();
    let real = 0;
    const clock = new SimClock({ start: T0, speed: 100_000, realNow: () => real });
    const world = new SlowWorld({ plan, scenario: 'healthy', start: T0, actuationDelayMs: 0 }, 0);
    // Every reading of the source's stopwatch moves it by 10 ms: a budget of 25 ms is spent after three batches.
    let watch = 0;
    const src = new SimSource(world, clock, { periodMs: 5, budgetMs: 25, realNow: () => (watch += 10) });
    const got: { at: number; produced: number }[] = [];
    src.start((e) => got.push({ at: e.at, produced: world.now }));
    got.length = 0;
    real += 10_000; // ten seconds of real time: 1,000,000 simulated seconds asked
    const behind = src.tick();
    expect(behind).toBe(true);
    for (const g of got) expect(g.at).toBeLessThanOrEqual(g.produced);
    // Three batches of one poll's worth (500 s) each: not the 1,000,000 s the clock asked for.
    expect(world.now - T0).toBeLessThan(3 * 500_000 + 60_000 * 3);
    // The clock waits for the world: it now reads the world's time, and the runtime reads the world.
    expect(clock.now()).toBe(world.now);
    expect(src.time.now()).toBe(world.now);
    src.stop();
  });

  it('the speed reached is measured: all of it when the world keeps up, what it manages when each batch takes longer than the clock allows', () => {
    const plan = loadPlan();
    let real = 0;
    const clock = new SimClock({ start: T0, speed: 100_000, realNow: () => real });
    // A step that costs `cost` ms of (fake) real time: the world's work on a loaded machine.
    let cost = 0;
    class Costly extends SimWorld {
      override advanceTo(t: number, opts?: AdvanceOptions): EngineEvent[] {
        real += cost;
        return super.advanceTo(t, opts);
      }
    }
    const world = new Costly({ plan, scenario: 'healthy', start: T0, actuationDelayMs: 0 });
    const src = new SimSource(world, clock, { periodMs: 5, budgetMs: 25, realNow: () => real });
    // Started (its first advance), then stepped by hand: its own timer never fires inside this test.
    src.start(() => undefined);
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        real += 5;
        src.tick();
      }
    };
    run(200);
    expect(src.actualSpeed()).toEqual({ asked: 100_000, actual: 100_000 });
    expect(lagging(src.actualSpeed())).toBeNull();
    // Each batch (at most 500 simulated seconds) now costs 20 ms of real time: at most 25 s a
    // real millisecond, and the clock is held at the world whenever the budget runs out.
    cost = 20;
    run(200);
    const r = src.actualSpeed();
    expect(r.asked).toBe(100_000);
    expect(r.actual).toBeGreaterThan(10_000);
    expect(r.actual).toBeLessThanOrEqual(25_000);
    expect(lagging(r)).toBe(Math.round(r.actual! / 1000) * 1000);
    // Never ahead: the clock reads the world's time after every held batch.
    expect(clock.now()).toBe(world.now);
    src.stop();
  });

  it("the status bar shows the speed asked and the speed the world keeps when it cannot keep up, and only then", async () => {
    const store = makeStore(loadPlan(), T0);
    runningScenario(store, 10);
    const clock = new SimClock({ start: T0, speed: 100_000, realNow: () => 0 });
    let actual = 22_400;
    const pace = new SimPace(clock, loadPlan(), () => ({ asked: clock.speed, actual }));
    pace.observe(store.getState());
    const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={160} rows={40} onQuit={() => undefined} clock={pace} />), 160, 40);
    const status = () => stripVTControlCharacters(r.lastFrame() ?? '').split('\n').at(-1) ?? '';
    const until = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(status()); i++) await new Promise<void>((res) => setImmediate(res));
      return status();
    };
    expect(await until(/×100000 asked, ×22000 actual/)).toMatch(/×100000 asked, ×22000 actual/);
    actual = 99_000;
    pace.observe(store.getState());
    const kept = await until(/×100000(?! asked)/);
    expect(kept).toContain('×100000');
    expect(kept).not.toContain('actual');
  });
});

describe('a real Prometheus without data still trips noDataAfter (back-pressure is the simulated world only)', () => {
  let prom: PrometheusHandle | null = null;
  afterAll(async () => {
    await prom?.stop();
  });

  it('run --headless --prometheus <a Prometheus with no series>: exit 5, no data past noDataAfter, naming the SLIs', async () => {
    // It scrapes a port where nothing listens: it answers every query, with nothing.
    prom = await startPrometheus({ scrapeTargets: ['127.0.0.1:1'] });
    if (!prom) throw new Error('startPrometheus found no prometheus binary (install it: apt-get install -y prometheus)');
    const root = join(import.meta.dirname, '..');
    const plan = join(tmp, 'nodata.yaml');
    writeFileSync(plan, readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8').replace('noDataAfter: 10m', 'noDataAfter: 3s').replace('staleAfter: 3m', 'staleAfter: 2s'));
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state') };
    delete env.CI;
    const child = spawn(process.execPath, [join(root, 'dist', 'canary.mjs'), 'run', '--headless', '--json', '--no-journal', '--plan', plan, '--prometheus', prom.url], { cwd: tmp, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const exit = lines.at(-1) as { type: string; code: number; reason: string };
    expect({ code, err }).toEqual({ code: 5, err: '' });
    expect(exit.type).toBe('exit');
    expect(exit.reason).toMatch(/^no data past noDataAfter 3s: availability \(stable fleet\) for \d+s/);
    // Real time is never paced: no clock line.
    expect(lines.some((l) => l.type === 'clock')).toBe(false);
  }, 90_000);
});
