// canary against Kubernetes API servers that speak the wire protocol (test/kube/apiserver.ts), over
// real HTTP on 127.0.0.1: the pods watch through every way a watch ends, each traffic provider's
// patches as they go over the wire, rollback across three clusters, one driver by Lease, drift.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiServer, kubeconfigFor, type KubeApiServer } from './kube/apiserver.js';
import { makeDeployment, makeHttpRoute, makeIngress, makePod, makePods, makeRollout, makeTrafficSplit, makeVirtualService } from './kube/fixtures.js';
import { connectClusters, type ClusterTarget } from '../src/kube/config.js';
import { KubePodsSource } from '../src/sources/kube-pods.js';
import { makeProvider, type ProviderSettings } from '../src/actuators/traffic/providers.js';
import { KubeTraffic, TrafficWatch } from '../src/actuators/traffic/kube-traffic.js';
import { LeaseKeeper } from '../src/actuators/lease.js';
import { KubeError } from '../src/kube/client.js';
import type { EngineEvent, PodInfo } from '../src/engine/types.js';

const NS = 'shop';
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const SELECTORS = { canary: { app: 'checkout', track: 'canary' }, stable: { app: 'checkout', track: 'stable' } };
const dir = mkdtempSync(join(tmpdir(), 'canary-kube-'));

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A kubeconfig with one context per server, and the clusters canary makes of it. */
async function clustersFor(servers: KubeApiServer[], regions = REGIONS.slice(0, servers.length)): Promise<ClusterTarget[]> {
  const file = join(dir, `kc-${servers.map((s) => s.port).join('-')}`);
  writeFileSync(file, kubeconfigFor(servers.map((server, i) => ({ server, context: regions[i]! }))));
  const { targets } = await connectClusters({ regions }, { kubeconfig: file, contexts: regions.map((r) => `${r}=${r}`), timeoutMs: 3_000 });
  return targets;
}

/** The pods source with its events collected into a map, as the engine would hold them. */
function podsSource(targets: ClusterTarget[], extra: Partial<ConstructorParameters<typeof KubePodsSource>[0]> = {}) {
  const pods = new Map<string, PodInfo>();
  const events: EngineEvent[] = [];
  const src = new KubePodsSource({ targets, namespace: NS, selectors: SELECTORS, now: () => Date.now(), batchMs: 20, backoffInitialMs: 50, backoffMaxMs: 200, random: () => 0.5, ...extra });
  src.start((e) => {
    events.push(e);
    if (e.type === 'pods.sync') {
      for (const [k, p] of pods) if (p.region === e.region) pods.delete(k);
      for (const p of e.pods) pods.set(p.key, p);
    } else if (e.type === 'pods.delta') {
      for (const k of e.deletes) pods.delete(k);
      for (const p of e.upserts) pods.set(p.key, p);
    }
  });
  return { src, pods, events };
}

const watchRequests = (s: KubeApiServer) => s.requests.filter((r) => r.watch && r.resource === 'pods');
const lists = (s: KubeApiServer) => s.requests.filter((r) => r.verb === 'list' && r.resource === 'pods');

