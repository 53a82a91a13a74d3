// Traffic never moves on stale or missing Prometheus evidence (the adversarial review of issue 18):
// an answer Prometheus (or a cache in front of it) evaluated long ago is as old as it says; the
// first gate needs valid answers for the stable fleet, so queries that match nothing never put
// traffic on an unwatched canary; an answer is read up to 1 MiB only; a JSON answer cut short is
// said as such; a pass from before a source failed is not shown as current. Hostile answers come
// from a small real HTTP server on 127.0.0.1 (what a real Prometheus never sends); the real
// Prometheus side is in prometheus.integration.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PromError, PrometheusClient } from '../src/sources/prometheus.js';
import { CLOCK_SKEW_TOLERANCE_MS, PrometheusSource, planQueries } from '../src/sources/prometheus-source.js';
import { checkAgainst } from '../src/sources/validate-live.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import { gateView } from '../src/engine/gates.js';
import type { Effect } from '../src/engine/types.js';
import type { Plan } from '../src/plan/schema.js';
import { sliViews } from '../components/SliPane.js';
import { sliDetails } from '../components/sliDetails.js';
import { Driver, HEALTHY, MIN, loadSeedPlan, samples, tickEverything } from './helpers/drive.js';

const plan = loadSeedPlan();
const HOUR = 3_600_000;

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server on 127.0.0.1 that hands every query (GET or POST) to `handler`. */
async function serve(handler: (query: string, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      handler(u.searchParams.get('query') ?? new URLSearchParams(body).get('query') ?? '', res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, body: unknown) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
/** One sample stamped `offsetMs` from now (negative: evaluated in the past). */
const stamped = (v: string, offsetMs = 0) => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [(Date.now() + offsetMs) / 1000, v] }] } });
const empty = { status: 'success', data: { resultType: 'vector', result: [] } };
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

