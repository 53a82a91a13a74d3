// Prometheus answers that must never count as evidence (review 3, defects 2, 9, 11, 14): an answer
// stamped beyond the clock-skew tolerance in the future (a clock ahead, a cache holding a future
// time, a server sending milliseconds where Prometheus sends seconds) fails the source, so the gates
// hold and noDataAfter ends a headless run; an evaluation time answered again is not a new sample;
// an answer behind says clock skew may be why; validate --against shows a server's escape sequences
// as ␛ instead of sending them to the terminal; a value is read only in Prometheus' own spellings.
// Every answer comes from a small HTTP server on 127.0.0.1 (port 0) started here; the user-visible
// cases run the built CLI.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { App } from '../components/App.js';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { stripVTControlCharacters } from 'node:util';
import { sized } from './helpers/sized.js';
import { statusText } from '../src/status.js';
import { HEALTHY, loadSeedPlan, tickEverything } from './helpers/drive.js';

const plan = loadSeedPlan();
const HOUR = 3_600_000;
const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-answer-time-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A server on 127.0.0.1 that hands every query (GET or POST) and its path to `handler`. */
async function serve(handler: (query: string, res: http.ServerResponse, path: string) => void): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      handler(u.searchParams.get('query') ?? new URLSearchParams(body).get('query') ?? '', res, u.pathname);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
/** One sample at `seconds` (Prometheus' unit for a sample's time). */
const at = (v: string, seconds: number) => ({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [seconds, v] }] } });
const emptyMatrix = { status: 'success', data: { resultType: 'matrix', result: [] } };
const sliOf = (p: Plan) => {
  const m = new Map(planQueries(p).map((q) => [q.promql, q.sli]));
  return (query: string) => m.get(query) ?? 'unknown';
};
/** A healthy answer for every SLI query, stamped by `stamp` (epoch seconds). */
function healthyAt(p: Plan, stamp: () => number) {
  const sli = sliOf(p);
  return (q: string, res: http.ServerResponse, path: string) =>
    path.endsWith('query_range') ? json(res, emptyMatrix) : json(res, at(String(HEALTHY[sli(q)] ?? 0), stamp()));
}

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

/** The real client, source and runtime on a manual clock; the source's real time is this
 * machine's plus `real.offset` (so a test can let real time pass between rounds). */
