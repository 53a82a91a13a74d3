// The CanaryRollout's status, from the engine's state: what `kubectl get canaryrollouts` shows in
// its columns (PHASE STEP WEIGHT VERDICT WAITING-FOR DRIVER AGE) and what `canary status` prints.
import type { Plan } from '../plan/schema.js';
import { formatDuration } from '../plan/schema.js';
import { compile } from '../engine/compiled.js';
import { gateView } from '../engine/gates.js';
import { escalationClock, openIncidents } from '../engine/people.js';
import type { RolloutState } from '../engine/types.js';
import { statusText } from '../status.js';
import type { CanaryRolloutStatus, DriverStamp, JournalHead } from './resource.js';

const iso = (ms: number) => new Date(ms).toISOString();

const STATE_WORD: Record<RolloutState['status'], string> = { pending: 'Pending', running: 'Running', paused: 'Paused', completed: 'Completed', 'rolled-back': 'RolledBack' };

/** What the rollout waits for, in a few words: a person (approvals, a go, an advance), a checkpoint, a bake. */
export function waitingFor(plan: Plan, s: RolloutState): string {
  if (s.status === 'completed') return '-';
  if (s.status === 'rolled-back') return s.rollback ? 'a person (restart after rollback)' : '-';
  if (Object.keys(s.pending).length) return 'traffic change to be confirmed';
  const cp = compile(plan);
  const phase = cp.phases[s.phaseIndex];
  const due = phase ? (s.checkpoints[phase.id] ?? []).find((c) => c.dueAt !== undefined && c.ackedAt === undefined) : undefined;
  if (due) return `checkpoint go: ${due.title}`;
  if (s.status === 'paused') return 'a person (paused)';
  const g = gateView(plan, s);
  const missing = g.approvals.filter((a) => !a.given).map((a) => a.role);
  const step = phase?.steps[s.stepIndex];
  if (step && s.status === 'running' && s.stepBakeMs < step.minMs) return `bake ${formatDuration(s.stepBakeMs)}/${formatDuration(step.minMs)}`;
  if (missing.length) return `approvals: ${missing.join(', ')}`;
  if (g.kind !== 'none' && g.allowed && (g.kind === 'phase' || !g.auto)) return 'a person to advance';
  if (g.kind !== 'none' && !g.allowed && g.blockers.length) return g.blockers[0]!;
  return '-';
}

export function verdictOf(s: RolloutState): { verdict: string; explanation: string } {
  if (s.status === 'rolled-back' && s.rollback) return { verdict: 'rolled-back', explanation: s.rollback.reason };
  const failing = s.criteria.filter((c) => c.verdict === 'fail');
  const noData = s.criteria.filter((c) => c.verdict === 'no-data');
  if (failing.length) return { verdict: 'fail', explanation: failing.map((c) => `${c.sli} ${c.value} ${c.op} ${c.threshold} failed`).join('; ') };
  if (s.judgment && s.judgment.verdict === 'fail') return { verdict: 'fail', explanation: s.judgment.reason };
  if (!s.criteria.length || noData.length) return { verdict: 'no-data', explanation: noData.length ? `no data: ${noData.map((c) => c.sli).join(', ')}` : 'no analysis yet' };
  if (s.judgment) return { verdict: s.judgment.verdict, explanation: s.judgment.reason };
  return { verdict: 'pass', explanation: 'every success criterion passes' };
}

/** The status the driver writes. */
export function rolloutStatus(plan: Plan, s: RolloutState, o: { driver: DriverStamp & { since: number }; journal: JournalHead & { segments: number; firstSegment: number }; now: number }): CanaryRolloutStatus {
  const cp = compile(plan);
  const phase = cp.phases[s.phaseIndex];
  const word = STATE_WORD[s.status];
  const trafficOn = (s.status === 'running' || s.status === 'paused') && phase;
  const due = phase ? (s.checkpoints[phase.id] ?? []).find((c) => c.dueAt !== undefined && c.ackedAt === undefined) : undefined;
  const v = verdictOf(s);
  return {
    state: word,
    phase: phase?.id ?? null,
    phaseDisplay: trafficOn ? `${phase.id}${s.status === 'paused' ? ' paused' : ''}` : word,
    step: phase ? `${s.stepIndex + 1}/${phase.steps.length}` : '-',
    weight: { set: s.desiredWeight, confirmed: s.appliedWeight, clusters: Object.fromEntries(Object.entries(s.traffic).map(([c, t]) => [c, t.weight])) },
    weightDisplay: `${s.desiredWeight}/${s.appliedWeight ?? '?'}`,
    approvals: Object.entries(s.approvals).flatMap(([p, list]) => list.map((a) => ({ phase: p, role: a.role, by: a.by, at: iso(a.at) }))),
    checkpoint: phase && due && due.dueAt !== undefined ? { phase: phase.id, title: due.title, dueAt: iso(due.dueAt) } : null,
    incidents: openIncidents(s).map((i) => {
      const c = escalationClock(i, s.now);
      return { id: i.id, severity: i.severity, summary: i.summary, openedAt: iso(i.openedAt), ackedBy: i.ackedBy ?? null, nextPage: c.next ? { roles: c.next.step.roles, at: iso(s.now + c.next.inMs) } : null };
    }),
    verdict: v.verdict,
    verdictExplanation: v.explanation,
    waitingFor: waitingFor(plan, s),
    rollback: s.rollback ? { reason: s.rollback.reason, at: iso(s.rollback.at) } : null,
    driver: { holder: o.driver.holder, epoch: o.driver.epoch, since: iso(o.driver.since) },
    journal: o.journal,
    summary: JSON.parse(statusText(plan, s, { json: true })) as Record<string, unknown>,
    updatedAt: iso(o.now),
  };
}

/** The fields of a status that change only with time (bake, countdowns): left out when deciding whether to write. */
export function statusKey(st: CanaryRolloutStatus): string {
  const { updatedAt: _u, summary, waitingFor, incidents, ...rest } = st;
  const { at: _a, bake, incidents: si, ...sum } = summary as Record<string, unknown> & { bake?: { elapsedMs?: number } | null };
  return JSON.stringify([rest, sum, bake ? { ...bake, elapsedMs: undefined } : null, waitingFor.startsWith('bake ') ? 'bake' : waitingFor, incidents.map((i) => ({ ...i, nextPage: i.nextPage?.roles })), (si as unknown[] | undefined)?.length]);
}
