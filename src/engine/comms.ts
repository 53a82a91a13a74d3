// Communications: the plan's templates rendered with the rollout's real values (phase, dates,
// dashboard link...), and the schedule (T-24h ... T+72h from the rollout start) with what is due.
// Pure: the time is the state's.
import type { Plan } from '../plan/schema.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import { placeholders, TEMPLATE_VALUES } from '../plan/templates.js';
import type { CommsItem, RolloutState } from './types.js';

export class TemplateError extends Error {
  constructor(
    readonly template: string,
    readonly placeholder: string,
    readonly field: 'subject' | 'body',
    readonly line: number,
  ) {
    super(`template "${template}" ${field} line ${line}: unknown placeholder {{${placeholder}}}; known: ${TEMPLATE_VALUES.join(', ')} and communications.values`);
    this.name = 'TemplateError';
  }
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();
/** "Mon 30 Nov 2026 14:00 UTC" in the plan's time zone. */
export function formatDate(t: number, tz: string): string {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    fmtCache.set(tz, f);
  }
  return f.format(new Date(t)).replace(/,/g, '');
}

/** `T-24h` -> -86400000; `T-0`/`T0`/`T+0` -> 0. */
export function offsetOf(at: string): number {
  const m = /^T([+-])?(\d+)?h?$/.exec(at);
  if (!m || !m[2]) return 0;
  return (m[1] === '-' ? -1 : 1) * Number(m[2]) * 3_600_000;
}

function phaseSpan(plan: Plan, index: number): number {
  return plan.phases[index]!.steps.reduce((a, s) => a + parseDuration(s.bake.min)!, 0);
}

/** The values templates get, as of the state's `now`. */
export function templateValues(plan: Plan, s: RolloutState): Record<string, string> {
  const tz = plan.metadata.timezone;
  const date = (t: number) => formatDate(t, tz);
  const started = s.phaseIndex >= 0;
  const idx = started ? s.phaseIndex : 0;
  const phase = plan.phases[idx]!;
  // Dates are facts the journal holds (when the phase was entered, when it rolled back), never
  // "now minus bake": that moves with the clock once the bake stops (rolled back, paused).
  const phaseStart = started ? (s.phaseStartedAt ?? s.now - s.phaseBakeMs) : null;
  const span = phaseSpan(plan, idx);
  // The planned end: what is left of the minimum bake, from now while it counts; fixed otherwise.
  const ended = s.status === 'rolled-back' ? (s.rollback?.at ?? s.statusSince) : null;
  const phaseEnd = phaseStart === null ? null : ended ?? (s.status === 'running' || s.status === 'paused' ? s.now + Math.max(0, span - s.phaseBakeMs) : phaseStart + span);
  const regions = phase.regions === 'all' ? plan.target.regions : phase.regions;
  let timeline: string;
  if (phaseStart === null) timeline = `${phase.title} for ${formatDuration(span)} from the first gate (not opened yet)`;
  else if (ended !== null) timeline = `${phase.title}: ${date(phaseStart)} to ${date(ended)}, rolled back`;
  else {
    timeline = `${phase.title}: ${date(phaseStart)} to ${date(phaseEnd!)} (${formatDuration(span)} minimum bake)`;
    const next = plan.phases[idx + 1];
    if (next) timeline += `; then ${next.title} for at least ${formatDuration(phaseSpan(plan, idx + 1))}`;
  }
  const open = s.incidents.filter((i) => i.resolvedAt === undefined);
  const values: Record<string, string> = {
    service: plan.metadata.service,
    release: plan.metadata.release,
    version: plan.metadata.version,
    previousVersion: plan.metadata.previousVersion,
    owner: plan.metadata.owner,
    plan: plan.metadata.name,
    phase: started ? phase.title : `not started (first: ${phase.title})`,
    phaseId: started ? phase.id : 'pending',
    weight: `${s.desiredWeight}%`,
    audience: phase.audience,
    regions: regions.join(', '),
    features: phase.features,
    date: date(s.now),
    rolloutStart: s.startedAt === null ? 'not started' : date(s.startedAt),
    statusSince: date(s.statusSince),
    phaseStart: phaseStart === null ? 'not started' : date(phaseStart),
    phaseEnd: phaseEnd === null ? 'not started' : date(phaseEnd),
    timeline,
    dashboard: plan.communications.dashboard ?? '(no dashboard link in the plan: communications.dashboard)',
    status: s.status,
    incidents: open.length ? open.map((i) => `${i.id} ${i.severity} ${i.ackedAt !== undefined ? 'acknowledged' : 'open'}: ${i.summary}`).join('; ') : 'none',
    rollbackReason: s.rollback ? s.rollback.reason : 'none',
  };
  return { ...values, ...plan.communications.values };
}

