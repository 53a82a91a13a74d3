// Kubernetes benchmarks, against the wire-protocol API servers of test/kube on 127.0.0.1:
//   kube_rollback_key_to_patch_p99_ms  from the `y` of `R` `y` written to the console's stdin until
//                  the last of three clusters has received its PATCH (the server's own arrival
//                  stamp), with 3,000 pods live (1,000 per cluster, 50 pod changes a second
//                  streaming through the watches); 20 rollbacks after 3 warm-up ones, so the "p99"
//                  is the worst of the 20. Each cluster's server, its pods, its share of the
//                  churn and its arrival stamps run in a worker thread of its own
//                  (bench/kube-servers.ts), as a real API server runs in a process of its own (on
//                  another machine): on the console's thread, a redraw queued before the server's
//                  read of the PATCH was counted as rollback latency. One thread per cluster,
//                  because three clusters are three servers that never wait for each other (all
//                  three in one thread measured the same within the noise: eleven interleaved
//                  pairs of runs, 7.5-23 ms in one thread, 8.1-22 ms in three). Every thread
//                  times with `performance.timeOrigin + performance.now()`
//                  (one clock, checked at start: ServersThread.checkClock).
//   kube_list_3000_pods_ratio          canary's initial list of 3,000 pods (request to pods.sync
//                  classified) over `kubectl get pods -o json` on the same server (its wall time).
//                  That server stays in this process: nothing else runs on the thread while canary
//                  lists (no console, no churn), so what shares canary's thread is the server's
//                  own work answering the list, which kubectl's time includes as well. Moved to a
//                  worker thread it measured slower, not faster (interleaved, load 2-2.5: 115-178
//                  ms in process, 181-207 ms in a worker), so in process does not flatter canary;
//                  the ratio is ~0.05-0.08 either way (kubectl: ~2.5-3.5 s, mostly its start).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import React from 'react';
import { render } from 'ink';
import { stringify, parse } from 'yaml';
import { App } from '../components/App.js';
import { Plan } from '../src/plan/schema.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import type { EngineEvent, RolloutState } from '../src/engine/types.js';
import { Runtime } from '../src/runtime/runtime.js';
import { connectKubernetes } from '../src/kubernetes.js';
import { connectClusters } from '../src/kube/config.js';
import { KubePodsSource } from '../src/sources/kube-pods.js';
import { SimCrew } from '../src/sim/crew.js';
import { startKubeApiServer, kubeconfigFor } from '../test/kube/apiserver.js';
import { makePods } from '../test/kube/fixtures.js';
import type { KubeServersConfig, KubeServersReply, KubeServersRequest } from './kube-servers.js';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const NS = 'maestro-conductor-canary';

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function istioPlan(seedText: string): Plan {
  const raw = parse(seedText);
  raw.target.selectors = { canary: { app: 'orchestrator', track: 'canary' }, stable: { app: 'orchestrator', track: 'stable' } };
  raw.target.clusters = Object.fromEntries(REGIONS.map((r) => [r, { context: r }]));
  raw.traffic = { provider: 'istio', istio: { virtualService: 'orchestrator', canary: { host: 'orchestrator', subset: 'canary' }, stable: { host: 'orchestrator', subset: 'stable' } } };
  delete raw.rollback.hook;
  return Plan.parse(raw);
}

/** A state at 25% in every region, as after three gates (the crew approves at once). */
function at25(plan: Plan, t0: number): RolloutState {
  let s = initialState(plan, t0);
  const crew = new SimCrew(plan, { approveAfterMs: 0, goAfterMs: 0, advanceAfterMs: 0 });
  const send = (e: EngineEvent) => {
    const r = reduce(plan, s, e);
    s = r.state;
    for (const eff of r.effects) {
      if (eff.type === 'set-weight') s = reduce(plan, s, { type: 'effect.result', at: s.now, effectId: eff.id, ok: true, detail: 'ok', weight: eff.weight }).state;
      // The crew's checklist checks answer (engine rules 3: the crew waits for a running check).
      if (eff.type === 'run-command') s = reduce(plan, s, { type: 'command.result', at: s.now, runId: eff.id, ok: true, exitCode: 0, detail: 'exited 0' }).state;
    }
  };
  const healthy = [
    // with the stable fleet's, the first gate's evidence (sent at 0% only, as the world does)
    ...['canary', 'baseline', 'stable'].flatMap((track) =>
      Object.entries({ availability: 99.97, latency_p95: 220, error_rate: 0.03, workflow_success_rate: 99.9, request_rate: 8, safety_violations: 0, critical_errors: 0, security_violations: 0, data_integrity_failures: 0, memory_leaks: 0, customer_complaints: 0, security_incidents: 0 }).map(
        ([sli, value]) => ({ sli, track: track as 'canary' | 'baseline' | 'stable', value }),
      ),
    ),
  ];
  for (let m = 0; m < 60 * 24 * 10 && s.desiredWeight < 25; m++) {
    send({ type: 'sli.samples', at: s.now + 60_000, samples: s.desiredWeight === 0 ? healthy : healthy.filter((x) => x.track !== 'stable') });
    for (const e of crew.decide(s)) send(e);
  }
  if (s.desiredWeight !== 25) throw new Error(`bench: could not reach 25% (at ${s.desiredWeight}%)`);
  return s;
}

