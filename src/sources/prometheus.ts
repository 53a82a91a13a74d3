// A Prometheus HTTP API client that turns every way a query can go wrong into one typed error
// (`PromError`) whose message says what was asked, what happened and what to do about it.
//
// - One axios instance per client (never the global defaults), with its own keep-alive agents
//   (and a custom CA / insecure TLS when asked).
// - Every request has a hard deadline: axios' `timeout` (socket idle) AND an AbortController timer,
//   so a server that accepts the connection and then never answers (or trickles bytes) still fails
//   within `timeoutMs`.
// - The response body is read as text and parsed here, so a proxy's HTML error page is reported as
//   such instead of as a JSON parse error.
// - Values keep Prometheus' special floats ("NaN", "+Inf", "-Inf"); an empty result stays empty.
//   `scalarOf` is the SLI view: one number, or null when there is no data.
// - Secrets (bearer token, basic-auth password, Authorization and other credential-like headers)
//   never reach an error: axios errors (which carry the request config and its headers) are never
//   rethrown or attached; any server text quoted in a message is scrubbed of secrets too.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// public types

export interface PrometheusClientOptions {
  /** Base URL, optionally with a path prefix: `http://host:9090`, `https://host/prometheus`. */
  url: string;
  /** Hard deadline for one request (connect + answer + body). */
  timeoutMs: number;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** Extra headers sent with every request, e.g. `X-Scope-OrgID` for Mimir/Cortex/Thanos tenants. */
  headers?: Record<string, string>;
  /** PEM file of a custom CA; read once, here, and used through an https.Agent. */
  caFile?: string;
  /** Accept any TLS certificate (test setups only). */
  insecureSkipVerify?: boolean;
}

export type ResultType = 'vector' | 'matrix' | 'scalar' | 'string';

export interface PromSeries {
  metric: Record<string, string>;
  /** [time in ms, value]; values keep NaN and ±Infinity as Prometheus sent them. */
  points: [number, number][];
}

export interface QueryResult {
  resultType: ResultType;
  /** Empty when the query matched nothing: never turned into 0. A scalar or string result is one
   * series with no labels and one point (a string result's point is its text parsed as a number,
   * NaN when it is not one). */
  series: PromSeries[];
  /** Prometheus' `warnings` (e.g. partial data from a Thanos store), plus the client's own notes
   * (e.g. native-histogram samples, which have no single value). */
  warnings: string[];
  /** Prometheus' `infos` (e.g. "metric might not be a counter"). */
  infos: string[];
  /** For query_range: the step actually used (wider than asked after a too-many-points retry). */
  stepMs?: number;
}

export interface RequestOptions {
  /** Cancels the request (e.g. the source stopping); the promise rejects with kind `aborted`. */
  signal?: AbortSignal;
}

export type PromErrorKind =
  /** No full answer within `timeoutMs` (client side). Prometheus' own query timeout is `http` 503 errorType timeout. */
  | 'timeout'
  /** Could not talk to the server at all: refused, unknown host, reset, TLS not trusted. */
  | 'unreachable'
  /** An HTTP error status with a Prometheus JSON error body (errorType + error). */
  | 'http'
  /** A range query asked for more than 11,000 points per series. */
  | 'too-many-points'
  /** The body is not a Prometheus API answer: HTML from a proxy, plain text, other JSON, bad values. */
  | 'bad-response'
  /** 401/403: the credentials were refused (or missing). */
  | 'auth'
  /** The caller cancelled the request through `signal` (e.g. `PrometheusSource.stop()`). */
  | 'aborted';

export interface PromErrorInit {
  kind: PromErrorKind;
  /** What was asked: "GET http://host:9090/api/v1/query". */
  endpoint: string;
  /** The PromQL, whitespace collapsed and shortened to ~80 chars. */
  query: string;
  /** What happened, in words. */
  what: string;
  /** What to do about it. */
  hint: string;
  status?: number;
  errorType?: string;
  /** Prometheus' `error` text, or the start of a non-API body (tags stripped). */
  detail?: string;
  /** The network error code (ECONNREFUSED, ENOTFOUND, ...). */
  code?: string;
}

