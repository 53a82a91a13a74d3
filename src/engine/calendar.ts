// The plan's calendar in words: which day it is in the plan's time zone, whether it is a weekend
// or a plan holiday, and so why an approval that depends on the calendar (the seed's "CTO if
// weekend/holiday") is asked for. Pure: a function of the plan and an instant.
import type { Plan } from '../plan/schema.js';
import { fromWall, zoneOffset } from './roster.js';
import type { StartAt } from './start-at.js';

export { parseStartAt, type StartAt } from './start-at.js';

export interface CalendarDay {
  /** YYYY-MM-DD in the plan's time zone. */
  date: string;
  /** Mon..Sun. */
  weekday: string;
  weekend: boolean;
  holiday: boolean;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The day `at` falls on in the plan's time zone. */
export function calendarDay(plan: Plan, at: number): CalendarDay {
  const wall = new Date(at + zoneOffset(plan.metadata.timezone, at));
  const date = wall.toISOString().slice(0, 10);
  const dow = wall.getUTCDay();
  return { date, weekday: WEEKDAYS[dow]!, weekend: dow === 0 || dow === 6, holiday: plan.calendar.holidays.includes(date) };
}

const reasonCache = new WeakMap<Plan, Map<number, string | null>>();

/** Why `at` is a special day, in words: "Fri 2026-12-25 is a plan holiday (America/New_York)",
 * "Sat 2026-12-26 is a weekend (America/New_York)"; null on a working day. Memoized per plan and
 * quarter hour (time zones move days only on quarter-hour marks): the engine asks on every event. */
export function specialDayReason(plan: Plan, at: number): string | null {
  let cache = reasonCache.get(plan);
  if (!cache) reasonCache.set(plan, (cache = new Map()));
  const bucket = Math.floor(at / 900_000);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const d = calendarDay(plan, at);
  const what = d.weekend && d.holiday ? 'a weekend and a plan holiday' : d.weekend ? 'a weekend' : d.holiday ? 'a plan holiday' : null;
  const reason = what === null ? null : `${d.weekday} ${d.date} is ${what} (${plan.metadata.timezone})`;
  if (cache.size > 10_000) cache.clear();
  cache.set(bucket, reason);
  return reason;
}

/** "CTO approval required: Sat 2026-12-26 is a weekend (America/New_York)". */
export function calendarApprovalWhy(title: string, reason: string): string {
  return `${title} approval required: ${reason}`;
}

const aheadCache = new WeakMap<Plan, Map<number, { phase: string; roles: string[] }[]>>();

/** The phases still ahead (not entered) whose gate asks for an approval only on weekends and
 * holidays, with the roles' titles. Memoized per plan and phase. */
export function calendarGatesAhead(plan: Plan, phaseIndex: number): { phase: string; roles: string[] }[] {
  let cache = aheadCache.get(plan);
  if (!cache) aheadCache.set(plan, (cache = new Map()));
  const hit = cache.get(phaseIndex);
  if (hit) return hit;
  const titles = (role: string) => plan.roster.roles.find((r) => r.id === role)?.title ?? role;
  const out = plan.phases
    .map((p, i) => ({ i, phase: p.title, roles: p.approvals.filter((a) => a.when === 'weekend-or-holiday').map((a) => titles(a.role)) }))
    .filter((x) => x.i > phaseIndex && x.roles.length > 0)
    .map(({ phase, roles }) => ({ phase, roles }));
  cache.set(phaseIndex, out);
  return out;
}

/** The instant the plan's wall clock shows `date` (YYYY-MM-DD) at `hh:mm`. */
export function zonedInstant(plan: Plan, date: string, hh: number, mm: number, ss = 0): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return fromWall(plan.metadata.timezone, Date.UTC(y, m - 1, d, hh, mm, ss));
}

/** The instant of a parsed `--start-at`, in the plan's time zone unless it carried an offset. */
export function startAtInstant(plan: Plan, s: StartAt): number {
  if (s.offsetMin === undefined) return zonedInstant(plan, s.date, s.hh, s.mm, s.ss);
  const [y, m, d] = s.date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d, s.hh, s.mm, s.ss) - s.offsetMin * 60_000;
}
