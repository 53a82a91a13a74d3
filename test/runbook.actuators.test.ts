// The runbook's commands and pod views, for real: execCommand (own process group, timeout that
// kills grandchildren, lines streamed, secrets scrubbed, exit code), the PlanCommandRunner on the
// embedded world (stand-ins against the simulated service on 127.0.0.1) and for a real plan, the
// rollback hook's stand-in, the simulated pods' logs (a crash-looping one's last words), and the
// Kubernetes describe + logs -f against the test API server (pods/log, events), also with kubectl.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExit, execCommand } from '../src/actuators/exec.js';
import { HookedTraffic, PlanCommandRunner, rollbackHookOf } from '../src/actuators/runbook.js';
import type { Effect, PodDetail, PodInfo } from '../src/engine/types.js';
import { commandValues } from '../src/engine/runbook.js';
import { SimWorld } from '../src/sim/world.js';
import { startSimService, type SimService } from '../src/sim/serve.js';
import { SimPodInspector } from '../src/sim/inspect.js';
import { KubePodInspector } from '../src/sources/kube-inspect.js';
import { connectClusters, type ClusterTarget } from '../src/kube/config.js';
import { startKubeApiServer, kubeconfigFor, type KubeApiServer } from './kube/apiserver.js';
import { makePod } from './kube/fixtures.js';
import { kubectl, kubectlBinary, kubectlCacheDir, type KubectlContext } from './kube/kubectl.js';
import { loadSeedPlan, PLAN_PATH } from './helpers/drive.js';
import { pod as simPod } from './helpers/state.js';

type RunEffect = Extract<Effect, { type: 'run-command' }>;
const plan = loadSeedPlan();
const PLAN_DIR = dirname(PLAN_PATH.pathname);
const dir = mkdtempSync(join(tmpdir(), 'canary-runbook-'));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function effect(over: Partial<RunEffect>): RunEffect {
  return { id: 1, type: 'run-command', purpose: 'deploy', key: 'deploy:canary-1:0', name: 'x', run: 'true', env: {}, timeoutMs: 10_000, ...over };
}

describe('execCommand: how every hook runs', () => {
  it('streams lines as they come, keeps the exit code, and scrubs secrets from every line', async () => {
    const seen: { line: string; t: number }[] = [];
    const t0 = performance.now();
    const r = await execCommand({
      command: 'echo "token is $VALIDATION_TOKEN"; sleep 0.3; echo done >&2; exit 3',
      env: { ...process.env, VALIDATION_TOKEN: 'tok-5ecr3t-abcdef' },
      timeoutMs: 5_000,
      secrets: ['tok-5ecr3t-abcdef'],
      onLine: (line) => seen.push({ line, t: performance.now() - t0 }),
    });
    expect(r.code).toBe(3);
    expect(describeExit(r)).toBe('exited 3');
    expect(r.lines).toEqual(['token is ***', 'done']);
    expect(seen.map((s) => s.line)).toEqual(['token is ***', 'done']);
    // The first line arrived before the command ended (streamed, not collected at the end).
    expect(seen[0]!.t).toBeLessThan(seen[1]!.t - 150);
  });

  it('a timeout kills the whole process group, a grandchild holding the pipe too', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const r = await execCommand({ command: `sh -c 'echo $$ > ${pidFile}; sleep 30' & echo started; wait`, timeoutMs: 400 });
    expect(r.timedOut).toBe(true);
    expect(describeExit(r, 400)).toBe('no exit after 400 ms (killed)');
    expect(r.lines).toContain('started');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !alive(pid), 'the grandchild to die', 3_000);
  });

  it('a command that cannot start says so; a stop kills it', async () => {
    const r = await execCommand({ command: ['/nonexistent/helm', 'upgrade'], timeoutMs: 2_000 });
    expect(r.error).toContain('ENOENT');
    expect(describeExit(r)).toContain('could not start');
    const ctl = new AbortController();
    const p = execCommand({ command: 'sleep 20', timeoutMs: 30_000, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    const s = await p;
    expect(s.stopped).toBe(true);
    expect(s.durationMs).toBeLessThan(5_000);
  });
});


