// The simulated service over HTTP, on loopback, so a load test has something real to hit and the
// SLI panes show what the load does. Each request goes to the canary or the baseline track (by
// `/canary/...` or `/baseline/...`, else like the mesh would: the canary weight's share to the
// canary, as much again to the baseline, the rest to stable, which no SLI measures), and is
// answered the way that track behaves in the world right now: delayed by a latency drawn from
// its distribution, a 5xx at its error rate, a fast 503 when its pods are down.
//
// Requests served feed the world back: the rate each track receives (real requests per second,
// over the last second) is added to its simulated traffic as requests per simulated second, and
// the extra load slows the track like a queue (world.ts, trackParams). So a load test moves the
// request-rate and latency sparklines, whatever the clock speed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Track } from '../engine/types.js';
import { isLoopbackHost, TARGET_IDENTITY_HEADER, TARGET_IDENTITY_PATH } from '../plan/loadtests.js';
import { Rng } from './random.js';
import type { SimWorld } from './world.js';

export type ServedTrack = Track | 'stable';

export interface SimServiceOptions {
  world: SimWorld;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Multiplies the latency each response is delayed by (1: as the world says). */
  latencyScale?: number;
  seed?: number;
  /** What it answers at the identity path (the plan's metadata.name): load tests check it first. */
  identity?: string;
}

export interface SimService {
  readonly url: string;
  readonly port: number;
  /** Responses sent, by track and status code. */
  counts(): Record<ServedTrack, Record<string, number>>;
  /** All responses sent. */
  total(): number;
  close(): Promise<void>;
}

const P95_Z = 1.6448536269514722;
const RATE_WINDOW_MS = 1_000;
const FEED_EVERY_MS = 250;

export async function startSimService(opts: SimServiceOptions): Promise<SimService> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`the simulated service listens on loopback only (127.0.0.1, ::1, localhost), not ${host}`);
  const world = opts.world;
  const scale = opts.latencyScale ?? 1;
  const rng = new Rng(opts.seed ?? 7);
  const counts: Record<ServedTrack, Record<string, number>> = { canary: {}, baseline: {}, stable: {} };
  let total = 0;
  // Arrival times per measured track, for the rate over the last second.
  const arrivals: Record<Track, number[]> = { canary: [], baseline: [] };
  let split = 0; // deterministic weighted round-robin
  const pending = new Set<NodeJS.Timeout>();
  // The extra load the service's traffic puts on the world, fed every 250 ms while requests come
  // (and once more after the last, back to none); an idle service sets no timer at all.
  let feeder: NodeJS.Timeout | null = null;
  const feed = (): void => {
    const now = performance.now();
    for (const tr of ['canary', 'baseline'] as const) {
      const a = arrivals[tr];
      let i = 0;
      while (i < a.length && a[i]! < now - RATE_WINDOW_MS) i++;
      if (i) a.splice(0, i);
      world.setExtraLoad(tr, (a.length * 1000) / RATE_WINDOW_MS);
    }
    if (feeder !== null && arrivals.canary.length === 0 && arrivals.baseline.length === 0) {
      clearInterval(feeder);
      feeder = null;
    }
  };
  const feeding = (): void => {
    if (feeder !== null) return;
    feeder = setInterval(feed, FEED_EVERY_MS);
    feeder.unref();
  };
  const stopFeeding = (): void => {
    if (feeder !== null) clearInterval(feeder);
    feeder = null;
  };

  const pickTrack = (path: string): ServedTrack => {
    if (path.startsWith('/canary')) return 'canary';
    if (path.startsWith('/baseline')) return 'baseline';
    const w = world.behaviour('canary').weight / 100;
    split = (split + 1) % 1_000_000;
    const x = (split * 0.6180339887498949) % 1; // low-discrepancy: shares come out right over few requests
    return x < w ? 'canary' : x < 2 * w ? 'baseline' : 'stable';
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === TARGET_IDENTITY_PATH) {
      res.writeHead(opts.identity ? 200 : 404, { 'content-type': 'text/plain', ...(opts.identity ? { [TARGET_IDENTITY_HEADER]: opts.identity } : {}) }).end(`${opts.identity ?? 'no identity'}\n`);
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    // The simulated flag service (a plan's flag with webhookEnv, on the embedded world): a POST
    // to /flags/<name> enables it. Not service traffic: it is not counted.
    const flag = /^\/flags\/([A-Za-z0-9._-]{1,100})$/.exec(path);
    if (flag) {
      req.resume();
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('POST to enable a flag\n');
        return;
      }
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ flag: flag[1], enabled: true, service: 'simulated flag service' })}\n`));
      return;
    }
    req.resume(); // bodies are read and dropped
    const track = pickTrack(path);
    const b = world.behaviour(track === 'stable' ? 'baseline' : track);
    if (track !== 'stable') {
      arrivals[track].push(performance.now());
      feeding();
    }
    let status = 200;
    let ms: number;
    if (rng.next() < b.unavailableShare && track === 'canary') {
      status = 503;
      ms = 2;
    } else {
      if (rng.next() < b.errorShare) status = 500;
      const mu = Math.log(b.p95Ms) - P95_Z * b.sigma;
      ms = Math.exp(rng.normal(mu, b.sigma));
    }
    const delay = Math.min(30_000, Math.max(0, ms * scale));
    const t = setTimeout(() => {
      pending.delete(t);
      if (res.destroyed || req.socket.destroyed) return; // the client went away: nothing was served
      counts[track][String(status)] = (counts[track][String(status)] ?? 0) + 1;
      total += 1;
      const body = status === 200 ? `{"ok":true,"track":"${track}"}\n` : `{"ok":false,"track":"${track}","status":${status}}\n`;
      res.writeHead(status, { 'content-type': 'application/json', 'x-canary-track': track }).end(body);
    }, delay);
    pending.add(t);
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    counts: () => ({ canary: { ...counts.canary }, baseline: { ...counts.baseline }, stable: { ...counts.stable } }),
    total: () => total,
    async close() {
      stopFeeding();
      for (const t of pending) clearTimeout(t);
      pending.clear();
      world.setExtraLoad('canary', 0);
      world.setExtraLoad('baseline', 0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
