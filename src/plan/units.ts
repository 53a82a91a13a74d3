// What an SLI measured in each unit can be: a percentage is 0 to 100; a latency, a rate and a count
// are never negative. A leaf without zod: the plan's checks use it for thresholds; a value measured
// outside it is invalid data (src/engine/evidence.ts says the same of samples).

export type SliUnit = 'percent' | 'ms' | 'count' | 'rps';

export const UNIT_RANGE: Readonly<Record<SliUnit, { min: number; max: number; what: string }>> = {
  percent: { min: 0, max: 100, what: 'a percentage (0 to 100)' },
  ms: { min: 0, max: Infinity, what: 'a latency in ms (never negative)' },
  rps: { min: 0, max: Infinity, what: 'a rate (never negative)' },
  count: { min: 0, max: Infinity, what: 'a count (never negative)' },
};

type Op = '<' | '<=' | '>' | '>=' | '==';

/** For a threshold outside what `unit` can measure: whether `measured op threshold` is then always
 * or never true. Null when the threshold is a value the SLI can take. */
export function impossibleThreshold(op: Op, threshold: number, unit: SliUnit): 'always' | 'never' | null {
  const { min, max } = UNIT_RANGE[unit];
  if (threshold > max) return op === '<' || op === '<=' ? 'always' : 'never';
  if (threshold < min) return op === '>' || op === '>=' ? 'always' : 'never';
  return null;
}
