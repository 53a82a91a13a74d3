// Issue 16 on the screen (ink-testing-library frames at 80x24 and 120x40): a verdict shown is the
// current one or marked stale, nothing is hidden without saying so, the safety-critical facts fit
// 80x24, refusals look like refusals, and the pods table keeps its columns.
import { vi, describe, it, expect, afterEach } from 'vitest';
vi.hoisted(() => {
  process.env['FORCE_COLOR'] = '1';
  delete process.env['NO_COLOR'];
});
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { computeLayout } from '../components/layout.js';
import type { PodInfo } from '../src/engine/types.js';
import { loadPlan, makeStore, manyPods, MIN, OPERATOR, runningScenario, samples, T0, type TestStore } from './helpers/state.js';
import { Driver, HEALTHY, HOUR } from './helpers/drive.js';

afterEach(() => cleanup());

const tick = () => new Promise<void>((r) => setImmediate(r));
const settle = async () => {
  await tick();
  await tick();
};
const plain = (frame: string | undefined) => stripVTControlCharacters(frame ?? '');

async function show(store: TestStore, columns: number, rows: number) {
  const plan = loadPlan();
  const r = sized(render(<App plan={plan} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={() => undefined} />), columns, rows);
  await settle();
  return { frame: () => plain(r.lastFrame()), raw: () => r.lastFrame() ?? '', write: (s: string) => r.stdin.write(s) };
}

function running(minutes = 90): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, minutes);
  return store;
}

/** The pane at `top`/`left` of a frame, by the layout: its lines, borders included. */
function region(frame: string, box: { top: number; left: number; width: number; height: number }): string[] {
  return frame
    .split('\n')
    .slice(box.top, box.top + box.height)
    .map((l) => [...l].slice(box.left, box.left + box.width).join(''));
}

async function rollBack(ui: Awaited<ReturnType<typeof show>>): Promise<void> {
  ui.write('R');
  ui.write('y');
  await settle();
}

describe('issue 16 item 5: a verdict shown is the current one, or marked stale', () => {
  it('after a rollback the SLIs title no longer says "judgment ✓ pass"; it says the pass is from before the rollback', async () => {
    const store = running();
    const ui = await show(store, 120, 40);
    expect(ui.frame()).toMatch(/judgment ✓ pass 100/);
    await rollBack(ui);
    expect(store.getState().status).toBe('rolled-back');
    const f = ui.frame();
    expect(f).not.toMatch(/judgment ✓/);
    expect(f).toMatch(/judgment ⌛ was pass 100, before the rollback/);
  });

  it("a row's verdict is the engine's last analysis: a sample arriving between analyses does not turn its 'no data' into ✓", async () => {
    const store = running(30);
    // 11 minutes without availability data: the engine's analysis says no data (it holds the gate)
    for (let i = 1; i <= 11; i++) {
      store.clock.t += MIN;
      store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(i).filter((s) => s.sli !== "availability") });
    }
    expect(store.getState().criteria.find((c) => c.sli === 'availability')!.verdict).toBe('no-data');
    // 30 s later a value arrives; the next analysis is 30 s away
    store.clock.t += 30_000;
    store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(0).filter((s) => s.sli === "availability") });
    expect(store.getState().criteria.find((c) => c.sli === 'availability')!.verdict).toBe('no-data');
    const ui = await show(store, 120, 40);
    const row = ui.frame().split('\n').find((l) => l.includes('Availability'))!;
    expect(row).toMatch(/ \? +\d+s/);
    expect(row).not.toMatch(/ ✓ +\d+s/);
  });
});

/** A store whose rollout rolled back at 25% (latency over the 1000 ms trigger), through the engine
 * with the simulated crew, replayed into a console store. */
