// The retrospective: a journal replayed into Markdown. What happened and when, who decided what,
// every rule that tripped and why, how long each phase baked against the plan, and how long each
// rollback took from the decision to the traffic provider confirming 0%.
import type { Plan } from '../plan/schema.js';
import { compile } from '../engine/compiled.js';
import { actorName, type HistoryEntry, type RolloutState, type TripExplanation } from '../engine/types.js';
import { readJournal, replaySteps, sha256Hex, type KeyOption, type ReadResult } from './journal.js';
import { printable } from '../plan/printable.js';

export interface ReportOptions extends KeyOption {
  /** The plan file's text, to say whether it is the one the journal was written with. */
  planText?: string;
}

interface Stint {
  phaseIndex: number;
  enteredAt: number;
  leftAt: number | null;
  how: string;
  bakeMs: number;
  steps: { index: number; weight: number; startedAt: number; endedAt: number | null; bakeMs: number }[];
}

interface RollbackRecord {
  at: number;
  by: string;
  reason: string;
  fromWeight: number;
  trigger?: TripExplanation;
  effectId: number | null;
  confirmedAt: number | null;
  failures: string[];
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Is bake time accruing in this state (the engine's own rule)? */
function baking(s: RolloutState): boolean {
  return s.status === 'running' && s.phaseIndex >= 0 && s.appliedWeight === s.desiredWeight;
}

function newHistory(before: RolloutState, after: RolloutState): HistoryEntry[] {
  if (before.history === after.history) return [];
  const last = before.history[before.history.length - 1];
  if (!last) return after.history.slice();
  const i = after.history.lastIndexOf(last);
  return i >= 0 ? after.history.slice(i + 1) : after.history.slice(-1);
}

export function report(plan: Plan, path: string, opts: ReportOptions = {}): string {
  return reportFrom(plan, readJournal(path, opts), path, opts);
}

/** The retrospective: Markdown whose text (summaries, reasons, names) comes from people, plans and
 * the journal, so every control character in it is shown (␛), never written raw to a terminal. */

export function reportFrom(plan: Plan, read: ReadResult, path: string, opts: ReportOptions = {}): string {
  return printable(retrospective(plan, read, path, opts), 'layout');
}

function retrospective(plan: Plan, read: ReadResult, path: string, opts: ReportOptions): string {
  const cp = compile(plan);
  if (!read.header) return `# Rollout retrospective\n\n${path}: no journal header - nothing to report.\n`;
  const header = read.header;
  const t0 = header.at;
  const since = (t: number) => `T+${dur(t - t0)}`;

  const timeline: { at: number; kind: string; text: string; by: string }[] = [];
  const approvals: { phase: string; role: string; by: string; at: number }[] = [];
  const checkpoints: { phase: string; title: string; hour: number; dueAt?: number; by?: string; at?: number }[] = [];
  const stints: Stint[] = [];
  const rollbacks: RollbackRecord[] = [];
  let final: RolloutState | null = null;
  let current: Stint | null = null;

  const closeStint = (at: number, how: string, bakeMs: number, stepBakeMs: number) => {
    if (!current) return;
    current.leftAt = at;
    current.how = how;
    current.bakeMs = bakeMs;
    const step = current.steps[current.steps.length - 1];
    if (step && step.endedAt === null) {
      step.endedAt = at;
      step.bakeMs = stepBakeMs;
    }
    current = null;
  };

  for (const { entry, before, state, effects } of replaySteps(plan, read)) {
    final = state;
    const by = 'actor' in entry.event ? actorName(entry.event.actor) : 'system';
    for (const h of newHistory(before, state)) {
      // Routine confirmations of a traffic change are summarized in the phase table, not listed.
      if (h.kind === 'effect' && h.text.includes('confirmed') && !h.text.startsWith('rollback')) continue;
      timeline.push({ at: h.at, kind: h.kind, text: h.text, by: h.kind === 'rollback' || h.kind === 'checkpoint' || h.kind === 'phase' || h.kind === 'approval' || h.kind === 'command' ? by : '' });
    }

    // Bake accrued up to this event (before a new phase or step resets the counters).
    const accrued = baking(before) ? Math.max(0, state.now - before.now) : 0;
    const phaseBakeNow = state.phaseIndex === before.phaseIndex && state.phaseBakeMs >= before.phaseBakeMs ? state.phaseBakeMs : before.phaseBakeMs + accrued;
    const stepBakeNow = state.stepIndex === before.stepIndex && state.stepBakeMs >= before.stepBakeMs ? state.stepBakeMs : before.stepBakeMs + accrued;

    const entered = state.status === 'running' && (before.status === 'pending' || before.status === 'rolled-back' || state.phaseIndex !== before.phaseIndex);
    if (state.status === 'rolled-back' && before.status !== 'rolled-back') closeStint(state.now, 'rolled back', phaseBakeNow, stepBakeNow);
    else if (state.status === 'completed' && before.status !== 'completed') closeStint(state.now, 'completed', phaseBakeNow, stepBakeNow);
    else if (entered) closeStint(state.now, 'next phase', phaseBakeNow, stepBakeNow);
    if (entered) {
      const phase = cp.phases[state.phaseIndex]!;
      current = { phaseIndex: state.phaseIndex, enteredAt: state.now, leftAt: null, how: '', bakeMs: 0, steps: [{ index: 0, weight: phase.steps[0]!.weight, startedAt: state.now, endedAt: null, bakeMs: 0 }] };
      stints.push(current);
    } else if (current && state.stepIndex !== before.stepIndex) {
      const last = current.steps[current.steps.length - 1]!;
      last.endedAt = state.now;
      last.bakeMs = stepBakeNow;
      current.steps.push({ index: state.stepIndex, weight: cp.phases[state.phaseIndex]!.steps[state.stepIndex]!.weight, startedAt: state.now, endedAt: null, bakeMs: 0 });
    }

    if (state.approvals !== before.approvals) {
      for (const [phaseId, given] of Object.entries(state.approvals)) {
        const had = before.approvals[phaseId] ?? [];
        for (const g of given) if (!had.includes(g)) approvals.push({ phase: phaseId, role: g.role, by: g.by, at: g.at });
      }
    }
    if (state.checkpoints !== before.checkpoints) {
      for (const [phaseId, cps] of Object.entries(state.checkpoints)) {
        const had = before.checkpoints[phaseId];
        cps.forEach((c, i) => {
          const old = had?.[i];
          if (c.dueAt !== undefined && old?.dueAt === undefined) checkpoints.push({ phase: phaseId, title: c.title, hour: c.at / 3_600_000, dueAt: c.dueAt });
          if (c.ackedAt !== undefined && old?.ackedAt === undefined) {
            const rec = [...checkpoints].reverse().find((x) => x.phase === phaseId && x.title === c.title && x.at === undefined);
            if (rec) Object.assign(rec, { by: c.ackedBy, at: c.ackedAt });
            else checkpoints.push({ phase: phaseId, title: c.title, hour: c.at / 3_600_000, ...(c.dueAt !== undefined ? { dueAt: c.dueAt } : {}), ...(c.ackedBy !== undefined ? { by: c.ackedBy } : {}), at: c.ackedAt });
          }
        });
      }
    }

    const rb = effects.find((e) => e.type === 'rollback');
    if (rb && state.rollback) {
      rollbacks.push({ at: state.rollback.at, by: state.rollback.by, reason: state.rollback.reason, fromWeight: state.rollback.fromWeight, ...(state.rollback.trigger ? { trigger: state.rollback.trigger } : {}), effectId: rb.id, confirmedAt: null, failures: [] });
    }
    if (entry.event.type === 'effect.result') {
      const ev = entry.event;
      const r = rollbacks.find((x) => x.effectId === ev.effectId && x.confirmedAt === null);
      if (r) {
        if (ev.ok && (ev.weight === undefined || ev.weight === 0)) r.confirmedAt = ev.at;
        else r.failures.push(`${iso(ev.at)}: ${ev.detail}`);
      }
    }
  }
  const end = final ?? null;
  if (current && end) {
    const c: Stint = current;
    c.bakeMs = end.phaseBakeMs;
    const step = c.steps[c.steps.length - 1];
    if (step) step.bakeMs = end.stepBakeMs;
  }

  const out: string[] = [];
  const lastAt = end?.now ?? t0;
  out.push(`# Rollout retrospective: ${plan.metadata.service} ${plan.metadata.version} (${plan.metadata.name})`);
  out.push('');
  out.push(`- Journal: \`${path}\` - ${read.entries.length + 1} entries (seq 0-${read.head?.seq ?? 0}), head \`${read.head?.hash ?? '-'}\``);
  out.push(`- Chain: ${read.problems.length === 0 ? 'verified' : `**${read.problems.length} problem(s)** - first: ${read.problems[0]!.kind} at line ${read.problems[0]!.line}: ${read.problems[0]!.message}`}${read.keyed ? ' (HMAC-keyed)' : ''}${read.torn ? `; torn tail of ${read.torn.bytes} bytes at line ${read.torn.line} left out` : ''}`);
  if (opts.planText !== undefined) out.push(`- Plan file: ${sha256Hex(opts.planText) === header.event.planHash ? 'the one the journal was written with' : '**changed since the journal was written** (plan hash differs)'}`);
  out.push(`- From ${iso(t0)} to ${iso(lastAt)} (${dur(lastAt - t0)})`);
  if (end) {
    const phase = cp.phases[end.phaseIndex];
    out.push(`- Final state: **${end.status}**${phase ? ` in ${phase.title}, step ${end.stepIndex + 1}/${phase.steps.length}` : ''}, weight ${end.desiredWeight}% (confirmed ${end.appliedWeight ?? '-'}%)`);
  }
  out.push('');

  out.push('## Timeline');
  out.push('');
  if (timeline.length === 0) out.push('Nothing happened.');
  else {
    out.push('| Time (UTC) | Since start | Kind | What | By |');
    out.push('|---|---|---|---|---|');
    for (const t of timeline) out.push(`| ${iso(t.at)} | ${since(t.at)} | ${t.kind} | ${cell(t.text)} | ${cell(t.by)} |`);
  }
  out.push('');

  out.push('## Approvals');
  out.push('');
  if (approvals.length === 0) out.push('No approvals were given.');
  else {
    out.push('| Gate | Role | Approved by | When (UTC) |');
    out.push('|---|---|---|---|');
    for (const a of approvals) out.push(`| ${cell(cp.phases.find((p) => p.id === a.phase)?.title ?? a.phase)} | ${cell(cp.roleTitles[a.role] ?? a.role)} | ${cell(a.by)} | ${iso(a.at)} |`);
  }
  out.push('');
  if (checkpoints.length) {
    out.push('### Checkpoints (go/no-go)');
    out.push('');
    out.push('| Phase | Hour | Checkpoint | Due (UTC) | Go by | At (UTC) | Waited |');
    out.push('|---|---|---|---|---|---|---|');
    for (const c of checkpoints)
      out.push(`| ${cell(c.phase)} | ${c.hour} | ${cell(c.title)} | ${c.dueAt !== undefined ? iso(c.dueAt) : '-'} | ${cell(c.by ?? 'no go given')} | ${c.at !== undefined ? iso(c.at) : '-'} | ${c.at !== undefined && c.dueAt !== undefined ? dur(c.at - c.dueAt) : '-'} |`);
    out.push('');
  }

  if (end && end.incidents.length) {
    out.push('## Incidents');
    out.push('');
    out.push('| Incident | Opened (UTC) | By | Summary | Paged | Acknowledged | Resolved |');
    out.push('|---|---|---|---|---|---|---|');
    for (const i of end.incidents) {
      const paged = i.steps.filter((st) => st.pagedAt !== undefined).map((st) => `${st.label}: ${(st.paged ?? []).map((p) => p.name ?? `${p.title} (nobody)`).join(', ')}`).join('; ');
      const after = (t: number | undefined, by: string | undefined) => (t === undefined ? 'no' : `${by ?? ''} after ${dur(t - i.openedAt)}`);
      out.push(`| ${i.id} ${i.severity} | ${iso(i.openedAt)} | ${cell(i.openedBy)} | ${cell(i.summary)} | ${cell(paged || '-')} | ${cell(after(i.ackedAt, i.ackedBy))} | ${cell(after(i.resolvedAt, i.resolvedBy))} |`);
    }
    out.push('');
  }

  out.push('## Rules that tripped');
  out.push('');
  if (rollbacks.length === 0) out.push('No rule tripped; no rollback.');
  for (const r of rollbacks) {
    const t = r.trigger;
    if (!t) {
      out.push(`- ${iso(r.at)} (${since(r.at)}): rollback by ${r.by}: ${r.reason}`);
      continue;
    }
    const numbers =
      t.sli !== undefined
        ? `\`${t.sli}\` = ${fmtNum(t.canary)} on the canary${t.baseline !== undefined && t.baseline !== null ? ` (baseline ${fmtNum(t.baseline)})` : ''} ${t.op ?? ''} threshold ${fmtNum(t.threshold)}${t.window ? ` (window ${t.window})` : ''}`
        : t.threshold !== undefined
          ? `value ${fmtNum(t.canary)} ${t.op ?? ''} threshold ${fmtNum(t.threshold)}`
          : 'declared';
    out.push(`- **${t.rule}** - ${t.title} (${t.group}) at ${iso(r.at)} (${since(r.at)}): ${numbers}; decided by ${r.by}`);
    out.push(`  - ${cell(t.text)}`);
    if (t.query) out.push(`  - query: \`${t.query}\``);
  }
  out.push('');

  out.push('## Time per phase');
  out.push('');
  if (stints.length === 0) out.push('No phase was entered.');
  else {
    out.push('| Phase | Entered (UTC) | Left | Wall time | Bake | Plan bake (min-max) | Against the plan |');
    out.push('|---|---|---|---|---|---|---|');
    for (const s of stints) {
      const phase = cp.phases[s.phaseIndex]!;
      const min = phase.steps.reduce((a, x) => a + x.minMs, 0);
      const max = phase.steps.reduce((a, x) => a + x.maxMs, 0);
      const left = s.leftAt === null ? `still in it at ${iso(lastAt)}` : `${iso(s.leftAt)} (${s.how})`;
      const wall = (s.leftAt ?? lastAt) - s.enteredAt;
      out.push(`| ${cell(phase.title)} | ${iso(s.enteredAt)} | ${left} | ${dur(wall)} | ${dur(s.bakeMs)} | ${dur(min)} - ${dur(max)} | ${verdict(s.bakeMs, min, max, s.leftAt === null)} |`);
      if (phase.steps.length > 1)
        for (const st of s.steps) {
          const ps = phase.steps[st.index]!;
          out.push(`| &nbsp;&nbsp;step ${st.index + 1}: ${st.weight}% | ${iso(st.startedAt)} | ${st.endedAt === null ? '-' : iso(st.endedAt)} | ${dur((st.endedAt ?? s.leftAt ?? lastAt) - st.startedAt)} | ${dur(st.bakeMs)} | ${dur(ps.minMs)} - ${dur(ps.maxMs)} | ${verdict(st.bakeMs, ps.minMs, ps.maxMs, st.endedAt === null)} |`);
        }
    }
  }
  out.push('');

  out.push('## Rollbacks: time to effect');
  out.push('');
  if (rollbacks.length === 0) out.push('No rollback.');
  else {
    out.push('| Decided (UTC) | By | From | Effect | Confirmed 0% (UTC) | Time to effect |');
    out.push('|---|---|---|---|---|---|');
    for (const r of rollbacks)
      out.push(
        `| ${iso(r.at)} | ${cell(r.by)} | ${r.fromWeight}% | #${r.effectId ?? '-'} | ${r.confirmedAt !== null ? iso(r.confirmedAt) : `not confirmed in the journal${r.failures.length ? ` (failed: ${cell(r.failures.join('; '))})` : ''}`} | ${r.confirmedAt !== null ? formatMs(r.confirmedAt - r.at) : '-'} |`,
      );
  }
  out.push('');
  return out.join('\n');
}

function verdict(bake: number, min: number, max: number, open: boolean): string {
  if (bake < min) return open ? `baking (${dur(min - bake)} to minimum)` : `left ${dur(min - bake)} before the minimum bake`;
  if (bake > max) return `over the maximum by ${dur(bake - max)}`;
  return 'within the plan';
}

/** Days, hours and minutes, none rounded away (3d30m stays 3d30m); under a minute, seconds. */
function dur(ms: number): string {
  if (Math.abs(ms) < 60_000) return formatMs(ms);
  const total = Math.round(ms / 60_000);
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  return `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}`;
}

function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'no data';
  return String(Number.isInteger(v) ? v : Number(v.toPrecision(6)));
}

/** Milliseconds precise enough for a rollback (under a second shows ms). */
function formatMs(ms: number): string {
  if (Math.abs(ms) < 1000) return `${ms} ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  return dur(ms);
}