describe('runbook commands on the embedded world: the stand-ins, against the simulated service', () => {
  let world: SimWorld;
  let service: SimService;
  let runner: PlanCommandRunner;

  beforeAll(async () => {
    world = new SimWorld({ plan, scenario: 'healthy', seed: 1, start: Date.parse('2026-11-30T14:00:00Z'), podsPerRegion: 2 });
    service = await startSimService({ world, host: '127.0.0.1', port: 0 });
    runner = new PlanCommandRunner({ env: process.env, mode: 'sim', cwd: PLAN_DIR, secretEnv: plan.runbook.secretEnv, simEnv: { CANARY_SIM_URL: service.url }, batchMs: 20 });
  });
  afterAll(async () => {
    runner.close();
    await service.close();
  });

  it("the deploy step's stand-in prints helm's output with the phase's values; the real command is not run", async () => {
    const lines: string[] = [];
    const r = await runner.run(
      effect({ run: 'helm upgrade --install ${RELEASE} ./charts/maestro-conductor --set canary.weight=${WEIGHT}', sim: './sim/helm.sh', env: commandValues(plan, 'canary-5') }),
      (l) => lines.push(...l),
    );
    expect(r).toEqual({ ok: true, exitCode: 0, detail: 'exited 0 (simulated)' });
    expect(lines).toContain('Release "maestro-conductor-rc" has been upgraded. Happy Helming!');
    expect(lines).toContain('STATUS: deployed');
    expect(lines).toContain('canary.enabled=true canary.weight=5 image.tag=rc monitoring.enhanced=true');
  });

  it('a failing stand-in reports its exit code and its last words', async () => {
    const lines: string[] = [];
    const r = await runner.run(effect({ sim: 'CANARY_SIM_HELM_FAIL=1 ./sim/helm.sh', env: commandValues(plan, 'canary-1') }), (l) => lines.push(...l));
    expect(r).toMatchObject({ ok: false, exitCode: 1, detail: 'exited 1 (simulated)' });
    expect(lines.at(-1)).toContain('timed out waiting for the condition');
  });

  it('post-rollout validation stand-ins send real requests to the simulated service', async () => {
    const before = Object.values(service.counts().stable).reduce((a, b) => a + b, 0);
    const lines: string[] = [];
    const r = await runner.run(effect({ purpose: 'validate', run: 'npm run test:production-smoke', sim: 'node ./sim/validate.mjs smoke', env: commandValues(plan, 'full') }), (l) => lines.push(...l));
    expect(r.ok).toBe(true);
    expect(lines[0]).toBe(`production smoke: 40 requests to ${service.url}`);
    expect(lines.at(-1)).toMatch(/^PASS production smoke: p95 \d+ms, errors 0\/40$/);
    const after = Object.values(service.counts().stable).reduce((a, b) => a + b, 0);
    expect(after - before).toBeGreaterThan(0);
  });

  it('a step without a stand-in is skipped on the simulated world, never run for real', async () => {
    const r = await runner.run(effect({ run: 'kubectl get pods -n ${NAMESPACE}' }), () => undefined);
    expect(r).toMatchObject({ ok: true, skipped: true });
    expect(r.detail).toContain('not run on the simulated world');
  });

  it("the rollback hook's stand-in runs after the world's rollback, with the reason as $ROLLBACK_REASON", async () => {
    const hook = rollbackHookOf(plan, PLAN_DIR, 'sim', { CANARY_SIM_URL: service.url })!;
    expect(hook.command).toBe('./sim/emergency-rollback.sh --version ${PREVIOUS_STABLE_VERSION} --reason "${ROLLBACK_REASON}" --notify-stakeholders');
    const t = new HookedTraffic(world, hook);
    await t.setWeight(5, ['us-east-1']);
    const r = await t.rollback('p95 1.4 s; "quoted" $(not run)', ['us-east-1']);
    expect(r.weight).toBe(0);
    expect(r.detail).toContain('rollback hook ran: stakeholders notified (simulated)');
    // The reason went through the environment: nothing in it was run by a shell.
    const lines: string[] = [];
    await execCommand({ command: hook.command, cwd: PLAN_DIR, env: { ...process.env, ...hook.env, ROLLBACK_REASON: 'x $(touch /tmp/never) y' }, timeoutMs: 5_000, onLine: (l) => lines.push(l) });
    expect(lines[0]).toBe('emergency rollback to stable (simulated): x $(touch /tmp/never) y');
  });

  it('rollback verification: passes when no request reaches the canary, fails while one does', async () => {
    const v = { purpose: 'verify-rollback' as const, run: './scripts/validate-rollback.sh', sim: 'node ./sim/validate.mjs rollback --check-data-integrity --verify-service-health --confirm-customer-access', env: commandValues(plan, null, { ROLLBACK_REASON: 'manual' }) };
    await world.rollback('test', plan.target.regions);
    const ok: string[] = [];
    expect((await runner.run(effect(v), (l) => ok.push(...l))).ok).toBe(true);
    expect(ok).toContain('  served by: stable 60');
    await world.setWeight(50, plan.target.regions);
    const bad: string[] = [];
    const r = await runner.run(effect(v), (l) => bad.push(...l));
    expect(r).toMatchObject({ ok: false, exitCode: 1 });
    expect(bad.at(-1)).toMatch(/^FAIL rollback verification: \d+ requests still reached the canary/);
    await world.rollback('test', plan.target.regions);
  });

  it('in real mode a query check asks Prometheus; without one it says what to do', async () => {
    const now = Date.now();
    const real = new PlanCommandRunner({ env: process.env, mode: 'real', cwd: PLAN_DIR, query: async (q) => ({ series: q.includes('orchestrator') ? [{ labels: '{job="orchestrator"}', value: 1, at: now }] : [], warnings: [] }) });
    const lines: string[] = [];
    expect(await real.run(effect({ purpose: 'check', query: 'up{job=~"orchestrator.*"} == 1' }), (l) => lines.push(...l))).toEqual({ ok: true, exitCode: 0, detail: '1 series, each holds' });
    expect(lines).toEqual(['{job="orchestrator"} 1']);
    expect((await real.run(effect({ purpose: 'check', query: 'up{job="nothing"}' }), () => undefined)).detail).toBe('the query returned no series');
    const none = new PlanCommandRunner({ env: process.env, mode: 'real', cwd: PLAN_DIR });
    expect((await none.run(effect({ purpose: 'check', query: 'up' }), () => undefined)).detail).toContain('start with --prometheus');
  });
});

