// Evidence rules 3 (review 3, defects 3, 5 and 6), at the engine and the plan:
// - a canary that serves no requests never passes a gate (the plan's traffic SLI, fresh and above
//   zero, with traffic on; nothing changes before traffic);
// - no valid evidence past noDataAfter, whether no data or invalid data, is said and paged once;
// - the canary's label value differs from the stable fleet's and the baseline's, or validate refuses.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlanText } from '../src/plan/loader.js';
import { trafficSli } from '../src/plan/traffic-sli.js';
import { serverPlan } from '../src/wiring/plan.js';
import { gateView } from '../src/engine/gates.js';
import type { Effect, RolloutState } from '../src/engine/types.js';
import { Driver, HEALTHY, HOUR, MIN, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const SEED = readFileSync(join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml'), 'utf8');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const pages = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'notify' }> => e.type === 'notify' && e.kind === 'gate' && e.severity === 'critical');

/** The seed's crew drives; the canary at 1% (its first step confirmed and baked an hour). */
function atOnePercent(): Driver {
  const d = new Driver(plan);
  d.runFor(3 * 24 * HOUR, (s) => s.desiredWeight === 1 && s.stepBakeMs >= HOUR);
  expect([d.state.status, d.state.desiredWeight]).toEqual(['running', 1]);
  return d;
}

describe('a canary that serves no requests never passes a gate', () => {
  it('request_rate 0 with every other SLI healthy: the first gate opens (no traffic yet), then 1% holds, says so, and moves on once requests come', () => {
    const d = new Driver(plan);
    let serving = false;
    d.canary = (s) => ({ ...HEALTHY, request_rate: s.desiredWeight > 0 && serving ? 8 : 0 });
    d.runFor(6 * 24 * HOUR, (s) => s.desiredWeight > 1);
    // Before traffic nothing changed: the first gate opened on the stable fleet's answers.
    expect(d.state.startedAt).not.toBeNull();
    // Six days at 1% (the minimum bake is 24h, checkpoints were answered by the crew): never 5%.
    expect([d.state.status, d.state.desiredWeight]).toEqual(['running', 1]);
    expect(d.effects.filter((e) => e.type === 'set-weight').map((e) => (e as { weight: number }).weight)).toEqual([1]);
    expect(d.state.holds).toContain('canary serves no requests: 0/s (request_rate)');
    expect(gateView(plan, d.state).blockers).toContain('canary serves no requests: 0/s (request_rate): nothing to judge, so no gate opens');
    serving = true;
    d.runFor(24 * HOUR, (s) => s.desiredWeight === 5);
    expect(d.state.desiredWeight).toBe(5);
  });

  it('a traffic SLI with no valid answer holds too, and the hold says which SLI', () => {
    const d = atOnePercent();
    d.canary = () => ({ ...HEALTHY, request_rate: null });
    d.runFor(2 * MIN);
    expect(d.state.holds).toContain('canary traffic (request_rate): no data (never counted as a pass)');
    expect(gateView(plan, d.state).blockers).toContain('request_rate: no data (never counted as a pass)');
  });

  it('the traffic SLI is analysis.trafficSli, else the only SLI with unit rps; none, or several unnamed: none', () => {
    const slis = [
      { name: 'a', unit: 'percent' },
      { name: 'r', unit: 'rps' },
    ];
    expect(trafficSli({ slis, analysis: {} })).toBe('r');
    expect(trafficSli({ slis: [...slis, { name: 'q', unit: 'rps' }], analysis: {} })).toBeNull();
    expect(trafficSli({ slis: [...slis, { name: 'q', unit: 'rps' }], analysis: { trafficSli: 'q' } })).toBe('q');
    expect(trafficSli({ slis: [slis[0]!], analysis: {} })).toBeNull();
    expect(trafficSli(plan)).toBe('request_rate');
  });
});

describe('no valid evidence past noDataAfter: invalid data ends like no data', () => {
  const cases: [string, number | null, RegExp][] = [
    ['NaN (invalid data)', Number.NaN, /availability \(invalid value NaN: NaN is not a finite number\) for 1[01]m/],
    ['an empty answer (no data)', null, /availability \(no data\) for 1[01]m/],
  ];
  for (const [what, value, named] of cases)
    it(`canary availability ${what} for longer than noDataAfter (10m): said and paged once, and said again when it is back`, () => {
      const d = atOnePercent();
      const before = d.effects.length;
      d.canary = () => ({ ...HEALTHY, availability: value });
      d.runFor(9 * MIN);
      expect(pages(d.effects.slice(before))).toEqual([]);
      d.runFor(50 * MIN);
      const paged = pages(d.effects.slice(before));
      expect(paged).toHaveLength(1);
      expect(paged[0]!.message).toMatch(new RegExp(`no valid evidence past noDataAfter \\(10m\\) at 1%: ${named.source}; the canary is not watched`));
      expect(d.state.evidenceGone).toMatchObject({ slis: ['availability'] });
      expect(d.state.history.some((h) => h.kind === 'hold' && named.test(h.text) && h.text.includes('roll back (R y)'))).toBe(true);
      d.canary = () => HEALTHY;
      d.minute();
      expect(d.state.evidenceGone).toBeNull();
      expect(d.state.history.at(-1)!.text).toBe('valid evidence again for availability');
    });

  it('a rollout under rules 2 (journaled before them) neither pages nor holds on the traffic floor', () => {
    const d = new Driver(plan);
    d.state = { ...d.state, rules: 2 } as RolloutState;
    d.canary = () => ({ ...HEALTHY, request_rate: 0, availability: Number.NaN });
    d.runFor(3 * 24 * HOUR, (s) => s.desiredWeight === 1 && s.stepBakeMs >= 2 * HOUR);
    expect(pages(d.effects)).toEqual([]);
    expect(d.state.evidenceGone).toBeNull();
    expect(d.state.holds).not.toContain('canary serves no requests: 0/s (request_rate)');
  });
});

describe("the canary's label value is its own", () => {
  const at = lineOf(SEED, 'tracks: { canary: canary, baseline: baseline }');
  const load = (text: string) => loadPlanText(text, 'p.yaml');

  it('canary = stable (tracks { canary: stable }): refused at file:line:col, saying why and what to do', () => {
    const r = load(SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: stable, baseline: baseline }'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: at, path: 'analysis.tracks.canary' });
    expect(r.errors[0]!.message).toMatch(/^the canary's label value "stable" is the stable fleet's too \(the track label of target\.selectors\.stable\): the canary's queries would read the stable fleet.*; set analysis\.tracks\.canary to the label value the canary's pods carry \(e\.g\. canary\)$/);
  });

  it('canary = baseline, and canary = an explicit analysis.tracks.stable: refused; baseline = stable stays valid', () => {
    const same = load(SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: canary, baseline: canary }'));
    expect(same.ok ? [] : same.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^the canary's label value "canary" is the baseline's too \(analysis\.tracks\.baseline\): every "x baseline" rule and the judgment would compare the canary with itself/)]);
    const stable = load(SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: prod, baseline: baseline, stable: prod }'));
    expect(stable.ok ? [] : stable.errors.map((e) => e.message)).toEqual([expect.stringMatching(/^the canary's label value "prod" is the stable fleet's too \(analysis\.tracks\.stable\)/)]);
    expect(load(SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: canary, baseline: stable }')).ok).toBe(true);
  });

  it("a war-room server's plan with canary = stable does not load in a joined console (validated here, whatever the server ran)", async () => {
    const text = SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: stable, baseline: stable }');
    await expect(serverPlan(text, 'ws://127.0.0.1:1', {})).rejects.toThrow(/the server's plan does not load here: ws:\/\/127\.0\.0\.1:1 \(plan\):\d+:\d+: analysis\.tracks\.canary: the canary's label value "stable" is the stable fleet's too/);
  });
});

describe('validate: the traffic SLI', () => {
  const load = (text: string) => loadPlanText(text, 'p.yaml');
  const noRps = SEED.replace('unit: rps', 'unit: count');

  it('no SLI with unit rps: valid, with a warning at the SLIs that says what a canary serving nothing would do and what to add', () => {
    const r = load(noRps);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings?.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([expect.stringMatching(new RegExp(`^${SEED.split('\n').indexOf('slis:') + 2} slis: no SLI has unit rps, so no gate can tell that the canary serves requests: .*add one that counts the canary's requests per second`))]);
  });

  it('several SLIs with unit rps and none named, an unknown one, one not in rps: refused, each where it is', () => {
    const two = SEED.replace('unit: count\n    direction: lower-is-better\n    seedQuery: rate(safety_violations_total[5m])', 'unit: rps\n    direction: lower-is-better\n    seedQuery: rate(safety_violations_total[5m])');
    expect(two).not.toBe(SEED);
    const r = load(two);
    expect(r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['slis[5].unit: several SLIs have unit rps (request_rate, safety_violations): say which one counts the canary\'s requests with analysis.trafficSli (no gate opens while it reads 0)']);
    expect(load(two.replace('invalidData: hold', 'invalidData: hold\n  trafficSli: request_rate')).ok).toBe(true);
    const unknown = load(SEED.replace('invalidData: hold', 'invalidData: hold\n  trafficSli: requests'));
    expect(unknown.ok ? [] : unknown.errors.map((e) => `${e.line} ${e.path}: ${e.message}`)).toEqual([expect.stringMatching(new RegExp(`^${lineOf(SEED, 'invalidData: hold') + 1} analysis\\.trafficSli: unknown SLI "requests"; expected one of: availability, `))]);
    const pct = load(SEED.replace('invalidData: hold', 'invalidData: hold\n  trafficSli: availability'));
    expect(pct.ok ? [] : pct.errors.map((e) => e.message)).toEqual(['SLI "availability" has unit percent; the traffic SLI counts the canary\'s requests per second (unit: rps), and no gate opens while it reads 0']);
  });
});
