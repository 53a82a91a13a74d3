// Results of the engine's hot path, exactly: the analysis runs every minute of a plan, so its code
// is written for speed (objects built key by key, a scratch buffer for the Hodges-Lehmann
// differences, a rule's hold cleared only when set). These pin what that code must still give:
// the same keys in the same order (the journal, the war room and `status --json` serialize them),
// the same statistics whatever ran before, and a `for:` rule that starts over when its condition clears.
import { describe, expect, it } from 'vitest';
import { Driver, HEALTHY, MIN, loadSeedPlan } from './helpers/drive.js';
import { hodgesLehmann, median } from '../src/analysis/mannwhitney.js';
import { judge } from '../src/analysis/judge.js';
import type { Plan } from '../src/plan/schema.js';

const plan = loadSeedPlan();

const at1 = (p: Plan) => {
  const d = new Driver(p, { crew: false });
  d.observe();
  d.approve('canary-1', 'eng-lead', 'Dev Raman');
  d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
  d.command('advance');
  expect(d.state.desiredWeight).toBe(1);
  return d;
};

describe('the analysis of every minute, exactly', () => {
  it('criteria carry exactly their keys, in order: pass, fail, invalid with and without a raw value, no data, with and without a seed text', () => {
    // The last success criterion without its seed text: no `seed` key at all.
    const { seed: _s, ...noSeed } = plan.successCriteria[3]!;
    const p: Plan = { ...plan, successCriteria: [...plan.successCriteria.slice(0, 3), noSeed] };
    const d = at1(p);
    const t1 = d.now + MIN;
    d.canary = () => ({ ...HEALTHY, availability: Infinity, workflow_success_rate: 90 });
    d.send({
      type: 'sli.samples',
      at: t1,
      samples: [
        ...Object.entries(d.canary(d.state))
          .filter(([sli]) => sli !== 'memory_leaks')
          .map(([sli, value]) =>
            sli === 'latency_p95' ? { sli, track: 'canary' as const, value: null, error: 'query returned 2 series' } : { sli, track: 'canary' as const, value },
          ),
        ...Object.entries(HEALTHY).map(([sli, value]) => ({ sli, track: 'baseline' as const, value })),
      ],
    });
    const t0 = t1 - MIN; // memory_leaks' last sample: the round before
    expect(JSON.stringify(d.state.criteria)).toBe(
      JSON.stringify([
        { sli: 'availability', op: '>=', threshold: 99.9, at: t1, seed: '99.9%', value: null, verdict: 'invalid', raw: '+Inf', why: d.state.slis['availability']!.canaryNote!.why },
        { sli: 'latency_p95', op: '<', threshold: 500, at: t1, seed: '<500ms', value: null, verdict: 'invalid', why: d.state.slis['latency_p95']!.canaryNote!.why },
        { sli: 'error_rate', op: '<', threshold: 0.1, at: t1, seed: '<0.1%', value: 0.03, verdict: 'pass' },
        { sli: 'workflow_success_rate', op: '>', threshold: 99.5, at: t1, value: 90, verdict: 'fail' },
        { sli: 'critical_errors', op: '<=', threshold: 0, at: t1, seed: 'critical_errors: 0', value: 0, verdict: 'pass' },
        { sli: 'security_violations', op: '<=', threshold: 0, at: t1, seed: 'security_violations: 0', value: 0, verdict: 'pass' },
        { sli: 'data_integrity_failures', op: '<=', threshold: 0, at: t1, seed: 'data_integrity_failures: 0', value: 0, verdict: 'pass' },
        { sli: 'memory_leaks', op: '<=', threshold: 0, at: t0, seed: 'memory_leaks: 0', value: 0, verdict: 'pass' },
      ]),
    );
    expect(d.state.slis['availability']!.canaryNote!.why).toContain('+Inf');
    expect(d.state.slis['latency_p95']!.canaryNote!.why).toContain('query returned 2 series');
    // memory_leaks silent past analysis.noDataAfter (10m): no data, still saying when it was measured.
    d.canary = () => {
      const { memory_leaks: _m, ...rest } = HEALTHY;
      return rest;
    };
    for (let i = 0; i < 11; i++) d.minute();
    expect(JSON.stringify(d.state.criteria.find((c) => c.sli === 'memory_leaks'))).toBe(
      JSON.stringify({ sli: 'memory_leaks', op: '<=', threshold: 0, at: t0, seed: 'memory_leaks: 0', value: null, verdict: 'no-data' }),
    );
  });

  it('a for: rule starts over when its condition clears: service_unavailable needs 5 minutes of availability 0 in a row', () => {
    const p: Plan = { ...plan, rollback: { ...plan.rollback, automatic: [], circuitBreakers: [] } };
    const d = at1(p);
    d.canary = () => ({ ...HEALTHY, availability: 0 });
    for (let i = 0; i < 4; i++) d.minute();
    expect(Object.keys(d.state.holding)).toEqual(['service_unavailable']);
    const held = d.state.holding;
    d.canary = () => HEALTHY;
    d.minute();
    expect(d.state.holding).toEqual({});
    // A minute that changes nothing keeps the same object (views compare by reference).
    const cleared = d.state.holding;
    d.minute();
    expect(d.state.holding).toBe(cleared);
    expect(held).toEqual({ service_unavailable: expect.any(Number) }); // the old state's record is untouched
    d.canary = () => ({ ...HEALTHY, availability: 0 });
    const onset = d.now + MIN;
    for (let i = 0; i < 5; i++) d.minute();
    expect(d.state.status).toBe('running'); // 4 minutes into the second spell (the first spell's 4 do not count)
    expect(d.state.holding).toEqual({ service_unavailable: onset });
    d.minute();
    expect(d.state.rollback?.trigger?.rule).toBe('service_unavailable');
  });
});

