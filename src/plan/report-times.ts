// The days and offsets a plan's reports are written with, as the engine reads them. A leaf (no
// zod): the engine schedules reports from a validated plan without loading the schema (./reports.ts
// has the zod shape and the checks).

export const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** Hours after the rollout start of `from` (T+24h -> 24). */
export function fromHours(from: string): number {
  const m = /^T\+?(\d+)h?$/.exec(from);
  return m ? Number(m[1]) : 0;
}
