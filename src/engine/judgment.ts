// The engine's side of the canary-versus-baseline judgment: turns its per-SLI series into the
// judge's input. Lives here, not in src/analysis, so that analysis never imports the engine.
import type { MetricInput } from '../analysis/judge.js';
import type { Sli } from '../plan/schema.js';
import { valuesSince } from './series.js';
import type { SliState } from './types.js';

export interface MetricsFromSlisOptions {
  /** Only samples at or after this time (ms) count: the analysis window. Default: all samples held. */
  since?: number;
  /** Keep samples at least this far apart (newest first), so overlapping query windows do not
   * count as independent observations. Default 0: every sample. */
  spacingMs?: number;
  /** The group of each SLI. Default: one group, "slis". */
  group?: (sli: Pick<Sli, 'name' | 'direction' | 'unit'>) => string;
  /** Names of SLIs whose failure fails the judgment whatever the score. */
  critical?: readonly string[];
  /** Which SLIs to judge. Default: every SLI except traffic volumes (unit "rps"): a canary at 1%
   * serves a fraction of the baseline's requests, so its request rate is "Low" by design. */
  include?: (sli: Pick<Sli, 'name' | 'direction' | 'unit'>) => boolean;
}

/** The judge's input from the plan's SLIs and the engine's per-SLI series (pure; an SLI without a
 * series gets empty samples and so comes out NoData). */
export function metricsFromSlis(
  slis: readonly Pick<Sli, 'name' | 'direction' | 'unit'>[],
  state: Readonly<Record<string, SliState>>,
  opts: MetricsFromSlisOptions = {},
): MetricInput[] {
  const since = opts.since ?? -Infinity;
  const include = opts.include ?? ((s) => s.unit !== 'rps');
  const critical = new Set(opts.critical ?? []);
  const pick = (series: SliState['canary'] | undefined): (number | null)[] => {
    if (!series) return [];
    return valuesSince(series, since, opts.spacingMs ?? 0);
  };
  return slis.filter(include).map((sli) => ({
    name: sli.name,
    group: opts.group?.(sli) ?? 'slis',
    direction: sli.direction,
    critical: critical.has(sli.name),
    canary: pick(state[sli.name]?.canary),
    baseline: pick(state[sli.name]?.baseline),
  }));
}
