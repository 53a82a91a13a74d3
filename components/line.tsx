// Lines made of coloured segments, cut to a width, and a priority-based fit: when a pane has fewer
// rows than lines, the least important lines go first (the rollback reason and the current phase
// stay; far-away pending phases go).
import type { ReactNode } from 'react';
import { Text } from 'ink';
import { cellWidth, truncate } from './format.js';
import { printable } from '../src/plan/printable.js';
import type { Theme, Tone } from './theme.js';

export interface Seg {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

export interface PLine {
  segs: Seg[];
  /** Higher survives longer when the pane is short. */
  prio: number;
}

export function segsWidth(segs: readonly Seg[]): number {
  let w = 0;
  for (const s of segs) w += cellWidth(s.text);
  return w;
}

/** Cut segments to `width` cells (the last kept one ends with … when something was cut). Every
 * segment drawn passes here: a control character in it (a person's summary, a pod name or log line
 * from a server, a plan's title) comes out as its visible stand-in (`printable`), never raw. */
export function truncateSegs(segs: readonly Seg[], width: number): Seg[] {
  const out: Seg[] = [];
  let left = width;
  for (let i = 0; i < segs.length; i++) {
    const raw = segs[i]!;
    const text = printable(raw.text);
    const s = text === raw.text ? raw : { ...raw, text };
    const w = cellWidth(s.text);
    if (w <= left) {
      out.push(s);
      left -= w;
      continue;
    }
    if (left > 0) out.push({ ...s, text: truncate(s.text, left) });
    return out;
  }
  return out;
}

/** Keep at most `height` lines, dropping the lowest priority first (the lowest one nearest the
 * bottom among equals); the order of the kept lines is unchanged. */
export function fitLines(lines: readonly PLine[], height: number, more = true): PLine[] {
  if (lines.length <= height) return lines.slice();
  if (height <= 0) return [];
  // Nothing is hidden without saying so: the last row says how many lines did not fit.
  const room = more && height >= 2 ? height - 1 : height;
  const idx = lines.map((l, i) => ({ p: l.prio, i }));
  idx.sort((a, b) => b.p - a.p || a.i - b.i);
  const keep = new Set(idx.slice(0, room).map((x) => x.i));
  const kept = lines.filter((_l, i) => keep.has(i));
  if (room < height) kept.push({ prio: 0, segs: [{ text: `⋯ ${lines.length - room} more line${lines.length - room === 1 ? '' : 's'}`, tone: 'muted' }] });
  return kept;
}

/** Lay out items (each a list of segments) on lines of `width` cells, separated by `sep`; the
 * first line starts with `first`, the others with `indent` (a string of spaces). */
export function flowItems(first: Seg[], items: readonly Seg[][], width: number, indent: string, sep = ' '): Seg[][] {
  const lines: Seg[][] = [];
  let cur: Seg[] = [...first];
  let curW = segsWidth(first);
  let empty = true;
  const indentW = cellWidth(indent);
  for (const item of items) {
    const w = segsWidth(item);
    const sepW = empty ? 0 : cellWidth(sep);
    // break when it does not fit, unless the line is still bare and a new line would not help
    if (curW + sepW + w > width && (!empty || (first.length > 0 && indentW + w <= width && lines.length === 0))) {
      lines.push(cur);
      cur = [{ text: indent }];
      curW = cellWidth(indent);
      empty = true;
    }
    if (!empty) {
      cur.push({ text: sep });
      curW += cellWidth(sep);
    }
    cur.push(...item);
    curW += w;
    empty = false;
  }
  lines.push(cur);
  return lines;
}

/** Merge what can be drawn in one run: neighbours with the same style, and blank segments (whose
 * colour cannot be seen) into the run before them. Fewer nested <Text> elements per frame. */
export function mergeSegs(segs: readonly Seg[], theme: Theme): Seg[] {
  const out: Seg[] = [];
  for (const s of segs) {
    if (!s.text) continue;
    const tone = theme.enabled ? s.tone : undefined;
    const bold = s.bold ?? false;
    const last = out[out.length - 1];
    if (last && ((last.tone === tone && (last.bold ?? false) === bold) || s.text.trim() === '')) {
      last.text += s.text;
      continue;
    }
    out.push({ text: s.text, ...(tone !== undefined ? { tone } : {}), ...(bold ? { bold } : {}) });
  }
  return out;
}

/** Children for a <Text>: plain strings for unstyled runs, nested <Text> for styled ones. */
function styled(segs: readonly Seg[], theme: Theme, keyBase: number): ReactNode[] {
  return segs.map((s, i) =>
    s.tone !== undefined || s.bold ? (
      <Text key={keyBase + i} color={theme.c(s.tone)} bold={s.bold ?? false}>
        {s.text}
      </Text>
    ) : (
      s.text
    ),
  );
}

/** One line of segments, cut to `width`; never wraps. */
export function SegLine({ segs, width, theme }: { segs: readonly Seg[]; width: number; theme: Theme }) {
  return <Text wrap="truncate">{styled(mergeSegs(truncateSegs(segs, width), theme), theme, 0)}</Text>;
}

/** Many lines as ONE <Text> (lines joined by newlines): Ink lays out and measures one node per pane
 * instead of one per line, which matters at 30 frames a second. Every line must already fit
 * `width` (they are cut here), so Ink never wraps them. */
export function Lines({ lines, width, theme }: { lines: readonly (PLine | Seg[])[]; width: number; theme: Theme }) {
  const children: ReactNode[] = [];
  lines.forEach((l, i) => {
    const segs = mergeSegs(truncateSegs(Array.isArray(l) ? l : l.segs, width), theme);
    if (i > 0) children.push('\n');
    children.push(...styled(segs, theme, i * 1000));
  });
  if (children.length === 0) return null;
  return <Text>{children}</Text>;
}
