// People during a rollout, in the pure engine: who is on call across hand-offs and time zones,
// escalation clocks in injected time, incidents opened by rollbacks, the rollback notice, and the
// communication templates.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Plan } from '../src/plan/schema.js';
import { formatPlanError, loadPlanText } from '../src/plan/loader.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import { nextBusinessDay, whoIs } from '../src/engine/roster.js';
import { escalationClock } from '../src/engine/people.js';
import { statusText } from '../src/status.js';
import { renderAll, renderTemplate, templateValues, TemplateError } from '../src/engine/comms.js';
import type { Actor, Effect, EngineEvent, RolloutState } from '../src/engine/types.js';
import { Driver, HEALTHY, HOUR, MIN, PLAN_PATH, T0, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const ANA: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary', 'sre-secondary'] };
const notifies = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'notify' }> => e.type === 'notify');

function withRoster(mutate: (raw: Record<string, any>) => void): Plan {
  const raw = JSON.parse(JSON.stringify(Plan.parse(loadYaml())));
  mutate(raw);
  return Plan.parse(raw);
}
function loadYaml(): unknown {
  const r = loadPlanText(readFileSync(PLAN_PATH, 'utf8'), 'plan.yaml');
  if (!r.ok) throw new Error(r.errors.map(formatPlanError).join('\n'));
  return r.plan;
}

describe('on-call rotation', () => {
  it('the seed rotation hands primary SRE over on Mondays at 09:00 New York', () => {
    // Nov 2 Ana, Nov 9 Ben, Nov 16 Chloe, Nov 23 Ana, Nov 30 Ben.
    const at = (iso: string) => whoIs(plan, 'sre-primary', Date.parse(iso));
    expect(at('2026-11-30T13:59:00Z').person?.id).toBe('ana');
    expect(at('2026-11-30T14:00:00Z').person?.id).toBe('ben'); // 09:00 EST
    expect(at('2026-11-30T14:00:00Z').until).toBe(Date.parse('2026-12-07T14:00:00Z'));
    expect(at('2026-12-07T14:00:00Z').person?.id).toBe('chloe');
    expect(whoIs(plan, 'sre-secondary', Date.parse('2026-11-30T14:00:00Z')).person?.id).toBe('chloe');
    // before the rotation's start it still counts backwards
    expect(at('2026-10-30T12:00:00Z').person?.id).toBe('chloe');
  });

  it('a daily hand-off in New York stays at 09:00 local across the DST change (14:00Z, then 13:00Z)', () => {
    const p = withRoster((raw) => {
      raw.roster.rotations = [{ role: 'sre-primary', handoff: 'daily', start: '2026-03-05T09:00:00-05:00', timezone: 'America/New_York', people: ['ana', 'ben', 'chloe'], overrides: [] }];
    });
    const at = (iso: string) => whoIs(p, 'sre-primary', Date.parse(iso)).person?.id;
    // Mar 5 ana, Mar 6 ben, Mar 7 chloe, Mar 8 (DST starts 02:00) ana, Mar 9 ben
    expect(at('2026-03-07T13:59:00Z')).toBe('ben');
    expect(at('2026-03-07T14:00:00Z')).toBe('chloe'); // 09:00 EST
    expect(at('2026-03-08T12:59:00Z')).toBe('chloe');
    expect(at('2026-03-08T13:00:00Z')).toBe('ana'); // 09:00 EDT: an hour earlier in UTC
    expect(at('2026-03-09T12:59:00Z')).toBe('ana');
    expect(at('2026-03-09T13:00:00Z')).toBe('ben');
    expect(whoIs(p, 'sre-primary', Date.parse('2026-03-07T20:00:00Z')).until).toBe(Date.parse('2026-03-08T13:00:00Z')); // a 23-hour shift
    // Without a time zone the same rotation is 24 h apart in UTC: 14:00Z on Mar 8 too.
    const fixed = withRoster((raw) => {
      raw.roster.rotations = [{ role: 'sre-primary', handoff: 'daily', start: '2026-03-05T09:00:00-05:00', people: ['ana', 'ben', 'chloe'], overrides: [] }];
    });
    expect(whoIs(fixed, 'sre-primary', Date.parse('2026-03-08T13:00:00Z')).person?.id).toBe('chloe');
    expect(whoIs(fixed, 'sre-primary', Date.parse('2026-03-08T14:00:00Z')).person?.id).toBe('ana');
  });

  it('a hand-off at 09:00 Tokyo is at 00:00Z, and an override wins while it lasts', () => {
    const p = withRoster((raw) => {
      raw.roster.rotations = [
        {
          role: 'sre-primary',
          handoff: 'weekly',
          start: '2026-11-02T09:00:00+09:00',
          timezone: 'Asia/Tokyo',
          people: ['ana', 'ben'],
          overrides: [{ person: 'chloe', from: '2026-11-10T06:00:00Z', until: '2026-11-10T18:00:00Z', note: 'swap' }],
        },
      ];
    });
    expect(whoIs(p, 'sre-primary', Date.parse('2026-11-08T23:59:00Z')).person?.id).toBe('ana');
    expect(whoIs(p, 'sre-primary', Date.parse('2026-11-09T00:00:00Z')).person?.id).toBe('ben');
    // the hand-off is cut short by the override's start
    expect(whoIs(p, 'sre-primary', Date.parse('2026-11-09T00:00:00Z')).until).toBe(Date.parse('2026-11-10T06:00:00Z'));
    const o = whoIs(p, 'sre-primary', Date.parse('2026-11-10T12:00:00Z'));
    expect(o.person?.id).toBe('chloe');
    expect(o.override).toBe(true);
    expect(o.until).toBe(Date.parse('2026-11-10T18:00:00Z'));
    expect(whoIs(p, 'sre-primary', Date.parse('2026-11-10T18:00:00Z')).person?.id).toBe('ben');
  });

  it('a plan with an unknown override person or zone says where', () => {
    const text = readFileSync(PLAN_PATH, 'utf8').replace(
      'timezone: America/New_York, people: [ana, ben, chloe] }',
      'timezone: America/Nowhere, people: [ana, ben, chloe], overrides: [{ person: zed, from: "2026-11-10T00:00:00Z", until: "2026-11-11T00:00:00Z" }] }',
    );
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    const msgs = r.ok ? [] : r.errors.map(formatPlanError);
    expect(msgs.some((m) => /plan\.yaml:\d+:\d+: .*unknown time zone "America\/Nowhere"/.test(m))).toBe(true);
    expect(msgs.some((m) => /plan\.yaml:\d+:\d+: .*unknown person "zed"/.test(m))).toBe(true);
  });

  it('next business day skips the weekend and plan holidays', () => {
    // Friday 2026-12-04 11:00 New York -> Monday 2026-12-07 09:00 New York (14:00Z)
    expect(new Date(nextBusinessDay(plan, Date.parse('2026-12-04T16:00:00Z'))).toISOString()).toBe('2026-12-07T14:00:00.000Z');
    expect(plan.calendar.holidays).toContain('2026-12-25');
    expect(new Date(nextBusinessDay(plan, Date.parse('2026-12-24T16:00:00Z'))).toISOString()).toBe('2026-12-28T14:00:00.000Z');
  });
});

