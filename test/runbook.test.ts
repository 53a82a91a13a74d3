// The runbook in the plan and the engine: checklists blocking the 1% gate, deploy steps with the
// phase's values and a failure holding the gate, no-go holding (or rolling back), decision points
// asked before the gate opens, post-rollout validation gating "complete", rollback verification,
// feature flags, the pod being inspected; `validate` naming bad commands and unknown checklist
// references with file:line:col.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { formatPlanError, loadPlanText } from '../src/plan/loader.js';
import { runValidate } from '../src/plan/commands.js';
import { commandProblem } from '../src/plan/runbook.js';
import { describeAdvance, gateView } from '../src/engine/gates.js';
import { fillIn, runbookPlan } from '../src/engine/runbook.js';
import type { Actor, Effect, EngineEvent } from '../src/engine/types.js';
import { Driver, HOUR, MIN, checklistKeys, loadSeedPlan } from './helpers/drive.js';
import { LOG_LINES, LocalInspection } from '../src/runtime/inspection.js';
import type { PodInspector } from '../src/runtime/ports.js';
import { pod } from './helpers/state.js';

const REF_FILE = join(import.meta.dirname, '..', 'config', 'maestro-conductor-rc.yaml');
const REF = readFileSync(REF_FILE, 'utf8');
const plan = loadSeedPlan();
const ANA: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };
const runs = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'run-command' }> => e.type === 'run-command');

function edit(find: string, replace: string): string {
  const i = REF.indexOf(find);
  if (i < 0 || REF.indexOf(find, i + 1) >= 0) throw new Error(`not exactly once in the reference plan: ${find}`);
  return REF.slice(0, i) + replace + REF.slice(i + find.length);
}
const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
const colOf = (text: string, line: number, needle: string) => text.split('\n')[line - 1]!.indexOf(needle) + 1;
function errorFor(text: string, fragment: string) {
  const r = loadPlanText(text, 'plan.yaml');
  if (r.ok) throw new Error('expected the plan to be rejected');
  const hit = r.errors.find((e) => e.message.includes(fragment));
  if (!hit) throw new Error(`no error contains ${fragment}: ${r.errors.map(formatPlanError).join('\n')}`);
  return hit;
}
function cmd(d: Driver, command: Extract<EngineEvent, { type: 'command' }>['command'], actor: Actor = ANA): Effect[] {
  return d.send({ type: 'command', at: d.now, actor, command });
}
function openFirstGate(d: Driver): void {
  // The first gate needs a healthy source and a valid baseline (issue 15): one round of samples.
  d.observe();
  d.approve('canary-1', 'eng-lead', 'Dev Raman');
  d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
  d.command('advance');
}

