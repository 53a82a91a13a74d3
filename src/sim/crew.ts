// The embedded world's people: approvers who approve a gate some time after it comes up, an
// on-call SRE who gives a go at checkpoints and opens gates once they are ready. Without them the
// demo would stop at the first gate. They act only through the same events a person would send;
// they never restart a rolled-back rollout (that stays a human decision).
import type { Plan } from '../plan/schema.js';
import { compile } from '../engine/compiled.js';
import { gateView } from '../engine/gates.js';
import { whoIs } from '../engine/roster.js';
import { actorName, type Actor, type EngineEvent, type RolloutState } from '../engine/types.js';
import { lastRun, runbookPlan } from '../engine/runbook.js';

export interface CrewOptions {
  /** How long after a gate comes up each approval takes (sim time). */
  approveAfterMs?: number;
  /** How long a due checkpoint waits before the on-call gives a go. */
  goAfterMs?: number;
  /** How long an open gate waits before the on-call advances. */
  advanceAfterMs?: number;
  /** Do not open the very first gate (leave `a` to the person at the keyboard). */
  leaveFirstGate?: boolean;
  /** How long apart the SRE lead works through the checklist items before a gate (sim time). */
  tickEveryMs?: number;
}

export class SimCrew {
  private seen = new Map<string, number>();
  private readonly approveAfterMs: number;
  private readonly goAfterMs: number;
  private readonly advanceAfterMs: number;

  constructor(
    private readonly plan: Plan,
    private readonly opts: CrewOptions = {},
  ) {
    this.approveAfterMs = opts.approveAfterMs ?? 20 * 60_000;
    this.goAfterMs = opts.goAfterMs ?? 30 * 60_000;
    this.advanceAfterMs = opts.advanceAfterMs ?? 30 * 60_000;
  }

  /** What was already asked for, so the same approval or command is not sent twice while the
   * runtime is still working through the first one. */
  private sent = new Map<string, number>();

  private once(key: string, now: number, againAfterMs = 5 * 60_000): boolean {
    const t = this.sent.get(key);
    if (t !== undefined && now - t < againAfterMs) return false;
    this.sent.set(key, now);
    return true;
  }

  private since(key: string, now: number): number {
    const t = this.seen.get(key);
    if (t !== undefined) return now - t;
    this.seen.set(key, now);
    return 0;
  }

  private actorFor(role: string, now: number, exclude: Set<string>): Actor | null {
    const rotating = whoIs(this.plan, role, now).person;
    const candidates = [rotating, ...this.plan.roster.people.filter((p) => p.roles.includes(role))];
    // Marked as simulated: the engine names them "Ana Ortiz (simulated)" in the journal, the
    // report and on screen, never as the person at the keyboard.
    const p = candidates.find((c) => c && !exclude.has(actorName({ id: c.id, name: c.name, simulated: true })));
    return p ? { id: p.id, name: p.name, roles: p.roles, simulated: true } : null;
  }