function wire(url: string, p: Plan = plan) {
  const clock = new ManualClock(Date.now());
  const real = { offset: 0 };
  const client = new PrometheusClient({ url, timeoutMs: 5_000 });
  const source = new PrometheusSource({ plan: p, client, clock, periodMs: 3_600_000, realNow: () => Date.now() + real.offset });
  const traffic = new RecordingTraffic();
  const runtime = new Runtime({ plan: p, clock, sources: [source], traffic, tickMs: 0 });
  closers.push(() => client.close(), () => runtime.stop());
  const approveAndAdvance = () => {
    tickEverything({ send: (e) => runtime.dispatch(e), state: runtime.getState(), plan: p });
    const now = clock.now();
    runtime.dispatch({ type: 'approve', at: now, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    runtime.dispatch({ type: 'approve', at: now, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    runtime.dispatch({ type: 'command', at: now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
  };
  const setWeights = () => runtime.effects.filter((e): e is Extract<Effect, { type: 'set-weight' }> => e.type === 'set-weight');
  return { clock, real, source, runtime, traffic, approveAndAdvance, setWeights };
}

function canary(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), XDG_CACHE_HOME: join(tmp, 'cache'), XDG_CONFIG_HOME: join(tmp, 'config'), CANARY_SLACK_WEBHOOK_URL: '' };
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env, timeout: 120_000, maxBuffer: 64 << 20 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

/** The seed plan with seconds for its analysis times and bakes, written to a file for the CLI. */
function shortPlanFile(name: string): string {
  const text = readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8')
    .replace(/^(\s*)interval: 1m\b/m, '$1interval: 2s')
    .replace(/^(\s*)noDataAfter: 10m\b/m, '$1noDataAfter: 10s')
    .replace(/^(\s*)staleAfter: 3m\b/m, '$1staleAfter: 5s');
  expect(text).toMatch(/noDataAfter: 10s/);
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe('an answer stamped in the future beyond the tolerance is never evidence', () => {
  it('run --headless --json: every answer frozen 1 h ahead: the source fails and says check NTP, no weight moves, and noDataAfter ends the run (exit 5)', async () => {
    const t0 = Date.now() / 1000 + 3600; // the same evaluation time, every answer: a frozen clock an hour ahead
    const url = await serve(healthyAt(plan, () => t0));
    const r = await canary(['run', '--headless', '--json', '--no-journal', '--plan', shortPlanFile('ahead.yaml'), '--prometheus', url, '--timeout', '60s']);
    const lines = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(r.code, `${r.err}\n${r.out.slice(-1500)}`).toBe(5);
    expect(lines.filter((l) => l.type === 'effect' && (l.effect as Effect).type === 'set-weight')).toEqual([]);
    const said = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(said).toMatch(/source prometheus failing: Prometheus' clock is (59m\d+s|1h) ahead of this machine's \(or the answer is cached with a future time\): check NTP/);
    expect(lines.at(-1)).toMatchObject({ type: 'exit', code: 5, reason: expect.stringMatching(/^source prometheus: Prometheus' clock is .* ahead .*check NTP.* unavailable for more than 10s$/) });
  }, 90_000);

  it('through the source: the samples are errors, the source fails with how far ahead, the first gate stays shut; back within the tolerance, the source is back', async () => {
    let lead = HOUR;
    const url = await serve(healthyAt(plan, () => (Date.now() + lead) / 1000));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']?.stableNote != null, 'the first round');
    const s = w.runtime.getState();
    expect(s.sources['prometheus']).toMatchObject({ ok: false, message: expect.stringMatching(/^Prometheus' clock is (59m\d+s|1h) ahead of this machine's \(or the answer is cached with a future time\): check NTP: 36 of 36 answers stamped up to .* ahead \(e\.g\. availability\/canary\), never counted as evidence$/) });
    expect(s.slis['availability']!.stableNote).toMatchObject({ status: 'invalid', why: expect.stringContaining('in the future of this machine') });
    w.approveAndAdvance();
    expect(w.setWeights()).toEqual([]);
    expect(w.traffic.weights).toEqual([]);
    expect(gateView(plan, w.runtime.getState()).blockers.join('\n')).toMatch(/source prometheus failing: Prometheus' clock is .* ahead/);

    // Inside the tolerance nothing changes: 10 s ahead counts as measured when sent.
    lead = CLOCK_SKEW_TOLERANCE_MS - 5_000;
    w.clock.advance(60_000);
    await w.source.tick();
    const back = w.runtime.getState();
    expect(back.sources['prometheus']).toMatchObject({ ok: true });
    expect(back.slis['availability']!.stableNote).toMatchObject({ status: 'ok', at: w.clock.now() });
    expect(back.history.map((h) => h.text)).toContain('source prometheus is back');
  });

  it('the console: the status bar shows ✗ prometheus, and the dialog of the first gate says it is blocked by "clock ... ahead ... check NTP"', async () => {
    const url = await serve(healthyAt(plan, () => Date.now() / 1000 + 3600));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().sources['prometheus']?.ok === false, 'the source to fail');
    const actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };
    const r = sized(render(createElement(App, { plan, store: w.runtime, actor, now: () => w.clock.now(), columns: 200, rows: 50, onQuit: () => undefined })), 200, 50);
    closers.push(() => r.unmount());
    const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
    await until(() => frame().includes('✗ prometheus'), 'the status bar');
    r.stdin.write('a'); // the gate dialog lists what blocks it
    await until(() => /Prometheus' clock is (59m\d+s|1h) ahead/.test(frame().replace(/\s*│\s*/g, ' ').replace(/\s+/g, ' ')), "the message on screen", 5_000).catch((e: Error) => { throw new Error(`${e.message}:\n${frame()}`); });
  });

  it('times in milliseconds (year ~56000) are the same case, and the status says the server sends milliseconds', async () => {
    const url = await serve(healthyAt(plan, () => Date.now())); // ms where Prometheus sends seconds
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']?.stableNote != null, 'the first round');
    const s = w.runtime.getState();
    expect(s.sources['prometheus']).toMatchObject({ ok: false, message: expect.stringMatching(/^Prometheus' clock is \d+d(\d+h)? ahead of this machine's .*check NTP \(stamped \+0[0-9]{5}-.*Z: the server sends times in milliseconds where Prometheus sends seconds\)/) });
    expect(s.slis['latency_p95']!.stableNote!.status).toBe('invalid');
    w.approveAndAdvance();
    expect(w.setWeights()).toEqual([]);
  });

  it('a timestamp past what a date can hold is said as a number, and the round does not throw', async () => {
    const url = await serve(healthyAt(plan, () => 1e16));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']?.stableNote != null, 'the first round');
    expect(w.runtime.getState().sources['prometheus']).toMatchObject({ ok: false, message: expect.stringMatching(/^Prometheus' clock is \d+d(\d+h)? ahead of this machine's .*: check NTP: 36 of 36/) });
  });

  it('validate --against: an answer stamped 1 h ahead is a problem that says check NTP (it was a note)', async () => {
    const url = await serve(healthyAt(plan, () => Date.now() / 1000 + 3600));
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    const r = await checkAgainst(plan, client);
    expect(r.ok).toBe(false);
    expect(r.lines.find((l) => l.includes(' availability/stable: '))).toMatch(
      /^✗ slis\[0\]\.query availability\/stable: 99\.97, but the answer is stamped (59m\d+s|1h) in the future \(evaluated at 20\d\d-.*Z; the tolerance is 15s\): Prometheus' clock is .* ahead of this machine's \(or the answer is cached with a future time\): check NTP; run never counts it as evidence/,
    );
    expect(r.lines.at(-1)).toBe(`✗ 36 SLI queries of 36 would not give run a valid value from ${url}`);
  });
});

describe('an evaluation time answered again is not a new sample', () => {
  it('a frozen answer inside the tolerance keeps the time it was first seen: after a weight change it is not evidence measured since, and the SLI pane shows its age', async () => {
    let frozen = Date.now() / 1000 + 5; // 5 s ahead: inside the tolerance, counts as measured when sent
    const url = await serve(healthyAt(plan, () => frozen));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']?.stableNote != null, 'the first round');
    const first = w.clock.now();
    expect(w.runtime.getState().sources['prometheus']?.ok ?? true).toBe(true);
    w.clock.advance(1_000);
    w.approveAndAdvance();
    expect(w.setWeights().map((e) => e.weight)).toEqual([1]);
    await until(() => w.runtime.getState().appliedWeight === 1, 'the weight confirmed');

    // 10 s later (real and clock) the same evaluation again: 5 s old by its stamp, inside the
    // tolerance, but it is the answer from before the weight change, not a new measurement.
    w.real.offset += 10_000;
    w.clock.advance(10_000);
    await w.source.tick();
    const s = w.runtime.getState();
    expect(s.slis['availability']!.canaryNote!.at).toBe(first);
    expect(gateView(plan, s).blockers.join('\n')).toMatch(/availability: no sample measured since the weight change was confirmed/);
    const view = sliViews(plan, s).find((v) => v.sli.name === 'availability')!;
    expect(view.ageMs).toBeGreaterThanOrEqual(10_000);

    // A new evaluation time is a new sample again, measured when sent.
    frozen = (Date.now() + w.real.offset) / 1000;
    w.clock.advance(1_000);
    await w.source.tick();
    const fresh = w.runtime.getState();
    expect(fresh.slis['availability']!.canaryNote!.at).toBe(w.clock.now());
    expect(gateView(plan, fresh).blockers.join('\n')).not.toMatch(/no sample measured since the weight change/);
  });
});

describe('an answer behind says clock skew may be why', () => {
  const stalePlan: Plan = { ...plan, analysis: { ...plan.analysis, staleAfter: '10s' } };
  it('60 s behind with staleAfter 10s: the source names a caching proxy, a stuck query frontend, and Prometheus\' clock behind (check NTP)', async () => {
    const url = await serve(healthyAt(stalePlan, () => (Date.now() - 60_000) / 1000));
    const w = wire(url, stalePlan);
    w.runtime.start();
    await until(() => w.runtime.getState().slis['availability']?.stableNote != null, 'the first round');
    expect(w.runtime.getState().sources['prometheus']).toMatchObject({
      ok: false,
      message: expect.stringMatching(/36 of 36 answers are up to 1m\d*s? old .*a caching proxy or a stuck query frontend .*, or Prometheus' clock is behind this machine's \(clock skew: check NTP on both\)/),
    });
  });

  it('validate --against says the same', async () => {
    const url = await serve(healthyAt(stalePlan, () => (Date.now() - 60_000) / 1000));
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    const r = await checkAgainst(stalePlan, client);
    expect(r.lines.find((l) => l.includes(' availability/stable: '))).toMatch(/but the answer is 1m\d*s? old .*a caching proxy or a stuck query frontend .*, or Prometheus' clock is behind this machine's \(clock skew: check NTP on both\)/);
  });
});

describe('validate --against shows what a server says, never obeys it', () => {
  it("the built CLI: an error, label values and warnings holding escape sequences come out as ␛..., with no ESC or BEL on the terminal", async () => {
    const sli = sliOf(plan);
    const url = await serve((q, res) => {
      const now = Date.now() / 1000;
      switch (sli(q)) {
        case 'availability':
          return json(res, { status: 'error', errorType: 'bad_data', error: '\u001b]0;PWNED\u0007\u001b[2J\u001b[41mboom' }, 400);
        case 'error_rate':
          return json(res, { status: 'success', data: { resultType: 'vector', result: [{ metric: { x: '\u001b]0;PWNED2\u0007' }, value: [now, '1'] }, { metric: { y: '\u001b[31m\u009b2J' }, value: [now, '1'] }] } });
        case 'latency_p95':
          return json(res, { status: 'success', warnings: ['\u001b]0;PWNED3\u0007 partial\u202e'], data: { resultType: 'vector', result: [{ metric: {}, value: [now, '1'] }] } });
        default:
          return json(res, at(String(HEALTHY[sli(q)] ?? 0), now));
      }
    });
    const r = await canary(['validate', join(root, 'config', 'maestro-conductor-rc.yaml'), '--against', url]);
    expect(r.code, r.err).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(r.out).toContain('availability/stable: Prometheus GET');
    expect(r.out).toContain('␛]0;PWNED␇␛[2J␛[41mboom');
    expect(r.out).toContain('x="␛]0;PWNED2␇"');
    expect(r.out).toContain('y="␛[31m\\u009b2J"');
    expect(r.out).toContain('warnings: ␛]0;PWNED3␇ partial\\u202e');
  }, 60_000);
});

describe('run --headless --json shows what a server says, never obeys it', () => {
  it('an error holding ESC, BEL, a C1 CSI (U+009B) and a bidi override: every one escaped in the JSON line, and parsed back the same', async () => {
    const sli = sliOf(plan);
    const evil = '\u001b]0;PWNED\u0007\u009b2J\u202eboom';
    const url = await serve((q, res, path) => {
      if (path.endsWith('query_range')) return json(res, emptyMatrix);
      if (sli(q) === 'availability') return json(res, { status: 'error', errorType: 'bad_data', error: evil }, 400);
      json(res, at(String(HEALTHY[sli(q)] ?? 0), Date.now() / 1000));
    });
    const r = await canary(['run', '--headless', '--json', '--no-journal', '--plan', join(root, 'config', 'maestro-conductor-rc.yaml'), '--prometheus', url, '--timeout', '5s']);
    expect(r.code, r.err).toBe(124);
    // eslint-disable-next-line no-control-regex
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const texts = r.out.trim().split('\n').map((l) => (JSON.parse(l) as { text?: string }).text ?? '');
    expect(texts.some((t) => t.startsWith('source prometheus failing: ') && t.includes(`HTTP 400 bad_data: ${evil}`))).toBe(true);
  }, 60_000);
});

describe('canary status --json shows what a server says, never obeys it', () => {
  it('a source failing with a C1 CSI and a bidi override in its error: the holds come out escaped, and parse back the same', async () => {
    const sli = sliOf(plan);
    const evil = '\u009b2J\u202eboom\u2028';
    const url = await serve((q, res) => (sli(q) === 'availability' ? json(res, { status: 'error', errorType: 'bad_data', error: evil }, 400) : json(res, at(String(HEALTHY[sli(q)] ?? 0), Date.now() / 1000))));
    const w = wire(url);
    w.runtime.start();
    await until(() => w.runtime.getState().sources['prometheus']?.ok === false, 'the source to fail');
    const out = statusText(plan, w.runtime.getState(), { json: true });
    expect(out).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain('\\u009b2J\\u202eboom');
    expect(JSON.stringify(JSON.parse(out))).toContain(evil.trim());
  });
});

describe('a value is read only as Prometheus spells numbers', () => {
  it('"0x63", "Infinity", " 1", "", "1_0", "0b1", "0o7" are bad answers, not numbers; decimals, exponents, NaN and ±Inf are read', async () => {
    let value = '';
    const url = await serve((_, res) => json(res, at(value, Date.now() / 1000)));
    const client = new PrometheusClient({ url, timeoutMs: 5_000 });
    closers.push(() => client.close());
    for (const bad of ['0x63', 'Infinity', ' 1', '', '1_0', '0b1', '0o7', 'inf', '1.2.3', '1e']) {
      value = bad;
      const e = await client.query('up').then(
        () => null,
        (err: unknown) => err,
      );
      expect(e, JSON.stringify(bad)).toBeInstanceOf(PromError);
      expect((e as PromError).kind).toBe('bad-response');
      expect((e as PromError).message).toContain(`"${bad.trim()}" is not a number`);
    }
    for (const [text, n] of [['99.97', 99.97], ['-0.5', -0.5], ['1e-05', 1e-5], ['1.5E+10', 1.5e10], ['.5', 0.5], ['7.', 7], ['+3', 3], ['NaN', NaN], ['+Inf', Infinity], ['-Inf', -Infinity]] as const) {
      value = text;
      const r = await client.query('up');
      expect(r.series[0]!.points[0]![1], text).toBe(n);
    }
  });
});
