// A stakeholder report in Markdown: a daily one-pager (the seed's executives, during the canary
// phases) or a weekly report (product). Every figure and every date comes from the journal's
// facts: the state its events reduce to at the report's time, and the history entries they made
// in the period (src/reports/ledger.ts). Dates are in the plan's time zone. Pure.
import type { Plan } from '../plan/schema.js';
import { formatDuration } from '../plan/duration.js';
import { compile } from '../engine/compiled.js';
import { formatDate } from '../engine/comms.js';
import { gateView } from '../engine/gates.js';
import { openIncidents } from '../engine/people.js';
import { calendarGatesAhead, specialDayReason } from '../engine/calendar.js';
import type { HistoryEntry, RolloutState } from '../engine/types.js';
import { printable } from '../plan/printable.js';

export interface ReportSpec {
  name: string;
  every: 'daily' | 'weekly';
  audience: string;
  /** The report's time (the end of its period) and the period's start. */
  dueAt: number;
  from: number;
}

/** Entries of these kinds make the timeline (routine effect confirmations stay in the journal). */
const TIMELINE_KINDS = new Set<HistoryEntry['kind']>(['phase', 'approval', 'checkpoint', 'rollback', 'incident', 'hold', 'refused', 'command']);
const TIMELINE_MAX = { daily: 25, weekly: 60 } as const;

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function num(v: number | null): string {
  if (v === null) return 'no data';
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toFixed(3)));
}