describe('plan: runbook fields and validate', () => {
  it('an unknown checklist reference is an error at its line and column', () => {
    const text = edit('checklists: [infrastructure, monitoring, security]', 'checklists: [infrastructure, monitoring, securty]');
    const e = errorFor(text, 'unknown checklist "securty"');
    const line = lineOf(text, 'securty]');
    expect([e.line, e.col, e.path]).toEqual([line, colOf(text, line, 'securty'), 'phases[0].checklists[2]']);
    expect(e.message).toContain('infrastructure, monitoring, security');
  });

  it('a command that cannot run (an unclosed quote) is an error at the command', () => {
    const text = edit('--reason "${ROLLBACK_REASON}" --notify-stakeholders\n    sim:', '--reason "${ROLLBACK_REASON} --notify-stakeholders\n    sim:');
    const e = errorFor(text, 'cannot run as written: an unclosed double quote');
    const line = lineOf(text, 'run: ./scripts/emergency-rollback.sh');
    expect([e.line, e.path]).toEqual([line, 'rollback.hook.run']);
    expect(formatPlanError(e)).toMatch(/^plan\.yaml:\d+:\d+: rollback\.hook\.run: this command cannot run as written/);
  });

  it('a pasted line continuation and a bad ${...} in a post-rollout command are errors', () => {
    const text = edit('{ run: npm run test:integration-full,', '{ run: "npm run test:integration-full \\\\",');
    expect(errorFor(text, 'trailing "\\"').path).toBe('postRollout.validate[1].run');
    const t2 = edit('sim: ./sim/helm.sh', 'sim: ./sim/helm.sh ${WEIGHT%}');
    expect(errorFor(t2, '"${WEIGHT%}" is not a variable name').path).toBe('runbook.deploy[0].sim');
    expect(commandProblem('helm upgrade --set a=$(date')).toContain('unclosed "$("');
    expect(commandProblem('./scripts/validate-rollback.sh --check-data-integrity')).toBeNull();
  });

  it('validate warns about a decision point that may never be reached (late: skip past the minimum bake)', () => {
    const text = edit('{ at: 48h, title: Phase 2 readiness assessment, late: ask }', '{ at: 48h, title: Phase 2 readiness assessment, late: skip }');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const line = lineOf(text, 'at: 48h');
    expect(r.warnings?.map((w) => [w.line, w.path])).toEqual([[line, 'phases[0].checkpoints[3].at']]);
    expect(r.warnings![0]!.message).toContain('may never be reached');
    // The reference plan asks it before the gate instead: no warning.
    const ref = loadPlanText(REF, 'plan.yaml');
    expect(ref.ok && ref.warnings).toBeFalsy();
    // canary validate prints it, and still says valid.
    let out = '';
    let err = '';
    const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
    const file = join(mkdtempSync(join(tmpdir(), 'canary-runbook-')), 'plan.yaml');
    writeFileSync(file, text);
    expect(runValidate(file, w((s) => (out += s)), w((s) => (err += s)))).toBe(0);
    expect(err).toMatch(new RegExp(`:${line}:\\d+: warning: phases\\[0\\]\\.checkpoints\\[3\\]\\.at: decision point at 48h may never be reached`));
    expect(out).toContain('(1 warning)');
  });
});

