// Issue 16 in the pure engine: what an on-call engineer must be able to trust. Incident kinds
// that roll back at once, refusals that say so, simulated people marked as simulated, no false
// OVERDUE when the minimum bake equals the maximum, and communication dates taken from facts.
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compiled.js';
import { renderTemplate, templateValues } from '../src/engine/comms.js';
import { incidentKinds } from '../src/engine/people.js';
import type { Actor, EngineEvent } from '../src/engine/types.js';
import { Driver, HOUR, MIN, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const ANA: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary', 'sre-secondary'] };
const FEMI: Actor = { id: 'femi', name: 'Femi Adeyemi', roles: ['customer-success'] };

/** The seed plan at 1%, running, with the crew's approvals in. */
function atOnePercent(): Driver {
  const d = new Driver(plan, { crew: { approveAfterMs: 0, advanceAfterMs: 0, goAfterMs: 0 } });
  d.runFor(2 * HOUR, (s) => s.status === 'running' && s.appliedWeight === 1);
  expect(d.state.status).toBe('running');
  d.crew = null;
  return d;
}

function declare(d: Driver, actor: Actor, severity: 'P0' | 'P1' | 'P2', summary: string, incidentKind?: string) {
  const e: EngineEvent = { type: 'command', at: d.now + 1000, actor, command: { kind: 'declare-incident', severity, summary, ...(incidentKind ? { incidentKind } : {}) } };
  return d.send(e);
}

describe('issue 16 item 1: an incident declaration carries its kind; immediate kinds roll back at once', () => {
  it("the plan's kinds: the immediate rules a person can witness (not the measured 'unavailable for 5 minutes'), then other", () => {
    const kinds = incidentKinds(compile(plan));
    expect(kinds.map((k) => [k.id, k.immediate, k.severity])).toEqual([
      ['security_breach', true, 'P0'],
      ['data_corruption', true, 'P0'],
      ['customer_escalation', true, 'P0'],
      ['other', false, undefined],
    ]);
  });

  for (const [kind, title] of [
    ['security_breach', 'Security breach'],
    ['data_corruption', 'Data corruption'],
    ['customer_escalation', 'P0 customer escalation'],
  ] as const) {
    it(`declaring ${kind} rolls back in the same event, with the person, the kind and the summary in the reason; one incident`, () => {
      const d = atOnePercent();
      const effects = declare(d, ANA, 'P1', 'ACME reports cross-tenant data', kind);
      expect(d.state.status).toBe('rolled-back');
      const rb = effects.find((e) => e.type === 'rollback');
      expect(rb).toBeDefined();
      expect(d.state.rollback!.reason).toBe(`immediate rollback: ${title} (${kind}): INC-1 P0 declared by Ana Ortiz - ACME reports cross-tenant data`);
      expect(d.state.rollback!.by).toBe('Ana Ortiz');
      expect(d.state.rollback!.trigger).toMatchObject({ rule: kind, group: 'immediate' });
      // the declared incident is the one: P0 whatever was picked, opened by the person, not a second one by canary
      expect(d.state.incidents).toHaveLength(1);
      expect(d.state.incidents[0]).toMatchObject({ id: 'INC-1', severity: 'P0', openedBy: 'Ana Ortiz', cause: 'declared', kind });
      expect(d.state.history.some((h) => h.kind === 'rollback' && h.text.includes('declared by Ana Ortiz'))).toBe(true);
      // the P0 ladder pages at once
      expect(d.state.incidents[0]!.steps[0]!.pagedAt).toBe(d.now);
    });
  }

  it('an ordinary P0 (kind other, or none) opens the incident and leaves traffic where it is', () => {
    const d = atOnePercent();
    declare(d, ANA, 'P0', 'dashboards slow', 'other');
    declare(d, ANA, 'P0', 'search slow');
    expect(d.state.status).toBe('running');
    expect(d.state.incidents.map((i) => i.severity)).toEqual(['P0', 'P0']);
  });

  it('anyone who may act can declare one (the rule rolls back, as the seed says); a viewer cannot', () => {
    const d = atOnePercent();
    declare(d, { ...FEMI, viewer: true }, 'P0', 'big customer furious', 'customer_escalation');
    expect(d.state.status).toBe('running');
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused' });
    declare(d, FEMI, 'P0', 'big customer furious', 'customer_escalation');
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback!.reason).toContain('declared by Femi Adeyemi - big customer furious');
  });

  it('an unknown kind is refused and says the kinds there are; nothing opens', () => {
    const d = atOnePercent();
    declare(d, ANA, 'P0', 'x', 'alien_invasion');
    expect(d.state.incidents).toHaveLength(0);
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused' });
    expect(d.state.history.at(-1)!.text).toContain('kinds: security_breach, data_corruption, customer_escalation, other');
  });

  it('before the rollout starts an immediate kind opens the incident and says there is nothing to roll back', () => {
    const d = new Driver(plan, { crew: false });
    declare(d, ANA, 'P0', 'leak in staging', 'security_breach');
    expect(d.state.status).toBe('pending');
    expect(d.state.incidents).toHaveLength(1);
    expect(d.state.history.some((h) => h.kind === 'refused' && /INC-1 Security breach declared by Ana Ortiz: rollback refused - /.test(h.text))).toBe(true);
  });

  it('the signal path (headless, the war room) rolls back for a witnessed security breach too', () => {
    const d = atOnePercent();
    d.send({ type: 'signal', at: d.now + 1000, actor: ANA, name: 'security_breach', note: 'token in logs' });
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback!.reason).toContain('Security breach (security_breach)');
  });
});

