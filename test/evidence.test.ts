// Traffic never moves on bad or missing evidence (issue 15, items 1-4): impossible values are
// invalid data, never a pass; no gate opens (approvals or not) unless every SLI it needs has a
// fresh valid value measured after the last confirmed weight change; a relative rule without a
// baseline says it cannot be evaluated; warnings and odd shapes are named on their SLI. The
// reproductions run the real PrometheusSource against a real HTTP server on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusClient } from '../src/sources/prometheus.js';
import { PrometheusSource, planQueries } from '../src/sources/prometheus-source.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import { gateView } from '../src/engine/gates.js';
import type { Effect } from '../src/engine/types.js';
import type { Plan } from '../src/plan/schema.js';
import { Driver, HEALTHY, MIN, loadSeedPlan, samples, tickEverything } from './helpers/drive.js';
import { canonicalJSON } from '../src/journal/canonical.js';

const plan = loadSeedPlan();
const withoutChecklists = ({ checklists: _c, ...phase }: Plan['phases'][number]) => phase;

// ---------------------------------------------------------------------------------------------
// a scripted Prometheus on 127.0.0.1 and a runtime around the real source

interface Fake {
  url: string;
  close(): Promise<void>;
}
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function fake(handler: (query: string, res: http.ServerResponse) => void): Promise<Fake> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    handler(u.searchParams.get('query') ?? '', res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const f = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  closers.push(f.close);
  return f;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
// Stamped now, as Prometheus stamps an instant query's answer with its evaluation time.
const one = (v: string, extra: Record<string, unknown> = {}) => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, v] }] }, ...extra });

/** Which SLI and track each query of a plan is. */
const byQuery = (p: Plan) => new Map(planQueries(p).map((q) => [q.promql, q]));

