import { describe, expect, it } from 'vitest';
import { gateView, describeAdvance } from '../src/engine/gates.js';
import { Driver, HEALTHY, HOUR, MIN, T0, loadSeedPlan } from './helpers/drive.js';
import type { Effect } from '../src/engine/types.js';

const plan = loadSeedPlan();
const rollbacks = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'rollback' }> => e.type === 'rollback');
const weights = (effects: Effect[]) => effects.filter((e) => e.type === 'set-weight').map((e) => (e as { weight: number }).weight);

describe('engine: the whole seed plan in simulated time', () => {
  it('runs 1% -> 5% -> 25% -> 50/75/90/100% to completion with healthy SLIs', () => {
    const d = new Driver(plan);
    d.runFor(20 * 24 * HOUR, (s) => s.status === 'completed');
    expect(d.state.status).toBe('completed');
    expect(weights(d.effects)).toEqual([1, 5, 25, 50, 75, 90, 100]);
    expect(rollbacks(d.effects)).toHaveLength(0);
    expect(d.state.desiredWeight).toBe(100);
    expect(d.state.appliedWeight).toBe(100);

    // Each phase lasted at least its minimum bake and no longer than min + the crew's reaction time.
    const entered = (w: number) => d.state.history.find((h) => h.kind === 'phase' && h.text.includes(`-> ${w}%`))!.at;
    const span = (a: number, b: number) => (entered(b) - entered(a)) / HOUR;
    expect(span(1, 5)).toBeGreaterThanOrEqual(24);
    expect(span(1, 5)).toBeLessThanOrEqual(26);
    expect(span(5, 25)).toBeGreaterThanOrEqual(72);
    expect(span(25, 50)).toBeGreaterThanOrEqual(96);
    expect(span(50, 75)).toBeGreaterThanOrEqual(4);
    expect(span(50, 75)).toBeLessThan(4.1); // steps inside the full rollout proceed on their own
    expect(span(75, 90)).toBeGreaterThanOrEqual(4);
    const done = d.state.history.find((h) => h.text.startsWith('rollout completed'))!.at;
    expect((done - entered(100)) / HOUR).toBeGreaterThanOrEqual(7 * 24);
    // 24h + 72h + 96h + 3x4h + 7d is 372 h of bake; gates add the people's reaction time.
    expect((done - T0) / HOUR).toBeGreaterThan(372);
    expect((done - T0) / HOUR).toBeLessThan(380);
  });

  it('gives the same result every time (time only comes from events)', () => {
    const run = () => {
      const d = new Driver(plan);
      d.runFor(20 * 24 * HOUR, (s) => s.status === 'completed');
      return JSON.stringify(d.state);
    };
    expect(run()).toBe(run());
  });

  it('asks for the CTO at the 25% gate when it falls on a weekend, not on a weekday', () => {
    const d = new Driver(plan, { crew: false });
    const gateAt = (at: number) => {
      const s = { ...d.state, now: at, status: 'running' as const, phaseIndex: 1, stepIndex: 0 };
      return gateView(plan, s).approvals.map((a) => a.role);
    };
    expect(gateAt(Date.parse('2026-12-02T15:00:00Z'))).toEqual(['vp-engineering', 'vp-product']); // Wednesday
    expect(gateAt(Date.parse('2026-12-05T15:00:00Z'))).toEqual(['vp-engineering', 'vp-product', 'cto']); // Saturday
    expect(gateAt(Date.parse('2026-12-25T15:00:00Z'))).toContain('cto'); // plan holiday
  });
});

