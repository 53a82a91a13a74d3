// The load-test actuator: checks the target once more, runs the test on its engine (autocannon in
// process, artillery as a child process), and saves every run as one JSON file. Progress is passed
// on once a second; the runtime turns it, and the outcome, into engine events.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadTest, Plan } from '../plan/schema.js';
import { targetRefusal } from '../plan/loadtests.js';
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
  /** The artillery executable; undefined: $CANARY_ARTILLERY or PATH; null: not installed. */
  artilleryBin?: string | null;
  /** Wall clock for file names and stamps (results are real-time artefacts). */
  wallClock?: () => number;
}

export class PlanLoadRunner implements LoadRunner {
  private readonly runs = new Map<number, { run: EngineRun; done: Promise<unknown> }>();

  constructor(private readonly opts: PlanLoadRunnerOptions) {}

  async run(runId: number, test: LoadTest, onProgress: (p: LoadProgress) => void): Promise<LoadRunOutcome> {
    const plan = this.opts.plan;
    const wall = this.opts.wallClock ?? Date.now;
    const startedAt = wall();
    const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
    const base = `${plan.metadata.name}-${test.name}-${stamp}-run${runId}`;
    const refused = targetRefusal(plan, test.target);
    let run: EngineRun;
    if (refused) {
      run = { done: Promise.resolve({ outcome: 'failed', detail: `refused: ${refused}`, summary: null }), stop: () => undefined };
    } else if (test.engine === 'artillery') {
      try {
        mkdirSync(this.opts.resultsDir, { recursive: true });
      } catch {
        /* reported when the result is saved */
      }
      run = startArtillery(test, { plan, reportFile: join(this.opts.resultsDir, `${base}-${test.output ?? 'artillery-report.json'}`), scriptDirs: this.opts.scriptDirs ?? [process.cwd()], ...(this.opts.artilleryBin !== undefined ? { bin: this.opts.artilleryBin } : {}) }, onProgress);
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
        detail: r.detail,
        summary: r.summary,
        criteria,
        declared: test,
        ...(r.extra && typeof r.extra === 'object' ? r.extra : {}),
      };
      try {
        mkdirSync(this.opts.resultsDir, { recursive: true });
        writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
        return { outcome: r.outcome, detail: r.detail, summary: r.summary, file };
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
