// Who may move traffic, and when (engine rules 3): which gate an approval is for, who may run a
// phase's deploy steps (the seed's `helm upgrade --set canary.weight=${WEIGHT}` moves traffic as
// opening the gate does) and when, and who may tick a checklist item whose automated check did
// not pass. Pure functions of plan + state, shared by the engine (which refuses) and the console
// (whose dialogs offer `y` only when the engine would accept it).
import type { Plan } from '../plan/schema.js';
import { compile, type CompiledPhase, type CompiledPlan } from './compiled.js';
import { describeAdvance, gateView } from './gates.js';
import { deployBlockers, lastRun, runbookPlan, type ChecklistItemView } from './runbook.js';
import { actorName, type Actor, type RolloutState } from './types.js';

/** The rules these checks came with: a journal written by an older canary replays as it ran. */
export const AUTHORITY_RULES = 3;

export function authorityRules(s: Pick<RolloutState, 'rules'>): boolean {
  return (s.rules ?? 1) >= AUTHORITY_RULES;
}

/** The phase whose gate is next: the one the rollout waits at (pending, rolled back: the first),
 * or will reach next (the phase after the current one, whatever steps of the current one remain).
 * null once the rollout is complete or in its last phase (no gate is ahead). */
export function nextGatePhase(cp: CompiledPlan, s: RolloutState): CompiledPhase | null {
  if (s.status === 'completed') return null;
  if (s.status === 'pending' || s.status === 'rolled-back' || s.phaseIndex < 0) return cp.phases[0] ?? null;
  return cp.phases[s.phaseIndex + 1] ?? null;
}

/** Roles with rollout authority at the gate into `phase`: the roles that sign that gate (on any
 * day) and the plan's rollback authority (the SREs, the engineering lead...): the people who may
 * say traffic goes there, and the people who answer for it when it does. */
export function rolloutRoles(cp: CompiledPlan, phases: readonly CompiledPhase[]): string[] {
  const roles = new Set<string>();
  for (const p of phases) for (const a of p.approvals) roles.add(a.role);
  for (const a of cp.plan.rollback.authority) roles.add(a.role);
  return [...roles];
}

/** Why `actor` may not act with rollout authority at these gates, or null when they may. A viewer
 * never may; a terminal without known roles (one operator at their own console) may, as with a
 * rollback; a plan that names no roles at all leaves it to anyone who may act. */
export function authorityRefusal(cp: CompiledPlan, actor: Actor, phases: readonly CompiledPhase[]): string | null {
  if (actor.viewer) return 'a viewer cannot act';
  if (actor.roles === undefined) return null;
  const roles = rolloutRoles(cp, phases);
  if (roles.length === 0 || actor.roles.some((r) => roles.includes(r))) return null;
  return `${actorName(actor)} holds none of the roles with rollout authority here: ${roles.map((r) => cp.roleTitles[r] ?? r).join(', ')} (the gate's approvers and the plan's rollback authority)`;
}

/** Why an approval of `phaseId` is not for the next gate, or null when it is. */
export function approvalGateRefusal(cp: CompiledPlan, s: RolloutState, phaseId: string): string | null {
  const next = nextGatePhase(cp, s);
  if (next?.id === phaseId) return null;
  return next
    ? `only the next gate can be approved: ${next.title} (an approval counts for the gate it was given at, not one days ahead)`
    : `no gate is ahead (the rollout is ${s.status === 'completed' ? 'complete' : 'in its last phase'}); nothing to approve`;
}

export interface DeployCheck {
  /** The phase whose deploy steps would run (the next gate's), or null. */
  phase: string | null;
  /** Why they cannot run now (by this person, when one is given); empty when they can. */
  blockers: string[];
}

/** Whether `phase` (default: the next gate's) may have its deploy steps run now, by `actor`. Only
 * the next gate's phase; only when that gate could open now apart from the deploy itself (its
 * approvals, its checklists, the current phase's bake, go's and evidence: the deploy sets the
 * canary's weight as the gate does); never while they are running; only with rollout authority. */
export function deployCheck(plan: Plan, s: RolloutState, actor: Actor | null, phase?: string): DeployCheck {
  const cp = compile(plan);
  const next = nextGatePhase(cp, s);
  const out: string[] = [];
  const asked = phase ?? next?.id ?? null;
  if (!next) return { phase: asked, blockers: [s.status === 'completed' ? 'the rollout is complete: no gate is ahead to deploy for' : 'the rollout is in its last phase: no gate is ahead to deploy for'] };
  if (asked !== next.id) {
    const known = cp.phases.find((p) => p.id === asked);
    return { phase: asked, blockers: [`${known ? known.title : `no phase "${asked}"`}: only the next gate's phase can be deployed (${next.title})`] };
  }
  const steps = runbookPlan(plan).deploy[next.id] ?? [];
  if (steps.length === 0) return { phase: next.id, blockers: ['the plan has no deploy steps (runbook.deploy, or the phase\'s deploy)'] };
  if (steps.some((_, i) => lastRun(s, `deploy:${next.id}:${i}`)?.status === 'running')) out.push('its deploy steps are running');
  if (actor) {
    const who = authorityRefusal(cp, actor, [next]);
    if (who) out.push(who);
  }
  const g = gateView(plan, s);
  if (g.kind !== 'phase' || g.phase?.id !== next.id) {
    out.push(`the gate into ${next.title} is not the next move yet (first: ${g.kind === 'step' ? `the next step of ${g.phase?.title ?? 'this phase'}, to ${g.toWeight}%` : g.kind}${g.blockers.length ? `; ${g.blockers[0]}` : ''})`);
  } else {
    // A failed (or running) deploy of this phase blocks the gate; it is what this deploy answers.
    const own = new Set(deployBlockers(plan, s, next.id));
    for (const b of g.blockers) if (!own.has(b)) out.push(b);
  }
  return { phase: next.id, blockers: out };
}

