// The simulated world as a Prometheus target: an HTTP server on loopback whose /metrics serves the
// world's cumulative counters and latency histogram in the Prometheus text format, with the names
// and labels the plan's PromQL uses (http_requests_total{track,code},
// http_request_duration_seconds_bucket{track,le}, workflows_total{track}, ...), so a real Prometheus
// scraping it answers the plan's own queries.
//
// Every scrape first moves the world to the clock's now (`advance`, default true) and then reads
// `world.counters(track)` for every track (canary, baseline, stable). The events that advance returns
// (sli.samples, pods.*) are dropped: with `advance: true` the exporter must be the only thing that
// advances the world. When something else drives it and consumes its events (SimSource in the
// product), pass `advance: false`: the exporter then serves the counters as of that driver's last
// advance (SimSource ticks every 250 ms, well under a scrape interval).
//
// A dedicated prom-client Registry (never the global one): several exporters can run in one process.
// Counters are set from the world at each scrape and only ever go up (a high-water mark per series
// guards against any float rounding in the world's per-code / per-kind splits).
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import type { SimTrack } from './counters.js';
import type { Clock } from '../runtime/ports.js';
import { LATENCY_BUCKETS } from './world.js';
import type { SimWorld } from './world.js';

export interface ExporterOptions {
  world: SimWorld;
  clock: Clock;
  /** Loopback only: 127.0.0.1 (default), another 127.x.x.x, ::1 or localhost. */
  host?: string;
  /** 0 (default): a free port, see `port` on the result. */
  port?: number;
  /**
   * Move the world to `clock.now()` before each scrape (default true), dropping the events that
   * advance returns. False when another driver advances the world and consumes its events.
   */
  advance?: boolean;
}

export interface Exporter {
  /** http://host:port (no trailing slash); the metrics are at `${url}/metrics`. */
  url: string;
  port: number;
  /** The dedicated registry the exporter serves. */
  registry: Registry;
  /** Scrapes of /metrics answered so far. */
  readonly scrapes: number;
  close(): Promise<void>;
}

type WorldCounters = ReturnType<SimWorld['counters']>;
const TRACKS: readonly SimTrack[] = ['canary', 'baseline', 'stable'];
const CODES = ['200', '500', '503'] as const;
const KINDS = ['security', 'content'] as const;

/** The per-track counters with only a `track` label: metric name, help, and where in the world. */
const TRACK_COUNTERS: readonly { name: string; help: string; read: (c: WorldCounters) => number }[] = [
  { name: 'workflows_total', help: 'Workflows started.', read: (c) => c.workflows },
  { name: 'workflow_failures_total', help: 'Workflows that failed.', read: (c) => c.workflowFailures },
  { name: 'critical_errors_total', help: 'Critical errors logged.', read: (c) => c.criticalErrors },
  { name: 'data_integrity_failures_total', help: 'Data integrity check failures.', read: (c) => c.dataIntegrityFailures },
  { name: 'memory_leak_detections_total', help: 'Memory leak detections.', read: (c) => c.memoryLeaks },
  { name: 'customer_complaints_total', help: 'Customer complaints filed.', read: (c) => c.customerComplaints },
  { name: 'security_incidents_total', help: 'Security incidents declared.', read: (c) => c.securityIncidents },
];

const HISTOGRAM_NAME = 'http_request_duration_seconds';
const HISTOGRAM_HELP = 'HTTP request latency in seconds.';

type HistogramObject = Awaited<ReturnType<Histogram<string>['get']>>;
type HistogramValue = HistogramObject['values'][number];

/**
 * A histogram whose series are the world's cumulative buckets, not observations: prom-client's
 * Registry reads `getForPromString()` (text format) or `get()` (JSON); both answer the series.
 */
class WorldHistogram extends Histogram<string> {
  constructor(
    registry: Registry,
    private readonly series: () => HistogramValue[],
  ) {
    super({ name: HISTOGRAM_NAME, help: HISTOGRAM_HELP, labelNames: ['track'], buckets: [...LATENCY_BUCKETS], registers: [registry] });
  }

  override async get(): Promise<HistogramObject> {
    return this.object();
  }

  async getForPromString(): Promise<HistogramObject> {
    return this.object();
  }

