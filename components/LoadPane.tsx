// The load pane: a running load test's progress bar and time left, requests per second, latency
// p50/p95/p99 and errors by status, each against the test's pass criteria; after the run, its
// verdict and where the result was saved. It takes the roster's place while shown. Also the words
// of the picker (`l`) and of the confirmation, so all load-test text lives here.
import { Box } from 'ink';
import type { LoadTest, Plan } from '../src/plan/schema.js';
import { loadTestPhases } from '../src/plan/loadtests.js';
import { judgeLoad, loadTestsForPhase, type LoadCriterionResult, type LoadResultView } from '../src/engine/loadtests.js';
import type { LoadProgress, RolloutState } from '../src/engine/types.js';
import { cellWidth, formatDur, truncateMiddle, wrap } from './format.js';
import { fitLines, Lines, type PLine, type Seg } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import type { Theme } from './theme.js';

const n = (v: number) => Math.round(v).toLocaleString('en-US');

function bar(fraction: number, width: number): Seg[] {
  const w = Math.max(4, width);
  const full = Math.max(0, Math.min(w, Math.round(fraction * w)));
  return [{ text: '█'.repeat(full), tone: 'info' }, { text: '░'.repeat(w - full), tone: 'muted' }];
}

function statusSegs(byStatus: Record<string, number>): Seg[] {
  const keys = Object.keys(byStatus).sort((a, b) => (/^\d/.test(a) ? 0 : 1) - (/^\d/.test(b) ? 0 : 1) || a.localeCompare(b));
  const out: Seg[] = [];
  for (const k of keys) {
    const bad = !/^[23]\d\d$/.test(k);
    out.push({ text: out.length ? '  ' : ' ' }, { text: `${k}: `, tone: bad ? 'bad' : 'muted' }, { text: n(byStatus[k]!), ...(bad ? { tone: 'bad' as const } : {}) });
  }
  return out.length ? out : [{ text: ' none yet', tone: 'muted' }];
}

function criteriaLines(criteria: LoadCriterionResult[], live: boolean): PLine[] {
  if (!criteria.length) return [{ prio: 60, segs: [{ text: 'pass: no criteria declared', tone: 'muted' }] }];
  return criteria.map((c, i) => ({
    prio: 70 - i,
    segs: [{ text: i === 0 ? (live ? 'so far ' : 'pass   ') : '       ', tone: 'muted' }, { text: c.pass ? '✓ ' : '✗ ', tone: c.pass ? 'ok' : 'bad', bold: true }, { text: c.text }],
  }));
}

function figureLines(p: { requests: number; rps: number; latency: LoadProgress['latency']; byStatus: Record<string, number>; errors: number }, test: LoadTest | undefined): PLine[] {
  const lat = p.latency;
  const p95Max = test?.pass.maxP95Ms;
  const p95Tone = lat && p95Max !== undefined ? (lat.p95 <= p95Max ? 'ok' : 'bad') : undefined;
  return [
    { prio: 85, segs: [{ text: 'req/s  ', tone: 'muted' }, { text: n(p.rps), bold: true }, { text: '   total ', tone: 'muted' }, { text: n(p.requests) }] },
    {
      prio: 84,
      segs: lat
        ? [{ text: 'p50 ', tone: 'muted' }, { text: `${n(lat.p50)} ms` }, { text: '  p95 ', tone: 'muted' }, { text: `${n(lat.p95)} ms${p95Tone ? (p95Tone === 'ok' ? ' ✓' : ' ✗') : ''}`, bold: true, ...(p95Tone ? { tone: p95Tone } : {}) }, { text: '  p99 ', tone: 'muted' }, { text: `${n(lat.p99)} ms` }]
        : [{ text: 'latency: no responses yet', tone: 'muted' }],
    },
    { prio: 80, segs: [{ text: 'status', tone: 'muted' }, ...statusSegs(p.byStatus)] },
    { prio: 79, segs: [{ text: 'errors ', tone: 'muted' }, { text: n(p.errors), ...(p.errors ? { tone: 'bad' as const } : {}) }, { text: p.requests + p.errors > 0 ? ` (${((100 * p.errors) / Math.max(1, p.requests + (p.byStatus.errors ?? 0) + (p.byStatus.timeouts ?? 0))).toFixed(2)}%)` : '', tone: 'muted' }] },
  ];
}

