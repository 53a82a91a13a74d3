// Load tests in the engine: which may start (declared, allowed in this phase, one at a time),
// what their figures are judged against (the test's pass criteria and the phase's benchmarks),
// and which passed in the current phase (a gate can require one). Pure, like the rest of the
// engine: figures arrive as events from the runner, the verdict is computed here, so a journal
// replays to the same verdicts.
import type { LoadTest, Plan } from '../plan/schema.js';
import { parseDuration } from '../plan/duration.js';
import { loadTestPhases, targetRefusal } from '../plan/loadtests.js';
import { actorName } from './types.js';

// The load-test state types live in ./types.js (a leaf); re-exported for this module's readers.
export type { LoadOutcome, LoadLatency, LoadProgress, LoadSummary, LoadCriterionResult, LoadResultView, LoadRunView, LoadTestsState } from './types.js';
import type { Actor, EffectInput, HistoryEntry, LoadCriterionResult, LoadOutcome, LoadProgress, LoadResultView, LoadRunView, LoadSummary, LoadTestsState, RolloutState } from './types.js';

export const RESULTS_KEPT = 20;

export function initialLoadTests(): LoadTestsState {
  return { running: null, results: [], passed: [] };
}

/** The tests the plan allows in the current phase (for the picker). */
export function loadTestsForPhase(plan: Plan, state: RolloutState): LoadTest[] {
  const phase = plan.phases[state.phaseIndex];
  if (!phase) return [];
  return plan.loadTests.filter((t) => loadTestPhases(t).includes(phase.id));
}

function pct(x: number, total: number): number {
  return total > 0 ? (100 * x) / total : 0;
}

/** Everything a run is judged against: the test's own pass criteria, then the benchmarks it names. */
export function judgeLoad(plan: Plan, test: LoadTest, summary: LoadSummary | null): LoadCriterionResult[] {
  const out: LoadCriterionResult[] = [];
  const minutes = summary ? summary.durationMs / 60_000 : 0;
  const rpm = summary && minutes > 0 ? summary.requests / minutes : null;
  const lat = summary?.latency ?? null;
  const attempts = summary ? summary.requests + (summary.byStatus.errors ?? 0) + (summary.byStatus.timeouts ?? 0) : 0;
  const errRate = summary && attempts > 0 ? pct(summary.errors, attempts) : null;
  const add = (name: string, what: string, measured: number | null, op: LoadCriterionResult['op'], threshold: number, unit: string) => {
    const pass = measured !== null && (op === '<' ? measured < threshold : op === '<=' ? measured <= threshold : op === '>' ? measured > threshold : measured >= threshold);
    const show = (v: number) => (unit === '%' ? v.toFixed(2) : Math.round(v).toLocaleString('en-US'));
    out.push({ name, text: `${what} ${measured === null ? 'no data' : `${show(measured)} ${unit}`} ${op} ${show(threshold)} ${unit}`, measured, op, threshold, unit, pass });
  };
  const p = test.pass;
  if (p.minRequestsPerMinute !== undefined) add('minRequestsPerMinute', 'throughput', rpm, '>=', p.minRequestsPerMinute, 'req/min');
  if (p.maxP50Ms !== undefined) add('maxP50Ms', 'p50', lat?.p50 ?? null, '<=', p.maxP50Ms, 'ms');
  if (p.maxP95Ms !== undefined) add('maxP95Ms', 'p95', lat?.p95 ?? null, '<=', p.maxP95Ms, 'ms');
  if (p.maxP99Ms !== undefined) add('maxP99Ms', 'p99', lat?.p99 ?? null, '<=', p.maxP99Ms, 'ms');
  if (p.maxErrorRatePercent !== undefined) add('maxErrorRatePercent', 'errors', errRate, '<=', p.maxErrorRatePercent, '%');
  const phases = loadTestPhases(test);
  for (const name of p.benchmarks ?? []) {
    const b = plan.phases.filter((ph) => phases.includes(ph.id)).flatMap((ph) => ph.benchmarks ?? []).find((x) => x.name === name);
    if (!b || b.op === '==') continue; // the plan check refuses these
    // A benchmark in ms is judged on the p95 (the seed gives no percentile; p95 is the plan's SLI).
    if (b.unit === 'req/min') add(`benchmark:${name}`, name, rpm, b.op, b.value, 'req/min');
    else if (b.unit === 'ms') add(`benchmark:${name}`, `${name} (p95)`, lat?.p95 ?? null, b.op, b.value, 'ms');
  }
  return out;
}

/** The little of reduce's transaction these handlers need. */
export interface LoadTx {
  s: RolloutState;
  readonly cp: { plan: Plan; phases: readonly { id: string }[] };
  effect(e: EffectInput): { id: number };
  log(kind: HistoryEntry['kind'], text: string): void;
}

