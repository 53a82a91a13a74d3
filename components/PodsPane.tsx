// Pods: a kubectl-style table, canary first, with unhealthy rows marked.
//
// Our own table, not @alcalzone/ink-table: that component draws a separator line between every
// row (so half of a 24-line pane would be lines), and its cell renderer is not told which row it
// is drawing, so an unhealthy row cannot be highlighted as a whole. It also lays out every row it
// is given; here only the visible window is rendered, one <Text> per run of rows (see runs), so
// 3,000 pods cost the same per frame as 30. NAME gets the width the longest name needs before the
// other columns (see podColumns); a name that still does not fit is cut from the middle with …,
// keeping its distinctive end (orchestrator-canary-…-khjlq), never mid-name. The sort (O(n log n)) happens once per pods change (podsVersion), the
// filter once per filter change.
import { useMemo } from 'react';
import { Box, Text } from 'ink';
import type { PodInfo, RolloutState } from '../src/engine/types.js';
import { fit, fitAscii, formatAge } from './format.js';
import { SegLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import { abbreviateRegion, cutPodName, filterRows, POD_SORT_LABEL, sortRows, type PodSort, HEALTH_GLYPH, needsCut, podModel, podNameTail, truncatePodName, type Health, type PodModel, type PodRow } from './pods.js';
import type { Theme, Tone } from './theme.js';

/** The sorted model (per podsVersion) and the filtered rows (per filter). */
export function usePodRows(state: RolloutState, filter: string, sort: PodSort = 'health'): { model: PodModel; rows: PodRow[] } {
  // Keyed on podsVersion, as the engine bumps it on every pods change; the pods object is read
  // from the render that saw that version.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const model = useMemo(() => podModel(state.pods), [state.podsVersion]);
  const sorted = useMemo(() => sortRows(model.rows, sort), [model, sort]);
  const rows = useMemo(() => filterRows(sorted, filter), [sorted, filter]);
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
  readyLabel: string;
  regionLabel: string;
  restartsLabel: string;
  /** REGION in the short form (us-east-1 -> use1). */
  shortRegion: boolean;
}

/** Column widths for an inner width: a function of the width (and the plan's region names) only,
 * so the columns never switch while pods come and go, crash or get replaced. NAME is given room
 * for a typical pod name (NAME_ROOM) first: the other columns give way (RESTARTS -> RST, READY ->
 * RDY, REGION abbreviated, then STATUS from 16 cells (CrashLoopBackOff) down to 11); NAME takes
 * what is left, and a longer name is cut from the middle (see truncatePodName). */
export const NAME_ROOM = 31;
export function podColumns(width: number, model: PodModel): Columns {
  const c: Columns = {
    name: 0,
    track: 6,
    region: Math.min(model.regionWidth, 14),
    ready: 5,
    status: 16,
    restarts: 8,
    age: 4,
    readyLabel: 'READY',
    regionLabel: 'REGION',
    restartsLabel: 'RESTARTS',
    shortRegion: false,
  };
  // glyph + 7 columns with a space after each but the last
  const fixed = () => 2 + c.track + 1 + c.region + 1 + c.ready + 1 + c.status + 1 + c.restarts + 1 + c.age;
  const room = () => width - fixed() - 1;
  const need = NAME_ROOM;
  // narrower headers cost nothing: the values fit (restarts < 1000, yes/no)
  if (room() < need) {
    c.restarts = 3;
    c.restartsLabel = 'RST';
  }
  if (room() < need) {
    c.ready = 3;
    c.readyLabel = 'RDY';
  }
  // then the region in its short form, when the short forms are distinct
  if (room() < need && model.regionShortWidth !== null && model.regionShortWidth < c.region) {
    c.region = model.regionShortWidth;
    c.regionLabel = c.region >= 6 ? 'REGION' : 'RGN';
    c.shortRegion = true;
  }
  // then STATUS down to 11 (CrashLoopBa…; the ✗ and the title's counts still say it in full)
  if (room() < need) c.status = Math.max(11, c.status - (need - room()));
  c.name = Math.max(1, room());
  return c;
}

const HEALTH_TONE: Record<Health, Tone | undefined> = { ok: undefined, crash: 'bad', waiting: 'warn' };

/** The cells after NAME, one string (ASCII for every pod name and status kubectl produces). */
function restText(p: PodInfo, c: Columns, now: number): string {
  return (
    `${fitAscii(p.track, c.track)} ${fitAscii(c.shortRegion ? abbreviateRegion(p.region) : p.region, c.region)} ` +
    `${fitAscii(p.ready ? 'yes' : 'no', c.ready)} ${fitAscii(p.reason || p.phase, c.status)} ${fitAscii(String(p.restarts), c.restarts, 'right')} ${fitAscii(formatAge(now - p.startedAt), c.age, 'right')}`
  );
}

/** A run of rows drawn together: consecutive rows of the same health, either as one multi-line
 * <Text> (`text`), or, for names that had to be cut, as three side-by-side columns: the rows up
 * to the cut (`left`), a column of … and the rows from the kept end of the name on (`right`). */
type Run = { key: string; health: Health; text: string } | { key: string; health: Health; left: string; right: string; rows: number };

/** The visible rows as runs. Ink measures every line of every <Text> on every frame, and an ASCII
 * line takes its fast path while any other character costs a grapheme segmentation of the whole
 * line (about 3x): so a healthy row is one ASCII string, and a cut name's … is drawn in a column
 * of its own, at the same place on every cut row (the names keep the same number of characters
 * of their end: enough for the longest -suffix among them), leaving the rest of those rows ASCII
 * too. One node per run, not per row: 3,000 pods cost what a screenful costs. */
function runs(rows: PodRow[], c: Columns, now: number, marked: string | null = null): Run[] {
  let tail = 0;
  for (const r of rows) if (needsCut(r.pod.name, c.name)) tail = Math.max(tail, podNameTail(r.pod.name, c.name));
  const out: Run[] = [];
  for (const r of rows) {
    const glyph = HEALTH_GLYPH[r.health];
    const rest = restText(r.pod, c, now);
    const last = out[out.length - 1];
    if (needsCut(r.pod.name, c.name)) {
      const cut = cutPodName(r.pod.name, c.name, tail);
      const left = `${glyph}${r.pod.key === marked ? '>' : ' '}${cut.head}`;
      const right = `${cut.tail} ${rest}`;
      if (last && 'left' in last && last.health === r.health) {
        last.left += `\n${left}`;
        last.right += `\n${right}`;
        last.rows += 1;
      } else out.push({ key: r.pod.key, health: r.health, left, right, rows: 1 });
      continue;
    }
    const text = `${glyph}${r.pod.key === marked ? '>' : ' '}${fitAscii(truncatePodName(r.pod.name, c.name), c.name)} ${rest}`;
    if (last && 'text' in last && last.health === r.health) last.text += `\n${text}`;
    else out.push({ key: r.pod.key, health: r.health, text });
  }
  return out;
}

export interface PodsPaneProps {
  state: RolloutState;
  model: PodModel;
  /** Sorted and filtered. */
  rows: PodRow[];
  filter: string;
  /** The table's sort (default: unhealthy first). */
  sort?: PodSort;
  editingFilter: boolean;
  offset: number;
  /** Mark the first visible row (`>`): the pod enter describes (while the pane is focused). */
  selected?: boolean;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
}

export function podsTitle(model: PodModel, filter: string, editing: boolean, sort: PodSort = 'health'): Seg[] {
  const c = model.counts;
  const segs: Seg[] = [{ text: `${c.canary} canary`, tone: 'info' }, { text: ` · ${c.stable} stable` }];
  if (c.other) segs.push({ text: ` · ${c.other} other` });
  for (const p of c.problems) segs.push({ text: ' · ' }, { text: `${HEALTH_GLYPH[p.health]} ${p.count} ${p.label}`, tone: HEALTH_TONE[p.health], bold: true });
  // Another sort than the default (unhealthy first) is named first: the order is not the usual one.
  if (sort !== 'health') segs.unshift({ text: `⇅ ${POD_SORT_LABEL[sort]} `, tone: 'accent', bold: true });
  if (editing || filter) segs.unshift({ text: `/${filter}${editing ? '▏' : ''} `, tone: 'accent', bold: true });
  return segs;
}

/** The ages the pane shows (the only thing on it a clock tick changes): App compares them to
 * skip a redraw. */
export function podsPaneClockText(rows: readonly PodRow[], offset: number, height: number, now: number): string {
  const page = podsPageSize(height);
  const start = Math.max(0, Math.min(offset, rows.length - page));
  let out = '';
  for (let i = start; i < Math.min(rows.length, start + page); i++) out += `${formatAge(now - rows[i]!.pod.startedAt)} `;
  return out;
}

export function PodsPane({ state, model, rows, filter, editingFilter, offset, selected, width, height, focused, theme, sort }: PodsPaneProps) {
  const w = paneInnerWidth(width);
  const page = podsPageSize(height);
  const total = rows.length;
  const start = Math.max(0, Math.min(offset, total - page));
  // Why the first unhealthy pod on screen is unhealthy (kubectl describe's Last State and message),
  // on the pane's last line.
  const why = page > 3 ? whyLine(rows.slice(start, start + page)) : null;
  const visible = rows.slice(start, start + page - (why ? 1 : 0));
  const c = podColumns(w, model);
  const header =
    `  ${fitAscii('NAME', c.name)} ${fitAscii('TRACK', c.track)} ${fitAscii(c.regionLabel, c.region)} ${fitAscii(c.readyLabel, c.ready)} ` +
    `${fitAscii('STATUS', c.status)} ${fitAscii(c.restartsLabel, c.restarts, 'right')} ${fitAscii('AGE', c.age, 'right')}`;
  const right = total === 0 ? `0 of ${model.counts.total}` : `rows ${start + 1}-${start + visible.length} of ${total}${filter ? `/${model.counts.total}` : ''}`;
  return (
    <Pane title="Pods" extra={podsTitle(model, filter, editingFilter, sort)} right={right} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Text wrap="truncate" bold>
          {fit(header, w)}
        </Text>
        {runs(visible, c, state.now, selected ? (visible[0]?.pod.key ?? null) : null).map((run) => {
          const color = theme.c(HEALTH_TONE[run.health]);
          const bold = run.health === 'crash';
          if ('text' in run)
            return (
              <Text key={run.key} color={color} bold={bold}>
                {run.text}
              </Text>
            );
          return (
            <Box key={run.key} flexDirection="row" height={run.rows} flexShrink={0}>
              <Text color={color} bold={bold}>
                {run.left}
              </Text>
              <Text color={color} bold={bold}>
                {Array.from({ length: run.rows }, () => '…').join('\n')}
              </Text>
              <Text color={color} bold={bold} wrap="truncate">
                {run.right}
              </Text>
            </Box>
          );
        })}
        {total === 0 ? (
          <SegLine segs={[{ text: model.counts.total === 0 ? 'no pods yet' : `no pods match /${filter} (esc clears)`, tone: 'muted' }]} width={w} theme={theme} />
        ) : null}
        {why ? (
          <Text wrap="truncate" color={theme.c(HEALTH_TONE[why.health])}>
            {fit(why.text, w)}
          </Text>
        ) : null}
      </Box>
    </Pane>
  );
}

/** "why orch-7x: CrashLoopBackOff, last restart OOMKilled: back-off 5m0s restarting failed…" */
export function whyLine(rows: PodRow[]): { health: Health; text: string } | null {
  const r = rows.find((x) => x.health !== 'ok' && (x.pod.message || x.pod.lastRestartReason));
  if (!r) return null;
  const p = r.pod;
  const parts = [`why ${p.name}: ${p.reason || p.phase}`];
  if (p.lastRestartReason && p.lastRestartReason !== p.reason) parts.push(`, last restart ${p.lastRestartReason}`);
  if (p.message) parts.push(`: ${p.message}`);
  return { health: r.health, text: parts.join('') };
}
