// The in-cluster driver's library against the test API server over real HTTPS on 127.0.0.1: the
// CanaryRollout CRD and its status subresource, the journal as ConfigMap segments, takeover by
// Lease, and every fault of issue 14 (CRD missing, RBAC 403, 409, racing standbys, an unreachable
// API server, a status edited by hand, a tampered journal, a stale driver's late write), and
// `kubectl get canaryrollouts` with its printer columns.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from './kube/apiserver.js';
import { kubectl, kubectlBinary, kubectlCacheDir } from './kube/kubectl.js';
import { clusterPlan, clusterPlanText, createRolloutObjects, installRolloutCrd, NS, ROLLOUT, startFakePrometheus, stateAt5, writeKubeconfig, type FakePrometheus } from './helpers/cluster.js';
import { connectHome } from '../src/cluster/connect.js';
import { Driver } from '../src/cluster/driver.js';
import { ClusterJournal, loadClusterJournal, segmentName, verifyText } from '../src/cluster/journal.js';
import { ClusterStateError, RolloutResource } from '../src/cluster/resource.js';
import { rolloutStatus } from '../src/cluster/status.js';
import type { KubeCluster } from '../src/kube/client.js';
import type { Plan } from '../src/plan/schema.js';
import type { RolloutState } from '../src/engine/types.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-cluster-'));

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

function driver(name: string, cluster: KubeCluster, extra: Partial<ConstructorParameters<typeof Driver>[0]> = {}) {
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
    ...extra,
    env: process.env,
  });
  drivers.push(d);
  const logs = () => lines.map((l) => JSON.parse(l) as { level: string; msg: string });
  return { d, lines, logs, said: (re: RegExp) => logs().some((l) => re.test(l.msg)) };
}

/** A rollout already under way: its journal (segment 0) starts from `state`, as if imported. */
async function seed(state: RolloutState): Promise<void> {
  const c = await home();
  await ClusterJournal.create({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'import', epoch: 0 }), plan, planText, state });
}

const cr = () => server.get('canaryrollouts.canary.dev', NS, ROLLOUT) as unknown as { status?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const trafficWrites = () => server.requests.filter((r) => r.resource === 'virtualservices.networking.istio.io' && r.method !== 'GET');

beforeEach(async () => {
  server = await startKubeApiServer({ token: 'tok' });
  kc = writeKubeconfig(server, dir);
  planText = clusterPlanText();
  plan = clusterPlan(planText);
  prom = await startFakePrometheus(plan);
});

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop().catch(() => undefined)));
  for (const h of homes.splice(0)) h.close();
  await prom.close();
  await server.close();
});

describe('takeover: the standby resumes exactly where the driver was', { timeout: 60_000 }, () => {
  it('resumes phase, weight, bake clock, checkpoint and approval from the cluster; no drift; rollback still works', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const s5 = stateAt5(plan);
    await seed(s5);
    const a = driver('driver-a', await home());
    let drivingA: RolloutState | null = null;
    a.d['o'].onDriving = ({ state }) => (drivingA = state);
    await a.d.start();
    await until(() => drivingA !== null, 'driver A drives');
    // A's status in the cluster: the columns' fields and the journal head.
    await until(() => cr().status?.driver?.holder === 'driver-a', 'A writes the status');
    const st = cr().status!;
    expect(st).toMatchObject({ phase: 'canary-5', state: 'Running', weightDisplay: '5/5', step: '1/1', checkpoint: { title: 'Early adopter feedback review' } });
    expect(st.approvals.filter((x: { phase: string }) => x.phase === 'canary-25')).toEqual([expect.objectContaining({ role: 'vp-engineering', by: 'Hiro Tanaka' })]);
    expect(st.waitingFor).toBe('checkpoint go: Early adopter feedback review');
    // The bake clock went on from the seeded state (it baked while nobody drove).
    const bakeA = a.d.runtime!.getState().stepBakeMs;
    expect(bakeA).toBeGreaterThanOrEqual(s5.stepBakeMs);

    // A dies without a word (no lease release, no last status): B takes over after the lease expires.
    const b = driver('driver-b', await home());
    let drivingB: { state: RolloutState; ms: number } | null = null;
    b.d['o'].onDriving = (x) => (drivingB = x);
    await b.d.start();
    crash(a.d);
    await until(() => drivingB !== null, 'driver B drives', 10_000);
    const sB = drivingB!.state;
    expect(sB.status).toBe('running');
    expect(sB.desiredWeight).toBe(5);
    expect(sB.appliedWeight).toBe(5);
    expect(sB.checkpoints['canary-5']![0]!.dueAt).toBe(s5.checkpoints['canary-5']![0]!.dueAt);
    expect(sB.checkpoints['canary-5']![0]!.ackedAt).toBeUndefined();
    expect(sB.approvals['canary-25']).toEqual(s5.approvals['canary-25']);
    expect(sB.stepBakeMs).toBeGreaterThanOrEqual(bakeA);
    await until(() => cr().status?.driver?.holder === 'driver-b', 'B writes the status');
    expect(cr().status!.driver.epoch).toBeGreaterThan(st.driver.epoch);
    // The drift watch reads 5% and says nothing: the resumed state set it.
    await until(() => Object.keys(b.d.runtime!.getState().traffic).length > 0, 'a drift reading');
    expect(b.d.runtime!.getState().history.some((h) => /drift/.test(h.text))).toBe(false);
    expect(trafficWrites()).toHaveLength(0);

    // A latency regression after the takeover: the automatic rule rolls back, with rule, value and threshold.
    prom.set('latency_p95', 'canary', 1800);
    await until(() => b.d.runtime!.getState().status === 'rolled-back', 'the rollback');
    const reason = b.d.runtime!.getState().rollback!.reason;
    expect(reason).toMatch(/latency/i);
    expect(reason).toMatch(/1800/);
    expect(reason).toMatch(/1000|3x/);
    await until(() => trafficWrites().length > 0 && cr().status?.state === 'RolledBack', 'the rollback in the cluster');
    const vs = server.get('virtualservices.networking.istio.io', NS, 'orchestrator') as unknown as { spec: { http: { route: { weight: number }[] }[] } };
    expect(vs.spec.http[0]!.route[1]!.weight).toBe(0);
  });
});

