// Who may move traffic, and when (engine rules 3): approvals only for the next gate, deploy steps
// only for the next gate's phase and only once that gate could open, by someone with rollout
// authority; a checklist item with an automated check ticked by hand only over a failed check,
// with a note, by someone with authority; the simulated crew under the same rules; and journals
// written under rules 2 replaying as they ran.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initialState, reduce } from '../src/engine/reduce.js';
import { runbookPlan } from '../src/engine/runbook.js';
import { describeAdvanceFor } from '../src/engine/authority.js';
import type { Actor, Effect, EngineEvent } from '../src/engine/types.js';
import { entryHash, JournalWriter, readJournal, replayJournal } from '../src/journal/journal.js';
import { Driver, HOUR, MIN, T0, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const FEMI: Actor = { id: 'femi', name: 'Femi Adeyemi', roles: ['customer-success'] };
const JON: Actor = { id: 'jon', name: 'Jon Weller', roles: ['cto'] };
const ANA: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };
const CHLOE: Actor = { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-lead'] };
const VIEWER: Actor = { id: 'viewer-1', name: 'viewer 1', roles: [], viewer: true };
const PROM = runbookPlan(plan).items.find((i) => i.text.startsWith('Prometheus targets'))!.key; // monitoring#1
const runs = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'run-command' }> => e.type === 'run-command');
const cmd = (d: Driver, command: Extract<EngineEvent, { type: 'command' }>['command'], actor: Actor) => d.send({ type: 'command', at: d.now, actor, command });
const last = (d: Driver) => d.state.history.at(-1)!;
const tmp = mkdtempSync(join(tmpdir(), 'canary-authority-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('approvals: only the next gate', () => {
  it('at 0% an approval for the 25% or 100% gate is refused and says which gate is next; the first gate takes one', () => {
    const d = new Driver(plan, { crew: false });
    d.send({ type: 'approve', at: d.now, actor: JON, phase: 'full', role: 'cto' });
    expect(last(d)).toMatchObject({ kind: 'refused', text: 'Jon Weller approved Full rollout: 100% production as cto: refused - only the next gate can be approved: Canary 1%: internal validation (an approval counts for the gate it was given at, not one days ahead)' });
    d.send({ type: 'approve', at: d.now, actor: { id: 'hiro', name: 'Hiro Tanaka', roles: ['vp-engineering'] }, phase: 'canary-25', role: 'vp-engineering' });
    expect(last(d).kind).toBe('refused');
    expect(d.state.approvals).toEqual({});
    d.send({ type: 'approve', at: d.now, actor: { id: 'dev', name: 'Dev Raman', roles: ['eng-lead'] }, phase: 'canary-1', role: 'eng-lead' });
    expect(d.state.approvals['canary-1']).toMatchObject([{ role: 'eng-lead', by: 'Dev Raman' }]);
  });

  it('at 1% the 5% gate is next (whatever steps remain), the 25% gate is not; in the last phase none is', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    expect(d.state.desiredWeight).toBe(1);
    d.approve('canary-25', 'vp-product', 'Isla Moreau');
    expect(last(d).text).toContain('refused - only the next gate can be approved: Canary 5%: early adopters');
    d.approve('canary-5', 'product-lead', 'Emma Brandt');
    expect(d.state.approvals['canary-5']).toHaveLength(1);
    // In the last phase no gate is ahead.
    const s = { ...d.state, phaseIndex: 3, stepIndex: 0 };
    const r = reduce(plan, s, { type: 'approve', at: d.now, actor: JON, phase: 'full', role: 'cto' });
    expect(r.state.history.at(-1)!.text).toContain('refused - no gate is ahead (the rollout is in its last phase)');
  });
});

describe('deploy steps: the next gate, when it could open, by rollout authority', () => {
  it("Femi (customer success) at 0%: the 100% phase's deploy is refused, the first gate's too (not her authority, approvals missing); a viewer never", () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    expect(runs(cmd(d, { kind: 'run-deploy', phase: 'full' }, FEMI))).toEqual([]);
    expect(last(d)).toMatchObject({ kind: 'refused', text: 'Femi Adeyemi asked to deploy full: refused - Full rollout: 100% production: only the next gate\'s phase can be deployed (Canary 1%: internal validation)' });
    expect(runs(cmd(d, { kind: 'run-deploy' }, FEMI))).toEqual([]);
    expect(last(d).text).toMatch(/^Femi Adeyemi asked to deploy canary-1: refused - Femi Adeyemi holds none of the roles with rollout authority here: Engineering Lead, SRE Lead, SRE, Product Manager, CTO .*; approval from Engineering Lead missing; approval from SRE Lead missing; checklist "Pre-deployment: Infrastructure Readiness": 6 of 6 not ticked/);
    expect(runs(cmd(d, { kind: 'run-deploy' }, VIEWER))).toEqual([]);
    expect(last(d).text).toContain('a viewer cannot act');
  });

  it('an SRE deploys the first gate once its approvals and checklist are in; a step of the next phase is refused while the 1% bake runs', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    const helm = runs(cmd(d, { kind: 'run-deploy' }, ANA));
    expect(helm.map((e) => [e.key, e.env.WEIGHT])).toEqual([['deploy:canary-1:0', '1']]);
    d.command('advance');
    d.runFor(2 * HOUR);
    expect(runs(cmd(d, { kind: 'run-deploy' }, ANA))).toEqual([]);
    expect(last(d).text).toMatch(/^Ana Ortiz asked to deploy canary-5: refused - bake 2h of minimum 1d \(22h left\); approval from Product Manager missing/);
    expect(runs(cmd(d, { kind: 'run-deploy', phase: 'canary-1' }, ANA))).toEqual([]);
    expect(last(d).text).toContain("only the next gate's phase can be deployed (Canary 5%: early adopters)");
  });
});