describe('engine: automatic rollback names the rule, the value and the threshold', () => {
  const regressAt25 = (values: Record<string, number>) => {
    const d = new Driver(plan);
    d.canary = (s) => (s.desiredWeight >= 25 ? { ...HEALTHY, ...values } : HEALTHY);
    d.runFor(20 * 24 * HOUR, (s) => s.status === 'rolled-back' || s.status === 'completed');
    return d;
  };

  it('p95 1200 ms at 25% trips latency_p95_threshold (>= 1000 ms) and rolls back from 25%', () => {
    const d = regressAt25({ latency_p95: 1200 });
    expect(d.state.status).toBe('rolled-back');
    const rb = rollbacks(d.effects);
    expect(rb).toHaveLength(1);
    expect(rb[0]!.fromWeight).toBe(25);
    expect(rb[0]!.trigger?.rule).toBe('latency_p95_threshold');
    expect(rb[0]!.reason).toContain('1200ms >= 1000ms');
    expect(rb[0]!.reason).toContain('p95 latency threshold');
    expect(rb[0]!.trigger).toMatchObject({ canary: 1200, threshold: 1000, op: '>=', sli: 'latency_p95', window: '5m' });
    expect(rb[0]!.trigger?.query).toContain('histogram_quantile(0.95');
    expect(rb[0]!.regions).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
    expect(d.state.desiredWeight).toBe(0);
    expect(d.state.appliedWeight).toBe(0);
    // It happened on the first sample at 25%, not after a delay.
    const at25 = d.state.history.find((h) => h.text.includes('-> 25%'))!.at;
    expect(d.state.rollback!.at - at25).toBeLessThanOrEqual(MIN);
  });

  it('p95 700 ms (under 1000 ms, over 3x baseline 220 ms) trips the latency_degradation circuit breaker', () => {
    const d = regressAt25({ latency_p95: 700 });
    expect(rollbacks(d.effects)[0]!.trigger).toMatchObject({ rule: 'latency_degradation', group: 'circuit-breaker', canary: 700, baseline: 220, threshold: 660 });
    expect(d.state.rollback!.reason).toContain('3x baseline 220ms = 660ms');
  });

  it('error rate 0.6% (5x baseline 0.03% is 0.15%, floor 0.1%) trips error_rate_spike', () => {
    const d = regressAt25({ error_rate: 0.6 });
    expect(rollbacks(d.effects)[0]!.trigger).toMatchObject({ rule: 'error_rate_spike', canary: 0.6, threshold: 0.15 });
  });

  it('error rate 1.5% trips the automatic error_rate_threshold (1.0%)', () => {
    const d = regressAt25({ error_rate: 1.5 });
    expect(rollbacks(d.effects)[0]!.trigger).toMatchObject({ rule: 'error_rate_threshold', threshold: 1 });
    expect(d.state.rollback!.reason).toContain('1.5% >= 1%');
  });

  it('availability 99.2% trips availability_threshold (< 99.5%)', () => {
    const d = regressAt25({ availability: 99.2 });
    expect(rollbacks(d.effects)[0]!.trigger).toMatchObject({ rule: 'availability_threshold', canary: 99.2, threshold: 99.5 });
  });

  it('a data integrity failure trips the immediate data_corruption rule', () => {
    const d = regressAt25({ data_integrity_failures: 1 });
    expect(rollbacks(d.effects)[0]!.trigger).toMatchObject({ rule: 'data_corruption', group: 'immediate' });
  });

  it('3 customer complaints trip customer_complaints', () => {
    const d = regressAt25({ customer_complaints: 3 });
    expect(rollbacks(d.effects)[0]!.trigger?.rule).toBe('customer_complaints');
  });

  it('workflow success 99.3% (fails > 99.5%, below every trigger) rolls back after 10 consecutive failed analyses', () => {
    const d = regressAt25({ workflow_success_rate: 99.3 });
    const rb = rollbacks(d.effects)[0]!;
    expect(rb.trigger).toMatchObject({ rule: 'consecutive_failures', threshold: 10, canary: 10 });
    expect(rb.reason).toContain('workflow_success_rate 99.3');
    const at25 = d.state.history.find((h) => h.text.includes('-> 25%'))!.at;
    expect((d.state.rollback!.at - at25) / MIN).toBe(10);
  });

  it('a P0 customer escalation rolls back at once (immediate rule)', () => {
    const d = new Driver(plan);
    d.runFor(30 * HOUR);
    expect(d.state.status).toBe('running');
    d.send({ type: 'signal', at: d.now, actor: { id: 'femi', name: 'Femi Adeyemi' }, name: 'customer_escalation', severity: 'P0', note: 'ACME outage' });
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback!.trigger?.rule).toBe('customer_escalation');
    expect(d.state.rollback!.reason).toContain('ACME outage');
  });

  it('availability held at 0 is caught at once, and service_unavailable needs 5 minutes of it', () => {
    const d = new Driver(plan, { crew: false });
    const noThreshold = { ...plan, rollback: { ...plan.rollback, automatic: [], circuitBreakers: [] } };
    const d2 = new Driver(noThreshold, { crew: false });
    for (const drv of [d, d2]) {
      drv.observe();
      drv.approve('canary-1', 'eng-lead', 'Dev Raman');
      drv.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
      drv.command('advance');
      drv.canary = () => ({ ...HEALTHY, availability: 0 });
    }
    d.minute();
    expect(d.state.rollback?.trigger?.rule).toBe('availability_threshold');
    for (let i = 0; i < 5; i++) d2.minute();
    expect(d2.state.status).toBe('running');
    d2.minute();
    expect(d2.state.rollback?.trigger?.rule).toBe('service_unavailable');
    expect(d2.state.rollback?.reason).toContain('for 5m');
  });
});

