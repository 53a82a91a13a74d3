// War-room benchmark: 200 viewers joined over loopback (in a worker thread, so their work does not
// share the driver's event loop), a rollout with 3,000 pods, 200 state changes 20 ms apart (SLI
// samples; every 10th also changes 5 pods). Measures, per change, the time from the dispatch on
// the driver to the moment the last of the 200 viewers has applied it, and the bytes of a patch.
//   warroom_update_to_last_viewer_p99_ms   goal 50 (loopback)
//   warroom_driver_flush_p99_ms            what the driver pays per change (diff, encode once, 200 sends)
//   warroom_update_bytes_median            bytes of one patch (each viewer gets the same text)
//   warroom_snapshot_kb                    the join snapshot with 3,000 pods (sent once per join)
//   ws_broadcast_to_last_client_p99_ms     the floor: the very same update texts, 20 ms apart, from a
//                                          bare ws server to 200 bare ws clients in the same two
//                                          threads, send to the last client's message event
import { Worker } from 'node:worker_threads';
import { WebSocketServer } from 'ws';
import type { Plan } from '../src/plan/schema.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import type { Actor, EngineEvent, PodInfo, RolloutState, SliSample } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import { WarRoomServer } from '../src/warroom/server.js';
import { issueTokens, TokenBook } from '../src/warroom/tokens.js';

const MIN = 60_000;
/** Changes sent after the joins and before the measured ones. */
const WARMUP = 50;