function fill(name: string, field: 'subject' | 'body', text: string, values: Record<string, string>): string {
  for (const p of placeholders(text)) if (!(p.name in values)) throw new TemplateError(name, p.name, field, p.line);
  return text.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_m, k: string) => values[k]!);
}

export interface Rendered {
  name: string;
  audience?: string;
  subject: string;
  body: string;
}

/** One template, or a TemplateError naming the template, the field, the line and the placeholder. */
export function renderTemplate(plan: Plan, name: string, values: Record<string, string>): Rendered {
  const t = plan.communications.templates[name];
  if (!t) throw new Error(`no template "${name}" in communications.templates (there are: ${Object.keys(plan.communications.templates).join(', ') || 'none'})`);
  return { name, ...(t.audience !== undefined ? { audience: t.audience } : {}), subject: fill(name, 'subject', t.subject, values), body: fill(name, 'body', t.body, values) };
}

/** Every template of the plan, rendered for the state's current phase. */
export function renderAll(plan: Plan, s: RolloutState): Rendered[] {
  const values = templateValues(plan, s);
  return Object.keys(plan.communications.templates).map((n) => renderTemplate(plan, n, values));
}

/** The rollback notice a person must send (the seed: any SRE who rolls back notifies within 15 min). */
export function rollbackNotice(plan: Plan, s: RolloutState): Rendered {
  const v = templateValues(plan, s);
  const rb = s.rollback;
  return {
    name: 'rollback-notice',
    audience: 'Engineering, Product, Customer Success, Executive',
    subject: `${v.service} ${v.version}: rolled back${rb ? ` from ${rb.fromWeight}%` : ''}`,
    body: rb
      ? `${v.service} ${v.version} was rolled back to ${v.previousVersion} at ${formatDate(rb.at, plan.metadata.timezone)} by ${rb.by}.\nReason: ${rb.reason}\nTraffic on the canary before: ${rb.fromWeight}%.\nOpen incidents: ${v.incidents}\nMonitoring: ${v.dashboard}\n`
      : 'No rollback.\n',
  };
}

/** Files `w` writes: every template, plus the rollback notice while one is owed. */
export function communicationFiles(plan: Plan, s: RolloutState): { name: string; text: string }[] {
  const phase = s.phaseIndex >= 0 ? plan.phases[s.phaseIndex]!.id : 'pending';
  const stamp = new Date(s.now).toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const docs = renderAll(plan, s);
  if (s.comms.items.some((i) => i.kind === 'rollback-notice' && i.doneAt === undefined)) docs.push(rollbackNotice(plan, s));
  return docs.map((d) => ({
    name: `${plan.metadata.name}-${stamp}-${phase}-${d.name}.md`,
    text: `Subject: ${d.subject}\n${d.audience ? `Audience: ${d.audience}\n` : ''}\n${d.body}${d.body.endsWith('\n') ? '' : '\n'}`,
  }));
}

/** Where an item stands at `now`. */
export function itemStatus(item: CommsItem, now: number): 'done' | 'overdue' | 'due' | 'upcoming' {
  if (item.doneAt !== undefined) return 'done';
  if (item.deadline !== undefined && now > item.deadline) return 'overdue';
  if (item.dueAt <= now) return 'due';
  return 'upcoming';
}
