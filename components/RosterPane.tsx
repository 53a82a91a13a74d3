// Roster: who is on call right now (from the plan's rotations, at the engine's clock) and the
// escalation matrix, compactly.
import { memo } from 'react';
import { Box } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import { escalationMatrix, onCall, type EscalationRow } from '../src/engine/roster.js';
import { cellWidth, fit, formatClock } from './format.js';
import { fitLines, flowItems, Lines, segsWidth, truncateSegs, type PLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import type { Theme } from './theme.js';
import { peopleLines, type PeopleView } from './people.js';

/** Role labels for narrow panes. */
const SHORT_ROLE: Record<string, string> = {
  'sre-primary': 'Primary',
  'sre-secondary': 'Second.',
  'eng-lead': 'Eng lead',
  'product-lead': 'PM',
};

const matrixCache = new WeakMap<Plan, EscalationRow[]>();
function matrix(plan: Plan): EscalationRow[] {
  let m = matrixCache.get(plan);
  if (!m) {
    m = escalationMatrix(plan);
    matrixCache.set(plan, m);
  }
  return m;
}

/** Segments cut to `width`, always ending with … when something was cut (truncateSegs alone
 * leaves no mark when the cut falls between two segments). */
function cutSegs(segs: Seg[], width: number): Seg[] {
  if (segsWidth(segs) <= width) return segs;
  const out = truncateSegs(segs, Math.max(0, width - 1));
  if (!out.at(-1)?.text.endsWith('…')) out.push({ text: '…', tone: 'muted' });
  return out;
}

const severityTone = (sev: string) => (sev === 'P0' ? 'bad' : sev === 'P1' ? 'warn' : 'muted');

/** The full layout: a line per person (the hand-off time below it when it has no room on the
 * line) and the escalation matrix with descriptions, flowed over as many lines as it takes. */
function fullLines(plan: Plan, now: number, width: number, withUntilLines: boolean): PLine[] {
  const lines: PLine[] = [];
  const people = onCall(plan, now);
  const compact = width < 46;
  const labels = people.map((p) => (compact ? (SHORT_ROLE[p.role] ?? p.title) : p.title));
  const labelW = Math.max(0, ...labels.map(cellWidth));
  people.forEach((p, i) => {
    const segs: Seg[] = [{ text: `${fit(labels[i]!, labelW)} `, tone: 'muted' }];
    let until: Seg | undefined;
    if (p.person) {
      segs.push({ text: p.person.name, bold: true });
      if (p.person.slack) segs.push({ text: ` ${p.person.slack}`, tone: 'info' });
      if (p.until !== undefined) until = { text: ` until ${formatClock(p.until, plan.metadata.timezone)}`, tone: 'muted' };
    } else segs.push({ text: 'nobody', tone: 'bad' });
    if (until && segsWidth(segs) + cellWidth(until.text) <= width) segs.push(until);
    lines.push({ prio: 90 - i, segs });
    // no room on the line: the hand-off time goes below, when the pane has a row to spare
    if (withUntilLines && until && segs[segs.length - 1] !== until) lines.push({ prio: 58 - i * 0.1, segs: [{ text: ' '.repeat(labelW) }, until] });
  });
  matrix(plan).forEach((row, r) => {
    const items: Seg[][] = row.steps.map((s) => [{ text: `${s.label} `, tone: 'muted' }, { text: s.roles.join(', ') }]);
    const head: Seg[] = [
      { text: row.severity, tone: severityTone(row.severity), bold: true },
      { text: ` ${row.description}: ` },
    ];
    flowItems(head, items, width, '   ', ' · ').forEach((segs, k) => lines.push({ prio: 60 - r * 10 - k, segs }));
  });
  return lines;
}

/** The short-of-space layout: one line per person (`Primary Ana Ortiz @ana.ortiz`, no hand-off
 * line), and every severity on at least one line (`P0 now sre-primary,eng-lead · 15m …`), cut
 * with … rather than dropped; rows to spare go to the severities' further steps, P0 first. When
 * even that is too tall, the primary and the severities stay and the other people go first. */
function compactLines(plan: Plan, now: number, width: number, height: number): PLine[] {
  const people = onCall(plan, now);
  const labels = people.map((p) => SHORT_ROLE[p.role] ?? p.title);
  const personSegs = (i: number, labelW: number): Seg[] => {
    const p = people[i]!;
    const segs: Seg[] = [{ text: `${labelW > 0 ? fit(labels[i]!, labelW) : labels[i]!} `, tone: 'muted' }];
    if (!p.person) return [...segs, { text: 'nobody', tone: 'bad' }];
    segs.push({ text: p.person.name, bold: true });
    if (p.person.slack) segs.push({ text: ` ${p.person.slack}`, tone: 'info' });
    return segs;
  };
  // aligned names when every line fits that way, else a single space after each label
  const alignedW = Math.max(0, ...labels.map(cellWidth));
  const aligned = people.every((_p, i) => segsWidth(personSegs(i, alignedW)) <= width);
  const personLines: PLine[] = people.map((_p, i) => ({ prio: i === 0 ? 90 : 86 - i, segs: cutSegs(personSegs(i, aligned ? alignedW : 0), width) }));

  const rows = matrix(plan);
  let spare = Math.max(0, height - people.length - rows.length);
  const sevLines: PLine[] = [];
  rows.forEach((row, r) => {
    const items: Seg[][] = row.steps.map((s) => [{ text: `${s.label} `, tone: 'muted' }, { text: s.roles.join(',') }]);
    const head: Seg[] = [{ text: `${row.severity} `, tone: severityTone(row.severity), bold: true }];
    const flow = (k: number) => flowItems(head, items.slice(0, k), width, '   ', ' · ');
    const all = flow(items.length);
    const n = Math.min(all.length, 1 + spare);
    let lines = all;
    if (n < all.length) {
      // the most steps that flow onto n - 1 lines, and the rest on the last line, cut with …
      let k = 0;
      while (n > 1 && k < items.length && flow(k + 1).length <= n - 1) k++;
      const last: Seg[] = k === 0 ? [...head] : [{ text: '   ' }];
      items.slice(k).forEach((it, j) => last.push(...(j ? [{ text: ' · ' }] : []), ...it));
      lines = [...(k === 0 ? [] : flow(k)), last];
    }
    spare -= lines.length - 1;
    // a severity's first line outranks everyone but the primary (further lines exist only when
    // every first line and every person has a row)
    lines.forEach((segs, k) => sevLines.push({ prio: k === 0 ? 89 - r : 70 - r - k * 0.01, segs: cutSegs(segs, width) }));
  });
  // reference, already summarized to fit (the matrix in its compact form): no "more" line
  return fitLines([...personLines, ...sevLines], height, false);
}

/** The roster's lines for an inner area of `width` x `height`: the full layout when it fits,
 * else without the hand-off lines, else the compact one (see compactLines). */
export function rosterLines(plan: Plan, now: number, width: number, height = Number.POSITIVE_INFINITY): PLine[] {
  const full = fullLines(plan, now, width, true);
  if (full.length <= height) return full;
  const noUntil = fullLines(plan, now, width, false);
  if (noUntil.length <= height) return noUntil;
  return compactLines(plan, now, width, height);
}

export interface RosterPaneProps {
  plan: Plan;
  /** The engine's clock; on-call only changes at hand-offs, so callers may round it to the minute. */
  now: number;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
  /** Given while there are incidents, reminders or failed notifications to show: they lead the
   * pane (escalation clock: paged, next and countdown), the on-call list and matrix follow. */
  state?: PeopleView;
}

/** Memoized: its inputs change at most once a minute, not on every SLI sample. */
export const RosterPane = memo(function RosterPane({ plan, now, width, height, focused, theme, state }: RosterPaneProps) {
  const w = paneInnerWidth(width);
  const h = paneInnerHeight(height);
  const people = state ? peopleLines(plan, state, w).map((l) => ({ ...l, segs: cutSegs(l.segs, w) })) : [];
  const lines = people.length ? fitLines([...people, ...rosterLines(plan, now, w, Math.max(1, h - people.length))], h) : fitLines(rosterLines(plan, now, w, h), h, false);
  const open = state ? state.incidents.filter((i) => i.resolvedAt === undefined).length : 0;
  return (
    <Pane title="Roster" right={open ? `● ${open} incident${open > 1 ? 's' : ''}` : 'on call'} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={lines} width={w} theme={theme} />
      </Box>
    </Pane>
  );
});
