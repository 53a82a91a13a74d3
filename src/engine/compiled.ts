// The plan in the units the engine works in (milliseconds, indexes), computed once per plan.
import type { Criterion, Plan, TripRule } from '../plan/schema.js';
import { parseDuration } from '../plan/duration.js';
import { trafficSli } from '../plan/traffic-sli.js';

export interface CompiledStep {
  weight: number;
  minMs: number;
  maxMs: number;
  auto: boolean;
}

export interface CompiledPhase {
  index: number;
  id: string;
  title: string;
  steps: CompiledStep[];
  checkpoints: { atMs: number; title: string }[];
  approvals: { role: string; when: 'always' | 'weekend-or-holiday' }[];
  regions: string[];
  criteria: Criterion[];
}

export type CompiledRule = TripRule & {
  group: 'automatic' | 'circuit-breaker' | 'immediate';
  /** How long a value rule's condition must hold (0 for other kinds). */
  forMs: number;
};

export interface CompiledPlan {
  plan: Plan;
  phases: CompiledPhase[];
  rules: CompiledRule[];
  intervalMs: number;
  windowMs: number;
  noDataMs: number;
  staleMs: number;
  roleTitles: Record<string, string>;
  sliByName: Record<string, Plan['slis'][number]>;
  judgmentLookbackMs: number;
  judgmentEveryMs: number;
  /** The SLI that counts the canary's requests per second (plan/traffic-sli.ts), or null. */
  trafficSli: string | null;
}

const cache = new WeakMap<Plan, CompiledPlan>();

const ms = (d: string | undefined, fallback = 0): number => (d === undefined ? fallback : parseDuration(d) ?? fallback);
const forMs = (r: TripRule): number => (r.kind === 'value' || r.kind === 'relative' ? ms(r.for) : 0);

export function compile(plan: Plan): CompiledPlan {
  const hit = cache.get(plan);
  if (hit) return hit;
  const phases: CompiledPhase[] = plan.phases.map((p, index) => ({
    index,
    id: p.id,
    title: p.title,
    steps: p.steps.map((s) => {
      const minMs = ms(s.bake.min);
      return { weight: s.weight, minMs, maxMs: ms(s.bake.max, minMs), auto: s.auto };
    }),
    checkpoints: p.checkpoints.map((c) => ({ atMs: ms(c.at), title: c.title })).sort((a, b) => a.atMs - b.atMs),
    approvals: p.approvals.map((a) => ({ role: a.role, when: a.when })),
    regions: p.regions === 'all' ? [...plan.target.regions] : [...p.regions],
    criteria: [...(p.successCriteria ?? plan.successCriteria), ...plan.safetyThresholds],
  }));
  const rules: CompiledRule[] = [
    ...plan.rollback.immediate.map((r) => ({ ...r, group: 'immediate' as const, forMs: forMs(r) })),
    ...plan.rollback.automatic.map((r) => ({ ...r, group: 'automatic' as const, forMs: forMs(r) })),
    ...plan.rollback.circuitBreakers.map((r) => ({ ...r, group: 'circuit-breaker' as const, forMs: forMs(r) })),
  ];
  const compiled: CompiledPlan = {
    plan,
    phases,
    rules,
    intervalMs: ms(plan.analysis.interval, 60_000),
    windowMs: ms(plan.analysis.window, 300_000),
    noDataMs: ms(plan.analysis.noDataAfter, 600_000),
    staleMs: ms(plan.analysis.staleAfter, 180_000),
    roleTitles: Object.fromEntries(plan.roster.roles.map((r) => [r.id, r.title])),
    sliByName: Object.fromEntries(plan.slis.map((s) => [s.name, s])),
    judgmentLookbackMs: ms(plan.analysis.judgment?.lookback, 1_800_000),
    judgmentEveryMs: ms(plan.analysis.judgment?.every, ms(plan.analysis.interval, 60_000)),
    trafficSli: trafficSli(plan),
  };
  cache.set(plan, compiled);
  return compiled;
}

/** The threshold a value rule compares the canary with: its `value`, or `baselineFactor` x the
 * baseline held to its `minimum` (the floor on the side the rule trips). Null when it needs a
 * baseline and there is none. The engine trips on it; the views show it. */
export function ruleThreshold(r: TripRule, baseline: number | null): number | null {
  if (r.kind === 'relative') {
    if (baseline === null) return null;
    const t = r.baselineFactor * baseline;
    if (r.minimum === undefined) return t;
    return r.op.startsWith('>') ? Math.max(t, r.minimum) : Math.min(t, r.minimum);
  }
  return r.kind === 'value' ? r.value : null;
}

/** Does `value op threshold` hold? */
export function compare(value: number, op: string, threshold: number): boolean {
  switch (op) {
    case '<': return value < threshold;
    case '<=': return value <= threshold;
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '==': return value === threshold;
    default: return false;
  }
}
