// Shared by the in-cluster driver's tests and bench: a Prometheus stand-in that answers the plan's
// own queries with values the test sets (over real HTTP on 127.0.0.1), the seed plan made to run
// on Kubernetes (Istio, one checkpoint at 5%), the objects deploy/ would create on the test API
// server, and a rollout state at 5% with an open checkpoint and one approval, ending about now.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { Plan } from '../../src/plan/schema.js';
import { loadPlanText } from '../../src/plan/loader.js';
import { initialState, reduce } from '../../src/engine/reduce.js';
import type { EngineEvent, RolloutState, SliSample } from '../../src/engine/types.js';
import { SimCrew } from '../../src/sim/crew.js';
import { sliQuery } from '../../src/sources/prometheus-source.js';
import type { KubeApiServer, KubeObject } from '../kube/apiserver.js';
import { makeVirtualService } from '../kube/fixtures.js';

/** The checkout (holds package.json), whether this runs from test/ or from the build in dist/. */
export const ROOT = ((): string => {
  let d = new URL('.', import.meta.url).pathname;
  for (let i = 0; i < 5 && !existsSync(join(d, 'package.json')); i++) d = join(d, '..');
  return d.endsWith('/') ? d : `${d}/`;
})();
export const NS = 'maestro-conductor-canary';
export const ROLLOUT = 'maestro';
export const HEALTHY: Record<string, number> = { availability: 99.97, latency_p95: 220, error_rate: 0.03, workflow_success_rate: 99.9, request_rate: 8 };

export interface FakePrometheus {
  url: string;
  /** Values by "sli/track" (absent: the healthy value; counters 0). */
  set(sli: string, track: 'canary' | 'baseline', value: number): void;
  queries: number;
  close(): Promise<void>;
}

/** Answers /api/v1/query and /api/v1/query_range for the plan's SLI queries. */
export async function startFakePrometheus(plan: Plan): Promise<FakePrometheus> {
  const byQuery = new Map<string, { sli: string; track: 'canary' | 'baseline' | 'stable' }>();
  for (const s of plan.slis) for (const track of ['canary', 'baseline', 'stable'] as const) byQuery.set(sliQuery(s.query, track), { sli: s.name, track });
  const values = new Map<string, number>();
  const valueOf = (q: string) => {
    const k = byQuery.get(q);
    if (!k) return null;
    return values.get(`${k.sli}/${k.track}`) ?? HEALTHY[k.sli] ?? 0;
  };
  const fake = { queries: 0 } as FakePrometheus;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString()) : url.searchParams;
      const q = params.get('query') ?? '';
      fake.queries += 1;
      const v = valueOf(q);
      const send = (body: unknown) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/api/v1/query') {
        send({ status: 'success', data: { resultType: 'vector', result: v === null ? [] : [{ metric: {}, value: [Date.now() / 1000, String(v)] }] } });
      } else if (url.pathname === '/api/v1/query_range') {
        const start = Number(params.get('start'));
        const end = Number(params.get('end'));
        const step = Number(params.get('step'));
        const points: [number, string][] = [];
        // k x step, not a running sum: summed floats drifted past `end` and dropped the newest point.
        if (v !== null) for (let k = 0; start + k * step <= end + 1e-6; k++) points.push([start + k * step, String(v)]);
        send({ status: 'success', data: { resultType: 'matrix', result: v === null ? [] : [{ metric: {}, values: points }] } });
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.set = (sli, track, value) => values.set(`${sli}/${track}`, value);
  fake.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return fake;
}

/** The seed plan on Kubernetes: Istio traffic, a go/no-go checkpoint an hour into the 5% phase, no rollback hook. */
export function clusterPlanText(): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'config', 'maestro-conductor-rc.yaml'), 'utf8'));
  doc.set('traffic', { provider: 'istio', istio: { virtualService: 'orchestrator', canary: { host: 'orchestrator', subset: 'canary' }, stable: { host: 'orchestrator', subset: 'stable' } } });
  const phases = doc.get('phases') as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] };
  phases.items.find((p) => p.get('id') === 'canary-5')!.set('checkpoints', [{ at: '1h', title: 'Early adopter feedback review' }]);
  (doc.get('rollback') as { delete(k: string): void }).delete('hook');
  return doc.toString();
}

