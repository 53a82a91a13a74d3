// The runbook's words, as pure functions of plan + state: the checklist before a gate (who ticked
// what), a command's run (the command as run, its live status, the last lines of output), the
// post-rollout validation and the rollback verification, a pod's description and log, and the
// dialogs' lines (deploy, no-go). Panes and overlays only lay these out.
import type { Plan } from '../src/plan/schema.js';
import type { Actor, CommandRun, RolloutState } from '../src/engine/types.js';
import { checklistProgress, commandValues, fillIn, flagBlockers, lastRun, runbookPlan } from '../src/engine/runbook.js';
import { gateView } from '../src/engine/gates.js';
import { compile } from '../src/engine/compiled.js';
import { authorityRules, deployCheck, validateRefusal } from '../src/engine/authority.js';
import { formatDur, wrap } from './format.js';
import type { Seg } from './line.js';
import type { Tone } from './theme.js';
import type { PodView } from '../src/runtime/inspection.js';

export function runGlyph(r: CommandRun | undefined): { glyph: string; tone: Tone } {
  if (!r) return { glyph: '·', tone: 'muted' };
  switch (r.status) {
    case 'running':
      return { glyph: '⟳', tone: 'info' };
    case 'passed':
      return { glyph: '✓', tone: 'ok' };
    case 'failed':
      return { glyph: '✗', tone: 'bad' };
    case 'skipped':
      return { glyph: '–', tone: 'muted' };
  }
}

function statusText(r: CommandRun, now: number): string {
  const took = formatDur((r.endedAt ?? now) - r.startedAt);
  if (r.status === 'running') return `running ${took}`;
  return `${r.detail} after ${took}`;
}

/** The phase whose deploy steps `d` runs: the next gate's phase, else the current one. */
export function deployPhaseOf(plan: Plan, state: RolloutState): string | null {
  const g = gateView(plan, state);
  if (g.kind === 'phase' && g.phase) return g.phase.id;
  return compile(plan).phases[state.phaseIndex]?.id ?? null;
}

/** The deploy dialog: every step of the phase with its values filled in, what runs on the
 * simulated world instead, and the last outcome of each; `y` only when the engine would run it now
 * (the next gate's phase, that gate clear apart from its own deploy, this person's authority),
 * else what blocks it. */
export function describeDeploy(plan: Plan, state: RolloutState, simulated: boolean, actor: Actor | null = null): { allowed: boolean; title: string; lines: string[] } {
  const legacy = !authorityRules(state);
  const check = legacy ? { phase: deployPhaseOf(plan, state), blockers: [] as string[] } : deployCheck(plan, state, actor);
  const phase = check.phase;
  const steps = phase ? (runbookPlan(plan).deploy[phase] ?? []) : [];
  const title = phase ? `Deploy ${plan.phases.find((p) => p.id === phase)?.title ?? phase}` : 'Deploy';
  if (!phase || steps.length === 0) return { allowed: false, title, lines: [phase ? 'The plan has no deploy steps (runbook.deploy, or the phase\'s deploy).' : (check.blockers[0] ?? 'No phase to deploy.')] };
  const values = commandValues(plan, phase);
  const lines: string[] = [];
  steps.forEach((s, i) => {
    const last = lastRun(state, `deploy:${phase}:${i}`);
    lines.push(`${i + 1}. ${s.name}${last ? ` (last: ${last.status === 'running' ? 'running' : last.detail})` : ''}`);
    lines.push(`   $ ${fillIn(s.run, values)}`);
    if (simulated) lines.push(s.sim ? `   simulated world runs: ${fillIn(s.sim, values)}` : '   simulated world: no stand-in, not run');
  });
  const running = steps.some((_, i) => lastRun(state, `deploy:${phase}:${i}`)?.status === 'running');
  if (running) return { allowed: false, title, lines: [...lines, 'The deploy steps are running.'] };
  if (check.blockers.length) return { allowed: false, title, lines: [...lines, 'It runs only when the gate into this phase could open (it sets the canary\'s weight as the gate does):', ...check.blockers.map((b) => `Blocked: ${b}`)] };
  lines.push(`Runs one after the other (a failure stops the rest), output in the runbook pane. Press y to run; any other key cancels.`);
  return { allowed: true, title, lines };
}

/** `V`: the post-rollout validation again (after a rollback: its verification again), with `y`
 * only when it can run now, else why not. */
