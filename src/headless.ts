// `canary run --headless`: the same runtime, engine, sources and actuators as the console, no
// screen. It prints what happens (short lines, or one JSON object per line with --json) and ends
// with an exit code a pipeline can branch on.
import type { Plan } from './plan/schema.js';
import { formatDuration } from './plan/duration.js';
import { jsonLine, printable } from './plan/printable.js';
import { gateView } from './engine/gates.js';
import { compile } from './engine/compiled.js';
import { evidenceGone, goneText, trafficFloor, type GoneEvidence } from './engine/evidence.js';
import type { Effect, HistoryEntry, RolloutState } from './engine/types.js';
import type { Runtime } from './runtime/runtime.js';
import { lagging } from './sim/pace.js';
import type { SpeedReport } from './sim/sources.js';

/** Exit codes, documented in the README and `canary help`. */
export const EXIT = {
  completed: 0, // completed (promoted to 100% and baked), or the --until point was reached
  config: 1, // bad plan, bad options
  rolledBack: 3, // the rollout was rolled back (automatically or by a person)
  held: 4, // waiting for a person: approvals, a checkpoint go, or an overdue decision
  sourceDown: 5, // a source stayed unavailable (or gave no data) past the plan's noDataAfter
  timeout: 124, // --timeout passed before any of the above (as timeout(1) exits)
  signal: 130, // stopped by SIGINT/SIGTERM (after in-flight effects settled)
} as const;

export interface HeadlessOptions {
  plan: Plan;
  runtime: Runtime;
  json: boolean;
  /** A phase id (stop once the rollout has entered it) or 'complete'. */
  until?: string;
  /** People act (the simulated crew). When false, a rollout waiting only on people ends with `held`. */
  peopleAct: boolean;
  out?: NodeJS.WritableStream;
  /** Real ms: give up waiting for in-flight effects after this long on a signal. */
  settleMs?: number;
  /** Real ms: end the run (exit 124) if nothing else ended it by then. */
  timeoutMs?: number;
  /** The embedded world: the speed asked and the speed it kept over the run (printed at the end). */
  speed?: () => SpeedReport;
}

/** SLIs the gate needs that have had no valid evidence past the plan's noDataAfter: no data,
 * invalid data (NaN, +Inf, an impossible value, a failed or odd answer), or (rules 3) a canary
 * that serves no requests; before the first gate, the stable fleet's (engine/evidence.ts). */
export function noDataPast(plan: Plan, s: RolloutState): GoneEvidence[] {
  // Under rules 3 the engine pages for it (once per analysis): the run ends once the page is out.
  if (trafficFloor(s) && s.status !== 'pending' && !s.evidenceGone) return [];
  return evidenceGone(compile(plan), s);
}

/** The exit reason for evidence gone past noDataAfter: "no data past noDataAfter 10m: availability
 * for 12m", or with the reason named when any is not simply empty ("no valid data past noDataAfter
 * 30s: availability (invalid value NaN: NaN is not a finite number) for 45s"). */
export function goneReason(plan: Plan, gone: GoneEvidence[]): string {
  const allEmpty = gone.every((g) => g.noData);
  return `${allEmpty ? 'no data' : 'no valid data'} past noDataAfter ${plan.analysis.noDataAfter}: ${goneText(gone, !allEmpty)}`;
}

export interface HeadlessResult {
  code: number;
  reason: string;
  state: RolloutState;
}

/** The blockers of the next move if every one of them needs a person, else null. */
export function heldOnPeople(plan: Plan, s: RolloutState): string[] | null {
  if (s.status !== 'running' && s.status !== 'pending' && s.status !== 'paused') return null;
  const g = gateView(plan, s);
  if (g.kind === 'none') return null;
  // Open, but only a person opens gates (steps inside a phase that are `auto` move by themselves).
  if (g.allowed) return g.kind === 'phase' || (g.kind === 'step' && !g.auto) ? ['the gate is open: a person must advance (a)'] : null;
  return g.peopleBlockers.length === g.blockers.length ? g.blockers : null;
}

