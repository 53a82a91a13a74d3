// What the clusters read against what canary set there (drift), and when a rollback makes sense.
// Pure: used by reduce (holds, the external-rollback rule, the rollback command) and by gates
// (drift blocks every gate, so a console never re-applies weights someone just took away).
import type { CompiledPlan } from './compiled.js';
import type { RolloutState } from './types.js';

/** Traffic is on the canary (running or paused in a phase). */
export function trafficOn(s: RolloutState): boolean {
  return (s.status === 'running' || s.status === 'paused') && s.phaseIndex >= 0;
}

/** The weight canary expects a cluster serving `regions` to read; null: nothing to compare. */
export function expectedWeight(cp: CompiledPlan, s: RolloutState, regions: string[]): number | null {
  if (s.status === 'pending') return null;
  if (s.status === 'completed') return s.appliedWeight;
  const phase = cp.phases[s.phaseIndex];
  const inPhase = trafficOn(s) && phase !== undefined && regions.some((r) => phase.regions.includes(r));
  return inPhase ? s.appliedWeight : 0;
}

/** One line per cluster that reads another weight than canary set; empty when they agree, while a
 * change is under way, or where the last change itself failed in that cluster (its result says so). */
export function trafficDrift(cp: CompiledPlan, s: RolloutState): string[] {
  if (Object.keys(s.pending).length) return [];
  const out: string[] = [];
  for (const [cluster, t] of Object.entries(s.traffic)) {
    if (t.weight === null) continue;
    const expected = expectedWeight(cp, s, t.regions);
    if (expected === null || expected === t.weight) continue;
    const own = s.actuation && !s.actuation.ok ? s.actuation.clusters.find((c) => c.cluster === cluster) : undefined;
    if (own && own.weight === t.weight) continue; // canary's own failed change, already a hold
    out.push(`${cluster} reads ${t.weight}%, canary set ${expected}%`);
  }
  return out;
}

/** Whether a rollback can do something, and from which weight; `why` when it cannot. Allowed while
 * traffic is on the canary, to retry a rollback that was not confirmed, and whenever a cluster
 * reads traffic on the canary (a read-only terminal, or a rollout this terminal did not start). */
export function rollbackScope(s: RolloutState): { ok: true; fromWeight: number } | { ok: false; why: string } {
  const observed = Math.max(0, ...Object.values(s.traffic).map((t) => t.weight ?? 0));
  if (s.status === 'running' || s.status === 'paused' || s.status === 'completed') return { ok: true, fromWeight: Math.max(s.desiredWeight, observed) };
  if (s.status === 'rolled-back' && s.actuation?.type === 'rollback' && !s.actuation.ok && !Object.keys(s.pending).length)
    return { ok: true, fromWeight: Math.max(s.rollback?.fromWeight ?? 0, observed) };
  if (observed > 0) return { ok: true, fromWeight: observed };
  if (s.status === 'rolled-back') return { ok: false, why: 'already rolled back' };
  return { ok: false, why: 'no traffic is on the canary' };
}
