// What the embedded simulated world produces for an SLI: said in the plan (`slis[].simulate`), never
// guessed from the SLI's name. The world keeps Prometheus-like cumulative counters per track
// (src/sim/counters.ts) and computes each SLI from them the way its query would; `simulate` says
// which computation. An SLI without it has no simulated value: a plan whose SLIs come from the
// simulated world (`canary start`, `run` without --sli-source prometheus) must give one to each.
import { z } from 'zod';
import { Duration } from './duration-schema.js';

/** The world's counters, by the Prometheus metric they stand for. */
export const SIM_COUNTERS = {
  requests: 'http_requests_total',
  errors: 'http_requests_total{code=~"5.."}',
  workflows: 'workflows_total',
  workflow_failures: 'workflow_failures_total',
  safety_violations: 'safety_violations_total',
  security_violations: 'safety_violations_total{kind="security"}',
  critical_errors: 'critical_errors_total',
  data_integrity_failures: 'data_integrity_failures_total',
  memory_leaks: 'memory_leak_detections_total',
  customer_complaints: 'customer_complaints_total',
  security_incidents: 'security_incidents_total',
} as const;
export type SimCounter = keyof typeof SIM_COUNTERS;
const Counter = z.enum(Object.keys(SIM_COUNTERS) as [SimCounter, ...SimCounter[]]);

/** The range the computation looks back over; default: the one written in the query (`[5m]`), else 5m. */
const window = Duration.optional();

export const Simulate = z.discriminatedUnion('kind', [
  /** 100 x (1 - 5xx / requests), percent. */
  z.strictObject({ kind: z.literal('availability'), window }),
  /** 100 x 5xx / requests, percent. */
  z.strictObject({ kind: z.literal('error_rate'), window }),
  /** histogram_quantile(quantile) of the request latency histogram, in ms. */
  z.strictObject({ kind: z.literal('latency_quantile'), quantile: z.number().min(0).max(1), window }),
  /** 100 x (1 - workflow failures / workflows), percent. */
  z.strictObject({ kind: z.literal('workflow_success'), window }),
  /** rate(counter[window]): per second. */
  z.strictObject({ kind: z.literal('rate'), counter: Counter, window }),
  /** increase(counter[window]): a count. */
  z.strictObject({ kind: z.literal('increase'), counter: Counter, window }),
]);
export type Simulate = z.infer<typeof Simulate>;

/** The SLIs the simulated world cannot produce, as plan problems (for a plan run on that world). */
export function simulationProblems(plan: { slis: readonly { name: string; simulate?: Simulate | undefined }[] }): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  plan.slis.forEach((s, i) => {
    if (!s.simulate)
      problems.push({
        path: ['slis', i, 'name'],
        message: `SLI "${s.name}" has no simulate: the simulated world cannot produce it; add e.g. "simulate: { kind: availability }" (kinds: ${Simulate.options.map((o) => o.shape.kind.value).join(', ')}), or take SLIs from Prometheus (--sli-source prometheus)`,
      });
  });
  return problems;
}