describe('incidents and escalation clocks (injected time)', () => {
  function run(events: EngineEvent[], start = T0): { state: RolloutState; effects: Effect[] } {
    let state = initialState(plan, start);
    const effects: Effect[] = [];
    for (const e of events) {
      const r = reduce(plan, state, e);
      state = r.state;
      effects.push(...r.effects);
    }
    return { state, effects };
  }
  const declare: EngineEvent = { type: 'command', at: T0 + MIN, actor: ANA, command: { kind: 'declare-incident', severity: 'P0', summary: 'checkout API returns 503' } };
  const tick = (m: number): EngineEvent => ({ type: 'tick', at: T0 + MIN + m * MIN });

  it('a P0 pages primary SRE + eng lead at 0, product lead + CTO at 15 min, CEO + VP CS at 30 min', () => {
    const paged = (effects: Effect[]) => notifies(effects).filter((e) => e.kind === 'escalation').map((e) => e.recipients!.map((r) => r.role));
    let r = run([declare]);
    expect(r.state.incidents).toHaveLength(1);
    const inc = r.state.incidents[0]!;
    expect(inc).toMatchObject({ id: 'INC-1', severity: 'P0', summary: 'checkout API returns 503', openedBy: 'Ana Ortiz', cause: 'declared' });
    expect(paged(r.effects)).toEqual([['sre-primary', 'eng-lead']]);
    // who: the primary SRE on call at that moment (T0 is Monday Nov 30 14:00Z: Ben's week begins)
    const first = notifies(r.effects).find((e) => e.kind === 'escalation')!;
    expect(first.recipients!.map((x) => x.name)).toEqual(['Ben Okafor', 'Dev Raman']);
    expect(first.severity).toBe('critical');
    let clock = escalationClock(r.state.incidents[0]!, r.state.now);
    expect(clock.next?.step.roles).toEqual(['product-lead', 'cto']);
    expect(clock.next?.inMs).toBe(15 * MIN);

    r = run([declare, tick(14)]);
    expect(paged(r.effects)).toHaveLength(1);
    expect(escalationClock(r.state.incidents[0]!, r.state.now).next?.inMs).toBe(1 * MIN);
    r = run([declare, tick(14), tick(15)]);
    expect(paged(r.effects)).toEqual([['sre-primary', 'eng-lead'], ['product-lead', 'cto']]);
    r = run([declare, tick(14), tick(15), tick(29), tick(30), tick(31), tick(120)]);
    expect(paged(r.effects)).toEqual([['sre-primary', 'eng-lead'], ['product-lead', 'cto'], ['ceo', 'customer-success-vp']]);
    clock = escalationClock(r.state.incidents[0]!, r.state.now);
    expect(clock.paged.map((s) => s.pagedAt! - T0 - MIN)).toEqual([0, 15 * MIN, 30 * MIN]);
    expect(clock.next).toBeNull();
    expect(clock.stopped).toBe('done');
  });

  it('acknowledging at 20 min stops the clock: the 30-minute step is never paged', () => {
    const ack: EngineEvent = { type: 'command', at: T0 + 21 * MIN, actor: ANA, command: { kind: 'ack-incident' } };
    const r = run([declare, tick(15), ack, tick(30), tick(60), tick(600)]);
    const steps = notifies(r.effects).filter((e) => e.kind === 'escalation');
    expect(steps).toHaveLength(2);
    const inc = r.state.incidents[0]!;
    expect(inc.ackedBy).toBe('Ana Ortiz');
    expect(inc.ackedAt).toBe(T0 + 21 * MIN);
    expect(inc.steps[2]!.pagedAt).toBeUndefined();
    expect(escalationClock(inc, r.state.now)).toMatchObject({ stopped: 'acknowledged', next: null });
    expect(r.state.history.some((h) => h.kind === 'incident' && h.text.includes('acknowledged INC-1 P0 after 20m'))).toBe(true);
    // a second k has nothing to acknowledge, and says so
    const again = run([declare, tick(15), ack, { ...ack, at: T0 + 22 * MIN }]);
    expect(again.state.history.at(-1)!.text).toContain('no open incident is waiting');
  });

  it('several incidents: k acknowledges the most severe first; resolve needs an id when several are open', () => {
    const p1: EngineEvent = { type: 'command', at: T0, actor: ANA, command: { kind: 'declare-incident', severity: 'P1', summary: 'slow search' } };
    const ack: EngineEvent = { type: 'command', at: T0 + 2 * MIN, actor: ANA, command: { kind: 'ack-incident' } };
    const r = run([p1, declare, ack]);
    expect(r.state.incidents.map((i) => [i.id, i.severity, i.ackedAt !== undefined])).toEqual([
      ['INC-1', 'P1', false],
      ['INC-2', 'P0', true],
    ]);
    const unsure = run([p1, declare, { type: 'command', at: T0 + 3 * MIN, actor: ANA, command: { kind: 'resolve-incident' } }]);
    expect(unsure.state.incidents.every((i) => i.resolvedAt === undefined)).toBe(true);
    expect(unsure.state.history.at(-1)!.text).toContain('2 incidents are open (INC-2, INC-1); say which');
    const done = run([p1, declare, { type: 'command', at: T0 + 3 * MIN, actor: ANA, command: { kind: 'resolve-incident', id: 'INC-1' } }, tick(200)]);
    expect(done.state.incidents[0]!.resolvedBy).toBe('Ana Ortiz');
    // the resolved P1 pages nobody after being resolved (its 30m and 1h steps never come)
    expect(notifies(done.effects).filter((e) => e.kind === 'escalation' && e.incident === 'INC-1')).toHaveLength(1);
  });

  it('canary status names open incidents and their clocks', () => {
    const r = run([declare, tick(16)]);
    const text = statusText(plan, r.state, { json: false });
    expect(text).toContain('Incident:   INC-1 P0 open 16m: checkout API returns 503 (next page in 14m: ceo, customer-success-vp)');
    const json = JSON.parse(statusText(plan, r.state, { json: true })) as { incidents: { id: string; next: { inMs: number } }[] };
    expect(json.incidents).toEqual([expect.objectContaining({ id: 'INC-1', severity: 'P0', ackedBy: null, next: { roles: ['ceo', 'customer-success-vp'], inMs: 14 * MIN } })]);
  });

  it('a declaration without a summary is refused with a reason', () => {
    const r = run([{ type: 'command', at: T0, actor: ANA, command: { kind: 'declare-incident', severity: 'P2', summary: '   ' } }]);
    expect(r.state.incidents).toHaveLength(0);
    expect(r.state.history.at(-1)!.text).toContain('refused - no summary');
  });

  it('pages each step exactly once, and the same events replay to the same state', () => {
    const events = [declare, ...Array.from({ length: 90 }, (_x, i) => tick(i * 0.5))];
    const a = run(events);
    const b = run(events);
    expect(notifies(a.effects).filter((e) => e.kind === 'escalation')).toHaveLength(3);
    expect(JSON.stringify(a.state, (_k, v) => (v instanceof Map ? [...v] : v))).toBe(JSON.stringify(b.state, (_k, v) => (v instanceof Map ? [...v] : v)));
  });

  it('P2 waits for the next business day for its last step', () => {
    const fri = Date.parse('2026-12-04T16:00:00Z');
    const r = run([{ type: 'command', at: fri, actor: ANA, command: { kind: 'declare-incident', severity: 'P2', summary: 'export button misaligned' } }], fri);
    expect(r.state.incidents[0]!.steps.map((s) => new Date(s.dueAt).toISOString())).toEqual([
      '2026-12-04T16:00:00.000Z',
      '2026-12-04T18:00:00.000Z',
      '2026-12-07T14:00:00.000Z', // 09:00 New York, the plan's zone
    ]);
  });
});

