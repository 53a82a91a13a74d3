// npm run bench: figures as JSON lines {"name","value","unit","goal"}; runs in under 3 minutes.
// The machine is shared and absolute times move 2-5x between runs, so each goal that can be is a
// ratio to a floor measured in the same run (interleaved with it), and each floor is printed too:
//   first_frame_ms          process start to the first frame with all four panes (spawned CLI,
//                           `node <the bin's options> dist/canary.mjs start`, in a
//                           pseudo-terminal), median of 21 (the same build gave ratios 1.14-1.47
//                           with 7 runs and 1.20-1.40 with 11, on a quiet machine)
//   ink_minimal_first_frame_ms   floor: a minimal stock Ink 6 app (one Box/Text), bundled the same way
//   first_frame_ratio_to_ink     goal <= 1.3
//                           (every start after the first: the plan and the compiled code cached)
//   first_frame_no_code_cache_ms the first start after a build or a new Node (CANARY_CODE_CACHE=off)
//   npm_start_to_panes_ms   `npm start` to the four panes (goal <= 3 s), median of 5;
//   npm_start_ratio_to_direct    over first_frame_ms measured alongside (goal <= 1.5)
//   npm_run_noop_ms         npm itself: `npm run` of a script that does nothing, start to exit
//                           (median of 5): what npm start adds over the direct command is at least this
//   render_frame_median_ms  one full frame (React + layout + output) with 3,000 pods and 8 sparklines
//   ink_fullscreen_frame_ms floor: stock Ink (not our patched output step) drawing a full 120x40 screen of plain text, every line new
//   render_frame_ratio_to_ink_fullscreen  goal <= 0.5
//   engine_full_plan_ms     the whole seed plan (about 16 days of 1-minute analyses) through the pure engine
//   sim_minute_3000_pods_us one simulated minute of the embedded world with 3 regions x 1000 pods
//   soak_*                  the whole seed plan on the embedded world (3 regions x 1000 pods) fast-
//                           forwarded through the real Runtime, the console rendering offscreen at
//                           10 frames a second: RSS through the run, CPU seconds per simulated day
//   journal_*               one decision appended and fsynced; resuming a 100,000-event journal
//   idle_cpu_percent        the real-time console (--speed 1) in a pseudo-terminal, sampled over
//                           12 s, CPU time per thread in ns (schedstat) (goal <= 1% of a core);
//                           the rollout is pending there, so nothing on its screen changes
//   ink_clock_idle_cpu_percent  floor: a tiny Ink app redrawing a clock at 1 Hz, sampled over the
//                           same 12 s; idle_cpu_ratio_to_ink goal <= 1.0
//   notify_*                dispatch with notify effects while the receiver is dead (never waits for
//                           it); dispatch -> delivered notify.result with a live 127.0.0.1 receiver
//   load_test_stop_ms       an embedded load test (50 connections) stopped 1 s in: stop() to its outcome
//   rollback_after_bad_request_ms  real Prometheus (1 s scrape): from the first slow request served
//                           by the simulated canary to the rollback effect (needs `prometheus`)
//   kube_*                  Kubernetes over the wire (test/kube API servers): see bench/kube.tsx
//   warroom_*               200 viewers joined to a war room on loopback: see bench/warroom.tsx;
//                           ws_broadcast_to_last_client_p99_ms is its floor (bare ws, same
//                           messages, same 200 clients), warroom_p99_ratio_to_ws goal <= 3
//
//   node dist/bench/run.js --only first_frame,idle   runs only the named groups (see GROUPS)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import React from 'react';
import { render } from 'ink';
import { parse } from 'yaml';
import { App } from '../components/App.js';
import { Plan } from '../src/plan/schema.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import type { EngineEvent, PodInfo, RolloutState, SliSample } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import type { CommandRunner } from '../src/runtime/ports.js';
import { SimCrew } from '../src/sim/crew.js';
import { Runtime } from '../src/runtime/runtime.js';
import { JournalWriter, resumeSync } from '../src/journal/journal.js';
import { notifyBench } from './people.js';
import { SimWorld } from '../src/sim/world.js';
import { leanHeapSoon } from '../src/heap.js';
import { startLiveLoop } from '../test/helpers/live.js';
import { kubeListBench, kubeRollbackBench, p99 } from './kube.js';
import { loadTestStop } from './loadtest.js';
import { warroomBench } from './warroom.js';
import { hasScript, idleCpuPercent, inTerminal, timeToScreen, waitFor } from './terminal.js';
import { readCache } from '../src/code-cache.js';

