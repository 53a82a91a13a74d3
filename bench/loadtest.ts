// load_test_stop_ms: an embedded (autocannon) load test against the simulated service on
// 127.0.0.1, stopped one second in: from stop() to the run's outcome (the issue asks for < 1 s).
import type { Plan } from '../src/plan/schema.js';
import { PlanLoadRunner } from '../src/actuators/loadtest.js';
import { SimWorld } from '../src/sim/world.js';
import { startSimService } from '../src/sim/serve.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function loadTestStop(plan: Plan, start: number, runs = 3): Promise<number[]> {
  const world = new SimWorld({ plan, scenario: 'healthy', start, seed: 5 });
  await world.setWeight(25, plan.target.regions);
  const svc = await startSimService({ world, host: '127.0.0.1', port: 0, identity: plan.metadata.name });
  const base = plan.loadTests.find((t) => t.engine === 'autocannon')!;
  const test = { ...base, target: `${svc.url}/v1/workflows`, duration: '30s' };
  const runner = new PlanLoadRunner({ plan: { ...plan, loadTests: [test] }, resultsDir: mkdtempSync(join(tmpdir(), 'canary-bench-load-')) });
  const out: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const done = runner.run(i + 1, test, () => undefined);
      await new Promise((r) => setTimeout(r, 1_000));
      const t0 = performance.now();
      runner.stop(i + 1);
      const r = await done;
      if (r.outcome !== 'stopped') throw new Error(`load-test bench: expected a stopped run, got ${r.outcome}: ${r.detail}`);
      out.push(performance.now() - t0);
    }
  } finally {
    await svc.close();
  }
  return out;
}
