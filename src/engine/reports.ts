// Stakeholder reports on schedule (plan `reports`): the seed's daily one-pagers for executives
// during the canary phases (from T+24h) and weekly reports for product. The engine only decides
// WHEN one is due, from the injected time, in the plan's time zone: it emits a `produce-report`
// effect and records what came of it (`report.result`, and each channel's `notify.result`). The
// runtime renders the Markdown from the journal's facts (src/reports/). Pure.
import type { Plan } from '../plan/schema.js';
import type { Report } from '../plan/reports.js';
import { fromHours, WEEKDAY_NAMES } from '../plan/report-times.js';
import { calendarDay, zonedInstant } from './calendar.js';
import { formatDate } from './comms.js';
import type { Effect, EffectInput, HistoryEntry, ReportRecord, ReportsState, RolloutState } from './types.js';

export const EMPTY_REPORTS: ReportsState = { next: {}, recent: [] };

interface ReportsTx {
  s: RolloutState;
  cp: { plan: Plan };
  effect(e: EffectInput): Effect;
  log(kind: HistoryEntry['kind'], text: string): void;
}

const DAY_MS = 86_400_000;

function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

function hhmm(r: Report): [number, number] {
  const [h, m] = r.at.split(':').map(Number) as [number, number];
  return [h, m];
}

/** The first scheduled time of `r` at or after `t`, in the plan's time zone (a day across a DST
 * change keeps the report at the same wall-clock time). */
export function nextOccurrence(plan: Plan, r: Report, t: number): number {
  const [h, m] = hhmm(r);
  const start = calendarDay(plan, t).date;
  const want = r.every === 'weekly' ? WEEKDAY_NAMES.indexOf(r.day ?? 'Mon') : -1;
  for (let i = 0; i < 9; i++) {
    const date = addDays(start, i);
    if (want >= 0 && new Date(`${date}T00:00:00Z`).getUTCDay() !== want) continue;
    const at = zonedInstant(plan, date, h, m);
    if (at >= t) return at;
  }
  throw new Error(`report ${r.name}: no occurrence found after ${new Date(t).toISOString()}`);
}

/** The scheduled time before `due` (the start of the period `due` closes). */
export function previousOccurrence(plan: Plan, r: Report, due: number): number {
  const [h, m] = hhmm(r);
  const date = calendarDay(plan, due).date;
  return zonedInstant(plan, addDays(date, r.every === 'weekly' ? -7 : -1), h, m);
}

/** When the schedule starts: the rollout start (communications' anchor) plus the report's `from`. */
function scheduleStart(s: RolloutState, r: Report): number | null {
  const anchor = s.comms.anchor ?? s.startedAt;
  return anchor === null ? null : anchor + fromHours(r.from) * 3_600_000;
}

/** Does `r` cover the rollout as it is now? Not before it started; in `phases` when it names
 * them; a completed rollout gets the report whose period saw it complete, then no more. */
function inScope(plan: Plan, s: RolloutState, r: Report, from: number): boolean {
  if (s.status === 'pending' || s.phaseIndex < 0) return false;
  if (r.phases && !r.phases.includes(plan.phases[s.phaseIndex]!.id)) return false;
  if (s.status === 'completed' && s.statusSince < from) return false;
  return true;
}

/** Called at the end of every reduce: emits a report that came due. Cheap when none is due (one
 * comparison per report). */
export function reportsProgress(tx: ReportsTx): void {
  const plan = tx.cp.plan;
  if (plan.reports.length === 0) return;
  const s = tx.s;
  let rs = s.reports ?? EMPTY_REPORTS;
  for (const r of plan.reports) {
    let next = rs.next[r.name];
    if (next === undefined) {
      const start = scheduleStart(s, r);
      if (start === null) continue;
      next = nextOccurrence(plan, r, start);
      rs = { ...rs, next: { ...rs.next, [r.name]: next } };
    }
    if (s.now < next) continue;
    // Catch up without a flood: only the newest time that has passed is produced (a resumed
    // rollout that slept through three days gets one report, covering its own period).
    let due = next;
    for (let n = nextOccurrence(plan, r, due + 1); n <= s.now; n = nextOccurrence(plan, r, n + 1)) due = n;
    rs = { ...rs, next: { ...rs.next, [r.name]: nextOccurrence(plan, r, due + 1) } };
    const start = scheduleStart(s, r) ?? due;
    const from = Math.max(start - fromHours(r.from) * 3_600_000, previousOccurrence(plan, r, due));
    if (!inScope(plan, s, r, from)) continue;
    const e = tx.effect({ type: 'produce-report', name: r.name, every: r.every, audience: r.audience, dueAt: due, from, channels: [...r.channels] });
    const rec: ReportRecord = { name: r.name, every: r.every, audience: r.audience, dueAt: due, from, effectId: e.id };
    rs = { ...rs, recent: [...rs.recent.slice(-19), rec] };
  }
  if (rs !== s.reports) s.reports = rs;
}

/** "daily report exec-daily (Executive) for Sat 26 Dec 2026 09:00 EST". */
export function reportTitle(plan: Plan, r: { name: string; every: string; audience: string; dueAt: number }): string {
  return `${r.every} report ${r.name} (${r.audience}) for ${formatDate(r.dueAt, plan.metadata.timezone)}`;
}

export function onReportResult(tx: ReportsTx, e: { effectId: number; ok: boolean; detail: string; file?: string }): void {
  const s = tx.s;
  const rs = s.reports ?? EMPTY_REPORTS;
  const rec = rs.recent.find((x) => x.effectId === e.effectId);
  if (!rec || rec.doneAt !== undefined) return;
  const done: ReportRecord = { ...rec, doneAt: s.now, ok: e.ok, detail: e.detail, ...(e.file ? { file: e.file } : {}) };
  s.reports = { ...rs, recent: rs.recent.map((x) => (x === rec ? done : x)) };
  const title = reportTitle(tx.cp.plan, rec);
  if (e.ok) tx.log('info', `${title} written: ${e.file ?? e.detail}`);
  else tx.log('effect', `${title} NOT produced: ${e.detail}`);
}

/** Is this effect id a report's (its channels' outcomes come back as notify.result)? */
export function isReportEffect(s: RolloutState, effectId: number): boolean {
  return (s.reports ?? EMPTY_REPORTS).recent.some((x) => x.effectId === effectId);
}

/** A channel's outcome for a report: counted with the other notifications, kept on the report,
 * and said in the history either way (a report that did not reach its readers is never silent). */
export function onReportSent(tx: ReportsTx, e: { at: number; effectId: number; channel: string; ok: boolean; detail: string; attempts: number }): void {
  const s = tx.s;
  const rs = s.reports ?? EMPTY_REPORTS;
  const rec = rs.recent.find((x) => x.effectId === e.effectId);
  if (!rec) return;
  const n = s.notifications;
  const recent = [...n.recent.slice(-19), { at: s.now, effectId: e.effectId, channel: e.channel, ok: e.ok, detail: e.detail, attempts: e.attempts }];
  s.notifications = { delivered: n.delivered + (e.ok ? 1 : 0), failed: n.failed + (e.ok ? 0 : 1), recent };
  const sent = [...(rec.sent ?? []), { channel: e.channel, ok: e.ok, detail: e.detail }];
  s.reports = { ...rs, recent: rs.recent.map((x) => (x === rec ? { ...rec, sent } : x)) };
  const title = reportTitle(tx.cp.plan, rec);
  if (e.ok) tx.log('info', `${title} sent to ${e.channel}`);
  else tx.log('effect', `${title} NOT sent to ${e.channel} after ${e.attempts} attempt(s): ${e.detail}`);
}