class RecordingTraffic implements TrafficActuator {
  readonly name = 'recording';
  weights: number[] = [];
  async setWeight(weight: number) {
    this.weights.push(weight);
    return { weight, detail: 'set' };
  }
  async rollback() {
    this.weights.push(0);
    return { weight: 0, detail: 'rolled back' };
  }
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function wire(url: string, p: Plan = plan) {
  const clock = new ManualClock(Date.parse('2026-11-30T14:00:00Z'));
  const client = new PrometheusClient({ url, timeoutMs: 2_000 });
  const source = new PrometheusSource({ plan: p, client, clock, periodMs: 60_000 });
  const traffic = new RecordingTraffic();
  const runtime = new Runtime({ plan: p, clock, sources: [source], traffic, tickMs: 0 });
  closers.push(() => client.close(), () => runtime.stop());
  const approveAndAdvance = () => {
    // The SRE lead has ticked the pre-deployment checklist (issue 17): these tests are about evidence.
    tickEverything({ send: (e) => runtime.dispatch(e), state: runtime.getState(), plan: p });
    const at = clock.now();
    runtime.dispatch({ type: 'approve', at, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    runtime.dispatch({ type: 'approve', at, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    runtime.dispatch({ type: 'command', at, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
  };
  const setWeights = () => runtime.effects.filter((e): e is Extract<Effect, { type: 'set-weight' }> => e.type === 'set-weight');
  return { clock, source, runtime, traffic, approveAndAdvance, setWeights };
}

describe('a failing or silent source holds every gate, approvals or not', () => {
  it('Prometheus answering 503: the approvals are taken, the gate stays shut and says why', async () => {
    const f = await fake((_, res) => json(res, 503, { status: 'error', errorType: 'unavailable', error: 'TSDB not ready' }));
    const w = wire(f.url);
    w.runtime.start();
    await until(() => w.runtime.getState().sources['prometheus']?.ok === false, 'the source to be reported failing');
    w.approveAndAdvance();
    const s = w.runtime.getState();
    expect(s.approvals['canary-1']).toHaveLength(2);
    expect(w.setWeights()).toEqual([]);
    expect(w.traffic.weights).toEqual([]);
    expect(s.status).toBe('pending');
    expect(s.history.at(-1)!.text).toMatch(/asked to advance: refused - .*source prometheus failing: .*HTTP 503 unavailable/);
    expect(s.history.at(-1)!.text).toContain('stable availability: inconclusive: Prometheus');
  });

  it('the first advance waits for the first answer: pressed before any query returned, it is refused; after, it goes out', async () => {
    const held: (() => void)[] = [];
    const queries = byQuery(plan);
    const f = await fake((q, res) => held.push(() => json(res, 200, one(String(HEALTHY[queries.get(q)!.sli]!)))));
    const w = wire(f.url);
    w.runtime.start();
    await until(() => held.length === queries.size, 'every query of the first round to arrive');
    w.approveAndAdvance();
    expect(w.setWeights()).toEqual([]);
    expect(w.runtime.getState().history.at(-1)!.text).toContain('stable availability: no data yet');
    held.splice(0).forEach((answer) => answer());
    await until(() => w.runtime.getState().slis['availability']!.stableNote !== null, 'the first round to be reduced');
    w.runtime.dispatch({ type: 'command', at: w.clock.now(), actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
    expect(w.setWeights().map((e) => e.weight)).toEqual([1]);
  });

  it('+Inf for availability is invalid data: shown raw, journaled as +Inf, never a pass, and the gate stays shut', async () => {
    const queries = byQuery(plan);
    const f = await fake((q, res) => {
      const { sli, track } = queries.get(q)!;
      json(res, 200, one(sli === 'availability' && track === 'canary' ? '+Inf' : String(HEALTHY[sli]!)));
    });
    const w = wire(f.url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']!.baselineNote !== null, 'the first round');
    w.approveAndAdvance();
    expect(w.setWeights().map((e) => e.weight)).toEqual([1]);
    await until(() => w.runtime.getState().weightConfirmedAt !== null, 'the weight to be confirmed');
    w.clock.advance(MIN);
    await w.source.tick();
    const s = w.runtime.getState();
    const c = s.criteria.find((x) => x.sli === 'availability')!;
    expect(c).toMatchObject({ verdict: 'invalid', value: null, raw: '+Inf' });
    expect(c.why).toContain('+Inf is not a finite number');
    expect(s.holds.join('\n')).toContain('availability: invalid value +Inf');
    expect(gateView(plan, s).blockers.join('\n')).toContain('availability: invalid value +Inf');
    // The journal spells the sample as Prometheus sent it (never null with a pass).
    expect(canonicalJSON({ v: Infinity })).toBe('{"v":{"$n":"Infinity"}}');
    expect(JSON.stringify(s.criteria)).not.toMatch(/"value":null,"verdict":"pass"/);
  });
});

// ---------------------------------------------------------------------------------------------
// the engine: every class, not just the example

describe('invalid data is never a pass', () => {
  const at1 = (p: Plan = plan) => {
    const d = new Driver(p, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    expect(d.state.desiredWeight).toBe(1);
    return d;
  };

  it.each([
    ['availability', Infinity, '+Inf'],
    ['availability', -Infinity, '-Inf'],
    ['availability', NaN, 'NaN'],
    ['availability', 120, '120'],
    ['error_rate', -0.5, '-0.5'],
    ['latency_p95', -3, '-3'],
    ['request_rate', -1, '-1'],
  ])('%s = %s: criterion invalid with raw %s, no rollback, a hold that names it', (sli, value, raw) => {
    const d = at1();
    d.canary = () => ({ ...HEALTHY, [sli]: value });
    d.minute();
    expect(d.state.status).toBe('running');
    const note = d.state.slis[sli]!.canaryNote!;
    expect(note).toMatchObject({ status: 'invalid', raw });
    const c = d.state.criteria.find((x) => x.sli === sli);
    if (c) expect(c).toMatchObject({ verdict: 'invalid', value: null, raw });
    expect(d.state.history.some((h) => h.text.startsWith(`${sli}/canary: invalid value ${raw}`))).toBe(true);
  });

  it('an invalid value never opens a gate, even after every minimum bake', () => {
    const d = at1();
    d.canary = () => ({ ...HEALTHY, availability: Infinity });
    d.runFor(50 * 60 * MIN);
    for (let i = 0; i < 4; i++) d.command('ack-checkpoint');
    for (const [role, who] of [['product-lead', 'Emma Brandt'], ['eng-lead', 'Dev Raman'], ['customer-success', 'Femi Adeyemi']] as const) d.approve('canary-5', role, who);
    d.command('advance');
    expect(d.state.desiredWeight).toBe(1);
    expect(gateView(plan, d.state).blockers.join('\n')).toContain('availability: invalid value +Inf');
  });

  it('with analysis.invalidData: rollback, an impossible canary value rolls back and says what it was', () => {
    const p: Plan = { ...plan, analysis: { ...plan.analysis, invalidData: 'rollback' } };
    const d = at1(p);
    d.canary = () => ({ ...HEALTHY, latency_p95: -Infinity });
    d.minute();
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback!.trigger).toMatchObject({ rule: 'invalid-data', raw: '-Inf' });
    expect(d.state.rollback!.reason).toContain('Latency p95 is -Inf');
  });

  it('a query error or an odd shape is named on its SLI, and never "source is back"', () => {
    const d = at1();
    d.send({ type: 'source.status', at: d.now, source: 'prometheus', ok: true });
    expect(d.state.history.some((h) => h.text.includes('is back'))).toBe(false);
    const s = samples(HEALTHY).map((x) => (x.sli === 'latency_p95' && x.track === 'canary' ? { ...x, value: null, error: 'query returned 2 series ({pod="a"}, {pod="b"}); the plan expects one - add a sum() or a label matcher' } : x));
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: s });
    expect(d.state.criteria.find((c) => c.sli === 'latency_p95')).toMatchObject({ verdict: 'invalid', why: expect.stringContaining('query returned 2 series') });
    expect(gateView(plan, d.state).blockers.join('\n')).toContain('latency_p95: inconclusive: query returned 2 series');
  });

  it('Prometheus warnings are journaled with the sample, shown, and (by default) make the verdict inconclusive; with warnings: show they only show', () => {
    const warned = (p: Plan) => {
      const d = at1(p);
      const s = samples(HEALTHY).map((x) => (x.sli === 'availability' && x.track === 'canary' ? { ...x, warnings: ['PromQL info: partial data from store eu-1'] } : x));
      d.send({ type: 'sli.samples', at: d.now + MIN, samples: s });
      return d;
    };
    const d = warned(plan);
    expect(d.state.criteria.find((c) => c.sli === 'availability')).toMatchObject({ verdict: 'invalid', why: expect.stringContaining('partial data from store eu-1') });
    expect(d.state.holds.join('\n')).toContain('partial data from store eu-1');
    const prom = plan.sources.prometheus!;
    const d2 = warned({ ...plan, sources: { prometheus: { ...prom, warnings: 'show' } } });
    expect(d2.state.criteria.find((c) => c.sli === 'availability')!.verdict).toBe('pass');
    expect(d2.state.history.some((h) => h.text === 'availability/canary: the source warned: PromQL info: partial data from store eu-1')).toBe(true);
  });
});

describe('no gate opens without fresh, valid evidence measured after the last confirmed weight change', () => {
  it('the first gate: no stable data yet, an invalid stable value, or a failing source refuse the advance; rollback is never blocked', () => {
    const d = new Driver(plan, { crew: false });
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    expect(d.effects).toEqual([]);
    expect(d.state.history.at(-1)!.text).toContain('stable availability: no data yet');
    d.send({ type: 'sli.samples', at: d.now, samples: samples(HEALTHY, { ...HEALTHY, latency_p95: NaN }) });
    d.command('advance');
    expect(d.effects).toEqual([]);
    expect(d.state.history.at(-1)!.text).toContain('stable latency_p95: invalid value NaN');
    d.observe();
    d.send({ type: 'source.status', at: d.now, source: 'prometheus', ok: false, message: 'HTTP 503' });
    d.command('advance');
    expect(d.effects).toEqual([]);
    d.send({ type: 'source.status', at: d.now, source: 'prometheus', ok: true });
    d.command('advance');
    expect(d.state.desiredWeight).toBe(1);
    // ...and with the source failing again, rolling back still goes out at once.
    d.send({ type: 'source.status', at: d.now, source: 'prometheus', ok: false, message: 'HTTP 503' });
    d.command('rollback');
    expect(d.state.status).toBe('rolled-back');
  });

  it('a step waits for a sample measured after its weight was confirmed', () => {
    const { judgment: _judgment, ...analysis } = plan.analysis;
    const p: Plan = {
      ...plan,
      analysis,
      phases: [{ ...withoutChecklists(plan.phases[0]!), checkpoints: [], approvals: [], steps: [{ weight: 1, bake: { min: '0s' }, auto: true }, { weight: 100, bake: { min: '0s' }, auto: true }] }],
    };
    const d = new Driver(p, { crew: false });
    d.confirm = false;
    d.observe();
    d.command('advance');
    const [sw] = d.effects.filter((e) => e.type === 'set-weight');
    // A round measured before the confirmation, reduced after it, is not evidence for the next step.
    const measuredAt = d.now;
    d.send({ type: 'effect.result', at: d.now + 10_000, effectId: sw!.id, ok: true, detail: 'ok', weight: 1 });
    d.send({ type: 'sli.samples', at: d.now + 5_000, measuredAt, samples: samples(HEALTHY) });
    expect(d.state.desiredWeight).toBe(1);
    expect(gateView(p, d.state).blockers.join('\n')).toMatch(/no sample measured since the weight change was confirmed|not judged since the weight change was confirmed/);
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: samples(HEALTHY) });
    expect(d.state.desiredWeight).toBe(100);
  });
});

describe('a relative rule with no baseline is inconclusive and says why', () => {
  it('no baseline for latency_p95: the 3x rule cannot fire, the screen and the history say so, and no gate opens', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: samples(HEALTHY, { ...HEALTHY, latency_p95: null, error_rate: null }) });
    const blind = d.state.inconclusive.map((x) => x.rule);
    expect(blind).toEqual(['error_rate_spike', 'latency_degradation']);
    expect(d.state.inconclusive[1]!.why).toContain('$track="baseline"');
    expect(d.state.holds.join('\n')).toContain('rule latency_degradation cannot be evaluated');
    expect(d.state.history.some((h) => h.kind === 'hold' && h.text.startsWith('rule latency_degradation cannot be evaluated'))).toBe(true);
    expect(gateView(plan, d.state).blockers.join('\n')).toContain('rule latency_degradation cannot be evaluated');
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: samples(HEALTHY) });
    expect(d.state.inconclusive).toEqual([]);
    expect(d.state.history.at(-1)!.text).toMatch(/can be evaluated again/);
  });

  it('analysis.tracks says which label value means baseline: the queries use it', () => {
    const p: Plan = { ...plan, analysis: { ...plan.analysis, tracks: { canary: 'canary', baseline: 'stable' } } };
    const qs = planQueries(p).filter((q) => q.sli === 'latency_p95');
    expect(qs.map((q) => [q.track, q.promql.match(/track="(\w+)"/)![1]])).toEqual([
      ['canary', 'canary'],
      ['baseline', 'stable'],
      ['stable', 'stable'],
    ]);
  });
});

describe('who may declare an immediate-rollback signal is the plan\'s decision', () => {
  const at1 = () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    return d;
  };
  const signal = (d: Driver, id: string, name: string, roles: string[]) =>
    d.send({ type: 'signal', at: d.now, actor: { id, name, roles }, name: 'customer_escalation', severity: 'P0', note: 'ACME outage' });

  it('a war-room person without the authority is refused with the reason; one with it rolls back', () => {
    const noDecl = { ...plan, rollback: { ...plan.rollback, immediate: plan.rollback.immediate.map((r) => (r.kind === 'signal' ? { ...r, declaredBy: undefined } : r)) } } as Plan;
    const d = new Driver(noDecl, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    signal(d, 'femi', 'Femi Adeyemi', ['customer-success']);
    expect(d.state.status).toBe('running');
    expect(d.state.history.at(-1)!.text).toMatch(/Femi Adeyemi signalled customer_escalation P0: no rollback - the plan lets only .*VP Customer Success.* declare customer_escalation P0/);
    signal(d, 'grace', 'Grace Kim', ['customer-success-vp']);
    expect(d.state.status).toBe('rolled-back');
  });

  it('the reference plan names customer success among those who may declare it (declaredBy)', () => {
    const d = at1();
    signal(d, 'femi', 'Femi Adeyemi', ['customer-success']);
    expect(d.state.status).toBe('rolled-back');
    const d2 = at1();
    signal(d2, 'hiro', 'Hiro Tanaka', ['vp-engineering']);
    expect(d2.state.status).toBe('running');
    expect(d2.state.history.at(-1)!.text).toContain('declaredBy');
  });
});
