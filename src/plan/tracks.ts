// What `$track` becomes in an SLI query, per track. Kept apart from schema.ts so that the engine
// (which asks it) does not load zod on a start from the cached plan.

/** What of a plan says it (structural: this leaf module imports nothing). */
interface PlanTracks {
  analysis: { tracks: { canary: string; baseline: string; stable?: string | undefined } };
  target: { selectors: { stable: Record<string, string> } };
}
/** The tracks an SLI query is sent for: the canary, its baseline, and the stable fleet. */
export type SliTrack = 'canary' | 'baseline' | 'stable';

/** What `$track` becomes for each track: `analysis.tracks`, the stable one defaulting to the `track`
 * label of `target.selectors.stable`, else "stable". */
export function trackLabels(plan: PlanTracks): Record<SliTrack, string> {
  const t = plan.analysis.tracks;
  return { canary: t.canary, baseline: t.baseline, stable: t.stable ?? plan.target.selectors.stable['track'] ?? 'stable' };
}