/** The package root: this file is bench/run.tsx, or dist/bench/run.js once built. (Not
 * src/cli.ts's packageRoot: bundled into this file, the CLI would think it was started.) */
const root = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
})();
const plan = Plan.parse(parse(readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8')));
const T0 = Date.parse('2026-11-30T14:00:00Z');
/** The CLI journals by default under $XDG_STATE_HOME: keep the bench's runs out of the user's. */
const benchState = mkdtempSync(join(tmpdir(), 'canary-bench-state-'));

/** One JSON line. `goal` is a number in `unit`: the figure should be at most that. */
function emit(name: string, value: number, unit: string, goal: number): void {
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit, goal })}\n`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const PANES = ['Phases', 'SLIs', 'Pods', 'Roster'];

function cliEnv(): NodeJS.ProcessEnv {
  // Journals and the validated-plan cache of the bench's runs: kept out of the user's.
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', XDG_STATE_HOME: benchState, XDG_CACHE_HOME: join(benchState, 'cache') };
  delete env.CI; // Ink prints only the last frame in CI mode
  delete env.NODE_ENV;
  return env;
}

/** The real CLI, started as a person would (in a pseudo-terminal: a pipe makes Ink ask the shell
 * for the terminal size, ~50 ms more), to the first frame showing all four pane titles. */
const firstFrame = () => timeToScreen([process.execPath, ...binNodeFlags(), join(root, 'dist', 'canary.mjs'), 'start'], cliEnv(), PANES);
/** The first start after a build: the plan validated and cached, and the bin's V8 code cache
 * (src/code-cache.ts) written, as a console does once its first frame is out (or there already). */
async function firstStart(): Promise<void> {
  const dir = join(benchState, 'cache', 'canary', 'code');
  const term = inTerminal([process.execPath, ...binNodeFlags(), join(root, 'dist', 'canary.mjs'), 'start'], cliEnv());
  try {
    const consoleCache = () =>
      existsSync(dir) && readdirSync(dir).some((f) => (readCache(join(dir, f), dir) as { scope?: string }).scope === 'console');
    await waitFor(() => PANES.every((t) => term.out().includes(t)) && consoleCache(), 'the first start: its first frame and its code cache', 30_000, term);
  } finally {
    term.stop();
  }
}
/** Without the code cache (CANARY_CODE_CACHE=off): as the first start after a build or a new Node. */
const firstFrameNoCodeCache = () => timeToScreen([process.execPath, ...binNodeFlags(), join(root, 'dist', 'canary.mjs'), 'start'], { ...cliEnv(), CANARY_CODE_CACHE: 'off' }, PANES);
/** The floor: a minimal Ink app, bundled by the same build, to its first frame. */
const inkFirstFrame = () => timeToScreen([process.execPath, join(root, 'dist', 'bench', 'ink-app.js'), 'first-frame'], cliEnv(), PANES);
/** `npm start` from the package root (the build is up to date: it checks and goes on). */
const npmStart = () => timeToScreen([...npmCommand(), 'start', '--silent'], cliEnv(), PANES, { cwd: root });

/** npm's own cost: `npm run` of a script that does nothing (`true`), from start to exit, in a
 * package of its own. What `npm start` adds over the direct command cannot be less than this. */
function npmNoop(): Promise<number> {
  const dir = join(benchState, 'npm-noop');
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'noop', version: '1.0.0', private: true, scripts: { noop: 'true' } }));
  }
  const [cmd, ...args] = npmCommand();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(cmd!, [...args, 'run', '--silent', 'noop'], { cwd: dir, env: cliEnv(), stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve(performance.now() - t0));
  });
}

/** The npm that runs this bench (npm_execpath, a script run by this node), else `npm` on PATH. */
function npmCommand(): string[] {
  const cli = process.env.npm_execpath;
  return cli && /\.[cm]?js$/.test(cli) ? [process.execPath, cli] : ['npm'];
}

class BenchStore implements Store {
  private listeners = new Set<() => void>();
  constructor(public state: RolloutState) {}
  getState = () => this.state;
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  dispatch = (e: EngineEvent) => {
    this.state = reduce(plan, this.state, e).state;
    for (const l of this.listeners) l();
  };
}

function pods(n: number, at: number): PodInfo[] {
  const regions = plan.target.regions;
  return Array.from({ length: n }, (_, i) => {
    const canary = i % 10 === 0;
    const crash = i % 97 === 0;
    return {
      key: `${regions[i % regions.length]}/${plan.target.namespace}/orchestrator-${canary ? 'canary-' : ''}${i.toString(36).padStart(5, '0')}`,
      name: `orchestrator-${canary ? 'canary-7d9f8-' : '6c5b4-'}${i.toString(36).padStart(5, '0')}`,
      namespace: plan.target.namespace,
      region: regions[i % regions.length]!,
      track: canary ? 'canary' : 'stable',
      phase: 'Running',
      ready: !crash,
      reason: crash ? 'CrashLoopBackOff' : 'Running',
      restarts: crash ? 7 : 0,
      startedAt: at - i * 1000,
    } satisfies PodInfo;
  });
}

function sample(i: number): SliSample[] {
  const w = Math.sin(i / 7);
  return plan.slis.flatMap((s) => {
    const base = s.unit === 'percent' ? 99.9 : s.unit === 'ms' ? 220 : s.unit === 'rps' ? 80 : 0;
    const amp = s.unit === 'percent' ? 0.05 : s.unit === 'ms' ? 40 : s.unit === 'rps' ? 10 : 0;
    return [
      { sli: s.name, track: 'canary' as const, value: base + amp * w },
      { sli: s.name, track: 'baseline' as const, value: base + amp * Math.cos(i / 5) },
    ];
  });
}

async function renderFrames(): Promise<number> {
  let s = initialState(plan, T0);
  const crew = new SimCrew(plan, { approveAfterMs: 0 });
  for (const e of crew.decide(s)) s = reduce(plan, s, e).state;
  s = reduce(plan, s, { type: 'effect.result', at: T0, effectId: 1, ok: true, detail: 'ok', weight: 1 }).state;
  s = reduce(plan, s, { type: 'pods.delta', at: T0, upserts: pods(3000, T0), deletes: [] }).state;
  for (let i = 0; i < 120; i++) s = reduce(plan, s, { type: 'sli.samples', at: T0 + i * 60_000, samples: sample(i) }).state;
  const store = new BenchStore(s);
  const stdout = Object.assign(new PassThrough(), { columns: 120, rows: 40, isTTY: true });
  stdout.resume();
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
  let onFrame: (() => void) | null = null;
  const ink = render(<App plan={plan} store={store} actor={{ id: 'bench' }} now={() => store.state.now} columns={120} rows={40} />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true, // unthrottled: one output per commit
    patchConsole: false,
    exitOnCtrlC: false,
    onRender: () => onFrame?.(),
  });
  const times: number[] = [];
  for (let i = 120; i < 320; i++) {
    const framed = new Promise<void>((r) => (onFrame = r));
    const t0 = performance.now();
    store.dispatch({ type: 'sli.samples', at: T0 + i * 60_000, samples: sample(i) });
    await framed;
    times.push(performance.now() - t0);
  }
  ink.unmount();
  return median(times.slice(20));
}

function engineFullPlan(): { ms: number; events: number; status: string } {
  const healthy: Record<string, number> = { availability: 99.97, latency_p95: 220, error_rate: 0.03, workflow_success_rate: 99.9, request_rate: 8 };
  const smp: SliSample[] = plan.slis.flatMap((s) => [
    { sli: s.name, track: 'canary' as const, value: healthy[s.name] ?? 0 },
    { sli: s.name, track: 'baseline' as const, value: healthy[s.name] ?? 0 },
  ]);
  // The stable fleet's answers while no canary traffic flows (the first gate's evidence), as the
  // simulated world sends them.
  const atZero: SliSample[] = [...smp, ...plan.slis.map((s) => ({ sli: s.name, track: 'stable' as const, value: healthy[s.name] ?? 0 }))];
  const t0 = performance.now();
  let s = initialState(plan, T0);
  const crew = new SimCrew(plan);
  let events = 0;
  const send = (e: EngineEvent) => {
    events++;
    const r = reduce(plan, s, e);
    s = r.state;
    // Actuators confirm at once and the runbook's commands (checks, deploy steps, validation)
    // exit 0 at once: the engine's own cost, not a world's.
    for (const eff of r.effects) {
      if (eff.type === 'set-weight') send({ type: 'effect.result', at: s.now, effectId: eff.id, ok: true, detail: 'ok', weight: eff.weight });
      if (eff.type === 'run-command') send({ type: 'command.result', at: s.now, runId: eff.id, ok: true, exitCode: 0, detail: 'exited 0' });
    }
  };
  for (let t = T0; s.status !== 'completed' && t < T0 + 30 * 86_400_000; t += 60_000) {
    send({ type: 'sli.samples', at: t, samples: s.desiredWeight === 0 ? atZero : smp });
    for (const e of crew.decide(s)) send(e);
  }
  return { ms: performance.now() - t0, events, status: s.status };
}

async function simMinute(): Promise<number> {
  const world = new SimWorld({ plan, scenario: 'healthy', seed: 3, start: T0, podsPerRegion: 1000, actuationDelayMs: 0 });
  world.advanceTo(T0);
  await world.setWeight(5, plan.target.regions);
  const t0 = performance.now();
  const minutes = 3 * 1440;
  for (let m = 1; m <= minutes; m++) world.advanceTo(T0 + m * 60_000, { everyInterval: true });
  return ((performance.now() - t0) / minutes) * 1000;
}

async function rollbackLatency(): Promise<number[] | null> {
  const out: number[] = [];
  for (let i = 0; i < 1; i++) {
    const loop = await startLiveLoop(plan, { weight: 25 });
    if (!loop) return null;
    try {
      await loop.waitForData(30_000);
      // Let Prometheus hold some healthy history, as it would during a real phase.
      await new Promise((r) => setTimeout(r, 5_000));
      out.push((await loop.breakAndWait('latency-regression', 60_000)).ms);
    } finally {
      await loop.stop();
    }
  }
  return out;
}

/** The whole plan, fast-forwarded: world -> Runtime (crew, actuator) -> offscreen console. */
async function soak(): Promise<{ rssEndMb: number; heapEndMb: number; rssMaxMb: number; growthLastHalfMb: number; cpuPerSimDayS: number; simDays: number; status: string; frames: number; podsMax: number; memoryEnd: NodeJS.MemoryUsage }> {
  const world = new SimWorld({ plan, scenario: 'healthy', seed: 11, start: T0, podsPerRegion: 1000, actuationDelayMs: 0 });
  const crew = new SimCrew(plan);
  let now = T0;
  // The runbook's commands (checks, deploy steps, validation) exit 0 at once: their cost is a
  // child process's, not the console's, and they would hold a fast-forwarded clock.
  const commands: CommandRunner = { run: async () => ({ ok: true, exitCode: 0, detail: 'exited 0 (bench)' }), stop: () => undefined, close: () => undefined };
  const runtime = new Runtime({ plan, clock: { now: () => now, speed: 0 }, traffic: world, commands, tickMs: 0, observers: [(st) => crew.decide(st)] });
  const stdout = Object.assign(new PassThrough(), { columns: 120, rows: 40, isTTY: true });
  stdout.resume();
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
  let frames = 0;
  const ink = render(<App plan={plan} store={runtime} actor={{ id: 'bench' }} now={() => now} columns={120} rows={40} />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    patchConsole: false,
    exitOnCtrlC: false,
    maxFps: 10,
    onRender: () => void frames++,
  });
  const rss: { t: number; mb: number; heap: number; collected: boolean }[] = [];
  const cpu0 = process.cpuUsage();
  const end = T0 + 20 * 86_400_000;
  let podsMax = 0;
  const perChunk = 240; // simulated minutes between chances to render (~10 renders a second)
  while (now < end) {
    const s = runtime.getState();
    if (s.status === 'completed' || s.status === 'rolled-back') break;
    for (let i = 0; i < perChunk && now < end; i++) {
      now += 60_000;
      for (const e of world.advanceTo(now, { everyInterval: true })) runtime.dispatch(e);
      runtime.dispatch({ type: 'tick', at: now });
    }
    podsMax = Math.max(podsMax, runtime.getState().pods.size);
    await new Promise((r) => setTimeout(r, 5)); // let actuator promises settle and Ink draw
    // Every 10th chunk, after a full collection when allowed (--expose-gc): what is live, not
    // what V8 has not bothered to collect yet on a 24 GB machine.
    const collected = rss.length % 10 === 0;
    if (collected) (globalThis as { gc?: () => void }).gc?.();
    rss.push({ t: now, mb: process.memoryUsage().rss / 1e6, heap: process.memoryUsage().heapUsed / 1e6, collected });
  }
  const cpu = process.cpuUsage(cpu0);
  (globalThis as { gc?: () => void }).gc?.();
  rss.push({ t: now, mb: process.memoryUsage().rss / 1e6, heap: process.memoryUsage().heapUsed / 1e6, collected: true });
  ink.unmount();
  const simDays = (now - T0) / 86_400_000;
  // Growth of the live heap across the last half, from the samples taken after a collection.
  const after = rss.filter((x) => x.collected);
  const half = after.slice(Math.floor(after.length / 2));
  const growth = half.length > 1 ? half.at(-1)!.heap - half[0]!.heap : 0;
  return {
    rssEndMb: rss.at(-1)?.mb ?? 0,
    heapEndMb: rss.at(-1)?.heap ?? 0,
    rssMaxMb: Math.max(...rss.map((x) => x.mb)),
    growthLastHalfMb: growth,
    cpuPerSimDayS: (cpu.user + cpu.system) / 1e6 / simDays,
    simDays,
    status: runtime.getState().status,
    frames,
    podsMax,
    memoryEnd: process.memoryUsage(),
  };
}

/** CPU of the real-time console (speed 1, the clock on screen) and of the floor (a tiny Ink app
 * redrawing a clock once a second), side by side in two pseudo-terminals over the same 12 s. */
async function idleCpu(): Promise<{ canary: number; ink: number } | null> {
  if (!hasScript) return null;
  const canaryJs = join(root, 'dist', 'canary.mjs');
  const inkJs = join(root, 'dist', 'bench', 'ink-app.js');
  const [canary, ink] = await Promise.all([
    idleCpuPercent([process.execPath, ...binNodeFlags(), canaryJs, 'start', '--speed', '1'], cliEnv(), canaryJs, 3_000, 12_000),
    idleCpuPercent([process.execPath, inkJs, 'clock'], cliEnv(), inkJs, 3_000, 12_000),
  ]);
  return { canary, ink };
}

/** Journal: the cost of one decision (appended and fsynced before its effect), and resuming a
 * journal of 100,000 events (read, verify the chain, replay every event through the engine). */
function journalBench(): { appendUs: number; resumeMs: number; events: number; bytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'canary-bench-journal-'));
  const planText = readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8');
  try {
    // Decisions: approvals and go/pause commands, each fsynced.
    const w1 = JournalWriter.openSync(join(dir, 'decisions.jsonl'), { plan, planText, start: T0 });
    let s1 = initialState(plan, T0);
    const n = 300;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const e: EngineEvent = { type: 'command', at: T0 + i * 1000, actor: { id: 'bench', name: 'bench' }, command: { kind: i % 2 ? 'pause' : 'resume' } };
      const r = reduce(plan, s1, e);
      w1.append(e, r.state, r.effects);
      s1 = r.state;
    }
    const appendUs = ((performance.now() - t0) / n) * 1000;
    w1.close();
    // 100,000 events: a long rollout's samples, approvals and decisions.
    const path = join(dir, 'long.jsonl');
    const w2 = JournalWriter.openSync(path, { plan, planText, start: T0, flushEveryMs: 60_000 });
    let s = initialState(plan, T0);
    const crew = new SimCrew(plan);
    let events = 0;
    const send = (e: EngineEvent) => {
      const r = reduce(plan, s, e);
      w2.append(e, r.state, r.effects);
      s = r.state;
      events++;
      for (const eff of r.effects) {
        if (eff.type === 'set-weight') send({ type: 'effect.result', at: s.now, effectId: eff.id, ok: true, detail: 'ok', weight: eff.weight });
        // The crew's checklist checks answer (engine rules 3: the crew waits for a running check).
        if (eff.type === 'run-command') send({ type: 'command.result', at: s.now, runId: eff.id, ok: true, exitCode: 0, detail: 'exited 0' });
      }
    };
    for (let t = T0, k = 0; events < 100_000; t += 60_000, k++) {
      send({ type: 'sli.samples', at: t, samples: sample(k) });
      for (const e of crew.decide(s)) send(e);
    }
    w2.close();
    const bytes = statSync(path).size;
    const t1 = performance.now();
    const r = resumeSync(plan, path, { planText });
    const resumeMs = performance.now() - t1;
    r.writer.close();
    return { appendUs, resumeMs, events, bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Node options the bin runs with: its #! line (`#!/usr/bin/env -S node --flag ...`). */