describe('engine: checklist before the 1% gate', () => {
  it('blocks the gate, naming every missing item, until each is ticked by a named person (or its check)', () => {
    const d = new Driver(plan, { crew: false, checklist: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    const g = gateView(plan, d.state);
    expect(g.allowed).toBe(false);
    const security = g.blockers.find((b) => b.includes('Security & Compliance'))!;
    expect(security).toContain('6 of 6 not ticked');
    expect(security).toContain('WAF rules tested against known attack vectors');
    expect(g.peopleBlockers).toContain(security);
    d.command('advance');
    expect(d.state.desiredWeight).toBe(0);
    expect(d.state.history.at(-1)!.text).toContain('Audit logging confirmed operational');

    const keys = checklistKeys(plan).filter((k) => /^(infrastructure|monitoring|security)#/.test(k));
    expect(keys).toHaveLength(18);
    // The Prometheus-targets item is checked by its query (a run-command effect), the rest ticked.
    const prom = runbookPlan(plan).items.find((i) => i.text.startsWith('Prometheus targets'))!;
    const effects = cmd(d, { kind: 'run-check', item: prom.key });
    expect(runs(effects)[0]).toMatchObject({ purpose: 'check', query: 'up{job=~"orchestrator.*"} == 1', sim: './sim/check-prometheus-targets.sh' });
    expect(d.state.runbook.ticks[prom.key]).toMatchObject({ how: 'check' });
    for (const k of keys.slice(0, -1)) cmd(d, { kind: 'tick-item', item: k });
    expect(d.state.runbook.ticks[keys[0]!]).toMatchObject({ by: 'Ana Ortiz', how: 'person' });
    expect(d.state.history.some((h) => h.kind === 'approval' && h.text === 'Ana Ortiz ticked Pre-deployment: Infrastructure Readiness: All production environments provisioned and validated')).toBe(true);
    const last = gateView(plan, d.state).blockers;
    expect(last).toEqual(['checklist "Pre-deployment: Security & Compliance": 1 of 6 not ticked: Data encryption at rest and in transit verified']);
    expect(describeAdvance(plan, d.state).lines).toContain('Blocked: checklist "Pre-deployment: Security & Compliance": 1 of 6 not ticked: Data encryption at rest and in transit verified');
    cmd(d, { kind: 'tick-item', item: keys.at(-1)! });
    expect(gateView(plan, d.state).allowed).toBe(true);
    d.command('advance');
    expect(d.state.desiredWeight).toBe(1);
  });

  it('a failed check does not tick its item; a second tick of an item is refused and says by whom', () => {
    const d = new Driver(plan, { crew: false, checklist: false });
    d.commands = () => ({ ok: false, exitCode: 1, detail: 'exited 1', lines: ['target down: ECONNREFUSED'] });
    const prom = runbookPlan(plan).items.find((i) => i.text.startsWith('Prometheus targets'))!;
    cmd(d, { kind: 'run-check', item: prom.key });
    expect(d.state.runbook.ticks[prom.key]).toBeUndefined();
    expect(d.state.runbook.runs.at(-1)).toMatchObject({ status: 'failed', exitCode: 1, lines: ['target down: ECONNREFUSED'] });
    cmd(d, { kind: 'tick-item', item: 'infrastructure#1' });
    cmd(d, { kind: 'tick-item', item: 'infrastructure#1' }, { id: 'ben', name: 'Ben Okafor' });
    expect(d.state.history.at(-1)!.text).toContain('already ticked by Ana Ortiz');
  });
});

describe('engine: deploy steps per phase', () => {
  it("runs the plan's commands with the phase's values, one after the other; a failure holds the gate with exit code and last lines", () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    // The deploy sets the canary's weight: it runs only once the gate could open (rules 3).
    expect(runs(cmd(d, { kind: 'run-deploy' }))).toEqual([]);
    expect(d.state.history.at(-1)!.text).toMatch(/^Ana Ortiz asked to deploy canary-1: refused - approval from Engineering Lead missing/);
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.commands = (e) => (e.name === 'helm upgrade' ? { ok: false, exitCode: 1, detail: 'exited 1', lines: ['Error: UPGRADE FAILED: pre-upgrade hooks failed', '* timed out waiting for the condition'] } : { ok: true, exitCode: 0, detail: 'exited 0' });
    const effects = cmd(d, { kind: 'run-deploy' });
    const helm = runs(effects)[0]!;
    expect(helm).toMatchObject({ purpose: 'deploy', key: 'deploy:canary-1:0', sim: './sim/helm.sh' });
    expect(helm.env).toMatchObject({ WEIGHT: '1', PHASE: 'canary-1', NAMESPACE: 'maestro-conductor-canary', RC_VERSION: 'rc', RELEASE: 'maestro-conductor-rc' });
    const run = d.state.runbook.runs.find((r) => r.id === helm.id)!;
    expect(run.command).toBe('helm upgrade --install maestro-conductor-rc ./charts/maestro-conductor --namespace maestro-conductor-canary --set canary.enabled=true --set canary.weight=1 --set image.tag=rc --set monitoring.enhanced=true');
    expect(run.status).toBe('failed');
    // The next step did not run after a failure.
    expect(runs(d.effects).filter((e) => e.purpose === 'deploy').map((e) => e.name)).toEqual(['helm upgrade']);
    const g = gateView(plan, d.state);
    expect(g.allowed).toBe(false);
    expect(g.blockers).toEqual(['deploy step "helm upgrade" failed (exited 1): Error: UPGRADE FAILED: pre-upgrade hooks failed | * timed out waiting for the condition']);
    d.commands = () => ({ ok: true, exitCode: 0, detail: 'exited 0', lines: ['STATUS: deployed'] });
    // Its own failure is what a deploy again answers: that blocker does not refuse it.
    cmd(d, { kind: 'run-deploy' });
    expect(runs(d.effects).filter((e) => e.purpose === 'deploy').map((e) => e.name)).toEqual(['helm upgrade', 'helm upgrade', 'kubectl get pods']);
    expect(gateView(plan, d.state).allowed).toBe(true);
  });

  it('after the gate, the deploy of the next phase fills in its weight', () => {
    const d = new Driver(plan, { crew: false });
    openFirstGate(d);
    d.runFor(26 * HOUR);
    // Not before the gate into 5% could open: checkpoints waiting for a go, approvals missing.
    expect(runs(cmd(d, { kind: 'run-deploy' }))).toEqual([]);
    expect(d.state.history.at(-1)!.text).toMatch(/asked to deploy canary-5: refused - .*waits for a go.*approval from Product Manager missing/);
    while (d.state.checkpoints['canary-1']!.some((c) => c.dueAt !== undefined && c.ackedAt === undefined)) d.command('ack-checkpoint');
    d.approve('canary-5', 'product-lead', 'Emma Brandt');
    d.approve('canary-5', 'eng-lead', 'Dev Raman');
    d.approve('canary-5', 'customer-success', 'Femi Adeyemi');
    d.minute();
    const e = runs(cmd(d, { kind: 'run-deploy' }))[0]!;
    expect(e.env.WEIGHT).toBe('5');
    expect(fillIn('--set canary.weight=${WEIGHT} --token ${VALIDATION_TOKEN}', e.env)).toBe('--set canary.weight=5 --token ${VALIDATION_TOKEN}');
  });
});

describe('engine: go/no-go', () => {
  it("a no-go holds the phase with the person's reason until a go; the crew never overrides it", () => {
    const d = new Driver(plan);
    d.runFor(8 * HOUR, (s) => (s.checkpoints['canary-1']?.[0]?.dueAt ?? 0) > 0 && s.phaseIndex === 0);
    expect(d.state.checkpoints['canary-1']![0]!.dueAt).toBeDefined();
    cmd(d, { kind: 'no-go', reason: 'saga completion 97% in us-east-1, investigating' });
    expect(d.state.runbook.noGo).toMatchObject({ hour: 6, by: 'Ana Ortiz', reason: 'saga completion 97% in us-east-1, investigating' });
    expect(d.effects.some((e) => e.type === 'notify' && e.message.includes('NO-GO') && e.message.includes('saga completion 97%'))).toBe(true);
    d.runFor(30 * HOUR);
    // Still held at 1%: the no-go stands (the crew gave no go), and it says why.
    expect(d.state.phaseIndex).toBe(0);
    expect(d.state.holds[0]).toBe('no-go at hour 6 "Basic functionality validation" by Ana Ortiz: saga completion 97% in us-east-1, investigating - give a go (g) once resolved, or roll back');
    expect(gateView(plan, d.state).peopleBlockers).toContain(d.state.holds[0]);
    d.command('ack-checkpoint');
    expect(d.state.runbook.noGo).toBeNull();
    d.runFor(3 * HOUR, (s) => s.phaseIndex === 1);
    expect(d.state.phaseIndex).toBe(1);
  });

  it('a checkpoint whose plan says noGo: rollback rolls back with the reason', () => {
    const p = loadSeedPlan();
    p.phases[0]!.checkpoints[0]!.noGo = 'rollback';
    const d = new Driver(p, { crew: false });
    openFirstGate(d);
    d.runFor(7 * HOUR);
    cmd(d, { kind: 'no-go', reason: 'error budget gone' });
    expect(d.state.status).toBe('rolled-back');
    expect(d.state.rollback?.reason).toBe('no-go at Canary 1%: internal validation hour 6 "Basic functionality validation" by Ana Ortiz: error budget gone');
  });

  it('late: skip lets the phase move on at its minimum bake and says the decision point was skipped', () => {
    const p = loadSeedPlan();
    p.phases[0]!.checkpoints[3]!.late = 'skip';
    const d = new Driver(p);
    d.runFor(40 * HOUR, (s) => s.phaseIndex === 1);
    expect(d.state.phaseIndex).toBe(1);
    expect(d.state.history.some((h) => h.text === 'checkpoint hour 48 "Phase 2 readiness assessment" skipped: the phase moved on before it (late: skip)')).toBe(true);
  });
});

describe('engine: post-rollout validation and rollback verification', () => {
  it('after 100% the validation commands run one after the other and gate "complete"; a failure holds it', () => {
    const d = new Driver(plan);
    let fail = true;
    d.commands = (e) => (e.purpose === 'validate' && e.name === 'npm run test:security-scan' && fail ? { ok: false, exitCode: 1, detail: 'exited 1', lines: ['FAIL security scan: 2 findings'] } : { ok: true, exitCode: 0, detail: 'exited 0' });
    d.runFor(20 * 24 * HOUR, (s) => s.desiredWeight === 100 && s.runbook.validationAt !== null);
    const started = runs(d.effects).filter((e) => e.purpose === 'validate');
    expect(started.map((e) => e.name)).toEqual(['npm run test:production-smoke', 'npm run test:integration-full', 'npm run test:performance-regression', 'npm run test:security-scan', 'customer workflow validation']);
    expect(started.every((e) => e.env.WEIGHT === '50' || e.env.PHASE === 'full')).toBe(true);
    d.runFor(8 * 24 * HOUR, (s) => s.status === 'completed');
    expect(d.state.status).toBe('running');
    expect(gateView(plan, d.state).blockers).toContain('post-rollout validation "npm run test:security-scan" failed (exited 1): FAIL security scan: 2 findings - fix, then run it again (V)');
    fail = false;
    cmd(d, { kind: 'run-validation' });
    d.runFor(HOUR, (s) => s.status === 'completed');
    expect(d.state.status).toBe('completed');
  });

  it('every rollback is verified; the result is part of "rolled back, confirmed"', () => {
    const d = new Driver(plan, { crew: false });
    openFirstGate(d);
    d.runFor(2 * HOUR);
    d.commands = (e) => (e.purpose === 'verify-rollback' ? { ok: true, exitCode: 0, detail: 'exited 0 (simulated)', lines: ['PASS rollback verification: p95 31ms, errors 0/60'] } : { ok: true, exitCode: 0, detail: 'exited 0' });
    d.command('rollback');
    const v = runs(d.effects).find((e) => e.purpose === 'verify-rollback')!;
    expect(v.run).toBe('./scripts/validate-rollback.sh --check-data-integrity --verify-service-health --confirm-customer-access');
    expect(v.env.ROLLBACK_REASON).toContain('manual rollback by Ana Ortiz');
    expect(d.state.runbook.verification).toMatchObject({ status: 'passed', runId: v.id });
    expect(d.state.history.some((h) => h.kind === 'rollback' && h.text.startsWith('rolled back, confirmed: traffic 0% everywhere; verification passed (validate-rollback.sh: exited 0 (simulated))'))).toBe(true);
  });

  it('a rollback not yet confirmed is not verified; a failed verification is said and notified', () => {
    const d = new Driver(plan, { crew: false });
    openFirstGate(d);
    d.confirm = false;
    const eff = d.command('rollback');
    expect(runs(d.effects).filter((e) => e.purpose === 'verify-rollback')).toHaveLength(0);
    d.confirm = true;
    d.commands = () => ({ ok: false, exitCode: 1, detail: 'exited 1', lines: ['FAIL rollback verification: 12 requests still reached the canary'] });
    const rb = eff.find((e) => e.type === 'rollback')!;
    d.send({ type: 'effect.result', at: d.now, effectId: rb.id, ok: true, detail: 'canary 0%', weight: 0 });
    expect(d.state.runbook.verification?.status).toBe('failed');
    expect(d.effects.some((e) => e.type === 'notify' && e.severity === 'critical' && e.message.includes('rollback verification FAILED'))).toBe(true);
  });
});

describe('engine: feature flags and pod inspection', () => {
  it('enabling a flag needs its approvals and the phase; it runs the hook with ${FLAG}', () => {
    const d = new Driver(plan);
    d.runFor(5 * 24 * HOUR, (s) => s.phaseIndex === 2 && s.appliedWeight === 25);
    cmd(d, { kind: 'enable-flag', flag: 'advanced-features' });
    expect(d.state.history.at(-1)!.text).toContain('refused - approval from VP Product missing');
    d.send({ type: 'command', at: d.now, actor: { id: 'isla', name: 'Isla Moreau', roles: ['vp-product'] }, command: { kind: 'approve-flag', flag: 'advanced-features', role: 'vp-product' } });
    const e = runs(cmd(d, { kind: 'enable-flag', flag: 'advanced-features' }))[0]!;
    expect(e).toMatchObject({ purpose: 'flag', sim: './sim/flag.sh ${FLAG}' });
    expect(e.env.FLAG).toBe('advanced-features');
    expect(d.state.runbook.flags['advanced-features']).toMatchObject({ enabledBy: 'Ana Ortiz' });
  });

  it('approving a flag without naming a role takes the one it still needs that the person holds; refusals say why and are marked', () => {
    const d = new Driver(plan, { crew: false });
    d.observe();
    d.approve('canary-1', 'eng-lead', 'Dev Raman');
    d.approve('canary-1', 'sre-lead', 'Chloe Lindqvist');
    d.command('advance');
    const HIRO: Actor = { id: 'hiro', name: 'Hiro Tanaka', roles: ['vp-engineering'] };
    const CTO: Actor = { id: 'jun', name: 'Jun Park', roles: ['cto'] };
    cmd(d, { kind: 'approve-flag', flag: 'federated-learning' }, ANA);
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused', text: 'Ana Ortiz asked to approve flag federated-learning: refused - holds none of the roles it still needs: VP Engineering, CTO' });
    cmd(d, { kind: 'approve-flag', flag: 'federated-learning' }, HIRO);
    expect(d.state.runbook.flags['federated-learning']!.approvals).toEqual([{ role: 'vp-engineering', by: 'Hiro Tanaka', at: d.now }]);
    cmd(d, { kind: 'approve-flag', flag: 'federated-learning' }, HIRO);
    expect(d.state.history.at(-1)!.text).toContain('refused - already approved it (one person fills one role)');
    cmd(d, { kind: 'approve-flag', flag: 'no-such' }, HIRO);
    expect(d.state.history.at(-1)!.text).toContain('refused - no such flag (flags: advanced-features, ui-ab-test, ml-model-progressive, federated-learning)');
    cmd(d, { kind: 'approve-flag', flag: 'federated-learning' }, { ...CTO, simulated: true });
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'approval', text: 'Jun Park (simulated) approved enabling flag federated-learning as CTO' });
    // Every approval in, but out of its phase: refused, and says which phase it belongs to.
    cmd(d, { kind: 'enable-flag', flag: 'federated-learning' });
    expect(d.state.history.at(-1)).toMatchObject({ kind: 'refused' });
    expect(d.state.history.at(-1)!.text).toContain('it belongs to phase canary-25');
  });

  it("the simulated crew approves a phase's flags in their roles (marked simulated); enabling is left to a person", () => {
    const d = new Driver(plan);
    d.runFor(5 * 24 * HOUR, (s) => s.phaseIndex === 2 && Object.values(s.runbook.flags).some((f) => f.approvals.length > 0));
    d.runFor(2 * HOUR);
    const flags = runbookPlan(plan).flags;
    for (const f of Object.values(flags).filter((x) => x.phase === 'canary-25')) {
      const got = d.state.runbook.flags[f.name]!;
      expect(got.approvals.map((a) => a.role).sort()).toEqual([...f.approvals].sort());
      for (const a of got.approvals) expect(a.by).toMatch(/ \(simulated\)$/);
      expect(got.enabledAt).toBeUndefined();
    }
    const e = runs(cmd(d, { kind: 'enable-flag', flag: 'federated-learning' }))[0]!;
    expect(e).toMatchObject({ purpose: 'flag', key: 'flag:federated-learning' });
    expect(d.state.runbook.flags['federated-learning']).toMatchObject({ enabledBy: 'Ana Ortiz' });
  });

  it('a pod looked at is kept per terminal: bounded, and nothing arrives after closing (src/runtime/inspection.ts)', () => {
    const d = new Driver(plan, { crew: false });
    const p = pod('orchestrator-canary-abc-1', { track: 'canary', reason: 'CrashLoopBackOff', ready: false, restarts: 5 });
    d.send({ type: 'pods.sync', at: d.now + MIN, region: 'us-east-1', pods: [p] });
    let out: Parameters<PodInspector['inspect']>[1] | null = null;
    let stopped = 0;
    const ins = new LocalInspection({ plan, inspector: { inspect: (_r, o) => ((out = o), { stop: () => void stopped++ }) }, pod: (k) => d.state.pods.get(k) });
    ins.open(p.key);
    out!.logs(Array.from({ length: 600 }, (_, i) => `line ${i}`));
    expect(ins.view()?.lines).toHaveLength(LOG_LINES);
    expect(ins.view()?.lines.at(-1)).toBe('line 599');
    ins.close();
    expect(stopped).toBe(1);
    out!.logs(['late']);
    expect(ins.view()).toBeNull();
    // The rollout's state never held any of it.
    expect(Object.keys(d.state.runbook)).not.toContain('inspect');
    ins.open('us-east-1/gone/pod');
    expect(ins.view()).toMatchObject({ error: 'the pod is gone' });
  });
});