function rolledBackAt25(): TestStore {
  const plan = loadPlan();
  const d = new Driver(plan, { start: T0 });
  d.canary = (st) => (st.phaseIndex === 2 && st.stepBakeMs > 2 * HOUR ? { ...HEALTHY, latency_p95: 800 } : HEALTHY); // 3.6x baseline: the breaker, its long reason
  d.runFor(12 * 24 * HOUR, (st) => st.status === 'rolled-back');
  expect(d.state.status).toBe('rolled-back');
  expect(d.state.rollback!.fromWeight).toBe(25);
  const store = makeStore(plan, T0);
  for (const e of d.events) store.dispatch(e);
  store.clock.t = d.now;
  return store;
}

describe('issue 16 item 6: nothing is hidden without saying so', () => {
  for (const [cols, rows] of [
    [120, 40],
    [80, 24],
  ] as const) {
    it(`after a rollback at 25%, at ${cols}x${rows}, the 1% and 5% phases are still in the Phases pane`, async () => {
      const ui = await show(rolledBackAt25(), cols, rows);
      const layout = computeLayout(cols, rows, 5);
      const phases = region(ui.frame(), { top: 0, left: 0, width: layout.phases.width, height: layout.phases.height }).join('\n');
      // each phase's weight, on its row or in the strip (5% must not be the end of 25%)
      for (const w of ['1%', '5%', '25%', '50→75→90→100%']) expect(phases).toMatch(new RegExp(`(^|[^0-9])${w}`, 'm'));
      expect(phases).toContain('ROLLED BACK from 25%');
    });
  }

});

describe('issue 16 item 7: at 80x24 the safety-critical facts are all on screen', () => {
  it('phase, weight, verdict and why, the canary/baseline labels, the safety counters, the rollback key', async () => {
    const ui = await show(running(), 80, 24);
    const f = ui.frame();
    expect(f).toContain('Canary 1%: internal validation'); // phase
    expect(f).toMatch(/RUNNING +1%/); // weight
    expect(f).toMatch(/judgment ✓ pass 100/); // verdict
    expect(f).toMatch(/canary +baseline +target/); // which number is whose
    expect(f).toMatch(/critical 0 ✓/); // safety counters
    expect(f).toMatch(/R:?[ ]?rollback/); // the rollback key
    for (const w of ['5%', '25%', '50→75→90→100%']) expect(f).toMatch(new RegExp(`(^|[^0-9])${w}`, 'm')); // the later phases
  });

  it('an open incident and who is paged; a long status message is not cut', async () => {
    const store = running();
    const ui = await show(store, 80, 24);
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'search slow' } });
    await settle();
    let f = ui.frame();
    expect(f).toMatch(/● INC-1 P1/);
    expect(f).toMatch(/paged .*Ben Okafor|Ben Okafor.*paged|sre-primary/);
    await rollBack(ui);
    f = ui.frame();
    // the reminder after an SRE's rollback, whole: it names the deadline
    const text = f.replace(/\n +/g, ' ');
    expect(text).toMatch(/rolled back as sre; stakeholders must be notified within\s+15m/);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });
});