describe('a decision journaled and never confirmed', { timeout: 60_000 }, () => {
  it('is carried out again by the next driver, once', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const c = await home();
    const s = stateAt5(plan);
    const j = await ClusterJournal.create({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'dead', epoch: 0 }), plan, planText, state: s });
    // The dead driver decided a rollback (journaled) and died before it reached the VirtualService.
    const ev = { type: 'command' as const, at: s.now + 1_000, actor: { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] }, command: { kind: 'rollback' as const, reason: 'p95 climbing in us-west-2' } };
    const r = (await import('../src/engine/reduce.js')).reduce(plan, s, ev);
    const rb = r.effects.find((e) => e.type === 'rollback')!;
    expect(rb).toBeDefined();
    j.append(ev, r.state, r.effects);
    await j.durable();
    const a = driver('a', c);
    let driving = false;
    a.d['o'].onDriving = () => (driving = true);
    await a.d.start();
    await until(() => driving, 'a drives');
    await until(() => a.d.runtime!.getState().pending[rb.id] === undefined, 'the rollback confirmed');
    expect(a.said(new RegExp(`redoing effect #${rb.id} \\(rollback\\)`))).toBe(true);
    const st = a.d.runtime!.getState();
    expect(st.status).toBe('rolled-back');
    expect(st.appliedWeight).toBe(0);
    const vs = server.get('virtualservices.networking.istio.io', NS, 'orchestrator') as unknown as { spec: { http: { route: { weight: number }[] }[] } };
    expect(vs.spec.http[0]!.route[1]!.weight).toBe(0);
    await until(() => cr().status?.state === 'RolledBack', 'the status');
    expect(trafficWrites().filter((w) => w.method === 'PATCH')).toHaveLength(1);
  });
});

/** What SIGKILL does to a driver, in process: every timer and socket of it stops; nothing is released. */
function crash(d: Driver): void {
  const lease = d['kube']!.lease!;
  (lease as unknown as { stopped: boolean }).stopped = true;
  clearTimeout((lease as unknown as { timer: NodeJS.Timeout }).timer);
  const a = d['active'] as { runtime: { stop(): Promise<void> }; statusTimer: NodeJS.Timeout; journal: ClusterJournal; flags: { stopped: boolean } } | null;
  if (a) {
    a.flags.stopped = true;
    clearInterval(a.statusTimer);
    void a.runtime.stop();
    a.journal.stop();
  }
  d['closed'] = true;
  d['active'] = null;
}