describe('issue 16 item 8: a refusal says what was refused and why, and is marked as one', () => {
  it('a go with nothing waiting, an acknowledge with no incident, a pause when not running', () => {
    const d = atOnePercent();
    d.command('ack-checkpoint', 'Ben Okafor');
    expect(d.state.history.at(-1)).toEqual({ at: d.now, kind: 'refused', text: 'Ben Okafor asked to give a go: refused - no checkpoint is waiting' });
    d.send({ type: 'command', at: d.now, actor: ANA, command: { kind: 'ack-incident' } });
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused', text: 'Ana Ortiz asked to acknowledge: refused - no open incident is waiting for an acknowledgment' });
    d.command('resume');
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused', text: 'Ana Ortiz asked to resume: refused - the rollout is running' });
    // what was done is not a refusal
    d.command('pause');
    expect(d.state.history.at(-1)!.kind).toBe('command');
  });
});

describe('issue 16 item 9: the simulated crew is marked as simulated', () => {
  it('every approval, checklist tick, check, go and gate the crew gives says (simulated), in the history and in the state', () => {
    // The crew ticks the pre-deployment checklist itself (runs the checks the plan gives).
    const d = new Driver(plan, { checklist: false });
    d.runFor(30 * HOUR, (s) => s.phaseIndex === 1);
    const crewLines = d.state.history.filter((h) => h.kind === 'approval' || (h.kind === 'command' && h.text.includes(' ran check ')) || (h.kind === 'checkpoint' && h.text.includes('gave GO')) || (h.kind === 'phase' && h.text.includes('opened the gate')));
    // 18 items: 17 ticked by hand, the Prometheus-targets item by its query.
    expect(crewLines.filter((h) => h.text.includes(' ticked '))).toHaveLength(17);
    expect(crewLines.filter((h) => h.text.includes(' ran check '))).toHaveLength(1);
    expect(crewLines.length).toBeGreaterThan(5);
    for (const h of crewLines) expect(h.text).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+ \(simulated\) /);
    for (const a of Object.values(d.state.approvals).flat()) expect(a.by).toMatch(/\(simulated\)$/);
    for (const c of Object.values(d.state.checkpoints).flat()) if (c.ackedBy) expect(c.ackedBy).toMatch(/\(simulated\)$/);
    for (const t of Object.values(d.state.runbook.ticks)) expect(t.by).toMatch(t.how === 'check' ? /^check \(/ : /\(simulated\)$/);
    for (const r of d.state.runbook.runs) if (r.purpose === 'check') expect(r.by).toMatch(/\(simulated\)$/);
    // the events themselves carry it, so a journal and a replay keep it
    expect(d.events.filter((e) => 'actor' in e && e.actor.simulated).length).toBe(crewLines.length);
  });

  it('a person at the keyboard is never marked', () => {
    const d = atOnePercent();
    d.command('pause', 'Ben Okafor');
    expect(d.state.history.at(-1)!.text).toBe('Ben Okafor paused the rollout (bake clock stopped; safety rules still watch)');
  });
});

describe('issue 16 item 16: minimum bake equal to maximum is not OVERDUE while a person has not had the chance to act', () => {
  it('a healthy run through 5% and 25% (72h/72h, 96h/96h) logs no OVERDUE', () => {
    const d = new Driver(plan);
    d.runFor(12 * 24 * HOUR, (s) => s.phaseIndex === 3);
    expect(d.state.phaseIndex).toBe(3);
    expect(d.state.history.filter((h) => h.text.includes('OVERDUE'))).toEqual([]);
  });

  it('an open gate past its maximum that nobody acts on for an hour is OVERDUE, once', () => {
    const d = new Driver(plan, { crew: { advanceAfterMs: 3 * HOUR } });
    d.runFor(6 * 24 * HOUR, (s) => s.phaseIndex === 2);
    const overdue = d.state.history.filter((h) => h.text.includes('OVERDUE'));
    expect(overdue).toHaveLength(1);
    expect(overdue[0]!.text).toContain('Canary 5%');
  });
});

describe('issue 16 item 13: communication dates come from facts', () => {
  it('after a rollback the timeline and "since" stay put as the clock moves; T-24h is not a day late at the start', () => {
    const d = atOnePercent();
    const start = d.state.startedAt!;
    const t24 = d.state.comms.items.find((i) => i.label === 'T-24h')!;
    expect(t24.dueAt).toBe(start);
    d.runFor(2 * HOUR);
    d.command('rollback');
    const rolledAt = d.now;
    const first = templateValues(plan, d.state);
    d.runFor(3 * HOUR);
    const later = templateValues(plan, d.state);
    expect(later.timeline).toBe(first.timeline);
    expect(later.phaseStart).toBe(first.phaseStart);
    expect(later.phaseEnd).toBe(first.phaseEnd);
    expect(later.timeline).toMatch(/rolled back$/);
    const daily = renderTemplate(plan, 'daily-status', later).body;
    expect(daily).toContain(`rolled-back since ${later.statusSince}`);
    expect(d.state.statusSince).toBe(rolledAt);
    expect(later.statusSince).not.toBe(later.rolloutStart);
    expect(d.now - rolledAt).toBeGreaterThan(2 * HOUR + 59 * MIN);
  });
});
