// The Prometheus client and SLI source against a real HTTP server on 127.0.0.1 (port 0), scripted
// per case: every failure mode the client promises to name, and the source's one-event-per-tick,
// concurrent, non-overlapping rounds.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PromError, PrometheusClient, scalarOf } from '../src/sources/prometheus.js';
import type { PrometheusClientOptions, QueryResult } from '../src/sources/prometheus.js';
import { PrometheusSource, sliQuery } from '../src/sources/prometheus-source.js';
import { checkAgainst } from '../src/sources/validate-live.js';
import type { PrometheusSourceStatus } from '../src/sources/prometheus-source.js';
import { loadPlanFile } from '../src/plan/loader.js';
import type { Plan } from '../src/plan/schema.js';
import { ManualClock } from '../src/sim/clock.js';
import type { EngineEvent, Track } from '../src/engine/types.js';
import type { SliTrack } from '../src/plan/tracks.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { JournalWriter } from '../src/journal/journal.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import { seriesTimes } from '../src/engine/series.js';

// ---------------------------------------------------------------------------------------------
// a scripted Prometheus

interface Seen {
  method: string;
  path: string;
  /** Query-string and form-body parameters together. */
  params: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  req: http.IncomingMessage;
  closed: boolean;
}

type Handler = (seen: Seen, res: http.ServerResponse) => void;

interface Fake {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: Fake[] = [];
const clients: PrometheusClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(u.search);
      if (/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
        for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      const s: Seen = { method: req.method ?? '', path: u.pathname, params, headers: req.headers, body, req, closed: false };
      res.on('close', () => (s.closed = true));
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const f: Fake = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(f);
  return f;
}

function send(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': contentType });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const ok = (result: unknown, resultType = 'vector', extra: Record<string, unknown> = {}) => ({ status: 'success', data: { resultType, result }, ...extra });
const vec = (...values: string[]) => values.map((v, i) => ({ metric: { i: String(i) }, value: [1_700_000_000.5, v] }));
const promErr = (errorType: string, error: string) => ({ status: 'error', errorType, error });

function client(url: string, extra: Partial<PrometheusClientOptions> = {}): PrometheusClient {
  const c = new PrometheusClient({ url, timeoutMs: 2_000, ...extra });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<PromError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PromError);
    return e as PromError;
  }
  throw new Error('expected the call to fail');
}

