// A confirmation that names exactly what will happen. It defaults to cancel: only `y` confirms,
// any other key closes it (handled by keys.ts). When the action is not allowed, it only explains
// why and any key closes it.
import { wrap } from './format.js';
import type { Seg } from './line.js';
import { Overlay } from './Overlay.js';
import type { Theme, Tone } from './theme.js';

export interface ConfirmDialogProps {
  title: string;
  lines: string[];
  /** false: the dialog only explains (no `y`). */
  allowed: boolean;
  tone: Tone;
  columns: number;
  rows: number;
  theme: Theme;
}

export function ConfirmDialog({ title, lines, allowed, tone, columns, rows, theme }: ConfirmDialogProps) {
  const width = Math.min(columns - 2, tone === 'info' && allowed ? 110 : 78);
  const inner = Math.max(4, width - 4);
  const body: Seg[][] = [];
  for (const l of lines) {
    const blocked = l.startsWith('Blocked:');
    for (const t of wrap(l, inner, '  ')) body.push([{ text: t, ...(blocked ? { tone: 'bad' as const } : {}) }]);
  }
  if (!allowed) body.push([{ text: '' }], [{ text: 'any key closes', tone: 'muted' }]);
  return <Overlay title={title} tone={tone} lines={body} columns={columns} rows={rows} width={width} theme={theme} />;
}
