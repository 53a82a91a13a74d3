// What the console shows about people: open incidents with their escalation clocks and the
// reminders that are due (roster pane), the incident and resolve dialogs, and the communications
// preview. Pure functions of plan + state + time, returning coloured lines.
import type { Plan } from '../src/plan/schema.js';
import { formatDuration } from '../src/plan/schema.js';
import { escalationClock, openIncidents } from '../src/engine/people.js';
import { communicationFiles, formatDate, itemStatus } from '../src/engine/comms.js';
import type { CommsItem, Incident, RolloutState } from '../src/engine/types.js';
import { cellWidth, formatClock, wrap } from './format.js';
import { flowItems, type PLine, type Seg } from './line.js';
import { SEVERITIES, SUMMARY_MAX, type IncidentDraft } from './ui.js';
import type { Tone } from './theme.js';

const sevTone = (sev: string): Tone => (sev === 'P0' ? 'bad' : sev === 'P1' ? 'warn' : 'muted');

/** Lines for one incident: the head, who was paged, and who is next in how long. */
export function incidentLines(plan: Plan, inc: Incident, now: number, width: number, prio: number): PLine[] {
  const clock = escalationClock(inc, now);
  const lines: PLine[] = [];
  const head: Seg[] = [
    { text: inc.ackedAt === undefined ? '● ' : '○ ', tone: sevTone(inc.severity), bold: true },
    { text: `${inc.id} ${inc.severity}`, tone: sevTone(inc.severity), bold: true },
    { text: ` ${formatDuration(now - inc.openedAt)} `, tone: 'muted' },
    { text: inc.summary },
  ];
  lines.push({ prio, segs: head });
  const status: PLine[] = [];
  if (clock.next) {
    const n = clock.next;
    const who = n.step.roles.map((r) => plan.roster.roles.find((x) => x.id === r)?.title ?? r).join(', ');
    status.push({
      prio: prio - 0.1,
      segs: [
        { text: '  next in ', tone: 'muted' },
        { text: formatDuration(n.inMs), tone: 'warn', bold: true },
        { text: ': ' },
        { text: who },
        { text: n.step.label === 'next business day' ? ` (${formatClock(n.step.dueAt, plan.metadata.timezone)})` : ` (at ${n.step.label})`, tone: 'muted' },
        { text: '  k ack', tone: 'accent' },
      ],
    });
  } else if (clock.stopped === 'acknowledged') {
    status.push({ prio: prio - 0.1, segs: [{ text: `  clock stopped: acked by ${inc.ackedBy} +${formatDuration(inc.ackedAt! - inc.openedAt)}`, tone: 'ok' }, { text: '  I resolve', tone: 'accent' }] });
  } else {
    status.push({ prio: prio - 0.1, segs: [{ text: '  every step paged', tone: 'bad' }, { text: '  k ack', tone: 'accent' }] });
  }
  // Who has been paged, step by step, flowed over as many lines as it takes (after the clock).
  const paged: PLine[] = [];
  if (clock.paged.length) {
    const items: Seg[][] = clock.paged.flatMap((st) => (st.paged ?? []).map((p): Seg[] => [{ text: p.name ?? `${p.title} (nobody)` }]));
    flowItems([{ text: '  paged ', tone: 'muted' }], items, width, '        ', ', ').forEach((segs, k) => paged.push({ prio: prio - 0.2 - k * 0.01, segs }));
  }
  return [...lines, ...status, ...paged];
}

/** A reminder line: the rollback notice's countdown, or a communication that is due. */
function reminderSegs(plan: Plan, item: CommsItem, now: number): Seg[] {
  const st = itemStatus(item, now);
  if (item.kind === 'rollback-notice') {
    const left = item.deadline! - now;
    return [
      { text: '⏰ ', tone: st === 'overdue' ? 'bad' : 'warn', bold: true },
      st === 'overdue' ? { text: `OVERDUE by ${formatDuration(-left)}`, tone: 'bad', bold: true } : { text: `${formatDuration(left)} left`, tone: 'warn', bold: true },
      { text: ': notify stakeholders of the rollback', bold: true },
      { text: '  c w', tone: 'accent' },
    ];
  }
  return [
    { text: '✉ ', tone: 'warn' },
    { text: `${item.label} `, bold: true },
    { text: item.what },
    { text: ` due ${formatClock(item.dueAt, plan.metadata.timezone)}`, tone: 'muted' },
    { text: '  c', tone: 'accent' },
  ];
}

/** Open incidents (most severe first) and due reminders, for the top of the roster pane. */
/** What the roster pane's people lines read (stable references between samples). */
export type PeopleView = Pick<RolloutState, 'now' | 'incidents' | 'comms' | 'notifications'>;

export function peopleLines(plan: Plan, s: PeopleView, width: number): PLine[] {
  const lines: PLine[] = [];
  openIncidents(s).forEach((inc, i) => lines.push(...incidentLines(plan, inc, s.now, width, 99 - i)));
  const due = s.comms.items.filter((i) => i.doneAt === undefined && i.dueAt <= s.now);
  // the rollback notice first, then the newest communication due
  due.sort((a, b) => (a.kind === b.kind ? b.dueAt - a.dueAt : a.kind === 'rollback-notice' ? -1 : 1));
  due.slice(0, 2).forEach((item, i) => lines.push({ prio: 95 - i, segs: reminderSegs(plan, item, s.now) }));
  const failed = s.notifications.recent.filter((r) => !r.ok);
  const lastFail = failed.at(-1);
  if (lastFail && s.now - lastFail.at < 30 * 60_000)
    lines.push({ prio: 80, segs: [{ text: '✗ ', tone: 'bad' }, { text: `notify ${lastFail.channel}: ${lastFail.detail}`, tone: 'bad' }, { text: ` (${s.notifications.failed} failed)`, tone: 'muted' }] });
  return lines;
}