/** The one error the client throws. Holds no request config, headers or credentials. */
export class PromError extends Error {
  override readonly name = 'PromError';
  readonly kind: PromErrorKind;
  readonly endpoint: string;
  readonly query: string;
  readonly status?: number;
  readonly errorType?: string;
  readonly detail?: string;
  readonly code?: string;
  readonly hint: string;

  constructor(init: PromErrorInit) {
    super(`Prometheus ${init.endpoint} "${init.query}": ${init.what}. ${init.hint}`);
    this.kind = init.kind;
    this.endpoint = init.endpoint;
    this.query = init.query;
    this.hint = init.hint;
    if (init.status !== undefined) this.status = init.status;
    if (init.errorType !== undefined) this.errorType = init.errorType;
    if (init.detail !== undefined) this.detail = init.detail;
    if (init.code !== undefined) this.code = init.code;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      endpoint: this.endpoint,
      query: this.query,
      status: this.status,
      errorType: this.errorType,
      detail: this.detail,
      code: this.code,
    };
  }
}

export function isPromError(e: unknown): e is PromError {
  return e instanceof PromError;
}

// ---------------------------------------------------------------------------------------------
// the wire format

const SampleTuple = z.tuple([z.number(), z.string()]);
const HistogramTuple = z.tuple([z.number(), z.unknown()]);
const Labels = z.record(z.string(), z.string());

const VectorResult = z.array(
  z.object({ metric: Labels.default({}), value: SampleTuple.optional(), histogram: HistogramTuple.optional() }),
);
const MatrixResult = z.array(
  z.object({
    metric: Labels.default({}),
    values: z.array(SampleTuple).optional(),
    histograms: z.array(HistogramTuple).optional(),
  }),
);

const Envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z
    .object({
      resultType: z.enum(['vector', 'matrix', 'scalar', 'string']),
      result: z.unknown(),
    })
    .optional(),
  warnings: z.array(z.string()).optional(),
  infos: z.array(z.string()).optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});
type Envelope = z.infer<typeof Envelope>;

/** Prometheus' spelling of a finite float: a decimal with an optional sign and exponent ("99.97",
 * "-0.5", "1e-05", "1.5E+10"). Nothing JavaScript's Number() also takes: hex ("0x63" is 99), octal
 * and binary literals, "Infinity", surrounding blanks, an empty string (0). */
const PROM_FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Prometheus' float text: a decimal ("1.5", "1e-05"), "NaN", "+Inf", "-Inf". Returns undefined
 * for anything else, so an answer holding "0x63" is a bad answer, not the number 99. */
export function parsePromValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  return PROM_FLOAT_RE.test(text) ? Number(text) : undefined;
}

// ---------------------------------------------------------------------------------------------
// SLI helper

/** What an SLI query produced: one number (NaN and ±Infinity kept: the engine calls them invalid
 * data), no data, or a shape that is not one number, named so a person can fix the query. */
export type SliAnswer = { value: number | null; at?: number } | { error: string };

/**
 * The single number an SLI query is meant to produce.
 *
 * - empty result: null (no data, distinct from 0);
 * - scalar, or a vector with exactly one series: that value, NaN and ±Infinity as sent;
 * - several series: an error (an SLI query must aggregate; picking one series would judge the
 *   rollout on an arbitrary slice of traffic);
 * - a matrix (range vector) or a string: an error: not an instant SLI value.
 */