describe('rollbacks and people', () => {
  it('an automatic rollback opens a P0 incident and pages its first step at once', () => {
    const d = new Driver(plan);
    d.canary = (s) => (s.desiredWeight >= 5 ? { ...HEALTHY, error_rate: 2.5 } : HEALTHY);
    d.runFor(10 * 24 * HOUR, (s) => s.status === 'rolled-back');
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.incidents).toHaveLength(1);
    const inc = d.state.incidents[0]!;
    expect(inc).toMatchObject({ severity: 'P0', cause: 'rollback', rule: 'error_rate_threshold', openedBy: 'canary', openedAt: d.state.rollback!.at });
    expect(inc.steps[0]!.pagedAt).toBe(d.state.rollback!.at);
    const at = d.state.rollback!.at;
    const paging = notifies(d.effects).filter((e) => e.kind === 'escalation');
    expect(paging).toHaveLength(1);
    expect(paging[0]!.recipients!.map((r) => r.role)).toEqual(['sre-primary', 'eng-lead']);
    // The clock keeps running after the rollback: 15 minutes later the product lead and CTO.
    d.send({ type: 'tick', at: at + 15 * MIN });
    expect(notifies(d.effects).filter((e) => e.kind === 'escalation')).toHaveLength(2);
    // No reminder to notify: the engine rolled back, not a person.
    expect(d.state.comms.items.filter((i) => i.kind === 'rollback-notice')).toHaveLength(0);
  });

  it('a P0 customer escalation (immediate rollback) opens a P0 incident', () => {
    const d = new Driver(plan);
    d.runFor(2 * HOUR, (s) => s.status === 'running' && s.appliedWeight === 1);
    d.send({ type: 'signal', at: d.now, actor: ANA, name: 'customer_escalation', severity: 'P0', note: 'ACME cannot log in' });
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.incidents[0]).toMatchObject({ severity: 'P0', rule: 'customer_escalation' });
  });

  it('an SRE who rolls back by hand gets a 15-minute reminder, met when a channel delivers the notice', () => {
    const d = new Driver(plan);
    d.runFor(2 * HOUR, (s) => s.status === 'running' && s.appliedWeight === 1);
    const effects = d.send({ type: 'command', at: d.now, actor: ANA, command: { kind: 'rollback', reason: 'odd logs' } });
    const item = d.state.comms.items.find((i) => i.kind === 'rollback-notice')!;
    expect(item.deadline! - item.dueAt).toBe(15 * MIN);
    expect(item.doneAt).toBeUndefined();
    expect(d.state.incidents).toHaveLength(0); // a manual rollback opens no incident by itself
    const notice = notifies(effects).find((e) => e.kind === 'rollback')!;
    // a failed delivery does not meet it, and is counted
    d.send({ type: 'notify.result', at: d.now + MIN, effectId: notice.id, channel: 'slack-eng', ok: false, detail: 'HTTP 500 after 4 attempts', attempts: 4 });
    expect(d.state.comms.items.find((i) => i.kind === 'rollback-notice')!.doneAt).toBeUndefined();
    expect(d.state.notifications.failed).toBe(1);
    d.send({ type: 'notify.result', at: d.now + 2 * MIN, effectId: notice.id, channel: 'pager', ok: true, detail: 'HTTP 200', attempts: 1 });
    expect(d.state.comms.items.find((i) => i.kind === 'rollback-notice')!.doneHow).toBe('delivered to pager');
  });
});

