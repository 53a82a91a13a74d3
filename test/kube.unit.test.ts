// The Kubernetes pieces that need no API server: kubectl's STATUS column, the server-side
// selector, kubeconfig discovery and its errors, provider weight checks in the plan, and the
// engine's drift / read-only / per-cluster rules.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { podInfo, serverSelector } from '../src/sources/kube-pods.js';
import { connectClusters, loadKubeConfig } from '../src/kube/config.js';
import { Plan, crossCheck } from '../src/plan/schema.js';
import { makeProvider } from '../src/actuators/traffic/providers.js';
import { Driver, HOUR, loadSeedPlan } from './helpers/drive.js';
import { describeRollback, gateView } from '../src/engine/gates.js';
import { lockJournal } from '../src/wiring/journal-lock.js';

const pod = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'orch-1', namespace: 'ns', labels: { track: 'canary' }, ...extra },
  spec: { containers: [{ name: 'app' }] },
  status,
});

describe('pod status as kubectl shows it', () => {
  it('Running and ready', () => {
    const p = podInfo(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ ready: true, restartCount: 0, state: { running: {} } }] }), 'us-east-1', 'canary');
    expect(p).toMatchObject({ key: 'us-east-1/ns/orch-1', reason: 'Running', ready: true, restarts: 0, phase: 'Running' });
  });
  it('CrashLoopBackOff with the last restart reason (OOMKilled) and the restart count', () => {
    const p = podInfo(
      pod({
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { ready: false, restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-11-26T10:00:00Z' } } },
        ],
      }),
      'eu-west-1',
      'canary',
    );
    expect(p).toMatchObject({ reason: 'CrashLoopBackOff', ready: false, restarts: 7, lastRestartReason: 'OOMKilled', message: 'back-off 5m0s restarting failed container' });
  });
  it('ImagePullBackOff keeps the message that says which image', () => {
    const p = podInfo(pod({ phase: 'Pending', containerStatuses: [{ ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry/app:rc"' } } }] }), 'r', 'canary');
    expect(p.reason).toBe('ImagePullBackOff');
    expect(p.message).toContain('registry/app:rc');
  });
  it('Pending and why: the scheduler condition', () => {
    const p = podInfo(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] }), 'r', 'stable');
    expect(p).toMatchObject({ reason: 'Pending', message: '0/3 nodes are available: 3 Insufficient cpu.', track: 'stable' });
  });
  it('Init:1/2 while init containers run, Init:CrashLoopBackOff when one fails', () => {
    const spec = { initContainers: [{ name: 'a' }, { name: 'b' }] };
    const running = podInfo({ ...pod({ phase: 'Pending', initContainerStatuses: [{ state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { state: { running: {} } }] }), spec }, 'r', 'canary');
    expect(running.reason).toBe('Init:1/2');
    const failing = podInfo({ ...pod({ phase: 'Pending', initContainerStatuses: [{ restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), spec }, 'r', 'canary');
    expect(failing.reason).toBe('Init:CrashLoopBackOff');
    expect(failing.restarts).toBe(3);
  });
  it('Terminating once deletionTimestamp is set; Completed containers next to a running one read Running', () => {
    expect(podInfo(pod({ phase: 'Running' }, { deletionTimestamp: '2026-11-26T10:00:00Z' }), 'r', 'canary').reason).toBe('Terminating');
    const mixed = podInfo(
      pod({ phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }, { ready: false, state: { terminated: { reason: 'Completed', exitCode: 0 } } }] }),
      'r',
      'canary',
    );
    expect(mixed.reason).toBe('Running');
  });
});

describe('server-side selector from the plan selectors', () => {
  it('one differing key becomes a set-based term', () => {
    expect(serverSelector({ canary: { track: 'canary', app: 'orch' }, stable: { track: 'stable', app: 'orch' } })).toBe('app=orch,track in (canary,stable)');
  });
  it('selectors that cannot be combined watch the namespace (and classify locally)', () => {
    expect(serverSelector({ canary: { track: 'canary' }, stable: { version: 'v1' } })).toBeUndefined();
    expect(serverSelector({ canary: { a: '1', b: '1' }, stable: { a: '2', b: '2' } })).toBeUndefined();
  });
});

describe('kubeconfig discovery like kubectl, and never localhost:8080', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canary-kc-'));
  const kubeconfig = (contexts: string[]) => `apiVersion: v1
kind: Config
clusters:
${contexts.map((c, i) => `- name: c${i}\n  cluster: { server: "http://127.0.0.1:${6440 + i}" }`).join('\n')}
users:
- name: u
  user: { token: secret-token }
contexts:
${contexts.map((c, i) => `- name: ${c}\n  context: { cluster: c${i}, user: u, namespace: ns }`).join('\n')}
current-context: ${contexts[0]}
`;
  const file = join(dir, 'config');
  writeFileSync(file, kubeconfig(['east', 'west']));
  const regions = { regions: ['us-east-1', 'us-west-2', 'eu-west-1'] };

  it('no kubeconfig anywhere is an error that says where it looked, not a silent localhost:8080', async () => {
    await expect(loadKubeConfig({ env: { HOME: dir } })).rejects.toThrow(/no kubeconfig found: give --kubeconfig FILE, set KUBECONFIG, create .*\.kube\/config.*never falls back to http:\/\/localhost:8080/);
  });
  it('in a pod: the service account (token, CA) and KUBERNETES_SERVICE_HOST, as kubectl does in-cluster', async () => {
    const root = mkdtempSync(join(tmpdir(), 'canary-sa-'));
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'not a real CA');
    writeFileSync(join(sa, 'namespace'), 'shop');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    try {
      const { kc, from } = await loadKubeConfig({ env: { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1' }, inClusterRoot: root });
      expect(from).toBe('in-cluster service account');
      expect(kc.getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
    } finally {
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = saved.port;
    }
  });
  it('a --kubeconfig that does not exist, and a KUBECONFIG whose files are all missing', async () => {
    await expect(loadKubeConfig({ kubeconfig: join(dir, 'nope') })).rejects.toThrow(/kubeconfig .*nope: no such file/);
    await expect(loadKubeConfig({ env: { KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}` } })).rejects.toThrow(/KUBECONFIG=.*none of these files exists/);
  });
  it('a broken kubeconfig names the file, and never prints the token next to the error', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'users:\n- name: u\n  user:\n    token: sUpErSeCrEt123\n  : [ {\n');
    const err = (await loadKubeConfig({ kubeconfig: bad }).then(() => new Error("loaded"), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/kubeconfig .*bad: cannot be read/);
    expect(err.message).not.toContain('sUpErSeCrEt123');
  });
  it('KUBECONFIG with several files merges them (missing entries are skipped, like kubectl)', async () => {
    const other = join(dir, 'other');
    writeFileSync(other, kubeconfig(['south']).replace(/c0/g, 'c9'));
    const { kc, from } = await loadKubeConfig({ env: { KUBECONFIG: `${file}:${join(dir, 'missing')}:${other}` } });
    expect(kc.getContexts().map((c) => c.name).sort()).toEqual(['east', 'south', 'west']);
    expect(from).toContain('KUBECONFIG');
  });
  it('one context per region from --context region=name; unknown contexts and regions are refused', async () => {
    const { targets } = await connectClusters(regions, { kubeconfig: file, contexts: ['us-east-1=east', 'us-west-2=west', 'eu-west-1=west'] });
    expect(targets.map((t) => [t.cluster.context, t.regions])).toEqual([
      ['east', ['us-east-1']],
      ['west', ['us-west-2', 'eu-west-1']],
    ]);
    expect(targets[0]!.cluster.url).toBe('http://127.0.0.1:6440');
    for (const t of targets) t.cluster.close();
    await expect(connectClusters(regions, { kubeconfig: file, contexts: ['nowhere'] })).rejects.toThrow(/context "nowhere" \(for region us-east-1\) is not there; it has: east, west/);
    await expect(connectClusters(regions, { kubeconfig: file, contexts: ['ap-south-1=east'] })).rejects.toThrow(/"ap-south-1" is not a region of the plan/);
  });
  it('the plan\'s target.clusters gives each region its context; the current context otherwise', async () => {
    const { targets } = await connectClusters({ ...regions, clusters: { 'eu-west-1': { context: 'west' } } }, { kubeconfig: file });
    expect(targets.map((t) => [t.cluster.context, t.regions])).toEqual([
      ['east', ['us-east-1', 'us-west-2']],
      ['west', ['eu-west-1']],
    ]);
    for (const t of targets) t.cluster.close();
  });
});

describe('provider settings and weights in the plan', () => {
  const seed = parse(readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8'));
  const withTraffic = (traffic: Record<string, unknown>, weights?: number[]) => {
    const raw = structuredClone(seed);
    raw.traffic = traffic;
    if (weights) raw.phases[0].steps[0].weight = weights[0];
    return crossCheck(Plan.parse(raw)).map((p) => `${p.path.join('.')}: ${p.message}`);
  };
  it('a provider without its settings is named with the key to add', () => {
    expect(withTraffic({ provider: 'istio' })).toContain('traffic.provider: provider "istio" needs its settings under traffic.istio');
  });
  it('weights the provider cannot express are refused per step', () => {
    const istio = { provider: 'istio', istio: { virtualService: 'orch', canary: { host: 'orch-canary' }, stable: { host: 'orch-stable' } } };
    expect(withTraffic(istio, [0.5])).toContain('phases.0.steps.0.weight: istio route weights are whole percentages; 0.5 is not');
    expect(withTraffic(istio, [1])).toEqual([]);
    const replicas = { provider: 'replicas', replicas: { canaryDeployment: 'c', stableDeployment: 's', total: 10 } };
    expect(withTraffic(replicas, [1]).join('\n')).toContain('replicas: 1% of traffic.replicas.total (10) is 0.1 pods, not a whole number');
    expect(makeProvider('replicas', { namespace: 'ns', replicas: { canaryDeployment: 'c', stableDeployment: 's', total: 10 } }).invalid(1)).toMatch(/not a whole number/);
    expect(makeProvider('gateway-api', { namespace: 'ns', gatewayApi: { httpRoute: 'r', canaryBackend: 'c', stableBackend: 's' } }).invalid(0.5)).toBeNull();
  });
});

describe('engine: per-cluster results, drift, one driver', () => {
  const plan = loadSeedPlan();
  const clusters = [
    { cluster: 'us-east-1', ok: true, weight: 0, attempts: 1, detail: '0% read back' },
    { cluster: 'us-west-2', ok: false, weight: 5, attempts: 4, detail: '403 Forbidden' },
  ];

  it('keeps how each cluster took a rollback, for the console', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5);
    d.confirm = false;
    const [rb] = d.command('rollback').filter((e) => e.type === 'rollback');
    d.send({ type: 'effect.result', at: d.now, effectId: rb!.id, ok: false, detail: 'us-west-2 ✗', weight: 5, clusters });
    expect(d.state.actuation).toMatchObject({ effectId: rb!.id, type: 'rollback', ok: false, clusters });
    expect(d.state.lastEffectError).toMatch(/^rollback #\d+ failed: us-west-2 ✗/);
  });

  it('a cluster reading another weight than canary set is drift: logged once, a hold, a notification', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5 && s.appliedWeight === 5);
    const fx = d.send({ type: 'traffic.observed', at: d.now, cluster: 'east', regions: ['us-east-1'], weight: 0, detail: 'vs canary 0' });
    expect(fx.some((e) => e.type === 'notify' && e.message.includes('traffic drift: east reads 0%, canary set 5%'))).toBe(true);
    expect(d.state.holds).toContain('traffic drift: east reads 0%, canary set 5%');
    // the same reading again: no second notification
    expect(d.send({ type: 'traffic.observed', at: d.now, cluster: 'east', regions: ['us-east-1'], weight: 0, detail: 'again' }).filter((e) => e.type === 'notify')).toHaveLength(0);
    // outside the phase's regions the expected weight is 0
    d.send({ type: 'traffic.observed', at: d.now, cluster: 'eu', regions: ['eu-west-1'], weight: 0, detail: '' });
    expect(d.state.holds.join('\n')).not.toContain('eu reads');
    d.send({ type: 'traffic.observed', at: d.now, cluster: 'east', regions: ['us-east-1'], weight: 5, detail: 'back' });
    expect(d.state.holds.join('\n')).not.toContain('drift');
  });

  it('drift blocks every gate and the steps that would proceed by themselves: no weight is re-applied over it', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5 && s.appliedWeight === 5);
    d.send({ type: 'traffic.observed', at: d.now, cluster: 'east', regions: ['us-east-1'], weight: 2, detail: 'hand-edited' });
    expect(gateView(plan, d.state).blockers.join('\n')).toContain('traffic drift: east reads 2%, canary set 5%');
    const weightsBefore = d.effects.filter((e) => e.type === 'set-weight').length;
    d.runFor(200 * HOUR); // long past the bake: the crew asks, the gate stays shut
    expect(d.effects.filter((e) => e.type === 'set-weight').length).toBe(weightsBefore);
    expect(d.state.desiredWeight).toBe(5);
  });

  it('every cluster of the phase at 0% (a rollback from a shell) is a rollback here too, never undone by the next step', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5 && s.appliedWeight === 5);
    const phaseRegions = plan.phases[1]!.regions === 'all' ? plan.target.regions : (plan.phases[1]!.regions as string[]);
    let fx: ReturnType<typeof d.send> = [];
    phaseRegions.forEach((r, i) => (fx = d.send({ type: 'traffic.observed', at: d.now, cluster: `c${i}`, regions: [r], weight: 0, detail: '' })));
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback?.reason).toMatch(/traffic is at 0% in every cluster of .*rolled back outside this console/);
    expect(fx.some((e) => e.type === 'rollback')).toBe(true); // idempotent: confirms every cluster reads 0
  });

  it('a rollback that was not confirmed can be asked again; a terminal that never drove can roll back traffic it sees', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5 && s.appliedWeight === 5);
    d.confirm = false;
    const [rb] = d.command('rollback').filter((e) => e.type === 'rollback');
    d.send({ type: 'effect.result', at: d.now, effectId: rb!.id, ok: false, detail: 'us-west-2 ✗', weight: 5, clusters });
    expect(describeRollback(plan, d.state).allowed).toBe(true);
    expect(d.command('rollback').some((e) => e.type === 'rollback')).toBe(true);

    const viewer = new Driver(plan, { crew: false });
    expect(describeRollback(plan, viewer.state)).toMatchObject({ allowed: false, title: 'Nothing to roll back' });
    viewer.send({ type: 'driver.status', at: viewer.now, holder: 'ana@wall:42', self: false });
    viewer.send({ type: 'traffic.observed', at: viewer.now, cluster: 'east', regions: ['us-east-1'], weight: 25, detail: '' });
    expect(describeRollback(plan, viewer.state).lines[0]).toContain('25% -> 0%');
    const fx = viewer.command('rollback');
    expect(fx.find((e) => e.type === 'rollback')).toMatchObject({ fromWeight: 25 });
  });

  it('a read-only terminal refuses to advance or pause, still rolls back, and does not proceed by itself', () => {
    const d = new Driver(plan, { crew: {} });
    d.runFor(30 * HOUR, (s) => s.desiredWeight === 5 && s.appliedWeight === 5);
    d.send({ type: 'driver.status', at: d.now, holder: 'ana@wall:42', self: false });
    expect(d.state.holds).toContain('read-only: ana@wall:42 drives');
    expect(d.command('pause').length).toBe(0);
    expect(d.state.status).toBe('running');
    expect(d.state.history.at(-1)!.text).toContain('read-only, ana@wall:42 drives this rollout');
    const fx = d.command('rollback');
    expect(fx.some((e) => e.type === 'rollback')).toBe(true);
  });
});

describe('one journal writer per file', () => {
  it('a second canary on the machine cannot take the lock; a lock whose process is gone is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-lock-'));
    const path = join(dir, 'plan.jsonl');
    const first = lockJournal(path);
    expect(first.ok).toBe(true);
    // the same process asking again is "another canary": the file says our pid, which is alive
    expect(lockJournal(path)).toMatchObject({ ok: false, holder: `canary pid ${process.pid}`, lock: `${path}.lock` });
    if (first.ok) first.release();
    writeFileSync(`${path}.lock`, '999999999\n'); // a pid that cannot exist
    const stale = lockJournal(path);
    expect(stale.ok).toBe(true);
    if (stale.ok) stale.release();
  });
});
