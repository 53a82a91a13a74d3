// Pods: a kubectl-style table, canary first, with unhealthy rows marked.
//
// Our own table, not @alcalzone/ink-table: that component draws a separator line between every
// row (so half of a 24-line pane would be lines), and its cell renderer is not told which row it
// is drawing, so an unhealthy row cannot be highlighted as a whole. It also lays out every row it
// is given; here only the visible window is rendered, one <Text> per row, so 3,000 pods cost the
// same per frame as 30. The sort (O(n log n)) happens once per pods change (podsVersion), the
// filter once per filter change.
import { useMemo } from 'react';
import { Box, Text } from 'ink';
import type { PodInfo, RolloutState } from '../src/engine/types.js';
import { fit, fitAscii, formatAge, truncateMiddle } from './format.js';
import { SegLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import { filterRows, HEALTH_GLYPH, podModel, type Health, type PodModel, type PodRow } from './pods.js';
import type { Theme, Tone } from './theme.js';

/** The sorted model (per podsVersion) and the filtered rows (per filter). */
export function usePodRows(state: RolloutState, filter: string): { model: PodModel; rows: PodRow[] } {
  // Keyed on podsVersion, as the engine bumps it on every pods change; the pods object is read
  // from the render that saw that version.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const model = useMemo(() => podModel(state.pods), [state.podsVersion]);
  const rows = useMemo(() => filterRows(model.rows, filter), [model, filter]);
  return { model, rows };
}

/** Rows of the table body for a pane of total height `height` (minus the header). */
export function podsPageSize(height: number): number {
  return Math.max(1, paneInnerHeight(height) - 1);
}

interface Columns {
  name: number;
  track: number;
  region: number;
  ready: number;
  status: number;
  restarts: number;
  age: number;
  restartsLabel: string;
}

/** Column widths for an inner width; NAME takes what is left. */
export function podColumns(width: number, model: PodModel): Columns {
  const c: Columns = {
    name: 0,
    track: 6,
    region: Math.min(model.regionWidth, 14),
    ready: 5,
    status: Math.min(Math.max(6, model.statusWidth), 18),
    restarts: 8,
    age: 4,
    restartsLabel: 'RESTARTS',
  };
  // glyph + 7 columns with a space after each but the last
  const fixed = () => 2 + c.track + 1 + c.region + 1 + c.ready + 1 + c.status + 1 + c.restarts + 1 + c.age;
  c.name = width - fixed() - 1;
  // a pod name's distinctive part is its end; give NAME room before the wide headers
  if (c.name < 24 && c.restarts > 3) {
    c.restarts = 3;
    c.restartsLabel = 'RST';
    c.name = width - fixed() - 1;
  }
  // STATUS says what is wrong (CrashLoopBackOff): cut it only when NAME is nearly gone
  if (c.name < 12 && c.status > 10) {
    c.status = Math.max(10, c.status - (12 - c.name));
    c.name = width - fixed() - 1;
  }
  c.name = Math.max(1, c.name);
  return c;
}

const HEALTH_TONE: Record<Health, Tone | undefined> = { ok: undefined, crash: 'bad', waiting: 'warn' };

/** One table row as one string. Healthy rows are pure ASCII (cut names marked `~`, not `…`):
 * Ink measures every row on every frame and ASCII lines take its fast path. */
function rowText(p: PodInfo, health: Health, c: Columns, now: number): string {
  return (
    `${HEALTH_GLYPH[health]} ${fitAscii(truncateMiddle(p.name, c.name, '~'), c.name)} ${fitAscii(p.track, c.track)} ${fitAscii(p.region, c.region)} ` +
    `${fitAscii(p.ready ? 'yes' : 'no', c.ready)} ${fitAscii(p.reason || p.phase, c.status)} ${fitAscii(String(p.restarts), c.restarts, 'right')} ${fitAscii(formatAge(now - p.startedAt), c.age, 'right')}`
  );
}

/** Consecutive rows of the same health: each run is drawn as one multi-line <Text> (one node for
 * a screenful of healthy pods instead of one per row). */
function runs(rows: PodRow[]): PodRow[][] {
  const out: PodRow[][] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last && last[0]!.health === r.health) last.push(r);
    else out.push([r]);
  }
  return out;
}

export interface PodsPaneProps {
  state: RolloutState;
  model: PodModel;
  /** Sorted and filtered. */
  rows: PodRow[];
  filter: string;
  editingFilter: boolean;
  offset: number;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
}

export function podsTitle(model: PodModel, filter: string, editing: boolean): Seg[] {
  const c = model.counts;
  const segs: Seg[] = [{ text: `${c.canary} canary`, tone: 'info' }, { text: ` · ${c.stable} stable` }];
  if (c.other) segs.push({ text: ` · ${c.other} other` });
  for (const p of c.problems) segs.push({ text: ' · ' }, { text: `${HEALTH_GLYPH[p.health]} ${p.count} ${p.label}`, tone: HEALTH_TONE[p.health], bold: true });
  if (editing || filter) segs.unshift({ text: `/${filter}${editing ? '▏' : ''} `, tone: 'accent', bold: true });
  return segs;
}

export function PodsPane({ state, model, rows, filter, editingFilter, offset, width, height, focused, theme }: PodsPaneProps) {
  const w = paneInnerWidth(width);
  const page = podsPageSize(height);
  const total = rows.length;
  const start = Math.max(0, Math.min(offset, total - page));
  const visible = rows.slice(start, start + page);
  const c = podColumns(w, model);
  const header =
    `  ${fitAscii('NAME', c.name)} ${fitAscii('TRACK', c.track)} ${fitAscii('REGION', c.region)} ${fitAscii('READY', c.ready)} ` +
    `${fitAscii('STATUS', c.status)} ${fitAscii(c.restartsLabel, c.restarts, 'right')} ${fitAscii('AGE', c.age, 'right')}`;
  const right = total === 0 ? `0 of ${model.counts.total}` : `rows ${start + 1}-${start + visible.length} of ${total}${filter ? `/${model.counts.total}` : ''}`;
  return (
    <Pane title="Pods" extra={podsTitle(model, filter, editingFilter)} right={right} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Text wrap="truncate" bold>
          {fit(header, w)}
        </Text>
        {runs(visible).map((run) => (
          <Text key={run[0]!.pod.key} color={theme.c(HEALTH_TONE[run[0]!.health])} bold={run[0]!.health === 'crash'}>
            {run.map((r) => rowText(r.pod, r.health, c, state.now)).join('\n')}
          </Text>
        ))}
        {total === 0 ? (
          <SegLine segs={[{ text: model.counts.total === 0 ? 'no pods yet' : `no pods match /${filter} (esc clears)`, tone: 'muted' }]} width={w} theme={theme} />
        ) : null}
      </Box>
    </Pane>
  );
}
