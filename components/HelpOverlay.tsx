// `?`: every binding from the bindings table, grouped; two columns when there is room.
import { BINDINGS, keyLabel, type Binding } from './keys.js';
import { cellWidth, fit } from './format.js';
import { segsWidth, truncateSegs, type Seg } from './line.js';
import { Overlay } from './Overlay.js';
import type { Theme } from './theme.js';

const GROUPS: Binding['group'][] = ['Rollout', 'Pods', 'Panes', 'General', 'People'];

function groupLines(group: Binding['group'], keyW: number): Seg[][] {
  const lines: Seg[][] = [[{ text: group, bold: true, tone: 'info' }]];
  for (const b of BINDINGS.filter((x) => x.group === group)) {
    lines.push([{ text: fit(` ${keyLabel(b)}`, keyW), tone: 'accent', bold: true }, { text: ` ${b.help}` }]);
  }
  return lines;
}

export function HelpOverlay({ columns, rows, theme }: { columns: number; rows: number; theme: Theme }) {
  const keyW = 1 + Math.max(...BINDINGS.map((b) => cellWidth(keyLabel(b))));
  const groups = GROUPS.map((g) => groupLines(g, keyW));
  const oneColumn = groups.reduce((n, g) => n + g.length, 0) + groups.length - 1 + 2; // + blank lines + footer
  const twoColumns = oneColumn > rows - 2 && columns - 2 >= 74;
  const width = Math.min(columns - 2, twoColumns ? 100 : 72);
  const inner = width - 4;
  let lines: Seg[][];
  if (!twoColumns) {
    lines = groups.flatMap((g, i) => (i ? [[{ text: '' }], ...g] : g));
  } else {
    // two columns: Rollout + People + General | Pods + Panes
    const colW = Math.floor((inner - 2) / 2);
    const leftCol = [...groups[0]!, [{ text: '' }], ...groups[4]!, [{ text: '' }], ...groups[3]!];
    const rightCol = [...groups[1]!, [{ text: '' }], ...groups[2]!];
    lines = [];
    for (let i = 0; i < Math.max(leftCol.length, rightCol.length); i++) {
      const l = truncateSegs(leftCol[i] ?? [], colW);
      lines.push([...l, { text: ' '.repeat(colW - segsWidth(l) + 2) }, ...(rightCol[i] ?? [])]);
    }
  }
  lines.push([{ text: '' }], [{ text: 'R then y rolls back from any screen; in a dialog only y says yes.', tone: 'muted' }]);
  return <Overlay title="Keys" tone="info" lines={lines} columns={columns} rows={rows} width={width} theme={theme} />;
}
