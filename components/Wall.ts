// `canary wall`: the war-room display, readable across a room (blessed-contrib). Large line charts
// of the SLIs with their rollback thresholds, a gauge for the canary weight, the phase and its time
// left, pod health per region, who is on call and who is being paged. A function of the store's
// state like the console; it never acts (no keys but q / ctrl-c).
//
// blessed and blessed-contrib are CommonJS and large: they are loaded here with a dynamic import
// (and kept out of the bundle) so no other command pays for them.
import { preferUtf8LineDrawing } from '../src/env.js';
import { printable } from '../src/plan/printable.js';
import type { Plan } from '../src/plan/schema.js';
import { compile } from '../src/engine/compiled.js';
import { gateView } from '../src/engine/gates.js';
import { onCall } from '../src/engine/roster.js';
import { latest } from '../src/engine/series.js';
import { SERIES_CAPACITY, type RolloutState } from '../src/engine/types.js';
import { sparkWindow, SpeedMeter, windowValues, worseOf } from './sparkline.js';
import type { Store } from '../src/runtime/store.js';
import { escalationClock, openIncidents } from '../src/engine/people.js';
import { formatAge, formatDur, formatThreshold, formatValue, trimNumber, truncate, wrap, type Unit } from './format.js';
import { podHealth } from './pods.js';
import { judgmentBadge, sliViews } from './SliPane.js';
import { newestSampleAt } from './StatusBar.js';

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
  /** Where the data comes from (a serve URL, the embedded world). */
  source: string;
  /** A joined wall's connection: its state and the age of the last update (joinedLine). Absent:
   * the embedded world, always connected. Read on every draw, and once a second. */
  link?: WallLink;
  /** The clock's speed (simulated ms per real ms) for the charts' window; absent: measured from
   * how fast the state's time moves (a joined wall does not know the server's speed). */
  speed?: () => number | null;
  /** Redraws at most this often (ms). */
  everyMs?: number;
  onQuit?: () => void;
}

export interface WallLink {
  subscribe(listener: () => void): () => void;
  line(): { text: string; tone: 'ok' | 'warn' | 'bad' };
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
  weight: number;
  /** The charts' span: "last 6h". */
  window: string;
  charts: { labels: string[]; x: string[]; canary: number[]; baseline: number[]; threshold: number[] | null; min: number; max: number }[];
  pods: string[][];
  people: string[][];
}

/** Points across a chart (buckets of the window; the braille canvas has more dots than that). */
export const WALL_POINTS = 60;

/** What the wall shows, as plain data (the widgets only draw it); `speed` (simulated ms per real
 * ms, null: unknown) sets the charts' window as it sets the SLIs pane's. */
