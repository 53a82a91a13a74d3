// `canary wall`: the war-room display, readable across a room (blessed-contrib). Large line charts
// of the SLIs with their rollback thresholds, a gauge for the canary weight, the phase and its time
// left, pod health per region, who is on call and who is being paged. A function of the store's
// state like the console; it never acts (no keys but q / ctrl-c).
//
// blessed and blessed-contrib are CommonJS and large: they are loaded here with a dynamic import
// (and kept out of the bundle) so no other command pays for them.
import { preferUtf8LineDrawing } from '../src/env.js';
import type { Plan } from '../src/plan/schema.js';
import { compile } from '../src/engine/compiled.js';
import { gateView } from '../src/engine/gates.js';
import { onCall, whoIs } from '../src/engine/roster.js';
import { seriesTimes, seriesValues } from '../src/engine/series.js';
import type { RolloutState } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import { formatDur, formatThreshold, formatValue, trimNumber, type Unit } from './format.js';
import { podHealth } from './pods.js';

/** A writable terminal: a TTY, or any stream with columns, rows and isTTY (tests, offscreen). */
export interface WallOutput extends NodeJS.WritableStream {
  columns: number;
  rows: number;
  isTTY: boolean;
}

export interface WallOptions {
  plan: Plan;
  store: Pick<Store, 'getState' | 'subscribe'>;
  output: WallOutput;
  input?: NodeJS.ReadableStream;
  /** A line under the title: where the data comes from (a serve URL, the embedded world). */
  source: string;
  /** Redraws at most this often (ms). */
  everyMs?: number;
  onQuit?: () => void;
}

export interface Wall {
  /** Draw now (the state as it is). */
  draw(): void;
  /** The screen as text, one string per row (tests, captures). */
  text(): string[];
  destroy(): void;
}

/** The charts: the plan's non-count SLIs, at most four. */
function chartSlis(plan: Plan): Plan['slis'] {
  return plan.slis.filter((s) => s.unit !== 'count' && s.unit !== 'rps').slice(0, 4);
}

/** The absolute rollback threshold of an SLI (the plan's automatic triggers), if any. */
function rollbackLine(plan: Plan, sli: string): { op: string; value: number } | null {
  const r = plan.rollback.automatic.find((x) => x.kind === 'value' && x.sli === sli);
  return r && r.kind === 'value' ? { op: r.op, value: r.value } : null;
}

function clockOf(t: number, tz: string): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: tz }).format(t);
  } catch {
    return new Date(t).toISOString().slice(11, 16);
  }
}

export interface WallModel {
  title: string;
  status: string;
  weight: number;
  phase: string[];
  charts: { label: string; x: string[]; canary: number[]; baseline: number[]; threshold: number[] | null; min: number; max: number }[];
  pods: string[][];
  people: string[][];
}

