// The test Kubernetes API server (test/kube/apiserver.ts) speaks the real wire protocol: the
// installed kubectl and @kubernetes/client-node 1.x, unmodified, over real HTTP on 127.0.0.1.
//
// kubectl: locally skipped when it is not installed; with CI set a missing kubectl is a failure.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  Watch,
} from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigFor, startKubeApiServer, TEST_TLS_CERT, toMicroTime } from './kube/apiserver.js';
import type { KubeApiServer, KubeObject } from './kube/apiserver.js';
import { makeDeployment, makePod, makePods, makeRollout, makeVirtualService } from './kube/fixtures.js';
import { kubectl, kubectlBinary, kubectlCacheDir, kubectlStream } from './kube/kubectl.js';
import type { KubectlContext } from './kube/kubectl.js';

const NS = 'shop';
const VS = 'virtualservices.networking.istio.io';
const tmp = mkdtempSync(join(tmpdir(), 'canary-kapi-test-'));
let seq = 0;

function clientFor(server: KubeApiServer, opts: { token?: string | null } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig({ namespace: NS, ...opts }));
  return kc;
}

function kubectlFor(server: KubeApiServer, opts: { token?: string | null } = {}): KubectlContext {
  const kubeconfig = join(tmp, `kubeconfig-${++seq}`);
  server.kubeconfig({ path: kubeconfig, namespace: NS, context: 'eu-west-1', ...opts });
  return { kubeconfig, cacheDir: kubectlCacheDir() };
}

/** A request to a test server over https (trusting the test certificate) or http. */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; timeout?: number }, onResponse: (res: import('node:http').IncomingMessage) => void) {
  return url.startsWith('https:') ? httpsRequest(url, { ...opts, ca: TEST_TLS_CERT }, onResponse) : httpRequest(url, opts, onResponse);
}

