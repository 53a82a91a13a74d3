// The pods table's model, apart from React: health of a pod, the stable sort order, the filter,
// and the title's counts. Sorting 3,000 pods is the expensive part, so callers memoize `podRows`
// on `state.podsVersion` (see usePodRows in PodsPane.tsx) and only slice a window per frame.
import type { PodInfo } from '../src/engine/types.js';

export type Health = 'ok' | 'crash' | 'waiting';

/** Reasons kubectl shows for a container that failed (drawn ✗). */
const CRASH_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'OOMKilled',
  'Error',
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'RunContainerError',
  'ContainerCannotRun',
  'Evicted',
]);

/** crash (✗): a failed container; waiting (!): Pending or not ready; ok otherwise. */
export function podHealth(p: PodInfo): Health {
  if (CRASH_REASONS.has(p.reason) || p.phase === 'Failed') return 'crash';
  if (p.phase === 'Pending' || p.phase === 'Unknown' || (!p.ready && p.phase !== 'Succeeded')) return 'waiting';
  return 'ok';
}

export const HEALTH_GLYPH: Record<Health, string> = { ok: ' ', crash: '✗', waiting: '!' };

export interface PodRow {
  pod: PodInfo;
  health: Health;
  /** Lowercased "name region track reason", what the filter searches. */
  search: string;
}

export interface PodCounts {
  total: number;
  canary: number;
  stable: number;
  other: number;
  /** Unhealthy pods by what is wrong, most frequent first: ✗ CrashLoopBackOff 2, ! Pending 1. */
  problems: { health: Exclude<Health, 'ok'>; label: string; count: number }[];
}

export interface PodModel {
  rows: PodRow[];
  counts: PodCounts;
  /** Widest region and status, for column widths. */
  regionWidth: number;
  statusWidth: number;
}

const TRACK_RANK: Record<string, number> = { canary: 0, baseline: 1, stable: 2, unknown: 3 };

/** Canary first, then region, then name (stable under updates: no timestamps in the key). */
function comparePods(a: PodRow, b: PodRow): number {
  const ta = TRACK_RANK[a.pod.track] ?? 9;
  const tb = TRACK_RANK[b.pod.track] ?? 9;
  if (ta !== tb) return ta - tb;
  if (a.pod.region !== b.pod.region) return a.pod.region < b.pod.region ? -1 : 1;
  if (a.pod.name !== b.pod.name) return a.pod.name < b.pod.name ? -1 : 1;
  return a.pod.key < b.pod.key ? -1 : a.pod.key > b.pod.key ? 1 : 0;
}

/** All pods, sorted, with health and counts. O(n log n): memoize on podsVersion. */
export function podModel(pods: Record<string, PodInfo>): PodModel {
  const rows: PodRow[] = [];
  let canary = 0;
  let stable = 0;
  let other = 0;
  let regionWidth = 6;
  let statusWidth = 6;
  const problems = new Map<string, { health: Exclude<Health, 'ok'>; label: string; count: number }>();
  for (const key in pods) {
    const pod = pods[key]!;
    const health = podHealth(pod);
    rows.push({ pod, health, search: `${pod.name} ${pod.region} ${pod.track} ${pod.reason}`.toLowerCase() });
    if (pod.track === 'canary') canary += 1;
    else if (pod.track === 'stable') stable += 1;
    else other += 1;
    if (pod.region.length > regionWidth) regionWidth = pod.region.length;
    if (pod.reason.length > statusWidth) statusWidth = pod.reason.length;
    if (health !== 'ok') {
      const label = health === 'waiting' && pod.phase === 'Running' && !pod.ready ? 'not ready' : pod.reason || pod.phase;
      const k = `${health}:${label}`;
      const cur = problems.get(k);
      if (cur) cur.count += 1;
      else problems.set(k, { health, label, count: 1 });
    }
  }
  rows.sort(comparePods);
  const list = [...problems.values()].sort((a, b) => (a.health !== b.health ? (a.health === 'crash' ? -1 : 1) : b.count - a.count));
  return { rows, counts: { total: rows.length, canary, stable, other, problems: list }, regionWidth, statusWidth };
}

/** The rows matching `filter` (substring, case-insensitive). O(n); memoize on (model, filter). */
export function filterRows(rows: PodRow[], filter: string): PodRow[] {
  const f = filter.trim().toLowerCase();
  if (!f) return rows;
  const out: PodRow[] = [];
  for (const r of rows) if (r.search.includes(f)) out.push(r);
  return out;
}
