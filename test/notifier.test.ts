// The notifier against real receivers on 127.0.0.1 (node:http), started here and stopped after:
// the payloads each channel type sends, a retry after a 500, secrets never in what it reports,
// and a dead receiver that never stalls the runtime.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelNotifier } from '../src/actuators/notifier.js';
import { DirectoryCommsWriter } from '../src/actuators/comms-files.js';
import { NotifyChannel } from '../src/plan/schema.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { NotifyEffect, NotifyReport, TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import type { Actor } from '../src/engine/types.js';
import { loadSeedPlan, T0, withoutGateChecklists } from './helpers/drive.js';
import { samples } from './helpers/state.js';

// Notifications, not checklists: the first gate opens with approvals alone.
const plan = withoutGateChecklists(loadSeedPlan());
const ANA: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };
const SECRET_PATH = '/services/T000/B000/s3cr3tPathToken';
const TOKEN = 'tok-very-secret-123';

interface Hit {
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
interface Receiver {
  url: string;
  hits: Hit[];
  server: Server;
}
const servers: Server[] = [];
const notifiers: ChannelNotifier[] = [];
afterEach(async () => {
  for (const n of notifiers.splice(0)) n.close();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

/** A receiver on 127.0.0.1; `answer` decides each response (null: never answer). */
async function receiver(answer: (n: number) => number | null = () => 200): Promise<Receiver> {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', headers: req.headers, body: data ? JSON.parse(data) : null });
      const status = answer(hits.length);
      if (status === null) return; // a dead receiver: the connection stays open, no answer
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'boom');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}${SECRET_PATH}`, hits, server };
}

function channel(c: Record<string, unknown>): NotifyChannel {
  return NotifyChannel.parse({ timeout: '2s', backoff: '20ms', retries: 2, ...c });
}

function notifier(channels: NotifyChannel[], env: Record<string, string>, queueLimit?: number): ChannelNotifier {
  const n = new ChannelNotifier({ plan, channels, env, ...(queueLimit ? { queueLimit } : {}) });
  notifiers.push(n);
  return n;
}

const escalation: NotifyEffect = {
  id: 7,
  type: 'notify',
  kind: 'escalation',
  severity: 'critical',
  incident: 'INC-1',
  message: 'orchestrator: INC-1 P0 (now) paging Primary SRE Ben Okafor @ben.okafor: checkout 503',
  recipients: [{ role: 'sre-primary', title: 'Primary SRE', person: 'ben', name: 'Ben Okafor', slack: '@ben.okafor' }],
};

function send(n: ChannelNotifier, effect: NotifyEffect): Promise<NotifyReport[]> {
  const reports: NotifyReport[] = [];
  n.notify(effect, { at: T0, report: (r) => reports.push(r) });
  return n.idle().then(() => reports);
}

describe('notifier: real HTTP receivers on 127.0.0.1', () => {
  it('a generic webhook gets the JSON payload with a bearer token; Slack gets text + blocks', async () => {
    const hook = await receiver();
    const slack = await receiver();
    const n = notifier(
      [channel({ name: 'pager', type: 'webhook', urlEnv: 'PAGER_URL', tokenEnv: 'PAGER_TOKEN' }), channel({ name: 'slack-eng', type: 'slack', urlEnv: 'SLACK_URL' })],
      { PAGER_URL: hook.url, PAGER_TOKEN: TOKEN, SLACK_URL: slack.url },
    );
    const reports = await send(n, escalation);
    expect(reports.map((r) => [r.channel, r.ok, r.attempts])).toEqual([
      ['pager', true, 1],
      ['slack-eng', true, 1],
    ]);
    expect(hook.hits).toHaveLength(1);
    expect(hook.hits[0]!.path).toBe(SECRET_PATH);
    expect(hook.hits[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hook.hits[0]!.headers['content-type']).toBe('application/json');
    expect(hook.hits[0]!.body).toEqual({
      source: 'canary',
      plan: plan.metadata.name,
      service: plan.metadata.service,
      version: plan.metadata.version,
      kind: 'escalation',
      severity: 'critical',
      text: escalation.message,
      at: new Date(T0).toISOString(),
      effectId: 7,
      incident: 'INC-1',
      recipients: escalation.recipients,
    });
    const body = slack.hits[0]!.body as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(body.text).toBe(`:rotating_light: ${escalation.message}`);
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: body.text } });
    expect(body.blocks[1]!.text!.text).toBe('*Paging:* Primary SRE: Ben Okafor (@ben.okafor)');
    expect(body.blocks.at(-1)!.type).toBe('context');
  });

  it('retries after a 500 and delivers on the second attempt', async () => {
    const hook = await receiver((n) => (n === 1 ? 500 : 200));
    const n = notifier([channel({ name: 'pager', type: 'webhook', urlEnv: 'U' })], { U: hook.url });
    const [r] = await send(n, escalation);
    expect(r).toMatchObject({ channel: 'pager', ok: true, attempts: 2 });
    expect(hook.hits).toHaveLength(2);
    expect(hook.hits[1]!.body).toEqual(hook.hits[0]!.body);
  });

  it('gives up after its retries, does not retry a 404, and never reports the URL or the token', async () => {
    const down = await receiver(() => 503);
    const wrong = await receiver(() => 404);
    const n = notifier(
      [channel({ name: 'a', type: 'webhook', urlEnv: 'A', tokenEnv: 'T', retries: 2 }), channel({ name: 'b', type: 'slack', urlEnv: 'B' })],
      { A: down.url, T: TOKEN, B: wrong.url },
    );
    const reports = await send(n, escalation);
    const a = reports.find((r) => r.channel === 'a')!;
    const b = reports.find((r) => r.channel === 'b')!;
    expect(a).toMatchObject({ ok: false, attempts: 3 });
    expect(a.detail).toContain('HTTP 503');
    expect(down.hits).toHaveLength(3);
    expect(b).toMatchObject({ ok: false, attempts: 1 });
    expect(b.detail).toContain('HTTP 404');
    expect(b.detail).toContain('check $B');
    expect(wrong.hits).toHaveLength(1);
    for (const r of reports) {
      expect(r.detail).not.toContain(SECRET_PATH);
      expect(r.detail).not.toContain('s3cr3t');
      expect(r.detail).not.toContain(TOKEN);
    }
  });

  it('filters by kind and severity; a channel whose variable is unset is off and says which variable', async () => {
    const hook = await receiver();
    const n = notifier(
      [channel({ name: 'only-rollbacks', type: 'webhook', urlEnv: 'U', on: ['rollback'] }), channel({ name: 'warn-up', type: 'webhook', urlEnv: 'U', minSeverity: 'warning' }), channel({ name: 'unset', type: 'slack', urlEnv: 'NOT_SET' })],
      { U: hook.url },
    );
    expect(n.off).toEqual(['unset: $NOT_SET is not set']);
    expect(n.channels).toEqual(['only-rollbacks', 'warn-up']);
    const reports = await send(n, { id: 1, type: 'notify', kind: 'gate', severity: 'info', message: 'entering Canary 5%' });
    expect(reports).toEqual([]);
    const r2 = await send(n, { id: 2, type: 'notify', kind: 'rollback', severity: 'critical', message: 'ROLLED BACK' });
    expect(r2.map((r) => r.channel)).toEqual(['only-rollbacks', 'warn-up']);
  });

  it('a command hook gets the JSON on stdin; a failing hook reports its exit code and stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-hook-'));
    const out = join(dir, 'got.json');
    const script = join(dir, 'hook.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs'; let d=''; process.stdin.on('data', (c) => (d += c)).on('end', () => writeFileSync(${JSON.stringify(out)}, d));`);
    const n = notifier(
      [channel({ name: 'hook', type: 'command', command: [process.execPath, script] }), channel({ name: 'bad', type: 'command', command: [process.execPath, '-e', 'console.error("no pager configured"); process.exit(3)'], retries: 0 })],
      {},
    );
    const reports = await send(n, escalation);
    expect(reports.find((r) => r.channel === 'hook')).toMatchObject({ ok: true, attempts: 1 });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ kind: 'escalation', incident: 'INC-1', text: escalation.message });
    const bad = reports.find((r) => r.channel === 'bad')!;
    expect(bad.ok).toBe(false);
    expect(bad.detail).toContain('exited 3: no pager configured');
  });

  it('a hook whose own child holds stderr open is killed with its group at the timeout; the channel is free again', async () => {
    const n = notifier([channel({ name: 'stuck', type: 'command', command: ['/bin/sh', '-c', 'cat >/dev/null; sleep 600 & sleep 600'], timeout: '300ms', retries: 0 })], {});
    // (were it left waiting on the sleeping grandchild, this would run into the test's timeout)
    const reports = await send(n, escalation);
    expect(reports[0]).toMatchObject({ channel: 'stuck', ok: false });
    expect(reports[0]!.detail).toContain('no exit after 300 ms (killed)');
  });

  it('a hook never sees the other channels\' URL or token, and what it prints of them is scrubbed', async () => {
    const secretUrl = 'https://hooks.slack.test/services/T000/B000/SeCrEtPaTh';
    process.env.CANARY_TEST_SLACK_URL = secretUrl;
    try {
      const n = notifier(
        [
          channel({ name: 'slack', type: 'slack', urlEnv: 'CANARY_TEST_SLACK_URL', on: ['info'] }),
          channel({ name: 'leaky', type: 'command', command: ['/bin/sh', '-c', `cat >/dev/null; echo "env=[$CANARY_TEST_SLACK_URL] literal=${secretUrl}" >&2; exit 1`], retries: 0 }),
        ],
        { CANARY_TEST_SLACK_URL: secretUrl },
      );
      const reports = await send(n, escalation);
      const leaky = reports.find((r) => r.channel === 'leaky')!;
      expect(leaky.detail).toContain('env=[]'); // not in the hook's environment
      expect(leaky.detail).toContain('literal=***'); // and scrubbed when printed anyway
      expect(JSON.stringify(reports)).not.toContain('SeCrEtPaTh');
    } finally {
      delete process.env.CANARY_TEST_SLACK_URL;
    }
  });
});

