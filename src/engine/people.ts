// People during a rollout, in the engine: incidents and their escalation clocks, communications
// coming due, the rollback notice an SRE owes, and how notifications went. Pure like reduce.ts:
// time comes from the state; every page and reminder is recorded in the state, so it is sent
// exactly once and a journal replays to the same state.
import type { Plan } from '../plan/schema.js';
import { formatDuration, parseDuration } from '../plan/duration.js';
import type { CompiledPlan } from './compiled.js';
import { communicationFiles, offsetOf } from './comms.js';
import { nextBusinessDay, whoIs } from './roster.js';
import { actorName } from './types.js';
import type {
  Actor,
  CommsItem,
  CommsState,
  Effect,
  EffectInput,
  HistoryEntry,
  Incident,
  IncidentSeverity,
  NotificationsState,
  Paged,
  RolloutState,
  TripExplanation,
} from './types.js';

/** What reduce.ts's transaction gives these handlers. */
export interface PeopleTx {
  s: RolloutState;
  readonly cp: CompiledPlan;
  effect(e: EffectInput): Effect;
  log(kind: HistoryEntry['kind'], text: string): void;
}

export const EMPTY_COMMS: CommsState = { anchor: null, items: [] };
export const EMPTY_NOTIFICATIONS: NotificationsState = { delivered: 0, failed: 0, recent: [] };
const SEVERITY_RANK: Record<IncidentSeverity, number> = { P0: 0, P1: 1, P2: 2 };
const NOTIFY_SEVERITY = { P0: 'critical', P1: 'warning', P2: 'info' } as const;

const who = (a: Actor) => actorName(a);

export function isOpen(i: Incident): boolean {
  return i.resolvedAt === undefined;
}

/** Open incidents, most severe first, then oldest. */
export function openIncidents(s: Pick<RolloutState, 'incidents'>): Incident[] {
  return s.incidents.filter(isOpen).sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.openedAt - b.openedAt);
}

function replace(tx: PeopleTx, inc: Incident): void {
  tx.s.incidents = tx.s.incidents.map((i) => (i.id === inc.id ? inc : i));
}

/** What a person can say an incident is when declaring it. The immediate kinds are the plan's
 * `rollback.immediate` rules a person can witness (a declared signal such as the P0 customer
 * escalation, or a rule with no `for:` duration: a security breach, data corruption); declaring
 * one rolls back at once. A rule with a duration ("unavailable for more than 5 minutes") is
 * measured, not declared. `other`: an ordinary incident of the chosen severity. */
export interface IncidentKind {
  id: string;
  title: string;
  immediate: boolean;
  /** The severity an immediate kind carries (its signal's, else its rule's `incident`, else P0). */
  severity?: IncidentSeverity;
}

export const OTHER_KIND: IncidentKind = { id: 'other', title: 'Other (no automatic rollback)', immediate: false };

export function incidentKinds(cp: Pick<CompiledPlan, 'rules'>): IncidentKind[] {
  const kinds: IncidentKind[] = [];
  for (const r of cp.rules) {
    if (r.group !== 'immediate' || (r.kind !== 'signal' && r.forMs > 0)) continue;
    kinds.push({ id: r.id, title: r.title, immediate: true, severity: (r.kind === 'signal' ? r.signal.severity : undefined) ?? r.incident ?? 'P0' });
  }
  return [...kinds, OTHER_KIND];
}

/** Opens an incident; its first step (after 0m) is paged by `pagePeople` in the same reduce. */
export function openIncident(tx: PeopleTx, severity: IncidentSeverity, summary: string, by: string, cause: Incident['cause'], rule?: string, kind?: string): Incident {
  const s = tx.s;
  const plan = tx.cp.plan;
  const id = `INC-${s.incidents.length + 1}`;
  const esc = plan.roster.escalation[severity];
  const steps = (esc?.steps ?? []).map((st) => ({
    dueAt: st.after === 'next_business_day' ? nextBusinessDay(plan, s.now) : s.now + parseDuration(st.after)!,
    label: st.after === 'next_business_day' ? 'next business day' : st.after,
    roles: [...st.notify],
  }));
  const inc: Incident = { id, severity, summary, openedAt: s.now, openedBy: by, cause, ...(rule !== undefined ? { rule } : {}), ...(kind !== undefined ? { kind } : {}), steps };
  s.incidents = [...s.incidents, inc];
  const desc = esc ? ` (${esc.description})` : ' (no escalation steps for this severity in the plan)';
  tx.log('incident', `${id} ${severity}${desc} opened by ${by}: ${summary}`);
  tx.effect({ type: 'notify', kind: 'incident', severity: NOTIFY_SEVERITY[severity], incident: id, message: `${plan.metadata.service}: ${id} ${severity}${desc} opened by ${by}: ${summary}` });
  return inc;
}

