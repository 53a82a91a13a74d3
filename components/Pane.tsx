// A bordered pane with its title in the top border (k9s style: no line lost to a title). The
// focused pane is marked twice: a ▶ before the title and the focus colour, so it is visible
// without colour too.
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { cellWidth } from './format.js';
import { printable } from '../src/plan/printable.js';
import { truncateSegs, segsWidth, type Seg } from './line.js';
import type { Theme } from './theme.js';

export interface PaneProps {
  title: string;
  /** More of the title, e.g. counts, possibly coloured. */
  extra?: Seg[];
  /** Right end of the top border, e.g. `rows 1-20 of 3000`. */
  right?: string;
  focused: boolean;
  width: number;
  height: number;
  theme: Theme;
  children?: ReactNode;
}

/** Rows inside a pane of total height `height` (title border + bottom border). */
export function paneInnerHeight(height: number): number {
  return Math.max(0, height - 2);
}

/** Columns inside a pane of total width `width`. */
export function paneInnerWidth(width: number): number {
  return Math.max(0, width - 2);
}

export function Pane({ title, extra, right, focused, width, height, theme, children }: PaneProps) {
  const borderTone = focused ? 'focus' : 'border';
  const head: Seg[] = [{ text: focused ? `▶ ${title}` : title, bold: true, ...(focused ? { tone: 'focus' as const } : {}) }];
  if (extra?.length) head.push({ text: ' ' }, ...extra);
  // ╭─ ▶ Title extra ───── right ─╮   fixed cells: "╭─ " + " " + "╮" = 5, and "─" after `right`
  const room = Math.max(0, width - 5);
  const wantRight = right ? ` ${printable(right)} ` : '';
  // the right text only when it leaves the title a fair share
  const rightText = wantRight && cellWidth(wantRight) + 1 <= room - Math.min(segsWidth(head), 16) ? wantRight : '';
  const rightW = rightText ? cellWidth(rightText) + 1 : 0;
  const titleSegs = truncateSegs(head, Math.max(0, room - rightW));
  const fill = Math.max(0, room - segsWidth(titleSegs) - rightW);
  if (height <= 0 || width <= 0) return null;
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden" flexShrink={0}>
      <Text wrap="truncate">
        <Text color={theme.c(borderTone)}>{width >= 6 ? '╭─ ' : ''}</Text>
        {titleSegs.map((s, i) => (
          <Text key={i} color={theme.c(s.tone)} bold={s.bold ?? false}>
            {s.text}
          </Text>
        ))}
        <Text color={theme.c(borderTone)}>{width >= 6 ? ` ${'─'.repeat(fill)}${rightText}${rightText ? '─' : ''}╮` : ''}</Text>
      </Text>
      {height > 1 ? (
        <Box
          width={width}
          height={height - 1}
          borderStyle="round"
          borderTop={false}
          borderColor={theme.c(borderTone)}
          flexDirection="column"
          overflowY="hidden"
        >
          {children}
        </Box>
      ) : null}
    </Box>
  );
}
