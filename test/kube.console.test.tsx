// The console on real Kubernetes wire: three API servers (one per region) on 127.0.0.1 serve pods
// and an Istio VirtualService each; the console shows their pods and, after `R` `y`, how each
// cluster took the rollback. Then `canary rollback --reason` from another shell does the same.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import React from 'react';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { App } from '../components/App.js';
import { Plan } from '../src/plan/schema.js';
import { Runtime } from '../src/runtime/runtime.js';
import { connectKubernetes, type KubeWiring } from '../src/kubernetes.js';
import { startKubeApiServer, kubeconfigFor, type KubeApiServer } from './kube/apiserver.js';
import { makePod, makePods, makeVirtualService } from './kube/fixtures.js';
import { Driver, HOUR } from './helpers/drive.js';

const NS = 'maestro-conductor-canary';
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const dir = mkdtempSync(join(tmpdir(), 'canary-kube-console-'));
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');

/** The seed plan, with Istio as its traffic provider and a cluster (context) per region. */
function istioPlanText(): string {
  const raw = parse(readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8'));
  raw.target.selectors = { canary: { app: 'orchestrator', track: 'canary' }, stable: { app: 'orchestrator', track: 'stable' } };
  raw.target.clusters = Object.fromEntries(REGIONS.map((r) => [r, { context: r }]));
  raw.traffic = { provider: 'istio', istio: { virtualService: 'orchestrator', canary: { host: 'orchestrator', subset: 'canary' }, stable: { host: 'orchestrator', subset: 'stable' } } };
  raw.rollback.hook = `printf 'hook: %s' "$PREVIOUS_STABLE_VERSION"`;
  return stringify(raw);
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('console and `canary rollback` on three clusters over the Kubernetes wire protocol', () => {
  const servers: KubeApiServer[] = [];
  const planPath = join(dir, 'plan.yaml');
  const kubeconfig = join(dir, 'kubeconfig');
  let plan: Plan;

  beforeAll(async () => {
    writeFileSync(planPath, istioPlanText());
    plan = Plan.parse(parse(readFileSync(planPath, 'utf8')));
    for (const region of REGIONS) {
      const s = await startKubeApiServer({ crds: ['virtualservices.networking.istio.io'] });
      s.createMany('pods', makePods(200, { namespace: NS, app: 'orchestrator', prefix: `orch-${region}` }));
      s.create('pods', makePod({ name: `orch-canary-oom-${region}`, namespace: NS, labels: { app: 'orchestrator', track: 'canary' }, waitingReason: 'CrashLoopBackOff', restarts: 9, lastTerminationReason: 'OOMKilled' }));
      s.create('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: NS, stable: 75, canary: 25 }));
      servers.push(s);
    }
    writeFileSync(kubeconfig, kubeconfigFor(servers.map((server, i) => ({ server, context: REGIONS[i]! }))));
  });
  afterAll(async () => {
    cleanup();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('shows the clusters\' pods, drives (holds the lease), and R y rolls every cluster back with a per-cluster result', async () => {
    // A rollout already at 25% in every region (as the engine would have it after three gates).
    const d = new Driver(plan, { crew: {} });
    d.runFor(200 * HOUR, (s) => s.desiredWeight === 25 && s.appliedWeight === 25);
    expect(d.state.desiredWeight).toBe(25);
    let kube: KubeWiring | null = null;
    kube = await connectKubernetes(plan, { planPath, kubeconfig, now: () => d.state.now, identity: 'ana@console', driftEveryMs: 200, podOptions: { batchMs: 20 } });
    const runtime: Runtime = new Runtime({ plan, clock: { now: (): number => runtime.getState().now, speed: 1 }, sources: [kube.pods, kube.watch, kube.lease!], traffic: kube.traffic, initial: d.state, tickMs: 0 });
    runtime.start();
    const actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre'] };
    const r = sized(render(<App plan={plan} store={runtime} actor={actor} now={() => runtime.getState().now} columns={140} rows={44} />), 140, 44);
    try {
      await until(() => runtime.getState().pods.size === 603, 'all 603 pods from the three clusters');
      await until(() => /◆ driving/.test(plain(r.lastFrame())), 'the lease');
      const frame = plain(r.lastFrame());
      expect(frame).toMatch(/CrashLoopBackOff/);
      // and why, as kubectl describe would say it
      expect(frame).toMatch(/why orch-canary-oom-[\w-]+: CrashLoopBackOff, last restart OOMKilled: back/);
      expect(frame).toMatch(/us-west-2|eu-west-1/);
      r.stdin.write('R');
      await until(() => /ROLL BACK maestro-conductor-rc/.test(plain(r.lastFrame())), 'the confirm dialog');
      r.stdin.write('y');
      await until(() => /rollback confirmed/.test(plain(r.lastFrame())), 'the per-cluster confirmation');
      const after = plain(r.lastFrame());
      expect(after).toMatch(/rollback confirmed: ✓ us-east-1 0%.*✓ us-west-2 0%.*✓ eu-west-1 0%/s);
      expect(after).toContain('ROLLED BACK');
      for (const s of servers) {
        const vs = s.get('virtualservices.networking.istio.io', NS, 'orchestrator')!;
        expect((vs.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route.map((x) => x.weight)).toEqual([100, 0]);
      }
      expect(runtime.getState().lastEffectError).toBeNull();
      // the hook ran after traffic was at 0 everywhere
      expect(runtime.getState().history.some((h) => h.text.includes('rollback hook ran: hook: stable'))).toBe(true);
    } finally {
      r.unmount();
      await runtime.stop();
      kube.close();
    }
  });

  it('`canary rollback --reason` from any shell: same code, per-cluster lines, exit 0; not confirmed: exit 3', async () => {
    for (const s of servers) s.apply('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: NS, stable: 95, canary: 5 }));
    const cli = join(import.meta.dirname, '..', 'dist', 'canary.mjs');
    const run = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [cli, 'rollback', '--plan', planPath, '--kubeconfig', kubeconfig, ...args], { env: { ...process.env, XDG_STATE_HOME: dir } }, (e, out, err) =>
          resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
        );
      });
    const ok = await run('--reason', 'p95 1.4 s in eu-west-1', '--as', 'ben');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/✓ us-east-1\s+0%/);
    expect(ok.out).toMatch(/✓ eu-west-1\s+0%/);
    expect(ok.out).toMatch(/^rolled back in \d+ ms/m);
    expect(servers[2]!.requests.some((q) => q.method === 'PATCH' && q.contentType === 'application/json-patch+json')).toBe(true);

    servers[1]!.deny({ verb: 'patch', resource: 'virtualservices.networking.istio.io' });
    servers[1]!.apply('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: NS, stable: 95, canary: 5 }));
    const denied = await run('--reason', 'again', '--json');
    servers[1]!.clearDenials();
    expect(denied.code).toBe(3);
    const j = JSON.parse(denied.out);
    expect(j.ok).toBe(false);
    expect(j.clusters.find((c: { cluster: string }) => c.cluster === 'us-west-2')).toMatchObject({ ok: false, weight: 5 });
    expect(j.clusters.find((c: { cluster: string }) => c.cluster === 'us-west-2').detail).toMatch(/403 Forbidden/);

    const missing = await run('--reason', 'x', '--context', 'nowhere');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/context "nowhere" \(for region us-east-1\) is not there/);
    // A missing --reason is a usage error: exit 2, with where help is (issue 13).
    const noReason = await run();
    expect(noReason.code).toBe(2);
    expect(noReason.err).toMatch(/needs --reason/);
    expect(noReason.err).toContain('see `canary rollback --help`');
  }, 60_000);
});
