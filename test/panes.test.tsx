// Three display defects of the console, each pinned by a test: sparklines drawn on an honest scale
// (the SLI's threshold and its ideal end, not the data's own min–max), the roster degrading
// gracefully on a small terminal (the escalation matrix stays), and pod names shown whole (or cut
// from the middle with …, keeping the distinctive suffix), not cut mid-name with ~.
import { describe, it, expect, afterEach } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { computeLayout } from '../components/layout.js';
import { abbreviateRegion, podModel, truncatePodName } from '../components/pods.js';
import { PodsPane, podColumns } from '../components/PodsPane.js';
import { RosterPane, rosterLines } from '../components/RosterPane.js';
import { sliLines } from '../components/SliPane.js';
import { BLOCKS, eitherFlag, scaledRange, sliScale, sparkCells, sparkRange, sparkRuns } from '../components/sparkline.js';
import { makeTheme } from '../components/theme.js';
import { whoIs } from '../src/engine/roster.js';
import type { Sli } from '../src/plan/schema.js';
import type { PodInfo } from '../src/engine/types.js';
import { loadPlan, makeStore, MIN, OPERATOR, pod, runningScenario, samples, T0, type TestStore } from './helpers/state.js';

afterEach(() => {
  cleanup();
});

const tick = () => new Promise<void>((r) => setImmediate(r));
const plain = (frame: string | undefined) => stripVTControlCharacters(frame ?? '');
const theme = makeTheme(false);

/** The App at `columns` x `rows`, as components.test.tsx renders it. */
async function showApp(store: TestStore, columns: number, rows: number): Promise<string> {
  const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={() => {}} />), columns, rows);
  await tick();
  await tick();
  return plain(r.lastFrame());
}

function running(): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, 10);
  return store;
}

const sliOf = (name: string): Sli => loadPlan().slis.find((s) => s.name === name)!;
/** The glyph levels (0 = ▁ … 7 = █) of the drawn cells, gaps and blanks left out. */
const levels = (cells: string[]) => cells.filter((c) => BLOCKS.includes(c)).map((c) => BLOCKS.indexOf(c));