describe('engine: gates, checkpoints, approvals', () => {
  const start = () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    return d;
  };

  it('does not start before the first gate has its approvals', () => {
    const d = new Driver(plan, { crew: false });
    d.command('advance');
    expect(d.state.status).toBe('pending');
    expect(d.effects).toHaveLength(0);
    expect(d.state.history.at(-1)!.text).toContain('approval from Engineering Lead missing');
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    expect(describeAdvance(plan, d.state).lines.join('\n')).toContain('✓ Engineering Lead (Dev Raman), ✗ SRE Lead');
  });

  it('one person cannot fill two roles, and a role the gate does not ask for is refused', () => {
    const d = new Driver(plan, { crew: false });
    d.approve('canary-1', 'eng-lead', 'Chloe Lindqvist');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.approve('canary-1', 'cto', 'Jon Weller');
    expect(d.state.approvals['canary-1']).toHaveLength(1);
    d.send({ type: 'approve', at: d.now, actor: { id: 'emma', name: 'Emma Brandt', roles: ['product-lead'] }, phase: 'canary-1', role: 'sre-lead' });
    expect(d.state.approvals['canary-1']).toHaveLength(1);
    expect(d.state.history.at(-1)!.text).toContain('not one of their roles');
  });

  it('checkpoints at hours 6, 12, 24 wait for a go, hour 48 is asked before the gate opens at 24 h; the gate stays shut until each is given', () => {
    const d = start();
    expect(d.state.desiredWeight).toBe(1);
    d.runFor(6 * HOUR);
    const cps = () => d.state.checkpoints['canary-1']!;
    expect(cps()[0]!.dueAt).toBeDefined();
    expect(d.effects.some((e) => e.type === 'notify' && e.message.includes('Basic functionality validation'))).toBe(true);
    for (const [role, who] of [['product-lead', 'Emma Brandt'], ['eng-lead', 'Dev Raman'], ['customer-success', 'Femi Adeyemi']] as const)
      d.approve('canary-5', role, who);
    d.runFor(20 * HOUR); // 26 h: past the 24 h minimum, checkpoints 6/12/24 due and unanswered
    // The hour-48 assessment is later than the 24 h minimum bake: it is asked now, before the gate.
    expect(cps().filter((c) => c.dueAt !== undefined).map((c) => c.at / HOUR)).toEqual([6, 12, 24, 48]);
    expect(d.state.history.some((h) => h.text.includes('checkpoint asked before the gate opens') && h.text.includes('Phase 2 readiness assessment'))).toBe(true);
    d.command('advance');
    expect(d.state.phaseIndex).toBe(0);
    expect(gateView(plan, d.state).blockers.filter((b) => b.includes('waits for a go'))).toHaveLength(4);
    d.command('ack-checkpoint', 'Ana Ortiz');
    d.command('ack-checkpoint', 'Ana Ortiz');
    d.command('ack-checkpoint', 'Ana Ortiz');
    expect(cps()[2]!.ackedBy).toBe('Ana Ortiz');
    expect(gateView(plan, d.state).allowed).toBe(false);
    d.command('ack-checkpoint', 'Ana Ortiz');
    expect(cps()[3]!.ackedBy).toBe('Ana Ortiz');
    expect(gateView(plan, d.state).allowed).toBe(true);
    d.command('advance');
    expect(d.state.phaseIndex).toBe(1);
    expect(d.state.desiredWeight).toBe(5);
  });

  it('bake time counts only once the traffic provider confirmed the weight, and not while paused', () => {
    const d = new Driver(plan, { crew: false });
    d.confirm = false;
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    const [setWeight] = d.command('advance');
    d.runFor(HOUR);
    expect(d.state.stepBakeMs).toBe(0);
    expect(d.state.holds.join()).toContain('waiting for the traffic provider');
    d.send({ type: 'effect.result', at: d.now, effectId: setWeight!.id, ok: true, detail: 'ok', weight: 1 });
    d.runFor(HOUR);
    expect(d.state.stepBakeMs).toBe(HOUR);
    d.command('pause');
    d.runFor(HOUR);
    expect(d.state.stepBakeMs).toBe(HOUR);
    expect(d.state.status).toBe('paused');
    d.command('resume');
    d.runFor(HOUR);
    expect(d.state.stepBakeMs).toBe(2 * HOUR);
  });

  it('safety rules keep watching while paused', () => {
    const d = start();
    d.runFor(HOUR);
    d.command('pause');
    d.canary = () => ({ ...HEALTHY, error_rate: 2 });
    d.minute();
    expect(d.state.status).toBe('rolled-back');
  });

  it('no data is never a pass: the gate holds and says so, and nothing rolls back', () => {
    const d = start();
    d.canary = () => ({ ...HEALTHY, availability: null, latency_p95: null, error_rate: null, workflow_success_rate: null });
    d.runFor(30 * HOUR);
    for (let i = 0; i < 4; i++) d.command('ack-checkpoint');
    expect(d.state.status).toBe('running');
    expect(d.state.criteria.filter((c) => c.verdict === 'no-data').map((c) => c.sli)).toEqual(['availability', 'latency_p95', 'error_rate', 'workflow_success_rate']);
    expect(d.state.holds.some((h) => h.startsWith('no data for availability'))).toBe(true);
    expect(gateView(plan, d.state).blockers).toContain('availability: no data (never counted as a pass)');
    expect(d.state.consecutiveFailures).toBe(0);
  });

  it('samples that stop coming turn into "no data" after noDataAfter, never a stale pass', () => {
    const d = start();
    d.runFor(HOUR);
    expect(d.state.criteria.every((c) => c.verdict === 'pass')).toBe(true);
    d.send({ type: 'tick', at: d.now + 11 * MIN });
    expect(d.state.criteria.find((c) => c.sli === 'availability')!.verdict).toBe('no-data');
  });

  it('a manual rollback works from any phase, and a rolled-back rollout stays so until a person restarts it', () => {
    const d = new Driver(plan);
    d.runFor(5 * 24 * HOUR, (s) => s.desiredWeight === 25);
    expect(d.state.desiredWeight).toBe(25);
    const eff = d.command('rollback', 'Ben Okafor');
    expect(rollbacks(eff)[0]).toMatchObject({ fromWeight: 25, reason: 'manual rollback by Ben Okafor' });
    d.runFor(3 * 24 * HOUR); // the crew signs the first gate again but never restarts on its own
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.desiredWeight).toBe(0);
    expect(gateView(plan, d.state).allowed).toBe(true);
    expect(describeAdvance(plan, d.state).title).toContain('Restart the rollout');
    d.command('advance', 'Ben Okafor');
    expect(d.state.status).toBe('running');
    expect(d.state.desiredWeight).toBe(1);
    expect(d.state.rollback).toBeNull();
  });
});

