// Which SLI says how many requests the canary serves: a canary that serves none never passes a
// gate (engine/evidence.ts). Kept apart from schema.ts so that the engine (which asks it) does not
// load zod on a start from the cached plan.

/** What of a plan says it (structural: this leaf module imports nothing). */
interface PlanSlis {
  slis: readonly { name: string; unit: string }[];
  analysis: { trafficSli?: string | undefined };
}

/** The traffic SLI: `analysis.trafficSli`, else the plan's only SLI with unit `rps`; null when the
 * plan has none (validate warns) or several without a name (validate refuses the plan). */
export function trafficSli(plan: PlanSlis): string | null {
  const named = plan.analysis.trafficSli;
  if (named !== undefined) return plan.slis.some((s) => s.name === named && s.unit === 'rps') ? named : null;
  const rps = plan.slis.filter((s) => s.unit === 'rps');
  return rps.length === 1 ? rps[0]!.name : null;
}

export interface TrafficSliProblem {
  path: (string | number)[];
  message: string;
  /** A warning (the plan runs, without a traffic floor), or an error (validate refuses it). */
  level: 'warning' | 'error';
}

const EXAMPLE = 'e.g. { name: request_rate, unit: rps, query: \'sum(rate(http_requests_total{track="$track"}[5m]))\' }';

/** What is wrong with the plan's traffic SLI: named but unknown or not in rps (errors), several
 * rps SLIs and none named (an error: which one is the canary's traffic is the plan's to say), or
 * none at all (a warning: gates then open on a canary that may serve no requests). */
export function trafficSliProblems(plan: PlanSlis): TrafficSliProblem[] {
  const named = plan.analysis.trafficSli;
  const path = ['analysis', 'trafficSli'];
  if (named !== undefined) {
    const sli = plan.slis.find((s) => s.name === named);
    if (!sli) return [{ path, level: 'error', message: `unknown SLI "${named}"; expected one of: ${plan.slis.map((s) => s.name).join(', ')}` }];
    if (sli.unit !== 'rps')
      return [{ path, level: 'error', message: `SLI "${named}" has unit ${sli.unit}; the traffic SLI counts the canary's requests per second (unit: rps), and no gate opens while it reads 0` }];
    return [];
  }
  const rps = plan.slis.map((s, i) => ({ s, i })).filter((x) => x.s.unit === 'rps');
  if (rps.length > 1)
    return [{ path: ['slis', rps[1]!.i, 'unit'], level: 'error', message: `several SLIs have unit rps (${rps.map((x) => x.s.name).join(', ')}): say which one counts the canary's requests with analysis.trafficSli (no gate opens while it reads 0)` }];
  if (rps.length === 0)
    return [{ path: ['slis'], level: 'warning', message: `no SLI has unit rps, so no gate can tell that the canary serves requests: a canary that serves none would pass its gates on empty ratios (a query with "or vector(0)"); add one that counts the canary's requests per second, ${EXAMPLE} (or name it with analysis.trafficSli)` }];
  return [];
}
