// Sparklines: a series of values (with gaps) drawn with the eight block glyphs ▁▂▃▄▅▆▇█.
// Pure; the newest point is at the right edge, so two series drawn at the same width line up.

export const BLOCKS = '▁▂▃▄▅▆▇█';
/** Drawn for a sample that had no data (distinct from a 0, which is ▁). */
export const GAP = '·';

export interface SparkRange {
  min: number;
  max: number;
}

/** The range over the last `width` points of every series (nulls ignored); null when none has data. */
export function sparkRange(width: number, ...series: readonly (readonly (number | null)[])[]): SparkRange | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const values of series) {
    for (let i = Math.max(0, values.length - width); i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min === Number.POSITIVE_INFINITY ? null : { min, max };
}

/** One glyph per cell: the last `width` values, right-aligned; cells before the first value are spaces. */
export function sparkCells(values: readonly (number | null)[], width: number, range?: SparkRange | null): string[] {
  if (width <= 0) return [];
  const r = range === undefined ? sparkRange(width, values) : range;
  const cells: string[] = new Array<string>(width);
  const start = values.length - width;
  const span = r ? r.max - r.min : 0;
  for (let i = 0; i < width; i++) {
    const j = start + i;
    if (j < 0) {
      cells[i] = ' ';
      continue;
    }
    const v = values[j];
    if (v === null || v === undefined || !Number.isFinite(v) || !r) {
      cells[i] = GAP;
      continue;
    }
    let level: number;
    if (span <= 0) level = v === 0 ? 0 : 3; // a flat line: at the floor for 0, mid-height otherwise
    else level = Math.round(((v - r.min) / span) * 7);
    cells[i] = BLOCKS[Math.max(0, Math.min(7, level))]!;
  }
  return cells;
}

/** The sparkline as a string of exactly `width` cells. */
export function sparkline(values: readonly (number | null)[], width: number, range?: SparkRange | null): string {
  return sparkCells(values, width, range).join('');
}

export interface SparkRun {
  text: string;
  /** The points in this run satisfy `flag` (e.g. beyond the rollback threshold). */
  flagged: boolean;
}

/** The sparkline cut into runs of flagged / unflagged points, for drawing flagged ones in another colour. */
export function sparkRuns(
  values: readonly (number | null)[],
  width: number,
  range: SparkRange | null | undefined,
  flag: ((v: number) => boolean) | undefined,
): SparkRun[] {
  const cells = sparkCells(values, width, range);
  if (!flag) return [{ text: cells.join(''), flagged: false }];
  const runs: SparkRun[] = [];
  const start = values.length - width;
  for (let i = 0; i < cells.length; i++) {
    const v = start + i >= 0 ? values[start + i] : null;
    const flagged = v !== null && v !== undefined && Number.isFinite(v) && flag(v);
    const last = runs[runs.length - 1];
    if (last && last.flagged === flagged) last.text += cells[i]!;
    else runs.push({ text: cells[i]!, flagged });
  }
  return runs;
}
