// Roster: who is on call right now (from the plan's rotations, at the engine's clock) and the
// escalation matrix, compactly.
import { memo } from 'react';
import { Box } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import { escalationMatrix, onCall, type EscalationRow } from '../src/engine/roster.js';
import { cellWidth, fit, formatClock } from './format.js';
import { fitLines, flowItems, Lines, segsWidth, type PLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import type { Theme } from './theme.js';

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

export function rosterLines(plan: Plan, now: number, width: number): PLine[] {
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
    if (until && segs[segs.length - 1] !== until) lines.push({ prio: 58 - i * 0.1, segs: [{ text: ' '.repeat(labelW) }, until] });
  });
  matrix(plan).forEach((row, r) => {
    const items: Seg[][] = row.steps.map((s) => [{ text: `${s.label} `, tone: 'muted' }, { text: s.roles.join(', ') }]);
    const head: Seg[] = [
      { text: row.severity, tone: row.severity === 'P0' ? 'bad' : row.severity === 'P1' ? 'warn' : 'muted', bold: true },
      { text: ` ${row.description}: ` },
    ];
    flowItems(head, items, width, '   ', ' · ').forEach((segs, k) => lines.push({ prio: 60 - r * 10 - k, segs }));
  });
  return lines;
}

export interface RosterPaneProps {
  plan: Plan;
  /** The engine's clock; on-call only changes at hand-offs, so callers may round it to the minute. */
  now: number;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
}

/** Memoized: its inputs change at most once a minute, not on every SLI sample. */
export const RosterPane = memo(function RosterPane({ plan, now, width, height, focused, theme }: RosterPaneProps) {
  const w = paneInnerWidth(width);
  const lines = fitLines(rosterLines(plan, now, w), paneInnerHeight(height));
  return (
    <Pane title="Roster" right="on call" focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={lines} width={w} theme={theme} />
      </Box>
    </Pane>
  );
});