describe('pods: list, then a watch that survives everything a long-lived watch meets', () => {
  // A fresh server per test: what one test leaves open (a watch being torn down) never counts in the next.
  let server: KubeApiServer;
  let targets: ClusterTarget[];
  let stop: (() => Promise<void>) | null = null;
  beforeEach(async () => {
    server = await startKubeApiServer({ token: 't0ken' });
    targets = await clustersFor([server], ['us-east-1']);
  });
  afterEach(async () => {
    await stop?.();
    stop = null;
    for (const t of targets) t.cluster.close();
    await server.close();
  });

  it('lists, classifies canary/stable, ignores other pods, and applies watch events in order', async () => {
    server.createMany('pods', makePods(30, { namespace: NS, canaryEvery: 10 }));
    server.create('pods', makePod({ name: 'redis-0', namespace: NS, labels: { app: 'redis' } }));
    const rv = server.resourceVersion;
    const { src, pods } = podsSource(targets);
    stop = () => src.stop();
    await until(() => pods.size === 30, '30 pods listed');
    expect([...pods.values()].filter((p) => p.track === 'canary')).toHaveLength(3);
    // the selector went to the server: the list asked only for the rollout's pods
    expect(lists(server)[0]!.query.labelSelector).toBe('app=checkout,track in (canary,stable)');
    await until(() => server.openWatches().length === 1, 'the watch');
    // the watch starts where the list was
    expect(watchRequests(server)[0]!.query).toMatchObject({ resourceVersion: rv, allowWatchBookmarks: 'true', watch: 'true' });
    server.create('pods', makePod({ name: 'checkout-canary-new', namespace: NS, labels: { app: 'checkout', track: 'canary' }, waitingReason: 'CrashLoopBackOff', restarts: 4, lastTerminationReason: 'OOMKilled' }));
    await until(() => pods.has(`us-east-1/${NS}/checkout-canary-new`), 'the added pod');
    expect(pods.get(`us-east-1/${NS}/checkout-canary-new`)).toMatchObject({ reason: 'CrashLoopBackOff', restarts: 4, lastRestartReason: 'OOMKilled', ready: false });
    server.remove('pods', NS, 'checkout-canary-new');
    await until(() => !pods.has(`us-east-1/${NS}/checkout-canary-new`), 'the deleted pod gone');
    expect(src.stats.lists).toBe(1);
  });

  it('a clean close (the server\'s timeoutSeconds) resumes from the last resourceVersion, without a relist', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    const { src, pods } = podsSource(targets);
    stop = () => src.stop();
    await until(() => server.openWatches().length === 1, 'the first watch'); // open on the server, not only asked for
    server.create('pods', makePod({ name: 'checkout-stable-x', namespace: NS, labels: { app: 'checkout', track: 'stable' } }));
    await until(() => pods.size === 6, 'the sixth pod');
    const rvSeen = server.resourceVersion;
    server.closeWatches();
    await until(() => watchRequests(server).length === 2, 'the resumed watch');
    expect(watchRequests(server)[1]!.query.resourceVersion).toBe(rvSeen);
    expect(src.stats).toMatchObject({ lists: 1, cleanCloses: 1, relists410: 0 });
    server.remove('pods', NS, 'checkout-stable-x');
    await until(() => pods.size === 5, 'the delete seen by the resumed watch');
  });

  it('410 Gone as an HTTP status relists', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    const { src } = podsSource(targets);
    stop = () => src.stop();
    await until(() => server.openWatches().length === 1, 'the first watch'); // open on the server, not only asked for
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'status', code: 410 } });
    server.closeWatches();
    await until(() => src.stats.lists === 2, 'a relist');
    expect(src.stats.relists410).toBe(1);
  });

  it('410 as an in-stream ERROR event (a 1.32 watch cache) relists, and the state is whole again', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    const { src, pods, events } = podsSource(targets);
    stop = () => src.stop();
    await until(() => server.openWatches().length === 1, 'the first watch'); // open on the server, not only asked for
    server.expireWatches();
    // while no watch runs, a pod goes away: only the relist can tell
    server.remove('pods', NS, server.list('pods', NS)[0]!.metadata.name as string);
    await until(() => src.stats.lists === 2 && pods.size === 4, 'the relist with 4 pods');
    expect(src.stats.relists410).toBe(1);
    expect(events.filter((e) => e.type === 'pods.sync')).toHaveLength(2);
  });

  it('a connection reset restarts the watch with backoff from the last resourceVersion, not a relist', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    const { src, events } = podsSource(targets);
    stop = () => src.stop();
    await until(() => server.openWatches().length === 1, 'the first watch'); // open on the server, not only asked for
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'reset' }, times: 2 });
    server.closeWatches();
    await until(() => server.requests.filter((r) => r.watch && r.status === 200).length === 2, 'a watch that works again');
    expect(src.stats.restarts).toBe(2);
    expect(src.stats.lists).toBe(1);
    // the console was told, then told it is back
    const health = events.filter((e) => e.type === 'source.status');
    expect(health.some((e) => e.type === 'source.status' && !e.ok && /reset/.test(e.message ?? ''))).toBe(true);
    expect(health.at(-1)).toMatchObject({ ok: true });
  });

  it('a watch that goes silent (no event, no bookmark) is dropped by the watchdog and resumed', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'silent' } });
    const { src, pods } = podsSource(targets, { silentAfterMs: 300 });
    stop = () => src.stop();
    await until(() => src.stats.silentRestarts === 1, 'the watchdog', 3_000);
    await until(() => watchRequests(server).length === 2, 'a second watch');
    server.create('pods', makePod({ name: 'checkout-canary-late', namespace: NS, labels: { app: 'checkout', track: 'canary' } }));
    await until(() => pods.has(`us-east-1/${NS}/checkout-canary-late`), 'the pod after the silent watch');
  });

  it('a malformed line is counted and skipped; the events after it still arrive', async () => {
    server.createMany('pods', makePods(5, { namespace: NS }));
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'malformed', line: '{"type":"MODIFIED","object":{', afterEvents: 0 } });
    const { src, pods, events } = podsSource(targets);
    stop = () => src.stop();
    await until(() => server.openWatches().length === 1, 'the watch');
    server.create('pods', makePod({ name: 'checkout-canary-after', namespace: NS, labels: { app: 'checkout', track: 'canary' } }));
    await until(() => pods.has(`us-east-1/${NS}/checkout-canary-after`), 'the pod after the bad line');
    expect(src.stats.malformed).toBe(1);
    expect(events.some((e) => e.type === 'source.status' && /not JSON/.test(e.message ?? ''))).toBe(true);
    expect(src.stats.lists).toBe(1);
  });

  it('401 with a wrong token says to refresh the credentials', async () => {
    const file = join(dir, 'kc-badtoken');
    writeFileSync(file, kubeconfigFor([{ server, context: 'us-east-1', token: 'wrong' }]));
    const { targets: bad } = await connectClusters({ regions: ['us-east-1'] }, { kubeconfig: file });
    const { src, events } = podsSource(bad);
    stop = () => src.stop();
    await until(() => events.some((e) => e.type === 'source.status' && !e.ok), 'a failure');
    const e = events.find((x) => x.type === 'source.status' && !x.ok) as Extract<EngineEvent, { type: 'source.status' }>;
    expect(e.message).toMatch(/list pods: 401 Unauthorized.*credentials of context "us-east-1" were refused/);
    bad[0]!.cluster.close();
  });
});