describe('issue 16 item 8: a refusal reads as one', () => {
  it('A with no role the gate needs: "✗ … holds none of the roles", in the refusal colour, not like a success', async () => {
    const ui = await show(running(), 120, 40);
    ui.write('A');
    await settle();
    expect(ui.frame()).toMatch(/✗ Ana Ortiz holds none of the roles Canary 5%: early adopters still needs/);
    // red (SGR 31) right before the refusal text
    expect(ui.raw()).toMatch(/\u001B\[31m(\u001B\[1m)? ?✗ Ana Ortiz holds none/);
  });

});

describe('issue 16 item 14: the pods table keeps its columns; unhealthy pods first', () => {
  it('at 120x40 the header is the same with the canary pods, without them (after a rollback) and with a crash-looping pod', async () => {
    const store = running();
    // every pod healthy, short names, and one canary pod with a long name (until the rollback)
    const fleet = (region: string) => manyPods(30, region).map((p) => ({ ...p, track: 'stable' as const, ready: true, reason: 'Running', name: p.name.replace('orchestrator-canary', 'orchestrator-stable') }));
    for (const r of ['us-west-2', 'eu-west-1']) store.dispatch({ type: 'pods.sync', at: store.clock.t, region: r, pods: fleet(r) });
    const stable = fleet('us-east-1');
    const canary: PodInfo = { ...stable[0]!, key: 'x/canary', name: 'orchestrator-canary-pshns-khjlq', track: 'canary' };
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'us-east-1', pods: [canary, ...stable] });
    const ui = await show(store, 120, 40);
    const header = () => ui.frame().split('\n').find((l) => l.includes('NAME'))!.split('││')[0]!;
    const before = header();
    await rollBack(ui);
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'us-east-1', pods: stable });
    await settle();
    const after = header();
    const crash: PodInfo = { ...manyPods(1, 'eu-west-1')[0]!, key: 'x/crash', name: 'orchestrator-stable-crash1', track: 'stable', ready: false, reason: 'ImagePullBackOff' };
    store.dispatch({ type: 'pods.delta', at: store.clock.t, upserts: [crash], deletes: [] });
    await settle();
    expect(after).toBe(before);
    expect(header()).toBe(before);
    expect(before).toMatch(/NAME +TRACK/);
  });

  it('with 900 pods the two not ready ones are the first rows', async () => {
    const store = running();
    const pods = manyPods(900, 'us-east-1').map((p) => ({ ...p, ready: true, reason: 'Running' }));
    pods[880] = { ...pods[880]!, ready: false, reason: 'Running' };
    pods[881] = { ...pods[881]!, ready: false, phase: 'Pending', reason: 'Pending' };
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'us-east-1', pods });
    const ui = await show(store, 120, 40);
    const rows = ui.frame().split('\n').filter((l) => /│[ ✗!] orchestrator/.test(l));
    expect(rows[0]).toMatch(/^│! /);
    expect(rows[1]).toMatch(/^│! /);
    expect(rows[2]).toMatch(/^│ {2}/);
  });
});

describe('issue 16 item 1 at the keyboard: the declare dialog says the kind; an immediate kind asks y, then rolls back', () => {
  const DOWN = '\u001B[B';
  it('i, ↓ to "security_breach", a summary, enter: a confirmation; n returns to the draft; y rolls back with the person and the summary', async () => {
    const store = running();
    const ui = await show(store, 120, 40);
    ui.write('i');
    await settle();
    expect(ui.frame()).toMatch(/Kind +Other/);
    ui.write(DOWN);
    await settle();
    expect(ui.frame()).toMatch(/Kind +Security breach - ROLLS BACK AT ONCE/);
    for (const ch of 'token leaked') ui.write(ch);
    await settle();
    ui.write('\r');
    await settle();
    expect(ui.frame()).toContain('Declare and roll back');
    expect(store.getState().status).toBe('running');
    ui.write('n');
    await settle();
    expect(ui.frame()).toMatch(/Summary +token leaked/); // the draft is back
    ui.write('\r');
    await settle();
    ui.write('y');
    await settle();
    const s = store.getState();
    expect(s.status).toBe('rolled-back');
    expect(s.rollback!.reason).toBe('immediate rollback: Security breach (security_breach): INC-1 P0 declared by Ana Ortiz - token leaked');
    expect(s.incidents.map((i) => [i.id, i.kind, i.openedBy])).toEqual([['INC-1', 'security_breach', 'Ana Ortiz']]);
  });

  it('an ordinary kind declares at enter and leaves traffic where it is', async () => {
    const store = running();
    const ui = await show(store, 120, 40);
    ui.write('i');
    await settle();
    for (const ch of 'search slow') ui.write(ch);
    ui.write('\r');
    await settle();
    expect(store.getState().incidents).toHaveLength(1);
    expect(store.getState().status).toBe('running');
  });
});