export function describeValidate(plan: Plan, state: RolloutState): { allowed: boolean; title: string; lines: string[] } {
  const rolledBack = state.status === 'rolled-back';
  const title = rolledBack ? 'Verify the rollback again' : 'Post-rollout validation again';
  const v = plan.rollback.validate;
  const what = rolledBack
    ? `Run the rollback verification again: ${v ? (typeof v === 'string' ? v : v.run) : 'the plan has none'}`
    : 'Run the post-rollout validation again (every command, one after the other); "complete" waits for it.';
  const why = validateRefusal(plan, state);
  if (why) return { allowed: false, title, lines: [what, `Blocked: ${why}`] };
  return { allowed: true, title, lines: [what, 'Run it? y/N'] };
}

/** The runbook pane: the run shown (running first, else the newest), its command and its output. */
export function runPaneLines(plan: Plan, state: RolloutState, width: number, height: number): { title: string; right: string; lines: Seg[][] } {
  const runs = state.runbook.runs;
  // The one running, else the newest that ran (a step skipped on the simulated world has nothing to show).
  const run = [...runs].reverse().find((r) => r.status === 'running') ?? [...runs].reverse().find((r) => r.status !== 'skipped') ?? runs.at(-1);
  if (!run) return { title: 'Runbook', right: '', lines: [[{ text: 'no command has run yet', tone: 'muted' }]] };
  const g = runGlyph(run);
  const head: Seg[][] = [
    [{ text: `${g.glyph} `, tone: g.tone, bold: true }, { text: `${run.name}`, bold: true }, { text: ` · ${run.purpose} · ${statusText(run, state.now)}`, tone: run.status === 'failed' ? 'bad' : 'muted' }],
    ...wrap(`$ ${run.command}`, width, '  ').map((t): Seg[] => [{ text: t, tone: 'muted' }]),
  ];
  if (run.sim) head.push(...wrap(`simulated: ${run.sim}`, width, '  ').map((t): Seg[] => [{ text: t, tone: 'muted' }]));
  // Later steps of the same kind that were not run here (no stand-in on the simulated world).
  const skipped = runs.filter((r) => r.status === 'skipped' && r.purpose === run.purpose && r.startedAt >= run.startedAt && r.id > run.id);
  for (const r of skipped) head.push([{ text: '– ', tone: 'muted' }, { text: `${r.name}: ${r.detail}`, tone: 'muted' }]);
  const validation = validationSegs(plan, state);
  const room = Math.max(1, height - head.length - validation.length);
  const out = run.lines.slice(-room).map((l): Seg[] => [{ text: l, ...(/error|fail|fatal|panic/i.test(l) ? { tone: 'bad' as const } : {}) }]);
  if (out.length === 0) out.push([{ text: run.status === 'running' ? '(no output yet)' : '(no output)', tone: 'muted' }]);
  const right = run.exitCode !== null ? `exit ${run.exitCode}` : run.status === 'running' ? 'running' : run.status;
  return { title: `Runbook: ${run.purpose}`, right, lines: [...head, ...out, ...validation] };
}

/** Post-rollout validation, one line per command with its live status (once it has started). */
export function validationSegs(plan: Plan, state: RolloutState): Seg[][] {
  const rp = runbookPlan(plan);
  if (state.runbook.validationAt === null || rp.validate.length === 0) return [];
  return rp.validate.map((v, i) => {
    const r = lastRun(state, `validate:${i}`);
    const fresh = r && r.startedAt >= state.runbook.validationAt! ? r : undefined;
    const g = runGlyph(fresh);
    return [{ text: `${g.glyph} `, tone: g.tone, bold: true }, { text: v.name }, { text: fresh ? ` ${fresh.status === 'running' ? 'running' : fresh.detail}` : ' waiting', tone: 'muted' }];
  });
}

