// The driver's own endpoints, for the cluster to watch the watcher: /healthz (the process is alive
// and its event loop turns), /readyz (who drives is known, and the sources answer), /metrics
// (prom-client: phase, set and confirmed weight, verdict, decisions, lease held, last decision
// age, source health), so the cluster's Prometheus can alert on the driver itself.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RolloutState } from '../engine/types.js';

export interface HealthView {
  /** Null: ready. Otherwise why not. */
  notReady(): string | null;
  state(): RolloutState | null;
  leaseHeld(): boolean;
  /** Epoch ms of the last decision journaled (null: none yet). */
  lastDecisionAt(): number | null;
  now(): number;
}

export class DriverMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter;
  readonly stateWrite: Histogram;
  readonly statusConflicts: Counter;
  readonly takeovers: Counter;

  constructor(view: HealthView) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'canary_driver_process_' });
    this.decisions = new Counter({ name: 'canary_decisions_total', help: 'Decisions journaled in the cluster by this driver', registers: [r] });
    this.stateWrite = new Histogram({ name: 'canary_cluster_write_seconds', help: 'One journal write (segment patch) in the cluster', buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1], registers: [r] });
    this.statusConflicts = new Counter({ name: 'canary_status_conflicts_total', help: 'Status writes answered 409 (re-read and retried)', registers: [r] });
    this.takeovers = new Counter({ name: 'canary_takeovers_total', help: 'Times this process took the lease and resumed the rollout', registers: [r] });
    const phases = ['pending', 'running', 'paused', 'completed', 'rolled-back'] as const;
    new Gauge({
      name: 'canary_rollout_status',
      help: 'The rollout status (1 for the current one), with its phase',
      labelNames: ['status', 'phase'],
      registers: [r],
      collect() {
        this.reset();
        const s = view.state();
        if (!s) return;
        for (const p of phases) this.set({ status: p, phase: String(s.phaseIndex) }, s.status === p ? 1 : 0);
      },
    });
    new Gauge({
      name: 'canary_weight_percent',
      help: 'Canary traffic weight: set (asked for) and confirmed (read back from the provider)',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        this.reset();
        const s = view.state();
        if (!s) return;
        this.set({ kind: 'set' }, s.desiredWeight);
        if (s.appliedWeight !== null) this.set({ kind: 'confirmed' }, s.appliedWeight);
      },
    });
    new Gauge({
      name: 'canary_verdict',
      help: 'The last verdict per SLI criterion: 1 pass, 0 fail, -1 no data',
      labelNames: ['sli'],
      registers: [r],
      collect() {
        this.reset();
        for (const c of view.state()?.criteria ?? []) this.set({ sli: c.sli }, c.verdict === 'pass' ? 1 : c.verdict === 'fail' ? 0 : -1);
      },
    });
    new Gauge({
      name: 'canary_lease_held',
      help: '1 while this process holds the Lease and may change traffic',
      registers: [r],
      collect() {
        this.set(view.leaseHeld() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'canary_last_decision_age_seconds',
      help: 'Seconds since the last decision this driver journaled (absent before the first)',
      registers: [r],
      collect() {
        this.reset();
        const at = view.lastDecisionAt();
        if (at !== null) this.set(Math.max(0, (view.now() - at) / 1000));
      },
    });
    new Gauge({
      name: 'canary_source_up',
      help: 'Source health as the engine last heard it: 1 answering, 0 failing',
      labelNames: ['source'],
      registers: [r],
      collect() {
        this.reset();
        for (const [name, h] of Object.entries(view.state()?.sources ?? {})) this.set({ source: name }, h.ok ? 1 : 0);
      },
    });
  }
}

export interface HealthServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(o: { host: string; port: number; view: HealthView; metrics: DriverMetrics }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const why = o.view.notReady();
      res.writeHead(why ? 503 : 200, { 'Content-Type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ok\n');
      return;
    }
    if (path === '/metrics') {
      o.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': o.metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: /healthz, /readyz, /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
