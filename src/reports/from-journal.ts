// `canary report <journal> --kind daily|weekly`: a stakeholder report regenerated from a journal.
// The journal's events are reduced again one by one, the ledger picks up the history they make,
// and the report is rendered at the step whose state asked for it (the same state and the same
// facts the live runtime rendered from), so the regenerated report says what the live one said.
import type { Plan } from '../plan/schema.js';
import type { Report } from '../plan/reports.js';
import type { RolloutState } from '../engine/types.js';
import { replaySteps, type ReadResult } from '../journal/journal.js';
import { ReportLedger } from './ledger.js';
import { renderReport, type ReportSpec } from './render.js';

export interface ReportSelect {
  every?: 'daily' | 'weekly';
  name?: string;
  /** The last report due at or before this instant (default: the last one in the journal). */
  at?: number;
}

export interface RegeneratedReport {
  spec: ReportSpec;
  markdown: string;
  /** false: none was due in the journal (before `at`): rendered as of its last entry instead. */
  scheduled: boolean;
}

/** The plan's reports that match (by name, else by kind); an error in words when none does. */
export function matchingReports(plan: Plan, sel: ReportSelect): Report[] | string {
  if (plan.reports.length === 0) return 'the plan has no reports (add reports: to it; see README, "The plan")';
  if (sel.name !== undefined) {
    const r = plan.reports.find((x) => x.name === sel.name);
    if (!r) return `no report "${sel.name}" in the plan; it has: ${plan.reports.map((x) => `${x.name} (${x.every})`).join(', ')}`;
    if (sel.every && r.every !== sel.every) return `report "${sel.name}" is ${r.every}, not ${sel.every}`;
    return [r];
  }
  const rs = plan.reports.filter((x) => sel.every === undefined || x.every === sel.every);
  if (rs.length === 0) return `the plan has no ${sel.every} report; it has: ${plan.reports.map((x) => `${x.name} (${x.every})`).join(', ')}`;
  return rs;
}

export function regenerateReport(plan: Plan, read: ReadResult, sel: ReportSelect): RegeneratedReport | string {
  const wanted = matchingReports(plan, sel);
  if (typeof wanted === 'string') return wanted;
  const names = new Set(wanted.map((r) => r.name));
  const ledger = new ReportLedger();
  let found: RegeneratedReport | null = null;
  let last: RolloutState | null = null;
  for (const { state, effects } of replaySteps(plan, read)) {
    ledger.observe(state);
    last = state;
    for (const e of effects) {
      if (e.type !== 'produce-report' || !names.has(e.name)) continue;
      if (sel.at !== undefined && e.dueAt > sel.at) continue;
      found = { spec: e, markdown: renderReport(plan, state, ledger.between(e.from, e.dueAt), e), scheduled: true };
    }
  }
  if (found) return found;
  if (!last) return 'the journal has no entries after its header: nothing to report';
  // None was due: the first matching report, as of the journal's last entry.
  const r = wanted[0]!;
  const dueAt = last.now;
  const start = last.comms.anchor ?? last.startedAt ?? read.header?.at ?? dueAt;
  const spec: ReportSpec = { name: r.name, every: r.every, audience: r.audience, dueAt, from: Math.max(start, dueAt - (r.every === 'daily' ? 1 : 7) * 86_400_000) };
  const note = `_No ${r.every} report ${r.name} was due in this journal${sel.at !== undefined ? ' by then' : ''}: rendered as of its last entry._\n\n`;
  const md = renderReport(plan, last, ledger.between(spec.from, spec.dueAt), spec);
  const nl = md.indexOf('\n\n');
  return { spec, markdown: `${md.slice(0, nl + 2)}${note}${md.slice(nl + 2)}`, scheduled: false };
}
