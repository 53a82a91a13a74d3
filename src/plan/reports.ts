// Stakeholder reports in the plan (the seed's "Executive: daily one-pagers during canary phases"
// and "Product: dashboard access + weekly reports"), and the calendar's own checks. Like
// loadtests.ts it imports nothing from the schema (which calls these from its cross-field checks),
// so the two modules form no circle: the checks read only the parts of a plan described below.
import { z } from 'zod';

const RId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected an id: lowercase letters, digits, "-" or "_"');

export { fromHours, WEEKDAY_NAMES } from './report-times.js';
import { fromHours, WEEKDAY_NAMES } from './report-times.js';

export const Report = z.strictObject({
  /** Names the report in files, the journal and `canary report --name`. */
  name: RId,
  /** daily: every day at `at`; weekly: every `day` at `at` (in metadata.timezone). */
  every: z.enum(['daily', 'weekly']),
  /** Who reads it (printed at its top). */
  audience: z.string().min(1),
  /** Local time of day in metadata.timezone, HH:MM. */
  at: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day, HH:MM (00:00 to 23:59)')
    .default('09:00'),
  /** The weekday of a weekly report (default Mon). */
  day: z.enum(WEEKDAY_NAMES).optional(),
  /** The first one is due no earlier than this after the rollout start (the seed: "T+24h: daily
   * status reports begin"). */
  from: z
    .string()
    .regex(/^T\+\d+h$|^T\+?0$/, 'expected T+0, T+24h ...')
    .default('T+0'),
  /** Produced only while the rollout is in one of these phases (default: any phase). */
  phases: z.array(RId).min(1).optional(),
  /** Notification channels it is sent to (by name); none: written to files only. */
  channels: z.array(RId).default([]),
});
export type Report = z.infer<typeof Report>;

/** The parts of a plan the checks read (a `Plan` is one). */
export interface ReportsPlan {
  metadata: { timezone: string };
  calendar: { holidays: readonly string[] };
  phases: readonly { id: string }[];
  notifications?: { channels: readonly { name: string }[] } | undefined;
  reports: readonly Report[];
}

export interface ReportsProblem {
  path: (string | number)[];
  message: string;
}

export function checkReports(plan: ReportsPlan): ReportsProblem[] {
  const problems: ReportsProblem[] = [];
  const phases = new Set(plan.phases.map((p) => p.id));
  const channels = new Set((plan.notifications?.channels ?? []).map((c) => c.name));
  const names = new Set<string>();
  plan.reports.forEach((r, i) => {
    const at = ['reports', i];
    if (names.has(r.name)) problems.push({ path: [...at, 'name'], message: `duplicate report name "${r.name}"` });
    names.add(r.name);
    if (r.every === 'daily' && r.day !== undefined) problems.push({ path: [...at, 'day'], message: `report "${r.name}" is daily: day is for weekly reports only (leave it out, or every: weekly)` });
    r.phases?.forEach((p, j) => {
      if (!phases.has(p)) problems.push({ path: [...at, 'phases', j], message: `unknown phase "${p}"; expected one of: ${[...phases].join(', ')}` });
    });
    r.channels.forEach((c, j) => {
      if (!channels.has(c))
        problems.push({ path: [...at, 'channels', j], message: `unknown channel "${c}"; expected one of notifications.channels: ${[...channels].join(', ') || '(none defined)'}` });
    });
  });
  return problems;
}

/** The calendar the weekend/holiday approvals are judged by: the time zone written as an IANA
 * name (an abbreviation such as "EST" is read as some other zone), and every holiday once. */
export function checkCalendar(plan: ReportsPlan): ReportsProblem[] {
  const problems: ReportsProblem[] = [];
  const tz = plan.metadata.timezone;
  let resolved: string | null = null;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    // unknown: the schema's own zone check says so
  }
  if (resolved !== null && !tz.includes('/') && !/^(UTC|GMT|Etc\/.*)$/i.test(tz) && resolved.toLowerCase() !== tz.toLowerCase())
    problems.push({
      path: ['metadata', 'timezone'],
      message: `time zone "${tz}" is an abbreviation, read as "${resolved}" (its weekends, holidays and daylight saving may not be yours); write an IANA name such as "America/New_York"`,
    });
  const seen = new Map<string, number>();
  plan.calendar.holidays.forEach((d, i) => {
    const first = seen.get(d);
    if (first !== undefined) problems.push({ path: ['calendar', 'holidays', i], message: `holiday ${d} is listed twice (first at holidays[${first}])` });
    else seen.set(d, i);
  });
  return problems;
}
