// Stakeholder reports (issue 17 item 9): the seed's daily one-pagers for executives during the
// canary phases (from T+24h) and weekly reports for product, produced on schedule from the
// journal. The engine decides when (pure, injected time, the plan's time zone); the runtime renders
// the Markdown from the journal's facts, writes it beside the journal and sends it to its channels
// (a real receiver on 127.0.0.1 here); a failure to send is shown and journaled; a report
// regenerated from the journal is the one that was produced.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Driver, HEALTHY, HOUR, loadSeedPlan, MIN, PLAN_PATH, samples } from './helpers/drive.js';
import { nextOccurrence, reportsProgress } from '../src/engine/reports.js';
import { parseStartAt, startAtInstant } from '../src/engine/calendar.js';
import { Report } from '../src/plan/reports.js';
import type { Effect, RolloutState } from '../src/engine/types.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import { SimCrew } from '../src/sim/crew.js';
import { ChannelNotifier } from '../src/actuators/notifier.js';
import { DirectoryReportProducer, reportsDirFor } from '../src/actuators/report-files.js';
import { ReportLedger } from '../src/reports/ledger.js';
import { JournalWriter, readJournal, replayJournal } from '../src/journal/journal.js';
import { regenerateReport } from '../src/reports/from-journal.js';

const plan = loadSeedPlan();
const NY = (local: string) => startAtInstant(plan, parseStartAt(local) as Exclude<ReturnType<typeof parseStartAt>, string>);
const iso = (t: number) => new Date(t).toISOString().replace(':00.000Z', 'Z');
type ReportEff = Extract<Effect, { type: 'produce-report' }>;

describe('when a report is due (the engine)', () => {
  it('daily at a wall-clock time in the plan zone, through a daylight-saving change; weekly on its day', () => {
    const daily = Report.parse({ name: 'd', every: 'daily', audience: 'x', at: '09:00' });
    // New York springs forward on Sun 8 Mar 2026: 09:00 is 14:00 UTC before, 13:00 UTC after.
    expect(iso(nextOccurrence(plan, daily, Date.parse('2026-03-07T15:00:00Z')))).toBe('2026-03-08T13:00Z');
    expect(iso(nextOccurrence(plan, daily, Date.parse('2026-03-06T12:00:00Z')))).toBe('2026-03-06T14:00Z');
    const weekly = Report.parse({ name: 'w', every: 'weekly', day: 'Mon', audience: 'x', at: '09:00' });
    expect(iso(nextOccurrence(plan, weekly, NY('2026-12-01T10:00')))).toBe('2026-12-07T14:00Z');
    expect(iso(nextOccurrence(plan, weekly, NY('2026-12-07T09:00')))).toBe('2026-12-07T14:00Z');
  });

  it('the seed plan: executive one-pagers from T+24h during the canary phases only, engineering summaries daily, product weekly on Monday', () => {
    const d = new Driver(plan, { start: NY('2026-11-30T09:00') });
    d.observe();
    d.runFor(10 * 24 * HOUR);
    const due = (name: string) => d.effects.filter((e): e is ReportEff => e.type === 'produce-report' && e.name === name);
    // The crew opened the first gate past 09:00 New York on Mon 30 Nov: T+24h is past Tuesday's
    // 09:00, so the first one-pager is Wednesday's.
    expect(d.state.comms.anchor!).toBeGreaterThan(Date.parse('2026-11-30T14:00:00Z'));
    expect(d.state.comms.anchor!).toBeLessThan(Date.parse('2026-11-30T15:00:00Z'));
    const exec = due('exec-daily');
    expect(exec.map((e) => iso(e.dueAt))).toEqual(['2026-12-02T14:00Z', '2026-12-03T14:00Z', '2026-12-04T14:00Z', '2026-12-05T14:00Z', '2026-12-06T14:00Z', '2026-12-07T14:00Z', '2026-12-08T14:00Z']);
    // Each covers the day before it (the first from the rollout start), for the Executive, to no channel.
    expect(exec[1]).toMatchObject({ every: 'daily', audience: 'Executive', from: Date.parse('2026-12-02T14:00:00Z'), channels: [] });
    expect(exec[0]!.from).toBe(Date.parse('2026-12-01T14:00:00Z'));
    // After the 25% phase (the full rollout began on 8 Dec) no more one-pagers.
    const fullAt = d.state.history.find((h) => h.kind === 'phase' && h.text.includes('Full rollout'))!.at;
    expect(exec.every((e) => e.dueAt < fullAt)).toBe(true);
    expect(fullAt).toBeLessThan(Date.parse('2026-12-09T14:00:00Z'));
    expect(due('eng-daily').map((e) => iso(e.dueAt))[0]).toBe('2026-11-30T22:00Z');
    expect(due('eng-daily')).toHaveLength(10);
    expect(due('product-weekly').map((e) => ({ at: iso(e.dueAt), from: iso(e.from) }))).toEqual([{ at: '2026-12-07T14:00Z', from: iso(d.state.comms.anchor!) }]);
  });

  it('a clock that jumps days ahead (a resumed rollout) produces one report per name, for the last period, not a flood', () => {
    const d = new Driver(plan, { start: NY('2026-11-30T09:00') });
    d.observe();
    d.runFor(26 * HOUR);
    const before = d.effects.length;
    d.send({ type: 'tick', at: d.now + 3 * 24 * HOUR });
    const burst = d.effects.slice(before).filter((e): e is ReportEff => e.type === 'produce-report');
    expect(burst.map((e) => `${e.name} ${iso(e.dueAt)} from ${iso(e.from)}`).sort()).toEqual([
      'eng-daily 2026-12-03T22:00Z from 2026-12-02T22:00Z',
      'exec-daily 2026-12-04T14:00Z from 2026-12-03T14:00Z',
    ]);
  });

  it('the result and each channel outcome are kept on the report and said in the history; a failure to send says so', () => {
    const d = new Driver(plan, { start: NY('2026-11-30T09:00') });
    d.observe();
    d.runFor(9 * HOUR, () => d.effects.some((e) => e.type === 'produce-report'));
    const e = d.effects.find((x): x is ReportEff => x.type === 'produce-report')!;
    d.send({ type: 'report.result', at: d.now, effectId: e.id, ok: true, detail: '/r/eng-daily-2026-11-30-1700.md', file: '/r/eng-daily-2026-11-30-1700.md' });
    d.send({ type: 'notify.result', at: d.now, effectId: e.id, channel: 'slack-eng', ok: false, detail: 'HTTP 500', attempts: 4 });
    expect(d.state.reports.recent.at(-1)).toMatchObject({ name: 'eng-daily', ok: true, file: '/r/eng-daily-2026-11-30-1700.md', sent: [{ channel: 'slack-eng', ok: false, detail: 'HTTP 500' }] });
    expect(d.state.notifications.failed).toBe(1);
    const texts = d.state.history.slice(-2).map((h) => h.text);
    expect(texts).toEqual([
      'daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5 written: /r/eng-daily-2026-11-30-1700.md',
      'daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5 NOT sent to slack-eng after 4 attempt(s): HTTP 500',
    ]);
  });

  it('a plan without reports pays nothing and emits none', () => {
    const bare = { ...plan, reports: [] };
    const d = new Driver(bare, { start: NY('2026-11-30T09:00') });
    d.observe();
    d.runFor(2 * 24 * HOUR);
    expect(d.effects.some((e) => e.type === 'produce-report')).toBe(false);
    const s: RolloutState = d.state;
    const tx = { s: { ...s }, cp: { plan: bare }, effect: () => { throw new Error('no effect expected'); }, log: () => undefined };
    reportsProgress(tx as never);
    expect(tx.s.reports).toBe(s.reports);
  });
});