describe('sparklines on an honest scale', () => {
  const availability = sliScale(sliOf('availability'), { op: '>=', value: 99.9 });
  const latency = sliScale(sliOf('latency_p95'), { op: '<', value: 500 });
  const errorRate = sliScale(sliOf('error_rate'), { op: '<', value: 0.1 });

  /** Draw canary and baseline on one scale, as the SLI pane does. */
  function draw(canary: number[], baseline: number[], scale: ReturnType<typeof sliScale>, width = 12) {
    const range = scaledRange(sparkRange(width, canary, baseline), scale);
    return { range, canary: sparkCells(canary, width, range), baseline: sparkCells(baseline, width, range) };
  }

  it('availability moving 99.95–99.97% with a 99.9% threshold draws only the top two glyph levels', () => {
    const canary = [99.95, 99.97, 99.96, 99.95, 99.97, 99.95, 99.96, 99.97, 99.95, 99.96, 99.97, 99.95];
    const baseline = [99.97, 99.96, 99.96, 99.97, 99.95, 99.96, 99.97, 99.97, 99.96, 99.95, 99.96, 99.97];
    const d = draw(canary, baseline, availability);
    // the scale reaches 100% and goes below the threshold
    expect(d.range!.max).toBe(100);
    expect(d.range!.min).toBeLessThan(99.9);
    for (const cells of [d.canary, d.baseline]) {
      expect(levels(cells)).toHaveLength(12);
      for (const l of levels(cells)) expect(l).toBeGreaterThanOrEqual(6); // ▇ or █
    }
    // on its own min–max the same noise would span the whole height
    expect(levels(sparkCells(canary, 12))).toContain(0);
    expect(levels(sparkCells(canary, 12))).toContain(7);
  });

  it('latency 200–230ms with a 500ms threshold stays in the lower half; a point at 1200ms is the top glyph', () => {
    const canary = [200, 210, 230, 220, 205, 215, 225, 200, 230, 210, 220, 215];
    const baseline = [205, 215, 225, 210, 200, 230, 220, 215, 205, 225, 210, 200];
    const d = draw(canary, baseline, latency);
    expect(d.range!.min).toBe(0);
    expect(d.range!.max).toBeGreaterThanOrEqual(500);
    for (const cells of [d.canary, d.baseline]) for (const l of levels(cells)) expect(l).toBeLessThanOrEqual(3); // ▁▂▃▄

    const spiked = [...canary.slice(1), 1200];
    const s = draw(spiked, baseline, latency);
    const cells = s.canary;
    expect(cells.at(-1)).toBe('█');
    // the rest of the canary line and the whole baseline (same scale) stay near the floor
    for (const l of levels(cells.slice(0, -1))) expect(l).toBeLessThanOrEqual(2);
    for (const l of levels(s.baseline)) expect(l).toBeLessThanOrEqual(2);
  });

  it('error-rate noise 0.02–0.05% under a 0.1% threshold is a flat line near the floor, not a spike', () => {
    const canary = [0.02, 0.05, 0.03, 0.02, 0.04, 0.05, 0.02, 0.03, 0.05, 0.02, 0.04, 0.03];
    const d = draw(canary, canary, errorRate);
    const ls = levels(d.canary);
    expect(Math.max(...ls)).toBeLessThanOrEqual(2);
    expect(Math.max(...ls) - Math.min(...ls)).toBeLessThanOrEqual(1);
  });

  it('a request rate (no threshold) keeps 0 on its scale', () => {
    const rps = sliScale(sliOf('request_rate'));
    const d = draw([800, 850, 900, 850], [820, 860, 880, 840], rps, 4);
    expect(d.range!.min).toBe(0);
    for (const l of levels(d.canary)) expect(l).toBeGreaterThanOrEqual(6);
  });

  it('points that miss the criterion are flagged (drawn in the bad tone)', () => {
    const values = [99.95, 99.96, 99.85, 99.97];
    const range = scaledRange(sparkRange(4, values), availability);
    const runs = sparkRuns(values, 4, range, eitherFlag(undefined, availability.miss));
    expect(runs.map((r) => r.flagged)).toEqual([false, true, false]);
    expect(runs[1]!.text).toHaveLength(1);
  });

  it('in the SLI pane: availability near the top, latency low, a 1200ms spike the top glyph in the bad tone', () => {
    const store = running();
    const plan = loadPlan();
    const rowOf = (title: string) => {
      const lines = sliLines(plan, store.getState(), 72, 12, true);
      return lines.find((l) => l.segs.some((s) => s.text.startsWith(title)))!;
    };
    const sparkText = (segs: { text: string }[]) => segs.map((s) => s.text).join('');
    // samples(): availability 99.97 canary and baseline; latency 320±40 canary, 300±20 baseline
    const avail = sparkText(rowOf('Availability').segs);
    expect(levels([...avail]).length).toBeGreaterThan(8);
    for (const l of levels([...avail])) expect(l).toBeGreaterThanOrEqual(6);
    const lat = sparkText(rowOf('Latency p95').segs);
    for (const l of levels([...lat])) expect(l).toBeLessThanOrEqual(3);

    store.clock.t += MIN;
    store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(50, { latency_p95: 1200 }) });
    const segs = rowOf('Latency p95').segs;
    const top = segs.filter((s) => s.text.includes('█'));
    expect(top).toHaveLength(1); // the canary's newest point; the baseline never gets there
    expect(top[0]!.text).toBe('█');
    expect(top[0]!.tone).toBe('bad');
  });
});