/** The checklist overlay: the gate's checklists, item by item, who ticked each (or its check). */
export function checklistLines(plan: Plan, state: RolloutState, width: number, selected: number): { title: string; lines: Seg[][]; keys: string[] } {
  const phase = deployPhaseOf(plan, state) ?? plan.phases[0]!.id;
  const lists = runbookPlan(plan).gateChecklists[phase] ?? [];
  const keys: string[] = [];
  const lines: Seg[][] = [];
  const p = checklistProgress(plan, state, phase);
  if (lists.length === 0) return { title: 'Checklist', lines: [[{ text: `No checklist is put before ${phase} (phases[].checklists).`, tone: 'muted' }]], keys };
  for (const cl of lists) {
    lines.push([{ text: cl.name, bold: true }]);
    for (const item of cl.items) {
      const t = state.runbook.ticks[item.key];
      const ran = lastRun(state, `check:${item.key}`);
      const sel = keys.length === selected;
      keys.push(item.key);
      const mark: Seg = t ? { text: '✓', tone: 'ok', bold: true } : ran?.status === 'running' ? { text: '⟳', tone: 'info' } : ran?.status === 'failed' ? { text: '✗', tone: 'bad', bold: true } : { text: '☐', tone: 'warn' };
      const who = t ? ` — ${t.how === 'check' ? t.by : `ticked by ${t.by}`}` : item.check ? ` — check: ${item.check.query ? 'query' : 'command'}${ran && ran.status !== 'running' ? ` (${ran.detail})` : ''}` : '';
      const text = wrap(`${item.text}${who}`, Math.max(10, width - 4), '    ');
      text.forEach((tx, k) => lines.push(k === 0 ? [{ text: sel ? '▶ ' : '  ', tone: 'info', bold: true }, mark, { text: ` ${tx}`, ...(sel ? { bold: true } : {}) }] : [{ text: `   ${tx}`, tone: 'muted' }]));
    }
  }
  lines.push([{ text: '' }]);
  lines.push([{ text: '↑/↓ choose · t or enter ticks as you (named, journaled) · c runs the item\'s check · esc closes', tone: 'muted' }]);
  return { title: `Checklist before ${plan.phases.find((x) => x.id === phase)?.title ?? phase}: ${p.ticked}/${p.total} ticked`, lines, keys };
}

/** The no-go dialog: the checkpoint, what a no-go does in this plan, the reason being typed. */
export function noGoLines(plan: Plan, state: RolloutState, reason: string, width: number): { allowed: boolean; title: string; lines: Seg[][] } {
  const cp = compile(plan);
  const phase = cp.phases[state.phaseIndex];
  const due = phase ? (state.checkpoints[phase.id] ?? []).find((c) => c.dueAt !== undefined && c.ackedAt === undefined) : undefined;
  if (!phase || !due) return { allowed: false, title: 'No-go', lines: [[{ text: 'No checkpoint is waiting for a decision.', tone: 'muted' }]] };
  const def = plan.phases[phase.index]!.checkpoints.find((c) => c.title === due.title);
  const does = def?.noGo === 'rollback' ? 'rolls back at once (the plan says noGo: rollback)' : 'holds the phase until someone gives a go (g) or rolls back';
  const lines: Seg[][] = [
    [{ text: `${phase.title}, hour ${due.at / 3_600_000}: ${due.title}`, bold: true }],
    ...wrap(`A no-go ${does}. Your reason is journaled and sent to the plan's channels.`, width, '').map((t): Seg[] => [{ text: t, tone: 'muted' }]),
    [{ text: '' }],
    [{ text: 'Reason: ', tone: 'muted' }, { text: reason || ' ', bold: true }, { text: '▏', tone: 'info' }],
    [{ text: '' }],
    [{ text: reason.trim() ? 'enter records the no-go · esc cancels' : 'type the reason · esc cancels', tone: 'muted' }],
  ];
  return { allowed: reason.trim().length > 0, title: `NO-GO at hour ${due.at / 3_600_000}`, lines };
}

/** Checklist items (keys) whose automated check failed or could not run and that nobody ticked:
 * ticking one by hand overrides the check and needs a note (engine rules 3). */
export function needsNote(plan: Plan, state: RolloutState): string[] {
  if (!authorityRules(state)) return [];
  return runbookPlan(plan)
    .items.filter((i) => i.check && !state.runbook.ticks[i.key])
    .filter((i) => {
      const r = lastRun(state, `check:${i.key}`);
      return r !== undefined && (r.status === 'failed' || r.status === 'skipped');
    })
    .map((i) => i.key);
}

/** The note prompt of `t` on an item whose check failed: the item, the check's result, the note. */
export function tickNoteLines(plan: Plan, state: RolloutState, key: string, note: string, width: number): Seg[][] {
  const item = runbookPlan(plan).items.find((i) => i.key === key);
  const run = lastRun(state, `check:${key}`);
  return [
    [{ text: `${item?.checklist ?? ''}: ${item?.text ?? key}`, bold: true }],
    ...wrap(`Its check (${item?.check?.name ?? 'check'}) ${run?.status === 'skipped' ? 'could not run here' : 'failed'}: ${run?.detail ?? ''}. Ticking it by hand overrides the check: say why. The note is journaled with you and the check's result; only someone with rollout authority at this gate may.`, width, '').map((t): Seg[] => [{ text: t, tone: 'muted' }]),
    [{ text: '' }],
    [{ text: 'Note: ', tone: 'muted' }, { text: note || ' ', bold: true }, { text: '▏', tone: 'info' }],
    [{ text: '' }],
    [{ text: note.trim() ? 'enter ticks it · esc back to the checklist' : 'type the note · esc back to the checklist', tone: 'muted' }],
  ];
}