/** The file a report is written to: `<name>-<local date>-<HHMM>.md`. */
export function reportFileName(plan: Plan, spec: Pick<ReportSpec, 'name' | 'dueAt'>): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: plan.metadata.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(spec.dueAt));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${spec.name}-${get('year')}-${get('month')}-${get('day')}-${get('hour')}${get('minute')}.md`;
}

export function renderReport(plan: Plan, s: RolloutState, entries: readonly HistoryEntry[], spec: ReportSpec): string {
  const cp = compile(plan);
  const tz = plan.metadata.timezone;
  const date = (t: number) => formatDate(t, tz);
  const phase = cp.phases[s.phaseIndex];
  const step = phase?.steps[s.stepIndex];
  const inPeriod = entries.filter((e) => e.at >= spec.from && e.at <= spec.dueAt);
  const out: string[] = [];
  const title = spec.every === 'daily' ? 'Daily one-pager' : 'Weekly report';
  out.push(`# ${title}: ${plan.metadata.service} ${plan.metadata.version}`);
  out.push('');
  out.push(`**For:** ${spec.audience} · **As of:** ${date(spec.dueAt)} · **Covers:** ${date(spec.from)} to ${date(spec.dueAt)} (${tz})`);
  out.push('');

  out.push('## Where it stands');
  out.push('');
  const status = s.status === 'rolled-back' ? 'ROLLED BACK' : s.status.toUpperCase();
  const where = phase ? ` in ${phase.title} (step ${s.stepIndex + 1}/${phase.steps.length})` : '';
  const confirmed = s.appliedWeight === s.desiredWeight ? '' : ` (confirmed ${s.appliedWeight ?? '-'}%)`;
  out.push(`- **Status:** ${status}${where}: ${s.desiredWeight}% of traffic on ${plan.metadata.version}${phase ? ` in ${phase.regions.join(', ')}` : ''}${confirmed}, since ${date(s.statusSince)}`);
  if (s.status === 'rolled-back' && s.rollback) out.push(`- **Rolled back** from ${s.rollback.fromWeight}% at ${date(s.rollback.at)} by ${s.rollback.by}: ${s.rollback.reason}`);
  out.push(`- **Rollout started:** ${s.startedAt === null ? 'not yet' : date(s.startedAt)}`);
  if (phase && s.phaseStartedAt !== null && step && (s.status === 'running' || s.status === 'paused')) {
    const planned = plan.phases[s.phaseIndex]!;
    out.push(`- **This phase:** since ${date(s.phaseStartedAt)}; this step baked ${formatDuration(s.stepBakeMs)} of ${formatDuration(step.minMs)} minimum. Audience: ${planned.audience}. Features: ${planned.features}`);
  }
  const g = gateView(plan, s);
  if (g.kind !== 'none' && s.status !== 'completed') {
    const what = g.kind === 'phase' ? `gate into ${g.phase?.title}` : g.kind === 'step' ? `step to ${g.toWeight}%` : 'completion';
    out.push(`- **Next:** ${what} - ${g.allowed ? 'ready' : `waiting for: ${g.blockers.join('; ')}`}`);
  }
  const ahead = calendarGatesAhead(plan, s.phaseIndex);
  const special = specialDayReason(plan, spec.dueAt);
  if (ahead.length && special) out.push(`- **Calendar:** ${special}: ${ahead.map((a) => `${a.phase} needs ${a.roles.join(', ')}`).join('; ')}`);
  const crit = s.criteria;
  if (crit.length) {
    const pass = crit.filter((c) => c.verdict === 'pass').length;
    out.push(`- **Health:** ${pass}/${crit.length} success criteria pass${s.judgment ? `; canary vs baseline ${s.judgment.verdict}${s.judgment.score !== null ? ` (score ${Math.round(s.judgment.score)})` : ''}` : ''}`);
  } else out.push('- **Health:** no analysis yet (no traffic on the canary)');
  const open = openIncidents(s);
  out.push(`- **Open incidents:** ${open.length ? open.map((i) => `${i.id} ${i.severity} ${i.ackedAt !== undefined ? 'acknowledged' : 'open'} since ${date(i.openedAt)}: ${i.summary}`).join('; ') : 'none'}`);
  out.push('');

  out.push(`## In this ${spec.every === 'daily' ? 'day' : 'week'}`);
  out.push('');
  const count = (k: HistoryEntry['kind']) => inPeriod.filter((e) => e.kind === k);
  const phases = count('phase');
  const approvals = count('approval');
  const checkpoints = count('checkpoint');
  const rollbacks = count('rollback');
  const incidents = count('incident');
  const refused = count('refused');
  out.push(`- Phase changes: ${phases.length}${phases.length ? ` (${phases.map((e) => e.text).join('; ')})` : ''}`);
  out.push(`- Approvals given: ${approvals.length}`);
  out.push(`- Checkpoint entries (due, go, no-go): ${checkpoints.length}`);
  out.push(`- Rollbacks: ${rollbacks.length}`);
  out.push(`- Incident events: ${incidents.length}`);
  if (refused.length) out.push(`- Refused actions: ${refused.length}`);
  out.push('');

  if (crit.length) {
    out.push(`## Success criteria at ${date(spec.dueAt)}`);
    out.push('');
    out.push('| SLI | Canary | Threshold | Verdict |');
    out.push('|---|---|---|---|');
    for (const c of crit) {
      const sli = cp.sliByName[c.sli];
      out.push(`| ${cell(sli?.title ?? c.sli)} | ${c.verdict === 'invalid' && c.raw !== undefined ? c.raw : num(c.value)}${sli && c.value !== null ? ` ${sli.unit === 'percent' ? '%' : sli.unit}` : ''} | ${c.op} ${c.threshold} | ${c.verdict} |`);
    }
    out.push('');
  }

  out.push('## Timeline');
  out.push('');
  const timeline = inPeriod.filter((e) => TIMELINE_KINDS.has(e.kind) || (e.kind === 'info' && e.text.startsWith('calendar:')));
  if (timeline.length === 0) out.push('Nothing needed a person or changed the rollout in this period.');
  else {
    const max = TIMELINE_MAX[spec.every];
    out.push(`| When (${tz}) | What |`);
    out.push('|---|---|');
    for (const e of timeline.slice(-max)) out.push(`| ${date(e.at)} | ${cell(e.text)} |`);
    if (timeline.length > max) out.push(`\n${timeline.length - max} earlier entries of this period are in the journal (canary report <journal> for the whole retrospective).`);
  }
  out.push('');
  out.push(`_From the journal of ${plan.metadata.name}: the state at ${date(s.now)} and ${inPeriod.length} journal entr${inPeriod.length === 1 ? 'y' : 'ies'} of the period. Report ${spec.name}._`);
  out.push('');
  // People's summaries and reasons, the plan's names: shown (␛), never written raw to a terminal.
  return printable(out.join('\n'), 'layout');
}