export function runHeadless(opts: HeadlessOptions): Promise<HeadlessResult> {
  const { plan, runtime, json } = opts;
  const out = opts.out ?? process.stdout;
  // A line's text quotes the plan, people and servers: shown (␛), never obeyed (JSON escapes its own).
  const print = (obj: Record<string, unknown>, text: string) => out.write(json ? `${jsonLine(obj)}\n` : `${printable(text, 'newline')}\n`);
  const t0 = () => runtime.getState().startedAt;
  const stamp = (at: number) => {
    const st = t0();
    return st === null ? new Date(at).toISOString().slice(0, 16).replace('T', ' ') : `T+${formatDuration(Math.max(0, at - st))}`;
  };

  // From the state the runtime started with, not the one it reached before we were called: the
  // first gate and its set-weight are decided on the first events, and they must be printed too.
  let last = runtime.startState;
  let seenHistory = last.history.length ? last.history.at(-1)! : null;
  /** The id of the last effect printed (runtime.effects is bounded: an index into it would move). */
  let seenEffect = -Infinity;
  let lastVerdicts = verdictKey(last);

  return new Promise<HeadlessResult>((resolve) => {
    let done = false;
    // Sources and the runtime's clock use unref'd timers (a console keeps the process up through
    // stdin); with no screen, this keeps it alive until the run ends.
    const keepAlive = setInterval(() => undefined, 60_000);
    // --timeout: a pipeline step is bounded whatever the rollout does.
    const deadline = opts.timeoutMs !== undefined ? setTimeout(() => void finish(EXIT.timeout, `--timeout ${formatDuration(opts.timeoutMs!)} passed; ${whereItWas(plan, runtime.getState())}`), opts.timeoutMs) : null;
    const finish = async (code: number, reason: string) => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      if (deadline) clearTimeout(deadline);
      unsubscribe();
      unfollow();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      // Measured before the sources stop and effects settle (that real time is not the world's).
      const sp = opts.speed?.();
      const end = Date.now() + (opts.settleMs ?? 10_000);
      // A rollback is "rolled back, confirmed" once its verification step has run: wait for it
      // (the runbook's command runner stops with the runtime).
      const verifying = () => {
        const st = runtime.getState();
        return st.status === 'rolled-back' && (Object.keys(st.pending).length > 0 || st.runbook.verification?.status === 'running');
      };
      while (code === EXIT.rolledBack && verifying() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const v = runtime.getState().runbook.verification;
      if (code === EXIT.rolledBack && v) reason += `; verification ${v.status}${v.status === 'running' ? ' (not finished)' : ''}: ${v.detail}`;
      // Nothing half-done: stop the sources, then wait for effects already handed to actuators.
      await runtime.stop();
      while (Object.keys(runtime.getState().pending).length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      report();
      const s = runtime.getState();
      const pending = Object.keys(s.pending);
      if (pending.length) reason += `; ${pending.length} effect(s) still unconfirmed after ${opts.settleMs ?? 10_000} ms: ${pending.join(', ')}`;
      // How fast simulated time really went: the world's clock waits for the world when it cannot
      // keep the speed asked (src/sim/sources.ts), and says so rather than claim the speed.
      if (sp) {
        const slow = lagging(sp);
        const actual = sp.actual === null ? null : Math.round(sp.actual);
        print(
          { type: 'clock', asked: sp.asked, actual, keptUp: slow === null },
          `clock: ×${sp.asked}${slow !== null ? ` asked, ×${slow} actual (the simulated world could not keep up; simulated time waited for it)` : actual !== null ? ` (×${actual} actual)` : ''}`,
        );
      }
      print({ type: 'exit', code, reason, status: s.status, weight: s.desiredWeight, appliedWeight: s.appliedWeight }, `exit ${code}: ${reason}`);
      resolve({ code, reason, state: s });
    };
    const onSignal = (sig: NodeJS.Signals) => void finish(EXIT.signal, `stopped by ${sig}; rollout ${runtime.getState().status} at ${runtime.getState().desiredWeight}%`);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal); // the terminal or ssh session went away

    /** History lines and effects new since the last call. Called after every event the runtime
     * reduces (runtime.follow), so an event's lines and its effects' come before the lines of the
     * next event, even one in the same dispatch (an effect's result given at once). */
    const events = () => {
      const s = runtime.getState();
      // history: only what is new (the history is bounded; find where we left off)
      const h = s.history;
      if (h.at(-1) !== seenHistory) {
        let from = seenHistory ? h.lastIndexOf(seenHistory) + 1 : 0;
        if (seenHistory && from === 0 && h[0] !== seenHistory) from = 0;
        for (const e of h.slice(from)) printHistory(e);
        seenHistory = h.at(-1) ?? seenHistory;
      }
      const effs = runtime.effects;
      let from = effs.length;
      while (from > 0 && effs[from - 1]!.id > seenEffect) from--;
      for (const eff of effs.slice(from)) printEffect(eff);
      if (effs.length) seenEffect = Math.max(seenEffect, effs.at(-1)!.id);
    };
    /** Everything new since the last call: history lines, effects, verdict changes, the state line. */
    const report = () => {
      events();
      const s = runtime.getState();
      const vk = verdictKey(s);
      // No criteria and no judgment (before the first analysis of a phase, after a rollback): nothing to say.
      if (vk !== lastVerdicts && (s.criteria.length || s.judgment)) {
        lastVerdicts = vk;
        print(
          { type: 'verdict', at: s.now, criteria: s.criteria, judgment: s.judgment },
          `${stamp(s.now)} verdict: ${s.criteria.length ? '' : 'no criteria yet'}${s.criteria.map((c) => `${c.sli} ${c.verdict}${c.verdict === 'invalid' ? ` (${c.raw !== undefined ? `${c.raw}: ` : ''}${c.why ?? ''})` : c.value === null ? '' : ` (${round(c.value)} ${c.op} ${c.threshold})`}`).join(', ')}` +
            (s.judgment ? `; judgment ${s.judgment.verdict}${s.judgment.score === null ? '' : ` ${Math.round(s.judgment.score)}`}: ${s.judgment.reason}` : ''),
        );
      }
      if (s.status !== last.status || s.phaseIndex !== last.phaseIndex || s.stepIndex !== last.stepIndex || s.desiredWeight !== last.desiredWeight || s.appliedWeight !== last.appliedWeight) {
        const phase = plan.phases[s.phaseIndex];
        print(
          // Steps are numbered from 1 here, in `canary status` and in every effect printed below.
          { type: 'state', at: s.now, status: s.status, phase: phase?.id ?? null, step: phase ? s.stepIndex + 1 : null, weight: s.desiredWeight, appliedWeight: s.appliedWeight, holds: s.holds },
          `${stamp(s.now)} ${s.status} ${phase ? `${phase.id} step ${s.stepIndex + 1} ` : ''}weight ${s.desiredWeight}%${s.appliedWeight !== s.desiredWeight ? ` (applied ${s.appliedWeight}%)` : ''}`,
        );
      }
      last = s;
    };
    const printHistory = (e: HistoryEntry) => print({ type: 'event', at: e.at, kind: e.kind, text: e.text }, `${stamp(e.at)} ${e.kind}: ${e.text}`);
    const printEffect = (e: Effect) => {
      const text =
        e.type === 'set-weight' ? `set weight ${e.weight}% in ${e.regions.join(', ')} (${e.phase} step ${e.step + 1})` : e.type === 'rollback' ? `ROLLBACK from ${e.fromWeight}%: ${e.reason}` : e.type === 'notify' ? `notify ${e.severity}: ${e.message}` : e.type === 'write-communications' ? `write ${e.files.length} communication(s)` : e.type === 'stop-load-test' ? `stop load test ${e.name}` : e.type === 'produce-report' ? `produce ${e.every} report ${e.name} (${e.audience})${e.channels.length ? `, send to ${e.channels.join(', ')}` : ''}` : e.type === 'start-load-test' ? `start load test ${e.name}` : e.type === 'run-command' ? `run ${e.purpose} "${e.name}"` : `${e.type}`;
      // The engine counts steps from 0 (its own indexes); printed, a step is numbered from 1 like
      // everywhere else a person or a pipeline reads it.
      const effect = e.type === 'set-weight' ? { ...e, step: e.step + 1 } : e;
      print({ type: 'effect', at: runtime.getState().now, effect }, `${stamp(runtime.getState().now)} effect #${e.id}: ${text}`);
    };

    const check = () => {
      if (done) return;
      report();
      const s = runtime.getState();
      if (s.status === 'rolled-back') return void finish(EXIT.rolledBack, `rolled back from ${s.rollback?.fromWeight ?? '?'}%: ${s.rollback?.reason ?? ''}`);
      if (s.status === 'completed') return void finish(EXIT.completed, `completed at ${s.desiredWeight}%`);
      // Nothing is recorded any more: the rollout holds until a person restores the journal.
      if (s.journalLost) return void finish(EXIT.held, `held: the journal ${s.journalLost.path} was lost (${s.journalLost.reason}); nothing after seq ${s.journalLost.lastSeq} is recorded`);
      if (opts.until && opts.until !== 'complete') {
        const idx = plan.phases.findIndex((p) => p.id === opts.until);
        if (s.phaseIndex >= idx && Object.keys(s.pending).length === 0) return void finish(EXIT.completed, `reached ${opts.until} at ${s.desiredWeight}%`);
      }
      const down = Object.entries(s.sources).filter(([, h]) => !h.ok);
      if (down.length) {
        const noData = plan.analysis.noDataAfter;
        const since = Math.min(...down.map(([, h]) => h.since));
        if (s.now - since > compile(plan).noDataMs)
          return void finish(EXIT.sourceDown, `source ${down.map(([n, h]) => `${n}: ${h.message ?? ''}`).join('; ')} unavailable for more than ${noData}`);
      }
      // A failing source's every answer is invalid: it ends as the source (above), with its error.
      const missing = down.length ? [] : noDataPast(plan, s);
      if (missing.length) {
        const what = goneReason(plan, missing);
        if (plan.analysis.onNoData === 'hold') return void finish(EXIT.held, `held: ${what} (the plan's analysis.onNoData is hold)`);
        return void finish(EXIT.sourceDown, what);
      }
      if (!opts.peopleAct && Object.keys(s.pending).length === 0) {
        const held = heldOnPeople(plan, s);
        if (held) return void finish(EXIT.held, `held waiting for a person: ${held.join('; ')}`);
      }
    };
    const unsubscribe = runtime.subscribe(check);
    const unfollow = runtime.follow(() => {
      if (!done) events();
    });
    check();
  });
}

