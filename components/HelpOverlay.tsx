// `?`: the keys of this mode, generated from the registry (keys.ts): the main screen's bindings
// this keyboard has, grouped, then the keys inside each dialog; what is refused here is named with
// the reason. Two columns when there is room; when it is taller than the screen it scrolls, and the
// title says which lines are shown (never cut silently).
import { helpSections, type HelpSection } from './keys.js';
import type { KeyContext } from './ui.js';
import { cellWidth, fit, wrap } from './format.js';
import { segsWidth, truncateSegs, type Seg } from './line.js';
import { Overlay } from './Overlay.js';
import type { Theme } from './theme.js';

function sectionLines(s: HelpSection, width: number): Seg[][] {
  const keyW = Math.min(14, 1 + Math.max(...s.rows.map((r) => cellWidth(r.keys))));
  const lines: Seg[][] = [[{ text: s.title, bold: true, tone: 'info' }]];
  for (const r of s.rows) {
    const [first = '', ...rest] = wrap(r.help, Math.max(8, width - keyW - 1), '  ');
    lines.push([{ text: fit(` ${r.keys}`, keyW), tone: 'accent', bold: true }, { text: ` ${first}` }]);
    for (const more of rest) lines.push([{ text: ' '.repeat(keyW) }, { text: ` ${more}` }]);
  }
  return lines;
}

export interface HelpLayout {
  width: number;
  /** Every line of the help body (without the footer). */
  lines: Seg[][];
  /** Body lines shown at once. */
  page: number;
  footer: Seg[][];
}

/** The help's lines at this size (the App clamps the scroll with `lines.length` and `page`). */
export function helpLayout(ctx: Pick<KeyContext, 'keymap' | 'access'>, columns: number, rows: number): HelpLayout {
  const { sections, refused, asks, rollback } = helpSections(ctx);
  const rbKey = (ctx.keymap?.rollback ?? ['R'])[0] ?? 'R';
  const twoColumns = columns - 2 >= 74;
  const width = Math.min(columns - 2, twoColumns ? 100 : 72);
  const inner = width - 4;
  const colW = twoColumns ? Math.floor((inner - 2) / 2) : inner;
  const blocks = sections.map((s) => sectionLines(s, colW));
  let lines: Seg[][];
  if (!twoColumns) lines = blocks.flatMap((g, i) => (i ? [[{ text: '' }], ...g] : g));
  else {
    // two columns, balanced: each block goes to the shorter column
    const left: Seg[][] = [];
    const right: Seg[][] = [];
    for (const b of blocks) {
      const col = left.length <= right.length ? left : right;
      if (col.length) col.push([{ text: '' }]);
      col.push(...b);
    }
    lines = [];
    for (let i = 0; i < Math.max(left.length, right.length); i++) {
      const l = truncateSegs(left[i] ?? [], colW);
      lines.push([...l, { text: ' '.repeat(colW - segsWidth(l) + 2) }, ...(right[i] ?? [])]);
    }
  }
  const footer: Seg[][] = [[{ text: '' }]];
  if (asks.length) footer.push([{ text: `${asks.join(' ')} ask first: only y in their dialog does it.`, tone: 'muted' }]);
  for (const why of refused) for (const t of wrap(`Not here: ${why}.`, inner, '  ')) footer.push([{ text: t, tone: 'warn' }]);
  if (ctx.access?.kind === 'replay') footer.push([{ text: 'A replay is read-only: no key changes anything.', tone: 'muted' }]);
  else if (rollback) footer.push([{ text: `${rbKey} y rolls back from any screen (in a text prompt: esc first).`, tone: 'muted' }]);
  // the status bar's row (the overlay never covers it), borders (2) + footer; at least 3 body lines
  const page = Math.max(3, rows - 3 - footer.length);
  return { width, lines, page, footer };
}

export function HelpOverlay({ columns, rows, theme, offset, ctx }: { columns: number; rows: number; theme: Theme; offset: number; ctx: Pick<KeyContext, 'keymap' | 'access'> }) {
  const h = helpLayout(ctx, columns, rows);
  const more = h.lines.length > h.page;
  const off = Math.max(0, Math.min(offset, h.lines.length - h.page));
  const body = more ? h.lines.slice(off, off + h.page) : h.lines;
  const title = more ? `Keys ${off + 1}-${off + body.length} of ${h.lines.length}${off + body.length < h.lines.length ? ' ↓ more (j/↓, pgdn)' : ' ↑ (k/↑, home)'}` : 'Keys';
  return <Overlay title={title} tone="info" lines={[...body, ...h.footer]} columns={columns} rows={rows} width={h.width} theme={theme} />;
}
