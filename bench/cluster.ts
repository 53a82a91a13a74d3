// The in-cluster driver's benchmark (issue 14), against the test API server on 127.0.0.1:
//   takeover_ms                  two `canary drive` processes (the built CLI), lease 5 s (renew
//                                deadline 3.3 s, retry 0.67 s: client-go's 15/10/2 ratios): from the
//                                SIGKILL of the holder to the standby's first decision reaching the
//                                API server (its first journal write); median of 3. Goal: lease + 1000.
//   cluster_state_write_p99_ms   one decision's state in the cluster: its journal entry (a segment
//                                patch, preconditioned) and then the status (a PUT to the status
//                                subresource, preconditioned), 300 decisions in a row (segments seal
//                                at 256 KiB along the way). Goal: 20. (And its median.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiServer } from '../test/kube/apiserver.js';
import { clusterPlan, clusterPlanText, createRolloutObjects, installRolloutCrd, NS, ROLLOUT, ROOT, startFakePrometheus, stateAt5, writeKubeconfig } from '../test/helpers/cluster.js';
import { connectHome } from '../src/cluster/connect.js';
import { ClusterJournal } from '../src/cluster/journal.js';
import { RolloutResource } from '../src/cluster/resource.js';
import { rolloutStatus } from '../src/cluster/status.js';
import { reduce } from '../src/engine/reduce.js';

type Emit = (name: string, value: number, unit: string, goal: number) => void;

const LEASE_S = 5;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function oneTakeover(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-cluster-'));
  const server = await startKubeApiServer({ token: 'bench' });
  const kc = writeKubeconfig(server, dir);
  const planText = clusterPlanText();
  const plan = clusterPlan(planText);
  const prom = await startFakePrometheus(plan);
  installRolloutCrd(server);
  createRolloutObjects(server, planText, 5);
  const { cluster } = await connectHome({ kubeconfig: kc, context: 'home' });
  await ClusterJournal.create({ cluster, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'import', epoch: 0 }), plan, planText, state: stateAt5(plan) });
  cluster.close();
  const cli = join(ROOT, 'dist', 'canary.mjs');
  const args = (id: string) => ['drive', ROLLOUT, '--kubeconfig', kc, '--namespace', NS, '--prometheus', prom.url, '--health', '127.0.0.1:0', '--identity', id, '--lease-duration', String(LEASE_S), '--renew-deadline', '3.3', '--retry-period', '0.67'];
  const procs: ChildProcess[] = [];
  const spawnDriver = (id: string) => {
    const c = spawn(process.execPath, [cli, ...args(id)], { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(c);
    return c;
  };
  try {
    const cr = () => server.get('canaryrollouts.canary.dev', NS, ROLLOUT) as unknown as { status?: { driver?: { holder?: string } } };
    const a = spawnDriver('bench-a');
    await until(() => cr().status?.driver?.holder === 'bench-a', 'bench-a to drive', 30_000);
    spawnDriver('bench-b');
    // The standby has read the lease at least twice (it is watching the holder renew).
    const leaseReads = () => server.requests.filter((r) => r.resource === 'leases.coordination.k8s.io').length;
    const n = leaseReads();
    await until(() => leaseReads() > n + 6, 'the standby watching the lease', 30_000);
    let firstDecision = 0;
    const off = server.onRequest((r) => {
      if (!firstDecision && r.resource === 'configmaps' && r.method === 'PATCH' && r.body?.includes('bench-b')) firstDecision = performance.now();
    });
    const killed = performance.now();
    a.kill('SIGKILL');
    await until(() => firstDecision > 0, "the standby's first decision", 30_000);
    off();
    return firstDecision - killed;
  } finally {
    for (const c of procs) c.kill('SIGKILL');
    await prom.close();
    await server.close();
  }
}

async function stateWrites(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-cluster-'));
  const server = await startKubeApiServer({ token: 'bench' });
  const kc = writeKubeconfig(server, dir);
  const planText = clusterPlanText();
  const plan = clusterPlan(planText);
  installRolloutCrd(server);
  createRolloutObjects(server, planText, 5);
  const { cluster } = await connectHome({ kubeconfig: kc, context: 'home' });
  try {
    let s = stateAt5(plan);
    const stamp = () => ({ holder: 'bench', epoch: 1 });
    const j = await ClusterJournal.create({ cluster, namespace: NS, rollout: ROLLOUT, stamp, plan, planText, state: s });
    const r = new RolloutResource(cluster, NS, ROLLOUT);
    await r.get();
    const ms: number[] = [];
    for (let i = 0; i < 320; i++) {
      const e = { type: 'command' as const, at: s.now + 1000, actor: { id: 'ana', name: 'Ana Ortiz', roles: ['sre'] }, command: { kind: i % 2 ? ('resume' as const) : ('pause' as const) } };
      s = reduce(plan, s, e).state;
      const t0 = performance.now();
      j.append(e, s, []);
      await j.durable();
      await r.writeStatus(rolloutStatus(plan, s, { driver: { ...stamp(), since: s.now }, journal: { ...j.head, segments: j.segments.count, firstSegment: j.segments.first }, now: s.now }));
      if (i >= 20) ms.push(performance.now() - t0); // after warm-up (JIT, TLS session)
    }
    return ms;
  } finally {
    cluster.close();
    await server.close();
  }
}

export async function clusterBench(emit: Emit): Promise<void> {
  const writes = await stateWrites();
  emit('cluster_state_write_p99_ms', p99(writes), 'ms', 20);
  emit('cluster_state_write_median_ms', median(writes), 'ms', 10); // the same, the middle of the distribution
  const takeovers: number[] = [];
  for (let i = 0; i < 3; i++) takeovers.push(await oneTakeover());
  emit('takeover_ms', median(takeovers), 'ms', LEASE_S * 1000 + 1000);
}