/** The `i` dialog's lines. */
export function declareLines(draft: IncidentDraft, width: number): Seg[][] {
  const sev: Seg[] = [{ text: 'Severity  ' }];
  for (const x of SEVERITIES) sev.push(x === draft.severity ? { text: `[${x}]`, tone: sevTone(x), bold: true } : { text: ` ${x} `, tone: 'muted' }, { text: ' ' });
  sev.push({ text: ' ←/→ or tab', tone: 'accent' });
  const room = Math.max(10, width - 12);
  const text = draft.summary;
  const shown = cellWidth(text) + 1 > room ? `…${[...text].slice(-(room - 2)).join('')}` : text;
  return [
    sev,
    [{ text: 'Summary   ' }, { text: shown, bold: true }, { text: '▏', tone: 'accent' }],
    [{ text: `one line, at most ${SUMMARY_MAX} characters (${[...text].length} so far)`, tone: 'muted' }],
    [{ text: '' }],
    [{ text: 'enter declares and starts the escalation clock  esc cancels', tone: 'accent' }],
    [{ text: 'R still rolls back (R is never text here: type r)', tone: 'muted' }],
  ];
}

/** The `I` dialog's lines: the open incidents, the selected one marked. */
export function resolveLines(s: RolloutState, index: number): Seg[][] {
  const open = openIncidents(s);
  const lines: Seg[][] = open.map((inc, i) => [
    { text: i === index ? '▶ ' : '  ', tone: 'accent', bold: true },
    { text: `${inc.id} ${inc.severity}`, tone: sevTone(inc.severity), bold: true },
    { text: ` ${inc.summary}` },
    { text: ` (${formatDuration(s.now - inc.openedAt)}${inc.ackedBy ? `, acked by ${inc.ackedBy}` : ', not acknowledged'})`, tone: 'muted' },
  ]);
  lines.push([{ text: '' }], [{ text: '↑/↓ choose  y or enter resolves  any other key cancels', tone: 'accent' }]);
  return lines;
}

const STATUS_MARK: Record<ReturnType<typeof itemStatus>, Seg> = {
  done: { text: '✓ ', tone: 'ok' },
  due: { text: '! ', tone: 'warn', bold: true },
  overdue: { text: '✗ ', tone: 'bad', bold: true },
  upcoming: { text: '· ', tone: 'muted' },
};

/** The communications preview: the schedule, reminders, channels, then every template rendered
 * with the current values (or the template error, named). */
export function commsLines(plan: Plan, s: RolloutState, width: number, opts: { notifyOn?: readonly string[]; notifyOff?: readonly string[]; commsDir?: string }, canWrite = true): Seg[][] {
  const tz = plan.metadata.timezone;
  const out: Seg[][] = [];
  const phase = s.phaseIndex >= 0 ? plan.phases[s.phaseIndex]!.title : 'not started';
  out.push([{ text: `${phase}`, bold: true }, { text: s.comms.anchor !== null ? ` · T = ${formatDate(s.comms.anchor, tz)}` : ' · T = the first gate (not opened yet)', tone: 'muted' }]);
  if (!s.comms.items.length) {
    for (const item of plan.communications.schedule) out.push([STATUS_MARK.upcoming, { text: `${item.at.padEnd(6)}`, bold: true }, { text: item.what }]);
  }
  for (const item of s.comms.items) {
    const st = itemStatus(item, s.now);
    const when =
      item.kind === 'rollback-notice'
        ? st === 'done'
          ? ` - ${item.doneHow}`
          : ` - by ${formatClock(item.deadline!, tz)} (${st === 'overdue' ? `overdue by ${formatDuration(s.now - item.deadline!)}` : `${formatDuration(item.deadline! - s.now)} left`})`
        : st === 'done'
          ? ` - ${item.doneHow}`
          : st === 'upcoming'
            ? ` - ${formatClock(item.dueAt, tz)} (in ${formatDuration(item.dueAt - s.now)})`
            : ` - due since ${formatClock(item.dueAt, tz)}`;
    out.push([STATUS_MARK[st], { text: `${item.label.padEnd(6)} `, bold: true }, { text: item.what }, ...(item.template ? [{ text: ` [${item.template}]`, tone: 'muted' as const }] : []), { text: when, tone: st === 'overdue' ? 'bad' : 'muted' }]);
  }
  const on = opts.notifyOn ?? [];
  const off = opts.notifyOff ?? [];
  out.push([{ text: 'Channels ', bold: true }, { text: on.length ? on.join(', ') : 'none on', tone: on.length ? 'ok' : 'warn' }, ...(off.length ? [{ text: ` · off: ${off.join('; ')}`, tone: 'muted' as const }] : []), { text: ` · ${s.notifications.delivered} delivered, ${s.notifications.failed} failed`, tone: s.notifications.failed ? 'bad' : 'muted' }]);
  // A read-only view (a replay, a viewer, a terminal that does not drive) has no `w`.
  if (canWrite) out.push([{ text: `w writes the files below to ${opts.commsDir ?? '(no directory configured)'}`, tone: 'accent' }]);
  let files: { name: string; text: string }[];
  try {
    files = communicationFiles(plan, s);
  } catch (err) {
    out.push([{ text: '' }], [{ text: err instanceof Error ? err.message : String(err), tone: 'bad', bold: true }]);
    return out;
  }
  for (const f of files) {
    out.push([{ text: '' }], [{ text: `── ${f.name} `, tone: 'info', bold: true }]);
    for (const l of f.text.replace(/\n+$/, '').split('\n')) for (const w of l ? wrap(l, width, '  ') : ['']) out.push([{ text: w }]);
  }
  return out;
}
