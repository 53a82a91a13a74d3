// Phases: where the rollout is, how long it still bakes, what the next checkpoint and gate need,
// and, after a rollback, why, in full.
import { Box } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import { compile, type CompiledPhase } from '../src/engine/compiled.js';
import { gateView } from '../src/engine/gates.js';
import type { RolloutState } from '../src/engine/types.js';
import { cellWidth, fit, formatAge, formatDur, trimNumber, wrap } from './format.js';
import { fitLines, flowItems, Lines, type PLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import type { Theme, Tone } from './theme.js';
import { checklistProgress, lastRun, runbookPlan } from '../src/engine/runbook.js';
import { flagSummary, runGlyph, validationSegs } from './runbook.js';
import { DEFAULT_KEYMAP, type Keymap } from '../src/config/keys.js';

export interface PhasesPaneProps {
  plan: Plan;
  state: RolloutState;
  width: number;
  height: number;
  focused: boolean;
  theme: Theme;
  /** The keys the pane's hints name ("press a", "(t)"), as the keymap in force binds them; null
   * in a read-only view (a replay, a war-room viewer), which binds none and so names none. */
  actions?: PhaseKeys | null;
}

/** The keys the Phases pane names in its hints: each action's first key, null when unbound. */
export interface PhaseKeys {
  advance: string | null;
  go: string | null;
  checklist: string | null;
  flags: string | null;
  validate: string | null;
}

/** The hints' keys under a keymap (a config file may remap them; default: the built-in keys). */
export function phaseKeys(keymap: Keymap = DEFAULT_KEYMAP): PhaseKeys {
  const first = (a: keyof PhaseKeys) => keymap[a][0] ?? null;
  return { advance: first('advance'), go: first('go'), checklist: first('checklist'), flags: first('flags'), validate: first('validate') };
}
const DEFAULT_PHASE_KEYS = phaseKeys();

type PhaseMark = 'done' | 'current' | 'rolled-back' | 'pending';
const MARK_GLYPH: Record<PhaseMark, string> = { done: '✓', current: '▶', 'rolled-back': '✗', pending: '·' };
const MARK_TONE: Record<PhaseMark, Tone> = { done: 'ok', current: 'info', 'rolled-back': 'bad', pending: 'muted' };

function markOf(state: RolloutState, i: number): PhaseMark {
  switch (state.status) {
    case 'pending':
      return 'pending';
    case 'completed':
      return 'done';
    case 'rolled-back':
      return i < state.phaseIndex ? 'done' : i === state.phaseIndex ? 'rolled-back' : 'pending';
    default:
      return i < state.phaseIndex ? 'done' : i === state.phaseIndex ? 'current' : 'pending';
  }
}

/** 50→75→90→100% */
export function phaseWeights(p: CompiledPhase): string {
  return `${p.steps.map((s) => trimNumber(s.weight, 2)).join('→')}%`;
}

/** A bake bar of `width` cells: █ baked, ░ still to bake; it spans the minimum bake, or the maximum
 * when that is longer, with the minimum marked │. */
export function bakeBar(bakeMs: number, minMs: number, maxMs: number, width: number): string {
  if (width <= 0) return '';
  const total = Math.max(minMs, maxMs);
  const f = total > 0 ? Math.max(0, Math.min(1, bakeMs / total)) : 1;
  const n = Math.round(f * width);
  const cells: string[] = [];
  for (let i = 0; i < width; i++) cells.push(i < n ? '█' : '░');
  if (maxMs > minMs && width >= 3) {
    const m = Math.max(1, Math.min(width - 1, Math.round((minMs / maxMs) * width)));
    cells[m] = '│';
  }
  return cells.join('');
}

const hourOf = (ms: number) => trimNumber(ms / 3_600_000, 2);

/** Every line the pane would like to show, with priorities; `width` is the inner width.
 * `compact`: every phase on one strip line (✓1% ✗5% ·25% ·50→75→90→100%) instead of a row each,
 * for a pane too short for both the phases and what the current one needs (80x24). */
export function phaseLines(plan: Plan, state: RolloutState, width: number, compact = false, actions: PhaseKeys | null = DEFAULT_PHASE_KEYS): PLine[] {
  // A key's hint, only where keys act (a read-only view binds none, so it names none), with the
  // key as bound: a remapped advance is not "press a".
  const hint = (action: keyof PhaseKeys, text: (key: string) => string) => {
    const key = actions?.[action];
    return key ? text(key) : '';
  };
  const cp = compile(plan);
  const gate = gateView(plan, state);
  const lines: PLine[] = [];
  const push = (prio: number, ...segs: Seg[]) => lines.push({ prio, segs });
  const pushWrapped = (prio: number, text: string, tone: Tone, bold = false) => {
    wrap(text, width, '  ').forEach((t, k) => push(prio - (k > 0 ? 0.01 * k : 0), { text: t, tone, bold }));
  };
  const approvalsLines = (prio: number) => {
    if (gate.kind !== 'phase' || gate.approvals.length === 0) return;
    const given = gate.approvals.filter((a) => a.given).length;
    const items: Seg[][] = gate.approvals.map((a) => [
      { text: a.given ? '✓' : '✗', tone: a.given ? 'ok' : 'bad' },
      { text: ` ${a.title}${a.conditional ? ' (weekend/holiday)' : ''}` },
    ]);
    // continuation lines matter while the gate is what the rollout waits for; otherwise the other
    // phases come first
    const contPrio = prio >= 80 ? prio - 1 : 35;
    flowItems([{ text: `  approvals ${given}/${gate.approvals.length}: `, tone: given === gate.approvals.length ? 'ok' : 'warn' }], items, width, '    ').forEach(
      (segs, k) => lines.push({ prio: k === 0 ? prio : contPrio - 0.01 * k, segs }),
    );
  };

  if (compact) {
    const items: Seg[][] = cp.phases.map((p, i) => {
      const mark = markOf(state, i);
      return [{ text: `${MARK_GLYPH[mark]}${phaseWeights(p)}`, tone: MARK_TONE[mark], bold: mark === 'current' || mark === 'rolled-back' }];
    });
    // right after the first line of a rollback's reason (100), before its continuation (99.99...)
    flowItems([{ text: 'phases ', tone: 'muted' }], items, width, '  ').forEach((segs, k) => lines.push({ prio: 99.995 - 0.0001 * k, segs }));
  }
  cp.phases.forEach((p, i) => {
    const mark = markOf(state, i);
    const weights = phaseWeights(p);
    const isGate = gate.kind === 'phase' && gate.phaseIndex === i;
    const titleW = Math.max(1, width - 2 - cellWidth(weights) - 1);
    // Every phase row outranks the details of other phases: a phase is never dropped silently
    // (the strip of the compact form, or a "more" line, says what did not fit).
    const prio = mark === 'current' || mark === 'rolled-back' ? 95 : isGate ? 77 : mark === 'done' ? (i === state.phaseIndex - 1 ? 76 : 75) : 76 - i * 0.1;
    if (compact && mark !== 'current' && mark !== 'rolled-back' && !isGate) return;
    push(
      prio,
      { text: MARK_GLYPH[mark], tone: MARK_TONE[mark], bold: mark !== 'pending' && mark !== 'done' },
      { text: ` ${fit(p.title, titleW)} `, tone: mark === 'pending' ? 'muted' : undefined, bold: mark === 'current' },
      { text: weights, tone: mark === 'current' ? 'info' : mark === 'pending' ? 'muted' : undefined },
    );

    if (mark === 'current') currentDetails(p);
    if (mark === 'current') flagLine(p.id);
    if (mark === 'rolled-back' && state.rollback) {
      const rb = state.rollback;
      pushWrapped(100, `✗ ROLLED BACK from ${trimNumber(rb.fromWeight, 2)}%: ${rb.reason}`, 'bad', true);
      push(30, { text: `  by ${rb.by}, ${formatAge(state.now - rb.at)} ago${hint('advance', (k) => ` · ${k} restarts (approvals asked again)`)}`, tone: 'muted' });
    }
    if (isGate) approvalsLines(state.status === 'pending' || state.status === 'rolled-back' ? 85 : 55);
    if (isGate) checklistLine(p.id, state.status === 'pending' ? 86 : 54);
    if (mark === 'rolled-back' && state.rollback) verificationLine();
  });
  if (state.status === 'rolled-back' && state.phaseIndex < 0) verificationLine();
  validationLines();

  if (state.status === 'rolled-back' && state.rollback && state.phaseIndex < 0) {
    pushWrapped(100, `✗ ROLLED BACK from ${trimNumber(state.rollback.fromWeight, 2)}%: ${state.rollback.reason}`, 'bad', true);
  }
  clusterLines();
  if (state.status === 'completed') push(90, { text: `✓ COMPLETED at ${trimNumber(state.desiredWeight, 2)}%`, tone: 'ok', bold: true });
  const open = hint('advance', (k) => `press ${k} to open the first gate once approvals are in`);
  if (state.status === 'pending' && open) push(15, { text: open, tone: 'muted' });
  // Holds, in the engine's words; the per-SLI "no data for X" holds are folded into one line (the
  // SLI pane shows which ones, with ages).
  const noData = state.criteria.filter((c) => c.verdict === 'no-data').map((c) => c.sli);
  const holds = state.holds.filter((h) => h !== 'paused by a person' && !h.startsWith('no data for '));
  if (noData.length) holds.unshift(`no data for ${noData.join(', ')} (never a pass; holds after ${plan.analysis.noDataAfter})`);
  for (const h of holds) {
    wrap(`! hold: ${h}`, width, '  ').forEach((t, k) => push(k === 0 ? 70 : 45 - 0.01 * k, { text: t, tone: 'warn' }));
  }
  return lines;

  /** The checklist before this gate: how many items are ticked, which is next (t ticks). */
  function checklistLine(phaseId: string, prio: number): void {
    const c = checklistProgress(plan, state, phaseId);
    if (c.total === 0) return;
    const next = runbookPlan(plan).gateChecklists[phaseId]?.flatMap((l) => l.items).find((i) => !state.runbook.ticks[i.key]);
    const done = c.ticked === c.total;
    push(prio, { text: `  checklist ${c.ticked}/${c.total}${done ? ' ✓' : ''}`, tone: done ? 'ok' : 'warn', bold: !done }, { text: next ? ` next: ${next.text}${hint('checklist', (k) => ` (${k})`)}` : '', tone: 'muted' });
  }

  /** The current phase's feature flags: how many are enabled, how many wait for approvals (F). */
  function flagLine(phaseId: string): void {
    const f = flagSummary(plan, state, phaseId);
    if (!f || (state.status !== 'running' && state.status !== 'paused')) return;
    const done = f.enabled === f.total;
    push(52, { text: `  flags ${f.enabled}/${f.total} enabled${done ? ' ✓' : ''}`, tone: done ? 'ok' : 'info' }, { text: done ? '' : `${f.waiting ? ` · ${f.waiting} await approval` : ''}${hint('flags', (k) => ` (${k})`)}`, tone: 'muted' });
  }

  /** After a rollback: "rolled back, confirmed" includes its verification step. */
  function verificationLine(): void {
    const v = state.runbook.verification;
    if (!v || !state.rollback || v.rollbackAt !== state.rollback.at) return;
    const run = v.runId !== null ? state.runbook.runs.find((r) => r.id === v.runId) : undefined;
    const g = runGlyph(run);
    const what = run?.name ?? 'verification';
    const text = v.status === 'running' ? `${what} running…` : v.status === 'passed' ? `rolled back, confirmed: ${what} ${v.detail}` : v.status === 'skipped' ? `verification skipped: ${v.detail}` : `rollback verification FAILED: ${what} ${v.detail}${hint('validate', (k) => ` (${k} runs it again)`)}`;
    pushWrapped(97, `${g.glyph} ${text}`, v.status === 'failed' ? 'bad' : v.status === 'passed' ? 'ok' : 'info', v.status === 'failed');
  }

  /** After 100%: the post-rollout validation, each command's status; "complete" waits for it. */
  function validationLines(): void {
    const segs = validationSegs(plan, state);
    if (!segs.length) return;
    const passed = runbookPlan(plan).validate.filter((_, i) => lastRun(state, `validate:${i}`)?.status === 'passed').length;
    push(88, { text: `post-rollout validation ${passed}/${segs.length}`, tone: passed === segs.length ? 'ok' : 'warn', bold: true });
    segs.forEach((s, i) => push(87 - i * 0.01, { text: '  ' }, ...s));
  }

  /** Per cluster: how the last traffic change went (after a rollback: before everything else). */
  function clusterLines(): void {
    const a = state.actuation;
    if (!a) return;
    const prio = a.type === 'rollback' ? 98 : a.ok ? 58 : 88;
    const items: Seg[][] = a.clusters.map((c) => [
      { text: c.ok ? '✓' : '✗', tone: c.ok ? 'ok' : 'bad', bold: !c.ok },
      { text: ` ${c.cluster} ${c.weight ?? '?'}%${c.attempts > 1 ? ` (${c.attempts} tries)` : ''}` },
    ]);
    const head = a.type === 'rollback' ? (a.ok ? '  rollback confirmed: ' : '  ROLLBACK NOT CONFIRMED: ') : '  clusters: ';
    flowItems([{ text: head, tone: a.ok ? 'ok' : 'bad', bold: !a.ok }], items, width, '    ').forEach((segs, k) => lines.push({ prio: prio - 0.01 * k, segs }));
    for (const c of a.clusters) if (!c.ok) pushWrapped(prio - 0.5, `  ✗ ${c.cluster}: ${c.detail}`, 'bad');
  }

  function currentDetails(p: CompiledPhase): void {
    const step = p.steps[state.stepIndex];
    if (!step) return;
    const stepText = p.steps.length > 1 ? `step ${state.stepIndex + 1}/${p.steps.length} ` : '';
    let text: string;
    let tone: Tone = 'info';
    const applying = state.appliedWeight !== state.desiredWeight;
    const bake = state.stepBakeMs;
    if (applying) {
      text = `traffic ${state.appliedWeight ?? '?'}% → ${trimNumber(state.desiredWeight, 2)}% not confirmed yet: bake clock stopped`;
      tone = 'warn';
    } else if (bake < step.minMs) {
      text = `${formatDur(bake)}/${formatDur(step.minMs)} min, ${step.maxMs > step.minMs ? `${formatDur(step.maxMs - bake)} to max` : `${formatDur(step.minMs - bake)} left`}`;
    } else {
      text = `${formatDur(bake)} baked, min ${formatDur(step.minMs)} reached${step.maxMs > bake ? `, ${formatDur(step.maxMs - bake)} to max` : ''}`;
      tone = 'ok';
    }
    if (state.status === 'paused') {
      text += ' (paused)';
      tone = 'warn';
    }
    const barW = Math.max(4, Math.min(20, width - 4 - cellWidth(stepText) - cellWidth(text) - 1));
    const reached = bake >= step.minMs;
    if (applying) wrap(`${stepText}${text}`, width - 2).forEach((t, k) => push(80 - 0.01 * k, { text: `  ${t}`, tone }));
    else
      push(
        80,
        { text: `  ${stepText}` },
        { text: bakeBar(bake, step.minMs, step.maxMs, barW), tone: reached ? 'ok' : 'info' },
        { text: ` ${text}`, tone },
      );

    const cps = state.checkpoints[p.id] ?? [];
    const due = cps.find((c) => c.dueAt !== undefined && c.ackedAt === undefined);
    if (due) {
      wrap(`⚑ GO? hour ${hourOf(due.at)} ${due.title}${hint('go', (k) => ` — press ${k}`)}`, width - 2, '  ').forEach((t, k) =>
        push(92 - 0.01 * k, { text: `  ${t}`, tone: 'warn', bold: true }),
      );
    } else {
      const next = cps.find((c) => c.dueAt === undefined);
      if (next) push(50, { text: `  go/no-go in ${formatDur(Math.max(0, next.at - state.phaseBakeMs))}: ${next.title}`, tone: 'muted' });
    }
  }
}

/** The lines the pane draws at this size (App compares them to skip a redraw on a clock tick). */
export function phasesPaneLines(plan: Plan, state: RolloutState, width: number, height: number, actions: PhaseKeys | null = DEFAULT_PHASE_KEYS): PLine[] {
  const w = paneInnerWidth(width);
  const h = paneInnerHeight(height);
  const full = phaseLines(plan, state, w, false, actions);
  return fitLines(full.length > h ? phaseLines(plan, state, w, true, actions) : full, h);
}

export function PhasesPane({ plan, state, width, height, focused, theme, actions = DEFAULT_PHASE_KEYS }: PhasesPaneProps) {
  const w = paneInnerWidth(width);
  const lines = phasesPaneLines(plan, state, width, height, actions);
  return (
    <Pane title="Phases" right={plan.metadata.release} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={lines} width={w} theme={theme} />
      </Box>
    </Pane>
  );
}