function store(plan: Plan, start: number): Store & { t: number } {
  let state: RolloutState = initialState(plan, start);
  const listeners = new Set<() => void>();
  const s = {
    t: start,
    getState: () => state,
    subscribe(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    dispatch(e: EngineEvent) {
      state = reduce(plan, state, e).state;
      for (const l of listeners) l();
    },
  };
  return s;
}

function samples(plan: Plan, i: number): SliSample[] {
  const base: Record<string, number> = { availability: 99.97, latency_p95: 320, error_rate: 0.03, workflow_success_rate: 99.8, request_rate: 850 };
  return plan.slis.flatMap((s) => {
    const v = base[s.name] ?? 0;
    return [
      { sli: s.name, track: 'canary' as const, value: v + (s.name === 'latency_p95' ? 30 * Math.sin(i / 3) : 0) },
      { sli: s.name, track: 'baseline' as const, value: v },
    ];
  });
}

function pods(region: string, n: number, start: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${region}/ns/orchestrator-${i}`,
    name: `orchestrator-${String(i).padStart(5, '0')}`,
    namespace: 'maestro-conductor-canary',
    region,
    track: i % 10 === 0 ? ('canary' as const) : ('stable' as const),
    phase: 'Running' as const,
    ready: true,
    reason: 'Running',
    restarts: 0,
    startedAt: start - i * MIN,
  }));
}

export async function warroomBench(plan: Plan, start: number, viewers = 200, changes = 200): Promise<{ receivedP50: number; receivedP99: number; appliedP50: number; appliedP99: number; applyUsMedian: number; driverFlushP99: number; bytesMedian: number; podsDeltaBytes: number; snapshotKb: number; gaps: number; wsFloorP99: number; heldBack: number }> {
  const s = store(plan, start);
  const actor: Actor = { id: 'bench', name: 'bench' };
  for (const r of plan.target.regions) s.dispatch({ type: 'pods.sync', at: start, region: r, pods: pods(r, 1000, start) });
  s.dispatch({ type: 'approve', at: start, actor: { id: 'dev', roles: ['eng-lead'] }, phase: plan.phases[0]!.id, role: 'eng-lead' });
  const { file, issued } = issueTokens(plan, { people: [], viewers });
  const server = new WarRoomServer({ store: s, tokens: new TokenBook(plan, file), planName: plan.metadata.name, now: () => s.t });
  // The texts the viewers were sent, for the floor (sent again by a bare ws server).
  const texts: string[] = [];
  const url = await server.listen();
  // What the driver pays per change: diff, encode once, hand the bytes to 200 sockets.
  const flushMs: number[] = [];
  const flush = server.flush.bind(server);
  server.flush = () => {
    const t = performance.now();
    flush();
    if (server.clientInfo().length >= viewers) flushMs.push(performance.now() - t);
    const last = (server as unknown as { ring: [number, Buffer][] }).ring.at(-1);
    if (last && last[0] === server.sequence && texts.length < server.sequence) texts.push(last[1].toString());
  };
  // Two threads of viewers (the machine has two cores): a viewer's own work (parse, apply) is done
  // in its own process in real life; here 100 of them share a thread.
  const tokens = issued.map((i) => i.token);
  const half = Math.ceil(tokens.length / 2);
  const workers = [tokens.slice(0, half), tokens.slice(half)].filter((t) => t.length).map((t) => new Worker(new URL('./warroom-viewers.js', import.meta.url), { workerData: { url, tokens: t } }));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        }),
    ),
  );
  const snapshotKb = server.stats.snapshotBytes / server.stats.snapshots / 1024;
  const sentAt = new Map<number, number>();
  const now = () => performance.timeOrigin + performance.now();
  const sizes: number[] = [];
  let podSize = 0;
  // A warm-up first, not measured: right after 200 joins each viewers' thread holds ~100 MB of
  // fresh snapshot state in its young generation, and the scavenges that promote it (30-130 ms
  // pauses, --trace-gc) fall on the next updates. A war room's viewers join over time; the join
  // itself is measured as snapshot bytes.
  for (let i = -WARMUP; i < changes; i++) {
    s.t += MIN;
    const bytesBefore = server.stats.updateBytes;
    const t0 = now();
    s.dispatch({ type: 'sli.samples', at: s.t, samples: samples(plan, i) });
    if (i % 10 === 9) {
      const r = plan.target.regions[i % plan.target.regions.length]!;
      const changed = pods(r, 5, start).map((p) => ({ ...p, ready: false, reason: 'CrashLoopBackOff', restarts: i }));
      s.dispatch({ type: 'pods.delta', at: s.t, upserts: changed, deletes: [] });
    }
    await Promise.resolve(); // the server's flush (a microtask queued by the change) has run
    if (i < 0) {
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    sentAt.set(server.sequence, t0);
    const size = server.stats.updateBytes - bytesBefore;
    if (i % 10 === 9) podSize = Math.max(podSize, size);
    else sizes.push(size);
    await new Promise((r) => setTimeout(r, 20));
  }
  type Result = { received: [number, number][]; applied: [number, number][]; applyUs: number[]; gaps: number };
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<Result>((resolve) => {
          w.on('message', (m: Result & { type: string }) => m.type === 'result' && resolve(m));
          w.postMessage({ type: 'collect', until: server.sequence });
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  await server.close();
  const lastOf = (pick: (r: Result) => [number, number][]) => {
    const m = new Map<number, number>();
    for (const r of results) for (const [seq, t] of pick(r)) m.set(seq, Math.max(m.get(seq) ?? 0, t));
    return m;
  };
  const quantiles = (last: Map<number, number>) => {
    const lat = [...sentAt].map(([seq, t]) => (last.get(seq) ?? Number.NaN) - t).sort((a, b) => a - b);
    return (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!;
  };
  const wsFloorP99 = await bareBroadcastP99(texts.slice(-changes), viewers);
  const rec = quantiles(lastOf((r) => r.received));
  const app = quantiles(lastOf((r) => r.applied));
  const applyUs = results.flatMap((r) => r.applyUs).sort((a, b) => a - b);
  flushMs.sort((a, b) => a - b);
  sizes.sort((a, b) => a - b);
  return {
    receivedP50: rec(0.5),
    receivedP99: rec(0.99),
    appliedP50: app(0.5),
    appliedP99: app(0.99),
    applyUsMedian: applyUs[Math.floor(applyUs.length / 2)]!,
    driverFlushP99: flushMs[Math.min(flushMs.length - 1, Math.floor(flushMs.length * 0.99))]!,
    bytesMedian: sizes[Math.floor(sizes.length / 2)]!,
    podsDeltaBytes: podSize,
    snapshotKb,
    gaps: results.reduce((a, r) => a + r.gaps, 0),
    wsFloorP99,
    heldBack: server.stats.degraded,
  };
}

/** The floor: `texts` broadcast 20 ms apart by a bare ws server (no auth, no diff, no ring) to
 * `clients` bare ws clients in two worker threads, as the viewers are; p99 of send -> the last
 * client's message event. */
async function bareBroadcastP99(texts: string[], clients: number): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const half = Math.ceil(clients / 2);
  const workers = [half, clients - half].filter((n) => n > 0).map((n) => new Worker(new URL('./ws-clients.js', import.meta.url), { workerData: { url: `ws://127.0.0.1:${port}`, clients: n } }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => (w.once('message', () => resolve()), w.once('error', reject)))));
  const now = () => performance.timeOrigin + performance.now();
  const sentAt = new Map<number, number>();
  const SEQ = /^\{"t":"u","seq":(\d+),/;
  let lastSeq = 0;
  for (const text of texts) {
    const seq = Number(SEQ.exec(text)?.[1]);
    const data = Buffer.from(text);
    sentAt.set(seq, now());
    for (const c of wss.clients) c.send(data, { binary: false });
    lastSeq = seq;
    await new Promise((r) => setTimeout(r, 20));
  }
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ received: [number, number][] }>((resolve) => {
          w.on('message', (m: { type: string; received: [number, number][] }) => m.type === 'result' && resolve(m));
          w.postMessage({ type: 'collect', until: lastSeq });
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  const last = new Map<number, number>();
  for (const r of results) for (const [seq, t] of r.received) last.set(seq, Math.max(last.get(seq) ?? 0, t));
  const lat = [...sentAt].map(([seq, t]) => (last.get(seq) ?? Number.NaN) - t).sort((a, b) => a - b);
  return lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!;
}