describe('traffic providers: precise patches, read back, on the wire', () => {
  let server: KubeApiServer;
  let targets: ClusterTarget[];
  beforeAll(async () => {
    server = await startKubeApiServer({ crds: ['virtualservices.networking.istio.io', 'httproutes.gateway.networking.k8s.io', 'trafficsplits.split.smi-spec.io', 'rollouts.argoproj.io'] });
    targets = await clustersFor([server], ['us-east-1']);
  });
  afterEach(() => {
    server.clearFaults();
    server.clearDenials();
    server.clearRequests();
  });
  afterAll(async () => {
    for (const t of targets) t.cluster.close();
    await server.close();
  });
  const traffic = (settings: Omit<ProviderSettings, 'namespace'>, kind: string) => new KubeTraffic({ targets, provider: makeProvider(kind, { namespace: NS, ...settings }), retryDelayMs: 5 });
  const patches = () => server.requests.filter((r) => r.method === 'PATCH');

  it('istio: a JSON Patch that tests the resourceVersion and the two entries, then reads 5% back', async () => {
    server.create('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS }));
    const t = traffic({ istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } }, 'istio');
    const r = await t.setWeight(5, ['us-east-1']);
    expect(r).toMatchObject({ weight: 5, clusters: [{ cluster: 'us-east-1', ok: true, weight: 5 }] });
    const [p] = patches();
    expect(p!.contentType).toBe('application/json-patch+json');
    const ops = JSON.parse(p!.body!);
    expect(ops[0]).toMatchObject({ op: 'test', path: '/metadata/resourceVersion' });
    expect(ops.filter((o: { op: string }) => o.op === 'test')).toHaveLength(3);
    const vs = server.get('virtualservices.networking.istio.io', NS, 'checkout')!;
    expect((vs.spec as { http: { route: { weight: number }[] }[] }).http[0]!.route.map((x) => x.weight)).toEqual([95, 5]);
    // hosts and other routes untouched (no merge patch replacing arrays)
    expect((vs.spec as { hosts: string[] }).hosts).toEqual(['checkout']);
    expect(await t.rollback('test', ['us-east-1'])).toMatchObject({ weight: 0 });
  });

  it('a 409 is retried after a fresh read, then succeeds', async () => {
    server.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS }));
    server.fault({ verb: 'patch', resource: 'virtualservices', action: { type: 'status', code: 409 } });
    const t = traffic({ istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } }, 'istio');
    const r = await t.setWeight(25, ['us-east-1']);
    expect(r.clusters![0]).toMatchObject({ ok: true, weight: 25, attempts: 2 });
    expect(patches().map((p) => p.status)).toEqual([409, 200]);
  });

  it('someone else writing between read and patch makes the test op fail (422); canary reads again and wins cleanly', async () => {
    server.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS }));
    // canary's first PATCH is held up on the server while a GitOps controller rewrites the object
    server.fault({ verb: 'patch', resource: 'virtualservices', action: { type: 'delay', ms: 150 } });
    const t = traffic({ istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } }, 'istio');
    const p = t.setWeight(50, ['us-east-1']);
    await until(() => patches().length === 1, 'the first PATCH on the wire');
    server.patch('virtualservices.networking.istio.io', NS, 'checkout', { metadata: { labels: { synced: 'argo' } } });
    const r = await p;
    expect(r.clusters![0]).toMatchObject({ ok: true, weight: 50, attempts: 2 });
    expect(patches().map((x) => x.status)).toEqual([422, 200]);
    // the other writer's change is still there: nothing was overwritten
    expect(server.get('virtualservices.networking.istio.io', NS, 'checkout')!.metadata.labels).toEqual({ synced: 'argo' });
  });

  it('403 names the verb and resource and what to grant; it is not retried', async () => {
    server.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS }));
    server.deny({ verb: 'patch', resource: 'virtualservices.networking.istio.io' });
    const t = traffic({ istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } }, 'istio');
    const r = await t.setWeight(5, ['us-east-1']);
    expect(r.clusters![0]!.ok).toBe(false);
    expect(r.clusters![0]!.detail).toMatch(/patch virtualservices\.networking\.istio\.io: 403 Forbidden: .*cannot patch resource "virtualservices".*grant the "patch" verb/);
    expect(patches()).toHaveLength(1);
    expect(r.weight).not.toBe(5);
  });

  it('404 for an absent CRD says to install it', async () => {
    server.removeCrd('httproutes.gateway.networking.k8s.io');
    const t = traffic({ gatewayApi: { httpRoute: 'checkout', canaryBackend: 'checkout-canary', stableBackend: 'checkout-stable' } }, 'gateway-api');
    const r = await t.setWeight(5, ['us-east-1']);
    expect(r.clusters![0]!.detail).toMatch(/get httproutes\.gateway\.networking\.k8s\.io: 404 NotFound.*is the CRD for httproutes\.gateway\.networking\.k8s\.io installed/);
    server.installCrd('httproutes.gateway.networking.k8s.io');
  });

  it('a weight the provider cannot express is refused before anything is sent', async () => {
    const t = traffic({ istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } }, 'istio');
    await expect(t.setWeight(0.5, ['us-east-1'])).rejects.toThrow(/istio route weights are whole percentages; 0.5 is not/);
    expect(server.requests).toHaveLength(0);
  });

  it('gateway-api and smi: relative weights in tenths of a percent, other backendRefs untouched', async () => {
    server.apply('httproutes.gateway.networking.k8s.io', makeHttpRoute('checkout', { namespace: NS }));
    const gw = traffic({ gatewayApi: { httpRoute: 'checkout', canaryBackend: 'checkout-canary', stableBackend: 'checkout-stable' } }, 'gateway-api');
    expect(await gw.setWeight(0.5, ['us-east-1'])).toMatchObject({ weight: 0.5 });
    const route = server.get('httproutes.gateway.networking.k8s.io', NS, 'checkout')!;
    expect((route.spec as { rules: { backendRefs: { weight: number; port: number }[] }[] }).rules[0]!.backendRefs).toMatchObject([
      { weight: 995, port: 8080 },
      { weight: 5, port: 8080 },
    ]);
    server.apply('trafficsplits.split.smi-spec.io', makeTrafficSplit('checkout', { namespace: NS }));
    const smi = traffic({ smi: { trafficSplit: 'checkout', canaryBackend: 'checkout-canary', stableBackend: 'checkout-stable' } }, 'smi');
    expect(await smi.setWeight(25, ['us-east-1'])).toMatchObject({ weight: 25 });
    expect(await smi.rollback('r', ['us-east-1'])).toMatchObject({ weight: 0 });
  });

  it('nginx: a merge patch of the canary annotations with the resourceVersion as precondition', async () => {
    server.apply('ingresses.networking.k8s.io', makeIngress('checkout-canary', { namespace: NS, canary: true, weight: 0 }));
    const t = traffic({ nginx: { canaryIngress: 'checkout-canary' } }, 'nginx');
    expect(await t.setWeight(5, ['us-east-1'])).toMatchObject({ weight: 5 });
    const [p] = patches();
    expect(p!.contentType).toBe('application/merge-patch+json');
    expect(JSON.parse(p!.body!).metadata.resourceVersion).toMatch(/^\d+$/);
    const ing = server.get('ingresses.networking.k8s.io', NS, 'checkout-canary')!;
    expect((ing.metadata.annotations as Record<string, string>)['nginx.ingress.kubernetes.io/canary-weight']).toBe('50');
    expect((ing.metadata.annotations as Record<string, string>)['nginx.ingress.kubernetes.io/canary-weight-total']).toBe('1000');
  });

  it('argo-rollouts: promote to the next setWeight step, abort to roll back (no weights written into its objects)', async () => {
    server.apply('rollouts.argoproj.io', makeRollout('checkout', { namespace: NS }));
    const t = new KubeTraffic({ targets, provider: makeProvider('argo-rollouts', { namespace: NS, argoRollouts: { rollout: 'checkout' } }), retryDelayMs: 5, setWeightDeadlineMs: 5_000, rollbackDeadlineMs: 5_000 });
    // the test plays Argo's controller, one step at a time and a little late: after a promote it
    // moves to the next pause step; an abort makes the rollout Degraded
    const controller = setInterval(() => {
      const ro = server.get('rollouts.argoproj.io', NS, 'checkout')!;
      const st = ro.status as { pauseConditions?: unknown; currentStepIndex: number; abort?: boolean; phase?: string };
      if (st.abort && st.phase !== 'Degraded') server.patch('rollouts.argoproj.io', NS, 'checkout', (o) => void ((o.status as Record<string, unknown>).phase = 'Degraded'));
      else if (!st.pauseConditions && !st.abort && st.currentStepIndex < 5)
        server.patch('rollouts.argoproj.io', NS, 'checkout', (o) => {
          (o.status as Record<string, unknown>).currentStepIndex = st.currentStepIndex + 2;
          (o.status as Record<string, unknown>).pauseConditions = [{ reason: 'CanaryPauseStep' }];
        });
    }, 30);
    try {
      expect(await t.setWeight(25, ['us-east-1'])).toMatchObject({ weight: 25 });
      const statusPatches = () => patches().filter((p) => p.subresource === 'status');
      expect(statusPatches()).toHaveLength(1); // one promote for one step, however slow the controller
      expect(JSON.parse(statusPatches()[0]!.body!)).toEqual({ status: { pauseConditions: null, abort: false } });
      expect(await t.rollback('r', ['us-east-1'])).toMatchObject({ weight: 0 });
      expect((server.get('rollouts.argoproj.io', NS, 'checkout')!.status as { abort: boolean }).abort).toBe(true);
      await expect(t.setWeight(30, ['us-east-1'])).resolves.toMatchObject({ clusters: [{ ok: false, detail: expect.stringMatching(/steps set 5\/25\/50%; 30% is not one of them/) }] });
    } finally {
      clearInterval(controller);
    }
  });

  it('replicas: canary/stable Deployments scaled through /scale, stable first', async () => {
    server.apply('deployments.apps', makeDeployment('checkout-canary', { namespace: NS, replicas: 0 }));
    server.apply('deployments.apps', makeDeployment('checkout-stable', { namespace: NS, replicas: 20 }));
    const t = traffic({ replicas: { canaryDeployment: 'checkout-canary', stableDeployment: 'checkout-stable', total: 20 } }, 'replicas');
    expect(await t.setWeight(25, ['us-east-1'])).toMatchObject({ weight: 25 });
    // going up, the canary grows first; going down, stable grows first: never fewer than 20 pods
    expect(patches().map((p) => [p.name, p.subresource])).toEqual([
      ['checkout-canary', 'scale'],
      ['checkout-stable', 'scale'],
    ]);
    expect((server.get('deployments.apps', NS, 'checkout-canary')!.spec as { replicas: number }).replicas).toBe(5);
    server.clearRequests();
    expect(await t.rollback('r', ['us-east-1'])).toMatchObject({ weight: 0 });
    expect(patches().map((p) => p.name)).toEqual(['checkout-stable', 'checkout-canary']);
    await expect(t.setWeight(1, ['us-east-1'])).rejects.toThrow(/replicas: 1% of traffic.replicas.total \(20\) is 0.2 pods, not a whole number/);
  });
});

