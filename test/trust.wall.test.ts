// Issue 16 item 7 on the wall (blessed-contrib, drawn offscreen into a stream with columns, rows and
// isTTY; the frames are blessed's own screen buffer). At 80x24 every safety-critical fact is on the
// screen (phase, weight, the verdict and why, the rollback state, open incidents, who is paged, the
// connection and the age of the data) and decoration goes first; at 120x40 every region of the plan
// is in the pods table, with the same facts.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { fitFacts, startWall, wallFacts, wallLayout, type Wall, type WallLink, type WallOutput } from '../components/Wall.js';
import { CHLOE, loadPlan, makeStore, MIN, OPERATOR, runningScenario, samples, T0, type TestStore } from './helpers/state.js';

const plan = loadPlan();
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function screenStream(columns: number, rows: number): WallOutput {
  return Object.assign(new PassThrough(), { columns, rows, isTTY: true });
}

async function wallAt(store: TestStore, columns: number, rows: number, link?: WallLink): Promise<Wall> {
  const wall = await startWall({ plan, store, output: screenStream(columns, rows), source: 'embedded simulated world', everyMs: 5, ...(link ? { link } : {}) });
  cleanup.push(() => wall.destroy());
  return wall;
}

/** A joined wall whose server went away 20 s ago: the link says so and the wall must show it. */
function deadLink(): WallLink & { tell(): void; text: string } {
  const listeners = new Set<() => void>();
  const l = {
    text: '✗ RECONNECTING: connection refused · last update 20s ago',
    subscribe(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    line: () => ({ text: l.text, tone: 'bad' as const }),
    tell: () => {
      for (const fn of listeners) fn();
    },
  };
  return l;
}

/** A rollout in trouble: an error-rate breach rolled it back, a P0 is open and has paged people. */
function inTrouble(): TestStore {
  const store = makeStore(plan, T0);
  runningScenario(store, 20);
  store.dispatch({ type: 'command', at: store.clock.t, actor: CHLOE, command: { kind: 'declare-incident', severity: 'P0', summary: 'checkout 503s for EU customers' } });
  store.dispatch({ type: 'tick', at: store.clock.t + 1000 });
  store.clock.t += 1000;
  store.dispatch({ type: 'sli.samples', at: store.clock.t + MIN, samples: samples(21, { error_rate: 3.2 }) });
  store.clock.t += MIN;
  store.dispatch({ type: 'tick', at: store.clock.t });
  return store;
}

/** The screen's words in reading order: box edges gone, wrapped lines joined. */
function words(wall: Wall): string {
  return wall
    .text()
    .join('\n')
    .replace(/[│┌┐└┘─]/g, ' ')
    .replace(/\s+/g, ' ');
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('issue 16: the wall', () => {
  it('at 80x24 every safety-critical fact is on the screen, readable (no fact cut mid-word by a widget edge)', async () => {
    const store = inTrouble();
    const s = store.getState();
    expect(s.status).toBe('rolled-back');
    const link = deadLink();
    const wall = await wallAt(store, 80, 24, link);
    const text = words(wall);
    // the status, the weight and the rollback state, with its reason and who
    expect(text).toContain('ROLLED-BACK at 0%');
    expect(text).toMatch(/ROLLED BACK from 1% to 0% by canary at \d\d:\d\d: .*error/i);
    // the phase
    expect(text).toContain('Canary 1%: internal validation');
    // the verdict and why
    expect(text).toMatch(/judgment ⌛ was \w+.*before the rollback/);
    expect(text).toMatch(/✗ Error rate 3\.20%/);
    // the open incident and who is paged
    expect(text).toMatch(/● INC-1 P0 \S+ NOT ACKNOWLEDGED: checkout 503s for EU customers/);
    expect(text).toMatch(/paged: [A-Z][a-z]+ [A-Z][a-z]+, Dev Raman/);
    // the connection and the age of the data
    expect(text).toContain('✗ RECONNECTING: connection refused · last update 20s ago');
    expect(text).toMatch(/data \d+s/);
    // every line inside the screen, and no fact wrapped by blessed itself (its continuation
    // lines would lose the indent): a row of the facts box starts a fact or is indented
    const box = wall.text().filter((r) => r.startsWith('│'));
    expect(box.length).toBeGreaterThan(10);
    for (const row of box) expect(row.slice(1)).toMatch(/^( {2}| *$|ROLLED|RUNNING|●|✗|Canary|judgment|paged|no open|gate|Maestro|holds|notify)/);
    expect(wall.text()).toHaveLength(24);
    for (const row of wall.text()) expect(row.length).toBeLessThanOrEqual(80);
    // the age follows the link without a new state (a line exactly as wide as the box: blessed
    // would wrap it again by itself, so the wall breaks it one cell early, with the indent)
    link.text = '✗ RECONNECTING: connection refused · last update 21s ago · as viewer';
    link.tell();
    await until(() => words(wall).includes('last update 21s ago'), 'the wall redrawn on the link');
    for (const row of wall.text().filter((r) => r.startsWith('│'))) expect(row.slice(1)).toMatch(/^( {2}| *$|ROLLED|RUNNING|●|✗|Canary|judgment|paged|no open|gate|Maestro|holds|notify)/);
  });

  it('at 80x24 on a healthy run the facts come first and the charts use what is left', async () => {
    const store = makeStore(plan, T0);
    runningScenario(store, 20);
    const wall = await wallAt(store, 80, 24);
    const rows = wall.text();
    const text = rows.join('\n');
    expect(text).toContain('RUNNING at 1% · no rollback');
    expect(text).toContain('● embedded simulated world · data');
    expect(text).toMatch(/judgment .* · SLIs ✓ \d+\/\d+/);
    expect(text).toContain('no open incident');
    expect(text).toMatch(/[⠁-⣿]{5,}/); // a chart below
    expect(text.indexOf('RUNNING at 1%')).toBeLessThan(text.search(/[⠁-⣿]{5,}/));
  });

  it('at 120x40 the pods table has every region of the plan, and the same facts', async () => {
    const store = inTrouble();
    const wall = await wallAt(store, 120, 40, deadLink());
    const text = wall.text().join('\n');
    const flat = words(wall);
    for (const r of plan.target.regions) expect(text).toMatch(new RegExp(`${r} +\\d+/\\d+`));
    expect(text).toContain('ROLLED-BACK at 0%');
    expect(text).toMatch(/● INC-1 P0/);
    expect(flat).toMatch(/paged: .*Dev Raman/);
    expect(flat).toContain('RECONNECTING');
    expect(flat).toMatch(/✗ Error rate 3\.20%/);
    // the gauge is decoration: it gives way to the facts (the weight is in them)
  });

  it('the facts drop by priority, never the safety-critical ones first', () => {
    const store = inTrouble();
    const facts = wallFacts(plan, store.getState(), { text: '● connected · last update 1s ago', tone: 'ok' }, 'x');
    const few = fitFacts(facts, 76, 14).map((f) => f.text).join('\n');
    expect(few).toContain('ROLLED-BACK at 0%');
    expect(few).toContain('● connected');
    expect(few).toContain('INC-1');
    expect(few).not.toContain('Maestro Conductor'); // the title goes first
    // every layout fits the terminal
    for (const [c, r] of [[80, 24], [120, 40], [100, 30], [60, 20]] as const) {
      const l = wallLayout(c, r, { charts: 4, regions: 3, factLines: 12 });
      for (const rect of [l.facts, l.gauge, l.pods, l.people, ...l.charts]) {
        if (!rect) continue;
        expect(rect.left + rect.width).toBeLessThanOrEqual(c);
        expect(rect.top + rect.height).toBeLessThanOrEqual(r);
      }
    }
  });

  it('after a rollback the facts say the weight went to 0%, not "step 1/1 at 1%"', () => {
    const store = makeStore(plan, T0);
    runningScenario(store, 20);
    store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'rollback' } });
    const text = JSON.stringify(wallFacts(plan, store.getState(), null, 'embedded'));
    expect(text).not.toContain('step 1/1 at 1%');
    expect(text).toContain('ROLLED BACK from 1% to 0%');
  });
});
