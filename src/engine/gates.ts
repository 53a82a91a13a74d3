// What stands between the rollout and its next move, as data the engine acts on and the console
// shows: which gate is next, what it needs, and what it would do. Pure functions of plan + state.
import type { Plan } from '../plan/schema.js';
import { formatDuration } from '../plan/duration.js';
import { compile, type CompiledPhase } from './compiled.js';
import { calendarApprovalWhy, specialDayReason } from './calendar.js';
import type { ApprovalGiven, GateTarget, RolloutState } from './types.js';
import { rollbackScope, trafficDrift } from './traffic.js';
import { loadTestBlockers } from './loadtests.js';
import { evidenceBlockers } from './evidence.js';
import { checklistBlockers, commandValues, deployBlockers, fillIn, noGoBlocker, validationBlockers } from './runbook.js';
import { normalCommand } from '../plan/runbook-commands.js';

export interface ApprovalView {
  role: string;
  title: string;
  /** Asked for only on weekends/holidays (and it is one now). */
  conditional: boolean;
  /** For a conditional one: why it is asked for now ("CTO approval required: Sat 2026-12-26 is a
   * weekend (America/New_York)"). */
  why?: string;
  given?: ApprovalGiven;
}

export interface GateView {
  /** phase: enter phases[phaseIndex]; step: next step of the current phase; complete: finish; none. */
  kind: 'phase' | 'step' | 'complete' | 'none';
  phaseIndex: number;
  phase?: CompiledPhase;
  /** For kind 'step': it proceeds by itself once allowed. */
  auto: boolean;
  fromWeight: number;
  toWeight: number;
  regions: string[];
  approvals: ApprovalView[];
  /** Why it cannot happen now; empty when allowed. */
  blockers: string[];
  /** The blockers only a person can clear (approvals, a checkpoint go, a pause), a subset of
   * `blockers`: when they are all there is, nothing will move without someone. */
  peopleBlockers: string[];
  allowed: boolean;
}

/** Approvals asked for at the gate into `phase`, at time `now`. */
export function requiredApprovals(plan: Plan, phase: CompiledPhase, state: RolloutState): ApprovalView[] {
  const cp = compile(plan);
  const special = phase.approvals.some((a) => a.when !== 'always') ? specialDayReason(plan, state.now) : null;
  const given = state.approvals[phase.id] ?? [];
  return phase.approvals
    .filter((a) => a.when === 'always' || special !== null)
    .map((a) => {
      const g = given.find((x) => x.role === a.role);
      const title = cp.roleTitles[a.role] ?? a.role;
      const conditional = a.when !== 'always';
      return { role: a.role, title, conditional, ...(conditional && special !== null ? { why: calendarApprovalWhy(title, special) } : {}), ...(g ? { given: g } : {}) };
    });
}

/** The gate into `phase`: its approvals join whatever else blocks it. */
function phaseGate(plan: Plan, state: RolloutState, phase: CompiledPhase, blockers: string[], people: string[]): GateView {
  const approvals = requiredApprovals(plan, phase, state);
  for (const a of approvals) {
    if (a.given) continue;
    const text = `approval from ${a.title} missing${a.why ? ` (${a.why})` : ''}`;
    blockers.push(text);
    people.push(text);
  }
  // The checklists the plan puts before this gate (the seed's pre-deployment checklist), naming
  // every item not ticked; a failed deploy step of the phase holds it too.
  for (const b of checklistBlockers(plan, state, phase.id)) {
    blockers.push(b);
    people.push(b);
  }
  for (const b of deployBlockers(plan, state, phase.id)) blockers.push(b);
  return {
    kind: 'phase',
    phaseIndex: phase.index,
    phase,
    auto: false,
    fromWeight: state.desiredWeight,
    toWeight: phase.steps[0]!.weight,
    regions: phase.regions,
    approvals,
    blockers,
    peopleBlockers: people,
    allowed: blockers.length === 0,
  };
}

