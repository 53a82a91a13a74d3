// The in-cluster driver takes its environment from the one the command read (Ctx.env.vars, passed
// as DriverOptions.env), never from the process's: what the rollback hook, the runbook's commands
// (here the rollback verification) and the notifier see comes from it. The variables are given
// only to the driver, not set in this process, so a fallback to the process environment shows.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseDocument } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from './kube/apiserver.js';
import { clusterPlan, clusterPlanText, createRolloutObjects, installRolloutCrd, NS, ROLLOUT, startFakePrometheus, stateAt5, writeKubeconfig, type FakePrometheus } from './helpers/cluster.js';
import { connectHome } from '../src/cluster/connect.js';
import { Driver } from '../src/cluster/driver.js';
import { ClusterJournal } from '../src/cluster/journal.js';
import type { KubeCluster } from '../src/kube/client.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-cluster-env-'));
const MARK = `given-to-the-driver-${process.pid}`;
const hookFile = join(dir, 'hook.txt');
const verifyFile = join(dir, 'verify.txt');

async function until(cond: () => boolean, what: string | (() => string), ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The cluster plan with a rollback hook and a rollback verification that write what they see of
 * $CANARY_TEST_MARK, and one more webhook channel whose URL is in $CANARY_TEST_HOOK_URL. */
function planText(): string {
  const doc = parseDocument(clusterPlanText());
  doc.setIn(['rollback', 'hook'], { name: 'mark-hook', run: `printf '%s' "$CANARY_TEST_MARK" > ${hookFile}` });
  doc.setIn(['rollback', 'validate'], { name: 'mark-verify', run: `printf '%s' "$CANARY_TEST_MARK" > ${verifyFile}` });
  (doc.getIn(['notifications', 'channels']) as { add(v: unknown): void }).add(doc.createNode({ name: 'test-hook', type: 'webhook', urlEnv: 'CANARY_TEST_HOOK_URL', on: ['rollback'] }));
  return doc.toString();
}

let server: KubeApiServer;
let prom: FakePrometheus;
let receiver: Server;
const posts: string[] = [];
const homes: KubeCluster[] = [];
const drivers: Driver[] = [];

beforeEach(async () => {
  server = await startKubeApiServer({ token: 'tok' });
  prom = await startFakePrometheus(clusterPlan(planText()));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
});

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop().catch(() => undefined)));
  for (const h of homes.splice(0)) h.close();
  await prom.close();
  await server.close();
  await new Promise<void>((r) => {
    receiver.close(() => r());
    receiver.closeAllConnections();
  });
});

describe('the in-cluster driver environment', { timeout: 60_000 }, () => {
  it('the rollback hook, the rollback verification and the notifier get the variables of DriverOptions.env', async () => {
    expect(process.env.CANARY_TEST_MARK).toBeUndefined();
    expect(process.env.CANARY_TEST_HOOK_URL).toBeUndefined();
    const text = planText();
    const plan = clusterPlan(text);
    const kc = writeKubeconfig(server, dir);
    installRolloutCrd(server);
    createRolloutObjects(server, text, 5);
    const { cluster } = await connectHome({ kubeconfig: kc, context: 'home', timeoutMs: 3_000 });
    homes.push(cluster);
    await ClusterJournal.create({ cluster, namespace: NS, rollout: ROLLOUT, stamp: () => ({ holder: 'import', epoch: 0 }), plan, planText: text, state: stateAt5(plan) });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const d = new Driver({
      home: cluster,
      namespace: NS,
      rollout: ROLLOUT,
      kube: { kubeconfig: kc },
      prometheus: { url: prom.url, timeoutMs: 2_000 },
      identity: 'driver-env',
      lease: { durationSeconds: 2, renewDeadlineMs: 1_300, retryMs: 250 },
      health: null,
      out: new Writable({ write: (_c, _e, cb) => cb() }),
      sourcePeriodMs: 200,
      statusRefreshMs: 500,
      driftEveryMs: 300,
      env: { PATH: process.env.PATH, CANARY_TEST_MARK: MARK, CANARY_TEST_HOOK_URL: url },
    });
    drivers.push(d);
    await d.start();
    await until(() => d.runtime !== null, 'the driver drives');
    // A latency regression: the automatic rule rolls back; the hook runs once traffic is at 0%,
    // the verification after the rollback is confirmed, and the rollback is notified.
    prom.set('latency_p95', 'canary', 1800);
    await until(() => d.runtime!.getState().status === 'rolled-back', 'the rollback');
    await until(
      () => existsSync(hookFile) && existsSync(verifyFile) && posts.length > 0,
      () => `the hook (${existsSync(hookFile) ? 'ran' : 'did not run'}), the verification (${d.runtime!.getState().runbook.verification?.detail ?? 'none'}) and the webhook (${posts.length} posts)`,
    );
    expect(readFileSync(hookFile, 'utf8')).toBe(MARK);
    expect(readFileSync(verifyFile, 'utf8')).toBe(MARK);
    await until(() => d.runtime!.getState().runbook.verification?.status === 'passed', 'the verification passed');
    expect(posts.join('\n')).toMatch(/latency/i);
  });
});