export function wallModel(plan: Plan, s: RolloutState, speed: number | null = null): WallModel {
  const tz = plan.metadata.timezone ?? 'UTC';

  // The same window as the SLIs pane at this speed (the span; the wall's own resolution).
  const cp = compile(plan);
  const win = sparkWindow(speed, cp.intervalMs, WALL_POINTS, SERIES_CAPACITY * cp.intervalMs);
  const step = win.mode === 'buckets' ? win.bucketMs : win.mode === 'samples' ? Math.max(cp.intervalMs, win.spanMs / WALL_POINTS) : cp.intervalMs;
  // the span when the speed is known (else the x axis's times say it)
  const spanText = win.mode === 'newest' ? '' : ` · ${win.label}`;
  const charts = chartSlis(plan).map((sli) => {
    const st = s.slis[sli.name];
    const worse = worseOf(sli.direction);
    const cv = st ? windowValues(st.canary, win, s.now, worse, WALL_POINTS) : [];
    const bv = st ? windowValues(st.baseline, win, s.now, worse, WALL_POINTS) : [];
    // both right-aligned on the same x (newest at the right edge)
    const n = Math.max(cv.length, bv.length, 1);
    const pad = (v: (number | null)[]) => [...new Array<null>(n - v.length).fill(null), ...v];
    const canary = pad(cv);
    const baseline = pad(bv);
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
    const b = fill(baseline);
    const all = [...c, ...b, ...(rb ? [rb.value] : [])];
    if (all.length === 0) all.push(0);
    const unit = sli.unit as Unit;
    const now = st ? latest(st.canary) : null;
    const name = sli.title ?? sli.name;
    const rbText = rb ? ` rb ${rb.op} ${formatThreshold(rb.value, unit)}` : '';
    return {
      // longest first: the chart takes the first that fits its width
      labels: [
        ` ${name} ${formatValue(now, unit)} (base ${formatValue(st ? latest(st.baseline) : null, unit)})${rbText}${spanText} `,
        ` ${name} ${formatValue(now, unit)}${rbText}${spanText} `,
        ` ${name} ${formatValue(now, unit)}${spanText} `,
        ` ${name} ${formatValue(now, unit)} `,
      ],
      x: Array.from({ length: n }, (_, i) => clockOf(s.now - (n - 1 - i) * step, tz)),
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
    weight: s.desiredWeight,
    window: win.label,
    charts,
    pods,
    people,
  };
}


// ---------------------------------------------------------------------------------------------
// The facts: what a person across the room must be able to read at any size, most urgent first.

export type FactTone = 'ok' | 'warn' | 'bad' | 'muted';
export interface Fact {
  text: string;
  tone: FactTone;
  /** Higher stays longer when the box is short (100: never cut before decoration). */
  prio: number;
}

/** The safety-critical facts: the status and weight with the rollback state, the connection and
 * the age of the data, the phase and its bake, the verdict and why, open incidents and who is
 * paged; then what is only useful (the notify deadline, the gate, pods, the title). */
export function wallFacts(plan: Plan, s: RolloutState, link: { text: string; tone: 'ok' | 'warn' | 'bad' } | null, source: string): Fact[] {
  const cp = compile(plan);
  const tz = plan.metadata.timezone ?? 'UTC';
  const out: Fact[] = [];
  const phase = cp.phases[s.phaseIndex];
  const step = phase?.steps[s.stepIndex];
  // status, weight and the rollback state
  const applying = s.appliedWeight !== null && s.appliedWeight !== s.desiredWeight ? ` (applying; ${trimNumber(s.appliedWeight, 2)}% now)` : '';
  const rolled = s.status === 'rolled-back' || s.rollback !== null;
  out.push({ text: `${s.status.toUpperCase()} at ${trimNumber(s.desiredWeight, 2)}%${applying}${rolled ? '' : ' · no rollback'}`, tone: rolled ? 'bad' : s.status === 'running' || s.status === 'completed' ? 'ok' : 'warn', prio: 100 });
  if (s.rollback) out.push({ text: `ROLLED BACK from ${trimNumber(s.rollback.fromWeight, 2)}% to ${trimNumber(s.desiredWeight, 2)}% by ${s.rollback.by} at ${clockOf(s.rollback.at, tz)}: ${s.rollback.reason}`, tone: 'bad', prio: 99 });
  // the connection and the age of the data
  const newest = newestSampleAt(s);
  const age = newest === null ? 'data: none yet' : `data ${formatAge(Math.max(0, s.now - newest))}${s.now - newest > cp.staleMs ? '⌛ stale' : ''}`;
  const stale = newest === null || s.now - newest > cp.staleMs;
  out.push({ text: `${link ? link.text : `● ${source}`} · ${age}`, tone: link && link.tone !== 'ok' ? link.tone : stale ? 'warn' : 'muted', prio: 98 });
  // the phase and its bake
  if (phase && step) {
    const left = Math.max(0, step.minMs - s.stepBakeMs);
    const bake = s.status === 'running' || s.status === 'paused' ? (left > 0 ? ` · bake ${formatDur(left)} left of ${formatDur(step.minMs)}` : ` · bake done, max in ${formatDur(Math.max(0, step.maxMs - s.stepBakeMs))}`) : '';
    out.push({ text: `${phase.title} · step ${s.stepIndex + 1}/${phase.steps.length} (${trimNumber(step.weight, 2)}%)${bake}`, tone: 'muted', prio: 97 });
  } else out.push({ text: 'no phase entered yet', tone: 'muted', prio: 97 });
  // the verdict and why
  const views = sliViews(plan, s).filter((v) => v.target !== '' || v.rollback !== '');
  const bad = views.filter((v) => v.verdict === 'fail' || v.verdict === 'invalid');
  const unknown = views.filter((v) => v.verdict === 'no-data');
  const glyph = (v: (typeof views)[number]) => (v.verdict === 'fail' ? '✗' : v.verdict === 'invalid' ? '!' : '?');
  const why = [...bad, ...unknown].map((v) => `${glyph(v)} ${v.sli.title ?? v.sli.name} ${v.canaryRaw ?? formatValue(v.canaryNow, v.sli.unit as Unit)}${v.target ? ` (${v.target})` : ''}`);
  const judged = views.filter((v) => v.verdict === 'pass').length;
  const verdictTone: FactTone = bad.length ? 'bad' : unknown.length ? 'warn' : 'ok';
  out.push({ text: `${judgmentBadge(s, plan)} · ${why.length ? why.join(' · ') : `SLIs ✓ ${judged}/${views.length}`}`, tone: verdictTone, prio: 96 });
  if (s.holds.length) out.push({ text: `holds: ${s.holds.join('; ')}`, tone: 'warn', prio: 70 });
  // open incidents and who is paged
  const open = openIncidents(s);
  if (!open.length) out.push({ text: 'no open incident', tone: 'muted', prio: 90 });
  for (const inc of open) {
    const ack = inc.ackedAt !== undefined ? `acked by ${inc.ackedBy ?? '?'}` : 'NOT ACKNOWLEDGED';
    out.push({ text: `● ${inc.id} ${inc.severity} ${formatDur(Math.max(0, s.now - inc.openedAt))} ${ack}: ${inc.summary}`, tone: inc.ackedAt !== undefined ? 'warn' : 'bad', prio: 95 });
    const clock = escalationClock(inc, s.now);
    const paged = clock.paged.flatMap((st) => (st.paged ?? []).map((p) => p.name ?? p.title));
    const next = clock.next ? ` · next in ${formatDur(clock.next.inMs)}: ${clock.next.step.roles.map((r) => cp.roleTitles[r] ?? r).join(', ')}` : '';
    out.push({ text: `  paged: ${paged.length ? paged.join(', ') : 'nobody yet'}${next}`, tone: 'warn', prio: 94 });
  }
  // what is useful but not safety-critical
  for (const c of s.comms.items) if (c.kind === 'rollback-notice' && c.doneAt === undefined && c.deadline !== undefined) out.push({ text: `notify by ${clockOf(c.deadline, tz)}: ${c.label}`, tone: 'warn', prio: 60 });
  const gate = gateView(plan, s);
  if (gate.kind === 'phase' && gate.phase) {
    const given = gate.approvals.filter((a) => a.given).length;
    out.push({ text: `gate ${gate.phase.title.split(':')[0]}: approvals ${given}/${gate.approvals.length} ${gate.approvals.map((a) => `${a.given ? '✓' : '✗'} ${a.title}`).join(' ')}`, tone: 'muted', prio: 50 });
  }
  out.push({ text: `${plan.metadata.service} ${plan.metadata.version} · ${clockOf(s.now, tz)} ${tz}`, tone: 'muted', prio: 20 });
  return out;
}

/** The facts that fit `height` lines of `width`: each wrapped, the lowest priority dropped first,
 * the order kept. */
export function fitFacts(facts: readonly Fact[], width: number, height: number): { text: string; tone: FactTone }[] {
  const w = Math.max(8, width);
  const wrapped = facts.map((f) => ({ f, lines: wrap(f.text, w, '  ').map((l) => truncate(l, w)) }));
  const kept = new Set(wrapped);
  let total = wrapped.reduce((n, x) => n + x.lines.length, 0);
  const byPrio = [...wrapped].sort((a, b) => a.f.prio - b.f.prio);
  for (const x of byPrio) {
    if (total <= height) break;
    kept.delete(x);
    total -= x.lines.length;
  }
  // Still too tall (a very small screen): the most urgent facts get one line each.
  const out = wrapped.filter((x) => kept.has(x)).flatMap((x) => (total > height ? [truncate(x.f.text, w)] : x.lines).map((text) => ({ text, tone: x.f.tone })));
  return out.slice(0, Math.max(0, height));
}

// ---------------------------------------------------------------------------------------------
// Layout: where each widget goes for a terminal of cols x rows (absolute cells).

export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface WallLayout {
  kind: 'wide' | 'compact';
  facts: Rect;
  gauge: Rect | null;
  pods: Rect | null;
  people: Rect | null;
  charts: Rect[];
}

/** Wide (100x30 and up): the charts on the left two thirds, the facts, the gauge, the pods of every
 * region and the people on the right. Smaller: the facts across the top (the whole screen if they
 * need it), the charts that fit below; the gauge, the tables and the title go first. */
export function wallLayout(cols: number, rows: number, o: { charts: number; regions: number; factLines: number }): WallLayout {
  if (cols >= 100 && rows >= 30) {
    const right = Math.max(44, Math.floor(cols / 3));
    const left = cols - right;
    const n = o.charts;
    const chartRows = Math.max(1, Math.ceil(n / 2));
    const chartH = Math.floor(rows / chartRows);
    const charts = Array.from({ length: n }, (_, i) => {
      const c = i % 2;
      const r = Math.floor(i / 2);
      const w = n === 1 ? left : c === 0 ? Math.floor(left / 2) : left - Math.floor(left / 2);
      return { top: r * chartH, left: c === 0 ? 0 : Math.floor(left / 2), width: w, height: r === chartRows - 1 ? rows - r * chartH : chartH };
    });
    const podsH = o.regions + 4; // borders, the header row and the blank row under it
    const peopleMin = 6;
    const factsH = Math.max(6, Math.min(o.factLines + 2, rows - podsH - peopleMin));
    let top = factsH;
    const gaugeFits = rows - factsH - podsH - peopleMin >= 5;
    const gauge = gaugeFits ? { top, left, width: right, height: 5 } : null;
    if (gauge) top += 5;
    const pods = { top, left, width: right, height: podsH };
    top += podsH;
    return { kind: 'wide', facts: { top: 0, left, width: right, height: factsH }, gauge, pods, people: { top, left, width: right, height: rows - top }, charts };
  }
  const factsH = Math.min(rows, o.factLines + 2);
  const rest = rows - factsH;
  const per = Math.max(1, Math.min(o.charts, Math.floor(cols / 36)));
  const charts = rest >= 8 && o.charts > 0 ? Array.from({ length: per }, (_, i) => ({ top: factsH, left: Math.floor((i * cols) / per), width: Math.floor(((i + 1) * cols) / per) - Math.floor((i * cols) / per), height: rest })) : [];
  return { kind: 'compact', facts: { top: 0, left: 0, width: cols, height: charts.length ? factsH : rows }, gauge: null, pods: null, people: null, charts };
}

type Blessed = typeof import('blessed');
// blessed-contrib has no types of its own; the few calls made here are typed where they are used.
interface BlessedNode {
  destroy(): void;
}
interface ContribWidget {
  setData(d: unknown): void;
  setLabel?(l: string): void;
  setPercent?(p: number): void;
  options: Record<string, unknown>;
}

export async function startWall(o: WallOptions): Promise<Wall> {
  const blessed = ((await import('blessed')) as unknown as { default: Blessed }).default;
  const contrib = ((await import('blessed-contrib' as string)) as { default: Record<string, unknown> }).default as {
    line: (o: Record<string, unknown>) => ContribWidget & BlessedNode;
    gauge: (o: Record<string, unknown>) => ContribWidget & BlessedNode;
    table: (o: Record<string, unknown>) => ContribWidget & BlessedNode;
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
  const { plan } = o;
  const slis = chartSlis(plan);
  const meter = new SpeedMeter();
  const border = { type: 'line' } as const;
  const TONE: Record<FactTone, string> = { ok: 'green', warn: 'yellow', bad: 'red', muted: 'white' };

  // The widgets are made for a layout and made again when it changes (a resize, an incident that
  // adds lines to the facts): blessed-contrib sizes a chart's canvas once, when it is attached.
  let widgets: { facts: BlessedNode & { setContent(t: string): void }; gauge: (ContribWidget & BlessedNode) | null; pods: (ContribWidget & BlessedNode) | null; people: (ContribWidget & BlessedNode) | null; charts: (ContribWidget & BlessedNode)[] } | null = null;
  let shape = '';
  const build = (l: WallLayout) => {
    if (widgets) for (const w of [widgets.facts, widgets.gauge, widgets.pods, widgets.people, ...widgets.charts]) w?.destroy();
    // Appended after they are made: a canvas makes its drawing context on 'attach', which a
    // `parent` option would fire before the widget listens for it.
    const add = <W,>(w: W): W => {
      screen.append(w as unknown as import('blessed').Widgets.Node);
      return w;
    };
    const at = (r: Rect) => ({ top: r.top, left: r.left, width: r.width, height: r.height });
    widgets = {
      facts: blessed.box({ parent: screen, ...at(l.facts), label: ' canary ', tags: true, border, style: { fg: 'white', border: { fg: 'cyan' } } }) as unknown as BlessedNode & { setContent(t: string): void },
      gauge: l.gauge ? add(contrib.gauge({ ...at(l.gauge), label: ' Canary weight ', stroke: 'green', fill: 'white', percent: [0], border })) : null,
      pods: l.pods ? add(contrib.table({ ...at(l.pods), label: ' Pods (ready/total, crashing) ', keys: false, interactive: false, columnSpacing: 2, columnWidth: [12, 8, 8, 5], fg: 'white', border })) : null,
      people: l.people ? add(contrib.table({ ...at(l.people), label: ' On call / paged ', keys: false, interactive: false, columnSpacing: 2, columnWidth: [18, 18, 14], fg: 'white', border })) : null,
      charts: l.charts.map((r) =>
        add(contrib.line({ ...at(r), label: '', showLegend: false, wholeNumbersOnly: false, style: { line: 'cyan', text: 'white', baseline: 'white' }, xLabelPadding: 2, xPadding: 2, border })),
      ),
    };
  };

  const draw = () => {
    const s = o.store.getState();
    if (!o.speed) meter.observe(performance.now(), s.now);
    const m = wallModel(plan, s, o.speed ? o.speed() : meter.speed());
    const cols = Math.max(20, Number(screen.width) || o.output.columns || 80);
    const rows = Math.max(6, Number(screen.height) || o.output.rows || 24);
    const facts = wallFacts(plan, s, o.link ? o.link.line() : null, o.source);
    // Measure the facts at the width they will get: wide puts them in the right column.
    const probe = wallLayout(cols, rows, { charts: slis.length, regions: m.pods.length, factLines: 1 });
    // blessed wraps a line that fills the box's inner width exactly: keep one cell free.
    const inner = probe.facts.width - 3;
    const wanted = fitFacts(facts, inner, Number.POSITIVE_INFINITY).length;
    const l = wallLayout(cols, rows, { charts: slis.length, regions: m.pods.length, factLines: wanted });
    const key = JSON.stringify(l);
    if (key !== shape) {
      shape = key;
      build(l);
    }
    const w = widgets!;
    const lines = fitFacts(facts, l.facts.width - 3, l.facts.height - 2);
    // blessed obeys SGR codes in content (and escape() only escapes its tags): a person's summary
    // or a server's message is shown (␛), never obeyed.
    w.facts.setContent(lines.map((x) => `{${TONE[x.tone]}-fg}${blessed.escape(printable(x.text))}{/${TONE[x.tone]}-fg}`).join('\n'));
    // blessed-contrib reads a percent <= 1.001 as a fraction (1 would draw 100%): always give it one.
    w.gauge?.setPercent?.(Math.max(0, Math.min(100, m.weight)) / 100);
    w.gauge?.setLabel?.(` Canary weight ${trimNumber(m.weight, 2)}% `);
    w.pods?.setData({ headers: ['region', 'canary', 'stable', '✗'], data: m.pods });
    w.people?.setData({ headers: ['role', 'who', ''], data: m.people.map((row) => row.map((cell) => printable(cell))) });
    w.charts.forEach((widget, i) => {
      const c = m.charts[i]!;
      const room = l.charts[i]!.width - 4;
      widget.setLabel?.(c.labels.find((x) => x.length <= room) ?? c.labels.at(-1)!);
      const pad = (c.max - c.min) * 0.1 || Math.abs(c.max) * 0.01 || 1;
      widget.options.minY = c.min - pad;
      widget.options.maxY = c.max + pad;
      const series: unknown[] = [];
      if (c.baseline.length) series.push({ title: 'baseline', x: c.x, y: c.baseline, style: { line: 'white' } });
      if (c.canary.length) series.push({ title: 'canary', x: c.x, y: c.canary, style: { line: 'cyan' } });
      if (c.threshold && series.length) series.push({ title: 'rollback', x: c.x, y: c.threshold, style: { line: 'red' } });
      widget.setData(series.length ? series : [{ title: 'no data', x: [' '], y: [c.min], style: { line: 'black' } }]);
    });
    screen.render();
  };

  let timer: NodeJS.Timeout | null = null;
  const every = o.everyMs ?? 500;
  const later = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      draw();
    }, every);
  };
  const unsubscribe = o.store.subscribe(later);
  // The connection's state and the age of the last update change with no new state: follow them.
  const unlink = o.link?.subscribe(later) ?? null;
  screen.key(['q', 'C-c'], () => o.onQuit?.());
  screen.on('resize', () => draw());
  draw();
  return {
    draw,
    text: () => (screen as unknown as { lines: [unknown, string][][] }).lines.map((l) => l.map((c) => c[1]).join('')),
    destroy() {
      unsubscribe();
      unlink?.();
      if (timer) clearTimeout(timer);
      screen.destroy();
    },
  };
}