export async function kubeRollbackBench(seedText: string, iterations = 20): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-kube-'));
  const plan = istioPlan(seedText);
  // Each cluster's API server, its pods, its share of the churn and its receive times in a thread
  // of its own (see the header and bench/kube-servers.ts): three clusters are three independent
  // servers, none of which waits for another's work before reading canary's PATCH.
  const servers = REGIONS.map((r) => {
    const config: KubeServersConfig = {
      namespace: NS,
      clusters: [{ context: r, pods: 1000, prefix: `orch-${r}` }],
      crds: ['virtualservices.networking.istio.io'],
      churnPerSecond: 50 / REGIONS.length, // 50 pod changes a second across the clusters
    };
    return new ServersThread(new Worker(new URL('./kube-servers.js', import.meta.url), { workerData: config }));
  });
  let kube: Awaited<ReturnType<typeof connectKubernetes>> | null = null;
  const times: number[] = [];
  try {
    const kubeconfigs = await Promise.all(servers.map(async (s) => (await s.next('ready', 60_000)).kubeconfig));
    for (const s of servers) await s.checkClock();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, mergeKubeconfigs(kubeconfigs));
    const planPath = join(dir, 'plan.yaml');
    writeFileSync(planPath, stringify(plan));
    const start = at25(plan, Date.parse('2026-11-30T14:00:00Z'));
    kube = await connectKubernetes(plan, { planPath, kubeconfig, now: () => Date.now(), lease: false, driftEveryMs: 100 });
    let runtime: Runtime | null = null;
    // One pods source for the whole bench, feeding whichever console is current.
    const early: EngineEvent[] = [];
    const forward = (e: EngineEvent) => (runtime ? runtime.dispatch(e) : early.push(e));
    kube.pods.start(forward);
    kube.watch.start(forward); // as in the console (every 10 s there; every 100 ms here to keep the bench short)
    for (const s of servers) s.send({ type: 'churn' });
    for (let i = 0; i < iterations + 3; i++) {
      // Each cluster's VirtualService back at 75/25, its request log cleared, waiting for a PATCH.
      for (const s of servers) s.send({ type: 'arm', id: i });
      for (const s of servers) await s.next('armed', 5_000);
      await sleep(150); // the drift watch has read the new weights
      const pods = runtime?.getState().pods;
      const rt: Runtime = new Runtime({ plan, clock: { now: () => Date.now(), speed: 1 }, traffic: kube.traffic, initial: { ...start, ...(pods ? { pods } : {}) }, tickMs: 0, notifyEveryMs: 100 });
      runtime = rt;
      for (const e of early.splice(0)) rt.dispatch(e);
      const stdout = Object.assign(new PassThrough(), { columns: 120, rows: 40, isTTY: true });
      stdout.resume();
      const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
      const ink = render(<App plan={plan} store={rt} actor={{ id: 'bench', name: 'Bench' }} now={() => Date.now()} columns={120} rows={40} />, {
        stdout: stdout as unknown as NodeJS.WriteStream,
        stdin: stdin as unknown as NodeJS.ReadStream,
        patchConsole: false,
        exitOnCtrlC: false,
      });
      if (i === 0) await waitFor(() => (runtime?.getState().pods.size ?? 0) >= 3000, 'the 3,000 pods', 20_000);
      await sleep(30);
      stdin.write('R');
      await sleep(30);
      const patched = Promise.all(servers.map((s) => s.next('patched', 5_000)));
      const t0 = clock();
      stdin.write('y');
      const at: number[] = [];
      for (const p of await patched) {
        if (p.id !== i) throw new Error(`bench: a PATCH of rollback ${p.id} reported during rollback ${i}`);
        at.push(...p.at);
      }
      if (i >= 3) times.push(Math.max(...at) - t0); // the first runs warm the JIT up
      await waitFor(() => rt.getState().pending && Object.keys(rt.getState().pending).length === 0, 'the confirmation', 5_000);
      ink.unmount();
    }
  } finally {
    if (kube) {
      kube.watch.stop();
      await kube.pods.stop();
      kube.close();
    }
    await Promise.all(servers.map((s) => s.stop()));
  }
  return times;
}