describe('roster at 80x24', () => {
  const plan = loadPlan();
  const box = computeLayout(80, 24).roster;

  it('shows the on-call compactly and a line for every severity, cut with … rather than dropped', async () => {
    const { lastFrame } = render(<RosterPane plan={plan} now={T0} width={box.width} height={box.height} focused={false} theme={theme} />);
    const lines = plain(lastFrame()).split('\n');
    expect(lines).toHaveLength(box.height);
    const body = lines.slice(1, -1).map((l) => l.slice(1, -1));
    const primary = whoIs(plan, 'sre-primary', T0).person!;
    expect(body[0]).toBe(`Primary ${primary.name} ${primary.slack}`.padEnd(box.width - 2));
    for (const sev of ['P0', 'P1', 'P2']) expect(body.some((l) => l.startsWith(`${sev} now `))).toBe(true);
    const p0 = body.find((l) => l.startsWith('P0'))!;
    expect(p0).toMatch(/^P0 now sre-primary,eng-lead/);
    expect(p0.trimEnd()).toMatch(/…$/);
    expect(body.join('\n')).not.toContain('until');
  });

  it('in the App at 80x24, P0, P1 and P2 all appear beside the phases', async () => {
    const f = await showApp(running(), 80, 24);
    const roster = f
      .split('\n')
      .slice(0, computeLayout(80, 24).roster.height)
      .map((l) => l.slice(computeLayout(80, 24).phases.width));
    expect(roster[0]).toContain('Roster');
    for (const sev of ['P0', 'P1', 'P2']) expect(roster.some((l) => l.startsWith(`│${sev} now `))).toBe(true);
    expect(roster.some((l) => l.startsWith('│Primary '))).toBe(true);
  });

  it('keeps the full layout when it fits, and fills spare rows with the steps of P0 first', () => {
    const text = (w: number, h: number) => rosterLines(plan, T0, w, h).map((l) => l.segs.map((s) => s.text).join(''));
    const full = text(44, Number.POSITIVE_INFINITY);
    expect(full.some((l) => l.includes('until'))).toBe(true);
    expect(full).toContain('P0 Service Down: now sre-primary, eng-lead');
    expect(text(44, full.length)).toEqual(full);
    const nine = text(30, 9);
    expect(nine).toHaveLength(9);
    expect(nine).toContain('   15m product-lead,cto');
    for (const sev of ['P0', 'P1', 'P2']) expect(nine.some((l) => l.startsWith(`${sev} now`))).toBe(true);
    // tinier still: the primary and the severities outrank the other people
    expect(text(30, 4).map((l) => l.slice(0, 3))).toEqual(['Pri', 'P0 ', 'P1 ', 'P2 ']);
  });
});