describe('advance and stop: rollout authority', () => {
  it('an open gate is opened by someone with rollout authority there, not by any joined person; the dialog says so and offers no y', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    expect(describeAdvanceFor(plan, d.state, FEMI)).toMatchObject({ allowed: false });
    expect(describeAdvanceFor(plan, d.state, FEMI).lines.at(-1)).toMatch(/^Blocked: Femi Adeyemi holds none of the roles with rollout authority here/);
    expect(describeAdvanceFor(plan, d.state, ANA)).toMatchObject({ allowed: true });
    cmd(d, { kind: 'advance' }, FEMI);
    expect(last(d).text).toMatch(/^Femi Adeyemi asked to advance: refused - Femi Adeyemi holds none of the roles with rollout authority here/);
    expect(d.state.desiredWeight).toBe(0);
    cmd(d, { kind: 'advance' }, ANA);
    expect(d.state.desiredWeight).toBe(1);
  });

  it("a running command is stopped by the person who started it or by the rollback authority, not by anyone else", () => {
    const d = new Driver(plan, { crew: false, checklist: false });
    // reduced by hand: the driver would answer the check at once
    const started = reduce(plan, d.state, { type: 'command', at: d.now, actor: ANA, command: { kind: 'run-check', item: PROM } });
    const run = started.state.runbook.runs.at(-1)!;
    expect(run.status).toBe('running');
    const stop = (actor: Actor) => reduce(plan, started.state, { type: 'command', at: d.now, actor, command: { kind: 'stop-command', runId: run.id } });
    const byFemi = stop(FEMI);
    expect(byFemi.effects.filter((e) => e.type === 'stop-command')).toEqual([]);
    expect(byFemi.state.history.at(-1)!.text).toMatch(/^Femi Adeyemi asked to stop ".*": refused - Ana Ortiz started it; only they or the plan's rollback authority \(.*\) may stop it$/);
    expect(stop(CHLOE).effects.filter((e) => e.type === 'stop-command')).toHaveLength(1);
    expect(stop(ANA).effects.filter((e) => e.type === 'stop-command')).toHaveLength(1);
  });
});

describe('checklist items with an automated check', () => {
  it('cannot be ticked by hand before the check ran, while it runs, or without a note after it failed; the override needs authority and is said', () => {
    const d = new Driver(plan, { crew: false, checklist: false });
    cmd(d, { kind: 'tick-item', item: PROM, note: 'looks fine' }, FEMI);
    expect(last(d)).toMatchObject({ kind: 'refused' });
    expect(last(d).text).toContain('it has an automated check (query: Prometheus targets configured for all s…) that has not run: run it (c), or tick it by hand with a note once it failed');
    expect(d.state.runbook.ticks[PROM]).toBeUndefined();
    // An item without a check: anyone who may act ticks it, as before.
    cmd(d, { kind: 'tick-item', item: 'infrastructure#1' }, FEMI);
    expect(d.state.runbook.ticks['infrastructure#1']).toMatchObject({ by: 'Femi Adeyemi' });
    cmd(d, { kind: 'tick-item', item: 'infrastructure#2' }, VIEWER);
    expect(d.state.runbook.ticks['infrastructure#2']).toBeUndefined();

    // The check still running: wait for its answer.
    d.confirm = false;
    cmd(d, { kind: 'run-check', item: PROM }, ANA);
    const running = d.state.runbook.runs.at(-1)!;
    cmd(d, { kind: 'tick-item', item: PROM, note: 'it did not answer' }, CHLOE);
    expect(last(d).text).toContain('is running: wait for its answer');
    d.send({ type: 'command.result', at: d.now + MIN, runId: running.id, ok: false, exitCode: 127, detail: 'exited 127' });
    d.confirm = true;

    cmd(d, { kind: 'tick-item', item: PROM }, CHLOE);
    expect(last(d).text).toContain('its check failed (exited 127): ticking it by hand overrides the check, and needs a note saying why');
    cmd(d, { kind: 'tick-item', item: PROM, note: 'targets are up in the UI' }, FEMI);
    expect(last(d).text).toContain('Femi Adeyemi holds none of the roles with rollout authority here');
    expect(d.state.runbook.ticks[PROM]).toBeUndefined();
    cmd(d, { kind: 'tick-item', item: PROM, note: 'targets are up in the UI; the check script is missing (127)' }, CHLOE);
    expect(d.state.runbook.ticks[PROM]).toMatchObject({ by: 'Chloe Lindqvist', how: 'person', detail: 'targets are up in the UI; the check script is missing (127)' });
    expect(last(d)).toMatchObject({ kind: 'approval', text: 'Chloe Lindqvist ticked Pre-deployment: Monitoring & Observability: Prometheus targets configured for all services by hand, OVERRIDING its check (failed: exited 127) (targets are up in the UI; the check script is missing (127))' });
  });

  it('the simulated crew waits for a running check, and overrides a failed one only visibly, with a note', () => {
    const d = new Driver(plan, { crew: { tickEveryMs: MIN }, checklist: false });
    d.commands = (e) => (e.key === `check:${PROM}` ? { ok: false, exitCode: 127, detail: 'exited 127', lines: ['sh: ./sim/check-prometheus-targets.sh: not found'] } : { ok: true, exitCode: 0, detail: 'exited 0' });
    d.runFor(3 * HOUR, (s) => s.runbook.ticks[PROM] !== undefined);
    expect(d.state.runbook.ticks[PROM]).toMatchObject({ how: 'person', detail: 'checked by hand after its check failed (exited 127)' });
    expect(d.state.history.some((h) => h.kind === 'approval' && /\(simulated\) ticked .*Prometheus targets configured for all services by hand, OVERRIDING its check \(failed: exited 127\)/.test(h.text))).toBe(true);
  });
});