export function sliAnswer(result: QueryResult): SliAnswer {
  if (result.resultType === 'matrix')
    return { error: `query returned a matrix (range vector); the plan expects one number - remove the [range] or wrap it, e.g. in rate() or avg_over_time()` };
  if (result.resultType === 'string') return { error: 'query returned a string; the plan expects one number' };
  if (result.series.length === 0) return { value: null };
  if (result.series.length > 1) {
    const sample = result.series.slice(0, 2).map((s) => formatLabels(s.metric)).join(', ');
    return { error: `query returned ${result.series.length} series (${sample}${result.series.length > 2 ? ', …' : ''}); the plan expects one - add a sum() or a label matcher` };
  }
  const points = result.series[0]!.points;
  const last = points[points.length - 1];
  // `at`: the answer's own time (ms): for an instant query, when Prometheus evaluated it.
  return last ? { value: last[1], at: last[0] } : { value: null };
}

/** The SLI view as one number or null (no data, NaN, or a shape problem, which `warn` is told). */
export function scalarOf(result: QueryResult, warn?: (message: string) => void): number | null {
  const a = sliAnswer(result);
  if ('error' in a) {
    warn?.(a.error);
    return null;
  }
  return a.value === null || Number.isNaN(a.value) ? null : a.value;
}

function formatLabels(metric: Record<string, string>): string {
  const entries = Object.entries(metric);
  return `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// the client

/** Prometheus' limit on points per series for query_range. */
export const MAX_POINTS_PER_SERIES = 11_000;
/** Encoded parameters longer than this are sent as a form POST (like Grafana). */
export const MAX_GET_PARAMS_LENGTH = 2000;
/**
 * The largest answer read, per request (1 MiB). An SLI answer is one number: a few hundred bytes.
 * The largest answer canary asks for is a backfill range query, one series of at most 11,000
 * points (~300 KB). Every SLI query of a round is in flight at once (36 for a 12-SLI plan), so the
 * cap bounds a round at ~36 MB of bodies; at 64 MB a hostile or broken server sending 60 MB
 * answers made that 1.3 GB and the driver died under a 512Mi memory limit. Reading stops at the
 * cap and the query fails with "answer over 1 MiB".
 */
export const MAX_BODY_BYTES = 1024 * 1024;
const TOO_MANY_POINTS_RE = /exceeded maximum resolution of [\d,]+ points per timeseries/i;
const SECRET_HEADER_RE = /auth|token|key|secret|cookie|password|session/i;

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing is listening there',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed for now (DNS)',
  ECONNRESET: 'the connection was reset by the server or a proxy',
  EPIPE: 'the connection was closed while sending',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ERR_SOCKET_CONNECTION_TIMEOUT: 'the TCP connection could not be opened',
};
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

interface Call {
  method: 'GET' | 'POST';
  path: string;
  params: Record<string, string>;
  promql: string;
  signal?: AbortSignal;
}

type CallOutcome = { ok: true; result: QueryResult } | { ok: false; error: PromError };

export class PrometheusClient {
  /** The base URL without credentials or trailing slash: safe to show. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly http: AxiosInstance;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly secrets: string[];
  private readonly authDescription: string;
  private readonly tenant: string | undefined;
  /** scheme://host:port of the configured URL: redirects may only stay inside it. */
  private readonly origin: string;

  constructor(opts: PrometheusClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new Error(`Prometheus url "${stripCredentials(opts.url)}" is not a valid URL: expected e.g. http://prometheus:9090 or https://host/prometheus`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`Prometheus url "${stripCredentials(opts.url)}" must start with http:// or https://`);
    if (!(opts.timeoutMs > 0) || !Number.isFinite(opts.timeoutMs))
      throw new Error(`Prometheus timeoutMs must be a positive number of ms, got ${opts.timeoutMs}`);

    const secrets: string[] = [];
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      headers[k] = v;
      if (SECRET_HEADER_RE.test(k) && v.length >= 4) secrets.push(v);
    }
    if (parsed.password) secrets.push(decodeURIComponent(parsed.password), parsed.password);
    if (opts.bearerToken) {
      headers.Authorization = `Bearer ${opts.bearerToken}`;
      secrets.push(opts.bearerToken);
      this.authDescription = 'a bearer token was sent';
    } else if (opts.basicAuth) {
      const b64 = Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64');
      headers.Authorization = `Basic ${b64}`;
      if (opts.basicAuth.password) secrets.push(opts.basicAuth.password);
      secrets.push(b64);
      this.authDescription = `basic auth as user "${opts.basicAuth.username}" was sent`;
    } else if (parsed.username) {
      this.authDescription = 'basic auth from the URL was sent';
    } else {
      this.authDescription = 'no credentials were sent';
    }
    this.secrets = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.tenant = Object.entries(opts.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-scope-orgid')?.[1];

    let ca: Buffer | undefined;
    if (opts.caFile !== undefined) {
      try {
        ca = readFileSync(opts.caFile);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new Error(`Prometheus caFile "${opts.caFile}" cannot be read (${code}): give the path of a PEM file with the CA certificate`);
      }
    }
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({
        keepAlive: true,
        ...(ca ? { ca } : {}),
        ...(opts.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
      }),
    };

    this.baseUrl = stripCredentials(opts.url).replace(/\/+$/, '');
    this.origin = parsed.origin;
    this.timeoutMs = opts.timeoutMs;
    this.http = axios.create({
      baseURL: opts.url.replace(/\/+$/, ''),
      timeout: opts.timeoutMs,
      headers,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      // Every status comes back as a response: the client decides what it means.
      validateStatus: () => true,
      // The body is parsed here so that a non-JSON body is reported as what it is.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_BODY_BYTES,
      maxRedirects: 3,
      // axios honours HTTP(S)_PROXY / NO_PROXY from the environment, as users behind a proxy expect.
    });
  }

  /** Instant query at `time` (epoch ms; the server's now when left out). */
  async query(promql: string, time?: number, opts: RequestOptions = {}): Promise<QueryResult> {
    const params: Record<string, string> = { query: promql };
    if (time !== undefined) params.time = msToSeconds(time);
    params.timeout = msToSeconds(this.timeoutMs);
    const out = await this.call({ ...this.methodFor(params), path: '/api/v1/query', params, promql, ...signalOf(opts) });
    if (!out.ok) throw out.error;
    return out.result;
  }

  /**
   * Range query from `startMs` to `endMs` every `stepMs`. When Prometheus answers that this is
   * more than 11,000 points per series, the step is widened to ceil((end - start) / 11000) rounded
   * up to a whole second, and the query is retried once (`result.stepMs` says which step was used).
   */
  async queryRange(promql: string, startMs: number, endMs: number, stepMs: number, opts: RequestOptions = {}): Promise<QueryResult> {
    if (!(stepMs > 0)) throw new Error(`queryRange: step must be > 0 ms, got ${stepMs}`);
    const attempt = async (step: number): Promise<CallOutcome> => {
      const params: Record<string, string> = {
        query: promql,
        start: msToSeconds(startMs),
        end: msToSeconds(endMs),
        step: msToSeconds(step),
        timeout: msToSeconds(this.timeoutMs),
      };
      const out = await this.call({ ...this.methodFor(params), path: '/api/v1/query_range', params, promql, ...signalOf(opts) });
      if (out.ok) out.result.stepMs = step;
      return out;
    };
    const first = await attempt(stepMs);
    if (first.ok) return first.result;
    if (first.error.kind !== 'too-many-points') throw first.error;

    let wider = Math.ceil(Math.ceil((endMs - startMs) / MAX_POINTS_PER_SERIES) / 1000) * 1000;
    if (!(wider > stepMs)) wider = Math.ceil((stepMs * 2) / 1000) * 1000;
    const second = await attempt(wider);
    if (second.ok) return second.result;
    if (second.error.kind === 'too-many-points') {
      const e = second.error;
      throw new PromError({
        kind: 'too-many-points',
        endpoint: e.endpoint,
        query: e.query,
        status: e.status,
        errorType: e.errorType,
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
        what: `HTTP 400: more than ${MAX_POINTS_PER_SERIES.toLocaleString('en-US')} points per series, even after widening the step from ${fmtMs(stepMs)} to ${fmtMs(wider)}`,
        hint: 'Ask for a shorter range or a wider step',
      });
    }
    throw second.error;
  }

  /** Closes the keep-alive connections. The client must not be used afterwards. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  // -------------------------------------------------------------------------------------------

  private methodFor(params: Record<string, string>): { method: 'GET' | 'POST' } {
    return { method: new URLSearchParams(params).toString().length > MAX_GET_PARAMS_LENGTH ? 'POST' : 'GET' };
  }

  private async call(c: Call): Promise<CallOutcome> {
    const endpoint = `${c.method} ${this.baseUrl}${c.path}`;
    const base = { endpoint, query: shortenQuery(c.promql) };
    const fail = (init: Omit<PromErrorInit, 'endpoint' | 'query'>): CallOutcome => ({
      ok: false,
      error: new PromError({
        ...base,
        ...init,
        what: this.redact(init.what),
        ...(init.detail !== undefined ? { detail: this.redact(init.detail) } : {}),
      }),
    });

    if (c.signal?.aborted) return fail({ kind: 'aborted', what: 'cancelled before it was sent', hint: 'Nothing to do: the caller stopped asking' });

    // The hard deadline: axios' `timeout` is a socket-idle timer, which a server that trickles
    // bytes (or a stalled body) never trips.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onCallerAbort = () => controller.abort();
    c.signal?.addEventListener('abort', onCallerAbort, { once: true });

    let res: AxiosResponse<unknown>;
    // A redirect to another origin is refused: the configured headers (a bearer token, an
    // X-Api-Key, a tenant id...) must never reach a server the user did not name.
    let crossOrigin: string | null = null;
    const beforeRedirect = (options: Record<string, unknown>) => {
      let to: URL | null = null;
      try {
        to = new URL(String(options.href));
      } catch {
        to = null;
      }
      if (to === null || to.origin !== this.origin) {
        crossOrigin = to ? `${to.protocol}//${to.host}` : String(options.href);
        options.headers = {};
        throw new Error(`redirect to another origin refused: ${crossOrigin}`);
      }
    };
    try {
      const body = new URLSearchParams(c.params).toString();
      res =
        c.method === 'GET'
          ? await this.http.get(`${c.path}?${body}`, { signal: controller.signal, beforeRedirect })
          : await this.http.post(c.path, body, {
              signal: controller.signal,
              beforeRedirect,
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            });
    } catch (err) {
      if (crossOrigin !== null)
        return fail({
          kind: 'bad-response',
          code: 'ERR_CROSS_ORIGIN_REDIRECT',
          what: `the server redirected to another origin (${crossOrigin}); canary does not follow it, so no configured header or credential is sent there`,
          hint: `Use the final URL of the Prometheus API as sources.prometheus.url / --prometheus (the redirect left ${this.origin})`,
        });
      // Never rethrow or keep `err`: an AxiosError carries the request config and its headers.
      const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
      const causeCode = (err as { cause?: { code?: unknown } })?.cause?.code;
      return fail(this.networkFailure(code, typeof causeCode === 'string' ? causeCode : undefined, timedOut, c.signal?.aborted === true, err));
    } finally {
      clearTimeout(timer);
      c.signal?.removeEventListener('abort', onCallerAbort);
    }

    return this.interpret(res, fail);
  }

  private networkFailure(
    code: string | undefined,
    causeCode: string | undefined,
    timedOut: boolean,
    callerAborted: boolean,
    err: unknown,
  ): Omit<PromErrorInit, 'endpoint' | 'query'> {
    if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT' || causeCode === 'ETIMEDOUT')
      return {
        kind: 'timeout',
        code: code ?? 'ETIMEDOUT',
        what: `no complete answer within ${fmtMs(this.timeoutMs)}`,
        hint: 'Prometheus may be overloaded or the query too heavy: raise sources.prometheus.timeout in the plan, or make the query cheaper',
      };
    if (callerAborted || code === 'ERR_CANCELED')
      return { kind: 'aborted', code: 'ERR_CANCELED', what: 'cancelled while in flight', hint: 'Nothing to do: the caller stopped asking' };
    const netCode = [code, causeCode].find((c) => c !== undefined && (c in NETWORK_CODES || TLS_CODES.has(c)));
    if (netCode !== undefined && TLS_CODES.has(netCode))
      return {
        kind: 'unreachable',
        code: netCode,
        what: `the TLS connection failed (${netCode})`,
        hint: 'Set caFile to the CA that signed the server certificate (insecureSkipVerify only for a test setup), or check that the URL scheme (http/https) is right',
      };
    if (netCode !== undefined)
      return {
        kind: 'unreachable',
        code: netCode,
        what: `cannot reach ${hostOf(this.baseUrl)}: ${NETWORK_CODES[netCode]} (${netCode})`,
        hint: 'Check that Prometheus is running and that sources.prometheus.url is right',
      };
    if (/maxContentLength/i.test(messageOf(err)))
      return {
        kind: 'bad-response',
        code: 'ERR_ANSWER_TOO_LARGE',
        what: `answer over ${fmtBytes(MAX_BODY_BYTES)} (${MAX_BODY_BYTES.toLocaleString('en-US')} bytes), reading stopped there: an SLI answer is one number, a few hundred bytes`,
        hint: 'The query returns far more than one series (add a sum() or a label matcher), or something in front of Prometheus sends another body',
      };
    if (code === 'ERR_BAD_RESPONSE' || code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED')
      return {
        kind: 'bad-response',
        code: code ?? 'ERR_BAD_RESPONSE',
        what: `the answer could not be read (${oneLine(messageOf(err), 120)})`,
        hint: 'Check that the URL points at the Prometheus API and that the query does not return a huge result',
      };
    if (code === 'ERR_FR_TOO_MANY_REDIRECTS')
      return { kind: 'bad-response', code, what: 'too many redirects', hint: 'Use the final URL of the Prometheus API (a login page redirect means an auth proxy is in front)' };
    return {
      kind: 'unreachable',
      ...(code !== undefined ? { code } : {}),
      what: `the request failed: ${oneLine(messageOf(err), 120)}${code ? ` (${code})` : ''}`,
      hint: 'Check that Prometheus is running and that sources.prometheus.url is right',
    };
  }

  private interpret(res: AxiosResponse<unknown>, fail: (init: Omit<PromErrorInit, 'endpoint' | 'query'>) => CallOutcome): CallOutcome {
    const status = res.status;
    const text = typeof res.data === 'string' ? res.data : res.data == null ? '' : String(res.data);
    const contentType = headerOf(res, 'content-type').split(';')[0]!.trim();

    if (status === 401 || status === 403) {
      const said = excerpt(text, contentType);
      const tenantHint = this.tenant === undefined
        ? ' (for Mimir/Cortex/Thanos tenants, also set the X-Scope-OrgID header)'
        : ` (and that tenant "${this.tenant}" is allowed)`;
      return fail({
        kind: 'auth',
        status,
        ...(said ? { detail: said } : {}),
        what: `HTTP ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}: the server refused the request; ${this.authDescription}${said ? `; it says "${said}"` : ''}`,
        hint: `Check the bearer token / basic auth${tenantHint}`,
      });
    }

    let json: unknown;
    let parsedJson = false;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
        parsedJson = true;
      } catch {
        parsedJson = false;
      }
    }
    if (!parsedJson && (/json/i.test(contentType) || /^\s*[[{]/.test(text))) {
      // It started as JSON and did not end as JSON: cut short (a connection closed mid-answer, a
      // proxy's size limit) or broken by something in front of Prometheus.
      let why = '';
      try {
        JSON.parse(text);
      } catch (e) {
        why = oneLine(messageOf(e), 100);
      }
      return fail({
        kind: 'bad-response',
        status,
        what: `the JSON answer (HTTP ${status}${contentType ? `, ${contentType}` : ''}, ${text.length.toLocaleString('en-US')} characters) is cut short or invalid: ${why}`,
        hint: 'The answer ended early or is not valid JSON: a proxy or load balancer in front of Prometheus may cut answers (size or time limits), or the server failed mid-answer; check their logs and retry',
      });
    }
    if (!parsedJson) {
      const what = contentType ? `got ${contentType}` : text.trim() === '' ? 'got an empty body' : 'got a body without a content type';
      const said = excerpt(text, contentType);
      return fail({
        kind: 'bad-response',
        status,
        ...(said ? { detail: said } : {}),
        what: `${what} (HTTP ${status}) from the server, not the Prometheus API${said ? `; it starts "${said}"` : ''}`,
        hint: status === 404
          ? 'Is the URL right? It should be the Prometheus base URL, with its path prefix if any (e.g. http://host/prometheus), without /api/v1'
          : status === 429
            ? `Is the URL right / is a proxy in front? ${httpHint(429, undefined)}`
            : 'Is the URL right / is a proxy in front?',
      });
    }

    const env = Envelope.safeParse(json);
    if (!env.success) {
      const said = oneLine(this.redact(text), 80);
      return fail({
        kind: status >= 400 ? 'http' : 'bad-response',
        status,
        detail: said,
        what: `HTTP ${status} with JSON that is not a Prometheus API answer ("${said}")`,
        hint: status >= 400 ? httpHint(status, undefined) : 'Is the URL right / is a proxy in front?',
      });
    }
    const e = env.data;
    if (e.status === 'error' || status >= 300) return fail(this.apiError(status, e));
    if (!e.data)
      return fail({ kind: 'bad-response', status, what: 'a success answer without data', hint: 'Is the URL right / is a proxy in front?' });

    try {
      return { ok: true, result: toResult(e.data.resultType, e.data.result, e.warnings ?? [], e.infos ?? []) };
    } catch (err) {
      return fail({
        kind: 'bad-response',
        status,
        what: `the ${e.data.resultType} result could not be read: ${oneLine(err instanceof z.ZodError ? z.prettifyError(err) : messageOf(err), 160)}`,
        hint: 'Is the URL right / is a proxy in front? A Prometheus-compatible server may answer in a format this client does not know',
      });
    }
  }

  private apiError(status: number, e: Envelope): Omit<PromErrorInit, 'endpoint' | 'query'> {
    const error = oneLine(e.error ?? '', 300);
    if (TOO_MANY_POINTS_RE.test(error))
      return {
        kind: 'too-many-points',
        status,
        ...(e.errorType !== undefined ? { errorType: e.errorType } : {}),
        detail: error,
        what: `HTTP ${status}${e.errorType ? ` ${e.errorType}` : ''}: more than ${MAX_POINTS_PER_SERIES.toLocaleString('en-US')} points per series`,
        hint: 'Use a wider step or a shorter range',
      };
    return {
      kind: 'http',
      status,
      ...(e.errorType !== undefined ? { errorType: e.errorType } : {}),
      ...(error ? { detail: error } : {}),
      what: `HTTP ${status}${e.errorType ? ` ${e.errorType}` : ''}${error ? `: ${error}` : ''}`,
      hint: httpHint(status, e.errorType),
    };
  }

  /** Replaces every known secret in `text` (token, password, their encodings). */
  private redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function toResult(resultType: ResultType, raw: unknown, warnings: string[], infos: string[]): QueryResult {
  const notes = [...warnings];
  const value = (text: string): number => {
    const v = parsePromValue(text);
    if (v === undefined) throw new Error(`"${oneLine(text, 40)}" is not a number`);
    return v;
  };
  const series: PromSeries[] = [];
  let histograms = 0;
  switch (resultType) {
    case 'vector': {
      for (const s of VectorResult.parse(raw)) {
        if (s.value) series.push({ metric: s.metric, points: [[secondsToMs(s.value[0]), value(s.value[1])]] });
        else if (s.histogram) {
          histograms += 1;
          series.push({ metric: s.metric, points: [[secondsToMs(s.histogram[0]), NaN]] });
        } else series.push({ metric: s.metric, points: [] });
      }
      break;
    }
    case 'matrix': {
      for (const s of MatrixResult.parse(raw)) {
        const points: [number, number][] = (s.values ?? []).map(([t, v]) => [secondsToMs(t), value(v)]);
        if (s.histograms?.length) {
          histograms += 1;
          for (const [t] of s.histograms) points.push([secondsToMs(t), NaN]);
          points.sort((a, b) => a[0] - b[0]);
        }
        series.push({ metric: s.metric, points });
      }
      break;
    }
    case 'scalar': {
      const [t, v] = SampleTuple.parse(raw);
      series.push({ metric: {}, points: [[secondsToMs(t), value(v)]] });
      break;
    }
    case 'string': {
      const [t, v] = SampleTuple.parse(raw);
      series.push({ metric: {}, points: [[secondsToMs(t), parsePromValue(v) ?? NaN]] });
      break;
    }
  }
  if (histograms > 0)
    notes.push(`${histograms} series hold native-histogram samples, which have no single value (shown as NaN): use histogram_quantile, histogram_count or histogram_sum`);
  return { resultType, series, warnings: notes, infos: [...infos] };
}