/** One kubeconfig with every context of these (one per server thread), the first one current. */
function mergeKubeconfigs(texts: string[]): string {
  const docs = texts.map((t) => parse(t) as { clusters: unknown[]; users: unknown[]; contexts: unknown[]; 'current-context': string });
  return stringify({ ...docs[0], clusters: docs.flatMap((d) => d.clusters), users: docs.flatMap((d) => d.users), contexts: docs.flatMap((d) => d.contexts) });
}

/** The same clock as bench/kube-servers.ts's: epoch milliseconds, sub-millisecond precision. */
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The worker of bench/kube-servers.ts: its replies in order, an error or an early exit as a rejection. */
class ServersThread {
  private readonly queue: KubeServersReply[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private exited = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (m: KubeServersReply) => {
      this.queue.push(m);
      this.waiter?.();
    });
    worker.on('error', (err) => {
      this.failure = new Error(`bench: the API servers' thread failed: ${err instanceof Error ? err.message : String(err)}`);
      this.waiter?.();
    });
    worker.on('exit', (code) => {
      this.exited = true;
      this.failure ??= new Error(`bench: the API servers' thread exited (code ${code})`);
      this.waiter?.();
    });
  }

  send(m: KubeServersRequest): void {
    this.worker.postMessage(m);
  }

  /** The next reply, which must be of this type. */
  async next<T extends KubeServersReply['type']>(type: T, timeoutMs: number): Promise<Extract<KubeServersReply, { type: T }>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        if (m.type !== type) throw new Error(`bench: expected '${type}' from the API servers' thread, got '${m.type}'`);
        return m as Extract<KubeServersReply, { type: T }>;
      }
      if (this.failure) throw this.failure;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`bench: timed out waiting for '${type}' from the API servers' thread`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** Both threads read one clock: the worker's time falls between this thread's send and receive. */
  async checkClock(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const t = clock();
      this.send({ type: 'clock', t });
      const { worker } = await this.next('clock', 5_000);
      const back = clock();
      // 0.05 ms: the rounding of two sums of doubles near 1.8e12, and then some
      if (worker < t - 0.05 || worker > back + 0.05) throw new Error(`bench: the API servers' thread reads another clock (${worker.toFixed(3)} not within ${t.toFixed(3)}..${back.toFixed(3)})`);
    }
  }

  /** Stops the churn and the servers, and waits for the thread to end (terminated if it does not within 5 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

export async function kubeListBench(runs = 2): Promise<{ canaryMs: number; kubectlMs: number } | null> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-kubelist-'));
  const server = await startKubeApiServer();
  server.createMany('pods', makePods(3000, { namespace: NS, app: 'orchestrator' }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor([{ server, context: 'us-east-1' }]));
  try {
    const kubectl = (ns = NS) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'get', 'pods', '-n', ns, '-o', 'json'], { maxBuffer: 256 * 1024 * 1024 }, (err, out) => {
          if (err) reject(err);
          else if (!out.includes('"items"')) reject(new Error('kubectl: no items'));
          else resolve(performance.now() - t0);
        });
      });
    let k: number[];
    try {
      await kubectl('empty'); // discovery cache warm, as for anyone who used kubectl before
      k = [];
      for (let i = 0; i < runs; i++) k.push(await kubectl());
    } catch (err) {
      process.stderr.write(`bench: kubectl could not run (${err instanceof Error ? err.message : String(err)}): kube_list_3000_pods_ratio not measured\n`);
      return null;
    }
    const { targets } = await connectClusters({ regions: ['us-east-1'] }, { kubeconfig });
    const c: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const src = new KubePodsSource({ targets, namespace: NS, selectors: { canary: { app: 'orchestrator', track: 'canary' }, stable: { app: 'orchestrator', track: 'stable' } }, now: () => Date.now() });
      await new Promise<void>((resolve) => {
        src.start((e) => {
          if (e.type === 'pods.sync' && e.pods.length === 3000) resolve();
        });
      });
      if (i > 0) c.push(performance.now() - t0);
      await src.stop();
    }
    for (const t of targets) t.cluster.close();
    return { canaryMs: median(c), kubectlMs: median(k) };
  } finally {
    await server.close();
  }
}

async function waitFor(cond: () => boolean | undefined, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export { p99 };