function binNodeFlags(): string[] {
  const first = readFileSync(join(root, 'dist', 'canary.mjs'), 'utf8').split('\n', 1)[0]!;
  return first.split(/\s+/).filter((w) => w.startsWith('--'));
}

/** The soak in a process of its own, so its RSS is the console's and not the other benchmarks'. */
function soakInChild(): Promise<Awaited<ReturnType<typeof soak>>> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...binNodeFlags(), fileURLToPath(import.meta.url), '--soak-child'], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`soak child exited ${code}: ${out}`));
      resolveP(JSON.parse(out.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof soak>>);
    });
  });
}

/** The floor of one frame: stock Ink drawing a full screen (bench/floors/ink-fullscreen.tsx, a
 * program of its own bundled with Ink's own files), its median frame in ms. */
function inkFullscreenFrameMs(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'bench', 'ink-fullscreen.js')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 && Number.isFinite(Number(out.trim())) ? resolveP(Number(out.trim())) : reject(new Error(`ink-fullscreen floor exited ${code}: ${out}`))));
  });
}

/** Each floor and its figure measured in turns (a, b, a, b...), so a busy moment hits both. */
/** `runs` turns of a and b, taking turns at going first (a b, b a, a b...): the machine's speed
 * moves between runs on a shared host, and neither program should always run just after the other. */