  private object(): HistogramObject {
    // `type` is the string prom-client uses at run time (its typings declare an enum it does not export).
    const obj = { name: HISTOGRAM_NAME, help: HISTOGRAM_HELP, type: 'histogram', values: this.series(), aggregator: 'sum' };
    return obj as unknown as HistogramObject;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const INDEX = `canary simulated world: Prometheus exporter

/metrics   the world's counters and latency histogram (Prometheus text format)
           tracks: canary, baseline, stable
`;

/** Starts the exporter; resolves once it listens. */
export async function startExporter(opts: ExporterOptions): Promise<Exporter> {
  const { world, clock } = opts;
  const host = opts.host ?? '127.0.0.1';
  const advance = opts.advance ?? true;
  if (!isLoopback(host)) throw new Error(`sim exporter: listens on loopback only (127.0.0.1, ::1, localhost), not "${host}"`);
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`sim exporter: port must be 0..65535, got ${port}`);

  const registry = new Registry();

  // What the collectors read: taken once per scrape, after the advance.
  let snapshot: Record<SimTrack, WorldCounters> | null = null;
  const read = (): Record<SimTrack, WorldCounters> => (snapshot ??= { canary: world.counters('canary'), baseline: world.counters('baseline'), stable: world.counters('stable') });
  const highWater = new Map<string, number>();
  const mono = (key: string, v: number): number => {
    const prev = highWater.get(key) ?? 0;
    const next = Number.isFinite(v) && v > prev ? v : prev;
    highWater.set(key, next);
    return next;
  };

  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by track and status code.',
    labelNames: ['track', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      const s = read();
      for (const track of TRACKS)
        for (const code of CODES) this.inc({ track, code }, mono(`req|${track}|${code}`, s[track].requestsByCode[code]));
    },
  });
  new Counter({
    name: 'safety_violations_total',
    help: 'Safety guardrail violations, by track and kind.',
    labelNames: ['track', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      const s = read();
      for (const track of TRACKS)
        for (const kind of KINDS) this.inc({ track, kind }, mono(`safety|${track}|${kind}`, s[track].safetyViolationsByKind[kind]));
    },
  });
  for (const spec of TRACK_COUNTERS) {
    new Counter({
      name: spec.name,
      help: spec.help,
      labelNames: ['track'],
      registers: [registry],
      collect() {
        this.reset();
        const s = read();
        for (const track of TRACKS) this.inc({ track }, mono(`${spec.name}|${track}`, spec.read(s[track])));
      },
    });
  }
  new WorldHistogram(registry, () => {
    const s = read();
    const values: HistogramValue[] = [];
    for (const track of TRACKS) {
      const c = s[track];
      c.buckets.forEach((count, i) => {
        const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
        values.push({ metricName: `${HISTOGRAM_NAME}_bucket`, labels: { track, le }, value: mono(`le|${track}|${le}`, count) });
      });
      values.push({ metricName: `${HISTOGRAM_NAME}_sum`, labels: { track }, value: mono(`sum|${track}`, c.latencySumSeconds) });
      values.push({ metricName: `${HISTOGRAM_NAME}_count`, labels: { track }, value: mono(`le|${track}|+Inf`, c.buckets.at(-1) ?? 0) });
    }
    return values;
  });

  let scrapes = 0;
  async function metrics(): Promise<string> {
    if (advance) world.advanceTo(clock.now()); // events dropped: see the file comment
    snapshot = null;
    try {
      return await registry.metrics();
    } finally {
      snapshot = null;
    }
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, head = false): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(head ? undefined : body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const head = req.method === 'HEAD';
    if (path !== '/' && path !== '/metrics') return send(res, 404, `not found: ${path}\n`, {}, head);
    if (req.method !== 'GET' && !head) return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    if (path === '/') return send(res, 200, INDEX, {}, head);
    try {
      const body = await metrics();
      scrapes++;
      send(res, 200, body, { 'content-type': registry.contentType }, head);
    } catch (err) {
      send(res, 500, `sim exporter: ${err instanceof Error ? err.message : String(err)}\n`, {}, head);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `sim exporter: ${String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port: bound,
    registry,
    get scrapes() {
      return scrapes;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // Prometheus keeps its scrape connection alive
      });
      return closing;
    },
  };
}
