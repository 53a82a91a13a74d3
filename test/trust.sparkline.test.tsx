// Issue 16 item 15, last part: sparklines show a window long enough for a trend at the current
// speed. At one simulated hour a second the SLIs pane covers hours (not the last few simulated
// minutes of noise), at the slowed one simulated minute a second it covers less, and the pane's
// title says the span; the SLI details and the wall use the same span. A window of hours is cut
// into buckets drawn as their worst sample, so a one-sample spike stays visible.
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../components/App.js';
import { wallModel } from '../components/Wall.js';
import { SpeedMeter, sparkline, sparkWindow, windowValues, worseOf } from '../components/sparkline.js';
import { append, emptySeries } from '../src/engine/series.js';
import { SERIES_CAPACITY, type Series } from '../src/engine/types.js';
import { SimClock } from '../src/sim/clock.js';
import { SimPace } from '../src/sim/pace.js';
import { sized } from './helpers/sized.js';
import { HOUR, loadPlan, makeStore, MIN, OPERATOR, runningScenario, samples, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());
const plan = loadPlan();
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const HELD = SERIES_CAPACITY * MIN;

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A rollout with five hours of healthy samples a minute apart (before the 6h checkpoint). */
function fiveHours(): TestStore {
  const store = makeStore(plan, T0);
  runningScenario(store, 5);
  for (let i = 0; i < 290; i++) {
    store.clock.t += MIN;
    store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(i) });
  }
  store.dispatch({ type: 'tick', at: store.clock.t });
  return store;
}

async function show(store: TestStore, pace?: SimPace) {
  const r = sized(render(<App plan={plan} store={store} actor={OPERATOR} now={() => store.clock.t} columns={120} rows={40} onQuit={() => undefined} {...(pace ? { clock: pace } : {})} />), 120, 40);
  await settle();
  return {
    frame: () => plain(r.lastFrame()),
    key: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
  };
}

describe('the window', () => {
  it('follows the speed, the same span at every width; unknown speed: the newest samples', () => {
    for (const cells of [7, 30, 60, 96]) {
      expect(sparkWindow(3600, MIN, cells, HELD).label).toBe('last 6h');
      expect(sparkWindow(60, MIN, cells, HELD).label).toBe('last 2h');
      expect(sparkWindow(1, MIN, cells, HELD).label).toBe('last 30m');
    }
    // a measured speed that wobbles keeps the label
    expect(sparkWindow(55, MIN, 30, HELD).label).toBe('last 2h');
    expect(sparkWindow(3100, MIN, 30, HELD).label).toBe('last 6h');
    // never longer than the series hold
    expect(sparkWindow(100_000, MIN, 30, HELD).spanMs).toBe(6 * HOUR);
    expect(sparkWindow(null, MIN, 7, HELD)).toMatchObject({ mode: 'newest', label: 'last 7 samples' });
  });

  it('bucketing keeps a one-sample spike (and a dip, for a higher-is-better SLI)', () => {
    let lat: Series = emptySeries();
    let avail: Series = emptySeries();
    const start = 1_000 * HOUR; // a multiple of every bucket
    for (let i = 0; i < 360; i++) {
      lat = append(lat, start + i * MIN, i === 200 ? 5000 : 300 + (i % 7) * 5);
      avail = append(avail, start + i * MIN, i === 200 ? 90 : 99.97);
    }
    const now = start + 359 * MIN;
    const win = sparkWindow(3600, MIN, 30, HELD);
    expect(win.mode).toBe('buckets');
    const l = windowValues(lat, win, now, worseOf('lower-is-better'), 30);
    expect(l).toHaveLength(30);
    expect(l.filter((v) => v === 5000)).toHaveLength(1);
    const line = sparkline(l, 30, { min: 0, max: 5000 });
    expect([...line].filter((c) => c === '█')).toHaveLength(1);
    expect(line.replace('█', '')).toMatch(/^▁+$/);
    const a = windowValues(avail, win, now, worseOf('higher-is-better'), 30);
    expect(a.filter((v) => v === 90)).toHaveLength(1);
    // the newest sample per cell (the old way) loses the spike: 12 samples a cell, 1 drawn
    const newest = Array.from({ length: 30 }, (_, k) => lat.bv[lat.start + k * 12 + 11]!);
    expect(newest).not.toContain(5000);
  });

  it('a screen that does not know the speed measures it from how fast the state time moves', () => {
    const m = new SpeedMeter();
    expect(m.speed()).toBeNull();
    for (let real = 0; real <= 2_000; real += 100) m.observe(real, T0 + real * 3600);
    expect(m.speed()).toBeCloseTo(3600, 0);
    // paused: no new time, the last speed stays
    m.observe(2_500, T0 + 2_000 * 3600);
    expect(m.speed()).toBeCloseTo(3600, 0);
    for (let real = 2_600; real <= 8_000; real += 100) m.observe(real, T0 + 2_000 * 3600 + (real - 2_600) * 60);
    expect(m.speed()).toBeCloseTo(60, 0);
  });
});

describe('the SLIs pane, the details and the wall at the clock speed', () => {
  it('at one simulated hour a second the title says last 6h; slowed to a minute a second (an open incident), last 2h', async () => {
    const store = fiveHours();
    const clock = new SimClock({ start: store.clock.t, speed: 3600, realNow: () => 0 });
    const pace = new SimPace(clock, plan);
    pace.observe(store.getState());
    const c = await show(store, pace);
    expect(c.frame()).toContain('SLIs · last 6h');
    expect(wallModel(plan, store.getState(), clock.speed).charts[0]!.labels[0]).toContain('· last 6h');
    // the SLI details say the same span
    await c.key('\t');
    await c.key('\r');
    await until(() => c.frame().includes('the span follows the clock'), 'the SLI details');
    expect(c.frame()).toMatch(/last 6h, the worst sample of each \S+ \(the span follows the clock's speed\)/);
    await c.key('\x1b');
    await until(() => !c.frame().includes('the span follows the clock'), 'the details closed');

    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'checkout slow' } });
    pace.observe(store.getState());
    expect(clock.speed).toBe(60);
    await until(() => c.frame().includes('SLIs · last 2h'), 'the pane at the slowed speed');
    expect(wallModel(plan, store.getState(), clock.speed).charts[0]!.labels[0]).toContain('· last 2h');
    await c.key('\r');
    await until(() => c.frame().includes('the span follows the clock'), 'the SLI details');
    expect(c.frame()).toContain('last 2h');
  });

  it('a war-room viewer (no clock of its own) measures the speed: last 6h at 3600x, then last 2h at 60x', async () => {
    const store = fiveHours();
    const c = await show(store);
    expect(c.frame()).toMatch(/SLIs · last \d+ samples/);
    // The server's clock as the viewer sees it: state time moving with real time.
    const drive = async (speed: number, want: string) => {
      const real0 = performance.now();
      const sim0 = store.clock.t;
      await until(() => {
        store.clock.t = sim0 + Math.round((performance.now() - real0) * speed);
        store.dispatch({ type: 'tick', at: store.clock.t });
        return c.frame().includes(want);
      }, `${want} at ${speed}x`);
    };
    await drive(3600, 'SLIs · last 6h');
    await drive(60, 'SLIs · last 2h');
  });
});
