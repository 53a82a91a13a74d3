// Issue 14 item 3's other standby: an operator's `canary start --rollout` (the built CLI, in a real
// terminal: tmux) against the test API server, while a `canary drive` process holds the Lease at
// 5% with a checkpoint waiting for its go and one approval given. The console attaches read-only
// (who drives, the rollout as the cluster has it); the driver is SIGKILLed; the console takes the
// Lease within the lease duration + 2 s, shows the same phase, weight, approval and checkpoint,
// says whom it took over from, raises no drift alarm, and a latency regression injected afterwards
// rolls back with the rule, the value and the threshold. Then the console is SIGKILLed in turn and
// an in-cluster replica (`canary drive`) takes over from it; a second console takes over from the
// replica's clean stop at once, and hands the Lease back when it quits.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from './kube/apiserver.js';
import { clusterPlan, clusterPlanText, createRolloutObjects, installRolloutCrd, NS, ROLLOUT, ROOT, startFakePrometheus, stateAt5, writeKubeconfig, type FakePrometheus } from './helpers/cluster.js';
import { screen, tmux, waitFor } from './helpers/tmux.js';
import { connectHome } from '../src/cluster/connect.js';
import { ClusterJournal, loadClusterJournal } from '../src/cluster/journal.js';
import { stateFromSnapshot } from '../src/cluster/snapshot.js';
import { statusText } from '../src/status.js';
import type { Plan } from '../src/plan/schema.js';

const CLI = join(ROOT, 'dist', 'canary.mjs');
const LEASE_S = 5;
const dir = mkdtempSync(join(tmpdir(), 'canary-standby-e2e-'));
const SESSION = `canary-standby-${process.pid}`;
const SESSION2 = `canary-standby2-${process.pid}`;
const SESSION3 = `canary-standby3-${process.pid}`;

interface Proc {
  child: ChildProcess;
  lines: { at: number; text: string }[];
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  said(re: RegExp): { at: number; text: string } | undefined;
}

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const p: Proc = {
    child,
    lines: [],
    stderr: '',
    exit: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))),
    said: (re) => p.lines.find((l) => re.test(l.text)),
  };
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const t of parts) if (t) p.lines.push({ at: performance.now(), text: t });
  });
  child.stderr!.on('data', (c: Buffer) => (p.stderr += c.toString()));
  return p;
}

async function until<T>(fn: () => T | undefined | false | null, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function output(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = run(args);
  const { code } = await p.exit;
  return { code, stdout: p.lines.map((l) => l.text).join('\n'), stderr: p.stderr };
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let server: KubeApiServer;
let prom: FakePrometheus;
let plan: Plan;
let kc: string;
const procs: Proc[] = [];

beforeAll(async () => {
  server = await startKubeApiServer({ token: 'standby-token' });
  kc = writeKubeconfig(server, dir);
  const planText = clusterPlanText();
  plan = clusterPlan(planText);
  prom = await startFakePrometheus(plan);
  installRolloutCrd(server);
  createRolloutObjects(server, planText, 5);
  // The rollout was already at 5% (a journal imported into the cluster): checkpoint due, one approval.
  const { cluster } = await connectHome({ kubeconfig: kc, context: 'home' });
  await ClusterJournal.create({ cluster, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'import', epoch: 0 }), plan, planText, state: stateAt5(plan) });
  cluster.close();
});

