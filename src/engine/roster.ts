// Who is on call at a given instant, computed from the plan's rotations (never typed in).
import type { Person, Plan, Rotation } from '../plan/schema.js';
import { parseDuration } from '../plan/duration.js';

export interface OnCall {
  role: string;
  title: string;
  person: Person | null;
  /** When this person's shift ends (rotations only). */
  until?: number;
  /** Held by an override of the rotation. */
  override?: boolean;
}

const SHIFT_MS = { daily: 86_400_000, weekly: 604_800_000 } as const;

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function dtf(tz: string): Intl.DateTimeFormat {
  let f = dtfCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    dtfCache.set(tz, f);
  }
  return f;
}

/** Milliseconds to add to UTC to get the wall-clock time in `tz` at instant `t`. */
export function zoneOffset(tz: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of dtf(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(t / 1000) * 1000;
}

/** The instant at which the wall clock in `tz` shows `wall` (wall-clock ms as if UTC). In a
 * spring-forward gap, the instant just after it; in a fall-back repeat, the first one. */
export function fromWall(tz: string, wall: number): number {
  let t = wall - zoneOffset(tz, wall);
  t = wall - zoneOffset(tz, t);
  return t;
}

/** Start of shift `n` of a rotation (n = 0 is `start`). With a time zone, shifts change at the
 * same wall-clock time there, so a day across a DST change is 23 or 25 hours long. */
function shiftStart(rot: Rotation, n: number): number {
  const start = Date.parse(rot.start);
  const shift = SHIFT_MS[rot.handoff];
  if (!rot.timezone) return start + n * shift;
  const wall0 = start + zoneOffset(rot.timezone, start);
  return fromWall(rot.timezone, wall0 + n * shift);
}

/** The last shift looked up per rotation: whoIs is asked many times a minute (gates, the crew,
 * the roster pane) and a zone lookup costs microseconds; a shift lasts a day or a week. */
const lastShift = new WeakMap<Rotation, { n: number; from: number; to: number }>();

function shiftIndex(rot: Rotation, now: number): number {
  const hit = lastShift.get(rot);
  if (hit && hit.from <= now && now < hit.to) return hit.n;
  const n = computeShiftIndex(rot, now);
  lastShift.set(rot, { n, from: shiftStart(rot, n), to: shiftStart(rot, n + 1) });
  return n;
}

function computeShiftIndex(rot: Rotation, now: number): number {
  const start = Date.parse(rot.start);
  const shift = SHIFT_MS[rot.handoff];
  let n = rot.timezone ? Math.floor((now + zoneOffset(rot.timezone, now) - (start + zoneOffset(rot.timezone, start))) / shift) : Math.floor((now - start) / shift);
  while (shiftStart(rot, n) > now) n -= 1;
  while (shiftStart(rot, n + 1) <= now) n += 1;
  return n;
}

/** The person holding `role` at `now`: an override if one covers `now`, else the rotation's
 * shift, else the first person with the role. `until` is when that changes. */
export function whoIs(plan: Plan, role: string, now: number): OnCall {
  const title = plan.roster.roles.find((r) => r.id === role)?.title ?? role;
  const rot = plan.roster.rotations.find((r) => r.role === role);
  const byId = (id: string) => plan.roster.people.find((p) => p.id === id) ?? null;
  if (rot) {
    const n = shiftIndex(rot, now);
    const len = rot.people.length;
    let until = lastShift.get(rot)!.to;
    for (const o of rot.overrides) {
      const from = Date.parse(o.from);
      const to = Date.parse(o.until);
      if (from <= now && now < to) return { role, title, person: byId(o.person), until: to, override: true };
      if (from > now && from < until) until = from; // an override starts before the hand-off
    }
    return { role, title, person: byId(rot.people[((n % len) + len) % len]!), until };
  }
  return { role, title, person: plan.roster.people.find((p) => p.roles.includes(role)) ?? null };
}

/** 09:00 on the next business day (not a weekend, not a plan holiday) in the plan's time zone. */
export function nextBusinessDay(plan: Plan, t: number): number {
  const tz = plan.metadata.timezone;
  const holidays = new Set(plan.calendar.holidays);
  const wall = t + zoneOffset(tz, t);
  let day = Math.floor(wall / 86_400_000) * 86_400_000;
  for (let i = 0; i < 30; i++) {
    day += 86_400_000;
    const d = new Date(day);
    const dow = d.getUTCDay();
    if (dow !== 0 && dow !== 6 && !holidays.has(d.toISOString().slice(0, 10))) break;
  }
  return fromWall(tz, day + 9 * 3_600_000);
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