describe('faults', { timeout: 60_000 }, () => {
  it('the CRD is not installed: the message says which manifest to apply', async () => {
    const a = driver('a', await home());
    const err = await a.d.start().then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(ClusterStateError);
    expect(err!.message).toMatch(/CanaryRollout CRD \(canaryrollouts\.canary\.dev\) is not installed/);
    expect(err!.message).toMatch(/kubectl apply -f deploy\/base\/crd\.yaml/);
  });

  it('the CanaryRollout is missing: says so and how to create it', async () => {
    installRolloutCrd(server);
    const a = driver('a', await home());
    const err = await a.d.start().then(() => null, (e: unknown) => e as Error);
    expect(err!.message).toMatch(/no CanaryRollout "maestro" in namespace maestro-conductor-canary/);
  });

  it('RBAC 403 on the CanaryRollout or its status names the verb and the resource', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 0);
    const deny = server.deny({ verb: 'get', resource: 'canaryrollouts.canary.dev' });
    const r = new RolloutResource(await home(), NS, ROLLOUT);
    const e1 = await r.get().then(() => null, (e: unknown) => e as Error);
    expect(e1!.message).toMatch(/403/);
    expect(e1!.message).toMatch(/grant the "get" verb on "canaryrollouts\.canary\.dev"/);
    deny.remove();
    server.deny({ verb: 'update', resource: 'canaryrollouts.canary.dev', subresource: 'status' });
    const st = rolloutStatus(plan, stateAt5(plan), { driver: { holder: 'a', epoch: 1, since: Date.now() }, journal: { seq: 0, hash: '0'.repeat(64), segments: 1, firstSegment: 0 }, now: Date.now() });
    const e2 = await r.writeStatus(st).then(() => null, (e: unknown) => e as Error);
    expect(e2!.message).toMatch(/grant the "update" verb on "canaryrollouts\.canary\.dev\/status"/);
  });

  it('a 409 on the status write is re-read and retried: the status lands, nothing lost', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const r = new RolloutResource(await home(), NS, ROLLOUT);
    await r.get();
    // Someone changes the object (a label) after the read: the precondition fails for real.
    server.patch('canaryrollouts.canary.dev', NS, ROLLOUT, { metadata: { labels: { team: 'sre' } } });
    const st0 = rolloutStatus(plan, stateAt5(plan), { driver: { holder: 'a', epoch: 1, since: Date.now() }, journal: { seq: 6, hash: 'a'.repeat(64), segments: 1, firstSegment: 0 }, now: Date.now() });
    await r.writeStatus(st0);
    expect(r.stats.conflicts).toBe(1);
    expect(server.requests.filter((q) => q.method === 'PUT' && q.subresource === 'status').map((q) => q.status)).toEqual([409, 200]);
    // And two more answered 409 on the way (as an API server behind a busy etcd may).
    const f = server.fault({ method: 'PUT', resource: 'canaryrollouts.canary.dev', subresource: 'status', times: 2, action: { type: 'status', code: 409 } });
    const st = rolloutStatus(plan, stateAt5(plan), { driver: { holder: 'a', epoch: 1, since: Date.now() }, journal: { seq: 7, hash: 'a'.repeat(64), segments: 1, firstSegment: 0 }, now: Date.now() });
    await r.writeStatus(st);
    expect(f.hits).toBe(2);
    expect(r.stats.conflicts).toBe(3);
    expect(cr().status).toEqual(JSON.parse(JSON.stringify(st)));
    expect((server.get('canaryrollouts.canary.dev', NS, ROLLOUT)!.metadata.labels as Record<string, string>).team).toBe('sre');
    // Every write carried the resourceVersion it read.
    for (const w of server.requests.filter((q) => q.method === 'PUT' && q.subresource === 'status')) expect(JSON.parse(w.body!).metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('a stale driver\'s late write is refused (status and journal): a newer epoch wrote', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const c = await home();
    const s = stateAt5(plan);
    const j = await ClusterJournal.create({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'old', epoch: 1 }), plan, planText, state: s });
    const newer = ClusterJournal.attach({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'new', epoch: 2 }) }, await loadClusterJournal(c, NS, ROLLOUT));
    newer.append({ type: 'command', at: s.now, actor: { id: 'ana' }, command: { kind: 'pause' } }, s, []);
    await newer.durable();
    j.append({ type: 'command', at: s.now, actor: { id: 'ben' }, command: { kind: 'resume' } }, s, []);
    const err = await j.durable().then(() => null, (e: unknown) => e as Error);
    expect(err!.message).toMatch(/written by new in lease epoch 2; this driver's epoch is 1: it is stale, its write is refused/);
    const mk = (holder: string, epoch: number) => rolloutStatus(plan, s, { driver: { holder, epoch, since: Date.now() }, journal: { ...newer.head, segments: 1, firstSegment: 0 }, now: Date.now() });
    const rNew = new RolloutResource(c, NS, ROLLOUT);
    const rOld = new RolloutResource(c, NS, ROLLOUT);
    await rOld.get();
    await rNew.writeStatus(mk('new', 2));
    const e2 = await rOld.writeStatus(mk('old', 1)).then(() => null, (e: unknown) => e as Error);
    expect(e2!.message).toMatch(/written by new in lease epoch 2; this driver \(old\) holds epoch 1 and is stale: its write is refused/);
    expect(cr().status!.driver.holder).toBe('new');
  });

  it('two standbys racing for the lease: exactly one drives', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    await seed(stateAt5(plan));
    const racers = await Promise.all(['r1', 'r2', 'r3'].map(async (n) => driver(n, await home())));
    const driving: string[] = [];
    for (const r of racers) r.d['o'].onDriving = () => driving.push(r.d.identity);
    await Promise.all(racers.map((r) => r.d.start()));
    await until(() => driving.length >= 1, 'one drives');
    // Several lease rounds later, still exactly one.
    const rounds = server.requests.filter((q) => q.resource === 'leases.coordination.k8s.io').length;
    await until(() => server.requests.filter((q) => q.resource === 'leases.coordination.k8s.io').length > rounds + 12, 'more lease rounds');
    expect(driving).toHaveLength(1);
    expect(racers.filter((r) => r.d.runtime !== null)).toHaveLength(1);
    expect(cr().status?.driver?.holder ?? driving[0]).toBe(driving[0]);
  });

  it('the API server unreachable past the renew deadline: the driver stops mutating, says so, and resumes when it is back', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    await seed(stateAt5(plan));
    const a = driver('a', await home());
    let driving = false;
    a.d['o'].onDriving = () => (driving = true);
    await a.d.start();
    await until(() => driving && cr().status?.driver?.holder === 'a', 'a drives');
    const cut = server.fault({ times: Infinity, action: { type: 'reset' } });
    await until(() => a.said(/stopped changing traffic/), 'the driver says it stopped', 10_000);
    expect(a.d.lease!.canMutate()).toBe(false);
    // While cut off, a person's advance cannot move traffic (the guard), and nothing is written.
    const writesBefore = server.requests.filter((q) => q.method !== 'GET' && !q.fault).length;
    cut.remove();
    await until(() => a.said(/lease renewed: driving again/), 'driving again', 10_000);
    expect(a.d.lease!.canMutate()).toBe(true);
    expect(a.d.runtime).not.toBeNull();
    const before = cr().status!.updatedAt;
    await until(() => cr().status!.updatedAt !== before, 'status writes again');
    expect(server.requests.filter((q) => q.method !== 'GET' && !q.fault).length).toBeGreaterThan(writesBefore);
  });

  it('a status edited by hand to a phase the journal never reached is refused, and nothing moves', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    await seed(stateAt5(plan));
    const a = driver('a', await home());
    let driving = false;
    a.d['o'].onDriving = () => (driving = true);
    await a.d.start();
    await until(() => driving && cr().status?.driver?.holder === 'a', 'a drives');
    await a.d.stop();
    // Someone "promotes" by editing the status.
    server.patch('canaryrollouts.canary.dev', NS, ROLLOUT, { status: { phase: 'canary-25', phaseDisplay: 'canary-25', weight: { set: 25 } } });
    server.clearRequests();
    const b = driver('b', await home());
    await b.d.start();
    const err = await b.d.done;
    expect(err!.message).toMatch(/its status says phase "canary-25" \(the journal: "canary-5"\), weight 25% \(the journal: 5%\) at journal seq \d+, which the journal never reached: the status was edited by hand. Nothing was moved/);
    expect(b.said(/edited by hand/)).toBe(true);
    expect(trafficWrites()).toHaveLength(0);
    expect(b.d.runtime).toBeNull();
  });

  it('a journal segment deleted or edited in the cluster: verify names it', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const c = await home();
    const s = stateAt5(plan);
    const j = await ClusterJournal.create({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'a', epoch: 1 }), plan, planText, state: s, segmentBytes: 3_000 });
    for (let i = 0; i < 12; i++) j.append({ type: 'command', at: s.now + i, actor: { id: 'ana' }, command: { kind: i % 2 ? 'resume' : 'pause' } }, s, []);
    await j.durable();
    const loaded = await loadClusterJournal(c, NS, ROLLOUT);
    expect(loaded.problems).toEqual([]);
    expect(loaded.segments.length).toBeGreaterThanOrEqual(3);
    expect(verifyText(NS, ROLLOUT, loaded)).toMatch(/chain: OK/);
    // Edited: one entry's content changed.
    const seg1 = segmentName(ROLLOUT, 1);
    server.patch('configmaps', NS, seg1, (o) => {
      const data = o.data as Record<string, string>;
      const k = Object.keys(data)[0]!;
      data[k] = data[k]!.replace('"resume"', '"pause"').replace('"pause"', '"resume"');
    });
    const edited = await loadClusterJournal(c, NS, ROLLOUT);
    expect(edited.problems[0]).toMatchObject({ kind: 'edited', segment: seg1 });
    expect(verifyText(NS, ROLLOUT, edited)).toMatch(new RegExp(`EDITED in ${seg1}, seq \\d+: segment ${seg1} \\(ConfigMap ${NS}/${seg1}\\), seq \\d+ does not match its hash`));
    // Deleted: a whole segment.
    server.remove('configmaps', NS, seg1);
    const deleted = await loadClusterJournal(c, NS, ROLLOUT);
    expect(deleted.problems.some((p) => p.kind === 'deleted' && p.segment === seg1)).toBe(true);
    expect(verifyText(NS, ROLLOUT, deleted)).toMatch(new RegExp(`DELETED in ${seg1}: segment ${seg1} \\(ConfigMap ${NS}/${seg1}\\) is missing between`));
    // The last segment deleted: only the status's head shows it.
    const last = deleted.segments.at(-1)!;
    server.remove('configmaps', NS, last.name);
    const cut = await loadClusterJournal(c, NS, ROLLOUT, { expected: { head: j.head } });
    expect(cut.problems.some((p) => p.kind === 'truncated')).toBe(true);
  });
});