async function interleaved(runs: number, a: () => Promise<number>, b: () => Promise<number>): Promise<[number[], number[]]> {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      xs.push(await a());
      ys.push(await b());
    } else {
      ys.push(await b());
      xs.push(await a());
    }
  }
  return [xs, ys];
}

const GROUPS = ['first_frame', 'npm_start', 'render', 'engine', 'journal', 'notify', 'soak', 'idle', 'load', 'rollback', 'kube', 'warroom', 'cluster'] as const;

async function main(): Promise<void> {
  if (process.argv.includes('--soak-child')) {
    // As the CLI does at its start (src/cli.ts): the lean heap once the first frame is out.
    leanHeapSoon();
    const result = await soak();
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
    return;
  }
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1]!.split(',')) : null;
  for (const g of only ?? []) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only ${g}: expected some of ${GROUPS.join(', ')}`);
  const run = (g: (typeof GROUPS)[number]) => !only || only.has(g);
  if (run('first_frame')) {
    // One start not counted: it validates the plan and caches it, and keeps the compiled code, as
    // the first start after an install, a build or a plan edit does; the counted ones are every
    // later start.
    if (hasScript) await firstStart();
    else await firstFrame();
    const [canary, ink] = await interleaved(21, firstFrame, inkFirstFrame);
    emit('first_frame_ms', median(canary), 'ms', 400); // node dist/canary.mjs start to the four panes, median of 21
    emit('ink_minimal_first_frame_ms', median(ink), 'ms', 400); // floor: a minimal Ink 6 app (one Box/Text), median of 21
    emit('first_frame_ratio_to_ink', median(canary) / median(ink), 'ratio', 1.3);
    // The first start after a build or a new Node, which compiles everything (median of 5).
    const [cold] = await interleaved(5, firstFrameNoCodeCache, async () => 0);
    emit('first_frame_no_code_cache_ms', median(cold), 'ms', 400);
  }
  if (run('npm_start')) {
    const [viaNpm, direct] = await interleaved(5, npmStart, firstFrame);
    const [noop] = await interleaved(5, npmNoop, async () => 0);
    emit('npm_start_to_panes_ms', median(viaNpm), 'ms', 3000); // `npm start` (dist up to date) to the four panes, median of 5
    emit('npm_start_direct_to_panes_ms', median(direct), 'ms', 400); // floor: `node dist/canary.mjs start` in the same turns
    emit('npm_start_ratio_to_direct', median(viaNpm) / median(direct), 'ratio', 1.5);
    // npm itself: `npm run` of a no-op script, start to exit (what npm start adds is at least this)
    emit('npm_run_noop_ms', median(noop), 'ms', 400);
  }
  if (run('render')) {
    const [canary, ink] = await interleaved(3, renderFrames, inkFullscreenFrameMs);
    emit('render_frame_median_ms', median(canary), 'ms', 10); // 3,000 pods, 10 sparklines, 120x40
    emit('ink_fullscreen_frame_ms', median(ink), 'ms', 10); // floor: stock Ink drawing a full 120x40 screen of plain text (a child process)
    emit('render_frame_ratio_to_ink_fullscreen', median(canary) / median(ink), 'ratio', 0.5);
  }
  if (run('engine')) {
    // Three runs; the median (the first pays for the JIT warming up).
    const runs = [engineFullPlan(), engineFullPlan(), engineFullPlan()];
    const full = runs.sort((a, b) => a.ms - b.ms)[1]!;
    if (full.status !== 'completed') throw new Error(`engine bench: the plan ended ${full.status}`);
    emit('engine_full_plan_ms', full.ms, 'ms', 1000); // 16 days of 1-minute analyses, median of 3
    emit('sim_minute_3000_pods_us', await simMinute(), 'us', 500);
  }
  if (run('journal')) {
    const jb = journalBench();
    emit('journal_append_decision_us', jb.appendUs, 'us', 5000); // one decision, fsynced before its effect
    emit('journal_resume_100k_ms', jb.resumeMs, 'ms', 10000); // read + verify + replay 100,000 events
  }
  if (run('notify')) {
    const nb = await notifyBench(plan, T0);
    emit('notify_dispatch_dead_receiver_us', nb.dispatchDeadUs, 'us', 1000); // median dispatch making 2 notify effects x 2 channels, receiver never answers
    emit('notify_delivery_ms', nb.deliveryMs, 'ms', 50); // dispatch -> 2 deliveries confirmed as events, live receiver on 127.0.0.1
  }
  if (run('soak')) {
    const soaked = await soakInChild();
    if (soaked.status !== 'completed') throw new Error(`soak: the plan ended ${soaked.status} after ${soaked.simDays.toFixed(1)} simulated days`);
    emit('soak_sim_days', soaked.simDays, 'days', 20); // the whole plan, simulated days
    emit('soak_pods_max', soaked.podsMax, 'pods', 6000); // pods in the state at the busiest moment (3 regions x 1,000 stable, plus the canary's as it grows)
    emit('soak_rss_end_mb', soaked.rssEndMb, 'MB', 150); // after the whole plan, in a process of its own run with the bin's Node options
    emit('soak_heap_end_mb', soaked.heapEndMb, 'MB', 100); // live heap after a full collection
    emit('soak_heap_growth_last_half_mb', soaked.growthLastHalfMb, 'MB', 5); // flat: no growth across the last half
    emit('soak_cpu_s_per_sim_day', soaked.cpuPerSimDayS, 's', 5); // world + engine + console at 10 fps
  }
  if (run('idle')) {
    // The plan from the cache, as at every start after the first (run alone, this group would
    // otherwise measure a console that validated its plan at start: zod and yaml loaded, a larger
    // heap for V8 to shrink while it idles: ~1.1% instead of ~0.6%).
    if (hasScript) await firstStart();
    const idle = await idleCpu();
    if (idle !== null) {
      emit('idle_cpu_percent', idle.canary, '% of a core', 1); // real-time console, --speed 1, clock on screen
      emit('ink_clock_idle_cpu_percent', idle.ink, '% of a core', 1); // floor: a tiny Ink app redrawing at 1 Hz, same 12 s
      emit('idle_cpu_ratio_to_ink', idle.canary / Math.max(idle.ink, 0.01), 'ratio', 1);
    } else process.stderr.write('bench: `script` (util-linux) not installed: idle_cpu_percent not measured\n');
  }
  if (run('load')) emit('load_test_stop_ms', Math.max(...(await loadTestStop(plan, T0))), 'ms', 1000); // worst of 3: stop() to the outcome, 50 connections
  if (run('rollback')) {
    const rb = await rollbackLatency();
    if (rb) emit('rollback_after_bad_request_ms', Math.max(...rb), 'ms', 3000); // real Prometheus, 1 s scrape (one run: the bench has 3 minutes)
    else process.stderr.write('bench: prometheus not installed (apt-get install -y prometheus): rollback_after_bad_request_ms not measured\n');
  }
  if (run('kube')) {
    const seedText = readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8');
    emit('kube_rollback_key_to_patch_p99_ms', p99(await kubeRollbackBench(seedText)), 'ms', 20); // R y to the last of 3 clusters' PATCH, 3,000 pods live
    const kl = await kubeListBench();
    if (kl) {
      emit('kube_list_3000_pods_ms', kl.canaryMs, 'ms', Math.round(kl.kubectlMs)); // list to pods classified; goal: kubectl's time
      emit('kube_list_3000_pods_ratio', kl.canaryMs / kl.kubectlMs, 'ratio', 1); // over `kubectl get pods -o json`
    }
  }
  if (run('warroom')) {
    const wr = await warroomBench(plan, T0);
    if (wr.gaps) throw new Error(`warroom bench: ${wr.gaps} viewer(s) saw a gap in the sequence`);
    emit('warroom_update_to_last_viewer_p99_ms', wr.receivedP99, 'ms', 50); // 200 viewers, loopback, 3,000 pods: state change to the last viewer receiving it
    emit('warroom_update_applied_by_last_viewer_p99_ms', wr.appliedP99, 'ms', 50); // ... and having applied it (100 viewers share each of 2 threads)
    emit('ws_broadcast_to_last_client_p99_ms', wr.wsFloorP99, 'ms', 50); // floor: the same messages from a bare ws server to 200 bare ws clients (same 2 threads)
    emit('warroom_p99_ratio_to_ws', wr.appliedP99 / wr.wsFloorP99, 'ratio', 3);
    emit('warroom_update_applied_by_last_viewer_p50_ms', wr.appliedP50, 'ms', 50); // the median change, for scale
    emit('warroom_viewers_held_back', wr.heldBack, 'viewers', 0); // times a viewer fell behind (its socket's buffer over the high-water mark) and was held back
    emit('warroom_viewer_apply_us_median', wr.applyUsMedian, 'us', 1000); // one viewer: parse + apply one patch
    emit('warroom_driver_flush_p99_ms', wr.driverFlushP99, 'ms', 10); // the driver's cost per change with 200 viewers: diff, encode once, 200 sends
    emit('warroom_update_bytes_median', wr.bytesMedian, 'bytes', 4096); // one SLI-samples patch (each viewer gets this text)
    emit('warroom_pods_delta_update_bytes', wr.podsDeltaBytes, 'bytes', 8192); // samples + 5 pods changed, of 3,000
    emit('warroom_snapshot_kb', wr.snapshotKb, 'KB', 1024); // the join snapshot, 3,000 pods
  }
  if (run('cluster')) await (await import('./cluster.js')).clusterBench(emit); // issue 14: takeover_ms, cluster_state_write_* (bench/cluster.ts)
  rmSync(benchState, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
