// End to end against a real Prometheus: the simulated canary at 25% starts answering slowly, the
// plan's own PromQL sees it through Prometheus, and the engine rolls back with a reason that names
// the rule, the measured value and the threshold. Under CI=true a missing prometheus is a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedPlan } from './helpers/drive.js';
import { prometheusBinary } from './helpers/prometheus.js';
import { startLiveLoop, type LiveLoop } from './helpers/live.js';

const plan = loadSeedPlan();
const available = prometheusBinary() !== null || Boolean(process.env.CI);

describe.skipIf(!available)('automatic rollback from a real Prometheus', () => {
  let loop: LiveLoop | null = null;
  let setupError: unknown = null;

  beforeAll(async () => {
    try {
      loop = await startLiveLoop(plan, { weight: 25 });
      if (!loop) throw new Error('no prometheus binary (install it: apt-get install -y prometheus)');
      await loop.waitForData(30_000);
    } catch (err) {
      setupError = err;
    }
  }, 60_000);

  afterAll(async () => {
    await loop?.stop();
  });

  it('a latency regression at 25% trips a latency rule; the reason names rule, value and threshold', async () => {
    if (setupError) throw setupError;
    const l = loop!;
    expect(l.runtime.getState().status).toBe('running');
    expect(l.runtime.getState().desiredWeight).toBe(25);
    // Healthy first: the numbers that came through Prometheus pass.
    const before = l.runtime.getState();
    expect(before.slis.latency_p95!.lastAt).not.toBeNull();

    const { effect, ms } = await l.breakAndWait('latency-regression', 45_000);
    console.log(`rollback effect ${ms} ms after the first slow request (Prometheus 1 s scrape, queries every 250 ms)`);
    expect(effect.fromWeight).toBe(25);
    const t = effect.trigger!;
    expect(['latency_degradation', 'latency_p95_threshold']).toContain(t.rule);
    expect(t.sli).toBe('latency_p95');
    expect(t.canary!).toBeGreaterThanOrEqual(t.threshold!);
    expect(effect.reason).toContain(`(${t.rule})`);
    expect(effect.reason).toContain(`${Math.round(t.canary!)}ms >= `);
    expect(effect.reason).toMatch(/\[window 5m\]/);
    expect(t.query).toContain('http_request_duration_seconds_bucket{track="canary"}');
    // The traffic provider (the world) confirmed: no canary traffic any more.
    await new Promise((r) => setTimeout(r, 200));
    expect(l.world.weight).toBe(0);
    expect(l.runtime.getState().appliedWeight).toBe(0);
    expect(l.runtime.getState().status).toBe('rolled-back');
  }, 60_000);
});