/** The real source and runtime, on a clock that runs with this machine's (real time, as with --prometheus). */
function wire(url: string, p: Plan = plan) {
  const clock = new ManualClock(Date.now());
  const client = new PrometheusClient({ url, timeoutMs: 5_000 });
  const source = new PrometheusSource({ plan: p, client, clock, periodMs: 60_000 });
  const traffic = new RecordingTraffic();
  const runtime = new Runtime({ plan: p, clock, sources: [source], traffic, tickMs: 0 });
  closers.push(() => client.close(), () => runtime.stop());
  const approveAndAdvance = () => {
    tickEverything({ send: (e) => runtime.dispatch(e), state: runtime.getState(), plan: p });
    const at = clock.now();
    runtime.dispatch({ type: 'approve', at, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    runtime.dispatch({ type: 'approve', at, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    runtime.dispatch({ type: 'command', at, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
  };
  const setWeights = () => runtime.effects.filter((e): e is Extract<Effect, { type: 'set-weight' }> => e.type === 'set-weight');
  return { clock, runtime, traffic, approveAndAdvance, setWeights };
}

describe('an answer is as old as Prometheus says, not as old as our clock', () => {
  it('a cached answer evaluated 2 h ago: drawn stale with its age, never evidence, the source says why, and the first gate stays shut', async () => {
    const queries = byQuery(plan);
    const url = await serve((q, res) => json(res, stamped(String(HEALTHY[queries.get(q)!.sli]!), -2 * HOUR)));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']!.stableNote !== null, 'the first round');
    const s = w.runtime.getState();
    const note = s.slis['availability']!.stableNote!;
    // The note carries the answer's own time: 2 h before the query, within a second or so.
    expect(Math.abs(s.now - note.at - 2 * HOUR)).toBeLessThan(5_000);
    const view = sliViews(plan, s).find((v) => v.sli.name === 'availability')!;
    expect(view.ageMs).toBeGreaterThan(2 * HOUR - 5_000);
    expect(view.stale).toBe(true);
    expect(s.sources['prometheus']).toMatchObject({ ok: false, message: expect.stringMatching(/36 of 36 answers are up to 2h\d*m?\d*s? old .*caching proxy or a stuck query frontend/) });
    expect(s.history.map((h) => h.text).join('\n')).toMatch(/answers \(.*\) are up to 2h.* old by the source's own time .*past noDataAfter \(10m\): never counted as evidence/);
    w.approveAndAdvance();
    expect(w.setWeights()).toEqual([]);
    expect(w.traffic.weights).toEqual([]);
    const refused = w.runtime.getState().history.at(-1)!.text;
    expect(refused).toMatch(/asked to advance: refused/);
    expect(refused).toMatch(/stable availability: no sample for 2h/);
    expect(gateView(plan, w.runtime.getState()).blockers.join('\n')).toContain('source prometheus failing: 36 of 36 answers are up to 2h');
  });

  it(`clock skew within ${CLOCK_SKEW_TOLERANCE_MS / 1000} s moves nothing: answers 5 s behind or ahead count as measured when sent, and the gate opens`, async () => {
    const queries = byQuery(plan);
    let n = 0;
    const url = await serve((q, res) => json(res, stamped(String(HEALTHY[queries.get(q)!.sli]!), n++ % 2 === 0 ? -5_000 : 5_000)));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']!.stableNote !== null, 'the first round');
    const s = w.runtime.getState();
    expect(s.sources['prometheus']?.ok ?? true).toBe(true);
    for (const sli of plan.slis) {
      const x = s.slis[sli.name]!;
      // Every note is stamped with the round's own time: none moved by the skew.
      expect(new Set([x.canaryNote!.at, x.baselineNote!.at, x.stableNote!.at]).size).toBe(1);
    }
    w.approveAndAdvance();
    expect(w.setWeights().map((e) => e.weight)).toEqual([1]);
  });

  it('validate --against says an answer is 2 h old, and fails', async () => {
    const queries = byQuery(plan);
    const url = await serve((q, res) => json(res, stamped(String(HEALTHY[queries.get(q)!.sli]!), -2 * HOUR)));
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    const r = await checkAgainst(plan, client);
    expect(r.ok).toBe(false);
    expect(r.lines.find((l) => l.includes(' availability/stable: '))).toMatch(/^✗ slis\[0\]\.query availability\/stable: 99\.97, but the answer is 2h.* old \(evaluated at 20\d\d-.*Z; staleAfter 3m\): a caching proxy or a stuck query frontend/);
    expect(r.lines.at(-1)).toBe(`✗ 36 SLI queries of 36 would not give run a valid value from ${url}`);
  });
});

describe('before the canary takes traffic, the queries must see the stable fleet', () => {
  it('every query matching nothing (wrong metric names): the first gate stays shut and says what that usually means', async () => {
    const url = await serve((_q, res) => json(res, empty));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']!.stableNote !== null, 'the first round');
    w.approveAndAdvance();
    expect(w.setWeights()).toEqual([]);
    expect(w.traffic.weights).toEqual([]);
    const refused = w.runtime.getState().history.at(-1)!.text;
    expect(refused).toContain('stable availability: no data (never counted as a pass) - the query matched nothing on the stable fleet ($track="stable"): a metric or label name that does not exist');
  });

  it('only the stable fleet answering is enough: canary and baseline are empty (or NaN, 0/0) before they take traffic', async () => {
    const queries = byQuery(plan);
    const url = await serve((q, res) => {
      const { sli, track } = queries.get(q)!;
      if (track === 'stable') return json(res, stamped(String(HEALTHY[sli]!)));
      json(res, track === 'canary' && sli === 'error_rate' ? stamped('NaN') : empty);
    });
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']!.stableNote !== null, 'the first round');
    w.approveAndAdvance();
    expect(w.setWeights().map((e) => e.weight)).toEqual([1]);
  });

  it('validate --against fails when the stable queries match nothing, names them, and says what that usually is', async () => {
    const queries = byQuery(plan);
    const url = await serve((q, res) => {
      const { sli, track } = queries.get(q)!;
      // A plan with a wrong metric name for availability: nothing anywhere; the rest answers (the
      // canary and baseline deployments take no traffic yet: empty).
      if (sli === 'availability' || track !== 'stable') return json(res, empty);
      json(res, stamped(String(HEALTHY[sli]!)));
    });
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    const r = await checkAgainst(plan, client);
    expect(r.ok).toBe(false);
    expect(r.lines.find((l) => l.includes(' availability/stable: '))).toMatch(/^✗ .*no data: the query matched nothing on the stable fleet \(\$track="stable"\), which carries the traffic now - usually a metric or label name that does not exist/);
    expect(r.lines.find((l) => l.includes(' latency_p95/canary: '))).toMatch(/^! .*no data: .*expected before the rollout/);
    expect(r.lines.find((l) => l.includes(' latency_p95/stable: '))).toMatch(/^✓ /);
    expect(r.lines).toContain('✗ 1 SLI query matched nothing on the stable fleet (availability): check the metric and label names; the first gate would never open');
    expect(r.lines.at(-1)).toBe(`✗ 1 SLI query of 36 would not give run a valid value from ${url}`);
  });
});

describe('hostile answers are named for what they are', () => {
  it('an answer over 1 MiB is cut off there and said so (a 64 MB cap let 36 such answers take ~2 GB)', async () => {
    const url = await serve((_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pad":"');
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      // 8 MiB in 64 KiB writes, each when the socket has room: stops when the client hangs up.
      const more = () => {
        while (sent < 128) {
          sent += 1;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('"},"value":[1,"1"]}]}}');
      };
      res.on('close', () => (sent = 128));
      more();
    });
    const client = new PrometheusClient({ url, timeoutMs: 10_000 });
    closers.push(() => client.close());
    const err = await client.query('up').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PromError);
    expect((err as PromError).kind).toBe('bad-response');
    expect((err as PromError).message).toMatch(/answer over 1 MiB \(1,048,576 bytes\), reading stopped there: an SLI answer is one number/);
  });

  it('a JSON answer cut off mid-way is said to be cut short, not "not the Prometheus API"', async () => {
    const url = await serve((_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"');
    });
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    const err = (await client.query('up').catch((e: unknown) => e)) as PromError;
    expect(err).toBeInstanceOf(PromError);
    expect(err.message).toMatch(/the JSON answer \(HTTP 200, application\/json, \d+ characters\) is cut short or invalid: /);
    expect(err.message).not.toContain('not the Prometheus API');
  });
});

describe('a verdict from before a failure is not shown as current', () => {
  it('every query failing (HTTP 500) after a pass: the SLI details mark the pass as old and say the source fails now', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: samples(HEALTHY) });
    const criterion = () => sliDetails(plan, d.state, 'availability').lines.find((l) => l.startsWith('criterion'))!;
    expect(criterion()).toMatch(/✓ pass \(last analysis 0s ago, every 1m\)$/);
    const failed = samples(HEALTHY).map((x) => ({ ...x, value: null, error: 'Prometheus GET /api/v1/query: HTTP 500 internal: boom' }));
    d.send({ type: 'source.status', at: d.now + 2_000, source: 'prometheus', ok: false, message: 'HTTP 500 internal: boom (36 of 36 queries failing)' });
    d.send({ type: 'sli.samples', at: d.now + 30_000, samples: failed });
    expect(criterion()).toMatch(/✓ pass \(last analysis 32s ago, every 1m\) - NOT CURRENT: that pass is 32s old, from before this: source prometheus failing now \(for 30s\): HTTP 500 internal: boom \(36 of 36 queries failing\)$/);
    // The source back but the newest answer still not a value: still not current.
    d.send({ type: 'source.status', at: d.now + 1_000, source: 'prometheus', ok: true });
    expect(criterion()).toMatch(/NOT CURRENT: that pass is 33s old, from before this: the newest canary answer is inconclusive: Prometheus GET \/api\/v1\/query: HTTP 500/);
    // The next analysis judges the failure itself: no pass left to qualify.
    d.send({ type: 'sli.samples', at: d.now + MIN, samples: failed });
    expect(criterion()).toMatch(/! inconclusive: Prometheus GET .*HTTP 500 internal: boom \(never a pass\) \(last analysis 0s ago, every 1m\)$/);
  });
});