/** Raw HTTP, for what neither client shows (exact bytes of a watch stream, arbitrary content types). */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    // Content-Length always: Node's client sends a DELETE body unframed otherwise.
    const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(opts.body)) } : {}) };
    const req = request(url, { method: opts.method ?? 'GET', headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** client-node's Watch, collecting events, with a promise for its end. */
function watchWith(kc: KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>) {
  const events: { type: string; object: KubeObject }[] = [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const controller = new Watch(kc).watch(
    path,
    query,
    (type, object) => {
      events.push({ type, object: object as KubeObject });
      for (const w of [...waiters]) if (w.pred()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    (err) => finish(err),
  );
  return {
    events,
    done,
    controller,
    until(pred: (evs: typeof events) => boolean, ms = 10_000): Promise<void> {
      if (pred(events)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`watch ${path}: not seen in ${ms} ms; got ${JSON.stringify(events.map((e) => [e.type, e.object.metadata?.name]))}`)), ms);
        waiters.push({ pred: () => pred(events), resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    async abort() {
      (await controller).abort();
    },
  };
}

function statusOf(err: unknown): { code: number; body: Record<string, unknown> } {
  if (!(err instanceof ApiException)) throw err;
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Record<string, unknown>) : (err.body as Record<string, unknown>);
  return { code: err.code, body };
}

async function rejectsWith(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return statusOf(err);
  }
  throw new Error('expected the request to fail');
}

// =============================================================================================
// kubectl

const haveKubectl = kubectlBinary() !== null || Boolean(process.env.CI);

// kubectl is a 57 MB Go binary started once per step: give a loaded CI machine room.
describe.skipIf(!haveKubectl)('kubectl against the test API server', { timeout: 60_000 }, () => {
  let server: KubeApiServer;
  let ctx: KubectlContext;

  beforeAll(async () => {
    server = await startKubeApiServer({ crds: [VS] });
    server.createMany('pods', makePods(1200, { namespace: NS }));
    server.create(VS, makeVirtualService('checkout', { namespace: NS, stable: 95, canary: 5 }));
    ctx = kubectlFor(server);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.clearRequests();
    server.clearDenials();
    server.clearFaults();
  });

  it('get pods -o json returns every pod, fetched in pages of 500 with continue tokens', async () => {
    const r = await kubectl(ctx, ['get', 'pods', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { kind: string; items: KubeObject[] };
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(1200);
    expect(list.items.map((p) => p.metadata.name)).toEqual(server.list('pods', NS).map((p) => p.metadata.name));
    expect(list.items[0]).toMatchObject({ kind: 'Pod', apiVersion: 'v1', status: { phase: 'Running' } });
    const pages = server.requests.filter((q) => q.verb === 'list');
    expect(pages.map((q) => [q.path, q.query.limit, Boolean(q.query.continue), q.status])).toEqual([
      [`/api/v1/namespaces/${NS}/pods`, '500', false, 200],
      [`/api/v1/namespaces/${NS}/pods`, '500', true, 200],
      [`/api/v1/namespaces/${NS}/pods`, '500', true, 200],
    ]);
  });

  it('discovery: kubectl uses aggregated discovery and resolves short names of installed CRDs', async () => {
    const r = await kubectl(ctx, ['get', 'vs', 'checkout', '-o', 'json']);
    expect(r.stderr).toBe('');
    const vs = JSON.parse(r.stdout) as KubeObject;
    expect(vs).toMatchObject({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'checkout', namespace: NS, generation: 1 } });
    expect(vs.spec).toEqual(makeVirtualService('checkout', { stable: 95, canary: 5 }).spec);
    const apis = server.requests.find((q) => q.path === '/apis');
    // A fresh cache dir asks /api and /apis once, as the aggregated v2 document (no per-group requests).
    if (apis) expect(apis.accept).toContain('as=APIGroupDiscoveryList');
    expect(server.requests.filter((q) => q.path.startsWith('/apis/networking.istio.io') && q.verb === 'discovery')).toEqual([]);
  });

  it('get pods -w --output-watch-events shows ADDED, MODIFIED and DELETED as they happen', async () => {
    server.create('pods', makePod({ name: 'watched-0', namespace: 'watching', labels: { app: 'w', track: 'canary' } }));
    const w = kubectlStream(ctx, ['get', 'pods', '-n', 'watching', '-w', '--output-watch-events', '-o', 'json']);
    try {
      type Ev = { type: string; object: KubeObject };
      await w.until((d) => (d as Ev[]).some((e) => e.type === 'ADDED' && e.object.metadata.name === 'watched-0'));
      // The watch is open once kubectl has listed; wait for it to be registered before writing.
      await server.whenWatching({ resource: 'pods', namespace: 'watching' });
      server.create('pods', makePod({ name: 'watched-1', namespace: 'watching', phase: 'Pending' }));
      server.patch('pods', 'watching', 'watched-1', { status: { phase: 'Running' } });
      server.remove('pods', 'watching', 'watched-0');
      await w.until((d) => d.length >= 4);
      const seen = (w.docs as Ev[]).map((e) => [e.type, e.object.metadata.name, (e.object.status as { phase?: string } | undefined)?.phase]);
      expect(seen).toEqual([
        ['ADDED', 'watched-0', 'Running'],
        ['ADDED', 'watched-1', 'Pending'],
        ['MODIFIED', 'watched-1', 'Running'],
        ['DELETED', 'watched-0', 'Running'],
      ]);
      const watch = server.requests.find((q) => q.watch && q.namespace === 'watching');
      expect(watch?.query.watch).toBe('true');
      expect(Number(watch?.query.resourceVersion)).toBeGreaterThan(0);
    } finally {
      w.stop();
    }
  });

  it('patch --type=merge and --type=json change the object with the right Content-Type', async () => {
    let r = await kubectl(ctx, ['patch', 'vs', 'checkout', '--type=merge', '-p', JSON.stringify({ metadata: { labels: { owner: 'canary' } } })]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('virtualservice.networking.istio.io/checkout patched');
    r = await kubectl(ctx, [
      'patch', 'vs', 'checkout', '--type=json', '-p',
      JSON.stringify([
        { op: 'test', path: '/spec/http/0/route/1/weight', value: 5 },
        { op: 'replace', path: '/spec/http/0/route/0/weight', value: 75 },
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 25 },
      ]),
    ]);
    expect(r.stderr).toBe('');
    const vs = server.get(VS, NS, 'checkout') as KubeObject & { spec: { http: { route: { weight: number }[] }[] } };
    expect(vs.metadata.labels).toEqual({ owner: 'canary' });
    expect(vs.spec.http[0]?.route.map((x) => x.weight)).toEqual([75, 25]);
    expect(vs.metadata.generation).toBe(2);
    expect(server.requests.filter((q) => q.method === 'PATCH').map((q) => [q.contentType, q.status])).toEqual([
      ['application/merge-patch+json', 200],
      ['application/json-patch+json', 200],
    ]);
  });

  it('a JSON Patch whose test op fails is 422 and changes nothing', async () => {
    const before = server.get(VS, NS, 'checkout');
    const r = await kubectl(ctx, ['patch', 'vs', 'checkout', '--type=json', '-p', '[{"op":"test","path":"/spec/http/0/route/1/weight","value":99},{"op":"replace","path":"/spec/http/0/route/1/weight","value":0}]']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('The request is invalid: the server rejected our request due to an error in our request');
    expect(server.requests.find((q) => q.method === 'PATCH')?.status).toBe(422);
    expect(server.get(VS, NS, 'checkout')).toEqual(before);
  });

  it('a stale resourceVersion in a merge patch is a 409 Conflict', async () => {
    const r = await kubectl(ctx, ['patch', 'vs', 'checkout', '--type=merge', '-p', '{"metadata":{"resourceVersion":"1"},"spec":{"hosts":["x"]}}']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server (Conflict): Operation cannot be fulfilled on virtualservices.networking.istio.io "checkout": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('strategic merge patch (kubectl default) works on pods and is 415 on a custom resource', async () => {
    let r = await kubectl(ctx, ['patch', 'pod', 'checkout-canary-00000', '-p', '{"metadata":{"labels":{"probe":"yes"}},"spec":{"containers":[{"name":"checkout","image":"checkout:2"}]}}']);
    expect(r.stderr).toBe('');
    const pod = server.get('pods', NS, 'checkout-canary-00000') as KubeObject & { spec: { containers: { name: string; image: string; ports: unknown[] }[] } };
    expect(pod.metadata.labels?.probe).toBe('yes');
    // Merged by name: the container keeps its other fields.
    expect(pod.spec.containers).toHaveLength(1);
    expect(pod.spec.containers[0]).toMatchObject({ name: 'checkout', image: 'checkout:2', ports: [{ containerPort: 8080 }, { containerPort: 9090 }] });
    r = await kubectl(ctx, ['patch', 'vs', 'checkout', '-p', '{"spec":{"hosts":["x"]}}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json');
    expect(server.requests.filter((q) => q.method === 'PATCH').map((q) => q.status)).toEqual([200, 415]);
  });

  it('a denied verb is 403 with the real message', async () => {
    server.deny({ verb: 'patch', resource: 'virtualservices' });
    const r = await kubectl(ctx, ['patch', 'vs', 'checkout', '--type=merge', '-p', '{"spec":{"hosts":["x"]}}']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server (Forbidden): virtualservices.networking.istio.io "checkout" is forbidden: User "system:serviceaccount:canary:canary" cannot patch resource "virtualservices" in API group "networking.istio.io" in the namespace "shop"',
    );
  });

  it('an absent CRD is a 404 and not in discovery; installing it makes it appear', async () => {
    let r = await kubectl(ctx, ['get', 'rollouts', '-o', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: the server doesn\'t have a resource type "rollouts"');
    r = await kubectl(ctx, ['get', '--raw', `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): the server could not find the requested resource');
    server.installCrd('rollouts.argoproj.io');
    try {
      server.create('rollouts.argoproj.io', makeRollout('checkout', { namespace: NS }));
      r = await kubectl({ ...ctx, cacheDir: kubectlCacheDir() }, ['get', 'ro', '-o', 'jsonpath={.items[*].metadata.name}']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('checkout');
    } finally {
      server.removeCrd('rollouts.argoproj.io');
    }
  });

  it('get pods without -o prints the server-side Table: READY, STATUS with the reason, RESTARTS with when', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    server.create('pods', makePod({ name: 'ok', namespace: 'human', createdAt: hourAgo }));
    server.create('pods', makePod({ name: 'crashing', namespace: 'human', createdAt: hourAgo, waitingReason: 'CrashLoopBackOff', restarts: 4, lastTerminationReason: 'OOMKilled', lastTerminatedAt: new Date(Date.now() - 300_000) }));
    server.create('pods', makePod({ name: 'stuck', namespace: 'human', createdAt: hourAgo, phase: 'Pending', unschedulable: '0/3 nodes are available: 3 Insufficient cpu.' }));
    const r = await kubectl(ctx, ['get', 'pods', '-n', 'human']);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(rows).toEqual([
      ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
      ['crashing', '0/1', 'CrashLoopBackOff', expect.stringMatching(/^4 \((5|6)m\d*s? ago\)$/), expect.stringMatching(/^6\dm$/)],
      ['ok', '1/1', 'Running', '0', expect.stringMatching(/^6\dm$/)],
      ['stuck', '0/1', 'Pending', '0', expect.stringMatching(/^6\dm$/)],
    ]);
    expect(server.requests.find((q) => q.verb === 'list')?.accept).toContain('as=Table');
  });

  it('create a lease from YAML, read its MicroTime, scale a deployment to 0, and name a missing object', async () => {
    const file = join(tmp, 'lease.yaml');
    writeFileSync(file, 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: canary-lease\nspec:\n  holderIdentity: ana@console\n  leaseDurationSeconds: 15\n  renewTime: "2026-11-26T10:00:00.5Z"\n');
    // No OpenAPI is served, so client-side validation is off.
    let r = await kubectl(ctx, ['create', '--validate=false', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('lease.coordination.k8s.io/canary-lease created');
    r = await kubectl(ctx, ['get', 'lease', 'canary-lease', '-o', 'jsonpath={.spec.renewTime}']);
    expect(r.stdout).toBe('2026-11-26T10:00:00.500000Z');
    server.create('deployments', makeDeployment('checkout-canary', { namespace: NS, replicas: 3 }));
    r = await kubectl(ctx, ['scale', 'deployment', 'checkout-canary', '--replicas=0']);
    expect(r.stdout.trim()).toBe('deployment.apps/checkout-canary scaled');
    expect((server.get('deployments', NS, 'checkout-canary')?.spec as { replicas: number }).replicas).toBe(0);
    expect(server.requests.find((q) => q.subresource === 'scale' && q.method === 'PATCH')).toBeDefined();
    r = await kubectl(ctx, ['get', 'lease', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): leases.coordination.k8s.io "nope" not found');
  });

  it('kubectl with a bearer token over https: accepted with the right one, 401 with another', async () => {
    const secure = await startKubeApiServer({ token: 'good-token' });
    try {
      secure.create('pods', makePod({ name: 'p', namespace: NS }));
      const ok = await kubectl(kubectlFor(secure), ['get', 'pods', '-o', 'name']);
      expect(ok.stderr).toBe('');
      expect(ok.stdout.trim()).toBe('pod/p');
      const bad = await kubectl(kubectlFor(secure, { token: 'bad-token' }), ['get', 'pods', '-o', 'name']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('error: You must be logged in to the server (the server has asked for the client to provide credentials)');
      expect(secure.requests.some((q) => q.status === 401)).toBe(true);
    } finally {
      await secure.close();
    }
  });
});

// =============================================================================================
// client-node

describe('@kubernetes/client-node against the test API server', () => {
  let server: KubeApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  beforeEach(async () => {
    server = await startKubeApiServer({ crds: [VS], historySize: 50 });
    server.createMany('pods', makePods(30, { namespace: NS }));
    server.create(VS, makeVirtualService('checkout', { namespace: NS }));
    kc = clientFor(server);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  afterEach(() => server.close());

  it('lists pods with the list resourceVersion, label and field selectors', async () => {
    const all = await core.listNamespacedPod({ namespace: NS });
    expect(all.items).toHaveLength(30);
    expect(all.metadata?.resourceVersion).toBe(server.resourceVersion);
    const canary = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=checkout,track=canary' });
    expect(canary.items.map((p) => p.metadata?.name)).toEqual(['checkout-canary-00000', 'checkout-canary-0000a', 'checkout-canary-0000k']);
    const notIn = await core.listNamespacedPod({ namespace: NS, labelSelector: 'track notin (stable)' });
    expect(notIn.items).toHaveLength(3);
    server.patch('pods', NS, 'checkout-stable-00001', { status: { phase: 'Pending' } });
    const pending = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'status.phase=Pending' });
    expect(pending.items.map((p) => p.metadata?.name)).toEqual(['checkout-stable-00001']);
    const bad = await rejectsWith(core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.nope=x' }));
    expect(bad).toMatchObject({ code: 400, body: { reason: 'BadRequest', message: 'field label not supported: spec.nope' } });
  });

  it('pages with limit and continue; a continue token from before a compaction is 410 Expired', async () => {
    const first = await core.listNamespacedPod({ namespace: NS, limit: 20 });
    expect(first.items).toHaveLength(20);
    expect(first.metadata?.remainingItemCount).toBe(10);
    const second = await core.listNamespacedPod({ namespace: NS, limit: 20, _continue: first.metadata?._continue });
    expect(second.items).toHaveLength(10);
    expect(second.metadata?._continue).toBeUndefined();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { x: 'y' } } });
    server.compact();
    const gone = await rejectsWith(core.listNamespacedPod({ namespace: NS, limit: 20, _continue: first.metadata?._continue }));
    expect(gone.code).toBe(410);
    expect(gone.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  it('Watch streams ADDED/MODIFIED/DELETED from the list resourceVersion and ends cleanly when the server closes it', async () => {
    const list = await core.listNamespacedPod({ namespace: NS });
    const w = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true });
    await server.whenWatching({ resource: 'pods' });
    server.create('pods', makePod({ name: 'new-1', namespace: NS }));
    server.patch('pods', NS, 'new-1', { metadata: { labels: { ready: 'yes' } } });
    server.remove('pods', NS, 'new-1');
    await w.until((e) => e.length === 3);
    expect(w.events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion])).toEqual([
      ['ADDED', 'new-1', String(Number(list.metadata?.resourceVersion) + 1)],
      ['MODIFIED', 'new-1', String(Number(list.metadata?.resourceVersion) + 2)],
      ['DELETED', 'new-1', String(Number(list.metadata?.resourceVersion) + 3)],
    ]);
    expect(w.events[0]?.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1' });
    server.sendBookmarks();
    await w.until((e) => e.some((x) => x.type === 'BOOKMARK'));
    expect(w.events.at(-1)).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: server.resourceVersion } } });
    server.closeWatches();
    expect(await w.done).toBeNull();
    expect(server.openWatches()).toEqual([]);
  });

  it('a watch resumed from its last resourceVersion gets exactly what it missed', async () => {
    const w1 = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: server.resourceVersion });
    await server.whenWatching({ resource: 'pods' });
    server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { step: '1' } } });
    await w1.until((e) => e.length === 1);
    const last = w1.events[0]?.object.metadata.resourceVersion as string;
    server.closeWatches();
    await w1.done;
    server.patch('pods', NS, 'checkout-stable-00002', { metadata: { labels: { step: '2' } } });
    server.remove('pods', NS, 'checkout-stable-00003');
    const w2 = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: last });
    await w2.until((e) => e.length === 2);
    expect(w2.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['MODIFIED', 'checkout-stable-00002'],
      ['DELETED', 'checkout-stable-00003'],
    ]);
    await w2.abort();
  });

  it('a watch from a compacted resourceVersion gets an in-stream ERROR 410 Expired, then the stream ends', async () => {
    const rv = server.resourceVersion;
    server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { a: 'b' } } });
    server.compact();
    const w = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: rv });
    expect(await w.done).toBeNull();
    expect(w.events).toEqual([
      {
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv} (${server.resourceVersion})`, reason: 'Expired', code: 410 },
      },
    ]);
  });

  it('the history is bounded: a watch that falls more than historySize events behind is too old', async () => {
    const rv = server.resourceVersion;
    for (let i = 0; i < 60; i++) server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { i: String(i) } } });
    const w = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: rv });
    await w.done;
    expect(w.events.map((e) => [e.type, (e.object as unknown as { code: number }).code])).toEqual([['ERROR', 410]]);
  });

  it('with watchExpiredAs http, a too-old watch is an HTTP 410 that Watch reports as an error', async () => {
    // Plain http this time: the kubeconfig then skips TLS verification, which client-node needs for http://.
    const strict = await startKubeApiServer({ watchExpiredAs: 'http', tls: false });
    try {
      strict.create('pods', makePod({ name: 'a', namespace: NS }));
      const rv = strict.resourceVersion;
      strict.create('pods', makePod({ name: 'b', namespace: NS }));
      strict.compact();
      const w = watchWith(clientFor(strict), `/api/v1/namespaces/${NS}/pods`, { resourceVersion: rv });
      const err = (await w.done) as { statusCode?: number };
      expect(err?.statusCode).toBe(410);
      const r = await raw(`${strict.url}/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${rv}`);
      expect(r.status).toBe(410);
      expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    } finally {
      await strict.close();
    }
  });

  it('faults: a reset connection, a silent watch, a malformed line, an in-stream 410', async () => {
    const path = `/api/v1/namespaces/${NS}/pods`;
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'reset' } });
    const reset = watchWith(kc, path, { resourceVersion: server.resourceVersion });
    expect(await reset.done).toBeInstanceOf(Error);
    expect(server.requests.at(-1)).toMatchObject({ verb: 'watch', status: -1, fault: 'reset' });

    // A reset mid-stream: the watch is established and has delivered an event, then the socket dies.
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'reset', afterMs: 50 } });
    const cut = watchWith(kc, path, {});
    const cutErr = await cut.done;
    expect(cutErr).toBeInstanceOf(Error);
    expect(cut.events.length).toBe(30);
    expect(server.requests.at(-1)).toMatchObject({ verb: 'watch', status: 200, fault: 'reset' });

    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'silent' } });
    const silent = watchWith(kc, path, { resourceVersion: server.resourceVersion, allowWatchBookmarks: true });
    await server.whenWatching({ resource: 'pods', silent: true });
    const normal = watchWith(kc, path, { resourceVersion: server.resourceVersion });
    await server.whenWatching({ resource: 'pods' }, 2);
    server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { seen: 'by-normal' } } });
    server.sendBookmarks();
    await normal.until((e) => e.length === 1);
    // The silent watch got headers (status 200) and nothing else, not even the bookmark.
    expect(silent.events).toEqual([]);
    expect(server.requests.filter((q) => q.fault === 'silent').map((q) => q.status)).toEqual([200]);
    await silent.abort();
    await normal.abort();

    const rv = server.resourceVersion;
    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'malformed', afterEvents: 1 } });
    server.patch('pods', NS, 'checkout-stable-00002', { metadata: { labels: { n: '1' } } });
    server.patch('pods', NS, 'checkout-stable-00002', { metadata: { labels: { n: '2' } } });
    const r = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}${path}?watch=1&resourceVersion=${rv}&timeoutSeconds=1`, {}, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    const lines = r.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ type: 'MODIFIED', object: { metadata: { labels: { n: '1' } } } });
    expect(() => JSON.parse(lines[1] as string)).toThrow();
    expect(JSON.parse(lines[2] as string)).toMatchObject({ type: 'MODIFIED', object: { metadata: { labels: { n: '2' } } } });

    server.fault({ verb: 'watch', resource: 'pods', action: { type: 'expire', afterMs: 0 } });
    const expiring = watchWith(kc, path, { resourceVersion: server.resourceVersion });
    expect(await expiring.done).toBeNull();
    expect(expiring.events).toMatchObject([{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }]);
  });

  it("client-node's informer lists, watches, and relists after an in-stream 410", async () => {
    const informer = makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () => core.listNamespacedPod({ namespace: NS }));
    const seen: string[] = [];
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
    await informer.start();
    try {
      await server.whenWatching({ resource: 'pods' });
      expect(informer.list()).toHaveLength(30);
      server.create('pods', makePod({ name: 'late', namespace: NS }));
      await expect.poll(() => seen.includes('add late')).toBe(true);
      // The watch ends; before the informer is back, a pod goes and the history with it. Its resumed
      // watch gets the in-stream 410, so it lists again and finds the deletion in the list.
      server.closeWatches();
      server.remove('pods', NS, 'checkout-stable-00001');
      server.compact();
      await expect.poll(() => server.requests.filter((q) => q.verb === 'list').length).toBe(2);
      await expect.poll(() => seen.includes('delete checkout-stable-00001')).toBe(true);
      await expect.poll(() => server.openWatches().length).toBe(1);
      expect(server.requests.filter((q) => q.verb === 'watch')).toHaveLength(3);
      server.create('pods', makePod({ name: 'after-relist', namespace: NS }));
      await expect.poll(() => informer.list().map((p) => p.metadata?.name)).toContain('after-relist');
      expect(informer.list().map((p) => p.metadata?.name)).not.toContain('checkout-stable-00001');
    } finally {
      await informer.stop();
    }
  });

  it('bookmarks come by themselves every bookmarkIntervalMs to watches that allow them', async () => {
    const ticking = await startKubeApiServer({ bookmarkIntervalMs: 50 });
    try {
      ticking.create('pods', makePod({ name: 'a', namespace: NS }));
      const kc2 = clientFor(ticking);
      const w = watchWith(kc2, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: ticking.resourceVersion, allowWatchBookmarks: true });
      const plain = watchWith(kc2, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: ticking.resourceVersion });
      await w.until((e) => e.filter((x) => x.type === 'BOOKMARK').length >= 2);
      expect(w.events.every((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === ticking.resourceVersion)).toBe(true);
      expect(plain.events).toEqual([]);
      await w.abort();
      await plain.abort();
    } finally {
      await ticking.close();
    }
  });

  it('a watch with timeoutSeconds ends cleanly (the terminating chunk)', async () => {
    const w = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: server.resourceVersion, timeoutSeconds: 1 });
    expect(await w.done).toBeNull();
    expect(server.openWatches()).toEqual([]);
  });

  it('a filtered watch sees an object leave the selection as DELETED and enter it as ADDED', async () => {
    const w = watchWith(kc, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: server.resourceVersion, labelSelector: 'track=canary' });
    await server.whenWatching({ resource: 'pods' });
    server.patch('pods', NS, 'checkout-canary-00000', { metadata: { labels: { track: 'stable' } } });
    server.patch('pods', NS, 'checkout-stable-00001', { metadata: { labels: { track: 'canary' } } });
    server.patch('pods', NS, 'checkout-stable-00002', { metadata: { labels: { other: 'x' } } });
    await w.until((e) => e.length === 2);
    expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['DELETED', 'checkout-canary-00000'],
      ['ADDED', 'checkout-stable-00001'],
    ]);
    await w.abort();
  });

  it('merge patch and JSON Patch need setHeaderOptions; the default Content-Type is JSON Patch', async () => {
    const args = { group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', name: 'checkout' };
    const merged = (await custom.patchNamespacedCustomObject(
      { ...args, body: { metadata: { annotations: { 'canary/weight': '10' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as KubeObject;
    expect(merged.metadata.annotations).toEqual({ 'canary/weight': '10' });
    const rv = merged.metadata.resourceVersion;
    const patched = (await custom.patchNamespacedCustomObject(
      {
        ...args,
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: rv },
          { op: 'test', path: '/spec/http/0/route/1/weight', value: 0 },
          { op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 },
          { op: 'replace', path: '/spec/http/0/route/1/weight', value: 10 },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as KubeObject & { spec: { http: { route: { weight: number }[] }[] } };
    expect(patched.spec.http[0]?.route.map((r) => r.weight)).toEqual([90, 10]);
    expect(Number(patched.metadata.resourceVersion)).toBe(Number(rv) + 1);

    // The same test op again: the resourceVersion moved on, so it fails with 422 and changes nothing.
    const failed = await rejectsWith(
      custom.patchNamespacedCustomObject({ ...args, body: [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, { op: 'replace', path: '/spec/http/0/route/1/weight', value: 50 }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
    );
    expect(failed).toEqual({
      code: 422,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422 },
    });
    // Without the middleware, client-node sends application/json-patch+json: a merge-patch body is then a 400.
    const wrong = await rejectsWith(custom.patchNamespacedCustomObject({ ...args, body: { spec: { hosts: ['x'] } } }));
    expect(wrong.code).toBe(400);
    expect(server.requests.filter((q) => q.method === 'PATCH').map((q) => [q.contentType, q.status])).toEqual([
      ['application/merge-patch+json', 200],
      ['application/json-patch+json', 200],
      ['application/json-patch+json', 422],
      ['application/json-patch+json', 400],
    ]);
    expect(JSON.parse(server.requests.filter((q) => q.method === 'PATCH')[1]?.body ?? '')).toHaveLength(4);
  });

  it('patch content types: strategic is 415 on a custom resource, an unknown type is 415 everywhere', async () => {
    const url = `${server.url}/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices/checkout`;
    let r = await raw(url, { method: 'PATCH', headers: { 'Content-Type': 'application/strategic-merge-patch+json' }, body: '{}' });
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
    r = await raw(`${server.url}/api/v1/namespaces/${NS}/pods/checkout-stable-00001`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body).message).toContain('application/strategic-merge-patch+json');
    r = await raw(`${server.url}/api/v1/namespaces/${NS}/pods/checkout-stable-00001`, { method: 'PATCH', headers: { 'Content-Type': 'application/strategic-merge-patch+json' }, body: '{"metadata":{"labels":{"s":"1"}}}' });
    expect(r.status).toBe(200);
  });

  it('a 409 on update (PUT) with a stale resourceVersion, and a fault answering 409 once before success', async () => {
    const vs = (await custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', name: 'checkout' })) as KubeObject;
    server.patch(VS, NS, 'checkout', { metadata: { labels: { gitops: 'self-heal' } } });
    const conflict = await rejectsWith(
      custom.replaceNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', name: 'checkout', body: vs }),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on virtualservices.networking.istio.io "checkout": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'checkout', group: 'networking.istio.io', kind: 'virtualservices' },
    });
    const f = server.fault({ verb: 'patch', resource: 'virtualservices', times: 1, action: { type: 'status', code: 409 } });
    const patchIt = () =>
      custom.patchNamespacedCustomObject(
        { group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural: 'virtualservices', name: 'checkout', body: { spec: { hosts: ['checkout.shop'] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    expect((await rejectsWith(patchIt())).body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(((await patchIt()) as { spec: { hosts: string[] } }).spec.hosts).toEqual(['checkout.shop']);
    expect(f.hits).toBe(1);
    expect(server.requests.filter((q) => q.method === 'PATCH').map((q) => [q.status, q.fault])).toEqual([
      [409, 'status'],
      [200, undefined],
    ]);
  });

  it('403 with the real message for a denied list; 500 from a fault', async () => {
    server.deny({ verb: 'list', resource: 'pods', namespace: NS });
    const denied = await rejectsWith(core.listNamespacedPod({ namespace: NS }));
    expect(denied).toEqual({
      code: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'pods is forbidden: User "system:serviceaccount:canary:canary" cannot list resource "pods" in API group "" in the namespace "shop"',
        reason: 'Forbidden',
        details: { kind: 'pods' },
        code: 403,
      },
    });
    server.clearDenials();
    server.fault({ verb: 'get', resource: 'pods', action: { type: 'status', code: 500 } });
    const failed = await rejectsWith(core.readNamespacedPod({ namespace: NS, name: 'checkout-stable-00001' }));
    expect(failed.code).toBe(500);
    expect(failed.body.reason).toBe('InternalError');
    expect((await core.readNamespacedPod({ namespace: NS, name: 'checkout-stable-00001' })).metadata?.name).toBe('checkout-stable-00001');
  });

  it('a bearer token: 401 Unauthorized without it or with another (client-node sends it over http too)', async () => {
    const secured = await startKubeApiServer({ token: 't0ken', tls: false });
    try {
      secured.create('pods', makePod({ name: 'p', namespace: NS }));
      const good = clientFor(secured).makeApiClient(CoreV1Api);
      expect((await good.listNamespacedPod({ namespace: NS })).items).toHaveLength(1);
      for (const token of [null, 'wrong']) {
        const bad = clientFor(secured, { token }).makeApiClient(CoreV1Api);
        // client-node drops the body of a 401 (ApiException body undefined); the wire has the Status.
        expect((await rejectsWith(bad.listNamespacedPod({ namespace: NS }))).code).toBe(401);
      }
      const wire = await raw(`${secured.url}/api/v1/namespaces/${NS}/pods`, { headers: { Authorization: 'Bearer nope' } });
      expect(wire.status).toBe(401);
      expect(JSON.parse(wire.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
      // And over https (the default) with the test certificate in the kubeconfig.
      const tls = await startKubeApiServer({ token: 't0ken' });
      try {
        tls.create('pods', makePod({ name: 'q', namespace: NS }));
        const api = clientFor(tls).makeApiClient(CoreV1Api);
        expect((await api.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata?.name)).toEqual(['q']);
      } finally {
        await tls.close();
      }
    } finally {
      await secured.close();
    }
  });

  it('an absent CRD is 404 "the server could not find the requested resource"; removing one ends its watches', async () => {
    const args = { group: 'argoproj.io', version: 'v1alpha1', namespace: NS, plural: 'rollouts' };
    const absent = await rejectsWith(custom.listNamespacedCustomObject(args));
    expect(absent).toEqual({
      code: 404,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 },
    });
    const groups = await raw(`${server.url}/apis`);
    expect(JSON.parse(groups.body).groups.map((g: { name: string }) => g.name)).not.toContain('argoproj.io');
    server.installCrd('rollouts.argoproj.io');
    server.create('rollouts', makeRollout('checkout', { namespace: NS }));
    const list = (await custom.listNamespacedCustomObject(args)) as { kind: string; items: KubeObject[] };
    expect(list.kind).toBe('RolloutList');
    // Custom resource list items keep kind and apiVersion; built-in list items do not (as on a real server).
    expect(list.items[0]).toMatchObject({ kind: 'Rollout', apiVersion: 'argoproj.io/v1alpha1' });
    expect((await core.listNamespacedPod({ namespace: NS, limit: 1 })).items[0]).not.toHaveProperty('kind');
    const notFound = await rejectsWith(custom.getNamespacedCustomObject({ ...args, name: 'nope' }));
    expect(notFound.body).toMatchObject({ reason: 'NotFound', message: 'rollouts.argoproj.io "nope" not found', details: { name: 'nope', group: 'argoproj.io', kind: 'rollouts' } });
    const w = watchWith(kc, `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts`, {});
    await w.until((e) => e.length === 1);
    server.removeCrd('rollouts.argoproj.io');
    expect(await w.done).toBeNull();
    expect((await rejectsWith(custom.listNamespacedCustomObject(args))).code).toBe(404);
  });

  it('leases: MicroTime out whatever precision comes in, and a create/update race loses with 409', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const acquired = new Date('2026-11-26T13:18:07.123Z');
    const body: V1Lease = {
      metadata: { name: 'canary-checkout', namespace: NS },
      spec: { holderIdentity: 'alice@laptop', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired, leaseTransitions: 0 },
    };
    const created = await leases.createNamespacedLease({ namespace: NS, body });
    // A Date goes out with milliseconds; MicroTime fields come back as the server's string (client-node
    // 1.x does not turn V1MicroTime into a Date on reading, whatever the TypeScript type says).
    expect(JSON.parse(server.requests.at(-1)?.body ?? '{}').spec.renewTime).toBe('2026-11-26T13:18:07.123Z');
    expect(created.spec?.renewTime as unknown).toBe('2026-11-26T13:18:07.123000Z');
    const raws = await raw(`${server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/canary-checkout`);
    expect(JSON.parse(raws.body).spec).toMatchObject({ acquireTime: '2026-11-26T13:18:07.123000Z', renewTime: '2026-11-26T13:18:07.123000Z' });
    // A second creator loses: 409 AlreadyExists.
    const again = await rejectsWith(leases.createNamespacedLease({ namespace: NS, body: { ...body, spec: { ...body.spec, holderIdentity: 'bob@desk' } } }));
    expect(again.body).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "canary-checkout" already exists' });
    // Two holders read the same version; the first renewal wins, the second is a 409 Conflict.
    const a = await leases.readNamespacedLease({ namespace: NS, name: 'canary-checkout' });
    const b = await leases.readNamespacedLease({ namespace: NS, name: 'canary-checkout' });
    a.spec = { ...a.spec, renewTime: new V1MicroTime('2026-11-26T13:18:12.5Z') };
    b.spec = { ...b.spec, holderIdentity: 'bob@desk', acquireTime: new Date('2026-11-26T13:18:12.6Z'), leaseTransitions: 1 };
    const renewed = await leases.replaceNamespacedLease({ namespace: NS, name: 'canary-checkout', body: a });
    // client-node's V1MicroTime serialises with six digits itself.
    expect(JSON.parse(server.requests.at(-1)?.body ?? '{}').spec.renewTime).toBe('2026-11-26T13:18:12.500000Z');
    expect(renewed.spec?.renewTime as unknown).toBe('2026-11-26T13:18:12.500000Z');
    const lost = await rejectsWith(leases.replaceNamespacedLease({ namespace: NS, name: 'canary-checkout', body: b }));
    expect(lost.body).toMatchObject({ code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "canary-checkout": the object has been modified; please apply your changes to the latest version and try again' });
    expect(server.get('leases', NS, 'canary-checkout')?.spec).toMatchObject({ holderIdentity: 'alice@laptop', renewTime: '2026-11-26T13:18:12.500000Z' });
    // Microseconds sent are kept.
    expect(toMicroTime('2026-11-26T13:18:07.123456Z', 'Lease')).toBe('2026-11-26T13:18:07.123456Z');
    expect(toMicroTime('2026-11-26T14:18:07+01:00', 'Lease')).toBe('2026-11-26T13:18:07.000000Z');
    const badTime = await raw(`${server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'x' }, spec: { renewTime: 'yesterday' } }),
    });
    expect(badTime.status).toBe(400);
  });

  it('deployments: the scale subresource reads and sets spec.replicas; writes keep the stored status', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    server.create('deployments', makeDeployment('checkout-canary', { namespace: NS, replicas: 4 }));
    const scale = await apps.readNamespacedDeploymentScale({ namespace: NS, name: 'checkout-canary' });
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { replicas: 4, selector: 'app=checkout-canary' } });
    const zero = await apps.patchNamespacedDeploymentScale(
      { namespace: NS, name: 'checkout-canary', body: { spec: { replicas: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(zero.spec?.replicas).toBe(0);
    const d = server.get('deployments', NS, 'checkout-canary') as KubeObject & { spec: { replicas: number }; status: { replicas: number } };
    expect(d.spec.replicas).toBe(0);
    expect(d.metadata.generation).toBe(2);
    // No controller here: status is what the test says it is.
    expect(d.status.replicas).toBe(4);
    const patched = await apps.patchNamespacedDeployment(
      { namespace: NS, name: 'checkout-canary', body: { status: { replicas: 99 }, metadata: { labels: { x: 'y' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.status?.replicas).toBe(4);
    expect(patched.metadata?.labels).toMatchObject({ x: 'y' });
  });

  it('the wire log records every request; several servers at once are independent', async () => {
    const other = await startKubeApiServer();
    try {
      other.create('pods', makePod({ name: 'only-here', namespace: NS }));
      const both = new KubeConfig();
      both.loadFromString(kubeconfigFor([
        { server, context: 'eu-west-1', namespace: NS },
        { server: other, context: 'us-east-1', namespace: NS },
      ]));
      expect(both.getContexts().map((c) => c.name)).toEqual(['eu-west-1', 'us-east-1']);
      both.setCurrentContext('us-east-1');
      const pods = await both.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS });
      expect(pods.items.map((p) => p.metadata?.name)).toEqual(['only-here']);
      expect(server.requests.filter((q) => q.verb === 'list')).toEqual([]);
      expect(other.requests.at(-1)).toMatchObject({ method: 'GET', path: `/api/v1/namespaces/${NS}/pods`, verb: 'list', resource: 'pods', namespace: NS, status: 200, watch: false });
      expect(other.resourceVersion).not.toBe(server.resourceVersion);
    } finally {
      await other.close();
    }
  });
});

// =============================================================================================
// Scale

describe('3,000 pods', () => {
  it('load through the control API and come back in one list of realistic size', async () => {
    const server = await startKubeApiServer();
    try {
      server.createMany('pods', makePods(3000, { namespace: NS }));
      const r = await raw(`${server.url}/api/v1/namespaces/${NS}/pods`);
      const list = JSON.parse(r.body) as { items: KubeObject[]; metadata: { resourceVersion: string } };
      expect(list.items).toHaveLength(3000);
      expect(list.metadata.resourceVersion).toBe(server.resourceVersion);
      const perPod = r.body.length / 3000;
      expect(perPod).toBeGreaterThan(2000);
      expect(perPod).toBeLessThan(3500);
      // The cached JSON follows writes.
      server.patch('pods', NS, list.items[5]?.metadata.name as string, { status: { phase: 'Failed' } });
      const again = JSON.parse((await raw(`${server.url}/api/v1/namespaces/${NS}/pods`)).body) as { items: KubeObject[] };
      expect((again.items[5]?.status as { phase: string }).phase).toBe('Failed');
      writeFileSync(join(tmp, 'pods.json'), r.body);
      // A client that accepts gzip gets the big list gzipped (as from a real server), small answers plain.
      const zipped = await new Promise<{ encoding: unknown; body: Buffer }>((resolve, reject) => {
        const req = request(`${server.url}/api/v1/namespaces/${NS}/pods`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(zipped.encoding).toBe('gzip');
      expect(zipped.body.length).toBeLessThan(r.body.length / 5);
      expect(JSON.parse(gunzipSync(zipped.body).toString('utf8')).items).toHaveLength(3000);
      const one = await raw(`${server.url}/api/v1/namespaces/${NS}/pods/${list.items[0]?.metadata.name}`, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(one.headers['content-encoding']).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

// =============================================================================================
// Protocol details a client could depend on

describe('protocol details', () => {
  let server: KubeApiServer;
  const pods = `/api/v1/namespaces/${NS}/pods`;
  const json = { 'Content-Type': 'application/json' };
  const call = (path: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    raw(`${server.url}${path}`, { ...opts, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }).then((r) => ({
      status: r.status,
      body: r.body ? (JSON.parse(r.body) as Record<string, any>) : {},
    }));

  beforeEach(async () => {
    server = await startKubeApiServer();
    server.createMany('pods', makePods(12, { namespace: NS }));
  });
  afterEach(() => server.close());

  it('JSON Patch: add/remove/move/copy on arrays and escaped keys, all or nothing', async () => {
    const name = 'checkout-stable-00001';
    const ops = [
      { op: 'add', path: '/metadata/annotations/canary.io~1weight', value: '5' },
      { op: 'add', path: '/metadata/labels/tier', value: 'web' },
      { op: 'copy', from: '/metadata/labels/tier', path: '/metadata/labels/tier-copy' },
      { op: 'move', from: '/metadata/labels/tier-copy', path: '/metadata/labels/moved' },
      { op: 'add', path: '/spec/tolerations/-', value: { key: 'k', operator: 'Exists' } },
      { op: 'remove', path: '/spec/tolerations/0' },
      { op: 'test', path: '/spec/tolerations/1/key', value: 'k' },
    ];
    const r = await call(`${pods}/${name}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json-patch+json' }, body: ops });
    expect(r.status).toBe(200);
    expect(r.body.metadata.annotations['canary.io/weight']).toBe('5');
    expect(r.body.metadata.labels).toMatchObject({ tier: 'web', moved: 'web' });
    expect(r.body.metadata.labels).not.toHaveProperty('tier-copy');
    expect(r.body.spec.tolerations.map((t: { key: string }) => t.key)).toEqual(['node.kubernetes.io/unreachable', 'k']);
    const before = server.get('pods', NS, name);
    for (const bad of [
      [{ op: 'add', path: '/metadata/labels/a', value: 'b' }, { op: 'remove', path: '/metadata/nope' }],
      [{ op: 'replace', path: '/spec/missing/deep', value: 1 }],
      [{ op: 'add', path: '/spec/tolerations/9', value: {} }],
    ]) {
      const f = await call(`${pods}/${name}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json-patch+json' }, body: bad });
      expect(f.status).toBe(422);
      expect(f.body.reason).toBe('Invalid');
    }
    expect(server.get('pods', NS, name)).toEqual(before);
    const notAPatch = await call(`${pods}/${name}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json-patch+json' }, body: { op: 'add' } });
    expect(notAPatch.status).toBe(400);
  });

  it('merge patch: null deletes a key and arrays are replaced whole; strategic merge patch merges by key and honours $patch: delete', async () => {
    const name = 'checkout-stable-00002';
    let r = await call(`${pods}/${name}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { metadata: { annotations: { 'prometheus.io/port': null } }, spec: { tolerations: [{ key: 'only', operator: 'Exists' }] } },
    });
    expect(r.body.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(r.body.spec.tolerations).toEqual([{ key: 'only', operator: 'Exists' }]);
    r = await call(`${pods}/${name}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'checkout', env: [{ name: 'TRACK', $patch: 'delete' }] }] } },
    });
    expect(r.status).toBe(200);
    expect(r.body.spec.containers.map((c: { name: string }) => c.name)).toEqual(['checkout', 'sidecar']);
    expect(r.body.spec.containers[0].env).toEqual([{ name: 'GOMAXPROCS', value: '2' }]);
    expect(r.body.spec.containers[0].image).toBe('registry.example.com/shop/checkout:4.18.0');
  });

  it('create over HTTP: 201, uid/creationTimestamp/resourceVersion set, status reset, generateName, 409 AlreadyExists, 422 without a name', async () => {
    const pod = makePod({ name: 'made-over-http', namespace: NS });
    let r = await call(pods, { method: 'POST', headers: json, body: pod });
    expect(r.status).toBe(201);
    expect(r.body.metadata.uid).not.toBe(pod.metadata.uid);
    expect(r.body.metadata.resourceVersion).toBe(server.resourceVersion);
    expect(r.body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    r = await call(pods, { method: 'POST', headers: json, body: pod });
    expect(r).toMatchObject({ status: 409, body: { reason: 'AlreadyExists', message: 'pods "made-over-http" already exists' } });
    r = await call(pods, { method: 'POST', headers: json, body: { ...pod, metadata: { generateName: 'gen-' } } });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    r = await call(pods, { method: 'POST', headers: json, body: { ...pod, metadata: {} } });
    expect(r).toMatchObject({ status: 422, body: { reason: 'Invalid', message: 'Pod "" is invalid: metadata.name: Required value: name or generateName is required' } });
    r = await call(pods, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(r).toMatchObject({ status: 415, body: { reason: 'UnsupportedMediaType' } });
    r = await call(pods, { method: 'POST', headers: json, body: '{not json' });
    expect(r).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    r = await call(`/api/v1/namespaces/other/pods`, { method: 'POST', headers: json, body: makePod({ name: 'x', namespace: NS }) });
    expect(r).toMatchObject({ status: 400, body: { message: 'the namespace of the provided object does not match the namespace sent on the request' } });
  });

  it('update, delete and dryRun: name mismatch 400, delete preconditions 409, deleted object returned, dryRun stores nothing', async () => {
    const name = 'checkout-stable-00003';
    const cur = server.get('pods', NS, name) as KubeObject;
    let r = await call(`${pods}/${name}`, { method: 'PUT', headers: json, body: { ...cur, metadata: { ...cur.metadata, name: 'other' } } });
    expect(r).toMatchObject({ status: 400, body: { message: `the name of the object (other) does not match the name on the URL (${name})` } });
    const rv = server.resourceVersion;
    r = await call(`${pods}/${name}?dryRun=All`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { metadata: { labels: { dry: 'run' } } } });
    expect(r.body.metadata.labels.dry).toBe('run');
    expect(server.resourceVersion).toBe(rv);
    expect(server.get('pods', NS, name)?.metadata.labels?.dry).toBeUndefined();
    r = await call(`${pods}/${name}`, { method: 'DELETE', headers: json, body: { preconditions: { resourceVersion: '1' } } });
    expect(r).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    r = await call(`${pods}/${name}`, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'Pod', metadata: { name, resourceVersion: server.resourceVersion } });
    expect(server.get('pods', NS, name)).toBeUndefined();
    r = await call(`${pods}/${name}`, { method: 'DELETE' });
    expect(r).toMatchObject({ status: 404, body: { reason: 'NotFound', message: `pods "${name}" not found`, details: { name, kind: 'pods' } } });
    r = await call(`${pods}?labelSelector=track%3Dcanary`, { method: 'DELETE' });
    expect(r.body.items.map((p: KubeObject) => p.metadata.name)).toEqual(['checkout-canary-00000', 'checkout-canary-0000a']);
    expect(server.list('pods', NS)).toHaveLength(9);
  });

  it('label selector grammar: =, ==, !=, in, notin, exists, !exists; a bad selector is 400', async () => {
    server.patch('pods', NS, 'checkout-stable-00004', { metadata: { labels: { 'canary.io/pinned': 'yes' } } });
    const names = async (sel: string) =>
      (await call(`${pods}?labelSelector=${encodeURIComponent(sel)}`)).body.items.map((p: KubeObject) => p.metadata.name.replace('checkout-', ''));
    expect(await names('track==canary')).toEqual(['canary-00000', 'canary-0000a']);
    expect(await names('track!=stable,app=checkout')).toEqual(['canary-00000', 'canary-0000a']);
    expect(await names('track in (canary, nope)')).toEqual(['canary-00000', 'canary-0000a']);
    expect(await names('canary.io/pinned')).toEqual(['stable-00004']);
    expect(await names('!canary.io/pinned,track notin (canary)')).toHaveLength(9);
    expect((await call(`${pods}?labelSelector=${encodeURIComponent('a b c')}`)).status).toBe(400);
  });

  it('a watch without resourceVersion starts with ADDED for what exists; sendInitialEvents ends with the initial-events-end bookmark', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}${pods}?watch=true&labelSelector=track%3Dcanary&timeoutSeconds=1`, {}, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    expect(r.trim().split('\n').map((l) => [JSON.parse(l).type, JSON.parse(l).object.metadata.name])).toEqual([
      ['ADDED', 'checkout-canary-00000'],
      ['ADDED', 'checkout-canary-0000a'],
    ]);
    const streamed = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}${pods}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dcheckout-stable-00001&timeoutSeconds=1`, {}, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    const evs = streamed.trim().split('\n').map((l) => JSON.parse(l));
    expect(evs.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(evs[1].object.metadata).toEqual({ resourceVersion: server.resourceVersion, creationTimestamp: null, annotations: { 'k8s.io/initial-events-end': 'true' } });
  });

  it('the control API hands out copies: changing one changes nothing on the server', async () => {
    const created = server.create('pods', makePod({ name: 'copy-me', namespace: NS }));
    (created.metadata.labels as Record<string, string>).mutated = 'yes';
    const got = server.get('pods', NS, 'copy-me') as KubeObject;
    expect(got.metadata.labels).not.toHaveProperty('mutated');
    (got.status as { phase: string }).phase = 'Failed';
    server.list('pods', NS)[0]!.metadata.name = 'renamed';
    const wire = await call(`${pods}/copy-me`);
    expect(wire.body.status.phase).toBe('Running');
    expect((await call(pods)).body.items[0].metadata.name).toBe('checkout-canary-00000');
  });

  it('onRequest sees a request with its body before it is answered', async () => {
    const seen: string[] = [];
    const patchSeen = server.whenRequest((q) => q.method === 'PATCH');
    const off = server.onRequest((q) => seen.push(`${q.method} ${q.resource} ${q.name} ${q.status} ${q.body ?? ''}`));
    await call(`${pods}/checkout-stable-00001`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: { metadata: { labels: { a: 'b' } } } });
    off();
    await call(pods);
    expect(seen).toEqual(['PATCH pods checkout-stable-00001 0 {"metadata":{"labels":{"a":"b"}}}']);
    expect((await patchSeen).name).toBe('checkout-stable-00001');
    expect(server.requests.at(-2)?.status).toBe(200);
  });
});