export function loadPaneLines(plan: Plan, state: RolloutState, width: number): { title: string; right: string; lines: PLine[] } {
  const run = state.loadTests.running;
  if (run) {
    const test = plan.loadTests.find((t) => t.name === run.name);
    const p = run.progress;
    const elapsed = p?.elapsedMs ?? 0;
    const left = Math.max(0, run.durationMs - elapsed);
    const frac = run.durationMs > 0 ? elapsed / run.durationMs : 0;
    const tail = ` ${formatDur(left)} left`;
    const lines: PLine[] = [
      { prio: 95, segs: [...bar(frac, width - tail.length), { text: tail, bold: true }] },
      { prio: 50, segs: [{ text: `${run.engine} → `, tone: 'muted' }, { text: truncateMiddle(run.target, Math.max(8, width - run.engine.length - 3)) }] },
    ];
    if (p) {
      lines.push(...figureLines(p, test));
      if (test) lines.push(...criteriaLines(judgeLoad(plan, test, { requests: p.requests, durationMs: Math.max(1, p.elapsedMs), rps: p.rps, latency: p.latency, byStatus: p.byStatus, errors: p.errors }), true));
    } else lines.push({ prio: 85, segs: [{ text: 'starting…', tone: 'muted' }] });
    lines.push({ prio: 90, segs: [{ text: run.stopping ? 'stopping…' : 'x or esc stops it', tone: run.stopping ? 'warn' : 'accent' }] });
    return { title: `Load ${run.name}`, right: run.stopping ? 'stopping' : 'running', lines };
  }
  const last: LoadResultView | undefined = state.loadTests.results.at(-1);
  if (!last) return { title: 'Load', right: '', lines: [{ prio: 90, segs: [{ text: 'no load test has run yet; l picks one', tone: 'muted' }] }] };
  const test = plan.loadTests.find((t) => t.name === last.name);
  const lines: PLine[] = [
    {
      prio: 95,
      segs: [
        { text: last.passed ? '✓ PASS' : '✗ FAIL', tone: last.passed ? 'ok' : 'bad', bold: true },
        { text: ` ${last.outcome}`, tone: last.outcome === 'completed' ? 'muted' : 'warn' },
        ...(last.summary ? [{ text: ` in ${formatDur(last.summary.durationMs)}`, tone: 'muted' as const }] : []),
      ],
    },
  ];
  if (last.summary) lines.push(...figureLines(last.summary, test));
  if (last.summary) lines.push(...criteriaLines(last.criteria, false));
  if (last.outcome !== 'completed' || !last.summary) lines.push({ prio: 88, segs: [{ text: last.detail, tone: 'warn' }] });
  if (last.file) lines.push({ prio: 40, segs: [{ text: 'saved ', tone: 'muted' }, { text: truncateMiddle(last.file, Math.max(8, width - 6)) }] });
  lines.push({ prio: 30, segs: [{ text: 'l runs another; esc closes', tone: 'accent' }] });
  return { title: `Load ${last.name}`, right: last.passed ? 'passed' : 'failed', lines };
}

export function LoadPane({ plan, state, width, height, focused, theme }: { plan: Plan; state: RolloutState; width: number; height: number; focused: boolean; theme: Theme }) {
  const w = paneInnerWidth(width);
  const h = paneInnerHeight(height);
  const v = loadPaneLines(plan, state, w);
  // Wrap long one-segment lines (a failure's detail, with how to fix it) rather than cut them.
  const lines: PLine[] = [];
  for (const l of v.lines) {
    const seg = l.segs[0]!;
    if (l.segs.length !== 1 || cellWidth(seg.text) <= w) lines.push(l);
    else wrap(seg.text, w).forEach((text, i) => lines.push({ prio: l.prio - i / 1e3, segs: [{ ...seg, text }] }));
  }
  return (
    <Pane title={v.title} right={v.right} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={fitLines(lines, h)} width={w} theme={theme} />
      </Box>
    </Pane>
  );
}

/** The picker's words: the tests allowed now, numbered, with what each does. */
export function describeLoadPicker(plan: Plan, state: RolloutState, index: number): { title: string; lines: string[]; allowed: boolean } {
  const tests = loadTestsForPhase(plan, state);
  const phase = plan.phases[state.phaseIndex];
  if (!tests.length) {
    const where = plan.loadTests.map((t) => `${t.name} (${loadTestPhases(t).join(', ')})`).join(', ') || 'none';
    return {
      title: 'Load tests',
      allowed: false,
      lines: [phase ? `No load test may run in ${phase.title}.` : `The rollout has not started: load tests run in a phase.`, `The plan's load tests, by phase: ${where}`],
    };
  }
  const lines = tests.map((t, i) => `${i === index ? '▶' : '·'} ${i + 1} ${t.name}: ${t.engine}, ${t.duration}${t.connections ? `, ${t.connections} conn` : ''}${t.rate ? `, ${t.rate}/s` : ''} → ${t.target}`);
  lines.push('', '↑/↓ choose, enter (or its number) picks; any other key closes.');
  if (state.loadTests.running) lines.push(`"${state.loadTests.running.name}" is running: one at a time (x stops it).`);
  return { title: `Load tests for ${phase?.title ?? ''}`, lines, allowed: true };
}

/** The confirmation: exactly where the load goes, how much and for how long, and what passes. */
export function describeLoadConfirm(plan: Plan, name: string): { title: string; lines: string[]; allowed: boolean } {
  const t = plan.loadTests.find((x) => x.name === name);
  if (!t) return { title: 'Load test', lines: [`"${name}" is not in the plan`], allowed: false };
  const how = [t.connections ? `${t.connections} connections` : t.engine === 'autocannon' ? '10 connections' : '', t.rate ? `${t.rate} req/s` : '', t.count ? `${t.count} arrivals` : '', t.maxRequests ? `at most ${t.maxRequests} requests` : ''].filter(Boolean).join(', ');
  const pass = [
    t.pass.minRequestsPerMinute !== undefined ? `>= ${n(t.pass.minRequestsPerMinute)} req/min` : '',
    t.pass.maxP50Ms !== undefined ? `p50 <= ${t.pass.maxP50Ms} ms` : '',
    t.pass.maxP95Ms !== undefined ? `p95 <= ${t.pass.maxP95Ms} ms` : '',
    t.pass.maxP99Ms !== undefined ? `p99 <= ${t.pass.maxP99Ms} ms` : '',
    t.pass.maxErrorRatePercent !== undefined ? `errors <= ${t.pass.maxErrorRatePercent}%` : '',
    ...(t.pass.benchmarks ?? []).map((b) => `benchmark ${b}`),
  ].filter(Boolean);
  return {
    title: `Start load test ${t.name}`,
    allowed: true,
    lines: [
      `Target: ${t.method} ${t.target}`,
      `Load: ${t.engine}${t.script ? ` ${t.script}` : ''}, ${how || 'as the script says'}, for ${t.duration}`,
      `Pass: ${pass.join(', ') || 'no criteria declared (completing is a pass)'}`,
      'Press y to start; any other key cancels. x or esc stops it while it runs.',
    ],
  };
}