/** Why `actor` may not tick `item` by hand now (engine rules 3), or null when they may. An item
 * with an automated check is ticked by its check; by hand only once that check ran and failed (a
 * timeout is a failure: it did not answer) or could not run here (skipped), with a note saying why,
 * and by someone with rollout authority at the gate its checklist stands before. */
export function tickRefusal(plan: Plan, s: RolloutState, actor: Actor, item: ChecklistItemView, note: string | undefined): string | null {
  if (actor.viewer) return 'a viewer cannot act';
  if (!item.check) return null;
  const run = lastRun(s, `check:${item.key}`);
  if (!run) return `it has an automated check (${item.check.name}) that has not run: run it (c), or tick it by hand with a note once it failed`;
  if (run.status === 'running') return `its check (${item.check.name}) is running: wait for its answer (it times out by itself)`;
  if (run.status === 'passed') return null;
  if (!note?.trim()) return `its check ${run.status === 'skipped' ? 'could not run here' : 'failed'} (${run.detail}): ticking it by hand overrides the check, and needs a note saying why`;
  const cp = compile(plan);
  const gates = Object.entries(runbookPlan(plan).gateChecklists)
    .filter(([, cls]) => cls.some((c) => c.items.some((i) => i.key === item.key)))
    .map(([id]) => cp.phases.find((p) => p.id === id)!)
    .filter(Boolean);
  return authorityRefusal(cp, actor, gates);
}

/** Why `V` (post-rollout validation again, or after a rollback its verification again) cannot run
 * now, or null when it can: what the engine accepts, for the dialog to offer `y` only then. */
export function validateRefusal(plan: Plan, s: RolloutState): string | null {
  if (s.status === 'rolled-back') return s.rollback ? null : 'there is no rollback to verify';
  const rp = runbookPlan(plan);
  if (rp.validate.length === 0) return 'the plan has no postRollout.validate';
  if (rp.validate.some((_, i) => lastRun(s, `validate:${i}`)?.status === 'running')) return 'the validation is running';
  const cp = compile(plan);
  const phase = cp.phases[s.phaseIndex];
  const atFull =
    (s.status === 'running' || s.status === 'paused') && s.phaseIndex === cp.phases.length - 1 && phase !== undefined && s.stepIndex === phase.steps.length - 1 && s.appliedWeight === s.desiredWeight && Object.keys(s.pending).length === 0;
  if (!atFull) return `post-rollout validation runs once traffic is at 100% (the rollout is ${s.status}${s.status === 'pending' ? '' : ` at ${s.desiredWeight}%`})`;
  return null;
}

/** Why `actor` may not advance now (open the next gate, take the next step, complete), or null
 * when they may: rollout authority at the phase traffic moves into (its approvers and the plan's
 * rollback authority), as for its deploy steps. Approvals say a gate may open; who opens it is one
 * of the people who answer for the traffic that then moves. */
export function advanceRefusal(cp: CompiledPlan, s: RolloutState, actor: Actor): string | null {
  if (actor.viewer) return 'a viewer cannot act';
  const g = gateView(cp.plan, s);
  const into = g.kind === 'phase' ? g.phase : cp.phases[s.phaseIndex];
  return into ? authorityRefusal(cp, actor, [into]) : null;
}

/** The advance dialog for this person: describeAdvance, and under rules 3 the person's own
 * authority among its blockers (its `y` is offered only when the engine would accept it). */
export function describeAdvanceFor(plan: Plan, s: RolloutState, actor: Actor | null): ReturnType<typeof describeAdvance> {
  const d = describeAdvance(plan, s);
  if (!actor || !authorityRules(s) || d.target === null) return d;
  const why = advanceRefusal(compile(plan), s, actor);
  if (!why) return d;
  return { ...d, allowed: false, lines: [...d.lines.filter((l) => !l.startsWith('Press y')), `Blocked: ${why}`] };
}

/** Why `actor` may not stop command run `by` someone else, or null when they may: the person who
 * started it, or anyone with the plan's rollback authority (stopping a deploy halfway is not a
 * small thing); a terminal without known roles may. */
export function stopRefusal(cp: CompiledPlan, actor: Actor, startedBy: string): string | null {
  if (actor.viewer) return 'a viewer cannot act';
  if (!actor.roles || actorName(actor) === startedBy) return null;
  const roles = cp.plan.rollback.authority.map((a) => a.role);
  if (roles.length === 0 || actor.roles.some((r) => roles.includes(r))) return null;
  return `${startedBy} started it; only they or the plan's rollback authority (${roles.map((r) => cp.roleTitles[r] ?? r).join(', ')}) may stop it`;
}
