// Where the panes go for a terminal size. Pure. Every height and width is explicit, and they sum
// to the terminal's size, so a frame never wraps or scrolls.
//
//   width < 100                         width >= 100 (2 x 2)
//   ┌ Phases ────────┐┌ Roster ┐         ┌ Phases ──────┐┌ SLIs ──────────────┐
//   └────────────────┘└────────┘         └──────────────┘└────────────────────┘
//   ┌ SLIs ─────────────────────┐        ┌ Pods ──────────────────┐┌ Roster ──┐
//   └───────────────────────────┘        │                        ││          │
//   ┌ Pods ─────────────────────┐        └────────────────────────┘└──────────┘
//   └───────────────────────────┘        status bar
//   status bar
//
// Below 100 columns the pods table gets the full width (its seven columns need ~70 cells) and
// the roster sits beside the phases, whose lines are short.

export interface Size {
  width: number;
  height: number;
}

export interface Layout {
  mode: 'narrow' | 'wide';
  columns: number;
  rows: number;
  /** Height of the first row of panes, and of the second (wide) / third (narrow). */
  phases: Size;
  slis: Size;
  pods: Size;
  roster: Size;
}

export const WIDE_AT = 100;

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** `sliRows`: SLIs drawn as rows (not counters), to size the SLI pane in the narrow layout. */
export function computeLayout(columns: number, rows: number, sliRows = 5, statusRows = 1): Layout {
  const cols = Math.max(1, Math.floor(columns));
  const avail = Math.max(0, Math.floor(rows) - statusRows); // the status bar
  if (cols >= WIDE_AT) {
    const top = Math.min(avail, clamp(Math.round(avail * 0.42), 8, Math.max(12, sliRows + 6)));
    const bottom = Math.max(0, avail - top);
    const phasesW = Math.round(cols * 0.38);
    const podsW = Math.min(cols - 30, Math.max(70, Math.round(cols * 0.62)));
    return {
      mode: 'wide',
      columns: cols,
      rows,
      phases: { width: phasesW, height: top },
      slis: { width: cols - phasesW, height: top },
      pods: { width: podsW, height: bottom },
      roster: { width: cols - podsW, height: bottom },
    };
  }
  // The SLI pane first: its column header, every SLI row and the safety counters line are what
  // an on-call reads the verdict from (80x24: 9 rows); the pods table gives way.
  let top = clamp(Math.round(avail * 0.34), 5, 12);
  let sli = clamp(Math.round(avail * 0.42), 5, sliRows + 4);
  let pods = avail - top - sli;
  if (pods < 5) {
    // short terminal: take rows back from the top panes, keeping at least 4 each
    let need = 5 - pods;
    const fromTop = Math.min(need, Math.max(0, top - 4));
    top -= fromTop;
    need -= fromTop;
    const fromSli = Math.min(need, Math.max(0, sli - 4));
    sli -= fromSli;
    pods = avail - top - sli;
    if (pods < 0) {
      // tiny: whatever is left, top first
      top = Math.min(top, avail);
      sli = Math.min(sli, avail - top);
      pods = Math.max(0, avail - top - sli);
    }
  }
  const phasesW = Math.round(cols * 0.6);
  return {
    mode: 'narrow',
    columns: cols,
    rows,
    phases: { width: phasesW, height: top },
    roster: { width: cols - phasesW, height: top },
    slis: { width: cols, height: sli },
    pods: { width: cols, height: pods },
  };
}
