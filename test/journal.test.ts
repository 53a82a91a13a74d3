// The journal: replay gives the live state back, a process killed at any moment loses no decision,
// tampering is reported precisely, and the retrospective tells what happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';
import { Plan, crossCheck, parseDuration } from '../src/plan/schema.js';
import { Driver, HEALTHY, HOUR, MIN, PLAN_PATH, T0, loadSeedPlan, samples, withoutGateChecklists } from './helpers/drive.js';
import {
  GENESIS,
  JournalError,
  JournalWriter,
  canonicalJSON,
  comparableState,
  entryHash,
  readJournal,
  replayJournal,
  replaySteps,
  report,
  resume,
  stateDigest,
  verifyJournal,
} from '../src/journal/index.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { ActuationResult, TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import { SimCrew } from '../src/sim/crew.js';
import type { EngineEvent, PodInfo, RolloutState } from '../src/engine/types.js';

// The journal's tests open the first gate with approvals alone (the checklist is tested elsewhere).
const plan = withoutGateChecklists(loadSeedPlan());
const planPath = fileURLToPath(PLAN_PATH);
const planText = readFileSync(planPath, 'utf8');
let dir: string;
let n = 0;
const file = (name = 'journal') => join(dir, `${name}-${++n}.jsonl`);
/** Where two states differ (paths and values), so a failure says what replay got wrong. */
function differences(a: unknown, b: unknown, path = 'state'): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [`${path}: ${JSON.stringify(a)?.slice(0, 160)} != ${JSON.stringify(b)?.slice(0, 160)}`];
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  return [...new Set([...Object.keys(ao), ...Object.keys(bo)])].flatMap((k) => differences(ao[k], bo[k], `${path}.${k}`)).slice(0, 8);
}
const same = (replayed: RolloutState, live: RolloutState, opts: { includePods?: boolean } = {}) =>
  expect(differences(comparableState(replayed, opts), comparableState(live, opts))).toEqual([]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canary-journal-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A driven run: healthy to the 5% phase, an error spike there rolls back, the crew approves again
 * and a person restarts; `hours` of simulated time in all. */
function drivenRun(hours: number): Driver {
  const d = new Driver(plan);
  d.canary = (s) => (s.desiredWeight === 5 && s.phaseBakeMs > 2 * HOUR ? { ...HEALTHY, error_rate: 2.5 } : HEALTHY);
  d.runFor(hours * HOUR, (s) => s.status === 'rolled-back');
  if (d.state.status === 'rolled-back') {
    d.canary = () => HEALTHY;
    d.runFor(HOUR);
    d.command('advance');
    d.runFor(hours * HOUR - (d.now - T0));
  }
  return d;
}

async function journalOf(events: EngineEvent[], opts: { key?: string } = {}): Promise<string> {
  const path = file();
  const w = await JournalWriter.open(path, { plan, planText, start: T0, ...opts });
  for (const e of events) w.append(e);
  w.close();
  return path;
}

describe('journal: replay is the live state', () => {
  it('a driven run (rollback and restart included) replays to the identical engine state', async () => {
    const d = drivenRun(40);
    const rollback = d.effects.find((e) => e.type === 'rollback');
    expect(rollback?.type === 'rollback' && rollback.trigger?.rule).toBe('error_rate_threshold');
    expect(d.state.status).toBe('running'); // restarted after the rollback
    expect(d.state.phaseIndex).toBe(0);
    const path = await journalOf(d.events);
    const r = replayJournal(plan, path, { planText });
    expect(r.problems).toEqual([]);
    expect(r.lastSeq).toBe(d.events.length);
    expect(JSON.stringify(r.state)).toBe(JSON.stringify(d.state)); // nothing left out: even the buffers agree
    same(r.state, d.state);
    const days = (d.now - T0) / (24 * HOUR);
    const perDay = statSync(path).size / days;
    console.log(`journal: ${d.events.length} events over ${days.toFixed(2)} simulated days, ${statSync(path).size} bytes: ${(perDay / 1e6).toFixed(2)} MB per simulated day (one sli.samples line a minute, 24 samples)`);
    expect(perDay).toBeLessThan(3e6);
  });

  it('numbers JSON cannot spell (Infinity, NaN, -0) come back as they were', async () => {
    const d = new Driver(plan, { crew: false });
    d.send({ type: 'sli.samples', at: T0 + MIN, samples: samples({ ...HEALTHY, latency_p95: Infinity, error_rate: -0, availability: NaN }) });
    const path = await journalOf(d.events);
    expect(readFileSync(path, 'utf8')).toContain('{"$n":"Infinity"}');
    const r = replayJournal(plan, path);
    expect(r.problems).toEqual([]);
    const ev = readJournal(path).entries[0]!.event as Extract<EngineEvent, { type: 'sli.samples' }>;
    expect(ev.samples.find((s) => s.sli === 'latency_p95' && s.track === 'canary')!.value).toBe(Infinity);
    expect(Object.is(ev.samples.find((s) => s.sli === 'error_rate' && s.track === 'canary')!.value, -0)).toBe(true);
    same(r.state, d.state);
    expect(canonicalJSON({ b: 1, a: [undefined, 2], c: undefined })).toBe('{"a":[null,2],"b":1}');
  });

  it('the Runtime journals before it acts; ticks that only move time and pods are left out, yet replay is exact', async () => {
    const { rt, writer, path, rollbackHeldMs } = await runtimeRun27();
    const live = rt.getState();
    expect(live.rollback?.trigger?.rule).toBe('error_rate_threshold');
    expect(live.appliedWeight).toBe(0);
    expect(rollbackHeldMs).toBe(45_000);
    expect(writer.stats.elidedTicks).toBeGreaterThan(2000);
    expect(writer.stats.podsSkipped).toBeGreaterThan(100);
    const r = replayJournal(plan, path, { planText });
    expect(r.problems).toEqual([]);
    same(r.state, live);
    const read = readJournal(path);
    expect(read.entries.some((e) => e.event.type.startsWith('pods.'))).toBe(false);
    expect(read.entries.some((e) => e.event.type === 'tick')).toBe(true); // the ticks that moved analysis or a checkpoint

    // includePods: pods journaled whole, and replay gives them back too.
    const withPods = await runtimeRun({ hours: 3, includePods: true });
    const rp = replayJournal(plan, withPods.path);
    expect(withPods.rt.getState().pods.size).toBeGreaterThan(0);
    same(rp.state, withPods.rt.getState(), { includePods: true });
  });

  it('a pods event that moved something is journaled as a tick; a late event after left-out ticks replays exactly', async () => {
    const path = file();
    const writer = await JournalWriter.open(path, { plan, planText, start: T0 });
    const clock = new ManualClock(T0);
    const traffic: TrafficActuator = { name: 'now', setWeight: async (weight) => ({ weight, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };
    const rt = new Runtime({ plan, clock, traffic, journal: writer });
    const settle = () => new Promise((r) => setImmediate(r));
    rt.dispatch({ type: 'sli.samples', at: T0, samples: samples(HEALTHY) }); // the first gate needs a valid baseline
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    rt.dispatch({ type: 'command', at: T0, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
    await settle();
    rt.dispatch({ type: 'sli.samples', at: T0 + MIN, samples: samples(HEALTHY) });
    // 6 hours of bake reached by a pods event: the 6h checkpoint comes due in its reduce
    rt.dispatch({ type: 'pods.sync', at: T0 + 6 * HOUR, region: 'us-east-1', pods: pods(T0 + 6 * HOUR, 1) });
    expect(rt.getState().checkpoints['canary-1']![0]!.dueAt).toBe(T0 + 6 * HOUR);
    rt.dispatch({ type: 'tick', at: T0 + 6 * HOUR + 50_000 }); // only time moves: left out
    rt.dispatch({ type: 'sli.samples', at: T0 + 6 * HOUR + 40_000, samples: samples(HEALTHY) }); // late: stamped before that tick
    rt.dispatch({ type: 'tick', at: T0 + 6 * HOUR + 55_000 }); // left out; close() writes it
    writer.close();
    const types = readJournal(path).entries.map((e) => `${e.event.type}@${(e.at - T0) / 1000}`);
    expect(types.slice(-4)).toEqual([`tick@${6 * 3600}`, `tick@${6 * 3600 + 50}`, `sli.samples@${6 * 3600 + 50}`, `tick@${6 * 3600 + 55}`]);
    // the late samples keep their own time as data; the entry is stamped when the engine took them in
    expect(readJournal(path).entries.at(-2)!.event.at).toBe(T0 + 6 * HOUR + 40_000);
    same(replayJournal(plan, path).state, rt.getState());
  });

  it('effects asked for but never confirmed are handed back on resume, to be carried out again', async () => {
    const path = file();
    const writer = await JournalWriter.open(path, { plan, planText, start: T0 });
    const traffic: TrafficActuator = { name: 'hung', setWeight: () => new Promise(() => undefined), rollback: () => new Promise(() => undefined) };
    // The actuator never answers, and this runtime is gone with the process: no timeout may report
    // a failure 30 s later into the closed journal (an unhandled rejection in whatever test runs then).
    const rt = new Runtime({ plan, clock: new ManualClock(T0), traffic, journal: writer, actuatorTimeoutMs: 2_147_483_647 });
    rt.dispatch({ type: 'sli.samples', at: T0, samples: samples(HEALTHY) }); // the first gate needs a valid baseline
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    rt.dispatch({ type: 'command', at: T0, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
    writer.close(); // the process dies here: the weight change was decided, never confirmed
    const r = await resume(plan, path, { planText });
    r.writer.close();
    expect(r.state.status).toBe('running');
    expect(r.state.desiredWeight).toBe(1);
    expect(r.inDoubt).toEqual([expect.objectContaining({ type: 'set-weight', weight: 1, phase: 'canary-1', regions: ['us-east-1'] })]);
    expect(Object.keys(r.state.pending)).toEqual([String(r.inDoubt[0]!.id)]);
  });

  it('a decision is on disk before its effect is carried out', async () => {
    const path = file();
    const writer = await JournalWriter.open(path, { plan, planText, start: T0, flushEveryMs: 60_000 });
    const clock = new ManualClock(T0);
    const seen: string[] = [];
    const onDisk = () => readJournal(path).entries.map((e) => e.event.type);
    const traffic: TrafficActuator = {
      name: 'probe',
      setWeight: async (weight) => {
        seen.push(`setWeight ${weight}: journal has ${onDisk().join(',')}`);
        return { weight, detail: 'ok' };
      },
      rollback: async () => ({ weight: 0, detail: 'ok' }),
    };
    const rt = new Runtime({ plan, clock, traffic, journal: writer });
    rt.dispatch({ type: 'sli.samples', at: T0, samples: samples(HEALTHY) }); // batched, not yet fsynced
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    rt.dispatch({ type: 'command', at: T0, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'advance' } });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['setWeight 1: journal has sli.samples,approve,approve,command']);
    writer.close();
    expect(onDisk().at(-1)).toBe('effect.result');
  });
});

let run27: ReturnType<typeof runtimeRun> | undefined;
/** One 27-hour runtime run (1% -> 5% -> rollback), shared by the replay and the report tests. */
// 28 hours: the hour-48 assessment is asked (and answered by the crew) before the 5% gate opens.
const runtimeRun27 = () => (run27 ??= runtimeRun({ hours: 28 }));

interface RunOptions {
  hours: number;
  includePods?: boolean;
}

/** The real Runtime on a ManualClock with the crew, pods every 10 minutes, an error spike in the
 * 5% phase, and a traffic provider that takes 45 s (simulated) to confirm a rollback. */
async function runtimeRun(opts: RunOptions) {
  const path = file();
  const clock = new ManualClock(T0);
  const writer = await JournalWriter.open(path, { plan, planText, start: T0, flushEveryMs: 50, includePods: opts.includePods ?? false });
  let held: (() => void) | null = null;
  let rollbackHeldMs = 0;
  const traffic: TrafficActuator = {
    name: 'test',
    setWeight: async (weight) => ({ weight, detail: `weight ${weight}% read back` }),
    rollback: () =>
      new Promise<ActuationResult>((resolve) => {
        held = () => resolve({ weight: 0, detail: 'stable takes all traffic' });
      }),
  };
  const crew = new SimCrew(plan);
  const rt = new Runtime({ plan, clock, traffic, journal: writer, observers: [(s) => crew.decide(s)] });
  const settle = () => new Promise((r) => setImmediate(r));
  for (let minute = 1; minute <= opts.hours * 60; minute++) {
    clock.advance(30_000);
    rt.dispatch({ type: 'tick', at: clock.now() });
    const at = clock.advance(30_000);
    const s = rt.getState();
    const bad = s.desiredWeight === 5 && s.phaseBakeMs >= HOUR;
    rt.dispatch({ type: 'sli.samples', at, samples: samples(bad ? { ...HEALTHY, error_rate: 2.5 } : HEALTHY) });
    rt.dispatch({ type: 'tick', at });
    if (minute % 10 === 0) rt.dispatch({ type: 'pods.sync', at, region: 'us-east-1', pods: pods(at, minute) });
    await settle();
    if (held) {
      const release: () => void = held;
      held = null;
      const t = clock.now();
      clock.advance(45_000);
      release();
      await settle();
      rollbackHeldMs = clock.now() - t;
    }
  }
  writer.close();
  return { rt, writer, path, rollbackHeldMs };
}

function pods(at: number, minute: number): PodInfo[] {
  return [0, 1, 2].map((i) => ({
    key: `us-east-1/maestro/orchestrator-canary-${i}`,
    name: `orchestrator-canary-${i}`,
    namespace: 'maestro',
    region: 'us-east-1',
    track: 'canary',
    phase: 'Running',
    ready: true,
    reason: 'Running',
    restarts: Math.floor(minute / 600),
    startedAt: at - minute * MIN,
  }));
}

// ---------------------------------------------------------------------------------------------

describe('journal: killed with SIGKILL at random points, nothing decided is lost', () => {
  let child: string;
  /** The seed plan with every bake and checkpoint 24 times shorter (1% bakes 1h, 100% 7h): the
   * whole rollout, a rollback and a restart fit in about a simulated day. */
  let fastPlan: string;
  let fastPlanJson: string;
  beforeAll(async () => {
    const scaled = structuredClone(plan);
    const shorter = (d: string) => `${parseDuration(d)! / 24 / MIN}m`;
    for (const phase of scaled.phases) {
      for (const step of phase.steps) step.bake = { min: shorter(step.bake.min), ...(step.bake.max ? { max: shorter(step.bake.max) } : {}) };
      // The bakes are 24x shorter but the crew's reaction times are not: a decision point past the
      // minimum bake would spend much of the run waiting for its go, so it is skipped instead.
      for (const c of phase.checkpoints) Object.assign(c, { at: shorter(c.at), late: 'skip' });
    }
    expect(crossCheck(Plan.parse(scaled))).toEqual([]);
    fastPlan = join(dir, 'fast-plan.yaml');
    fastPlanJson = join(dir, 'fast-plan.json');
    writeFileSync(fastPlan, stringify(scaled));
    writeFileSync(fastPlanJson, JSON.stringify(Plan.parse(parse(readFileSync(fastPlan, 'utf8')))));
    child = join(dir, 'journal-child.mjs');
    const zodStub = join(dir, 'zod-stub.mjs');
    writeFileSync(zodStub, 'const any = new Proxy(function () {}, { get: () => any, apply: () => any });\nexport const z = any;\nexport default any;\n');
    await build({
      entryPoints: [fileURLToPath(new URL('./helpers/journal-child.ts', import.meta.url))],
      outfile: child,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'warning',
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
      // The child gets its plan parsed already and never validates one: zod (most of the bundle)
      // is replaced with a stub that accepts the schema definitions, so each start is ~2x faster.
      alias: { zod: zodStub },
    });
  });

  interface Run {
    lines: string[];
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }
  /** Runs the child; kills it `killAfterMs` after it said it is running (or lets it finish). */
  const runChild = (journal: string, args: string[], killAfterMs: number | null) =>
    new Promise<Run>((resolve, reject) => {
      const p = spawn(process.execPath, [child, journal, fastPlan, fastPlanJson, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let stderr = '';
      let armed = false;
      p.stdout.setEncoding('utf8');
      p.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (!armed && killAfterMs !== null && /^[NR]\b/m.test(out)) {
          armed = true;
          setTimeout(() => p.kill('SIGKILL'), killAfterMs);
        }
      });
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      p.on('error', reject);
      p.on('close', (code, signal) => resolve({ lines: out.split('\n').filter(Boolean), code, signal, stderr }));
    });

  it('25 kills: the chain verifies, every reported decision is in it, torn tails are set aside, and replay equals the live end state', async () => {
    const journal = file('killed');
    // mulberry32: the kill delays are reproducible (the moments they land on are not: real time).
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const decisions = new Map<number, { hash: string; type: string }>();
    let tornSeen = 0;
    let tornInjected = 0;
    let expectTorn: { seq: number; bytes: Buffer } | null = null;
    let redone = 0;
    /** The resumed child's first line: the torn tail left by the previous kill was moved aside
     * byte for byte (not dropped), and nothing else was. */
    const checkResumed = (first: string) => {
      const [tag, , tornSeq, movedTo, inDoubt] = first.split(' ');
      expect(tag).toBe('R');
      if (expectTorn) {
        expect(Number(tornSeq)).toBe(expectTorn.seq);
        expect(readFileSync(movedTo!)).toEqual(expectTorn.bytes);
      } else expect(tornSeq).toBe('-');
      if (Number(inDoubt) > 0) redone += 1;
    };
    const ITERATIONS = 25;
    // At least 25 kills, and more until over 20 decisions were made between them: on a loaded
    // machine a child can be killed 30-330 ms after it starts having decided nothing, so the
    // number of kills waits for the condition (bounded) instead of assuming a speed.
    let kills = 0;
    for (let i = 0; i < ITERATIONS || (decisions.size <= 20 && i < 4 * ITERATIONS); i++) {
      kills += 1;
      // 0.25 sim minutes per real ms, an fsync of samples every 5 ms, lines written a byte at a
      // time so that a kill can land in the middle of one.
      const run = await runChild(journal, ['0.25', '1000000', '5', '1'], 30 + Math.floor(random() * 300));
      if (run.signal !== 'SIGKILL') throw new Error(`child ended with ${run.code}/${run.signal}: ${run.stderr}`);
      if (i === 0) expect(run.lines[0]).toBe('N');
      else checkResumed(run.lines[0]!);
      for (const l of run.lines) {
        const m = /^D (\d+) ([0-9a-f]{64}) (\S+)$/.exec(l);
        if (m) decisions.set(Number(m[1]), { hash: m[2]!, type: m[3]! });
      }

      const read = readJournal(journal);
      expect(read.problems).toEqual([]); // the chain verifies: hashes, links, order
      // Every decision reported so far (this run and all before) is in the journal as reported.
      const bySeq = new Map(read.entries.map((e) => [e.seq, e]));
      for (const [seq, d] of decisions) {
        const e = bySeq.get(seq);
        expect(e?.hash, `decision seq ${seq} (${d.type})`).toBe(d.hash);
        expect(e!.event.type).toBe(d.type);
      }
      expectTorn = null;
      if (read.torn) {
        tornSeen += 1;
        expect(read.torn.line).toBe(read.entries.length + 2);
        expect(read.torn.seq).toBe(read.head!.seq + 1);
        expect(verifyJournal(journal).text).toContain(`torn tail: line ${read.torn.line} (would be seq ${read.torn.seq})`);
        expectTorn = { seq: read.torn.seq, bytes: readFileSync(journal).subarray(read.torn.offset) };
      } else if (i % 6 === 5) {
        // A crash of the machine, not the process, can lose the end of a write the process had
        // made: the same torn tail as a kill mid-write, made on purpose here every 6th time.
        const lines = readFileSync(journal, 'utf8').split('\n');
        const partial = Buffer.from(lines[lines.length - 2]!.slice(0, 100).replace(/"seq":\d+/, `"seq":${read.head!.seq + 1}`));
        appendFileSync(journal, partial);
        tornInjected += 1;
        expectTorn = { seq: read.head!.seq + 1, bytes: partial };
      }
    }

    // A last session resumes and runs to a clean stop: replaying the journal written across all
    // these crashes gives exactly the state the live process ended with.
    const last = await runChild(journal, ['1000', '120', '5'], null);
    expect(last.code, last.stderr).toBe(0);
    checkResumed(last.lines[0]!);
    const [, stateHash, status, lastSeq] = last.lines.at(-1)!.split(' ');
    const fast = Plan.parse(parse(readFileSync(fastPlan, 'utf8')));
    const r = replayJournal(fast, journal, { planText: readFileSync(fastPlan, 'utf8') });
    expect(r.problems).toEqual([]);
    expect(r.lastSeq).toBe(Number(lastSeq));
    expect(stateDigest(r.state)).toBe(stateHash);
    expect(r.state.status).toBe(status);
    const types = [...decisions.values()].map((d) => d.type);
    const count = (t: string) => types.filter((x) => x === t).length;
    const rollbacks = [...replaySteps(fast, readJournal(journal))].filter((st) => st.effects.some((e) => e.type === 'rollback')).length;
    console.log(
      `kill loop: ${kills} SIGKILLs, ${tornSeen} torn tails from a kill mid-write + ${tornInjected} injected, all set aside; ${redone} resumes carried out effects left in doubt; ` +
        `${decisions.size} decisions checked (${count('approve')} approvals, ${count('command')} commands, ${count('effect.result')} effect results, ${count('sli.samples')} samples that acted, ${rollbacks} rollbacks); ` +
        `journal ${r.lastSeq + 1} entries, ${((r.state.now - T0) / HOUR).toFixed(1)} simulated hours, ended ${r.state.status} at ${r.state.desiredWeight}%`,
    );
    expect(decisions.size).toBeGreaterThan(20);
    expect(count('approve')).toBeGreaterThan(0);
    expect(rollbacks).toBeGreaterThan(0);
    expect(tornSeen + tornInjected).toBeGreaterThan(0);
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------

describe('journal: tampering is reported precisely', () => {
  let clean: string;
  let lines: string[];
  beforeAll(async () => {
    const d = new Driver(plan);
    d.runFor(3 * HOUR);
    clean = await journalOf(d.events);
    lines = readFileSync(clean, 'utf8').split('\n'); // lines[i] is line i + 1; the last element is ''
    expect(lines.length).toBeGreaterThan(150);
  });
  const variant = (edit: (ls: string[]) => string[]) => {
    const p = file('tampered');
    writeFileSync(p, edit([...lines]).join('\n'));
    return p;
  };

  it('the untouched journal verifies and prints its head; truncation is said to need a recorded head', () => {
    const v = verifyJournal(clean);
    expect(v.ok).toBe(true);
    expect(v.text).toContain(`head: seq ${lines.length - 2} ${v.head!.hash}`);
    expect(v.text).toMatch(/truncation: not checked.*recorded earlier/);
  });

  it('an edited entry: kind, line and seq', () => {
    const v = verifyJournal(variant((ls) => ((ls[49] = ls[49]!.replace('"value":99.97', '"value":99.99')), ls)));
    expect(v.ok).toBe(false);
    expect(v.first).toMatchObject({ kind: 'edited', line: 50, seq: 49 });
    expect(v.problems).toHaveLength(1);
    expect(v.text).toContain('EDITED at line 50, seq 49');
  });

  it('an edited entry whose hash was recomputed is caught by the link from the next one', () => {
    const v = verifyJournal(
      variant((ls) => {
        const e = JSON.parse(ls[49]!);
        e.event.samples[0].value = 42;
        e.hash = entryHash(e.prev, e);
        ls[49] = JSON.stringify(e);
        return ls;
      }),
    );
    expect(v.first).toMatchObject({ kind: 'edited', line: 50, seq: 49 });
    expect(v.first!.message).toContain('hash recomputed');
  });

  it('a deleted entry: the missing seq and where', () => {
    const v = verifyJournal(variant((ls) => (ls.splice(49, 1), ls)));
    expect(v.first).toMatchObject({ kind: 'deleted', line: 50, seq: 49 });
    expect(v.problems).toHaveLength(1);
    expect(v.first!.message).toContain('seq 49 is missing between line 49 (seq 48) and line 50 (seq 50)');
  });

  it('reordered entries: which seq came before which', () => {
    const v = verifyJournal(variant((ls) => ([ls[49], ls[50]] = [ls[50]!, ls[49]!], ls)));
    expect(v.first).toMatchObject({ kind: 'reordered', line: 50, seq: 50 });
    expect(v.first!.message).toContain('comes before seq 49 at line 51');
    expect(v.problems).toHaveLength(1);
  });

  it('a torn last line is reported and set aside; a torn line elsewhere is a problem', async () => {
    const last = lines.length - 2; // index of the last entry's line
    const tornTail = variant((ls) => ((ls[last] = ls[last]!.slice(0, 80)), ls.slice(0, last + 1)));
    const v = verifyJournal(tornTail);
    expect(v.ok).toBe(true);
    expect(v.torn).toMatchObject({ line: last + 1, seq: last, bytes: 80 });
    expect(v.text).toContain(`torn tail: line ${last + 1} (would be seq ${last}), 80 bytes`);
    expect(v.head!.seq).toBe(last - 1);

    const zeros = file('zeros');
    writeFileSync(zeros, Buffer.concat([readFileSync(clean), Buffer.alloc(512)]));
    expect(readJournal(zeros).torn).toMatchObject({ line: lines.length, bytes: 512 });

    const mid = verifyJournal(variant((ls) => ((ls[49] = ls[49]!.slice(0, 70)), ls)));
    expect(mid.ok).toBe(false);
    expect(mid.first).toMatchObject({ kind: 'corrupt', line: 50, seq: 49 });
    expect(mid.torn).toBeNull();

    // resume moves the torn tail aside byte for byte and continues the chain after it
    const tornBytes = readFileSync(tornTail).subarray(v.torn!.offset);
    const r = await resume(plan, tornTail, { planText });
    expect(r.torn).toMatchObject({ seq: last, movedTo: `${tornTail}.torn-${last}` });
    expect(readFileSync(r.torn!.movedTo)).toEqual(tornBytes);
    expect(r.lastSeq).toBe(last - 1);
    r.writer.append({ type: 'command', at: r.state.now, actor: { id: 'ana', name: 'Ana Ortiz' }, command: { kind: 'pause' } });
    r.writer.close();
    const after = verifyJournal(tornTail);
    expect(after.ok).toBe(true);
    expect(after.torn).toBeNull();
    expect(after.head!.seq).toBe(last);
    expect(replayJournal(plan, tornTail).state.status).toBe('paused');
  });

  it('resume refuses a journal that does not verify, or another plan', async () => {
    const edited = variant((ls) => ((ls[49] = ls[49]!.replace('"value":99.97', '"value":99.99')), ls));
    await expect(resume(plan, edited)).rejects.toThrow(/does not verify.*edited at line 50, seq 49/s);
    await expect(resume(plan, clean, { planText: planText + '\n# changed' })).rejects.toThrow(/plan file changed/);
    await expect(JournalWriter.open(clean, { plan, planText, start: T0 })).rejects.toThrow(JournalError);
  });

  it('an HMAC-keyed journal verifies only with its key', async () => {
    const d = new Driver(plan);
    d.runFor(HOUR);
    const keyed = await journalOf(d.events, { key: 'correct horse' });
    expect(verifyJournal(keyed, { key: 'correct horse' }).ok).toBe(true);
    const wrong = verifyJournal(keyed, { key: 'battery staple' });
    expect(wrong.ok).toBe(false);
    expect(wrong.first).toMatchObject({ kind: 'key', line: 1, seq: 0 });
    expect(wrong.first!.message).toContain('wrong key');
    expect(verifyJournal(keyed).first).toMatchObject({ kind: 'key', line: 1 });
    // an unkeyed journal presented with a key: it was not written (or was rewritten) without it
    expect(verifyJournal(clean, { key: 'correct horse' }).first).toMatchObject({ kind: 'key' });
    // an edit to a keyed journal cannot be covered up without the key
    const ls = readFileSync(keyed, 'utf8').split('\n');
    const e = JSON.parse(ls[9]!);
    e.event.samples[0].value = 1;
    e.hash = entryHash(e.prev, e, 'guess');
    ls[9] = JSON.stringify(e);
    const p = file('keyed-edit');
    writeFileSync(p, ls.join('\n'));
    expect(verifyJournal(p, { key: 'correct horse' }).first).toMatchObject({ kind: 'edited', line: 10, seq: 9 });
  });

  it('truncation is caught against a recorded head, and only then', async () => {
    const head = verifyJournal(clean).head!;
    const cut = variant((ls) => [...ls.slice(0, ls.length - 6), '']);
    expect(verifyJournal(cut).ok).toBe(true); // a shorter chain is still a chain
    const v = verifyJournal(cut, { expectedHead: `${head.seq}:${head.hash}` });
    expect(v.ok).toBe(false);
    expect(v.truncation).toBe('truncated');
    expect(v.first).toMatchObject({ kind: 'truncated', seq: head.seq });
    expect(v.text).toContain(`5 entries after seq ${head.seq - 5} are gone`);
    expect(verifyJournal(clean, { expectedHead: head.hash }).truncation).toBe('ok');
    // appended after the head was recorded: fine
    const r = await resume(plan, cut);
    const earlier = r.head;
    r.writer.append({ type: 'tick', at: r.state.now + MIN });
    r.writer.close();
    expect(verifyJournal(cut, { expectedHead: earlier.hash })).toMatchObject({ ok: true, truncation: 'extended' });
    expect(GENESIS).toMatch(/^0{64}$/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('journal: the retrospective', () => {
  it('has the phases, who approved what, the rule that tripped with value and threshold, and the rollback time to effect', async () => {
    const { path } = await runtimeRun27();
    const md = report(plan, path, { planText });
    expect(md).toContain('# Rollout retrospective: Maestro Conductor vNext');
    expect(md).toContain('Chain: verified');
    // phases, in the timeline and against the plan's bake
    expect(md).toMatch(/\| phase \| .*opened the gate: Canary 1%: internal validation, traffic 0% -> 1%/);
    expect(md).toMatch(/opened the gate: Canary 5%: early adopters, traffic 1% -> 5%/);
    expect(md).toMatch(/\| Canary 1%: internal validation \| [^|]+ \| [^|]+\(next phase\) \| [^|]+ \| 1d\d*h?\d*m? \| 1d - 2d \| within the plan \|/);
    expect(md).toMatch(/\| Canary 5%: early adopters \| [^|]+ \| [^|]+\(rolled back\) \| 1h\d*m? \| 1h\d*m? \| 3d - 3d \| left 2d2\dh\d*m? before the minimum bake \|/);
    // approvals with names
    expect(md).toMatch(/\| Canary 1%: internal validation \| Engineering Lead \| Dev Raman \(simulated\) \| 2026-11-30T14:[0-9:]+Z \|/);
    expect(md).toMatch(/\| Canary 5%: early adopters \| Product Manager \| Emma Brandt \(simulated\) \|/);
    expect(md).toMatch(/\| canary-1 \| 6 \| Basic functionality validation \| .* \| \w+ \w+ \(simulated\) \|/);
    // the rule, its value and its threshold
    expect(md).toContain('**error_rate_threshold** - Error rate threshold (automatic)');
    expect(md).toContain('`error_rate` = 2.5 on the canary >= threshold 1 (window 5m)');
    // rollback time to effect: from the decision to the provider confirming 0%
    expect(md).toMatch(/\| [0-9T:-]+Z \| canary \| 5% \| #\d+ \| [0-9T:-]+Z \| 45 s \|/);
    // the automatic rollback opened a P0; nobody acknowledged it, so every step of the matrix was paged
    expect(md).toMatch(/\| INC-1 P0 \| [0-9T:.-]+Z \| canary \| rolled back: Error rate threshold \(error_rate_threshold\) \| 0m: \w+ \w+, Dev Raman; 15m: Emma Brandt, Jon Weller; 30m: Kay Osei, Grace Kim \| no \| no \|/);
    console.log(md.split('\n').slice(0, 12).join('\n'));
  });

  it('says what it cannot vouch for: an empty file, a chain that does not verify', async () => {
    const empty = file('empty');
    writeFileSync(empty, '');
    expect(report(plan, empty)).toContain('no journal header');
    const d = new Driver(plan);
    d.runFor(2 * HOUR);
    const path = await journalOf(d.events);
    const ls = readFileSync(path, 'utf8').split('\n');
    ls[30] = ls[30]!.replace('"value":220', '"value":120');
    writeFileSync(path, ls.join('\n'));
    expect(report(plan, path, { planText })).toMatch(/Chain: \*\*1 problem\(s\)\*\* - first: edited at line 31: line 31 \(seq 30\) does not match its hash/);
  });
});