describe('the bound on segments', { timeout: 60_000 }, () => {
  it('keeps at most maxSegments, never the one with the newest whole snapshot; a pruned start is not a deletion', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const c = await home();
    let s = stateAt5(plan);
    const j = await ClusterJournal.create({ cluster: c, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'a', epoch: 1 }), plan, planText, state: s, segmentBytes: 9_000, maxSegments: 4 });
    const { reduce } = await import('../src/engine/reduce.js');
    for (let i = 0; i < 90; i++) {
      const e = { type: 'command' as const, at: s.now + 1_000, actor: { id: 'ana', name: 'Ana Ortiz', roles: ['sre'] }, command: { kind: i % 2 ? ('resume' as const) : ('pause' as const) } };
      s = reduce(plan, s, e).state;
      j.append(e, s, []);
      await j.durable();
    }
    const segs = server.list('configmaps', NS).filter((o) => o.metadata.labels?.['canary.dev/part'] === 'journal');
    expect(segs.length).toBe(4);
    expect(j.segments.first).toBeGreaterThan(0);
    const kept = await loadClusterJournal(c, NS, ROLLOUT, { expected: { head: j.head, firstSegment: j.segments.first } });
    expect(kept.problems).toEqual([]);
    // The state at the head is still there to resume from, and it is the live one.
    expect(kept.stateAt(j.head.seq)!.status).toBe(s.status);
    expect(kept.stateAt(j.head.seq)!.stepBakeMs).toBe(s.stepBakeMs);
    // Without the status's record of where the journal starts, the missing start is a deletion.
    const unanchored = await loadClusterJournal(c, NS, ROLLOUT, { expected: { head: j.head, firstSegment: 0 } });
    expect(unanchored.problems[0]).toMatchObject({ kind: 'deleted', segment: segmentName(ROLLOUT, 0) });
  });
});