function httpHint(status: number, errorType: string | undefined): string {
  switch (errorType) {
    case 'bad_data':
      return 'The query or its parameters are invalid: fix the PromQL (the plan\'s slis[].query)';
    case 'execution':
      return 'The query failed while running (e.g. many-to-many matching, or too many samples): fix the PromQL or narrow it';
    case 'timeout':
      return 'Prometheus gave up on the query (its query timeout): make the query cheaper or the range shorter';
    case 'canceled':
      return 'Prometheus cancelled the query (it was shutting down or the request went away): retry';
    case 'unavailable':
      return 'Prometheus is not ready (starting up, or overloaded): wait and retry; check its /-/ready';
    case 'internal':
      return 'Prometheus failed internally: see its logs';
    case 'not_found':
      return 'The API endpoint was not found: check the URL and its path prefix';
    case 'not_acceptable':
      return 'The server did not accept the request format';
  }
  if (status === 429) return 'The server is rate limiting: lower the query rate (the source period) or raise the limit';
  if (status === 404) return 'Check the URL and its path prefix (e.g. http://host/prometheus)';
  if (status >= 500) return 'The server failed: retry, and see its logs if it persists';
  return 'Check the query and the URL';
}

/** The first 80 characters of a body, tags stripped and whitespace collapsed. */
function excerpt(text: string, contentType: string): string {
  let t = text;
  if (/html|xml/i.test(contentType) || /^\s*</.test(t)) {
    t = t
      .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/g, ' ')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  }
  return oneLine(t, 80);
}

function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** PromQL for messages: whitespace collapsed, at most 80 characters. */
export function shortenQuery(promql: string): string {
  return oneLine(promql, 80);
}

function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function headerOf(res: AxiosResponse<unknown>, name: string): string {
  const h = res.headers as Record<string, unknown> | undefined;
  const v = h?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? String(v[0] ?? '') : '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function signalOf(opts: RequestOptions): { signal?: AbortSignal } {
  return opts.signal ? { signal: opts.signal } : {};
}

function msToSeconds(ms: number): string {
  return String(ms / 1000);
}

function secondsToMs(s: number): number {
  return Math.round(s * 1000);
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