// ---------------------------------------------------------------------------------------------
// The runtime: rendered from the journal's facts, written beside the journal, sent, regenerated.

const servers: Server[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
});

async function receiver(): Promise<{ url: string; bodies: { text: string; blocks: { text?: { text: string } }[] }[] }> {
  const bodies: { text: string; blocks: { text?: { text: string } }[] }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.writeHead(200).end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

const instant: TrafficActuator = { name: 'instant', setWeight: async (w) => ({ weight: w, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };
const until = async (what: string, cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** The seed plan through a runtime with a journal, minute by minute, until `stop`. */
async function live(env: Record<string, string>, stop: (s: RolloutState) => boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'canary-reports-'));
  const journal = join(dir, 'run.jsonl');
  const start = NY('2026-11-30T09:00');
  const clock = new ManualClock(start);
  const writer = JournalWriter.openSync(journal, { plan, planText: readFileSync(PLAN_PATH, 'utf8'), start });
  const ledger = new ReportLedger();
  const notifier = new ChannelNotifier({ plan, env });
  const crew = new SimCrew(plan);
  const runtime = new Runtime({
    plan,
    clock,
    traffic: instant,
    notifier,
    reports: new DirectoryReportProducer(plan, reportsDirFor(journal), ledger),
    journal: writer,
    tickMs: 0,
    observers: [(st) => void ledger.observe(st), (st) => crew.decide(st)],
  });
  closers.push(() => notifier.close());
  runtime.start();
  runtime.dispatch({ type: 'sli.samples', at: clock.now(), samples: samples(HEALTHY) });
  // At most a simulated day: a report that never comes (or never reports its sending) fails here.
  for (let i = 0; !stop(runtime.getState()); i++) {
    if (i > 24 * 60) throw new Error(`nothing by ${new Date(clock.now()).toISOString()}: ${runtime.getState().history.slice(-3).map((h) => h.text).join(' | ')}`);
    clock.advance(MIN);
    runtime.dispatch({ type: 'sli.samples', at: clock.now(), samples: samples(HEALTHY) });
    // Let the actuators' and the producer's promises settle, as the event loop would between samples.
    await new Promise((r) => setImmediate(r));
  }
  return { dir, journal, runtime, writer, clock, notifier };
}

describe('producing a report (the runtime)', () => {
  it('Engineering summary at 17:00: written beside the journal, sent to Slack, and canary report regenerates the very same Markdown from the journal', async () => {
    const hook = await receiver();
    const r = await live({ CANARY_SLACK_WEBHOOK_URL: hook.url }, (s) => s.reports.recent.some((x) => x.name === 'eng-daily' && x.sent?.length));
    const rec = r.runtime.getState().reports.recent.find((x) => x.name === 'eng-daily')!;
    expect(rec).toMatchObject({ ok: true, sent: [{ channel: 'slack-eng', ok: true }] });
    expect(rec.file).toBe(join(r.dir, 'run-reports', 'eng-daily-2026-11-30-1700.md'));
    expect(readdirSync(join(r.dir, 'run-reports'))).toEqual(['eng-daily-2026-11-30-1700.md']);
    const md = readFileSync(rec.file!, 'utf8');
    expect(md).toContain('# Daily one-pager: Maestro Conductor vNext rc');
    expect(md).toContain('**For:** Engineering · **As of:** Mon 30 Nov 2026 17:00 GMT-5 · **Covers:** Mon 30 Nov 2026 10:30 GMT-5 to Mon 30 Nov 2026 17:00 GMT-5 (America/New_York)');
    // Every date is a fact of the journal: the gate opened at 10:30, once the crew had ticked the
    // pre-deployment checklist (checks nobody runs here are ticked by hand after half an hour), not
    // the report time minus a day.
    expect(md).toContain('- **Status:** RUNNING in Canary 1%: internal validation (step 1/1): 1% of traffic on rc in us-east-1, since Mon 30 Nov 2026 10:30 GMT-5');
    expect(md).toContain('- **Rollout started:** Mon 30 Nov 2026 10:30 GMT-5');
    // Facts of the period, with their own times: the checklist's last tick, the gate, the 6 h checkpoint.
    expect(md).toContain('| Mon 30 Nov 2026 10:30 GMT-5 | Chloe Lindqvist (simulated) ticked Pre-deployment: Security & Compliance: Data encryption at rest and in transit verified |');
    expect(md).toContain('| Mon 30 Nov 2026 10:30 GMT-5 | Ben Okafor (simulated) opened the gate: Canary 1%: internal validation, traffic 0% -> 1% in us-east-1 |');
    expect(md).toContain('| Mon 30 Nov 2026 16:30 GMT-5 | checkpoint due: Canary 1%: internal validation hour 6: Basic functionality validation - waiting for a go (g) |');
    // The Slack receiver got the Markdown itself.
    // (slack-eng also gets the gate and checkpoint notices: its `on` list.)
    const reports = hook.bodies.filter((b) => b.text.includes('Daily one-pager'));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.blocks[0]!.text!.text).toContain('**For:** Engineering · **As of:** Mon 30 Nov 2026 17:00 GMT-5');
    expect(r.runtime.getState().history.map((h) => h.text)).toContain('daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5 sent to slack-eng');
    // Regenerated from the journal: byte for byte the file that was written.
    await until('the journal to take the last results', () => r.runtime.getState().history.some((h) => h.text.includes('sent to slack-eng')));
    r.writer.close();
    const again = regenerateReport(plan, readJournal(r.journal), { every: 'daily', name: 'eng-daily' });
    expect(typeof again).toBe('object');
    expect((again as Exclude<typeof again, string>).scheduled).toBe(true);
    expect((again as Exclude<typeof again, string>).markdown).toBe(md);
  });

  it('a channel that is off: the report is written, and NOT sent is shown and journaled with why', async () => {
    const r = await live({}, (s) => s.reports.recent.some((x) => x.name === 'eng-daily' && x.sent?.length));
    const rec = r.runtime.getState().reports.recent.find((x) => x.name === 'eng-daily')!;
    expect(rec.ok).toBe(true);
    expect(rec.sent).toEqual([{ channel: 'slack-eng', ok: false, detail: 'channel is off ($CANARY_SLACK_WEBHOOK_URL is not set)' }]);
    const line = 'daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5 NOT sent to slack-eng after 0 attempt(s): channel is off ($CANARY_SLACK_WEBHOOK_URL is not set)';
    expect(r.runtime.getState().history.map((h) => h.text)).toContain(line);
    r.writer.close();
    // The journal holds the failure: a replay says the same.
    const journaled = readJournal(r.journal).entries.map((e) => e.event).filter((e) => e.type === 'notify.result');
    expect(journaled).toContainEqual(expect.objectContaining({ channel: 'slack-eng', ok: false, detail: 'channel is off ($CANARY_SLACK_WEBHOOK_URL is not set)' }));
    expect(replayJournal(plan, r.journal).state.history.map((h) => h.text)).toContain(line);
  });
});