/** A pod's description and log (enter on a pod): conditions, containers, events, then the log.
 * `ins` is what this terminal looks at (src/runtime/inspection.ts), not the rollout's state. */
export function podLines(state: RolloutState, ins: PodView | null, width: number, height: number): { title: string; lines: Seg[][] } {
  if (!ins) return { title: 'Pod', lines: [[{ text: 'opening…', tone: 'muted' }]] };
  const pod = state.pods.get(ins.key);
  const head: Seg[][] = [];
  const d = ins.detail;
  if (ins.error) head.push([{ text: `✗ ${ins.error}`, tone: 'bad' }]);
  if (d) {
    head.push([{ text: 'Status ', tone: 'muted' }, { text: `${pod?.reason ?? d.phase}`, bold: true, tone: pod && !pod.ready ? 'bad' : 'ok' }, { text: `  node ${d.node ?? '?'}  ip ${d.ip ?? '?'}`, tone: 'muted' }]);
    head.push([{ text: 'Conditions ', tone: 'muted' }, ...d.conditions.flatMap((c): Seg[] => [{ text: `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}  `, tone: c.status === 'True' ? 'ok' : 'warn' }])]);
    for (const c of d.containers)
      head.push([{ text: `Container ${c.name} `, tone: 'muted' }, { text: c.state, bold: true, tone: c.state.startsWith('Running') ? 'ok' : 'bad' }, { text: `  restarts ${c.restarts}${c.lastState ? `  last: ${c.lastState}` : ''}`, tone: c.lastState ? 'warn' : 'muted' }]);
    const events = d.events.slice(-4);
    if (events.length) head.push([{ text: 'Events', tone: 'muted' }]);
    for (const e of events) head.push([{ text: `  ${e.type === 'Warning' ? '!' : '·'} ${e.reason}`, tone: e.type === 'Warning' ? 'warn' : 'muted', bold: e.type === 'Warning' }, { text: `${e.count > 1 ? ` (x${e.count})` : ''} ${e.message}`, tone: 'muted' }]);
  } else if (!ins.error) head.push([{ text: 'describing…', tone: 'muted' }]);
  head.push([{ text: `─ log${ins.ended ? '' : ' (following)'} ${'─'.repeat(Math.max(0, width - 16))}`, tone: 'muted' }]);
  const tail: Seg[][] = [];
  if (ins.ended) tail.push(...wrap(ins.ended, width).map((t): Seg[] => [{ text: t, tone: 'warn', bold: true }]));
  tail.push([{ text: 'esc closes (stops following)', tone: 'muted' }]);
  const room = Math.max(1, height - head.length - tail.length);
  const log = ins.lines.slice(-room).map((l): Seg[] => [{ text: l, ...(/panic|fatal|error|SIGSEGV/i.test(l) ? { tone: 'bad' as const } : /warn/i.test(l) ? { tone: 'warn' as const } : {}) }]);
  if (log.length === 0) log.push([{ text: ins.ended ? '(no log)' : '(waiting for the log)', tone: 'muted' }]);
  return { title: `${ins.name}${pod ? ` · ${pod.track} · ${pod.region}` : ''}`, lines: [...head, ...log, ...tail] };
}

/** The feature flags overlay (F): every phase's flags, the current phase's first; for each its
 * approvals (who gave which, which are missing), whether it is enabled and by whom, and how it is
 * enabled (the command with its values filled in, or the flag service's webhook). */