  /** What the crew does now, given the state. Deterministic for the same sequence of states. */
  decide(state: RolloutState): EngineEvent[] {
    const now = state.now;
    const out: EngineEvent[] = [];
    if (state.status === 'completed' || state.status === 'paused') return out;
    const sre = this.actorFor('sre-primary', now, new Set()) ?? { id: 'sim-sre', name: 'SRE', simulated: true };

    const phase = compile(this.plan).phases[state.phaseIndex];
    // A no-go is a person's decision: the crew never overrides it with a go.
    const noGo = state.runbook.noGo;
    const due = phase ? (state.checkpoints[phase.id] ?? []).find((c) => c.dueAt !== undefined && c.ackedAt === undefined && !(noGo && noGo.phase === phase.id && noGo.index === c.index)) : undefined;
    if (state.status === 'running' && due && phase && this.since(`go:${state.startedAt}:${phase.id}:${due.index}`, now) >= this.goAfterMs && this.once(`go-sent:${state.startedAt}:${phase.id}:${due.index}`, now)) {
      out.push({ type: 'command', at: now, actor: sre, command: { kind: 'ack-checkpoint' } });
    }

    // The approvers of this phase's feature flags approve them some time into the phase (in their
    // own roles, marked simulated); enabling one stays with the person at the keyboard (F, e, y).
    if (state.status === 'running' && phase) {
      for (const f of Object.values(runbookPlan(this.plan).flags)) {
        if (f.phase !== phase.id || state.runbook.flags[f.name]?.enabledAt !== undefined) continue;
        if (this.since(`flag:${state.startedAt}:${f.name}`, now) < this.approveAfterMs) continue;
        const given = state.runbook.flags[f.name]?.approvals ?? [];
        const used = new Set(given.map((a) => a.by));
        for (const role of f.approvals) {
          if (given.some((a) => a.role === role)) continue;
          const actor = this.actorFor(role, now, used);
          if (!actor || !this.once(`flag-approve:${state.startedAt}:${f.name}:${role}`, now)) continue;
          used.add(actorName(actor));
          out.push({ type: 'command', at: now, actor, command: { kind: 'approve-flag', flag: f.name, role } });
        }
      }
    }

    const gate = gateView(this.plan, state);
    if (gate.kind !== 'phase' || !gate.phase) return out;
    // The checklist before the gate: one item at a time, ticked by the SRE lead, or its check run.
    // A check still running is waited for (it times out by itself); one that failed (or could not
    // run here) is checked by hand, as a person would: an override the engine accepts only with a
    // note, from someone with rollout authority, and says so in the history.
    const waiting = (key: string) => lastRun(state, `check:${key}`)?.status === 'running';
    const item = (runbookPlan(this.plan).gateChecklists[gate.phase.id] ?? []).flatMap((c) => c.items).find((i) => !state.runbook.ticks[i.key] && !waiting(i.key));
    if (item && this.since(`checklist:${state.startedAt}:${gate.phase.id}`, now) >= (this.opts.tickEveryMs ?? 5 * 60_000) * (Object.keys(state.runbook.ticks).length + 1)) {
      const lead = this.actorFor('sre-lead', now, new Set()) ?? sre;
      const ran = lastRun(state, `check:${item.key}`);
      if (item.check && !ran && this.once(`check:${item.key}`, now)) out.push({ type: 'command', at: now, actor: lead, command: { kind: 'run-check', item: item.key } });
      else if ((!item.check || ran) && this.once(`tick:${item.key}`, now))
        out.push({ type: 'command', at: now, actor: lead, command: { kind: 'tick-item', item: item.key, ...(ran && ran.status !== 'passed' ? { note: `checked by hand after its check ${ran.status === 'skipped' ? 'could not run' : 'failed'} (${ran.detail})` } : {}) } });
    }
    if (state.status === 'pending' && this.opts.leaveFirstGate && gate.approvals.every((a) => a.given)) return out;
    // Approvers start looking once the current step has baked half its minimum (or at once before the start).
    const step = phase?.steps[state.stepIndex];
    const looking = state.status === 'pending' || state.status === 'rolled-back' || (step !== undefined && state.stepBakeMs >= step.minMs / 2);
    if (looking) {
      const gateKey = `gate:${state.startedAt}:${gate.phase.id}`;
      if (this.since(gateKey, now) >= this.approveAfterMs) {
        const used = new Set((state.approvals[gate.phase.id] ?? []).map((g) => g.by));
        for (const a of gate.approvals) {
          if (a.given) continue;
          const actor = this.actorFor(a.role, now, used);
          if (!actor || !this.once(`approve:${state.startedAt}:${gate.phase.id}:${a.role}`, now)) continue;
          used.add(actorName(actor));
          out.push({ type: 'approve', at: now, actor, phase: gate.phase.id, role: a.role });
        }
      }
    }
    // After a rollback the approvers sign again, but only a person restarts (a, then y).
    if (state.status === 'rolled-back') return out;
    if (gate.allowed && this.since(`advance:${state.startedAt}:${gate.phase.id}`, now) >= (state.status === 'pending' ? 0 : this.advanceAfterMs) && this.once(`advance-sent:${state.startedAt}:${gate.phase.id}`, now)) {
      out.push({ type: 'command', at: now, actor: sre, command: { kind: 'advance' } });
    }
    return out;
  }
}