export function clusterPlan(text = clusterPlanText()): Plan {
  const r = loadPlanText(text, 'cluster-plan.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.plan;
}

/** The CRD (deploy/base/crd.yaml) created over the control API, as `kubectl apply` would. */
export function installRolloutCrd(server: KubeApiServer): void {
  server.create('customresourcedefinitions', parseYaml(readFileSync(join(ROOT, 'deploy', 'base', 'crd.yaml'), 'utf8')) as KubeObject);
}

/** The objects of a rollout: the plan's ConfigMap, the CanaryRollout, the Istio VirtualService at `weight`. */
export function createRolloutObjects(server: KubeApiServer, planText: string, weight: number): void {
  if (!server.crds().includes('virtualservices.networking.istio.io')) server.installCrd('virtualservices.networking.istio.io');
  server.create('configmaps', { metadata: { name: 'maestro-plan', namespace: NS }, data: { 'plan.yaml': planText } });
  server.create('canaryrollouts.canary.dev', { apiVersion: 'canary.dev/v1alpha1', kind: 'CanaryRollout', metadata: { name: ROLLOUT, namespace: NS }, spec: { plan: { configMapRef: { name: 'maestro-plan', key: 'plan.yaml' } } } });
  server.create('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: NS, canary: weight, stable: 100 - weight }));
}

export function writeKubeconfig(server: KubeApiServer, dir: string): string {
  const file = join(dir, `kubeconfig-${server.port}`);
  writeFileSync(file, server.kubeconfig({ context: 'home', namespace: NS }));
  return file;
}

const HOUR = 3_600_000;

function healthySamples(plan: Plan, k: number): SliSample[] {
  return plan.slis.flatMap((x) => [
    { sli: x.name, track: 'canary' as const, value: (HEALTHY[x.name] ?? 0) * (1 + ((k % 7) - 3) * 1e-4) },
    { sli: x.name, track: 'baseline' as const, value: (HEALTHY[x.name] ?? 0) * (1 + ((k % 5) - 2) * 1e-4) },
    { sli: x.name, track: 'stable' as const, value: (HEALTHY[x.name] ?? 0) * (1 + ((k % 5) - 2) * 1e-4) },
  ]);
}

function fastForward(plan: Plan, start: number): RolloutState {
  let s = initialState(plan, start);
  const crew = new SimCrew(plan);
  const send = (e: EngineEvent) => {
    const r = reduce(plan, s, e);
    s = r.state;
    for (const eff of r.effects) {
      if (eff.type === 'set-weight') send({ type: 'effect.result', at: s.now, effectId: eff.id, ok: true, detail: 'ok', weight: eff.weight });
      // The crew's checklist checks answer (rules 3: an item with a check is ticked by it, and the crew waits for it).
      if (eff.type === 'run-command') send({ type: 'command.result', at: s.now, runId: eff.id, ok: true, exitCode: 0, detail: 'exited 0' });
    }
  };
  let t = start;
  let k = 0;
  for (; s.desiredWeight < 5 && k < 40 * 24 * 60; t += 60_000, k++) {
    send({ type: 'sli.samples', at: t, samples: healthySamples(plan, k) });
    for (const e of crew.decide(s)) send(e);
  }
  // At 5%: healthy minutes until the hour-1 checkpoint is due (nobody gives the go), then one
  // approval for the next gate.
  const phase = plan.phases.find((p) => p.id === 'canary-5')!;
  for (let n = 0; !(s.checkpoints['canary-5'] ?? []).some((c) => c.dueAt !== undefined) && n < 3 * 60; n++, t += 60_000, k++) send({ type: 'sli.samples', at: t, samples: healthySamples(plan, k) });
  send({ type: 'approve', at: t, actor: { id: 'hiro', name: 'Hiro Tanaka', roles: ['vp-engineering'] }, phase: 'canary-25', role: 'vp-engineering' });
  if (s.desiredWeight !== 5 || s.status !== 'running' || !phase) throw new Error(`fast-forward ended at ${s.desiredWeight}% (${s.status})`);
  return s;
}

/** A running rollout at 5%, checkpoint due, one approval for canary-25, its `now` about `endAt`. */
export function stateAt5(plan: Plan, endAt = Date.now()): RolloutState {
  const first = fastForward(plan, endAt - 20 * 24 * HOUR);
  return fastForward(plan, endAt - 20 * 24 * HOUR + (endAt - first.now) - 1_000);
}