afterAll(async () => {
  for (const s of [SESSION, SESSION2, SESSION3])
    try {
      execFileSync('tmux', ['kill-session', '-t', s], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await prom?.close();
  await server?.close();
});

const leaseArgs = ['--lease-duration', String(LEASE_S), '--renew-deadline', '3.3', '--retry-period', '1'];
const driveArgs = (id: string) => ['drive', ROLLOUT, '--kubeconfig', kc, '--namespace', NS, '--prometheus', prom.url, '--health', '127.0.0.1:0', '--identity', id, ...leaseArgs];
const cr = () => server.get('canaryrollouts.canary.dev', NS, ROLLOUT) as unknown as { status?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('canary start --rollout: an operator console stands by, takes over, and is taken over from', { timeout: 150_000 }, () => {
  it('attaches read-only, takes over a SIGKILLed driver within the lease + 2 s with the same state, rolls back on a regression, and a replica takes over when it dies', async () => {
    const a = run(driveArgs('driver-a'));
    procs.push(a);
    await until(() => cr().status?.driver?.holder === 'driver-a', `driver-a to drive (stderr: ${a.stderr})`);

    // The operator's console: the real `canary start` wiring, in a real terminal.
    const args = ['start', '--rollout', ROLLOUT, '--kubeconfig', kc, '--namespace', NS, '--prometheus', prom.url, '--identity', 'ops-console', ...leaseArgs];
    const cmd = `exec env -u CI NO_COLOR=1 XDG_STATE_HOME=${sh(dir)} ${sh(process.execPath)} ${sh(CLI)} ${args.map(sh).join(' ')}`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '45', cmd);
    const consolePid = Number(tmux('display-message', '-p', '-t', SESSION, '#{pane_pid}').trim());
    // Attached: who drives, the rollout as the cluster has it, and no action that needs the Lease.
    let s = await waitFor(SESSION, (t) => /READ-ONLY: driver-a drives/.test(t) && /▶ RUNNING\s+5%/.test(t), 'the console attached read-only to driver-a', 30_000);
    expect(s).toMatch(/GO\? hour 1 Early adopter feedback review/);
    expect(s).toMatch(/approvals 1\/3: ✓ VP Engineering/);
    // The checkpoint's go needs the Lease: refused here, said why.
    tmux('send-keys', '-t', SESSION, 'g');
    s = await waitFor(SESSION, (t) => /✗.*read-only: driver-a drives/.test(t), 'the go refused: driver-a drives', 10_000);
    expect(cr().status?.checkpoint?.title).toBe('Early adopter feedback review');

    // SIGKILL the driver: no lease release, no last status.
    const killedAt = performance.now();
    a.child.kill('SIGKILL');
    await a.exit;
    const { cluster } = await connectHome({ kubeconfig: kc, context: 'home' });
    const journal = await loadClusterJournal(cluster, NS, ROLLOUT);
    cluster.close();
    expect(journal.problems).toEqual([]);
    const lastA = journal.entries.at(-1)!;
    expect(lastA.driver.holder).toBe('driver-a');
    const expected = JSON.parse(statusText(plan, stateFromSnapshot(plan, journal.stateAt(lastA.seq)!), { json: true }));

    s = await waitFor(SESSION, (t) => /◆ driving \(took over from driver-a at epoch \d+\)/.test(t), 'the console driving, having taken over from driver-a', LEASE_S * 1000 + 10_000);
    const tookMs = performance.now() - killedAt;
    expect(tookMs).toBeLessThanOrEqual(LEASE_S * 1000 + 2000);
    expect(s).not.toMatch(/READ-ONLY/);
    await until(() => cr().status?.driver?.holder === 'ops-console', 'the console to write the status');
    expect(cr().status!.driver.epoch).toBeGreaterThan(lastA.driver.epoch);
    // The same rollout: phase, weight, the approval given, the checkpoint still waiting.
    const st = cr().status!;
    expect(st.summary).toMatchObject({ status: 'running', phase: expected.phase, step: expected.step, weight: 5, appliedWeight: 5, approvals: expected.approvals, checkpointsDue: expected.checkpointsDue });
    expect(st.approvals).toContainEqual(expect.objectContaining({ role: 'vp-engineering', by: 'Hiro Tanaka' }));
    expect(s).toMatch(/▶ RUNNING\s+5%/);
    expect(s).toMatch(/▶ Canary 5%/);
    expect(s).toMatch(/GO\? hour 1 Early adopter feedback review/);
    expect(s).toMatch(/approvals 1\/3: ✓ VP Engineering/);

    // No drift alarm: the drift watch reads 5%, which is what the resumed state set.
    const polls = server.requests.filter((r) => r.resource === 'virtualservices.networking.istio.io' && r.method === 'GET').length;
    await until(() => server.requests.filter((r) => r.resource === 'virtualservices.networking.istio.io' && r.method === 'GET').length >= polls + 2, 'drift polls');
    s = screen(SESSION);
    expect(s).not.toMatch(/drift/i);
    // Seconds and several Lease renewals later, the status bar still says whom it took over from.
    expect(s).toMatch(/◆ driving \(took over from driver-a at epoch \d+\)/);
    expect(JSON.stringify(cr().status)).not.toMatch(/drift/i);

    // An in-cluster replica stands by behind the console.
    const c = run(driveArgs('driver-c'));
    procs.push(c);
    await until(() => c.said(/standing by/), 'driver-c to stand by');

    // A latency regression after the takeover: rolled back, with the rule, the value and the threshold.
    prom.set('latency_p95', 'canary', 1800);
    await until(() => cr().status?.state === 'RolledBack', 'the rollback in the status', 30_000);
    const reason: string = cr().status!.rollback.reason;
    expect(reason).toMatch(/latency/i);
    expect(reason).toMatch(/1800/);
    expect(reason).toMatch(/>= (1000|3x)/);
    // The status says RolledBack once the decision is journaled; the traffic follows it (the
    // rollback waits for that journal entry first): wait for the cluster to read 0%.
    const vs = () => server.get('virtualservices.networking.istio.io', NS, 'orchestrator') as unknown as { spec: { http: { route: { weight: number }[] }[] } };
    await until(() => vs().spec.http[0]!.route[1]!.weight === 0, 'the canary at 0% in the VirtualService', 15_000);
    await waitFor(SESSION, (t) => /ROLLED BACK/.test(t), 'the console showing the rollback', 15_000);

    // The console dies (SIGKILL: no lease release): the in-cluster replica takes over in turn.
    const consoleKilledAt = performance.now();
    process.kill(consolePid, 'SIGKILL');
    const driving = await until(() => c.said(/"msg":"driving \(lease epoch \d+\).*took over from ops-console/), 'driver-c to take over from the console', LEASE_S * 1000 + 10_000);
    expect(driving.at - consoleKilledAt).toBeLessThanOrEqual(LEASE_S * 1000 + 2000);
    await until(() => cr().status?.driver?.holder === 'driver-c', 'driver-c to write the status');
    expect(cr().status!.state).toBe('RolledBack');

    // Another operator's console stands by; the replica stops cleanly (the Lease handed back) and
    // the console takes over at once; quitting the console hands the Lease back in turn.
    const args2 = args.map((x) => (x === 'ops-console' ? 'ops-2' : x));
    tmux('new-session', '-d', '-s', SESSION2, '-x', '160', '-y', '45', `exec env -u CI NO_COLOR=1 XDG_STATE_HOME=${sh(dir)} ${sh(process.execPath)} ${sh(CLI)} ${args2.map(sh).join(' ')}`);
    await waitFor(SESSION2, (t) => /READ-ONLY: driver-c drives/.test(t) && /ROLLED BACK/.test(t), 'the second console attached to driver-c', 30_000);
    c.child.kill('SIGTERM');
    expect((await c.exit).code).toBe(0);
    await waitFor(SESSION2, (t) => /◆ driving \(took over from driver-c at epoch \d+\)/.test(t), 'the second console driving after the clean stop', 10_000);
    await until(() => cr().status?.driver?.holder === 'ops-2', 'ops-2 to write the status');
    tmux('send-keys', '-t', SESSION2, 'q');
    await until(() => {
      try {
        execFileSync('tmux', ['has-session', '-t', SESSION2], { stdio: 'ignore' });
        if (/\(y\/n\)|y confirm|quit\?/i.test(screen(SESSION2))) tmux('send-keys', '-t', SESSION2, 'y');
        return false;
      } catch {
        return true;
      }
    }, 'the second console to quit', 15_000);
    const lease = server.get('leases.coordination.k8s.io', NS, `canary-${plan.metadata.name}`) as unknown as { spec: { holderIdentity?: string | null } };
    expect(lease.spec.holderIdentity ?? null).toBeNull();
  });

  it('says what is wrong: world options with --rollout, --namespace without it, a CanaryRollout that is not there', async () => {
    const speed = await output(['start', '--rollout', ROLLOUT, '--speed', '600']);
    expect(speed.code).toBe(2);
    expect(speed.stderr).toMatch(/--speed cannot be used with --rollout: the rollout runs on its clusters, in real time/);
    const journal = await output(['start', '--rollout', ROLLOUT, '--journal', join(dir, 'x.jsonl')]);
    expect(journal.code).toBe(2);
    expect(journal.stderr).toMatch(/--journal cannot be used with --rollout: the rollout's journal is the one in the cluster/);
    const ns = await output(['start', '-n', NS]);
    expect(ns.code).toBe(2);
    expect(ns.stderr).toMatch(/--namespace goes with --rollout <name>/);
    // In a terminal: no such CanaryRollout, one line that says which, exit 1.
    const cmd = `env NO_COLOR=1 XDG_STATE_HOME=${sh(dir)} ${sh(process.execPath)} ${sh(CLI)} start --rollout nope --kubeconfig ${sh(kc)} --namespace ${NS}; echo "exit=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION3, '-x', '160', '-y', '20', cmd);
    const s = await waitFor(SESSION3, (t) => /exit=\d+/.test(t), 'the exit', 20_000);
    expect(s).toMatch(/exit=1/);
    expect(s).toMatch(/no CanaryRollout "nope" in namespace maestro-conductor-canary/);
    expect(s).not.toMatch(/\n\s+at /);
    // Someone not in the rollout's roster: refused before this console takes part in the election
    // (the Lease, free since the last console quit, is not taken: no new transition).
    const lease = () => server.get('leases.coordination.k8s.io', NS, `canary-${plan.metadata.name}`) as unknown as { spec: { holderIdentity?: string | null; leaseTransitions?: number } } | undefined;
    const before = lease()?.spec.leaseTransitions ?? null;
    tmux('kill-session', '-t', SESSION3);
    const as = `env NO_COLOR=1 XDG_STATE_HOME=${sh(dir)} ${sh(process.execPath)} ${sh(CLI)} start --rollout ${ROLLOUT} --as nobody --kubeconfig ${sh(kc)} --namespace ${NS}; echo "exit=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', SESSION3, '-x', '160', '-y', '20', as);
    const t = await waitFor(SESSION3, (x) => /exit=\d+/.test(x), 'the exit', 20_000);
    expect(t).toMatch(/exit=2/);
    expect(t).toMatch(/--as nobody: no such person in the plan's roster; expected one of: ana, ben/);
    expect(lease()?.spec.leaseTransitions ?? null).toBe(before);
  });
});