describe('rollback across three clusters, drift, one driver', () => {
  const servers: KubeApiServer[] = [];
  let targets: ClusterTarget[];
  const settings = { istio: { virtualService: 'checkout', canary: { host: 'checkout', subset: 'canary' }, stable: { host: 'checkout', subset: 'stable' } } };
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startKubeApiServer({ crds: ['virtualservices.networking.istio.io'] }));
    targets = await clustersFor(servers);
  });
  afterEach(() => {
    for (const s of servers) {
      s.clearFaults();
      s.clearDenials();
      s.clearRequests();
      s.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS, stable: 75, canary: 25 }));
    }
  });
  afterAll(async () => {
    for (const t of targets) t.cluster.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('rolls all clusters back in parallel, retries one that fails until it reads 0, and is idempotent', async () => {
    for (const s of servers) s.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS, stable: 75, canary: 25 }));
    servers[1]!.fault({ verb: 'patch', resource: 'virtualservices', times: 2, action: { type: 'status', code: 500 } });
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }), retryDelayMs: 5 });
    const r = await t.rollback('p95 over 1000 ms', REGIONS);
    expect(r.weight).toBe(0);
    expect(r.clusters!.map((c) => [c.cluster, c.ok, c.weight, c.attempts])).toEqual([
      ['us-east-1', true, 0, 1],
      ['us-west-2', true, 0, 3],
      ['eu-west-1', true, 0, 1],
    ]);
    // the three PATCHes went out together, not one cluster after the other: every cluster's first
    // PATCH arrived before the slow cluster's last retry
    const firstPatch = servers.map((s) => s.requests.find((x) => x.method === 'PATCH')!.time);
    const retries = servers[1]!.requests.filter((x) => x.method === 'PATCH').map((x) => x.time);
    expect(Math.max(...firstPatch)).toBeLessThanOrEqual(retries.at(-1)!);
    const again = await t.rollback('again', REGIONS);
    expect(again.clusters!.every((c) => c.ok && c.detail === 'already 0%')).toBe(true);
    expect(servers.every((s) => s.requests.filter((x) => x.method === 'PATCH').length === (s === servers[1] ? 3 : 1))).toBe(true);
  });

  it('a rollback keeps retrying a failing cluster until its deadline, then says which cluster was not confirmed', async () => {
    servers[2]!.fault({ verb: 'patch', resource: 'virtualservices', times: Infinity, action: { type: 'status', code: 500 } });
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }), retryDelayMs: 5, rollbackDeadlineMs: 300 });
    const r = await t.rollback('x', REGIONS);
    expect(r.weight).toBe(25);
    const failed = r.clusters!.filter((c) => !c.ok);
    expect(failed.map((c) => c.cluster)).toEqual(['eu-west-1']);
    expect(failed[0]!.attempts).toBeGreaterThan(2);
    expect(failed[0]!.detail).toMatch(/500/);
    expect(servers[2]!.requests.filter((x) => x.method === 'PATCH').length).toBe(failed[0]!.attempts);
  });

  it('a 403 on rollback is not retried (a person must grant it) and is reported at once', async () => {
    servers[2]!.deny({ verb: 'patch', resource: 'virtualservices.networking.istio.io' });
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }), retryDelayMs: 5, rollbackDeadlineMs: 10_000 });
    const r = await t.rollback('x', REGIONS);
    expect(r.clusters!.find((c) => c.cluster === 'eu-west-1')).toMatchObject({ ok: false, attempts: 1 });
  });

  it('scales the canary to zero and runs the plan\'s hook once traffic is at 0', async () => {
    for (const s of servers) s.apply('deployments.apps', makeDeployment('checkout-canary', { namespace: NS, replicas: 4 }));
    const out = join(dir, 'hook.out');
    const t = new KubeTraffic({
      targets,
      provider: makeProvider('istio', { namespace: NS, ...settings }),
      scaleCanaryToZero: { namespace: NS, deployment: 'checkout-canary' },
      hook: { command: `printf '%s|%s' "$PREVIOUS_STABLE_VERSION" "$ROLLBACK_REASON" > ${out}`, env: { PREVIOUS_STABLE_VERSION: '4.17.2' } },
    });
    const r = await t.rollback(`error rate 2%; it's "bad"`, REGIONS);
    expect(r.detail).toContain('checkout-canary scaled to 0');
    expect(r.detail).toContain('rollback hook ran');
    expect(readFileSync(out, 'utf8')).toBe(`4.17.2|error rate 2%; it's "bad"`);
    for (const s of servers) expect((s.get('deployments.apps', NS, 'checkout-canary')!.spec as { replicas: number }).replicas).toBe(0);
  });

  it('notices drift: a weight changed behind canary\'s back is reported once per change', async () => {
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }) });
    const events: EngineEvent[] = [];
    const w = new TrafficWatch(t, targets, () => Date.now(), 50);
    w.start((e) => events.push(e));
    try {
      await until(() => events.length === 3, 'the first reading of each cluster');
      expect(events.map((e) => e.type === 'traffic.observed' && e.weight)).toEqual([25, 25, 25]);
      servers[0]!.patch('virtualservices.networking.istio.io', NS, 'checkout', (o) => {
        const http = (o.spec as { http: { route: { weight: number }[] }[] }).http;
        http[0]!.route[0]!.weight = 100;
        http[0]!.route[1]!.weight = 0;
      });
      await until(() => events.length === 4, 'the drift');
      expect(events[3]).toMatchObject({ type: 'traffic.observed', cluster: 'us-east-1', weight: 0 });
      // more rounds of reading (each cluster read twice more) bring no new event: nothing changed
      const reads = () => servers[0]!.requests.filter((x) => x.verb === 'get' && x.resource?.startsWith('virtualservices')).length;
      const before = reads();
      await until(() => reads() >= before + 2, 'two more reads');
      expect(events).toHaveLength(4);
    } finally {
      w.stop();
    }
  });

  it('a reading taken while canary changes the weights is not reported (it could predate the write and look like drift)', async () => {
    for (const s of servers) s.apply('virtualservices.networking.istio.io', makeVirtualService('checkout', { namespace: NS, stable: 75, canary: 25 }));
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }) });
    servers[0]!.fault({ verb: 'patch', resource: 'virtualservices', action: { type: 'delay', ms: 200 } });
    const change = t.setWeight(50, REGIONS);
    expect(await t.readAll()).toBeNull();
    await change;
    expect((await t.readAll())!.map((c) => c.weight)).toEqual([50, 50, 50]);
  });

  it('a Lease race has one winner; the other runs read-only and says who drives', async () => {
    const c = targets[0]!.cluster;
    const a = new LeaseKeeper({ cluster: c, namespace: NS, name: 'canary-race', identity: 'ana', now: () => Date.now(), durationSeconds: 15 });
    const b = new LeaseKeeper({ cluster: c, namespace: NS, name: 'canary-race', identity: 'ben', now: () => Date.now(), durationSeconds: 15 });
    const said: EngineEvent[] = [];
    a.start((e) => said.push(e));
    b.start((e) => said.push(e));
    await until(() => said.length >= 2, 'both to decide');
    expect([a.canMutate(), b.canMutate()].sort()).toEqual([false, true]);
    const loser = a.canMutate() ? b : a;
    const winner = a.canMutate() ? a : b;
    expect(loser.whyNot()).toBe(`lease canary-race is held by ${winner.identity}`);
    const lease = servers[0]!.get('leases.coordination.k8s.io', NS, 'canary-race')!;
    expect((lease.spec as { holderIdentity: string; renewTime: string }).holderIdentity).toBe(winner.identity);
    expect((lease.spec as { renewTime: string }).renewTime).toMatch(/\.\d{6}Z$/);
    // the loser's guard stops its traffic changes before anything is sent
    const t = new KubeTraffic({ targets, provider: makeProvider('istio', { namespace: NS, ...settings }), guard: loser.whyNot });
    await expect(t.setWeight(50, REGIONS)).rejects.toThrow(/not changing traffic: lease canary-race is held by/);
    await winner.stop();
    await loser.stop();
  });

  it('a missed renewal stops mutations before the lease could pass to someone else', async () => {
    let mono = 0;
    const c = targets[0]!.cluster;
    const a = new LeaseKeeper({ cluster: c, namespace: NS, name: 'canary-renew', identity: 'ana', now: () => Date.now(), durationSeconds: 15, mono: () => mono });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(a.canMutate()).toBe(true);
    // the API server stops answering updates of the lease
    servers[0]!.fault({ verb: 'update', resource: 'leases', times: Infinity, action: { type: 'status', code: 500 } });
    mono = 5_000;
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.canMutate()).toBe(true); // 5 s without renewal: still inside the renew deadline (10 s)
    mono = 10_001;
    expect(a.canMutate()).toBe(false); // past 2/3 of the duration: no more writes, even between rounds
    expect(a.whyNot()).toMatch(/not renewed for 10 s: stopped driving/);
    // someone else can take over only once the full duration (15 s) has passed on their clock
    const b = new LeaseKeeper({ cluster: c, namespace: NS, name: 'canary-renew', identity: 'ben', now: () => Date.now(), durationSeconds: 15, mono: () => mono });
    servers[0]!.clearFaults();
    expect(await b.tryAcquireOrRenew()).toBe(false);
    mono += 15_001;
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  it('errors carry what a person needs: KubeError with cluster, verb, resource and status', async () => {
    servers[0]!.deny({ verb: 'get', resource: 'leases.coordination.k8s.io' });
    const err = await targets[0]!.cluster.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/x`, { verb: 'get', resource: 'leases.coordination.k8s.io' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ cluster: 'us-east-1', status: 403, reason: 'Forbidden', verb: 'get' });
  });
});
