// The embedded world's clock (issue 16 item 15): the speed keys in the console's frames, where they
// are absent (replay, real time / no simulated clock, a joined viewer), the rule that slows the
// world down around a moment that needs a person, and the simulated time staying continuous
// through every speed change, pause and slowdown.
import { describe, it, expect, afterEach } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { handleKey, helpSections, INITIAL_UI, type KeyContext } from '../components/keys.js';
import type { Actor, RolloutState } from '../src/engine/types.js';
import { SimClock } from '../src/sim/clock.js';
import { desiredSpeed, SimPace, slowReason, SLOW_SPEED, stepSpeed } from '../src/sim/pace.js';
import { loadPlan, makeStore, MIN, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());

const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');

function running(): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, 10);
  return store;
}

/** A console on a store, with a SimPace over a SimClock whose real time the test moves. */
async function show(store: TestStore, opts: { pace?: SimPace | null; replay?: boolean; actor?: Actor; columns?: number; rows?: number } = {}) {
  const columns = opts.columns ?? 160;
  const rows = opts.rows ?? 40;
  const r = sized(
    render(
      <App
        plan={loadPlan()}
        store={store}
        actor={opts.actor ?? OPERATOR}
        now={() => store.clock.t}
        columns={columns}
        rows={rows}
        onQuit={() => undefined}
        {...(opts.pace ? { clock: opts.pace } : {})}
        {...(opts.replay ? { replay: true } : {})}
      />,
    ),
    columns,
    rows,
  );
  await settle();
  const statusLine = () => plain(r.lastFrame()).split('\n').at(-1) ?? '';
  return {
    frame: () => plain(r.lastFrame()),
    statusLine,
    key: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
    until: async (what: RegExp | string, where: () => string = statusLine) => {
      const t0 = Date.now();
      while (!(typeof what === 'string' ? where().includes(what) : what.test(where()))) {
        if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${String(what)} in:\n${where()}`);
        await new Promise<void>((res) => setImmediate(res));
      }
    },
  };
}

function paced(speed = 3600) {
  let real = 0;
  const clock = new SimClock({ start: T0, speed, realNow: () => real });
  const pace = new SimPace(clock, loadPlan());
  return { clock, pace, move: (ms: number) => (real += ms) };
}

describe('the clock keys in the console', () => {
  it('the status bar shows the speed, and - + . change it', async () => {
    const store = running();
    const { clock, pace } = paced(3600);
    const c = await show(store, { pace });
    expect(c.statusLine()).toContain('×3600');
    await c.key('+');
    await c.until('×7200');
    expect(clock.speed).toBe(7200);
    await c.key('-');
    await c.key('-');
    await c.until('×1800');
    expect(clock.speed).toBe(1800);
    await c.key('.');
    await c.until('clock paused');
    expect(clock.speed).toBe(0);
    await c.key('.');
    await c.until('×1800');
    expect(clock.speed).toBe(1800);
    // `=` is `+` without shift.
    await c.key('=');
    await c.until('×3600');
    // Help lists them under Clock.
    await c.key('?');
    await c.until(/simulated clock faster/, c.frame);
  });

  it('are absent without a simulated clock (real time), in a replay and for a joined viewer', async () => {
    const base: KeyContext = { status: 'running' };
    for (const access of [{ kind: 'operator', actions: null, rollback: null } as const, { kind: 'replay' } as const, { kind: 'viewer', reason: 'view-only token' } as const]) {
      for (const k of ['-', '+', '=', '.']) expect(handleKey(INITIAL_UI, k, {}, { ...base, access }).clock).toBeUndefined();
      expect(helpSections({ access }).sections.map((s) => s.title)).not.toContain('Clock');
    }
    expect(handleKey(INITIAL_UI, '+', {}, { ...base, access: { kind: 'operator', actions: null, rollback: null, clock: true } }).clock).toBe('faster');

    // Frames: no pace given (Prometheus / Kubernetes real time, a joined console): no speed shown, the keys do nothing.
    const store = running();
    const c = await show(store);
    expect(c.statusLine()).not.toMatch(/×\d|clock paused/);
    await c.key('.');
    expect(c.statusLine()).not.toMatch(/clock paused/);
    cleanup();
    // A replay given a pace anyway binds none of its keys and shows no speed.
    const { clock, pace } = paced(3600);
    const r = await show(running(), { pace, replay: true });
    expect(r.statusLine()).not.toMatch(/×\d/);
    await r.key('+');
    await r.key('.');
    expect(clock.speed).toBe(3600);
  });

  it('says so when the world slowed itself for a moment (an open incident), and the person’s key wins', async () => {
    const store = running();
    const { clock, pace } = paced(3600);
    const unsub = store.subscribe(() => pace.observe(store.getState()));
    pace.observe(store.getState());
    const c = await show(store, { pace });
    expect(c.statusLine()).toContain('×3600');
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'checkout slow' } });
    await c.until('slowed: incident open');
    expect(clock.speed).toBe(SLOW_SPEED);
    expect(c.statusLine()).toContain('×60');
    await c.key('+');
    await c.until('×120');
    expect(c.statusLine()).not.toContain('slowed');
    expect(clock.speed).toBe(120);
    unsub();
  });
  it('at 80x24 the rollback key stays on the status line when the clock slowed itself and an incident is open (why it slowed and T+ give way)', async () => {
    const store = running();
    const { pace } = paced(3600);
    const unsub = store.subscribe(() => pace.observe(store.getState()));
    pace.observe(store.getState());
    const c = await show(store, { pace, columns: 80, rows: 24 });
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'checkout slow' } });
    await c.until('×60');
    const line = c.statusLine();
    expect(line).toMatch(/R\b.*rollback|R:rollback/);
    expect(line).toContain('RUNNING');
    expect(line).toContain('INC-');
    // In a dialog too (t: the checklist), the rollback key is named beside the dialog's own keys.
    await c.key('t');
    await c.until('Checklist', c.frame);
    expect(c.statusLine()).toMatch(/R\b.*rollback|R:rollback/);
    unsub();
  });
});

describe('the slowdown rule', () => {
  const plan = loadPlan();
  const calm = (): RolloutState => running().getState();

  it('names the moment that needs a person, or nothing', () => {
    const s = calm();
    expect(slowReason(plan, s)).toBeNull();
    const phase = plan.phases[s.phaseIndex]!.id;
    const due: RolloutState = { ...s, checkpoints: { ...s.checkpoints, [phase]: [{ index: 0, at: 30 * MIN, title: 'look at the dashboards', dueAt: s.now }] } };
    expect(slowReason(plan, due)).toBe('checkpoint due');
    expect(slowReason(plan, { ...due, checkpoints: { [phase]: [{ index: 0, at: 30 * MIN, title: 'x', dueAt: s.now, ackedAt: s.now + 1 }] } })).toBeNull();

    const store = running();
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'slow' } });
    expect(slowReason(plan, store.getState())).toBe('incident open');
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'ack-incident' } });
    expect(slowReason(plan, store.getState())).toBeNull(); // acknowledged: the person acted

    const rb = running();
    rb.dispatch({ type: 'command', at: rb.clock.t, actor: OPERATOR, command: { kind: 'rollback' } });
    const after = rb.getState();
    expect(slowReason(plan, after)).toBe('rollback');
    // Drained and long past: the rollback's moment passed, and the rollout is over. So is a
    // completed one: nothing is left to fly past at x36000 (a console left open there used ~17%
    // of a core for as long as it stayed open).
    expect(after.status).toBe('rolled-back');
    expect(slowReason(plan, { ...after, incidents: [], appliedWeight: after.desiredWeight, now: after.rollback!.at + 11 * MIN })).toBe('rolled back');
    expect(slowReason(plan, { ...s, status: 'completed' })).toBe('rollout complete');
  });

  it('drops to 60x in a moment unless the person chose a speed during it; paused is 0', () => {
    expect(desiredSpeed({ speed: 3600, paused: false, choseDuringMoment: false }, null)).toBe(3600);
    expect(desiredSpeed({ speed: 3600, paused: false, choseDuringMoment: false }, 'checkpoint due')).toBe(60);
    expect(desiredSpeed({ speed: 10, paused: false, choseDuringMoment: false }, 'checkpoint due')).toBe(10); // never speeds up
    expect(desiredSpeed({ speed: 3600, paused: false, choseDuringMoment: true }, 'checkpoint due')).toBe(3600);
    expect(desiredSpeed({ speed: 3600, paused: true, choseDuringMoment: false }, null)).toBe(0);
    // Over: back to real time (a completed console at x60 redrew several times a second), unless
    // the person chose a speed since.
    expect(desiredSpeed({ speed: 36_000, paused: false, choseDuringMoment: false }, 'rollout complete')).toBe(1);
    expect(desiredSpeed({ speed: 36_000, paused: false, choseDuringMoment: false }, 'rolled back')).toBe(1);
    expect(desiredSpeed({ speed: 600, paused: false, choseDuringMoment: true }, 'rollout complete')).toBe(600);
    expect(stepSpeed(3600, 'faster')).toBe(7200);
    expect(stepSpeed(3600, 'slower')).toBe(1800);
    expect(stepSpeed(1, 'slower')).toBe(1);
    expect(stepSpeed(100_000, 'faster')).toBe(100_000);
    expect(stepSpeed(0.5, 'faster')).toBe(1);
  });

  it('the world speeds up again once the moment passes', () => {
    const { clock, pace } = paced(3600);
    const store = running();
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'slow' } });
    pace.observe(store.getState());
    expect(clock.speed).toBe(60);
    expect(pace.view()).toEqual({ speed: 60, paused: false, slowed: 'incident open' });
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'ack-incident' } });
    pace.observe(store.getState());
    expect(clock.speed).toBe(3600);
    expect(pace.view().slowed).toBeNull();
  });
});

describe('simulated time through speed changes', () => {
  it('never jumps backwards or forwards when the speed changes, pauses or slows itself', () => {
    const { clock, pace, move } = paced(3600);
    let expected = T0;
    const step = (ms: number) => {
      const before = clock.now();
      expect(before).toBe(expected);
      const speed = clock.speed;
      move(ms);
      expected += ms * speed;
      expect(clock.now()).toBe(expected);
    };
    step(100);
    for (const k of ['faster', 'faster', 'slower', 'toggle', 'toggle', 'slower'] as const) {
      const t = clock.now();
      pace.press(k);
      expect(clock.now()).toBe(t); // the change itself moves no time
      step(250);
    }
    pace.press('toggle');
    step(1000);
    expect(clock.now()).toBe(expected); // paused: no time passes
    pace.press('toggle');
    // A moment slows it down, without a jump.
    const store = running();
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'slow' } });
    const t = clock.now();
    pace.observe(store.getState());
    expect(clock.now()).toBe(t);
    expect(clock.speed).toBe(60);
    step(500);
  });
});
