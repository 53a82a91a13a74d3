// What issue 18's speed-ups must not change, and what they must do: pods shared between states
// (same contents as a Map, old states untouched), the views told only when something they show
// changed, holds kept when equal, and a war-room viewer applying patches to the same state as
// the driver's.
import { describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { PodTable } from '../src/engine/podtable.js';
import { initialState, reduce } from '../src/engine/reduce.js';
import type { PodInfo, RolloutState } from '../src/engine/types.js';
import { Runtime, visiblyDifferent } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { applyPatch, diffState, fromWire, toWire } from '../src/warroom/protocol.js';
import { App } from '../components/App.js';
import { sized } from './helpers/sized.js';
import { CHLOE, loadPlan, manyPods, MIN, pod, samples, T0 } from './helpers/state.js';

/** A small deterministic random sequence (tests must give the same run every time). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sorted = (m: ReadonlyMap<string, PodInfo>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('PodTable: pods shared between states', () => {
  it('holds what a Map holds through 2,000 random upserts, deletes and region syncs, and old tables never change', () => {
    const rand = rng(7);
    const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];
    let table = PodTable.EMPTY;
    let map = new Map<string, PodInfo>();
    const history: { table: PodTable; snapshot: [string, PodInfo][] }[] = [];
    for (let step = 0; step < 2000; step++) {
      const r = rand();
      if (r < 0.05) {
        const region = regions[Math.floor(rand() * 3)]!;
        const pods = Array.from({ length: Math.floor(rand() * 40) }, (_, i) => pod(`p-${region}-${Math.floor(rand() * 60)}-${i % 3}`, { region }));
        table = table.withRegion(region, pods);
        const next = new Map(map);
        for (const [k, p] of next) if (p.region === region) next.delete(k);
        for (const p of pods) next.set(p.key, p);
        map = next;
      } else {
        const ups = Array.from({ length: Math.floor(rand() * 6) }, () => {
          const region = regions[Math.floor(rand() * 3)]!;
          return pod(`p-${region}-${Math.floor(rand() * 60)}-${Math.floor(rand() * 3)}`, { region, restarts: step });
        });
        const keys = [...map.keys()];
        const dels = Array.from({ length: Math.floor(rand() * 4) }, () => keys[Math.floor(rand() * keys.length)] ?? 'nope');
        table = table.with(ups, dels);
        const next = new Map(map);
        for (const k of dels) next.delete(k);
        for (const p of ups) next.set(p.key, p);
        map = next;
      }
      expect(table.size).toBe(map.size);
      if (step % 100 === 0) history.push({ table, snapshot: sorted(table) });
      if (step % 50 === 0) expect(sorted(table)).toEqual(sorted(map));
    }
    for (const h of history) expect(sorted(h.table)).toEqual(h.snapshot);
    for (const [k, p] of map) {
      expect(table.get(k)).toBe(p);
      expect(table.has(k)).toBe(true);
    }
    expect(table.has('nope')).toBe(false);
  });

  it('reports exactly what changed between two tables, and a no-op change is the same table', () => {
    const a = PodTable.from(manyPods(3000));
    const changed = manyPods(3000).slice(100, 105).map((p) => ({ ...p, ready: false }));
    const b = a.with(changed, [manyPods(3000)[7]!.key]);
    const d = b.changesSince(a);
    expect(d.up.map((p) => p.key).sort()).toEqual(changed.map((p) => p.key).sort());
    expect(d.del).toEqual([manyPods(3000)[7]!.key]);
    expect(b.changesSince(new Map(a))).toEqual({ up: expect.arrayContaining(changed) as PodInfo[], del: d.del });
    expect(a.with([], [])).toBe(a);
    expect(a.with([a.get(manyPods(3000)[9]!.key)!], ['not-there'])).toBe(a);
  });
});

describe('engine: pods and holds shared between states', () => {
  const plan = loadPlan();

  it("a pods delta leaves the previous state's pods as they were, and takes over a plain Map", () => {
    let s = initialState(plan, T0);
    s = reduce(plan, s, { type: 'pods.sync', at: T0, region: 'us-east-1', pods: manyPods(1000) }).state;
    const before = s;
    const beforeView = sorted(before.pods);
    const up = manyPods(1000).slice(0, 3).map((p) => ({ ...p, ready: false, reason: 'CrashLoopBackOff' }));
    s = reduce(plan, s, { type: 'pods.delta', at: T0 + 1000, upserts: up, deletes: [manyPods(1000)[500]!.key] }).state;
    expect(sorted(before.pods)).toEqual(beforeView);
    expect(s.pods.size).toBe(999);
    expect(s.pods.get(up[0]!.key)?.reason).toBe('CrashLoopBackOff');
    // A state whose pods are a Map (an older journal's, a test's) is taken over.
    const fromMap: RolloutState = { ...before, pods: new Map(before.pods) };
    const again = reduce(plan, fromMap, { type: 'pods.delta', at: T0 + 1000, upserts: up, deletes: [manyPods(1000)[500]!.key] }).state;
    expect(sorted(again.pods)).toEqual(sorted(s.pods));
  });

  it('keeps the holds array when the holds are the same (views compare by reference)', () => {
    let s = initialState(plan, T0);
    s = reduce(plan, s, { type: 'command', at: T0, actor: CHLOE, command: { kind: 'pause' } }).state;
    const holds = s.holds;
    const next = reduce(plan, s, { type: 'tick', at: T0 + 250 }).state;
    expect(next.holds).toEqual(holds);
    expect(next.holds).toBe(holds);
  });
});

describe('runtime: views are told when something they show changed', () => {
  const plan = loadPlan();
  const traffic: TrafficActuator = { name: 'none', setWeight: async (w) => ({ weight: w, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };

  it('not for ticks within the same second; for a second crossed, and for any other change', () => {
    let now = T0;
    const rt = new Runtime({ plan, clock: { now: () => now, speed: 1 }, traffic, tickMs: 0 });
    let told = 0;
    rt.subscribe(() => void (told += 1));
    rt.start();
    expect(told).toBe(1);
    for (const dt of [250, 250, 250]) {
      now += dt;
      rt.dispatch({ type: 'tick', at: now });
    }
    expect(told).toBe(1); // T0+750 ms: the screen would show the same second
    now += 250;
    rt.dispatch({ type: 'tick', at: now });
    expect(told).toBe(2); // T0+1 s
    rt.dispatch({ type: 'sli.samples', at: now, samples: samples(1) });
    expect(told).toBe(3);
  });

  it('visiblyDifferent compares fields, and clock fields to the second', () => {
    const s = initialState(plan, T0);
    expect(visiblyDifferent(s, { ...s })).toBe(false);
    expect(visiblyDifferent(s, { ...s, now: T0 + 999 })).toBe(false);
    expect(visiblyDifferent(s, { ...s, now: T0 + 1000 })).toBe(true);
    expect(visiblyDifferent(s, { ...s, stepBakeMs: 1000 })).toBe(true);
    expect(visiblyDifferent(s, { ...s, holds: ['paused by a person'] })).toBe(true);
  });

  it('an idle real-time console draws once a second, not on every poll', async () => {
    let now = T0;
    const rt = new Runtime({ plan, clock: { now: () => now, speed: 1 }, traffic, tickMs: 0 });
    rt.start();
    const ui = sized(render(<App plan={plan} store={rt} actor={CHLOE} now={() => now} />), 120, 40);
    await new Promise((r) => setTimeout(r, 20));
    const frames = ui.frames.length;
    for (let i = 0; i < 12; i++) {
      now += 250; // 4 polls a second, for 3 seconds
      rt.dispatch({ type: 'tick', at: now });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(ui.frames.length - frames).toBeLessThanOrEqual(3);
    expect(ui.lastFrame()).toContain('Phases');
    cleanup();
  });
});

describe("war room: a viewer applies patches to the driver's state", () => {
  it('pods and all, over 100 changes, while the viewer copies only what a patch touches', () => {
    const plan = loadPlan();
    let driver = initialState(plan, T0);
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) driver = reduce(plan, driver, { type: 'pods.sync', at: T0, region, pods: manyPods(1000, region) }).state;
    let viewer = fromWire(JSON.parse(JSON.stringify(toWire(driver))));
    let sent = driver;
    for (let i = 0; i < 100; i++) {
      const at = T0 + (i + 1) * MIN;
      driver = reduce(plan, driver, { type: 'sli.samples', at, samples: samples(i) }).state;
      if (i % 10 === 9) driver = reduce(plan, driver, { type: 'pods.delta', at, upserts: manyPods(1000, 'us-west-2').slice(i, i + 5).map((p) => ({ ...p, restarts: i })), deletes: [] }).state;
      const patch = diffState(sent, driver);
      sent = driver;
      if (patch) {
        const before = viewer;
        const beforePods = sorted(before.pods);
        viewer = applyPatch(viewer, JSON.parse(JSON.stringify(patch)));
        expect(sorted(before.pods)).toEqual(beforePods);
      }
    }
    expect(sorted(viewer.pods)).toEqual(sorted(driver.pods));
    expect(JSON.stringify(toWire(viewer))).toBe(JSON.stringify(toWire(driver)));
  });
});

describe('war room: a round of samples is sent as points', () => {
  it("a viewer gets each round in a few hundred bytes and ends with the driver's state, invalid values and a series' wrap included", () => {
    const plan = loadPlan();
    let driver = initialState(plan, T0);
    let viewer = fromWire(JSON.parse(JSON.stringify(toWire(driver))));
    const sizes: number[] = [];
    let general = 0;
    for (let i = 0; i < 300; i++) {
      const at = T0 + (i + 1) * MIN;
      // every 50th round one SLI reads NaN (an invalid note: the general form), every 70th one
      // track reports nothing; 300 rounds wrap the 120-point windows
      const round = samples(i, i % 50 === 49 ? { latency_p95: Number.NaN } : {}).filter((x, k) => i % 70 !== 69 || k !== 0);
      const next = reduce(plan, driver, { type: 'sli.samples', at, samples: round }).state;
      const patch = diffState(driver, next);
      driver = next;
      if (!patch) continue;
      const text = JSON.stringify(patch);
      if (patch.slis) general++;
      else sizes.push(text.length);
      viewer = applyPatch(viewer, JSON.parse(text));
      expect(JSON.stringify(toWire(viewer).slis)).toBe(JSON.stringify(toWire(driver).slis));
    }
    expect(JSON.stringify(toWire(viewer))).toBe(JSON.stringify(toWire(driver)));
    sizes.sort((a, b) => a - b);
    expect(sizes.length).toBeGreaterThan(250);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThan(600); // the full per-SLI form was ~3,000
    expect(general).toBeGreaterThan(0);
  });
});

describe('build: npm start and the bin', () => {
  it('npm start and the bin run Node with the same options', async () => {
    const { readFileSync } = await import('node:fs');
    const root = new URL('..', import.meta.url);
    const shebang = readFileSync(new URL('dist/canary.mjs', root), 'utf8').split('\n', 1)[0]!;
    const start = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    const flags = (s: string) => s.split(/\s+/).filter((w) => w.startsWith('--'));
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(flags(shebang).length).toBeGreaterThan(0);
    expect(flags(start)).toEqual(flags(shebang));
    expect(start).not.toMatch(/\btsc\b/);
  });

  it('the build is stale when a file it read changes, and fresh again when it is as it was', async () => {
    const { mkdtempSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    // @ts-expect-error: a plain .mjs build script, no types
    const { mtime, upToDate } = (await import('../build/stale.mjs')) as { mtime: (f: string, base: string) => number; upToDate: (withBench: boolean, at?: { root: string; stampFile: string }) => boolean };
    // A build of its own in a temporary directory (the shared dist/ is rebuilt and read by other
    // test files running at the same time): one input, one output, the stamp bundle.mjs writes.
    const root = mkdtempSync(join(tmpdir(), 'canary-stale-'));
    try {
      mkdirSync(join(root, 'src'));
      mkdirSync(join(root, 'dist'));
      writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');
      writeFileSync(join(root, 'dist', 'canary.mjs'), '');
      const at = { root, stampFile: join(root, 'dist', '.build-inputs.json') };
      writeFileSync(at.stampFile, JSON.stringify({ bench: false, inputs: { 'src/a.ts': mtime('src/a.ts', root) }, outputs: ['dist/canary.mjs'] }));
      expect(upToDate(false, at)).toBe(true);
      expect(upToDate(true, at)).toBe(false); // the benchmarks were not built
      const file = join(root, 'src', 'a.ts');
      const { atime, mtime: was, mtimeMs } = statSync(file);
      utimesSync(file, atime, new Date(was.getTime() + 5000));
      expect(upToDate(false, at)).toBe(false);
      // Back to the same millisecond (stale.mjs compares whole milliseconds): from mtimeMs, half a
      // millisecond in. Not from the Date, which rounds 612.96 up to 613; nor at .0, which the
      // float seconds utimes takes can bring down to .999 of the millisecond before.
      utimesSync(file, atime, (Math.floor(mtimeMs) + 0.5) / 1000);
      expect(upToDate(false, at)).toBe(true);
      rmSync(join(root, 'dist', 'canary.mjs'));
      expect(upToDate(false, at)).toBe(false); // an output is missing
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('war room: a joined terminal redraws as the driver does', () => {
  it('not for a patch that moved only the clock within a second; for one that crossed it', async () => {
    const { WarRoomServer } = await import('../src/warroom/server.js');
    const { issueTokens, TokenBook } = await import('../src/warroom/tokens.js');
    const { RemoteStore } = await import('../src/warroom/client.js');
    const plan = loadPlan();
    let state = initialState(plan, T0);
    const listeners = new Set<() => void>();
    const driver = {
      getState: () => state,
      subscribe: (l: () => void) => (listeners.add(l), () => void listeners.delete(l)),
      dispatch: (e: Parameters<typeof reduce>[2]) => {
        state = reduce(plan, state, e).state;
        for (const l of listeners) l();
      },
    };
    const { file, issued } = issueTokens(plan, { people: [], viewers: 1 });
    const server = new WarRoomServer({ store: driver, tokens: new TokenBook(plan, file), planName: plan.metadata.name, now: () => state.now });
    const url = await server.listen();
    const viewer = new RemoteStore({ url, token: issued[0]!.token, timeoutMs: 10_000 });
    try {
      let seq = 0;
      viewer.onSeq = (s) => void (seq = s);
      await viewer.start();
      let told = 0;
      viewer.subscribe(() => void (told += 1));
      const tick = async (at: number) => {
        driver.dispatch({ type: 'tick', at });
        await Promise.resolve(); // the server's flush (a microtask) has sent the patch
        const want = server.sequence;
        const t0 = Date.now();
        while (seq < want && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
        expect(seq).toBe(want);
      };
      await tick(T0 + 300);
      await tick(T0 + 600);
      expect(told).toBe(0);
      await tick(T0 + 1000);
      expect(told).toBe(1);
      expect(viewer.getState().now).toBe(T0 + 1000);
    } finally {
      viewer.close();
      await server.close();
    }
  });
});

describe('the validated-plan cache (built CLI)', () => {
  it('caches a valid plan, never hides an error in an edited one, and shrugs off a damaged cache file', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'canary-plan-cache-'));
    try {
      const cli = new URL('../dist/canary.mjs', import.meta.url).pathname;
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
      const planFile = join(dir, 'plan.yaml');
      const text = readFileSync(new URL('../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8');
      writeFileSync(planFile, text);
      const validate = () => spawnSync(process.execPath, [cli, 'validate', planFile], { env, encoding: 'utf8' });
      const first = validate();
      expect(first.status).toBe(0);
      const cached = readdirSync(join(dir, 'cache', 'canary', 'plans'));
      expect(cached).toHaveLength(1);
      expect(validate().stdout).toBe(first.stdout); // from the cache: the same summary
      // Edited into an invalid plan: validated again, the error with its line, whatever is cached.
      writeFileSync(planFile, `${text}bogusKey: 1\n`);
      const bad = validate();
      expect(bad.status).not.toBe(0);
      expect(bad.stderr + bad.stdout).toMatch(/plan\.yaml:\d+:1: bogusKey: unknown key/);
      // A damaged cache file is ignored.
      writeFileSync(planFile, text);
      writeFileSync(join(dir, 'cache', 'canary', 'plans', cached[0]!), '{not json');
      expect(validate().stdout).toBe(first.stdout);
      expect(execFileSync(process.execPath, [cli, 'validate', planFile], { env: { ...env, CANARY_PLAN_CACHE: 'off' }, encoding: 'utf8' })).toBe(first.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is used only when its checksum matches and no one else could have written it (its plan is not validated again)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, rmSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'canary-plan-cache-'));
    try {
      const cli = new URL('../dist/canary.mjs', import.meta.url).pathname;
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
      const planFile = new URL('../config/maestro-conductor-rc.yaml', import.meta.url).pathname;
      const validate = () => spawnSync(process.execPath, [cli, 'validate', planFile], { env, encoding: 'utf8' });
      const first = validate();
      expect(first.status).toBe(0);
      const plans = join(dir, 'cache', 'canary', 'plans');
      const file = join(plans, readdirSync(plans)[0]!);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(plans).mode & 0o777).toBe(0o700);
      const [sum, json] = [readFileSync(file, 'utf8').slice(0, 64), readFileSync(file, 'utf8').slice(65)];
      expect(createHash('sha256').update(json).digest('hex')).toBe(sum);
      // What a planted plan would change: the summary names the plan.
      const planted = json.replace('"maestro-conductor-vnext-rc"', '"planted-plan"');
      expect(planted).not.toBe(json);
      // Edited, its checksum left as it was: validated again, the file's own plan.
      writeFileSync(file, `${sum}\n${planted}`);
      expect(validate().stdout).toBe(first.stdout);
      // Edited with a matching checksum, but writable by the group: not trusted either.
      writeFileSync(file, `${createHash('sha256').update(planted).digest('hex')}\n${planted}`);
      chmodSync(file, 0o664);
      expect(validate().stdout).toBe(first.stdout);
      // The same file, this user's alone: it is used as it is (what the two checks above stand between).
      writeFileSync(file, `${createHash('sha256').update(planted).digest('hex')}\n${planted}`);
      chmodSync(file, 0o600);
      expect(validate().stdout).toContain('planted-plan');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