describe('statistics do not depend on what ran before', () => {
  // Deterministic pseudo-random samples (no Math.random: a failure must reproduce).
  const lcg = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const sample = (n: number, r: () => number, shift = 0) => Array.from({ length: n }, () => Math.round((r() * 100 + shift) * 100) / 100);
  /** Hodges-Lehmann by the book: every difference, sorted. */
  const reference = (x: number[], y: number[], k: number) => {
    const d = x.flatMap((a) => y.map((b) => a - b)).sort((a, b) => a - b);
    const m = d.length;
    return { shift: m % 2 ? d[m >> 1]! : (d[m / 2 - 1]! + d[m / 2]!) / 2, lower: d[k - 1]!, upper: d[m - k]! };
  };

  it('Hodges-Lehmann: the same answer small after large, large after small, and past the first buffer size (40 x 40 differences)', () => {
    const r = lcg(7);
    const small = [sample(12, r), sample(12, r, 5)] as const;
    const large = [sample(40, r), sample(40, r, -3)] as const;
    const odd = [sample(3, r), sample(5, r)] as const;
    const first = hodgesLehmann(...small, 0.98);
    const big = hodgesLehmann(...large, 0.98);
    expect(big).toMatchObject(reference([...large[0]], [...large[1]], big.k));
    const again = hodgesLehmann(...small, 0.98);
    expect(again).toEqual(first);
    expect(first).toMatchObject(reference([...small[0]], [...small[1]], first.k));
    const o = hodgesLehmann(...odd, 0.8);
    expect(o).toMatchObject(reference([...odd[0]], [...odd[1]], o.k));
    expect(hodgesLehmann(...large, 0.98)).toEqual(big);
  });

  it('median and the judgment: the same result however often and in whatever order they run', () => {
    expect(median([3, -0, 1, 2])).toBe(1.5);
    expect(median([5, 1, 3])).toBe(3);
    const r = lcg(11);
    const metrics = [
      { name: 'latency_p95', group: 'latency', direction: 'lower-is-better' as const, canary: sample(12, r, 40), baseline: sample(12, r), allowedIncrease: 1.2 },
      { name: 'availability', group: 'availability', direction: 'higher-is-better' as const, critical: true, canary: sample(12, r), baseline: sample(12, r) },
    ];
    const input = { metrics, confidence: 0.98, thresholds: { pass: 95, marginal: 75 }, minSamples: 6 };
    const once = JSON.stringify(judge(input));
    judge({ ...input, metrics: [{ ...metrics[0]!, canary: sample(40, r), baseline: sample(40, r) }] });
    expect(JSON.stringify(judge(input))).toBe(once);
    expect(Object.keys(judge(input).metrics[0]!)).toEqual(['name', 'group', 'direction', 'critical', 'n', 'confidence', 'classification', 'outcome', 'median', 'ratio', 'shift', 'interval', 'p', 'u', 'uMin', 'method', 'explanation']);
    expect(Object.keys(judge({ ...input, minSamples: 20 }).metrics[0]!)).toEqual(['name', 'group', 'direction', 'critical', 'n', 'confidence', 'classification', 'outcome', 'median', 'ratio', 'shift', 'interval', 'p', 'u', 'uMin', 'method', 'explanation']);
  });
});