describe('communications', () => {
  it('the schedule runs from the rollout start: T-24h and T-0 at once, T+6h six hours in, each once', () => {
    const d = new Driver(plan);
    d.runFor(30 * MIN, (s) => s.startedAt !== null);
    const start = d.state.startedAt!;
    expect(d.state.comms.items.map((i) => [i.label, i.dueAt - start])).toEqual([
      // issue 16: before the start canary has no date; T-24h comes due with the start, not a day late.
      ['T-24h', 0],
      ['T-0', 0],
      ['T+6h', 6 * HOUR],
      ['T+24h', 24 * HOUR],
      ['T+72h', 72 * HOUR],
    ]);
    d.runFor(7 * HOUR);
    const due = notifies(d.effects).filter((e) => e.kind === 'communication');
    expect(due.map((e) => /due: (T[^ ]+)/.exec(e.message)![1])).toEqual(['T-24h', 'T-0', 'T+6h']);
    expect(due[0]!.message).not.toContain('was due');
  });

  it('templates render with the current phase, dates, weight and dashboard link', () => {
    const d = new Driver(plan);
    d.runFor(3 * 24 * HOUR, (s) => s.phaseIndex === 1 && s.appliedWeight === 5);
    d.runFor(2 * HOUR);
    const v = templateValues(plan, d.state);
    expect(v.phase).toBe(plan.phases[1]!.title);
    expect(v.weight).toBe('5%');
    const customer = renderTemplate(plan, 'customer-canary-update', v);
    expect(customer.subject).toBe('Maestro Conductor vNext - Canary Deployment Update');
    expect(customer.body).toContain('Dear [Customer Name],');
    expect(customer.body).toContain('**Monitoring Dashboard:** https://status.maestro-conductor.com/canary');
    expect(customer.body).toMatch(/\*\*Expected Timeline:\*\* Canary 5%: early adopters: \w{3} \d+ Dec 2026 \d\d:\d\d GMT-5 to \w{3} \d+ Dec 2026 \d\d:\d\d GMT-5 \(3d minimum bake\); then Canary 25%/);
    expect(customer.body).not.toContain('{{');
    const all = renderAll(plan, d.state);
    expect(all.map((r) => r.name)).toEqual(['customer-canary-update', 'deployment-confirmation', 'health-check', 'daily-status', 'phase-summary']);
    expect(all.find((r) => r.name === 'health-check')!.body).toContain('running, 5% of traffic');
  });

  it('an unknown placeholder fails clearly: at load with file:line, at render with the template and the name', () => {
    const text = readFileSync(PLAN_PATH, 'utf8').replace('**Expected Timeline:** {{timeline}}', '**Expected Timeline:** {{timline}}');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    const msg = r.ok ? '' : r.errors.map(formatPlanError).join('\n');
    expect(msg).toMatch(/plan\.yaml:\d+:\d+: .*template "customer-canary-update" body line 12: unknown placeholder \{\{timline\}\}/);
    const bad = withRoster((raw) => {
      raw.communications.templates.x = { subject: 'hi {{nope}}', body: '' };
    });
    let err: unknown;
    try {
      renderTemplate(bad, 'x', templateValues(bad, initialState(bad, T0)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('template "x" subject line 1: unknown placeholder {{nope}}');
  });
});
