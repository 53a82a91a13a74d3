// Who may stop the rollout, and how: the plan's rollback authority, who may declare each
// person-declared signal (the immediate-rollback rules), and the automatic rules. Pure functions of
// the plan, shared by the engine (which enforces them) and `canary validate` (which prints them).
import type { Plan, TripRule } from './schema.js';

export type SignalRule = Extract<TripRule, { kind: 'signal' }>;

/** Roles that may declare `rule`'s signal: its `declaredBy`, or by default (the seed's matrices)
 * the plan's rollback authority plus every role the escalation matrix pages for the signal's
 * severity (P0 when the signal names none). */
export function signalDeclarers(plan: Plan, rule: SignalRule): { roles: string[]; explicit: boolean } {
  if (rule.declaredBy) return { roles: [...rule.declaredBy], explicit: true };
  const roles = new Set(plan.rollback.authority.map((a) => a.role));
  const severity = rule.signal.severity ?? 'P0';
  for (const step of plan.roster.escalation[severity]?.steps ?? []) for (const r of step.notify) roles.add(r);
  return { roles: [...roles], explicit: false };
}

/** Why `roles` may not declare the signal of `rule`, or null when they may. A person without
 * known roles (one operator at their own terminal) may, as with the rollback command. */
export function signalRefusal(plan: Plan, rule: SignalRule, roles: readonly string[] | undefined): string | null {
  if (roles === undefined) return null;
  const { roles: allowed } = signalDeclarers(plan, rule);
  if (allowed.length === 0 || roles.some((r) => allowed.includes(r))) return null;
  const titles = new Map(plan.roster.roles.map((r) => [r.id, r.title]));
  return `the plan lets only ${allowed.map((r) => titles.get(r) ?? r).join(', ')} declare ${rule.signal.name}${rule.signal.severity ? ` ${rule.signal.severity}` : ''} (rule ${rule.id}${rule.declaredBy ? ', declaredBy' : ', by default its rollback authority and escalation matrix'})`;
}

/** Lines saying who can stop the rollout and how (for `canary validate`). */
export function stopLines(plan: Plan): string[] {
  const titles = new Map(plan.roster.roles.map((r) => [r.id, r.title]));
  const title = (r: string) => titles.get(r) ?? r;
  const lines: string[] = [];
  const auth = plan.rollback.authority;
  lines.push(`  roll back (R y, or canary rollback): ${auth.length ? auth.map((a) => title(a.role)).join(', ') : 'anyone at a terminal (no rollback.authority)'}`);
  for (const group of ['immediate', 'automatic', 'circuitBreakers'] as const) {
    for (const r of plan.rollback[group]) {
      if (r.kind !== 'signal') continue;
      const d = signalDeclarers(plan, r);
      lines.push(`  signal ${r.signal.name}${r.signal.severity ? ` ${r.signal.severity}` : ''} (rule ${r.id}, a war-room signal; rolls back at once): ${d.roles.map(title).join(', ')}${d.explicit ? '' : ' (default: rollback authority + escalation matrix)'}`);
    }
  }
  const auto = (['immediate', 'automatic', 'circuitBreakers'] as const).reduce((n, g) => n + plan.rollback[g].filter((r) => r.kind !== 'signal').length, 0);
  lines.push(`  canary itself: ${auto} rule(s) on the data roll back; invalid data ${plan.analysis.invalidData === 'rollback' ? 'rolls back' : 'holds the gates'}`);
  return lines;
}
