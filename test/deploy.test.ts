// deploy/: `kubectl kustomize` renders the overlay, and every object it renders is accepted by the
// test API server (created with kubectl, CRD first as `kubectl apply` would); the overlay's plan is
// the seed's with only its traffic provider changed; every rule of the Role says why; and, with no
// container runtime here, the image's entrypoint runs as a process with the Deployment's own
// arguments ($(VAR)s expanded as the kubelet does) and serves its probes and drives.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from './kube/apiserver.js';
import { kubectl, kubectlBinary, kubectlCacheDir } from './kube/kubectl.js';
import { clusterPlan, ROOT, startFakePrometheus, writeKubeconfig, type FakePrometheus } from './helpers/cluster.js';
import { makeVirtualService } from './kube/fixtures.js';

const haveKubectl = kubectlBinary() !== null || Boolean(process.env.CI);
const OVERLAY = join(ROOT, 'deploy', 'overlays', 'maestro-conductor-rc');
const NS = 'maestro-conductor-canary';
const dir = mkdtempSync(join(tmpdir(), 'canary-deploy-'));

let server: KubeApiServer;
let kc: string;
let objects: KubeObject[] = [];

beforeAll(async () => {
  server = await startKubeApiServer({ token: 'deploy-token' });
  kc = writeKubeconfig(server, dir);
});
afterAll(async () => {
  await server?.close();
});

describe.runIf(haveKubectl)('deploy/', { timeout: 90_000 }, () => {
  it('kubectl kustomize renders the overlay, and the test API server accepts every object', async () => {
    const ctx = { kubeconfig: kc, cacheDir: kubectlCacheDir() };
    const rendered = await kubectl(ctx, ['kustomize', OVERLAY]);
    expect(rendered.stderr).toBe('');
    expect(rendered.code).toBe(0);
    objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as KubeObject);
    expect(objects.map((o) => o.kind).sort()).toEqual(['CanaryRollout', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    for (const o of objects) if (o.kind !== 'CustomResourceDefinition') expect(o.metadata.namespace).toBe(NS);
    // The CRD first (its type must be served before a CanaryRollout can be created), then the rest.
    const crd = join(dir, 'crd.yaml');
    const rest = join(dir, 'rest.yaml');
    writeFileSync(crd, objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => stringifyYaml(o)).join('---\n'));
    writeFileSync(rest, objects.filter((o) => o.kind !== 'CustomResourceDefinition').map((o) => stringifyYaml(o)).join('---\n'));
    const c1 = await kubectl(ctx, ['create', '--validate=false', '-f', crd]);
    expect(c1.stderr).toBe('');
    expect(c1.stdout).toMatch(/customresourcedefinition.apiextensions.k8s.io\/canaryrollouts.canary.dev created/);
    const c2 = await kubectl({ kubeconfig: kc, cacheDir: kubectlCacheDir() }, ['create', '--validate=false', '-f', rest]);
    expect(c2.stderr).toBe('');
    expect(c2.stdout.trim().split('\n')).toHaveLength(8);
    expect(server.get('canaryrollouts.canary.dev', NS, 'maestro-conductor-rc')).toBeDefined();
    // The Deployment as the issue asks: 2 replicas, probes, requests and limits, non-root, read-only root.
    const dep = server.get('deployments.apps', NS, 'canary-driver') as unknown as { spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, any>[] } } } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = dep.spec.template.spec.containers[0]!;
    expect(dep.spec.replicas).toBe(2);
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(dep.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
  });

  it("the overlay's plan is the seed's plan with only its traffic provider changed", () => {
    const seed = parseYaml(readFileSync(join(ROOT, 'config', 'maestro-conductor-rc.yaml'), 'utf8')) as Record<string, unknown>;
    const ours = parseYaml(readFileSync(join(OVERLAY, 'plan.yaml'), 'utf8')) as Record<string, unknown>;
    expect((ours.traffic as { provider: string }).provider).toBe('istio');
    delete seed.traffic;
    delete ours.traffic;
    expect(ours).toEqual(seed);
  });

  it('every rule of the Role is justified in a comment, and no rule grants a wildcard', () => {
    const text = readFileSync(join(ROOT, 'deploy', 'base', 'rbac.yaml'), 'utf8');
    const rules = text.split('\n');
    const starts = rules.map((l, i) => [l, i] as const).filter(([l]) => /^ {2}- apiGroups:/.test(l));
    expect(starts.length).toBeGreaterThanOrEqual(6);
    for (const [, i] of starts) expect(rules[i - 1]).toMatch(/^ {2}#/);
    expect(text).not.toMatch(/["']\*["']|\[\*\]/);
  });

  it("the image's entrypoint with the Deployment's arguments runs the driver: probes answer and it drives", async () => {
    expect(objects.length).toBeGreaterThan(0);
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint[0]).toBe('node');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/^USER 1000/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const dep = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } } } };
    const container = dep.spec.template.spec.containers[0]!;
    const env = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    // The kubelet's $(VAR) expansion; the image's /app is this checkout.
    const args = container.args.map((a) => a.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? `$(${v})`));
    expect(args.slice(0, 2)).toEqual(['drive', 'maestro-conductor-rc']);
    // Only loopback here, on a free port; the cluster's API server and Prometheus are the test's.
    const h = args.indexOf('--health');
    args[h + 1] = '127.0.0.1:0';
    const plan = clusterPlan(readFileSync(join(OVERLAY, 'plan.yaml'), 'utf8'));
    const prom: FakePrometheus = await startFakePrometheus(plan);
    server.installCrd('virtualservices.networking.istio.io');
    server.create('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: NS }));
    const cmd = [entrypoint[1]!.replace(/^\/app\//, `${ROOT}`), ...args, '--prometheus', prom.url];
    const child = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: kc, POD_NAME: 'canary-driver-5d8f7-abcde' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const end = Date.now() + 30_000;
    while (!/serving \/healthz/.test(out) && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
    try {
      const url = /serving \/healthz, \/readyz, \/metrics at (http:\/\/\S+?)"/.exec(out)?.[1];
      expect(url, `stdout: ${out}\nstderr: ${err}`).toBeDefined();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const cr = () => server.get('canaryrollouts.canary.dev', NS, 'maestro-conductor-rc') as unknown as { status?: { driver?: { holder: string }; state?: string } };
      while (cr().status?.driver?.holder !== 'canary-driver-5d8f7-abcde' && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
      expect(cr().status, `stdout: ${out}\nstderr: ${err}`).toMatchObject({ driver: { holder: 'canary-driver-5d8f7-abcde' }, state: 'Pending' });
      let ready = 0;
      while (ready !== 200 && Date.now() < end) {
        ready = (await fetch(`${url}/readyz`)).status;
        if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ready).toBe(200);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/canary_rollout_status\{status="pending",phase="-1"\} 1/);
      // Every line on stdout is a JSON log line.
      for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await prom.close();
    }
  });
});