describe('kubectl get canaryrollouts', { timeout: 60_000 }, () => {
  it.runIf(kubectlBinary() !== null || Boolean(process.env.CI))('prints PHASE STEP WEIGHT VERDICT WAITING FOR DRIVER AGE from the status', async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    const r = new RolloutResource(await home(), NS, ROLLOUT);
    const s = stateAt5(plan);
    await r.writeStatus(rolloutStatus(plan, s, { driver: { holder: 'canary-driver-7f9c-x2', epoch: 3, since: Date.now() }, journal: { seq: 9, hash: 'b'.repeat(64), segments: 1, firstSegment: 0 }, now: Date.now() }));
    const out = await kubectl({ kubeconfig: kc, cacheDir: kubectlCacheDir() }, ['get', 'canaryrollouts', '-n', NS]);
    expect(out.stderr).toBe('');
    const [header, row] = out.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'PHASE', 'STEP', 'WEIGHT', 'VERDICT', 'WAITING FOR', 'DRIVER', 'AGE']);
    expect(row).toMatch(/^maestro\s+canary-5\s+1\/1\s+5\/5\s+\S+\s+checkpoint go: Early adopter feedback review\s+canary-driver-7f9c-x2\s+\d+s$/);
  });
});

describe('canary join through the API server (service proxy)', { timeout: 60_000 }, () => {
  it("reaches the driver's war room with the person's kubeconfig: token in its own header, resume point in the path, RBAC decides", async () => {
    installRolloutCrd(server);
    createRolloutObjects(server, planText, 5);
    await seed(stateAt5(plan));
    const { issueTokens, writeTokenFile } = await import('../src/warroom/tokens.js');
    const { joinThroughApiServer } = await import('../src/cluster/join.js');
    const { RemoteStore } = await import('../src/warroom/client.js');
    const tokens = issueTokens(plan, {});
    const tokenFile = join(dir, `tokens-${server.port}.json`);
    writeTokenFile(tokenFile, tokens.file);
    const a = driver('a', await home(), { warroom: { listen: '127.0.0.1:0', tokens: tokenFile } });
    let driving = false;
    a.d['o'].onDriving = () => (driving = true);
    await a.d.start();
    await until(() => driving && a.d.warroomUrl !== null, 'a drives and serves the war room');
    server.create('services', { metadata: { name: 'canary-driver', namespace: NS }, spec: { ports: [{ name: 'health', port: 8080 }, { name: 'warroom', port: 7420 }] } });
    server.serviceBackend(NS, 'canary-driver', 'warroom', a.d.warroomUrl!.replace(/^ws/, 'http'));
    const isla = tokens.issued.find((t) => t.person === 'isla')!;
    const store = await joinThroughApiServer({ kubeconfig: kc, context: 'home', namespace: NS, token: isla.token });
    try {
      expect(store.you).toMatchObject({ id: 'isla', canAct: true });
      expect(store.getState().desiredWeight).toBe(5);
      const up = server.requests.find((r) => r.subresource === 'proxy' && r.status === 101)!;
      expect(up.path).toBe(`/api/v1/namespaces/${NS}/services/canary-driver:warroom/proxy/`);
      // Isla approves from her terminal: the driver's engine takes it as hers, and the status shows it.
      store.dispatch({ type: 'approve', at: 0, actor: { id: 'isla' }, phase: 'canary-25', role: 'vp-product' });
      await until(() => (cr().status?.approvals ?? []).some((x: { by: string }) => x.by === 'Isla Moreau'), 'the approval in the status');
      // A dropped connection resumes from where it was, the resume point in the path (the proxy drops query strings).
      store.cut();
      await until(() => store.stats.resumes >= 1 && store.status === 'connected', 'a resume through the proxy');
      const again = server.requests.filter((r) => r.subresource === 'proxy' && r.status === 101).at(-1)!;
      expect(again.path).toMatch(/\/proxy\/since\/\d+\/epoch\/[0-9a-f]+$/);
    } finally {
      store.close();
    }
    // Without its own header the war-room token would be lost at the API server (it keeps Authorization).
    const plain = new RemoteStore({ url: `${server.url.replace(/^https/, 'wss')}/api/v1/namespaces/${NS}/services/canary-driver:warroom/proxy/`, token: isla.token, ca: (await import('./kube/apiserver.js')).TEST_TLS_CERT, timeoutMs: 2_000, reconnect: false });
    const e0 = await plain.start().then(() => null, (e: unknown) => e as Error);
    plain.close();
    expect(e0!.message).toMatch(/401/);
    // RBAC: no "get" on services/proxy, no war room.
    server.deny({ verb: 'get', resource: 'services', subresource: 'proxy' });
    const e1 = await joinThroughApiServer({ kubeconfig: kc, context: 'home', namespace: NS, token: isla.token }).then(() => null, (e: unknown) => e as Error);
    expect(e1!.message).toMatch(/403/);
    expect(e1!.message).toMatch(/grant "get" on "services\/proxy" \(service canary-driver\) in namespace maestro-conductor-canary/);
  });
});