/** The incident an automatic or immediate rollback opens, with the matching severity. */
export function incidentForRollback(tx: PeopleTx, trigger: TripExplanation): void {
  if (trigger.group === 'manual') return;
  const rule = tx.cp.rules.find((r) => r.id === trigger.rule);
  const severity: IncidentSeverity = rule?.incident ?? (rule?.kind === 'signal' ? rule.signal.severity : undefined) ?? 'P0';
  openIncident(tx, severity, `rolled back: ${trigger.title} (${trigger.rule})`, 'canary', 'rollback', trigger.rule);
}

function paged(plan: Plan, role: string, now: number): Paged {
  const oc = whoIs(plan, role, now);
  return { role, title: oc.title, person: oc.person?.id ?? null, name: oc.person?.name ?? null, ...(oc.person?.slack ? { slack: oc.person.slack } : {}) };
}

/** Pages every step that has come due on an open, unacknowledged incident. */
function pagePeople(tx: PeopleTx): void {
  const s = tx.s;
  for (const inc of s.incidents) {
    if (!isOpen(inc) || inc.ackedAt !== undefined) continue;
    if (!inc.steps.some((st) => st.pagedAt === undefined && st.dueAt <= s.now)) continue;
    const steps = inc.steps.map((st) => {
      if (st.pagedAt !== undefined || st.dueAt > s.now) return st;
      const people = st.roles.map((r) => paged(tx.cp.plan, r, s.now));
      const names = people.map((p) => `${p.title} ${p.name ?? '(nobody)'}${p.slack ? ` ${p.slack}` : ''}`).join(', ');
      tx.log('incident', `${inc.id} ${inc.severity} escalation ${st.label}: paging ${names}`);
      tx.effect({
        type: 'notify',
        kind: 'escalation',
        severity: NOTIFY_SEVERITY[inc.severity],
        incident: inc.id,
        recipients: people,
        message: `${tx.cp.plan.metadata.service}: ${inc.id} ${inc.severity} (${st.label === '0m' ? 'now' : `after ${st.label}`}) paging ${names}: ${inc.summary}`,
      });
      return { ...st, pagedAt: s.now, paged: people };
    });
    replace(tx, { ...inc, steps });
  }
}

/** A person declares an incident. Returns it with its kind (null: refused, and said why). An
 * immediate kind takes its own severity; the caller rolls back. */
export function declareIncident(tx: PeopleTx, actor: Actor, severity: IncidentSeverity, summary: string, kindId?: string): { incident: Incident; kind: IncidentKind } | null {
  const text = summary.trim().replace(/\s+/g, ' ');
  const kinds = incidentKinds(tx.cp);
  const kind = kindId === undefined ? OTHER_KIND : kinds.find((k) => k.id === kindId);
  if (!kind) {
    tx.log('refused', `${who(actor)} declared a "${kindId}" incident: refused - not an incident kind of this plan (kinds: ${kinds.map((k) => k.id).join(', ')})`);
    return null;
  }
  if (!text) {
    tx.log('refused', `${who(actor)} declared a ${severity} incident: refused - no summary; say in one line what is wrong`);
    return null;
  }
  const sev = kind.immediate ? kind.severity! : severity;
  if (!tx.cp.plan.roster.escalation[sev]) tx.log('info', `the plan has no escalation for ${sev}: nobody will be paged`);
  const label = kind.immediate ? `${kind.title}: ${text}` : text;
  return { incident: openIncident(tx, sev, label, who(actor), 'declared', kind.immediate ? kind.id : undefined, kind.id), kind };
}