describe('feature flags: the hook or the flag service webhook', () => {
  const flagEffect = (over: Partial<RunEffect> = {}) =>
    effect({ purpose: 'flag', key: 'flag:advanced-features', name: 'enable advanced-features', run: 'POST $FLAG_SERVICE_URL', webhookEnv: 'FLAG_SERVICE_URL', env: commandValues(plan, 'canary-25', { FLAG: 'advanced-features', ENABLED_BY: 'Isla Moreau' }), timeoutMs: 2_000, ...over });

  it('POSTs the flag as JSON to the URL in the named variable; the URL (it carries a token) is never shown', async () => {
    const http = await import('node:http');
    const got: { method?: string; url?: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push({ method: req.method, url: req.url, body });
        res.writeHead(req.url?.includes('fail') ? 503 : 200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://127.0.0.1:${port}/v1/flags?token=s3cr3t-t0ken-xyz`;
      const real = new PlanCommandRunner({ mode: 'real', cwd: PLAN_DIR, env: { FLAG_SERVICE_URL: url } });
      const lines: string[] = [];
      const r = await real.run(flagEffect(), (l) => lines.push(...l));
      expect(r).toEqual({ ok: true, exitCode: null, detail: 'HTTP 200' });
      expect(got[0]).toMatchObject({ method: 'POST', url: '/v1/flags?token=s3cr3t-t0ken-xyz' });
      expect(JSON.parse(got[0]!.body)).toEqual({ flag: 'advanced-features', phase: 'canary-25', service: plan.metadata.service, version: plan.metadata.version, enabledBy: 'Isla Moreau' });
      expect(lines.join('\n')).not.toContain('s3cr3t');
      expect(lines[0]).toMatch(/^POST \$FLAG_SERVICE_URL \{/);
      expect(lines).toContain('HTTP 200 OK');
      // The flag service refusing is a failure with its status.
      const failing = new PlanCommandRunner({ mode: 'real', cwd: PLAN_DIR, env: { FLAG_SERVICE_URL: `${url}&fail=1` } });
      expect(await failing.run(flagEffect(), () => undefined)).toMatchObject({ ok: false, detail: 'HTTP 503' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('an unset or malformed variable, or a flag service that does not answer, says so', async () => {
    const unset = new PlanCommandRunner({ mode: 'real', cwd: PLAN_DIR, env: {} });
    expect(await unset.run(flagEffect(), () => undefined)).toEqual({ ok: false, exitCode: null, detail: "$FLAG_SERVICE_URL is not set: it must hold the flag service's URL" });
    const bad = new PlanCommandRunner({ mode: 'real', cwd: PLAN_DIR, env: { FLAG_SERVICE_URL: 'ftp://x/s3cr3t-t0ken-xyz' } });
    const r = await bad.run(flagEffect(), () => undefined);
    expect(r.detail).toContain('$FLAG_SERVICE_URL is not a URL');
    expect(r.detail).not.toContain('s3cr3t');
    const http = await import('node:http');
    const gone = http.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = (gone.address() as { port: number }).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const refused = new PlanCommandRunner({ mode: 'real', cwd: PLAN_DIR, env: { FLAG_SERVICE_URL: `http://127.0.0.1:${port}/flags` } });
    expect(await refused.run(flagEffect(), () => undefined)).toMatchObject({ ok: false, detail: 'POST failed: ECONNREFUSED' });
  });

  it('on the embedded world the webhook goes to the simulated flag service', async () => {
    const world = new SimWorld({ plan, scenario: 'healthy', seed: 1, start: Date.parse('2026-11-30T14:00:00Z'), podsPerRegion: 1 });
    const service = await startSimService({ world, host: '127.0.0.1', port: 0 });
    try {
      const runner = new PlanCommandRunner({ env: process.env, mode: 'sim', cwd: PLAN_DIR, simEnv: { CANARY_SIM_URL: service.url } });
      const lines: string[] = [];
      const r = await runner.run(flagEffect(), (l) => lines.push(...l));
      expect(r).toEqual({ ok: true, exitCode: null, detail: 'HTTP 200 (simulated)' });
      expect(lines).toContain('{"flag":"advanced-features","enabled":true,"service":"simulated flag service"}');
      // A flag with a command hook runs its stand-in instead.
      const hook = await runner.run(flagEffect({ webhookEnv: undefined, run: './scripts/flags.sh enable ${FLAG}', sim: './sim/flag.sh ${FLAG}' } as Partial<RunEffect>), (l) => lines.push(...l));
      expect(hook).toEqual({ ok: true, exitCode: 0, detail: 'exited 0 (simulated)' });
      expect(lines.at(-1)).toBe('flag advanced-features enabled for phase canary-25 (simulated flag service)');
      // Without the simulated service nothing is sent, and it says why.
      const off = new PlanCommandRunner({ env: process.env, mode: 'sim', cwd: PLAN_DIR });
      expect(await off.run(flagEffect(), () => undefined)).toMatchObject({ ok: true, skipped: true });
    } finally {
      await service.close();
    }
  });
});

describe('pods on the embedded world: describe and logs', () => {
  const collect = () => {
    const got: { detail: PodDetail | null; lines: string[]; ended: string | undefined } = { detail: null, lines: [], ended: undefined };
    return {
      got,
      out: {
        detail: (d: PodDetail | null) => void (got.detail = d),
        logs: (l: string[], ended?: string) => {
          got.lines.push(...l);
          if (ended) got.ended = ended;
        },
      },
    };
  };
  const inspectEffect = (p: PodInfo) => ({ id: 7, type: 'inspect-pod' as const, key: p.key, name: p.name, namespace: p.namespace, region: p.region, track: p.track, container: 'orchestrator', sinceMs: 600_000, tail: 200 });

  it("a crash-looping canary pod's log ends with its last words; its describe shows BackOff and the last termination", async () => {
    const p = simPod('orchestrator-canary-x1', { track: 'canary', reason: 'CrashLoopBackOff', ready: false, restarts: 4, lastRestartReason: 'Error' });
    const insp = new SimPodInspector({ pod: () => p, now: () => Date.parse('2026-11-30T16:00:00Z') });
    const { got, out } = collect();
    insp.inspect(inspectEffect(p), out);
    await until(() => got.ended !== undefined, 'the log to end');
    expect(got.lines.some((l) => l.startsWith('panic: runtime error: invalid memory address'))).toBe(true);
    expect(got.lines.some((l) => l.includes('FATAL saga coordinator'))).toBe(true);
    expect(got.ended).toContain('CrashLoopBackOff');
    expect(got.detail?.containers[0]).toMatchObject({ name: 'orchestrator', state: 'Waiting: CrashLoopBackOff', restarts: 4, lastState: 'Terminated: Error (exit code 2)' });
    expect(got.detail?.events.some((e) => e.reason === 'BackOff' && e.type === 'Warning')).toBe(true);
    expect(got.detail?.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('a pod followed from its start: the log comes once it runs, and ends live with its last words when it crashes', async () => {
    let p = simPod('orchestrator-canary-z3', { track: 'canary', phase: 'Pending', reason: 'ContainerCreating', ready: false });
    const insp = new SimPodInspector({ pod: () => p, now: () => Date.parse('2026-11-30T16:00:00Z'), everyMs: 20 });
    const { got, out } = collect();
    insp.inspect(inspectEffect(p), out);
    await until(() => got.lines.some((l) => l.includes('waiting to start: ContainerCreating')), 'the wait');
    p = { ...p, phase: 'Running', reason: 'Running', ready: true };
    await until(() => got.lines.some((l) => l.includes('listening on :8080')), 'the start-up');
    expect(got.ended).toBeUndefined();
    p = { ...p, reason: 'CrashLoopBackOff', ready: false, restarts: 1, lastRestartReason: 'Error' };
    await until(() => got.ended !== undefined, 'the end');
    expect(got.lines.some((l) => l.startsWith('panic:'))).toBe(true);
    expect(got.detail?.containers[0]?.state).toBe('Waiting: CrashLoopBackOff');
  });

  it('a running pod is followed: new lines keep coming until stopped', async () => {
    const p = simPod('orchestrator-stable-y2', { track: 'stable' });
    let now = Date.parse('2026-11-30T16:00:00Z');
    const insp = new SimPodInspector({ pod: () => p, now: () => (now += 1000), everyMs: 20 });
    const { got, out } = collect();
    const h = insp.inspect(inspectEffect(p), out);
    await until(() => got.lines.length >= 20, 'followed lines');
    h.stop();
    const n = got.lines.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(got.lines.length).toBe(n);
    expect(got.lines[0]).toContain('orchestrator stable starting');
    expect(got.lines.at(-1)).toMatch(/INFO {2}(POST|GET) \S+ \d{3} \d+ms/);
  });
});

describe('pods on Kubernetes: describe and logs -f from the API (test API server)', () => {
  let server: KubeApiServer;
  let targets: ClusterTarget[];
  const NS = 'maestro-conductor-canary';

  beforeAll(async () => {
    server = await startKubeApiServer();
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfigFor([{ server, context: 'us-east-1' }]));
    ({ targets } = await connectClusters({ regions: ['us-east-1'] }, { kubeconfig: file, contexts: ['us-east-1=us-east-1'], timeoutMs: 3_000 }));
    server.create('pods', makePod({ name: 'orch-canary-1', namespace: NS, labels: { app: 'orchestrator', track: 'canary' } }));
    server.create('pods', makePod({ name: 'orch-canary-2', namespace: NS, labels: { app: 'orchestrator', track: 'canary' }, waitingReason: 'CrashLoopBackOff', restarts: 7, lastTerminationReason: 'Error', ready: false }));
    server.create('events', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'orch-canary-2.1', namespace: NS }, involvedObject: { kind: 'Pod', name: 'orch-canary-2', namespace: NS }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container orchestrator in pod orch-canary-2', count: 14, lastTimestamp: '2026-11-30T16:00:00Z' });
    server.create('events', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'other.1', namespace: NS }, involvedObject: { kind: 'Pod', name: 'orch-canary-1', namespace: NS }, type: 'Normal', reason: 'Started', message: 'Started container orchestrator', count: 1, lastTimestamp: '2026-11-30T15:00:00Z' });
    server.logs.set(NS, 'orch-canary-1', 'orchestrator', ['starting', 'listening on :8080']);
    server.logs.set(NS, 'orch-canary-2', 'orchestrator', ['starting', 'panic: schema version 7 not in event store']);
    server.logs.set(NS, 'orch-canary-2', 'orchestrator', ['starting', 'panic: schema version 7 not in event store (previous)'], { previous: true });
  });
  afterAll(async () => {
    for (const t of targets) t.cluster.close();
    await server.close();
  });

  const eff = (name: string, container = 'orchestrator') => ({ id: 9, type: 'inspect-pod' as const, key: `us-east-1/${NS}/${name}`, name, namespace: NS, region: 'us-east-1', track: 'canary', container, sinceMs: 600_000, tail: 200 });

  it('describes the pod (conditions, container state, its own events only) and follows its log live', async () => {
    // makePod names its container after the app label.
    const insp = new KubePodInspector({ targets, batchMs: 10 });
    const got = { detail: null as PodDetail | null, lines: [] as string[], ended: undefined as string | undefined };
    const h = insp.inspect(eff('orch-canary-1', 'orchestrator'), { detail: (d) => void (got.detail = d), logs: (l, e) => (got.lines.push(...l), e && (got.ended = e)) });
    await until(() => got.lines.includes('listening on :8080'), 'the log');
    expect(got.detail?.containers[0]).toMatchObject({ name: 'orchestrator', ready: true });
    expect(got.detail?.containers[0]!.state).toMatch(/^Running since /);
    expect(got.detail?.events.map((e) => e.reason)).toEqual(['Started']);
    const logReq = server.requests.find((r) => r.path.endsWith('/pods/orch-canary-1/log'))!;
    expect(logReq.query).toMatchObject({ container: 'orchestrator', follow: 'true', sinceSeconds: '600', tailLines: '200' });
    await until(() => server.logs.followers() === 1, 'the follow stream');
    server.logs.append(NS, 'orch-canary-1', 'orchestrator', ['POST /v1/workflows 200 41ms']);
    await until(() => got.lines.includes('POST /v1/workflows 200 41ms'), 'a followed line');
    h.stop();
    await until(() => server.logs.followers() === 0, 'the stream to close');
    expect(got.ended).toBeUndefined();
  });

  it("a crash-looping pod: BackOff in its events, and the log is what its last run said", async () => {
    const insp = new KubePodInspector({ targets, batchMs: 10 });
    const got = { detail: null as PodDetail | null, lines: [] as string[], ended: undefined as string | undefined };
    insp.inspect(eff('orch-canary-2'), { detail: (d) => void (got.detail = d), logs: (l, e) => (got.lines.push(...l), e && (got.ended = e)) });
    await until(() => got.ended !== undefined, 'the log to end');
    expect(got.detail?.containers[0]).toMatchObject({ state: expect.stringContaining('Waiting: CrashLoopBackOff'), restarts: 7, lastState: 'Terminated: Error (exit code 137)' });
    expect(got.detail?.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'BackOff', count: 14 })]);
    expect(got.lines).toContain('panic: schema version 7 not in event store (previous)');
    expect(got.ended).toContain('last words');
  });

  it("a container the pod does not have: canary follows the pod's own and says so", async () => {
    const insp = new KubePodInspector({ targets, batchMs: 10 });
    const got = { lines: [] as string[] };
    const h = insp.inspect(eff('orch-canary-1', 'sidecar'), { detail: () => undefined, logs: (l) => void got.lines.push(...l) });
    await until(() => got.lines.includes('listening on :8080'), 'the log');
    expect(got.lines[0]).toBe('(the plan\'s container "sidecar" is not in this pod; following "orchestrator")');
    h.stop();
  });

  const haveKubectl = kubectlBinary() !== null || Boolean(process.env.CI);
  it.skipIf(!haveKubectl)('kubectl logs and kubectl get events work against it unmodified', { timeout: 60_000 }, async () => {
    const ctx: KubectlContext = { kubeconfig: join(dir, 'kc-kubectl'), cacheDir: kubectlCacheDir() };
    server.kubeconfig({ path: ctx.kubeconfig });
    const logs = await kubectl(ctx, ['logs', '-n', NS, 'orch-canary-1', '-c', 'orchestrator', '--tail=1']);
    expect(logs.stdout).toBe('POST /v1/workflows 200 41ms\n');
    const wrong = await kubectl(ctx, ['logs', '-n', NS, 'orch-canary-1', '-c', 'nope']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('container nope is not valid for pod orch-canary-1');
    const prev = await kubectl(ctx, ['logs', '-n', NS, 'orch-canary-2', '--previous']);
    expect(prev.stdout).toContain('(previous)');
    const ev = await kubectl(ctx, ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=orch-canary-2', '-o', 'json']);
    expect((JSON.parse(ev.stdout) as { items: { reason: string }[] }).items.map((i) => i.reason)).toEqual(['BackOff']);
    // logs -f: follows until the container stops.
    const child = spawn(kubectlBinary()!, ['--kubeconfig', ctx.kubeconfig, '--cache-dir', ctx.cacheDir, 'logs', '-f', '-n', NS, 'orch-canary-1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => server.logs.followers() === 1, 'kubectl to follow', 20_000);
    server.logs.append(NS, 'orch-canary-1', 'orchestrator', ['a line while following']);
    await until(() => out.includes('a line while following'), 'kubectl to print it', 20_000);
    server.logs.terminate(NS, 'orch-canary-1', 'orchestrator');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
  });
});
