// Text helpers for the console: ages, durations, values with units, and terminal-cell-aware
// truncation, padding and wrapping. Pure functions, no React.
import { formatDuration } from '../src/plan/duration.js';
import { hasControl, printable } from '../src/plan/printable.js';

/** Kubernetes-style age: 45s, 12m, 3h, 2d. Negative ages (clock skew) show as 0s. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return ms === Number.POSITIVE_INFINITY ? '∞' : '0s';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** 86400000 -> "24h", 5400000 -> "1h30m" (the plan's own notation). */
export function formatDur(ms: number): string {
  return formatDuration(ms);
}

/** A number with at most `digits` decimals and no trailing zeros: 0.1, 99.9, 1000. */
export function trimNumber(v: number, digits = 3): string {
  const s = v.toFixed(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

export type Unit = 'percent' | 'ms' | 'count' | 'rps';

/** A measured value: 99.95%, 412ms, 1.2k/s, 3. `null` (no data) is "—", never 0. */
export function formatValue(v: number | null | undefined, unit: Unit): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  switch (unit) {
    case 'percent':
      return `${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)}%`;
    case 'ms':
      return Math.abs(v) >= 10_000 ? `${trimNumber(v / 1000, 1)}s` : Math.abs(v) >= 10 ? `${Math.round(v)}ms` : `${trimNumber(v, 1)}ms`;
    case 'rps':
      return Math.abs(v) >= 10_000 ? `${Math.round(v / 1000)}k/s` : Math.abs(v) >= 1000 ? `${trimNumber(v / 1000, 1)}k/s` : `${Math.round(v)}/s`;
    case 'count':
      return Number.isInteger(v) ? String(v) : trimNumber(v, Math.abs(v) >= 10 ? 0 : 2);
  }
}

/** A threshold as written in a plan: 500ms, 99.9%, 0.1%, 3. */
export function formatThreshold(v: number, unit: Unit): string {
  switch (unit) {
    case 'percent':
      return `${trimNumber(v)}%`;
    case 'ms':
      return `${trimNumber(v)}ms`;
    case 'rps':
      return `${trimNumber(v)}/s`;
    case 'count':
      return trimNumber(v);
  }
}

const OPS: Record<string, string> = { '>=': '≥', '<=': '≤', '==': '=', '<': '<', '>': '>' };
/** `>=` -> `≥` and friends. */
export function formatOp(op: string): string {
  return OPS[op] ?? op;
}

/** A weight as a percentage: 25%. */
export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return `${trimNumber(v, 2)}%`;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();
/** "Mon 09:00" in the given IANA time zone (formatter cached: creating one costs ~1ms). */
export function formatClock(at: number, timeZone: string): string {
  let f = clockFormats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      f = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    }
    clockFormats.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('weekday')} ${get('hour')}:${get('minute')}`;
}

// ---------------------------------------------------------------------------------------------
// terminal cells

/** Code points drawn two cells wide (CJK, fullwidth forms, emoji presentation such as ⌛). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    cp === 0x231a ||
    cp === 0x231b ||
    (cp >= 0x23e9 && cp <= 0x23ec) ||
    cp === 0x23f0 ||
    cp === 0x23f3 ||
    (cp >= 0x25fd && cp <= 0x25fe) ||
    (cp >= 0x2614 && cp <= 0x2615) ||
    (cp >= 0x26aa && cp <= 0x26ab) ||
    (cp >= 0x26bd && cp <= 0x26be) ||
    (cp >= 0x26c4 && cp <= 0x26c5) ||
    cp === 0x26a1 ||
    cp === 0x26d4 ||
    cp === 0x26ea ||
    (cp >= 0x26f2 && cp <= 0x26f5) ||
    cp === 0x26fa ||
    cp === 0x26fd ||
    cp === 0x2705 ||
    (cp >= 0x270a && cp <= 0x270b) ||
    cp === 0x2728 ||
    cp === 0x274c ||
    cp === 0x274e ||
    (cp >= 0x2753 && cp <= 0x2755) ||
    cp === 0x2757 ||
    (cp >= 0x2795 && cp <= 0x2797) ||
    cp === 0x27b0 ||
    cp === 0x27bf ||
    (cp >= 0x2b1b && cp <= 0x2b1c) ||
    cp === 0x2b50 ||
    cp === 0x2b55 ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function isZeroWidth(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f);
}

// Printable ASCII only: the common case (pod names, numbers) is answered without a loop over code points.
const ASCII = /^[\x20-\x7e]*$/;

/** Width of `s` in terminal cells, as the console draws it: a control character (an escape from a
 * person's text, a server's) counts as its visible stand-in (`printable`), which is what is drawn. */
export function cellWidth(s: string): number {
  if (ASCII.test(s)) return s.length;
  if (hasControl(s)) s = printable(s);
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || isZeroWidth(cp)) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

/** Cut `s` to at most `width` cells, ending with `…` when something was cut; control characters
 * come back as their visible stand-ins (`printable`). */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  if (ASCII.test(s)) return s.length <= width ? s : width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
  if (hasControl(s)) s = printable(s);
  if (cellWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const cw = cp < 0x20 || isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1;
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** Cut `s` to `width` cells by dropping its middle (`orchestr…-7d9f-0`): the distinctive end of a
 * pod name survives. */
export function truncateMiddle(s: string, width: number, mark = '…'): string {
  if (cellWidth(s) <= width) return s;
  if (width <= 2 || !ASCII.test(s)) return truncate(s, width);
  const tail = Math.floor((width - 1) / 2);
  const head = width - 1 - tail;
  return `${s.slice(0, head)}${mark}${s.slice(s.length - tail)}`;
}

/** `fit` for ASCII table cells, marking a cut with `~` so the line stays ASCII: Ink measures every
 * text node on every frame, and a line with any non-ASCII character costs it a grapheme
 * segmentation of the whole line (about 3x the time of an ASCII line). */
export function fitAscii(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (!ASCII.test(s)) return align === 'left' ? fit(s, width) : fitLeft(s, width);
  const t = s.length <= width ? s : width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}~`;
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/** Truncate, then pad with spaces to exactly `width` cells. */
export function fit(s: string, width: number): string {
  const t = truncate(s, width);
  const w = cellWidth(t);
  return w >= width ? t : t + ' '.repeat(width - w);
}