export function ackIncident(tx: PeopleTx, actor: Actor, id: string | undefined): void {
  const s = tx.s;
  const target = id !== undefined ? s.incidents.find((i) => i.id === id) : openIncidents(s).find((i) => i.ackedAt === undefined);
  if (!target) return tx.log('refused', `${who(actor)} asked to acknowledge: refused - ${id ? `no incident ${id}` : 'no open incident is waiting for an acknowledgment'}`);
  if (!isOpen(target)) return tx.log('refused', `${who(actor)} asked to acknowledge ${target.id}: refused - it is already resolved`);
  if (target.ackedAt !== undefined) return tx.log('refused', `${who(actor)} asked to acknowledge ${target.id}: refused - already acknowledged by ${target.ackedBy}`);
  const pagedSteps = target.steps.filter((st) => st.pagedAt !== undefined).length;
  replace(tx, { ...target, ackedAt: s.now, ackedBy: who(actor) });
  const left = target.steps.length - pagedSteps;
  tx.log('incident', `${who(actor)} acknowledged ${target.id} ${target.severity} after ${formatDuration(s.now - target.openedAt)}: escalation stopped${left ? ` (${left} step(s) not paged)` : ''}`);
  tx.effect({ type: 'notify', kind: 'incident', severity: 'info', incident: target.id, message: `${tx.cp.plan.metadata.service}: ${target.id} ${target.severity} acknowledged by ${who(actor)} after ${formatDuration(s.now - target.openedAt)}` });
}

export function resolveIncident(tx: PeopleTx, actor: Actor, id: string | undefined): void {
  const s = tx.s;
  const open = openIncidents(s);
  let target: Incident | undefined;
  if (id !== undefined) target = s.incidents.find((i) => i.id === id);
  else if (open.length === 1) target = open[0];
  else if (open.length > 1) return tx.log('refused', `${who(actor)} asked to resolve: refused - ${open.length} incidents are open (${open.map((i) => i.id).join(', ')}); say which`);
  if (!target) return tx.log('refused', `${who(actor)} asked to resolve: refused - ${id ? `no incident ${id}` : 'no open incident'}`);
  if (!isOpen(target)) return tx.log('refused', `${who(actor)} asked to resolve ${target.id}: refused - already resolved by ${target.resolvedBy}`);
  replace(tx, { ...target, resolvedAt: s.now, resolvedBy: who(actor), ...(target.ackedAt === undefined ? { ackedAt: s.now, ackedBy: who(actor) } : {}) });
  tx.log('incident', `${who(actor)} resolved ${target.id} ${target.severity} after ${formatDuration(s.now - target.openedAt)}: ${target.summary}`);
  tx.effect({ type: 'notify', kind: 'incident', severity: 'info', incident: target.id, message: `${tx.cp.plan.metadata.service}: ${target.id} ${target.severity} resolved by ${who(actor)} after ${formatDuration(s.now - target.openedAt)}` });
}

// ---------------------------------------------------------------------------------------------
// communications

/** After a manual rollback by someone whose role must notify within a time (the seed: any SRE,
 * 15 min): a reminder with that deadline, satisfied when a channel delivers the rollback
 * notification or the notice is written (c, then w). */
export function rollbackReminder(tx: PeopleTx, actor: Actor, notifyEffectId: number | undefined): void {
  const auth = tx.cp.plan.rollback.authority.filter((a) => a.notifyWithin !== undefined);
  const rule = actor.roles ? auth.find((a) => actor.roles!.includes(a.role)) : auth[0];
  if (!rule) return;
  const s = tx.s;
  const within = parseDuration(rule.notifyWithin!)!;
  const item: CommsItem = {
    key: `rollback-${s.now}`,
    kind: 'rollback-notice',
    label: `within ${rule.notifyWithin}`,
    what: `${who(actor)} rolled back (${rule.scope}): notify stakeholders`,
    dueAt: s.now,
    deadline: s.now + within,
    remindedAt: s.now,
    ...(notifyEffectId !== undefined ? { effectId: notifyEffectId } : {}),
  };
  s.comms = { ...s.comms, items: [...s.comms.items, item] };
  tx.log('info', `reminder: ${who(actor)} rolled back as ${rule.role}; stakeholders must be notified within ${rule.notifyWithin} (c previews, w writes the notice)`);
}

/** The schedule restarts with each rollout start; items come due once, with a notification. */
function commsProgress(tx: PeopleTx): void {
  const s = tx.s;
  const schedule = tx.cp.plan.communications.schedule;
  if (s.startedAt !== null && s.comms.anchor !== s.startedAt) {
    const reminders = s.comms.items.filter((i) => i.kind === 'rollback-notice' && i.doneAt === undefined);
    const items: CommsItem[] = schedule.map((it) => ({
      key: `${it.at}`,
      kind: 'schedule',
      label: it.at,
      what: it.what,
      ...(it.template !== undefined ? { template: it.template } : {}),
      // T-24h and the like fall before the start: canary learns the date when the first gate
      // opens, so they come due then ("before the start"), not as a day overdue.
      dueAt: s.startedAt! + Math.max(0, offsetOf(it.at)),
    }));
    s.comms = { ...s.comms, anchor: s.startedAt, items: [...reminders, ...items] };
  }
  if (!s.comms.items.some((i) => i.remindedAt === undefined && i.doneAt === undefined && i.dueAt <= s.now)) return;
  s.comms = {
    ...s.comms,
    items: s.comms.items.map((i) => {
      if (i.remindedAt !== undefined || i.doneAt !== undefined || i.dueAt > s.now) return i;
      const late = s.now - i.dueAt;
      const text = `communication due: ${i.label} ${i.what}${late > 60_000 ? ` (was due ${formatDuration(late)} ago)` : ''} - c previews, w writes it`;
      tx.log('info', text);
      tx.effect({ type: 'notify', kind: 'communication', severity: 'info', message: `${tx.cp.plan.metadata.service}: ${text}` });
      return { ...i, remindedAt: s.now };
    }),
  };
}