/** What the wall shows, as plain data (the widgets only draw it). */
export function wallModel(plan: Plan, s: RolloutState): WallModel {
  const cp = compile(plan);
  const tz = plan.metadata.timezone ?? 'UTC';
  const phase = cp.phases[s.phaseIndex];
  const step = phase?.steps[s.stepIndex];
  const gate = gateView(plan, s);
  const lines: string[] = [];
  if (phase && step) {
    lines.push(phase.title);
    // The weight it is at now: after a rollback that is 0%, not the step's.
    lines.push(s.status === 'rolled-back' ? `ROLLED BACK from ${trimNumber(s.rollback?.fromWeight ?? step.weight, 2)}% to ${trimNumber(s.desiredWeight, 2)}%` : `step ${s.stepIndex + 1}/${phase.steps.length} at ${trimNumber(step.weight, 2)}%`);
    const left = Math.max(0, step.minMs - s.stepBakeMs);
    lines.push(s.status === 'running' || s.status === 'paused' ? (left > 0 ? `bake: ${formatDur(left)} left (of ${formatDur(step.minMs)})` : `bake done; max in ${formatDur(Math.max(0, step.maxMs - s.stepBakeMs))}`) : '');
  } else lines.push('not started', '');
  if (gate.kind === 'phase' && gate.phase) {
    const given = gate.approvals.filter((a) => a.given).length;
    lines.push(`gate ${gate.phase.title.split(':')[0]}: approvals ${given}/${gate.approvals.length}`);
    for (const a of gate.approvals) lines.push(`  ${a.given ? '✓' : '✗'} ${a.title}${a.given ? ` (${a.given.by})` : ''}`);
  }
  // the why right under the weight (the box is short; gates come after)
  if (s.rollback && s.status === 'rolled-back') lines.splice(Math.min(lines.length, 2), phase && step ? 1 : 0, `  ${s.rollback.reason}`);
  if (s.holds.length) lines.push(`hold: ${s.holds[0]}`);

  const charts = chartSlis(plan).map((sli) => {
    const st = s.slis[sli.name];
    const times = st ? seriesTimes(st.canary) : [];
    const canary = st ? seriesValues(st.canary) : [];
    const baseline = st ? seriesValues(st.baseline) : [];
    const n = Math.max(canary.length, 1);
    const fill = (v: (number | null)[]) => {
      // blessed-contrib draws numbers only: a gap repeats the previous value (leading gaps the
      // first one); a series with no value at all is not drawn.
      let last = v.find((x) => x !== null && x !== undefined);
      if (last === undefined || last === null) return [];
      return Array.from({ length: n }, (_, i) => {
        const x = v[i];
        if (x !== null && x !== undefined) last = x;
        return last as number;
      });
    };
    const rb = rollbackLine(plan, sli.name);
    const c = fill(canary);
    const b = fill(baseline.slice(-n));
    const all = [...c, ...b, ...(rb ? [rb.value] : [])];
    if (all.length === 0) all.push(0);
    const unit = sli.unit as Unit;
    const now = canary.at(-1) ?? null;
    return {
      label: ` ${sli.title ?? sli.name} ${formatValue(now, unit)} (base ${formatValue(baseline.at(-1) ?? null, unit)})${rb ? ` rb ${rb.op} ${formatThreshold(rb.value, unit)}` : ''} `,
      x: Array.from({ length: n }, (_, i) => (times[i] !== undefined ? clockOf(times[i]!, tz) : '')),
      canary: c,
      baseline: b,
      threshold: rb ? Array.from({ length: n }, () => rb.value) : null,
      min: Math.min(...all),
      max: Math.max(...all),
    };
  });

  const regions = new Map<string, { canary: number; canaryOk: number; stable: number; stableOk: number; bad: number }>();
  for (const r of plan.target.regions) regions.set(r, { canary: 0, canaryOk: 0, stable: 0, stableOk: 0, bad: 0 });
  for (const p of s.pods.values()) {
    const r = regions.get(p.region) ?? { canary: 0, canaryOk: 0, stable: 0, stableOk: 0, bad: 0 };
    regions.set(p.region, r);
    const ok = podHealth(p) === 'ok';
    if (p.track === 'canary') {
      r.canary += 1;
      if (ok) r.canaryOk += 1;
    } else {
      r.stable += 1;
      if (ok) r.stableOk += 1;
    }
    if (podHealth(p) === 'crash') r.bad += 1;
  }
  const pods = [...regions].map(([region, r]) => [region, `${r.canaryOk}/${r.canary}`, `${r.stableOk}/${r.stable}`, String(r.bad)]);

  // Urgent rows first (pages, the rollback notice, who rolled back), then who is on call.
  const people: string[][] = [];
  // Who is being paged: each open incident's escalation steps that have paged someone.
  for (const inc of s.incidents) {
    if (inc.resolvedAt !== undefined) continue;
    for (const step of inc.steps) {
      if (step.pagedAt === undefined) continue;
      for (const p of step.paged ?? []) people.push([`PAGED ${inc.severity} ${inc.id}${inc.ackedAt !== undefined ? ' (acked)' : ''}`, p.name ?? p.title, clockOf(step.pagedAt, tz)]);
    }
  }
  // The rollback notice reminder (an SRE's rollback: notify within 15 min), while not done.
  for (const c of s.comms.items) if (c.kind === 'rollback-notice' && c.doneAt === undefined && c.deadline !== undefined) people.push(['NOTIFY by', clockOf(c.deadline, tz), c.label]);
  if (s.status === 'rolled-back' && s.rollback) people.push(['rolled back by', s.rollback.by, clockOf(s.rollback.at, tz)]);
  for (const o of onCall(plan, s.now)) people.push([o.title, o.person?.name ?? '—', o.person?.slack ?? '']);

  return {
    title: `${plan.metadata.service} ${plan.metadata.version} · ${clockOf(s.now, tz)} ${tz}`,
    status: s.status.toUpperCase(),
    weight: s.desiredWeight,
    phase: lines,
    charts,
    pods,
    people,
  };
}

type Blessed = typeof import('blessed');
// blessed-contrib has no types of its own; the few calls made here are typed where they are used.
interface ContribWidget {
  setData(d: unknown): void;
  setLabel?(l: string): void;
  setPercent?(p: number): void;
  options: Record<string, unknown>;
}