describe('engine: canary against baseline (Mann-Whitney judgment)', () => {
  const at5 = (canary: Record<string, number>) => {
    const d = new Driver(plan);
    d.runFor(5 * 24 * HOUR, (s) => s.desiredWeight === 5 && s.stepBakeMs > 2 * HOUR);
    expect(d.state.desiredWeight).toBe(5);
    d.canary = () => ({ ...HEALTHY, ...canary });
    return d;
  };

  it('a significant but tolerated drift (p95 +15%, allowed x1.2) still passes', () => {
    const d = at5({ latency_p95: 253 });
    d.runFor(2 * HOUR);
    expect(d.state.judgment?.verdict).toBe('pass');
    const m = d.state.judgment!.metrics.find((x) => x.name === 'latency_p95')!;
    expect(m.explanation).toContain('within the allowed increase x1.2');
  });

  it('p95 +32% (under every threshold) is High: the judgment is marginal, the gate holds and says why', () => {
    const d = at5({ latency_p95: 290 });
    d.runFor(2 * HOUR);
    const j = d.state.judgment!;
    expect(j.verdict).toBe('marginal');
    expect(j.score).toBe(75);
    expect(j.metrics.find((x) => x.name === 'latency_p95')!.explanation).toMatch(/canary median 290 vs baseline 220 \(x1\.3\d*\), shift \+70 \[\+70, \+70\] at 98%, p[=<].*High - fail \(lower is better\)/);
    expect(gateView(plan, d.state).blockers.join('\n')).toContain('canary judgment marginal (score 75)');
    expect(d.state.status).toBe('running');
  });

  it('error rate 3x baseline (0.09%, under the 0.1% criterion and the 5x breaker) fails the critical metric and rolls back after 10 failed judgments', () => {
    const d = at5({ error_rate: 0.09 });
    d.runFor(3 * HOUR, (s) => s.status === 'rolled-back');
    expect(d.state.status).toBe('rolled-back');
    const reason = d.state.rollback!.reason;
    expect(reason).toContain('consecutive_failures');
    expect(reason).toContain('critical metric failed: error_rate is High');
  });

  it('no data is inconclusive, never a pass', () => {
    const d = at5({ latency_p95: null as unknown as number, error_rate: null as unknown as number, availability: null as unknown as number, workflow_success_rate: null as unknown as number });
    d.runFor(2 * HOUR);
    expect(d.state.judgment?.verdict).toBe('inconclusive');
    expect(gateView(plan, d.state).allowed).toBe(false);
  });
});

