// An idle console renders nothing that did not change on screen (issue 18, idle): each pane
// subscribes to the store by itself and redraws when a field other than the clock changed or when
// the times it shows changed (T+, a bake, a pod's age), not on every tick of the clock. Counted
// as renders of each pane (its component wrapped by a counter) and as frames Ink drew.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createElement, type ComponentType } from 'react';
import { render, cleanup } from 'ink-testing-library';

const renders = vi.hoisted(() => ({ counts: new Map<string, number>() }));
// Each pane as App imports it, wrapped by a component that counts how often App's tree asks it to render.
function counted<P extends object>(name: string, Inner: ComponentType<P>): ComponentType<P> {
  return function Counted(props: P) {
    renders.counts.set(name, (renders.counts.get(name) ?? 0) + 1);
    return createElement(Inner, props);
  };
}
vi.mock('../components/PhasesPane.js', async (orig) => {
  const m = await orig<typeof import('../components/PhasesPane.js')>();
  return { ...m, PhasesPane: counted('phases', m.PhasesPane) };
});
vi.mock('../components/SliPane.js', async (orig) => {
  const m = await orig<typeof import('../components/SliPane.js')>();
  return { ...m, SliPane: counted('slis', m.SliPane) };
});
vi.mock('../components/PodsPane.js', async (orig) => {
  const m = await orig<typeof import('../components/PodsPane.js')>();
  return { ...m, PodsPane: counted('pods', m.PodsPane) };
});
vi.mock('../components/RosterPane.js', async (orig) => {
  const m = await orig<typeof import('../components/RosterPane.js')>();
  return { ...m, RosterPane: counted('roster', m.RosterPane) };
});
vi.mock('../components/StatusBar.js', async (orig) => {
  const m = await orig<typeof import('../components/StatusBar.js')>();
  return { ...m, StatusBar: counted('status', m.StatusBar) };
});

import { App } from '../components/App.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { sized } from './helpers/sized.js';
import { CHLOE, loadPlan, makeStore, runningScenario, T0 } from './helpers/state.js';

const PANES = ['phases', 'slis', 'pods', 'roster', 'status'] as const;
const snapshot = () => Object.fromEntries(PANES.map((p) => [p, renders.counts.get(p) ?? 0]));
const since = (before: Record<string, number>) => Object.fromEntries(PANES.map((p) => [p, (renders.counts.get(p) ?? 0) - before[p]!]));
const settle = () => new Promise((r) => setTimeout(r, 5));

afterEach(() => cleanup());

describe('idle console: a pane renders only when what it shows changed', () => {
  const plan = loadPlan();
  const traffic: TrafficActuator = { name: 'none', setWeight: async (w) => ({ weight: w, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };

  it('a pending rollout in real time: 10 seconds of clock ticks render no pane and draw no frame', async () => {
    let now = T0;
    const rt = new Runtime({ plan, clock: { now: () => now, speed: 1 }, traffic, tickMs: 0 });
    rt.start();
    const ui = sized(render(<App plan={plan} store={rt} actor={CHLOE} now={() => now} />), 120, 40);
    await settle();
    const screen = ui.lastFrame();
    expect(screen).toContain('PENDING');
    const before = snapshot();
    const frames = ui.frames.length;
    for (let i = 0; i < 40; i++) {
      now += 250; // the source's 4 polls a second, for 10 seconds
      rt.dispatch({ type: 'tick', at: now });
      await settle();
    }
    expect(since(before)).toEqual({ phases: 0, slis: 0, pods: 0, roster: 0, status: 0 });
    expect(ui.frames.length).toBe(frames);
    // and something that is shown still draws at once
    rt.dispatch({ type: 'command', at: now, actor: CHLOE, command: { kind: 'pause' } });
    await settle();
    expect(ui.frames.length).toBeGreaterThan(frames);
    rt.stop();
  });

  it('a running rollout: the status bar redraws exactly when its line changes (T+, the data age); panes whose times did not change do not', async () => {
    const store = makeStore(plan, T0);
    let t = runningScenario(store, 3);
    const ui = sized(render(<App plan={plan} store={store} actor={CHLOE} now={() => t} />), 120, 40);
    await settle();
    const statusLine = () => (ui.lastFrame() ?? '').split('\n').at(-1)!;
    const tplus = () => /T\+(\S+)/.exec(statusLine())?.[1];
    expect(tplus()).toBeDefined();
    const before = snapshot();
    const seen = new Set([tplus()]);
    let changes = 0;
    let line = statusLine();
    for (let i = 0; i < 20; i++) {
      t += 250; // the store tells its views of every tick (no coalescing here): 4 a second, 5 seconds
      store.dispatch({ type: 'tick', at: t });
      await settle();
      seen.add(tplus());
      if (statusLine() !== line) changes++;
      line = statusLine();
    }
    const n = since(before);
    expect(seen.size).toBe(6); // T+ moved on each of the 5 seconds, on screen
    expect(changes).toBeGreaterThanOrEqual(5);
    expect(n.status).toBe(changes);
    // the pods' ages are minutes and days, the roster shows who is on call to the minute
    expect(n.pods).toBe(0);
    expect(n.roster).toBe(0);
    // the phases pane's bake and the SLIs' ages move at most on each of their clocks' seconds
    expect(n.phases).toBeLessThanOrEqual(10);
    expect(n.slis).toBeLessThanOrEqual(10);
  });
});