describe('pod names', () => {
  const simPods = (): PodInfo[] => [
    pod('orchestrator-canary-pshns-khjlq', { track: 'canary', region: 'us-east-1' }),
    pod('orchestrator-7kppb-7tgp9', { region: 'us-east-1' }),
    pod('orchestrator-7kppb-9mnk9', { region: 'us-east-1' }),
    pod('orchestrator-7kppb-ctgjn', { region: 'us-east-1', restarts: 2 }),
  ];

  it('at 120x40 a canary pod’s full name is in the table, with no ~', async () => {
    const store = running();
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'us-east-1', pods: simPods() });
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'eu-west-1', pods: [pod('orchestrator-7kppb-lxbqt', { region: 'eu-west-1' })] });
    const f = await showApp(store, 120, 40);
    // issue 16: the columns are a function of the width only; at 120 columns REGION is short and NAME whole
    expect(f).toMatch(/│ {2}orchestrator-canary-pshns-khjlq +canary +use1 /);
    const rows = f.split('\n').filter((l) => /│[ ✗!] orchestrator/.test(l));
    expect(rows.length).toBe(5);
    for (const r of rows) expect(r).not.toMatch(/orchestrator\S*~/);
  });

  it('is cut from the middle with …, keeping the workload and the pod suffix', () => {
    expect(truncatePodName('orchestrator-canary-pshns-khjlq', 27)).toBe('orchestrator-canary-…-khjlq');
    expect(truncatePodName('orchestrator-canary-pshns-khjlq', 31)).toBe('orchestrator-canary-pshns-khjlq');
    expect(truncatePodName('orchestrator-canary-pshns-khjlq', 12)).toBe('orches…khjlq'); // too narrow for the whole -suffix
    for (const w of [3, 8, 16, 20, 30]) expect(truncatePodName('orchestrator-canary-pshns-khjlq', w)).toHaveLength(w);
  });

  it('other columns give way first: RESTARTS, READY, REGION abbreviated, then STATUS; the same for a width whatever the pods', () => {
    const m = podModel(new Map(simPods().map((p) => [p.key, p] as const)));
    expect(m.nameWidth).toBe(31);
    const wide = podColumns(100, m);
    expect([wide.restartsLabel, wide.readyLabel, wide.regionLabel, wide.name >= 31]).toEqual(['RESTARTS', 'READY', 'REGION', true]);
    const c72 = podColumns(72, m); // the pods pane at 120 columns
    expect(c72.name).toBeGreaterThanOrEqual(31);
    expect([c72.restartsLabel, c72.readyLabel, c72.shortRegion, c72.status]).toEqual(['RST', 'RDY', true, 13]);
    const c66 = podColumns(66, m);
    expect([c66.shortRegion, c66.status, c66.name]).toEqual([true, 11, 27]);
    // issue 16: the canary pods gone (a rollback), a crash-looping one, 900 pods: the same columns
    const others = podModel(new Map([pod('orchestrator-7kppb-7tgp9', { region: 'us-east-1', reason: 'CrashLoopBackOff', ready: false })].map((p) => [p.key, p] as const)));
    for (const w of [60, 66, 72, 78, 100, 118]) expect(podColumns(w, others)).toEqual(podColumns(w, m));
    expect(abbreviateRegion('us-east-1')).toBe('use1');
    expect(abbreviateRegion('ap-southeast-2')).toBe('apse2');
    expect(abbreviateRegion('us-central1')).toBe('usc1');
    expect(abbreviateRegion('eastus')).toBe('eastus');
  });

  it('when a name truly does not fit, only that row gets … and the short names stay whole and ASCII', () => {
    const pods = simPods();
    const state = { ...running().getState() };
    const model = podModel(new Map(pods.map((p) => [p.key, p] as const)));
    const { lastFrame } = render(
      <PodsPane state={state} model={model} rows={model.rows} filter="" editingFilter={false} offset={0} width={68} height={8} focused={false} theme={theme} />,
    );
    const f = plain(lastFrame());
    const rows = f.split('\n').filter((l) => /│ {2}orch/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/│ {2}orchestrator-canary-…-khjlq canary use1 /);
    for (const r of rows.slice(1)) {
      expect(r).toMatch(/│ {2}orchestrator-7kppb-\w{5} /);
      expect(r.slice(1, -1)).toMatch(/^[\x20-\x7e]*$/);
    }
    expect(f).not.toContain('~');
  });

  it('cut names line their … up in one column, crash rows included, and the other columns stay whole', () => {
    const pods = [
      pod('orchestrator-canary-7d9f8-0000k', { track: 'canary', region: 'eu-west-1' }),
      pod('orchestrator-canary-7d9f8abc-1', { track: 'canary', region: 'eu-west-1' }), // a short -suffix
      pod('orchestrator-canary-7d9f8-0001e', { track: 'canary', region: 'eu-west-1', ready: false, reason: 'CrashLoopBackOff', restarts: 7 }),
      pod('orchestrator-canary-7d9f8-00028', { track: 'canary', region: 'eu-west-1' }),
      pod('orch-1', { region: 'us-east-1' }),
    ];
    const model = podModel(new Map(pods.map((p) => [p.key, p] as const)));
    const width = 68; // NAME gets 27 cells (issue 16: at 120x40 it gets 31, room for these names)
    const { lastFrame } = render(
      <PodsPane state={running().getState()} model={model} rows={model.rows} filter="" editingFilter={false} offset={0} width={width} height={9} focused={false} theme={theme} />,
    );
    const lines = plain(lastFrame()).split('\n');
    for (const l of lines) expect(l).toHaveLength(width);
    const rows = lines.filter((l) => /│[ ✗!] orch/.test(l));
    expect(rows).toHaveLength(5);
    const cut = rows.filter((r) => r.includes('…'));
    expect(cut).toHaveLength(4); // the long names (a crash among them), not orch-1
    expect(new Set(cut.map((r) => r.indexOf('…'))).size).toBe(1);
    // sorted by name; every cut name keeps 6 characters of its end (its -suffix, or more of a short one)
    // the crash first (issue 16: unhealthy first), then by name
    expect(cut.map((r) => r.match(/…(\S*)/)![1])).toEqual(['-0001e', '-0000k', '-00028', '8abc-1']);
    expect(rows.find((r) => r.includes("CrashLoopB"))).toMatch(/^│✗ orchestrator-canary-\S*…-0001e canary +euw1 .*CrashLoopB~ +7 /);
    expect(rows.find((r) => r.includes('orch-1 '))).toMatch(/^│ {2}orch-1 +stable +use1 /);
  });
});
