// Which world a plan's traffic is moved in: the embedded simulated one (`sim`) or a cluster's
// (every other provider). A leaf, so the wiring can ask without loading the Kubernetes side
// (src/kubernetes.ts, the providers and their zod settings) for a plan that never needs it.
import type { Plan } from './schema.js';

/** True when a Kubernetes traffic provider moves the plan's traffic. */
export function isKubernetesPlan(plan: Pick<Plan, 'traffic'>): boolean {
  return plan.traffic.provider !== 'sim';
}