describe('the simulated crew under rules 3', () => {
  it('takes the healthy plan to 100%: none of its approvals, ticks or commands is refused', () => {
    const d = new Driver(plan);
    d.runFor(20 * 24 * HOUR, (s) => s.status === 'completed');
    expect(d.state.status).toBe('completed');
    const refused = d.state.history.filter((h) => h.kind === 'refused');
    expect(refused.map((h) => h.text)).toEqual([]);
    for (const [phase, given] of Object.entries(d.state.approvals)) expect(given.length, phase).toBeGreaterThan(0);
  });
});

describe('a journal written under rules 2 replays as it ran', () => {
  it('an approval for a later gate, a deploy at 0% and a hand tick over an unrun check stay accepted; under rules 3 the same entries are refused', () => {
    const file = join(tmp, 'rules2.jsonl');
    const planText = readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8');
    const w = JournalWriter.openSync(file, { plan, planText, start: T0, flushEveryMs: 0 });
    let state = initialState(plan, T0);
    const events: EngineEvent[] = [
      { type: 'approve', at: T0 + 1000, actor: JON, phase: 'full', role: 'cto' },
      { type: 'command', at: T0 + 2000, actor: FEMI, command: { kind: 'run-deploy', phase: 'full' } },
      { type: 'command', at: T0 + 3000, actor: FEMI, command: { kind: 'tick-item', item: PROM, note: 'looks fine' } },
    ];
    for (const e of events) {
      const r = reduce(plan, state, e);
      state = r.state;
      w.append(e, state, r.effects);
    }
    w.close();
    // As written by a canary before rules 3: the header says rules 2, the chain made whole again.
    let prev = '0'.repeat(64);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => {
      const e = JSON.parse(l) as { seq: number; at: number; actor: string; event: Record<string, unknown>; prev: string; hash: string };
      if (e.seq === 0) e.event.rules = 2;
      e.prev = prev;
      e.hash = entryHash(prev, e);
      prev = e.hash;
      return JSON.stringify(e);
    });
    const old = join(tmp, 'old.jsonl');
    writeFileSync(old, `${lines.join('\n')}\n`);
    const r = replayJournal(plan, readJournal(old));
    expect(r.problems).toEqual([]);
    expect(r.state.rules).toBe(2);
    expect(r.state.approvals.full).toMatchObject([{ role: 'cto', by: 'Jon Weller' }]);
    expect(r.state.runbook.runs.map((x) => x.key)).toEqual(['deploy:full:0']);
    expect(r.state.runbook.ticks[PROM]).toMatchObject({ by: 'Femi Adeyemi' });
    expect(r.state.history.filter((h) => h.kind === 'refused')).toEqual([]);

    // The journal as this canary wrote it (rules 3): every one of them refused.
    const now = replayJournal(plan, readJournal(file));
    expect(now.state.rules).toBe(3);
    expect(now.state.approvals).toEqual({});
    expect(now.state.runbook.runs).toEqual([]);
    expect(now.state.runbook.ticks[PROM]).toBeUndefined();
    expect(now.state.history.filter((h) => h.kind === 'refused')).toHaveLength(3);
  });
});