async function waitFor(cond: () => boolean, what: string, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const Q = 'sum(rate(http_requests_total{track="canary"}[5m]))';

// ---------------------------------------------------------------------------------------------
// the client: answers

describe('PrometheusClient answers', () => {
  it('reads a vector and sends an instant query as GET with time and timeout in seconds', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('42.5'))));
    const r = await client(f.url).query(Q, 1_700_000_000_250);
    expect(r.resultType).toBe('vector');
    expect(r.series).toEqual([{ metric: { i: '0' }, points: [[1_700_000_000_500, 42.5]] }]);
    expect(r.warnings).toEqual([]);
    expect(scalarOf(r)).toBe(42.5);
    const s = f.seen[0]!;
    expect(s.method).toBe('GET');
    expect(s.path).toBe('/api/v1/query');
    expect(s.params.get('query')).toBe(Q);
    expect(s.params.get('time')).toBe('1700000000.25');
    expect(s.params.get('timeout')).toBe('2');
  });

  it('keeps "NaN", "+Inf" and "-Inf"; scalarOf turns NaN into null and keeps Infinity', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('NaN', '+Inf', '-Inf'))));
    const r = await client(f.url).query(Q);
    expect(r.series.map((s) => s.points[0]![1])).toEqual([NaN, Infinity, -Infinity]);
    const one = (v: number): QueryResult => ({ ...r, series: [{ metric: {}, points: [[0, v]] }] });
    expect(scalarOf(one(NaN))).toBeNull();
    expect(scalarOf(one(Infinity))).toBe(Infinity);
    expect(scalarOf(one(-Infinity))).toBe(-Infinity);
  });

  it('keeps an empty result distinct from 0', async () => {
    let value: string | null = null;
    const f = await fake((_, res) => send(res, 200, ok(value === null ? [] : vec(value))));
    const c = client(f.url);
    const empty = await c.query(Q);
    expect(empty.series).toEqual([]);
    expect(scalarOf(empty)).toBeNull();
    value = '0';
    expect(scalarOf(await c.query(Q))).toBe(0);
  });

  it('reads scalar results; several series give null and a warning from scalarOf', async () => {
    let body: unknown = ok([1_700_000_000, '3'], 'scalar');
    const f = await fake((_, res) => send(res, 200, body));
    const c = client(f.url);
    expect(scalarOf(await c.query('3'))).toBe(3);
    body = ok(vec('1', '2'));
    const warnings: string[] = [];
    expect(scalarOf(await c.query(Q), (w) => warnings.push(w))).toBeNull();
    expect(warnings.join()).toMatch(/query returned 2 series .*the plan expects one - add a sum\(\) or a label matcher/);
  });

  it('surfaces warnings and infos', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('1'), 'vector', { warnings: ['partial response: store down'], infos: ['metric might not be a counter'] })));
    const r = await client(f.url).query(Q);
    expect(r.warnings).toEqual(['partial response: store down']);
    expect(r.infos).toEqual(['metric might not be a counter']);
  });

  it('works with a base URL that has a path prefix', async () => {
    const f = await fake((s, res) => (s.path === '/prometheus/api/v1/query' ? send(res, 200, ok(vec('7'))) : send(res, 404, '404 page not found', 'text/plain')));
    expect(scalarOf(await client(`${f.url}/prometheus/`).query(Q))).toBe(7);
    expect(scalarOf(await client(`${f.url}/prometheus`).query(Q))).toBe(7);
  });

  it('uses a form POST for a long query', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('1'))));
    const long = `sum(${Array.from({ length: 120 }, (_, i) => `rate(some_metric_total{track="canary",n="${i}"}[5m])`).join(' + ')})`;
    expect(long.length).toBeGreaterThan(2000);
    const c = client(f.url);
    await c.query(long);
    await c.query(Q);
    expect(f.seen[0]!.method).toBe('POST');
    expect(f.seen[0]!.headers['content-type']).toMatch(/application\/x-www-form-urlencoded/);
    expect(f.seen[0]!.params.get('query')).toBe(long);
    expect(f.seen[1]!.method).toBe('GET');
  });

  it('sends basic auth and custom headers such as X-Scope-OrgID', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('1'))));
    await client(f.url, { basicAuth: { username: 'alice', password: 's3cret-pw' }, headers: { 'X-Scope-OrgID': 'tenant-a' } }).query(Q);
    const h = f.seen[0]!.headers;
    expect(h.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`);
    expect(h['x-scope-orgid']).toBe('tenant-a');
  });
});

// ---------------------------------------------------------------------------------------------
// the client: failures

describe('PrometheusClient failures', () => {
  it('503 with a JSON error: kind http, status 503, and a message naming it', async () => {
    const f = await fake((_, res) => send(res, 503, promErr('unavailable', 'TSDB not ready')));
    const e = await failure(client(f.url).query(Q));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(503);
    expect(e.errorType).toBe('unavailable');
    expect(e.message).toContain('GET');
    expect(e.message).toContain('/api/v1/query');
    expect(e.message).toContain('rate(http_requests_total');
    expect(e.message).toContain('HTTP 503 unavailable: TSDB not ready');
    expect(e.message).toMatch(/wait and retry/);
  });

  it('422 execution error', async () => {
    const f = await fake((_, res) => send(res, 422, promErr('execution', 'found duplicate series for the match group')));
    const e = await failure(client(f.url).query(Q));
    expect([e.kind, e.status, e.errorType]).toEqual(['http', 422, 'execution']);
    expect(e.message).toContain('found duplicate series');
    expect(e.message).toMatch(/fix the PromQL/);
  });

  it('400 bad_data', async () => {
    const f = await fake((_, res) => send(res, 400, promErr('bad_data', '1:5: parse error: unexpected "}"')));
    const e = await failure(client(f.url).query('sum(}'));
    expect([e.kind, e.status, e.errorType]).toEqual(['http', 400, 'bad_data']);
    expect(e.message).toContain('parse error');
    expect(e.message).toContain('"sum(}"');
  });

  it('too many points on query_range: retried once with a step of ceil(range / 11000) whole seconds', async () => {
    const f = await fake((s, res) => {
      if (f.seen.length === 1)
        send(res, 400, promErr('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)'));
      else send(res, 200, ok([{ metric: {}, values: [[1_700_000_000, '1']] }], 'matrix'));
    });
    const start = 1_700_000_000_000;
    const end = start + 30 * 86_400_000; // 30 days: 2,592,000,000 ms / 11,000 = 235,636.4 ms -> 236 s
    const r = await client(f.url).queryRange(Q, start, end, 15_000);
    expect(f.seen).toHaveLength(2);
    expect(f.seen[0]!.path).toBe('/api/v1/query_range');
    expect(f.seen[0]!.params.get('step')).toBe('15');
    expect(f.seen[1]!.params.get('step')).toBe('236');
    expect(f.seen[1]!.params.get('start')).toBe('1700000000');
    expect(r.stepMs).toBe(236_000);
    expect(r.series[0]!.points).toEqual([[1_700_000_000_000, 1]]);
  });

  it('too many points twice: kind too-many-points after exactly one retry', async () => {
    const f = await fake((_, res) => send(res, 400, promErr('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)')));
    const e = await failure(client(f.url).queryRange(Q, 0, 86_400_000, 1_000));
    expect(f.seen).toHaveLength(2);
    expect(e.kind).toBe('too-many-points');
    expect(e.message).toMatch(/11,000 points per series/);
    expect(e.message).toMatch(/step/);
  });

  it('an HTML 502 from a proxy: kind bad-response with a readable message', async () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>';
    const f = await fake((_, res) => send(res, 502, html, 'text/html; charset=utf-8'));
    const e = await failure(client(f.url).query(Q));
    expect(e.kind).toBe('bad-response');
    expect(e.status).toBe(502);
    expect(e.message).toContain('got text/html (HTTP 502) from the server, not the Prometheus API');
    expect(e.message).toMatch(/is the URL right \/ is a proxy in front\?/i);
    expect(e.message).toContain('502 Bad Gateway 502 Bad Gateway nginx/1.25.3');
    expect(e.message).not.toContain('<');
    expect(e.detail!.length).toBeLessThanOrEqual(80);
  });

  it('JSON that is not a Prometheus answer, and a 404 text page: bad-response', async () => {
    let reply: [number, string, string] = [200, '{"hello":"world"}', 'application/json'];
    const f = await fake((_, res) => send(res, reply[0], reply[1], reply[2]));
    const c = client(f.url);
    const e1 = await failure(c.query(Q));
    expect(e1.kind).toBe('bad-response');
    expect(e1.message).toContain('not a Prometheus API answer');
    reply = [404, '404 page not found\n', 'text/plain; charset=utf-8'];
    const e2 = await failure(c.query(Q));
    expect(e2.kind).toBe('bad-response');
    expect(e2.message).toContain('404 page not found');
    expect(e2.message).toMatch(/path prefix/);
  });

  it('a value that is not a number: bad-response', async () => {
    const f = await fake((_, res) => send(res, 200, ok(vec('lots'))));
    const e = await failure(client(f.url).query(Q));
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain('"lots" is not a number');
  });

  it('a server that accepts and never answers: kind timeout within timeoutMs', async () => {
    const f = await fake(() => {}); // never answers
    // The server never answers: only the client's own timeout can end this (vitest's would fail it).
    const e = await failure(client(f.url, { timeoutMs: 200 }).query(Q));
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/no complete answer within 200ms/);
  });

  it('a server that trickles bytes forever (socket never idle): still kind timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const f = await fake((_, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"success","data":{"resultType":"vector","result":[');
      timers.push(setInterval(() => res.write(' '), 30));
    });
    try {
      const e = await failure(client(f.url, { timeoutMs: 250 }).query(Q));
      expect(e.kind).toBe('timeout');
      expect(e.message).toMatch(/no complete answer within 250ms/);
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it('connection refused: kind unreachable', async () => {
    const f = await fake(() => {});
    await f.close();
    const e = await failure(client(f.url).query(Q));
    expect(e.kind).toBe('unreachable');
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.message).toMatch(/connection refused/);
    expect(e.message).toMatch(/sources\.prometheus\.url/);
  });

  it('a caller abort: kind aborted', async () => {
    const f = await fake(() => {});
    const ac = new AbortController();
    const p = client(f.url).query(Q, undefined, { signal: ac.signal });
    await waitFor(() => f.seen.length === 1, 'the request');
    ac.abort();
    expect((await failure(p)).kind).toBe('aborted');
  });
});

// ---------------------------------------------------------------------------------------------
// secrets

describe('PrometheusClient never leaks credentials', () => {
  const TOKEN = 'tok-9f8e7d6c5b4a-SECRET';
  const PASSWORD = 'pw-Zebra-Horse-42';

  function expectClean(e: PromError, secrets: string[]): void {
    const views = [e.message, String(e), e.stack ?? '', JSON.stringify(e), JSON.stringify({ ...e }), Object.keys(e).join(',')];
    for (const v of views) for (const s of secrets) expect(v).not.toContain(s);
    expect(e).not.toHaveProperty('config');
    expect(e).not.toHaveProperty('request');
    expect(e).not.toHaveProperty('response');
    expect(e.cause).toBeUndefined();
  }

  it('401 with a bearer token: kind auth; the token is nowhere in the error, even when the server echoes it', async () => {
    const f = await fake((s, res) => send(res, 401, `invalid token ${String(s.headers.authorization).replace('Bearer ', '')}`, 'text/plain'));
    const e = await failure(client(f.url, { bearerToken: TOKEN }).query(Q));
    expect(f.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(e.kind).toBe('auth');
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/check the bearer token \/ basic auth/i);
    expect(e.message).toContain('invalid token ***');
    expectClean(e, [TOKEN, `Bearer ${TOKEN}`]);
  });

  it('403 with basic auth: kind auth; neither the password nor its base64 appear', async () => {
    const f = await fake((_, res) => send(res, 403, promErr('forbidden', 'no access')));
    const e = await failure(client(f.url, { basicAuth: { username: 'bob', password: PASSWORD } }).query(Q));
    expect(e.kind).toBe('auth');
    expect(e.message).toContain('basic auth as user "bob"');
    expectClean(e, [PASSWORD, Buffer.from(`bob:${PASSWORD}`).toString('base64')]);
  });

  it('credentials in the URL are used but never shown', async () => {
    const f = await fake((_, res) => send(res, 200, ok([{ metric: {}, value: ['soon', '1'] }])));
    const e = await failure(client(f.url.replace('://', `://carol:${PASSWORD}@`) + '/prom/').query(Q));
    expect(f.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`carol:${PASSWORD}`).toString('base64')}`);
    expect(f.seen[0]!.path).toBe('/prom/api/v1/query');
    expect(e.kind).toBe('bad-response');
    expect(e.message).toContain(`${f.url}/prom/api/v1/query`);
    expectClean(e, [PASSWORD, 'carol:']);
  });

  it('network errors (axios errors carry the request headers) are rethrown without them', async () => {
    const f = await fake(() => {});
    const c = client(f.url, { bearerToken: TOKEN, timeoutMs: 150, headers: { 'X-Api-Key': 'key-1234567' } });
    const timeout = await failure(c.query(Q));
    expect(timeout.kind).toBe('timeout');
    expectClean(timeout, [TOKEN, 'key-1234567']);
    await f.close();
    const refused = await failure(c.query(Q));
    expect(refused.kind).toBe('unreachable');
    expectClean(refused, [TOKEN, 'key-1234567']);
  });

  it('a redirect to another origin is refused: no configured header (X-Api-Key, a tenant, a token) ever reaches the second server', async () => {
    const other = await fake((_, res) => send(res, 200, ok(vec('1'))));
    // 127.0.0.1 and localhost on another port: another origin each way.
    for (const target of [other.url, other.url.replace('127.0.0.1', 'localhost')]) {
      const first = await fake((s, res) => {
        res.writeHead(302, { Location: `${target}${s.path}?${s.params.toString()}` });
        res.end();
      });
      const c = client(first.url, { bearerToken: TOKEN, headers: { 'X-Api-Key': 'key-1234567', 'X-Scope-OrgID': 'tenant-1' } });
      const e = await failure(c.query(Q));
      expect(first.seen[0]!.headers['x-api-key']).toBe('key-1234567');
      expect(e.kind).toBe('bad-response');
      expect(e.message).toContain('redirected to another origin');
      expect(e.message).toContain('no configured header or credential is sent there');
      expectClean(e, [TOKEN, 'key-1234567']);
    }
    expect(other.seen).toEqual([]);
  });

  it('a redirect inside the same origin is followed, headers and all', async () => {
    const f = await fake((s, res) => {
      if (s.path.startsWith('/old')) {
        res.writeHead(301, { Location: `/new${s.path.slice(4)}?${s.params.toString()}` });
        return res.end();
      }
      send(res, 200, ok(vec('7')));
    });
    const r = await client(`${f.url}/old`, { headers: { 'X-Api-Key': 'key-1234567' } }).query(Q);
    expect(r.series[0]!.points[0]![1]).toBe(7);
    expect(f.seen.map((x) => [x.path, x.headers['x-api-key']])).toEqual([
      ['/old/api/v1/query', 'key-1234567'],
      ['/new/api/v1/query', 'key-1234567'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// the source

const PLAN: Plan = (() => {
  const r = loadPlanFile(join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml'));
  if (!r.ok) throw new Error('reference plan does not load');
  return r.plan;
})();
const TRACKS: SliTrack[] = ['canary', 'baseline', 'stable'];
const N = PLAN.slis.length * TRACKS.length;
/** Range queries (backfill) go out for canary and baseline only: the stable fleet has no history. */
const N_RANGE = PLAN.slis.length * 2;
/** Instant answers stamped now, as Prometheus stamps them with their evaluation time. */
const vecNow = (...values: string[]) => values.map((v, i) => ({ metric: { i: String(i) }, value: [Date.now() / 1000, v] }));

/** Which SLI/track a query is, and a distinct value for each. */
const BY_QUERY = new Map(
  PLAN.slis.flatMap((s, i) => TRACKS.map((t, j) => [sliQuery(s.query, t), { sli: s.name, track: t, value: i * 10 + j + 0.5 }] as const)),
);

type Samples = Extract<EngineEvent, { type: 'sli.samples' }>;
/** Source health events, kept apart from the samples the tests below count. */
let statusEvents: EngineEvent[] = [];

describe('PrometheusSource', () => {
  it('one tick: all queries go out together, one sli.samples event holds every SLI x track; a failure nulls only its own', async () => {
    const held: (() => void)[] = [];
    const f = await fake((s, res) => {
      const q = BY_QUERY.get(s.params.get('query') ?? '');
      held.push(() => {
        if (!q) return send(res, 400, promErr('bad_data', 'unknown query'));
        if (q.sli === 'error_rate' && q.track === 'canary') return send(res, 422, promErr('execution', 'many-to-many matching not allowed'));
        if (q.sli === 'memory_leaks') return send(res, 200, ok([]));
        send(res, 200, ok([{ metric: {}, value: [Date.now() / 1000, String(q.value)] }]));
      });
      // Answer nothing until every query of the tick has arrived: sequential queries would hang here.
      if (held.length === N) held.splice(0).forEach((answer) => answer());
    });
    const clock = new ManualClock(1_800_000_000_000);
    const statuses: PrometheusSourceStatus[] = [];
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock, onStatus: (s) => statuses.push(s), periodMs: 60_000 });
    const events: EngineEvent[] = [];
    statusEvents = [];
    src.start((e) => (e.type === 'sli.samples' ? events : statusEvents).push(e));
    await waitFor(() => events.length === 1, 'the first event');
    await src.stop();

    expect(f.seen).toHaveLength(N);
    const ev = events[0] as Samples;
    expect(ev.type).toBe('sli.samples');
    expect(ev.at).toBe(1_800_000_000_000);
    expect(ev.samples).toHaveLength(N);
    for (const [query, q] of BY_QUERY) {
      const sample = ev.samples.find((s) => s.sli === q.sli && s.track === q.track);
      const failed = q.sli === 'error_rate' && q.track === 'canary';
      const expected = failed || q.sli === 'memory_leaks' ? null : q.value;
      expect(sample, query).toEqual({ sli: q.sli, track: q.track, value: expected, ...(failed ? { error: expect.stringContaining('HTTP 422 execution: many-to-many matching not allowed') } : {}) });
    }
    expect(src.lastError?.kind).toBe('http');
    expect(src.lastError?.status).toBe(422);
    expect(src.lastSuccessAt).toBe(1_800_000_000_000);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]!.failures.map((x) => `${x.sli}/${x.track}`)).toEqual(['error_rate/canary']);
  });

  it('ticks never overlap: a due tick is skipped while the previous is in flight', async () => {
    const held: (() => void)[] = [];
    const f = await fake((_, res) => held.push(() => send(res, 200, ok([{ metric: {}, value: [Date.now() / 1000, '1'] }]))));
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock: new ManualClock(), periodMs: 10 });
    const events: EngineEvent[] = [];
    statusEvents = [];
    src.start((e) => (e.type === 'sli.samples' ? events : statusEvents).push(e));
    await waitFor(() => f.seen.length === N && src.skippedTicks >= 3, 'skipped ticks');
    expect(f.seen).toHaveLength(N); // no second round was sent
    expect(events).toHaveLength(0);
    held.splice(0).forEach((answer) => answer());
    await waitFor(() => events.length === 1, 'the first event');
    await src.stop();
    held.splice(0).forEach((answer) => answer());
    expect((events[0] as Samples).samples.every((s) => s.value === 1)).toBe(true);
  });

  it('stop() aborts the requests in flight and emits nothing afterwards', async () => {
    const f = await fake(() => {}); // never answers
    const statuses: PrometheusSourceStatus[] = [];
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock: new ManualClock(), periodMs: 60_000, onStatus: (s) => statuses.push(s) });
    const events: EngineEvent[] = [];
    statusEvents = [];
    src.start((e) => (e.type === 'sli.samples' ? events : statusEvents).push(e));
    await waitFor(() => f.seen.length === N, 'every query');
    await src.stop();
    await waitFor(() => f.seen.every((s) => s.closed), 'the server to see the requests go away');
    expect(events).toEqual([]);
    expect(statuses).toEqual([]);
    expect(src.lastError).toBeNull();
  });

  it('a Prometheus that is down: every sample null, lastError unreachable, status reported once', async () => {
    const f = await fake(() => {});
    await f.close();
    const statuses: PrometheusSourceStatus[] = [];
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock: new ManualClock(), periodMs: 60_000, onStatus: (s) => statuses.push(s) });
    const events: EngineEvent[] = [];
    statusEvents = [];
    src.start((e) => (e.type === 'sli.samples' ? events : statusEvents).push(e));
    await waitFor(() => events.length === 1, 'the event');
    await src.tick();
    await src.stop();
    expect(events).toHaveLength(2);
    expect((events[0] as Samples).samples.every((s) => s.value === null)).toBe(true);
    expect(src.lastError?.kind).toBe('unreachable');
    expect(src.lastSuccessAt).toBeNull();
    expect(statuses).toHaveLength(1); // the same failure twice is one change
    // ...and the engine hears it once, as a source.status event it can hold the rollout on.
    expect(statusEvents).toHaveLength(1);
    expect(statusEvents[0]).toMatchObject({ type: 'source.status', source: 'prometheus', ok: false });
    expect((statusEvents[0] as { message: string }).message).toMatch(/cannot reach .*connection refused/);
  });

  it('backfill: ONE sli.history event at the clock\'s now (the journal stays in time order), each point keeping its own time; null where a series has no point', async () => {
    const realNow = 1_700_000_100_000;
    const period = 1_000;
    const f = await fake((s, res) => {
      const q = BY_QUERY.get(s.params.get('query') ?? '')!;
      const start = Number(s.params.get('start'));
      const step = Number(s.params.get('step'));
      // every series has points 0, 1 and 3 of 4 (step 2 missing); availability/canary has none.
      const values = q.sli === 'availability' && q.track === 'canary' ? [] : [0, 1, 3].map((k) => [start + k * step, String(q.value + k)]);
      send(res, 200, ok([{ metric: {}, values }], 'matrix'));
    });
    const clock = new ManualClock(5_000_000, 60); // a sim clock: 60 sim ms per real ms
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock, periodMs: period, realNow: () => realNow });
    const events = await src.backfill(4);
    expect(f.seen).toHaveLength(N_RANGE);
    expect(f.seen[0]!.params.get('start')).toBe(String((realNow - 3 * period) / 1000));
    expect(f.seen[0]!.params.get('end')).toBe(String(realNow / 1000));
    expect(f.seen[0]!.params.get('step')).toBe('1');
    expect(events).toHaveLength(1);
    const ev = events[0] as Extract<EngineEvent, { type: 'sli.history' }>;
    expect(ev).toMatchObject({ type: 'sli.history', at: 5_000_000 });
    expect(ev.points.map((p) => p.t)).toEqual([5_000_000 - 180_000, 5_000_000 - 120_000, 5_000_000 - 60_000, 5_000_000]);
    const latency = BY_QUERY.get(sliQuery(PLAN.slis.find((s) => s.name === 'latency_p95')!.query, 'baseline'))!;
    const at = (k: number, sli: string, track: Track) => ev.points[k]!.samples.find((s) => s.sli === sli && s.track === track)!.value;
    expect([0, 1, 2, 3].map((k) => at(k, 'latency_p95', 'baseline'))).toEqual([latency.value, latency.value + 1, null, latency.value + 3]);
    expect([0, 1, 2, 3].map((k) => at(k, 'availability', 'canary'))).toEqual([null, null, null, null]);
    expect(ev.points.every((p) => p.samples.length === N_RANGE)).toBe(true);

    // Reduced and journaled: the history is in the series at its own times, the journal line at now.
    const dir = mkdtempSync(join(tmpdir(), 'canary-backfill-'));
    try {
      const file = join(dir, 'j.jsonl');
      const writer = await JournalWriter.open(file, { plan: PLAN, planText: 'x', start: 4_000_000 });
      let state = initialState(PLAN, 4_000_000);
      for (const e of [{ type: 'tick', at: 4_900_000 } as EngineEvent, ev, { type: 'tick', at: 5_000_100 } as EngineEvent]) {
        const r = reduce(PLAN, state, e);
        writer.append(e, r.state, r.effects);
        state = r.state;
      }
      writer.close();
      expect(seriesTimes(state.slis['latency_p95']!.baseline)).toEqual([5_000_000 - 180_000, 5_000_000 - 120_000, 5_000_000 - 60_000, 5_000_000]);
      const ats = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { at: number }).at);
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validate --against: each query once against a live server; shape problems, impossible values and missing data named per SLI and track', async () => {
    const f = await fake((s, res) => {
      const q = BY_QUERY.get(s.params.get('query') ?? '')!;
      if (q.sli === 'latency_p95') return send(res, 200, ok(vecNow('1', '2')));
      if (q.sli === 'error_rate' && q.track === 'canary') return send(res, 200, ok([{ metric: {}, values: [[1, '1']] }], 'matrix'));
      if (q.sli === 'availability' && q.track === 'baseline') return send(res, 200, ok(vecNow('-Inf')));
      if (q.sli === 'memory_leaks' && q.track === 'baseline') return send(res, 200, ok([]));
      if (q.sli === 'request_rate') return send(res, 503, promErr('unavailable', 'not ready'));
      send(res, 200, ok(vecNow('0')));
    });
    const r = await checkAgainst(PLAN, client(f.url));
    expect(f.seen).toHaveLength(N);
    expect(r.ok).toBe(false);
    const line = (sli: string, track: string) => r.lines.find((l) => l.includes(` ${sli}/${track}: `))!;
    expect(line('latency_p95', 'canary')).toMatch(/^✗ slis\[1\]\.query latency_p95\/canary: query returned 2 series .*add a sum\(\) or a label matcher/);
    expect(line('error_rate', 'canary')).toMatch(/^✗ .*query returned a matrix/);
    expect(line('availability', 'baseline')).toMatch(/^✗ .*invalid data: -Inf is not a finite number/);
    expect(line('memory_leaks', 'baseline')).toMatch(/^! .*no data: .*track="baseline"/);
    expect(line('request_rate', 'canary')).toMatch(/^✗ .*HTTP 503 unavailable/);
    expect(line('critical_errors', 'canary')).toBe('✓ slis[6].query critical_errors/canary: 0');
    expect(r.lines.at(-1)).toBe(`✗ 8 SLI queries of ${N} would not give run a valid value from ${f.url}`);
  });

  it('odd shapes are named errors on their SLI, warnings travel with the sample, and a healthy source never reads "is back"', async () => {
    const f = await fake((s, res) => {
      const q = BY_QUERY.get(s.params.get('query') ?? '')!;
      if (q.sli === 'latency_p95') return send(res, 200, ok(vecNow('1', '2')));
      if (q.sli === 'error_rate') return send(res, 200, ok([{ metric: {}, values: [[1, '1']] }], 'matrix'));
      if (q.sli === 'availability') return send(res, 200, ok(vecNow('+Inf'), 'vector', { warnings: ['partial data: store eu-1 down'] }));
      send(res, 200, ok(vecNow(String(q.value))));
    });
    const src = new PrometheusSource({ plan: PLAN, client: client(f.url), clock: new ManualClock(), periodMs: 60_000 });
    const events: EngineEvent[] = [];
    src.start((e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'sli.samples'), 'the first round');
    await src.stop();
    const ev = events.find((e) => e.type === 'sli.samples') as Samples;
    const get = (sli: string) => ev.samples.find((x) => x.sli === sli && x.track === 'canary')!;
    expect(get('latency_p95')).toMatchObject({ value: null, error: expect.stringMatching(/^query returned 2 series \(\{i="0"\}, \{i="1"\}\); the plan expects one - add a sum\(\) or a label matcher$/) });
    expect(get('error_rate')).toMatchObject({ value: null, error: expect.stringContaining('query returned a matrix') });
    expect(get('availability')).toEqual({ sli: 'availability', track: 'canary', value: Infinity, warnings: ['partial data: store eu-1 down'] });
    const status = events.filter((e) => e.type === 'source.status');
    expect(status).toEqual([expect.objectContaining({ ok: true })]);
    let state = initialState(PLAN, 0);
    for (const e of events) state = reduce(PLAN, state, e).state;
    expect(state.history.map((h) => h.text).join('\n')).not.toContain('is back');
    expect(state.history.map((h) => h.text)).toContain('latency_p95/canary: query returned 2 series ({i="0"}, {i="1"}); the plan expects one - add a sum() or a label matcher - never counted as a pass');
  });
});