export function startLoadTest(tx: LoadTx, actor: Actor, name: string): void {
  const s = tx.s;
  const plan = tx.cp.plan;
  const who = actorName(actor);
  const test = plan.loadTests.find((t) => t.name === name);
  const phase = tx.cp.phases[s.phaseIndex];
  if (!test) return tx.log('refused', `${who} asked for load test "${name}": refused - not declared in the plan (declared: ${plan.loadTests.map((t) => t.name).join(', ') || 'none'})`);
  if (s.status !== 'running' || !phase) return tx.log('refused', `${who} asked for load test "${name}": refused - the rollout is ${s.status}; load tests run only while running`);
  const phases = loadTestPhases(test);
  if (!phases.includes(phase.id)) return tx.log('refused', `${who} asked for load test "${name}": refused - it may run in ${phases.join(', ')}, the rollout is in ${phase.id}`);
  if (s.loadTests.running) return tx.log('refused', `${who} asked for load test "${name}": refused - "${s.loadTests.running.name}" is still running (one at a time; x stops it)`);
  const refused = targetRefusal(plan, test.target);
  if (refused) return tx.log('refused', `${who} asked for load test "${name}": refused - ${refused}`);
  tx.log('command', `${who} started load test "${name}" against ${test.target} (${test.duration}${test.connections ? `, ${test.connections} connections` : ''}${test.rate ? `, ${test.rate} req/s` : ''})`);
  const eff = tx.effect({ type: 'start-load-test', name });
  s.loadTests = {
    ...s.loadTests,
    running: { runId: eff.id, name, phase: phase.id, target: test.target, engine: test.engine, by: who, startedAt: s.now, durationMs: parseDuration(test.duration) ?? 0, progress: null, stopping: false },
  };
}

export function stopLoadTest(tx: LoadTx, actor: Actor | null, why: string): void {
  const r = tx.s.loadTests.running;
  const who = actor ? actorName(actor) : 'canary';
  if (!r) {
    if (actor) tx.log('refused', `${who} asked to stop a load test: refused - none is running`);
    return;
  }
  if (r.stopping) return;
  tx.log('command', `${who} stopped load test "${r.name}"${why ? ` (${why})` : ''}`);
  tx.effect({ type: 'stop-load-test', runId: r.runId, name: r.name });
  tx.s.loadTests = { ...tx.s.loadTests, running: { ...r, stopping: true } };
}

export function onLoadProgress(tx: LoadTx, runId: number, progress: LoadProgress): void {
  const r = tx.s.loadTests.running;
  if (!r || r.runId !== runId) return;
  tx.s.loadTests = { ...tx.s.loadTests, running: { ...r, progress } };
}

export function onLoadResult(tx: LoadTx, ev: { runId: number; name: string; outcome: LoadOutcome; detail: string; summary: LoadSummary | null; file?: string }): void {
  const s = tx.s;
  const plan = tx.cp.plan;
  const r = s.loadTests.running;
  const test = plan.loadTests.find((t) => t.name === ev.name);
  const phaseId = r && r.runId === ev.runId ? r.phase : (tx.cp.phases[s.phaseIndex]?.id ?? '');
  const criteria = test ? judgeLoad(plan, test, ev.summary) : [];
  // Only a run that went the whole way, got answers, and met every criterion counts as a pass.
  const passed = ev.outcome === 'completed' && (ev.summary?.requests ?? 0) > 0 && criteria.every((c) => c.pass);
  const view: LoadResultView = {
    runId: ev.runId,
    name: ev.name,
    phase: phaseId,
    at: s.now,
    startedAt: r && r.runId === ev.runId ? r.startedAt : s.now,
    outcome: ev.outcome,
    passed,
    detail: ev.detail,
    summary: ev.summary,
    criteria,
    ...(ev.file ? { file: ev.file } : {}),
  };
  const results = [...s.loadTests.results, view].slice(-RESULTS_KEPT);
  const current = tx.cp.phases[s.phaseIndex]?.id;
  const passedNow = passed && current === phaseId && !s.loadTests.passed.includes(ev.name) ? [...s.loadTests.passed, ev.name] : s.loadTests.passed;
  s.loadTests = { running: r && r.runId === ev.runId ? null : r, results, passed: passedNow };
  const sm = ev.summary;
  const figures = sm ? `${sm.requests.toLocaleString('en-US')} requests, ${Math.round(sm.rps)} req/s${sm.latency ? `, p95 ${Math.round(sm.latency.p95)} ms` : ''}, ${sm.errors} errors` : 'no figures';
  const failing = criteria.filter((c) => !c.pass).map((c) => c.text);
  tx.log(
    'info',
    `load test "${ev.name}" ${ev.outcome}: ${passed ? 'PASS' : 'FAIL'} - ${figures}${failing.length ? `; failing: ${failing.join(', ')}` : ''}${ev.outcome !== 'completed' ? `; ${ev.detail}` : ''}${ev.file ? `; saved ${ev.file}` : ''}`,
  );
}

/** On entering a phase: passes from the previous phase no longer count. */
export function resetPhasePasses(s: RolloutState): void {
  if (s.loadTests.passed.length) s.loadTests = { ...s.loadTests, passed: [] };
}

/** Gate blockers of the current phase: required load tests that have not passed in it yet. */
export function loadTestBlockers(plan: Plan, state: RolloutState): string[] {
  const phase = plan.phases[state.phaseIndex];
  if (!phase?.requireLoadTests?.length) return [];
  const out: string[] = [];
  for (const name of phase.requireLoadTests) {
    if (state.loadTests.passed.includes(name)) continue;
    const running = state.loadTests.running?.name === name;
    const last = [...state.loadTests.results].reverse().find((r) => r.name === name && r.phase === phase.id);
    out.push(`load test "${name}" has not passed in this phase${running ? ' (running now)' : last ? ` (last run: ${last.outcome}, ${last.passed ? 'pass' : 'fail'})` : ''} - l runs it`);
  }
  return out;
}