export function flagLines(plan: Plan, state: RolloutState, width: number, selected: number): { title: string; lines: Seg[][]; names: string[] } {
  const rp = runbookPlan(plan);
  const cp = compile(plan);
  const current = cp.phases[state.phaseIndex]?.id ?? null;
  const all = Object.values(rp.flags);
  const names: string[] = [];
  const lines: Seg[][] = [];
  if (all.length === 0) return { title: 'Feature flags', lines: [[{ text: 'The plan lists no feature flags (phases[].flags).', tone: 'muted' }]], names };
  const phases = [...new Set([...(current && all.some((f) => f.phase === current) ? [current] : []), ...all.map((f) => f.phase)])];
  for (const phaseId of phases) {
    const title = plan.phases.find((p) => p.id === phaseId)?.title ?? phaseId;
    const here = phaseId === current && (state.status === 'running' || state.status === 'paused');
    lines.push([{ text: title, bold: true }, { text: here ? '  (this phase: can be enabled now)' : '  (enabled only while the rollout is in this phase)', tone: 'muted' }]);
    for (const f of all.filter((x) => x.phase === phaseId)) {
      const sel = names.length === selected;
      names.push(f.name);
      const st = state.runbook.flags[f.name];
      const run = lastRun(state, `flag:${f.name}`);
      const mark: Seg = st?.enabledAt !== undefined ? { text: '✓', tone: 'ok', bold: true } : run?.status === 'running' ? { text: '⟳', tone: 'info' } : run?.status === 'failed' ? { text: '✗', tone: 'bad', bold: true } : { text: '☐', tone: here ? 'warn' : 'muted' };
      lines.push([{ text: sel ? '▶ ' : '  ', tone: 'info', bold: true }, mark, { text: ` ${f.name}`, bold: sel }, { text: ` — ${f.title}`, tone: 'muted' }]);
      const approvals = f.approvals.map((r) => {
        const a = st?.approvals.find((x) => x.role === r);
        return `${a ? '✓' : '✗'} ${cp.roleTitles[r] ?? r}${a ? ` (${a.by})` : ''}`;
      });
      const status =
        st?.enabledAt !== undefined
          ? `enabled by ${st.enabledBy}, ${formatDur(state.now - st.enabledAt)} ago`
          : run?.status === 'running'
            ? 'being enabled…'
            : run?.status === 'failed'
              ? `enabling FAILED: ${run.detail}`
              : run?.status === 'skipped'
                ? `not enabled: ${run.detail}`
                : 'not enabled';
      for (const t of wrap(`approvals: ${approvals.join(' · ') || 'none needed'} · ${status}`, Math.max(10, width - 4), '    ')) lines.push([{ text: `    ${t}`, tone: run?.status === 'failed' ? 'bad' : 'muted' }]);
    }
  }
  lines.push([{ text: '' }]);
  lines.push([{ text: '↑/↓ choose · A approves in your role · e or enter enables (y confirms) · esc closes', tone: 'muted' }]);
  const enabled = all.filter((f) => state.runbook.flags[f.name]?.enabledAt !== undefined).length;
  return { title: `Feature flags: ${enabled}/${all.length} enabled`, lines, names };
}

/** Enabling a flag, confirmed with y: what runs (the hook with its values, or the webhook), what
 * runs instead on the simulated world, and what still blocks it. */
export function describeFlag(plan: Plan, state: RolloutState, name: string, simulated: boolean): { allowed: boolean; title: string; lines: string[] } {
  const cp = compile(plan);
  const f = runbookPlan(plan).flags[name];
  if (!f) return { allowed: false, title: 'Enable a flag', lines: [`No flag "${name}" in the plan.`] };
  const title = `Enable flag ${f.name}`;
  const lines = [f.title];
  const values = commandValues(plan, f.phase, { FLAG: f.name });
  if (f.enable) {
    lines.push(`$ ${fillIn(f.enable.run, values)}`);
    if (simulated) lines.push(f.enable.sim ? `simulated world runs: ${fillIn(f.enable.sim, values)}` : 'simulated world: no stand-in, not run');
  } else {
    lines.push(`POST $${f.webhookEnv} (the flag service) {"flag":"${f.name}","phase":"${f.phase}"}`);
    if (simulated) lines.push('simulated world: POST to the simulated flag service instead');
  }
  const current = cp.phases[state.phaseIndex]?.id;
  const blockers = [...((state.status === 'running' || state.status === 'paused') && current === f.phase ? [] : [`it belongs to ${plan.phases.find((p) => p.id === f.phase)?.title ?? f.phase}; the rollout is not in it`]), ...flagBlockers(cp, state, f.name)];
  if (blockers.length) return { allowed: false, title, lines: [...lines, ...blockers.map((b) => `Blocked: ${b}`), 'Nothing to do: any key closes.'] };
  lines.push('Enabling changes what customers get; it is journaled under your name. Enable it? y/N');
  return { allowed: true, title, lines };
}

/** The phases pane's line for the current phase's flags: enabled / total, what is waiting. */
export function flagSummary(plan: Plan, state: RolloutState, phaseId: string): { enabled: number; total: number; waiting: number } | null {
  const flags = Object.values(runbookPlan(plan).flags).filter((f) => f.phase === phaseId);
  if (!flags.length) return null;
  const enabled = flags.filter((f) => state.runbook.flags[f.name]?.enabledAt !== undefined).length;
  const waiting = flags.filter((f) => state.runbook.flags[f.name]?.enabledAt === undefined && f.approvals.some((r) => !state.runbook.flags[f.name]?.approvals.some((a) => a.role === r))).length;
  return { enabled, total: flags.length, waiting };
}