export async function startWall(o: WallOptions): Promise<Wall> {
  const blessed = ((await import('blessed')) as unknown as { default: Blessed }).default;
  const contrib = ((await import('blessed-contrib' as string)) as { default: Record<string, unknown> }).default as {
    grid: new (o: Record<string, unknown>) => { set(r: number, c: number, rs: number, cs: number, w: unknown, opts: Record<string, unknown>): ContribWidget };
    line: unknown;
    gauge: unknown;
    table: unknown;
  };
  // Unicode box lines rather than the terminal's line-drawing charset (tmux shows that as letters:
  // lqqk). blessed reads this ncurses variable when it builds the screen.
  preferUtf8LineDrawing();
  const screen = blessed.screen({
    output: o.output as unknown as NodeJS.WriteStream,
    ...(o.input ? { input: o.input as unknown as NodeJS.ReadStream } : {}),
    terminal: 'xterm-256color',
    warnings: false,
    fullUnicode: true,
    forceUnicode: true,
    smartCSR: true,
    title: 'canary wall',
  });
  const grid = new contrib.grid({ rows: 12, cols: 12, screen });
  const { plan } = o;
  const slis = chartSlis(plan);
  const rowsPer = Math.max(1, Math.floor(12 / Math.max(1, Math.ceil(slis.length / 2))));
  const charts = slis.map((_, i) =>
    grid.set(Math.floor(i / 2) * rowsPer, (i % 2) * 4, rowsPer, 4, contrib.line, {
      label: '',
      showLegend: false,
      wholeNumbersOnly: false,
      style: { line: 'cyan', text: 'white', baseline: 'white' },
      xLabelPadding: 2,
      xPadding: 2,
    }),
  );
  const header = grid.set(0, 8, 2, 4, blessed.box, { label: ' canary ', tags: false, style: { fg: 'white', border: { fg: 'cyan' } } });
  const gauge = grid.set(2, 8, 2, 4, contrib.gauge, { label: ' Canary weight ', stroke: 'green', fill: 'white', percent: [0] });
  // Pods get three grid rows: every region of the plan fits at 40 rows (two left eu-west-1 out).
  const phase = grid.set(4, 8, 2, 4, blessed.box, { label: ' Phase ', style: { fg: 'white', border: { fg: 'cyan' } } });
  const pods = grid.set(6, 8, 3, 4, contrib.table, { label: ' Pods (ready/total, crashing) ', keys: false, interactive: false, columnSpacing: 2, columnWidth: [12, 8, 8, 5], fg: 'white' });
  const people = grid.set(9, 8, 3, 4, contrib.table, { label: ' On call / paged ', keys: false, interactive: false, columnSpacing: 2, columnWidth: [18, 18, 14], fg: 'white' });

  const draw = () => {
    const m = wallModel(plan, o.store.getState());
    (header as unknown as { setContent(t: string): void }).setContent(`${m.title}\n${m.status} at ${trimNumber(m.weight, 2)}%  ·  ${o.source}`);
    // blessed-contrib reads a percent <= 1.001 as a fraction (1 would draw 100%): always give it one.
    gauge.setPercent?.(Math.max(0, Math.min(100, m.weight)) / 100);
    gauge.setLabel?.(` Canary weight ${trimNumber(m.weight, 2)}% `);
    (phase as unknown as { setContent(t: string): void }).setContent(m.phase.join('\n'));
    pods.setData({ headers: ['region', 'canary', 'stable', '✗'], data: m.pods });
    people.setData({ headers: ['role', 'who', ''], data: m.people });
    m.charts.forEach((c, i) => {
      const w = charts[i]!;
      w.setLabel?.(c.label);
      const pad = (c.max - c.min) * 0.1 || Math.abs(c.max) * 0.01 || 1;
      w.options.minY = c.min - pad;
      w.options.maxY = c.max + pad;
      const series: unknown[] = [];
      if (c.baseline.length) series.push({ title: 'baseline', x: c.x, y: c.baseline, style: { line: 'white' } });
      if (c.canary.length) series.push({ title: 'canary', x: c.x, y: c.canary, style: { line: 'cyan' } });
      if (c.threshold && series.length) series.push({ title: 'rollback', x: c.x, y: c.threshold, style: { line: 'red' } });
      w.setData(series.length ? series : [{ title: 'no data', x: [' '], y: [c.min], style: { line: 'black' } }]);
    });
    screen.render();
  };

  let timer: NodeJS.Timeout | null = null;
  const every = o.everyMs ?? 500;
  const unsubscribe = o.store.subscribe(() => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      draw();
    }, every);
  });
  screen.key(['q', 'C-c'], () => o.onQuit?.());
  screen.on('resize', () => draw());
  draw();
  return {
    draw,
    text: () => (screen as unknown as { lines: [unknown, string][][] }).lines.map((l) => l.map((c) => c[1]).join('')),
    destroy() {
      unsubscribe();
      if (timer) clearTimeout(timer);
      screen.destroy();
    },
  };
}
