// The load-test actuator: checks the target once more, runs the test on its engine (autocannon in
// process, artillery as a child process), and saves every run as one JSON file. Progress is passed
// on once a second; the runtime turns it, and the outcome, into engine events.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadTest, Plan } from '../plan/schema.js';
import { originOf, targetRefusal } from '../plan/loadtests.js';
import { verifyTargetIdentity } from './target-identity.js';
import { judgeLoad } from '../engine/loadtests.js';
import type { LoadProgress } from '../engine/types.js';
import type { LoadRunner, LoadRunOutcome } from '../runtime/ports.js';
import { startAutocannon, type EngineRun } from './autocannon.js';
import { startArtillery } from './artillery.js';

export interface PlanLoadRunnerOptions {
  plan: Plan;
  /** Where result files go (created when needed). */
  resultsDir: string;
  /** Where relative artillery script paths are looked up, in order. */
  scriptDirs?: string[];
  /** canary's environment (CanaryEnv.vars), for artillery (PATH, $CANARY_ARTILLERY, its environment). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The artillery executable; undefined: $CANARY_ARTILLERY or PATH; null: not installed. */
  artilleryBin?: string | null;
  /** Wall clock for file names and stamps (results are real-time artefacts). */
  wallClock?: () => number;
  /** The simulated service could not have the plan's address (taken by another process) and
   * serves elsewhere: tests aimed at `planned` (an origin) go to `actual` instead, and say so. */
  serviceMoved?: { planned: string; actual: string };
  /** Ask the target who it is before any load (default true; see target-identity.ts). */
  verifyIdentity?: boolean;
}

/** The test as it will run: aimed at the simulated service's real address when it moved. */
export function effectiveTarget(target: string, moved: PlanLoadRunnerOptions['serviceMoved']): string {
  if (!moved) return target;
  const o = originOf(target.replace(/^ws(s?):/, 'http$1:'));
  if (o !== originOf(moved.planned)) return target;
  const u = new URL(target);
  const a = new URL(moved.actual);
  u.hostname = a.hostname;
  u.port = a.port;
  return u.toString().replace(/\/$/, target.endsWith('/') ? '/' : '');
}

export class PlanLoadRunner implements LoadRunner {
  private readonly runs = new Map<number, { run: EngineRun; done: Promise<unknown> }>();

  constructor(private readonly opts: PlanLoadRunnerOptions) {}

  async run(runId: number, declared: LoadTest, onProgress: (p: LoadProgress) => void): Promise<LoadRunOutcome> {
    const plan = this.opts.plan;
    const target = effectiveTarget(declared.target, this.opts.serviceMoved);
    const test: LoadTest = target === declared.target ? declared : { ...declared, target };
    const moved = target === declared.target ? '' : ` (${declared.target} was taken by another process; the simulated service serves ${this.opts.serviceMoved!.actual})`;
    const wall = this.opts.wallClock ?? Date.now;
    const startedAt = wall();
    const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
    const base = `${plan.metadata.name}-${test.name}-${stamp}-run${runId}`;
    let refused = targetRefusal(plan, test.target);
    // The target must say it is the service this plan means before it gets any load.
    if (!refused && this.opts.verifyIdentity !== false) refused = await verifyTargetIdentity(test.target, plan.metadata.name);
    let run: EngineRun;
    if (refused) {
      run = { done: Promise.resolve({ outcome: 'failed', detail: `refused: ${refused}`, summary: null }), stop: () => undefined };
    } else if (test.engine === 'artillery') {
      try {
        mkdirSync(this.opts.resultsDir, { recursive: true });
      } catch {
        /* reported when the result is saved */
      }
      run = startArtillery(test, { plan, reportFile: join(this.opts.resultsDir, `${base}-${test.output ?? 'artillery-report.json'}`), scriptDirs: this.opts.scriptDirs ?? [process.cwd()], ...(this.opts.env ? { env: this.opts.env } : {}), ...(this.opts.artilleryBin !== undefined ? { bin: this.opts.artilleryBin } : {}) }, onProgress);
    } else {
      run = startAutocannon(test, onProgress);
    }
    const entry = { run, done: run.done };
    this.runs.set(runId, entry);
    try {
      const r = await run.done;
      const criteria = judgeLoad(plan, test, r.summary);
      const passed = r.outcome === 'completed' && (r.summary?.requests ?? 0) > 0 && criteria.every((c) => c.pass);
      const file = join(this.opts.resultsDir, `${base}.json`);
      const record = {
        kind: 'canary/load-test-result',
        plan: plan.metadata.name,
        release: plan.metadata.release,
        test: test.name,
        engine: test.engine,
        target: test.target,
        runId,
        startedAt: new Date(startedAt).toISOString(),
        endedAt: new Date(wall()).toISOString(),
        outcome: r.outcome,
        passed,
        detail: r.detail + moved,
        summary: r.summary,
        criteria,
        declared: test,
        ...(r.extra && typeof r.extra === 'object' ? r.extra : {}),
      };
      try {
        mkdirSync(this.opts.resultsDir, { recursive: true });
        writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
        return { outcome: r.outcome, detail: r.detail + moved, summary: r.summary, file };
      } catch (err) {
        return { outcome: r.outcome, detail: `${r.detail}; the result could not be saved to ${file}: ${err instanceof Error ? err.message : String(err)}`, summary: r.summary };
      }
    } finally {
      this.runs.delete(runId);
    }
  }

  stop(runId: number): void {
    this.runs.get(runId)?.run.stop();
  }

  async close(): Promise<void> {
    const all = [...this.runs.values()];
    for (const r of all) r.run.stop();
    await Promise.all(all.map((r) => r.done));
  }
}
