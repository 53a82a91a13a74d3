// Issue 16 item 7 on the wall (blessed-contrib, offscreen): at 120x40 every region of the plan is
// in the pods table, and after a rollback the phase box says the weight is 0%, not "step 1/1 at 1%".
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startWall, wallModel, type Wall, type WallOutput } from '../components/Wall.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0 } from './helpers/state.js';

const plan = loadPlan();
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function screenStream(columns: number, rows: number): WallOutput {
  return Object.assign(new PassThrough(), { columns, rows, isTTY: true });
}

describe('issue 16: the wall', () => {
  it('at 120x40 the pods table has every region of the plan', async () => {
    const store = makeStore(plan, T0);
    runningScenario(store, 20);
    const wall: Wall = await startWall({ plan, store, output: screenStream(120, 40), source: 'embedded', everyMs: 10 });
    cleanup.push(() => wall.destroy());
    const text = wall.text().join('\n');
    for (const r of plan.target.regions) expect(text).toMatch(new RegExp(`${r} +\\d+/\\d+`));
  });

  it('after a rollback the phase box says the weight went to 0%', () => {
    const store = makeStore(plan, T0);
    runningScenario(store, 20);
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'rollback' } });
    const m = wallModel(plan, store.getState());
    const phaseText = JSON.stringify(m);
    expect(phaseText).not.toContain('step 1/1 at 1%');
    expect(phaseText).toContain('ROLLED BACK from 1% to 0%');
  });
});