export function gateView(plan: Plan, state: RolloutState): GateView {
  const cp = compile(plan);
  if (state.status === 'completed')
    return { kind: 'none', phaseIndex: state.phaseIndex, auto: false, fromWeight: state.desiredWeight, toWeight: state.desiredWeight, regions: [], approvals: [], blockers: ['the rollout is complete'], peopleBlockers: [], allowed: false };
  if (state.status === 'pending' || state.status === 'rolled-back') {
    // No canary traffic yet: the sources must be healthy and the baseline seen clearly.
    const blockers: string[] = [];
    for (const [name, h] of Object.entries(state.sources)) if (!h.ok) blockers.push(`source ${name} failing: ${h.message ?? 'unknown error'}`);
    blockers.push(...evidenceBlockers(cp, state, false));
    if (Object.keys(state.pending).length) blockers.push('traffic change not yet confirmed');
    const people: string[] = [];
    if (state.journalLost) blockers.push(...journalBlocker(state, people));
    return phaseGate(plan, state, cp.phases[0]!, blockers, people);
  }

  const phase = cp.phases[state.phaseIndex]!;
  const step = phase.steps[state.stepIndex]!;
  const blockers: string[] = [];
  const people: string[] = [];
  const byPeople = (text: string) => {
    blockers.push(text);
    people.push(text);
  };
  if (state.journalLost) for (const b of journalBlocker(state, people)) blockers.push(b);
  if (state.status === 'paused') byPeople('the rollout is paused (p to resume)');
  if (state.stepBakeMs < step.minMs)
    blockers.push(`bake ${formatDuration(state.stepBakeMs)} of minimum ${formatDuration(step.minMs)} (${formatDuration(step.minMs - state.stepBakeMs)} left)`);
  const due = (state.checkpoints[phase.id] ?? []).filter((c) => c.dueAt !== undefined && c.ackedAt === undefined);
  const noGo = noGoBlocker(state);
  for (const c of due) if (!(state.runbook.noGo && state.runbook.noGo.phase === phase.id && state.runbook.noGo.index === c.index)) byPeople(`checkpoint hour ${c.at / 3_600_000} "${c.title}" waits for a go (g) or no-go (n)`);
  for (const b of noGo) byPeople(b);
  for (const b of deployBlockers(plan, state, phase.id)) byPeople(b);
  if (state.criteria.length === 0) blockers.push('no analysis yet');
  for (const c of state.criteria) {
    if (c.verdict === 'fail') blockers.push(`${c.sli} ${round(c.value)} fails ${c.op} ${c.threshold}`);
    else if (c.verdict === 'no-data') blockers.push(`${c.sli}: no data (never counted as a pass)`);
    else if (c.verdict === 'invalid') blockers.push(`${c.sli}: ${c.raw !== undefined ? `invalid value ${c.raw}` : 'inconclusive'}: ${c.why ?? 'invalid data'} (never counted as a pass)`);
    else if (state.weightConfirmedAt !== null && (c.at === undefined || c.at < state.weightConfirmedAt))
      blockers.push(`${c.sli}: not judged since the weight change was confirmed (the next analysis judges it)`);
  }
  // Every SLI the gate needs: a valid value measured after the last weight change was confirmed,
  // and every rule able to fire (a criterion's own no-data/invalid is said once, above).
  const said = new Set(state.criteria.filter((c) => c.verdict !== 'pass' && c.verdict !== 'fail').map((c) => c.sli));
  for (const b of evidenceBlockers(cp, state, true)) if (!said.has(b.slice(0, b.indexOf(':')))) blockers.push(b);
  if (plan.analysis.judgment) {
    const j = state.judgment;
    if (!j) blockers.push('canary judgment: none yet');
    else if (j.verdict !== 'pass') blockers.push(`canary judgment ${j.verdict}${j.score !== null ? ` (score ${Math.round(j.score)})` : ''}: ${j.reason}`);
  }
  for (const [name, h] of Object.entries(state.sources)) if (!h.ok) blockers.push(`source ${name} failing: ${h.message ?? 'unknown error'}`);
  if (Object.keys(state.pending).length) blockers.push('traffic change not yet confirmed');
  for (const d of trafficDrift(cp, state)) blockers.push(`traffic drift: ${d} (a person decides: put it back, or roll back)`);
  // A required load test needs someone to run it: nothing moves on by itself until it passed.
  for (const b of loadTestBlockers(plan, state)) byPeople(b);

  const rest = { phaseIndex: phase.index, phase, fromWeight: state.desiredWeight, regions: phase.regions, approvals: [], blockers, peopleBlockers: people, allowed: blockers.length === 0 };
  if (state.stepIndex < phase.steps.length - 1) {
    const next = phase.steps[state.stepIndex + 1]!;
    return { kind: 'step', auto: next.auto, toWeight: next.weight, ...rest };
  }
  const nextPhase = cp.phases[phase.index + 1];
  if (!nextPhase) {
    // "complete" waits for the post-rollout validation (it starts once traffic is at 100%).
    for (const b of validationBlockers(plan, state)) blockers.push(b);
    return { kind: 'complete', auto: true, toWeight: state.desiredWeight, ...rest, allowed: blockers.length === 0 };
  }
  return phaseGate(plan, state, nextPhase, blockers, people);
}

/** A lost journal: nothing would be recorded, so nothing moves on until a person restores it. */
function journalBlocker(state: RolloutState, people: string[]): string[] {
  const l = state.journalLost!;
  const text = `the journal is lost (${l.kind}: ${l.path}); nothing would be recorded - restore it and start canary again`;
  people.push(text);
  return [text];
}

