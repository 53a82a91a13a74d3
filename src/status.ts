// `canary status`: a rollout in a few lines (or one JSON object), like `kubectl argo rollouts status`.
import type { Plan } from './plan/schema.js';
import { formatDuration } from './plan/duration.js';
import { compile } from './engine/compiled.js';
import { gateView } from './engine/gates.js';
import type { RolloutState } from './engine/types.js';
import { escalationClock, openIncidents } from './engine/people.js';
import { calendarDay, calendarGatesAhead, specialDayReason } from './engine/calendar.js';
import { jsonLine, printable } from './plan/printable.js';

export function statusText(plan: Plan, s: RolloutState, opts: { json: boolean; problems?: string[]; torn?: boolean }): string {
  const cp = compile(plan);
  const phase = cp.phases[s.phaseIndex];
  const step = phase?.steps[s.stepIndex];
  const g = gateView(plan, s);
  // The calendar, when a gate ahead asks for more on weekends and holidays (the seed's CTO rule).
  const ahead = calendarGatesAhead(plan, s.phaseIndex);
  const day = calendarDay(plan, s.now);
  const special = specialDayReason(plan, s.now);
  const calendar = ahead.length
    ? { timezone: plan.metadata.timezone, day: `${day.weekday} ${day.date}`, weekend: day.weekend, holiday: day.holiday, reason: special, gates: ahead }
    : null;
  const due = phase ? (s.checkpoints[phase.id] ?? []).filter((c) => c.dueAt !== undefined && c.ackedAt === undefined) : [];
  const summary = {
    plan: plan.metadata.name,
    status: s.status,
    phase: phase?.id ?? null,
    step: phase ? s.stepIndex + 1 : null,
    weight: s.desiredWeight,
    appliedWeight: s.appliedWeight,
    bake: step ? { elapsedMs: s.stepBakeMs, minMs: step.minMs, maxMs: step.maxMs } : null,
    next: g.kind === 'none' ? null : { kind: g.kind, phase: g.phase?.id ?? null, toWeight: g.toWeight, allowed: g.allowed, blockers: g.blockers },
    approvals: g.approvals.map((a) => ({ role: a.role, by: a.given?.by ?? null, ...(a.why ? { why: a.why } : {}) })),
    calendar,
    checkpointsDue: due.map((c) => ({ hour: c.at / 3_600_000, title: c.title })),
    judgment: s.judgment ? { verdict: s.judgment.verdict, score: s.judgment.score, reason: s.judgment.reason } : null,
    holds: s.holds,
    rollback: s.rollback,
    incidents: openIncidents(s).map((i) => {
      const c = escalationClock(i, s.now);
      return { id: i.id, severity: i.severity, summary: i.summary, openedAt: i.openedAt, ackedBy: i.ackedBy ?? null, next: c.next ? { roles: c.next.step.roles, inMs: c.next.inMs } : null };
    }),
    at: s.now,
    problems: opts.problems ?? [],
  };
  if (opts.json) return `${jsonLine(summary)}\n`;
  const lines = [
    `Name:       ${plan.metadata.name} (${plan.metadata.service} ${plan.metadata.version})`,
    `Status:     ${s.status.toUpperCase()}${s.status === 'rolled-back' && s.rollback ? ` - ${s.rollback.reason}` : ''}`,
    `Phase:      ${phase ? `${phase.title} (step ${s.stepIndex + 1}/${phase.steps.length})` : 'not started'}`,
    `Weight:     ${s.desiredWeight}%${s.appliedWeight !== s.desiredWeight ? ` (applied ${s.appliedWeight ?? '?'}%)` : ''}`,
  ];
  if (step && (s.status === 'running' || s.status === 'paused'))
    lines.push(`Bake:       ${formatDuration(s.stepBakeMs)} of ${formatDuration(step.minMs)} minimum${step.maxMs !== step.minMs ? `, ${formatDuration(step.maxMs)} maximum` : ''}`);
  if (g.kind !== 'none') {
    lines.push(`Next:       ${g.kind === 'phase' ? `gate into ${g.phase?.title}` : g.kind === 'step' ? `step to ${g.toWeight}%` : 'complete'} - ${g.allowed ? 'ready' : 'blocked'}`);
    for (const b of g.blockers) lines.push(`              ${b}`);
  }
  if (calendar)
    lines.push(
      `Calendar:   ${calendar.reason ?? `${calendar.day} is a working day (${calendar.timezone})`}: ${calendar.gates.map((x) => `${x.phase} ${calendar.reason ? 'needs' : 'would need on a weekend or holiday'} ${x.roles.join(', ')}`).join('; ')}`,
    );
  if (s.judgment) lines.push(`Judgment:   ${s.judgment.verdict}${s.judgment.score === null ? '' : ` ${Math.round(s.judgment.score)}`} - ${s.judgment.reason}`);
  for (const h of s.holds) lines.push(`Hold:       ${h}`);
  for (const i of openIncidents(s)) {
    const c = escalationClock(i, s.now);
    const state = i.ackedBy ? `acknowledged by ${i.ackedBy}` : c.next ? `next page in ${formatDuration(c.next.inMs)}: ${c.next.step.roles.join(', ')}` : 'every step paged, not acknowledged';
    lines.push(`Incident:   ${i.id} ${i.severity} open ${formatDuration(s.now - i.openedAt)}: ${i.summary} (${state})`);
  }
  if (opts.torn) lines.push('Journal:    its last line was torn (a crash mid-write); it is set aside when the rollout resumes');
  for (const p of opts.problems ?? []) lines.push(`Problem:    ${p}`);
  // Summaries, reasons and names come from people, plans and journals: shown, never obeyed.
  return printable(`${lines.join('\n')}\n`, 'newline');
}