describe('notifier in the runtime: never blocking', () => {
  const traffic: TrafficActuator = {
    name: 'test-traffic',
    setWeight: async (w) => ({ weight: w, detail: 'ok' }),
    rollback: async () => ({ weight: 0, detail: 'ok' }),
  };

  it('a dead receiver (accepts, never answers) and a refused port never stall dispatch; failures come back as events', async () => {
    const dead = await receiver(() => null);
    const refused = await receiver();
    const refusedUrl = refused.url;
    await new Promise<void>((r) => refused.server.close(() => r()));
    const n = notifier(
      [channel({ name: 'dead', type: 'webhook', urlEnv: 'D', timeout: '300ms', retries: 1 }), channel({ name: 'refused', type: 'slack', urlEnv: 'R', retries: 1 })],
      { D: dead.url, R: refusedUrl },
      3,
    );
    const clock = new ManualClock(T0);
    const rt = new Runtime({ plan, clock, traffic, notifier: n, tickMs: 0 });
    // A P0 and its whole escalation, while the receiver hangs: every dispatch returns with the
    // new state at once.
    rt.dispatch({ type: 'command', at: clock.now(), actor: ANA, command: { kind: 'declare-incident', severity: 'P0', summary: 'checkout 503' } });
    expect(rt.getState().incidents).toHaveLength(1);
    for (let m = 1; m <= 40; m++) rt.dispatch({ type: 'tick', at: clock.advance(60_000) });
    const s = rt.getState();
    expect(s.incidents[0]!.steps.every((st) => st.pagedAt !== undefined)).toBe(true);
    expect(s.now).toBe(T0 + 40 * 60_000);
    // Nothing delivered has come back yet (delivery is in the background); 4 notifications
    // (incident + 3 steps) per channel into queues of 3: the oldest of each was dropped, and said so.
    expect(s.notifications.recent.map((r) => [r.channel, r.detail])).toEqual([
      ['dead', 'dropped: more than 3 notifications waiting for dead'],
      ['refused', 'dropped: more than 3 notifications waiting for refused'],
    ]);
    await n.idle();
    const after = rt.getState();
    const deadFail = after.notifications.recent.filter((r) => r.channel === 'dead' && !r.detail.startsWith('dropped'));
    expect(deadFail).toHaveLength(3);
    for (const r of deadFail) expect(r.detail).toMatch(/no answer after 300 ms/);
    const refusedFail = after.notifications.recent.filter((r) => r.channel === 'refused' && !r.detail.startsWith('dropped'));
    expect(refusedFail).toHaveLength(3);
    for (const r of refusedFail) expect(r.detail).toContain('ECONNREFUSED');
    expect(after.notifications.delivered).toBe(0);
    expect(after.notifications.failed).toBe(8);
    // shown in the history the console reads; no secret in any of it
    const text = JSON.stringify(after.history) + JSON.stringify(after.notifications);
    expect(text).toContain('notification #');
    expect(text).not.toContain('s3cr3t');
    expect(dead.hits.length).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('a delivered rollback notice meets the SRE\'s 15-minute reminder; w writes the communications to files', async () => {
    const hook = await receiver();
    const n = notifier([channel({ name: 'slack-eng', type: 'slack', urlEnv: 'S' })], { S: hook.url });
    const dir = mkdtempSync(join(tmpdir(), 'canary-comms-'));
    const clock = new ManualClock(T0);
    const rt = new Runtime({ plan, clock, traffic, notifier: n, comms: new DirectoryCommsWriter(dir), tickMs: 0 });
    // Open the first gate as the simulated crew would (the gate needs a valid baseline first), then roll back by hand.
    rt.dispatch({ type: 'sli.samples', at: clock.now(), samples: samples(0) });
    for (const role of ['eng-lead', 'sre-lead']) rt.dispatch({ type: 'approve', at: clock.now(), actor: { id: role, name: role, roles: [role] }, phase: plan.phases[0]!.id, role });
    rt.dispatch({ type: 'command', at: clock.now(), actor: ANA, command: { kind: 'advance' } });
    for (const until = Date.now() + 10_000; rt.getState().status !== 'running' && Date.now() < until; ) await new Promise((r) => setImmediate(r));
    expect(rt.getState().status).toBe('running');
    rt.dispatch({ type: 'command', at: clock.advance(60_000), actor: ANA, command: { kind: 'rollback', reason: 'odd logs' } });
    expect(rt.getState().comms.items.find((i) => i.kind === 'rollback-notice')!.doneAt).toBeUndefined();
    await n.idle();
    const item = rt.getState().comms.items.find((i) => i.kind === 'rollback-notice')!;
    expect(item.doneHow).toBe('delivered to slack-eng');
    expect(hook.hits.some((h) => (h.body as { text: string }).text.includes('ROLLED BACK from 1%'))).toBe(true);

    rt.dispatch({ type: 'command', at: clock.advance(60_000), actor: ANA, command: { kind: 'write-communications' } });
    for (let i = 0; i < 50 && rt.getState().comms.writing !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
    const st = rt.getState();
    expect(st.history.some((h) => h.text.startsWith('communications written: 5 file(s) in'))).toBe(true);
    const files = (await import('node:fs')).readdirSync(dir).sort();
    expect(files).toHaveLength(5);
    const customer = readFileSync(join(dir, files.find((f) => f.endsWith('customer-canary-update.md'))!), 'utf8');
    expect(customer).toContain('Subject: Maestro Conductor vNext - Canary Deployment Update');
    expect(customer).toContain('https://status.maestro-conductor.com/canary');
    // every item due by now is marked done
    expect(st.comms.items.filter((i) => i.dueAt <= st.now).every((i) => i.doneAt !== undefined)).toBe(true);
  }, 30_000);
});

