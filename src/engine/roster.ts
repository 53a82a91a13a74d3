// Who is on call at a given instant, computed from the plan's rotations (never typed in).
import type { Person, Plan } from '../plan/schema.js';
import { parseDuration } from '../plan/schema.js';

export interface OnCall {
  role: string;
  title: string;
  person: Person | null;
  /** When this person's shift ends (rotations only). */
  until?: number;
}

const SHIFT_MS = { daily: 86_400_000, weekly: 604_800_000 } as const;

/** The person holding `role` at `now`: from a rotation if there is one, else the first person with it. */
export function whoIs(plan: Plan, role: string, now: number): OnCall {
  const title = plan.roster.roles.find((r) => r.id === role)?.title ?? role;
  const rot = plan.roster.rotations.find((r) => r.role === role);
  const byId = (id: string) => plan.roster.people.find((p) => p.id === id) ?? null;
  if (rot) {
    const start = Date.parse(rot.start);
    const shift = SHIFT_MS[rot.handoff];
    const n = Math.floor((now - start) / shift);
    const idx = ((n % rot.people.length) + rot.people.length) % rot.people.length;
    return { role, title, person: byId(rot.people[idx]!), until: start + (n + 1) * shift };
  }
  return { role, title, person: plan.roster.people.find((p) => p.roles.includes(role)) ?? null };
}

/** The four the roster pane leads with, in the seed's order. */
export const ON_CALL_ROLES = ['sre-primary', 'sre-secondary', 'eng-lead', 'product-lead'];

export function onCall(plan: Plan, now: number, roles: string[] = ON_CALL_ROLES): OnCall[] {
  return roles.filter((r) => plan.roster.roles.some((x) => x.id === r)).map((r) => whoIs(plan, r, now));
}

export interface EscalationRow {
  severity: string;
  description: string;
  steps: { afterMs: number; label: string; roles: string[] }[];
}

export function escalationMatrix(plan: Plan): EscalationRow[] {
  return (['P0', 'P1', 'P2'] as const).flatMap((sev) => {
    const s = plan.roster.escalation[sev];
    if (!s) return [];
    return [
      {
        severity: sev,
        description: s.description,
        steps: s.steps.map((st) => ({
          afterMs: st.after === 'next_business_day' ? Number.POSITIVE_INFINITY : parseDuration(st.after)!,
          label: st.after === 'next_business_day' ? 'next business day' : st.after === '0m' || st.after === '0s' ? 'now' : st.after,
          roles: st.notify,
        })),
      },
    ];
  });
}
