// The console standing by for an in-cluster rollout (`canary start --rollout`), in process: the
// Driver `canary drive` runs, the read-only view of the rollout from the cluster, and the console
// (ink-testing-library) against the test API server over real HTTPS on 127.0.0.1. While another
// driver holds the Lease the console shows who drives and the rollout as the cluster has it,
// refuses what needs the Lease, and still rolls back at once (R y: a rollback needs no Lease).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import React from 'react';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../components/App.js';
import { startKubeApiServer, type KubeApiServer } from './kube/apiserver.js';
import { clusterPlan, clusterPlanText, createRolloutObjects, installRolloutCrd, NS, ROLLOUT, startFakePrometheus, stateAt5, writeKubeconfig, type FakePrometheus } from './helpers/cluster.js';
import { sized } from './helpers/sized.js';
import { connectHome } from '../src/cluster/connect.js';
import { Driver } from '../src/cluster/driver.js';
import { ClusterJournal } from '../src/cluster/journal.js';
import { ClusterView, StandbyStore } from '../src/cluster/standby.js';
import type { KubeCluster } from '../src/kube/client.js';
import type { Plan } from '../src/plan/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-standby-'));
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let server: KubeApiServer;
let prom: FakePrometheus;
let kc: string;
let plan: Plan;
let planText: string;
const homes: KubeCluster[] = [];
const drivers: Driver[] = [];

async function home(): Promise<KubeCluster> {
  const { cluster } = await connectHome({ kubeconfig: kc, context: 'home', timeoutMs: 3_000 });
  homes.push(cluster);
  return cluster;
}

function driver(name: string, cluster: KubeCluster) {
  const lines: string[] = [];
  const out = new Writable({
    write(c, _e, cb) {
      lines.push(...String(c).split('\n').filter(Boolean));
      cb();
    },
  });
  const d = new Driver({
    home: cluster,
    namespace: NS,
    rollout: ROLLOUT,
    kube: { kubeconfig: kc },
    prometheus: { url: prom.url, timeoutMs: 2_000 },
    identity: name,
    lease: { durationSeconds: 2, renewDeadlineMs: 1_300, retryMs: 250 },
    health: null,
    out,
    sourcePeriodMs: 200,
    statusRefreshMs: 500,
    driftEveryMs: 300,
    env: process.env,
  });
  drivers.push(d);
  return { d, said: (re: RegExp) => lines.some((l) => re.test((JSON.parse(l) as { msg: string }).msg)) };
}

const cr = () => server.get('canaryrollouts.canary.dev', NS, ROLLOUT) as unknown as { status?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const canaryWeight = () => (server.get('virtualservices.networking.istio.io', NS, 'orchestrator') as unknown as { spec: { http: { route: { weight: number }[] }[] } }).spec.http[0]!.route[1]!.weight;

beforeEach(async () => {
  server = await startKubeApiServer({ token: 'tok' });
  kc = writeKubeconfig(server, dir);
  planText = clusterPlanText();
  plan = clusterPlan(planText);
  prom = await startFakePrometheus(plan);
  installRolloutCrd(server);
  createRolloutObjects(server, planText, 5);
  await ClusterJournal.create({ cluster: await home(), namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'import', epoch: 0 }), plan, planText, state: stateAt5(plan) });
});

afterEach(async () => {
  cleanup();
  await Promise.all(drivers.splice(0).map((d) => d.stop().catch(() => undefined)));
  for (const h of homes.splice(0)) h.close();
  await prom.close();
  await server.close();
});

describe('a console standing by for an in-cluster driver', { timeout: 60_000 }, () => {
  it('shows who drives and the rollout from the cluster, refuses what needs the Lease, and R y still rolls back', async () => {
    const a = driver('driver-a', await home());
    await a.d.start();
    await until(() => cr().status?.driver?.holder === 'driver-a', 'driver-a to drive');
    // The console's side: the same Driver (standing by), the view of the cluster, the store.
    const ops = driver('ops-console', await home());
    await ops.d.start();
    const view = new ClusterView({
      home: await home(),
      namespace: NS,
      rollout: ROLLOUT,
      plan: ops.d.rolloutPlan!.plan,
      holder: () => ops.d.lease?.holder ?? null,
      traffic: () => ops.d.traffic,
      now: () => Date.now(),
      everyMs: 200,
      paused: () => ops.d.runtime !== null,
    });
    await view.refresh();
    view.start();
    const store = new StandbyStore(view, () => ops.d.runtime, 50);
    const actor = { id: 'ben', name: 'Ben Okafor', roles: ['sre', 'sre-primary', 'sre-secondary'] };
    const r = sized(render(<App plan={plan} store={store} actor={actor} now={() => Date.now()} columns={160} rows={44} />), 160, 44);
    try {
      await until(() => /READ-ONLY: driver-a drives/.test(plain(r.lastFrame())), 'READ-ONLY: driver-a drives');
      let frame = plain(r.lastFrame());
      expect(frame).toMatch(/▶ RUNNING\s+5%/);
      expect(frame).toMatch(/GO\? hour 1 Early adopter feedback review/);
      expect(frame).toMatch(/approvals 1\/3: ✓ VP Engineering/);
      expect(view.seq).not.toBeNull();

      // The checkpoint's go needs the Lease: refused, said why; nothing moved in the cluster.
      r.stdin.write('g');
      await until(() => /✗.*read-only: driver-a drives/.test(plain(r.lastFrame())), 'the go refused');
      expect(cr().status!.checkpoint?.title).toBe('Early adopter feedback review');
      expect(store.isDriving).toBe(false);

      // The cluster cannot be read (RBAC taken away): said beside who drives; back when it is.
      server.deny({ verb: 'get', resource: 'canaryrollouts.canary.dev' });
      await until(() => /READ-ONLY: driver-a drives \(cannot read CanaryRollout maestro-conductor-canary\/maestro/.test(plain(r.lastFrame())), 'the read problem on screen');
      expect(view.problem).toMatch(/403 Forbidden.*grant the "get" verb on "canaryrollouts.canary.dev"/);
      server.clearDenials();
      await until(() => !/cannot read CanaryRollout/.test(plain(r.lastFrame())), 'the read problem gone');

      // A rollback needs no Lease: carried out from here, at once.
      r.stdin.write('R');
      await until(() => /ROLL BACK maestro-conductor-rc/.test(plain(r.lastFrame())), 'the rollback dialog');
      r.stdin.write('y');
      await until(() => canaryWeight() === 0, 'the canary at 0% in the cluster');
      await until(() => /rollback confirmed/.test(plain(r.lastFrame())), 'the rollback confirmed on screen');
      // The driver reads the 0% as drift and holds (it never moves traffic back up).
      await until(() => a.said(/drift/i), 'driver-a to see the drift');
      frame = plain(r.lastFrame());
      expect(frame).toMatch(/READ-ONLY: driver-a drives/);
      expect(canaryWeight()).toBe(0);
    } finally {
      r.unmount();
      store.close();
      view.stop();
    }
  });
});