function round(v: number | null): string {
  if (v === null) return 'no data';
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/** The move the next advance makes, to bind a confirmation to what the person read. */
export function gateTarget(g: GateView, state: RolloutState): GateTarget | null {
  if (g.kind === 'none' || !g.phase) return null;
  if (g.kind === 'phase') return { kind: 'phase', phase: g.phase.id, step: 0 };
  if (g.kind === 'step') return { kind: 'step', phase: g.phase.id, step: state.stepIndex + 1 };
  return { kind: 'complete', phase: g.phase.id, step: state.stepIndex };
}

export function sameTarget(a: GateTarget | null, b: GateTarget | null): boolean {
  return a !== null && b !== null && a.kind === b.kind && a.phase === b.phase && a.step === b.step;
}

/** The words of the advance dialog: exactly what pressing `y` will do, or why it cannot. */
export function describeAdvance(plan: Plan, state: RolloutState): { allowed: boolean; title: string; lines: string[]; target: GateTarget | null } {
  const g = gateView(plan, state);
  if (g.kind === 'none') return { allowed: false, title: 'Nothing to advance', lines: g.blockers, target: null };
  const lines: string[] = [];
  let title: string;
  if (g.kind === 'phase') {
    title = `${state.status === 'rolled-back' ? 'Restart the rollout: ' : 'Open the gate: '}${g.phase!.title}`;
    lines.push(`Traffic to the canary: ${g.fromWeight}% -> ${g.toWeight}% in ${g.regions.join(', ')}`);
    lines.push(`Approvals: ${g.approvals.length ? g.approvals.map((a) => `${a.given ? '✓' : '✗'} ${a.title}${a.given ? ` (${a.given.by})` : ''}${a.conditional ? ' [weekend/holiday]' : ''}`).join(', ') : 'none required'}`);
    // Why the calendar asks for more today; or, on a working day, which approval it would add.
    for (const a of g.approvals) if (a.why) lines.push(a.why);
    const later = g.phase!.approvals.filter((a) => a.when !== 'always' && !g.approvals.some((x) => x.role === a.role));
    if (later.length) lines.push(`On a weekend or plan holiday (${plan.metadata.timezone}) this gate also needs: ${later.map((a) => compile(plan).roleTitles[a.role] ?? a.role).join(', ')}`);
  } else if (g.kind === 'step') {
    title = `Next step of ${g.phase!.title}`;
    lines.push(`Traffic to the canary: ${g.fromWeight}% -> ${g.toWeight}% in ${g.regions.join(', ')}`);
  } else {
    title = 'Complete the rollout';
    lines.push(`Mark the rollout completed at ${g.toWeight}%`);
  }
  if (g.allowed) lines.push('Press y to do it; any other key cancels.');
  else lines.push(...g.blockers.map((b) => `Blocked: ${b}`));
  return { allowed: g.allowed, title, lines, target: gateTarget(g, state) };
}

/** The rollback hook as the dialog names it: its name, then the command with the plan's values
 * filled in (the reason stays `${ROLLBACK_REASON}`: it reaches the hook as a variable), and on the
 * embedded world the stand-in that runs instead. */
export function hookLines(plan: Plan, simulated = false): string[] {
  if (!plan.rollback.hook) return [];
  const c = normalCommand(plan.rollback.hook, 0);
  const named = typeof plan.rollback.hook !== 'string' && plan.rollback.hook.name !== undefined;
  const values = commandValues(plan, null);
  const lines = [`Hook${named ? ` ${c.name}` : ''}, run once traffic reads 0%: $ ${fillIn(c.run, values)}`];
  if (simulated) lines.push(c.sim ? `  the simulated world runs: $ ${fillIn(c.sim, values)}` : '  the simulated world: no stand-in, not run');
  return lines;
}

/** The words of the rollback dialog (`simulated`: the embedded world, whose hook stand-in runs). */
export function describeRollback(plan: Plan, state: RolloutState, simulated = false): { allowed: boolean; title: string; lines: string[] } {
  const scope = rollbackScope(state);
  if (!scope.ok && state.status === 'rolled-back') return { allowed: false, title: 'Already rolled back', lines: [state.rollback?.reason ?? ''] };
  if (!scope.ok) return { allowed: false, title: 'Nothing to roll back', lines: ['No traffic is on the canary yet.'] };
  const lines = [
    ...(state.status === 'rolled-back' ? ['The last rollback was not confirmed in every cluster: try again.'] : []),
    `Traffic to the canary: ${scope.fromWeight}% -> 0% in ${plan.target.regions.join(', ')}`,
    `Back to ${plan.metadata.previousVersion}; the rollout stays rolled back until someone restarts it.`,
  ];
  lines.push(...hookLines(plan, simulated));
  lines.push('Press y to roll back now; any other key cancels.');
  return { allowed: true, title: `ROLL BACK ${plan.metadata.release}`, lines };
}
