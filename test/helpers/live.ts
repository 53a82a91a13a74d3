// The whole loop against a real Prometheus: the simulated world serves /metrics, a Prometheus we
// start scrapes it every second, the PrometheusSource queries the plan's PromQL, the runtime
// reduces, and the world is the traffic actuator. Shared by the integration test and the bench.
import type { Plan } from '../../src/plan/schema.js';
import { initialState, reduce } from '../../src/engine/reduce.js';
import type { Effect, RolloutState, SliSample } from '../../src/engine/types.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { Clock } from '../../src/runtime/ports.js';
import { SimCrew } from '../../src/sim/crew.js';
import { SimWorld } from '../../src/sim/world.js';
import { startExporter, type Exporter } from '../../src/sim/exporter.js';
import { atOnce } from '../../src/sim/scenarios.js';
import { PrometheusClient } from '../../src/sources/prometheus.js';
import { PrometheusSource } from '../../src/sources/prometheus-source.js';
import { startPrometheus, type PrometheusHandle } from './prometheus.js';

const HOUR = 3_600_000;

/** An engine state that is running at `weight`, reached by fast-forwarding the plan with healthy
 * samples and the simulated crew, ending shortly before `now`. */
export function stateAtWeight(plan: Plan, weight: number, now: number): RolloutState {
  const start = now - 20 * 24 * HOUR;
  let s = initialState(plan, start);
  const crew = new SimCrew(plan);
  const healthy: Record<string, number> = { availability: 99.97, latency_p95: 220, error_rate: 0.03, workflow_success_rate: 99.9, request_rate: 8 };
  const send = (e: Parameters<typeof reduce>[2]) => {
    const r = reduce(plan, s, e);
    s = r.state;
    for (const eff of r.effects) {
      if (eff.type === 'set-weight') send({ type: 'effect.result', at: s.now, effectId: eff.id, ok: true, detail: 'ok', weight: eff.weight });
      // The crew's checklist checks answer (rules 3: an item with a check is ticked by it, and the crew waits for it).
      if (eff.type === 'run-command') send({ type: 'command.result', at: s.now, runId: eff.id, ok: true, exitCode: 0, detail: 'exited 0' });
    }
  };
  for (let t = start, k = 0; s.desiredWeight < weight && t < now; t += 60_000, k++) {
    const samples: SliSample[] = plan.slis.flatMap((x) => [
      { sli: x.name, track: 'canary' as const, value: (healthy[x.name] ?? 0) * (1 + ((k % 7) - 3) * 1e-4) },
      { sli: x.name, track: 'baseline' as const, value: (healthy[x.name] ?? 0) * (1 + ((k % 5) - 2) * 1e-4) },
      { sli: x.name, track: 'stable' as const, value: (healthy[x.name] ?? 0) * (1 + ((k % 5) - 2) * 1e-4) },
    ]);
    send({ type: 'sli.samples', at: t, samples });
    for (const e of crew.decide(s)) send(e);
  }
  if (s.desiredWeight !== weight || s.status !== 'running') throw new Error(`fast-forward ended at ${s.desiredWeight}% (${s.status}), wanted ${weight}%`);
  return s;
}

export interface LiveLoop {
  runtime: Runtime;
  world: SimWorld;
  source: PrometheusSource;
  prometheus: PrometheusHandle;
  /** Injects the fault now; resolves when the engine has rolled back, with the rollback effect
   * and the real milliseconds from the first bad request to the effect. */
  breakAndWait(scenario: Parameters<typeof atOnce>[0], timeoutMs: number): Promise<{ effect: Extract<Effect, { type: 'rollback' }>; ms: number }>;
  /** Waits until Prometheus has answered every ratio SLI for both tracks. */
  waitForData(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Null when there is no prometheus binary and CI is not set (startPrometheus's rule). */
export async function startLiveLoop(plan: Plan, opts: { weight: number; periodMs?: number }): Promise<LiveLoop | null> {
  const clock: Clock = { now: () => Date.now(), speed: 1 };
  const now = Date.now();
  const world = new SimWorld({ plan, scenario: 'healthy', seed: 7, start: now, actuationDelayMs: 5 });
  await world.setWeight(opts.weight, plan.target.regions);
  let exporter: Exporter | null = null;
  let prometheus: PrometheusHandle | null = null;
  try {
    exporter = await startExporter({ world, clock }); // advances the world on every scrape
    prometheus = await startPrometheus({ scrapeTargets: [new URL(exporter.url).host], scrapeIntervalS: 1 });
  } catch (err) {
    await exporter?.close();
    throw err;
  }
  if (!prometheus) {
    await exporter.close();
    return null;
  }
  const client = new PrometheusClient({ url: prometheus.url, timeoutMs: 2_000 });
  const source = new PrometheusSource({ plan, client, clock, periodMs: opts.periodMs ?? 250 });
  const runtime = new Runtime({ plan, clock, sources: [source], traffic: world, initial: stateAtWeight(plan, opts.weight, now - 60_000), tickMs: 250 });
  runtime.start();
  const ex = exporter;
  const prom = prometheus;

  const waitFor = async (what: string, timeoutMs: number, ok: () => boolean) => {
    const end = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    runtime,
    world,
    source,
    prometheus: prom,
    async waitForData(timeoutMs) {
      const since = Date.now();
      await waitFor('Prometheus to answer the ratio SLIs on both tracks', timeoutMs, () => {
        const s = runtime.getState();
        return ['availability', 'latency_p95', 'error_rate'].every((n) => {
          const sli = s.slis[n];
          return sli !== undefined && sli.lastAt !== null && sli.lastAt >= since;
        });
      });
    },
    async breakAndWait(scenario, timeoutMs) {
      world.advanceTo(clock.now()); // the fault starts now, not at the last scrape
      const t0 = Date.now();
      world.inject(atOnce(scenario));
      await waitFor('the rollback effect', timeoutMs, () => runtime.effects.some((e) => e.type === 'rollback'));
      const effect = runtime.effects.find((e): e is Extract<Effect, { type: 'rollback' }> => e.type === 'rollback')!;
      return { effect, ms: Date.now() - t0 };
    },
    async stop() {
      await runtime.stop();
      client.close();
      await prom.stop();
      await ex.close();
    },
  };
}
