// A bordered box drawn over the panes (absolute position). Every inner line is padded to the full
// width so the pane text underneath never shows through, with or without colours.
import { Box, Text } from 'ink';
import { cellWidth, truncate } from './format.js';
import { segsWidth, truncateSegs, type Seg } from './line.js';
import type { Theme, Tone } from './theme.js';

export interface OverlayProps {
  title: string;
  tone: Tone;
  /** Lines of segments, already wrapped to at most `width - 4` cells. */
  lines: Seg[][];
  /** Screen size the overlay is centred in (the last row, the status bar, stays uncovered). */
  columns: number;
  rows: number;
  width: number;
  theme: Theme;
}

export function Overlay({ title, tone, lines, columns, rows, width, theme }: OverlayProps) {
  const w = Math.max(8, Math.min(width, columns));
  const inner = w - 4; // border + one space each side
  // Never over the status bar (the screen's last row): it shows the dialog's keys, and a box as tall
  // as the screen left the bar's last character showing after its corner (╚═══╝k).
  const maxLines = Math.max(1, rows - 3);
  const shown = lines.slice(0, maxLines);
  const h = shown.length + 2;
  const left = Math.max(0, Math.floor((columns - w) / 2));
  const top = Math.max(0, Math.floor((rows - h) / 2));
  const t = truncate(` ${title} `, w - 4);
  const color = theme.c(tone);
  return (
    <Box position="absolute" marginLeft={left} marginTop={top} width={w} height={h} flexDirection="column">
      <Text color={color} bold wrap="truncate">
        {`╔═${t}${'═'.repeat(Math.max(0, w - 3 - cellWidth(t)))}╗`}
      </Text>
      {shown.map((segs, i) => {
        const cut = truncateSegs(segs, inner);
        const pad = ' '.repeat(Math.max(0, inner - segsWidth(cut)));
        return (
          <Text key={i} wrap="truncate">
            <Text color={color}>{'║ '}</Text>
            {cut.map((s, j) => (
              <Text key={j} color={theme.c(s.tone)} bold={s.bold ?? false}>
                {s.text}
              </Text>
            ))}
            {pad}
            <Text color={color}>{' ║'}</Text>
          </Text>
        );
      })}
      <Text color={color} wrap="truncate">
        {`╚${'═'.repeat(w - 2)}╝`}
      </Text>
    </Box>
  );
}