export function writeCommunications(tx: PeopleTx, actor: Actor): void {
  let files: { name: string; text: string }[];
  try {
    files = communicationFiles(tx.cp.plan, tx.s);
  } catch (err) {
    return tx.log('refused', `${who(actor)} asked to write the communications: refused - ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!files.length) return tx.log('refused', `${who(actor)} asked to write the communications: refused - the plan has no templates`);
  const e = tx.effect({ type: 'write-communications', files });
  tx.s.comms = { ...tx.s.comms, writing: e.id };
  tx.log('command', `${who(actor)} is writing ${files.length} communication(s): ${files.map((f) => f.name).join(', ')}`);
}

/** The files were written (or not): due items are done. */
export function communicationsWritten(tx: PeopleTx, ok: boolean, detail: string): void {
  const s = tx.s;
  const { writing: _done, ...rest } = s.comms;
  s.comms = rest;
  if (!ok) return tx.log('effect', `writing communications failed: ${detail}`);
  s.comms = {
    ...s.comms,
    items: s.comms.items.map((i) => (i.doneAt === undefined && i.dueAt <= s.now ? { ...i, doneAt: s.now, doneHow: `written: ${detail}` } : i)),
  };
  tx.log('effect', `communications written: ${detail}`);
}

export function onNotifyResult(tx: PeopleTx, e: { at: number; effectId: number; channel: string; ok: boolean; detail: string; attempts: number }): void {
  const s = tx.s;
  const n = s.notifications;
  const recent = [...n.recent.slice(-19), { at: s.now, effectId: e.effectId, channel: e.channel, ok: e.ok, detail: e.detail, attempts: e.attempts }];
  s.notifications = { delivered: n.delivered + (e.ok ? 1 : 0), failed: n.failed + (e.ok ? 0 : 1), recent };
  if (!e.ok) tx.log('effect', `notification #${e.effectId} to ${e.channel} failed after ${e.attempts} attempt(s): ${e.detail}`);
  else if (s.comms.items.some((i) => i.effectId === e.effectId && i.doneAt === undefined)) {
    s.comms = { ...s.comms, items: s.comms.items.map((i) => (i.effectId === e.effectId && i.doneAt === undefined ? { ...i, doneAt: s.now, doneHow: `delivered to ${e.channel}` } : i)) };
    tx.log('info', `rollback notice delivered to ${e.channel}`);
  }
}

/** Called at the end of every reduce: escalation steps and communications coming due. */
export function peopleProgress(tx: PeopleTx): void {
  if (tx.s.incidents.length) pagePeople(tx);
  if (tx.s.startedAt !== null || tx.s.comms.items.length) commsProgress(tx);
}

// ---------------------------------------------------------------------------------------------
// views

export interface EscalationClock {
  incident: Incident;
  /** Steps paged so far, in order. */
  paged: Incident['steps'];
  /** The next step and how long until it (null: none left, or the clock is stopped). */
  next: { step: Incident['steps'][number]; inMs: number } | null;
  stopped: 'acknowledged' | 'resolved' | 'done' | null;
}

/** Who has been paged, who is next and in how long: a function of the incident and the time. */
export function escalationClock(inc: Incident, now: number): EscalationClock {
  const paged = inc.steps.filter((st) => st.pagedAt !== undefined);
  const stopped = inc.resolvedAt !== undefined ? 'resolved' : inc.ackedAt !== undefined ? 'acknowledged' : null;
  const nextStep = inc.steps.find((st) => st.pagedAt === undefined);
  if (stopped || !nextStep) return { incident: inc, paged, next: null, stopped: stopped ?? 'done' };
  return { incident: inc, paged, next: { step: nextStep, inMs: Math.max(0, nextStep.dueAt - now) }, stopped: null };
}