/** Where a rollout stopped, for an exit that did not come from the rollout itself (--timeout): its
 * status and weight, and what it waited for: the holds while traffic is on the canary, else the
 * blockers of the next gate (pending, rolled back: approvals, checklists, the stable fleet's
 * evidence...). */
export function whereItWas(plan: Plan, s: RolloutState): string {
  const at = `rollout ${s.status} at ${s.desiredWeight}%`;
  if (s.holds.length) return `${at}, holding: ${s.holds.join('; ')}`;
  if (s.status === 'completed') return at;
  const g = gateView(plan, s);
  if (g.kind === 'none') return at;
  if (g.allowed) return `${at}, the gate ${g.kind === 'phase' && g.phase ? `into ${g.phase.id} ` : ''}is open${g.kind === 'phase' || !g.auto ? ': a person must advance (a)' : ''}`;
  return `${at}, blocked: ${g.blockers.join('; ')}`;
}

function verdictKey(s: RolloutState): string {
  return `${s.criteria.map((c) => `${c.sli}:${c.verdict}${c.verdict === 'invalid' ? `:${c.raw ?? ''}:${c.why ?? ''}` : ''}`).join(',')}|${s.judgment?.verdict ?? ''}|${s.inconclusive.map((r) => r.rule).join(',')}`;
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}