describe('engine: decisions the plan expects from people', () => {
  const start = () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    return d;
  };

  it('past the maximum bake (48h at 1%) without moving on: one warning, and a hold that says decide', () => {
    const d = start();
    d.runFor(47 * HOUR);
    expect(d.state.overdueSince).toBeNull();
    d.runFor(2 * HOUR);
    expect(d.state.overdueSince).not.toBeNull();
    const warnings = d.effects.filter((e) => e.type === 'notify' && e.message.includes('maximum bake 2d passed'));
    expect(warnings).toHaveLength(1);
    expect(d.state.holds.some((h) => h.startsWith('overdue: maximum bake 2d passed'))).toBe(true);
    expect(d.state.checkpoints['canary-1']![3]!.dueAt).toBeDefined(); // hour 48: phase 2 readiness assessment
    d.runFor(5 * HOUR);
    expect(d.effects.filter((e) => e.type === 'notify' && e.message.includes('maximum bake 2d passed'))).toHaveLength(1);
  });

  it('an advance bound to a move that is no longer next is refused', () => {
    const d = start();
    d.runFor(30 * HOUR);
    for (let i = 0; i < 4; i++) d.command('ack-checkpoint');
    for (const [role, who] of [['product-lead', 'Emma Brandt'], ['eng-lead', 'Dev Raman'], ['customer-success', 'Femi Adeyemi']] as const) d.approve('canary-5', role, who);
    d.send({ type: 'command', at: d.now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance', target: { kind: 'phase', phase: 'canary-25', step: 0 } } });
    expect(d.state.desiredWeight).toBe(1);
    expect(d.state.history.at(-1)!.text).toContain('advance refused - the next move has changed');
    d.send({ type: 'command', at: d.now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance', target: { kind: 'phase', phase: 'canary-5', step: 0 } } });
    expect(d.state.desiredWeight).toBe(5);
  });

  it('a load test starts only if the plan declares it and only in its phase', () => {
    const d = start();
    d.runFor(HOUR);
    const ask = (name: string) => d.send({ type: 'command', at: d.now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'load-test', name } });
    expect(ask('not-in-plan')).toHaveLength(0);
    expect(d.state.history.at(-1)!.text).toContain('not declared in the plan');
    expect(ask('api-smoke')).toHaveLength(0);
    expect(d.state.history.at(-1)!.text).toContain('it may run in canary-5, canary-25, the rollout is in canary-1');
    const d25 = new Driver(plan);
    d25.runFor(6 * 24 * HOUR, (s) => s.desiredWeight === 25);
    const eff = d25.send({ type: 'command', at: d25.now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'load-test', name: 'api-smoke' } });
    expect(eff).toEqual([expect.objectContaining({ type: 'start-load-test', name: 'api-smoke' })]);
  });

  it('rollback reasons say which kind of rule: trigger, circuit breaker, immediate', () => {
    const run = (values: Record<string, number>) => {
      const d = new Driver(plan);
      d.canary = (s) => (s.desiredWeight >= 5 ? { ...HEALTHY, ...values } : HEALTHY);
      d.runFor(6 * 24 * HOUR, (s) => s.status === 'rolled-back');
      return d.state.rollback!.reason;
    };
    expect(run({ latency_p95: 1200 })).toMatch(/^automatic rollback trigger: /);
    expect(run({ latency_p95: 700 })).toMatch(/^circuit breaker: /);
    expect(run({ data_integrity_failures: 1 })).toMatch(/^immediate rollback: /);
  });
});
