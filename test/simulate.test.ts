// What the simulated world produces for an SLI is the plan's `slis[].simulate`, never the SLI's
// name; a plan run on that world must say it for every SLI (a file:line:col error otherwise).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/engine/types.js';
import { loadPlanText } from '../src/plan/loader.js';
import type { Plan, Sli } from '../src/plan/schema.js';
import { DEMO_START } from '../src/sim/clock.js';
import { SimWorld } from '../src/sim/world.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const planText = readFileSync(join(root, 'config/maestro-conductor-rc.yaml'), 'utf8');
const loaded = loadPlanText(planText, 'maestro-conductor-rc.yaml', { simulated: true });
if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
const plan = loaded.plan;
const MIN = 60_000;

/** The canary's value of each SLI after `minutes` of healthy traffic at 50%. */
async function canaryValues(slis: Sli[], minutes = 10): Promise<Record<string, number | null>> {
  const w = new SimWorld({ plan: { ...plan, slis } as Plan, scenario: 'healthy', seed: 3, start: DEMO_START, actuationDelayMs: 0 });
  await w.setWeight(50, plan.target.regions);
  let last: EngineEvent | undefined;
  for (let m = 1; m <= minutes; m++) for (const e of w.advanceTo(DEMO_START + m * MIN)) if (e.type === 'sli.samples') last = e;
  if (last?.type !== 'sli.samples') throw new Error('no samples');
  return Object.fromEntries(last.samples.filter((s) => s.track === 'canary').map((s) => [s.sli, s.value]));
}

describe('simulate: what the simulated world computes for an SLI', () => {
  it('the plan says it for every SLI', () => {
    expect(plan.slis.filter((s) => !s.simulate).map((s) => s.name)).toEqual([]);
    expect(plan.slis.find((s) => s.name === 'latency_p95')!.simulate).toEqual({ kind: 'latency_quantile', quantile: 0.95 });
  });

  it('comes from simulate, not from the name', async () => {
    const p95 = plan.slis.find((s) => s.name === 'latency_p95')!;
    const v = await canaryValues([
      p95,
      // Named like a known SLI, but without simulate: no value (the name alone means nothing).
      { ...p95, name: 'availability', simulate: undefined },
      // Any name, with simulate: the median latency and the request rate.
      { ...p95, name: 'checkout_p50', simulate: { kind: 'latency_quantile', quantile: 0.5 } },
      { ...p95, name: 'hits', unit: 'rps', query: 'sum(rate(http_requests_total{track="$track"}[5m]))', simulate: { kind: 'rate', counter: 'requests' } },
    ]);
    expect(v.availability).toBeNull();
    expect(v.latency_p95).toBeGreaterThan(150);
    expect(v.checkout_p50).toBeGreaterThan(50);
    expect(v.checkout_p50).toBeLessThan(v.latency_p95!);
    // 50% of ~833 requests/s, within the diurnal cycle and noise.
    expect(v.hits).toBeGreaterThan(250);
    expect(v.hits).toBeLessThan(600);
  });

  it('simulate.window overrides the range written in the query', async () => {
    const rate = plan.slis.find((s) => s.name === 'request_rate')!;
    // increase over the query's [5m] is about five times the increase over a 1m window.
    const v = await canaryValues([
      { ...rate, name: 'five', simulate: { kind: 'increase', counter: 'requests' } },
      { ...rate, name: 'one', simulate: { kind: 'increase', counter: 'requests', window: '1m' } },
    ]);
    expect(v.five! / v.one!).toBeGreaterThan(4);
    expect(v.five! / v.one!).toBeLessThan(6);
  });

  it('an SLI without simulate is a file:line:col error when the plan runs on the simulated world', () => {
    const text = planText.replace(/^    simulate: \{ kind: error_rate \}\n/m, '');
    expect(text).not.toBe(planText);
    expect(loadPlanText(text, 'plan.yaml').ok).toBe(true); // SLIs from Prometheus: fine
    const r = loadPlanText(text, 'plan.yaml', { simulated: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = text.split('\n').findIndex((l) => l === '  - name: error_rate') + 1;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ file: 'plan.yaml', line, col: 11, path: 'slis[2].name' });
    expect(r.errors[0]!.message).toMatch(/^SLI "error_rate" has no simulate: the simulated world cannot produce it; add e\.g\. "simulate: \{ kind: availability \}" \(kinds: availability, error_rate, latency_quantile, workflow_success, rate, increase\), or take SLIs from Prometheus \(--sli-source prometheus\)$/);
  });

  it('an unknown simulate kind or counter is refused at its key', () => {
    const text = planText.replace('simulate: { kind: rate, counter: requests }', 'simulate: { kind: rate, counter: request }');
    const r = loadPlanText(text, 'plan.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['slis[4].simulate.counter']);
  });

  it('`canary run` on the simulated world refuses such a plan with file:line:col, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-simulate-'));
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, planText.replace(/^    simulate: \{ kind: error_rate \}\n/m, ''));
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(process.execPath, [join(root, 'dist', 'canary.mjs'), 'run', '--headless', '--no-journal', '--plan', file], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (c) => done({ code: c, stderr: err }));
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:`);
    expect(stderr).toMatch(/plan\.yaml:\d+:11: slis\[2\]\.name: SLI "error_rate" has no simulate/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);
});