/** Right-align in `width` cells (truncating when too long). */
export function fitLeft(s: string, width: number): string {
  const t = truncate(s, width);
  const w = cellWidth(t);
  return w >= width ? t : ' '.repeat(width - w) + t;
}

/** Word-wrap `text` to lines of at most `width` cells; words longer than a line are cut. Lines
 * after the first start with `indent`. */
export function wrap(text: string, width: number, indent = ''): string[] {
  if (width <= 0) return [];
  const out: string[] = [];
  const indentW = cellWidth(indent);
  const room = () => Math.max(1, width - (out.length === 0 || indentW >= width ? 0 : indentW));
  let cur = '';
  let curW = 0;
  const flush = () => {
    out.push((out.length === 0 || indentW >= width ? '' : indent) + cur);
    cur = '';
    curW = 0;
  };
  for (const para of text.split('\n')) {
    for (let word of para.split(' ')) {
      if (!word) continue;
      let ww = cellWidth(word);
      if (cur && curW + 1 + ww <= room()) {
        cur += ` ${word}`;
        curW += 1 + ww;
        continue;
      }
      if (cur) flush();
      while (ww > room()) {
        const piece = sliceCells(word, room());
        cur = piece;
        flush();
        word = word.slice(piece.length);
        ww = cellWidth(word);
      }
      if (word) {
        cur = word;
        curW = ww;
      }
    }
    if (cur) flush();
  }
  return out;
}

/** The longest prefix of `s` that fits in `width` cells (at least one character). */
function sliceCells(s: string, width: number): string {
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = cellWidth(ch);
    if (w + cw > width && out !== '') break;
    out += ch;
    w += cw;
  }
  return out;
}
