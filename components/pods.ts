// The pods table's model, apart from React: health of a pod, the stable sort order, the filter,
// and the title's counts. Sorting 3,000 pods is the expensive part, so callers memoize `podRows`
// on `state.podsVersion` (see usePodRows in PodsPane.tsx) and only slice a window per frame.
import type { PodInfo } from '../src/engine/types.js';
import { truncate } from './format.js';

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
  /** Widest name, region and status, for column widths. */
  nameWidth: number;
  regionWidth: number;
  statusWidth: number;
  /** Widest abbreviated region (`use1`), or null when two regions would abbreviate alike. */
  regionShortWidth: number | null;
}

const TRACK_RANK: Record<string, number> = { canary: 0, baseline: 1, stable: 2, unknown: 3 };
const HEALTH_RANK: Record<Health, number> = { crash: 0, waiting: 1, ok: 2 };

/** Unhealthy first (crashed, then waiting: what needs eyes, never at row 880 of 900), then canary,
 * region and name (stable under updates: no timestamps in the key). */
function comparePods(a: PodRow, b: PodRow): number {
  if (a.health !== b.health) return HEALTH_RANK[a.health] - HEALTH_RANK[b.health];
  const ta = TRACK_RANK[a.pod.track] ?? 9;
  const tb = TRACK_RANK[b.pod.track] ?? 9;
  if (ta !== tb) return ta - tb;
  if (a.pod.region !== b.pod.region) return a.pod.region < b.pod.region ? -1 : 1;
  if (a.pod.name !== b.pod.name) return a.pod.name < b.pod.name ? -1 : 1;
  return a.pod.key < b.pod.key ? -1 : a.pod.key > b.pod.key ? 1 : 0;
}

/** The pods table's sort (`s` cycles them, like k9s's column sort): unhealthy first (the default,
 * comparePods), by name, by age (youngest first: a pod that was just replaced), by restarts (most first). */
export type PodSort = 'health' | 'name' | 'age' | 'restarts';
export const POD_SORTS: readonly PodSort[] = ['health', 'name', 'age', 'restarts'];
/** As the pane title says it. */
export const POD_SORT_LABEL: Record<PodSort, string> = { health: 'unhealthy first', name: 'name', age: 'age', restarts: 'restarts' };

const SORTERS: Record<Exclude<PodSort, 'health'>, (a: PodRow, b: PodRow) => number> = {
  name: (a, b) => (a.pod.name < b.pod.name ? -1 : a.pod.name > b.pod.name ? 1 : 0),
  age: (a, b) => b.pod.startedAt - a.pod.startedAt,
  restarts: (a, b) => b.pod.restarts - a.pod.restarts,
};

/** The model's rows (unhealthy first) in another sort; ties keep the default order. O(n log n). */
export function sortRows(rows: PodRow[], sort: PodSort): PodRow[] {
  if (sort === 'health') return rows;
  const by = SORTERS[sort];
  return [...rows].sort((a, b) => by(a, b) || comparePods(a, b));
}

/** All pods, sorted, with health and counts. O(n log n): memoize on podsVersion. */
export function podModel(pods: ReadonlyMap<string, PodInfo>): PodModel {
  const rows: PodRow[] = [];
  let canary = 0;
  let stable = 0;
  let other = 0;
  let nameWidth = 4;
  let regionWidth = 6;
  let statusWidth = 6;
  const regions = new Set<string>();
  const problems = new Map<string, { health: Exclude<Health, 'ok'>; label: string; count: number }>();
  for (const pod of pods.values()) {
    const health = podHealth(pod);
    rows.push({ pod, health, search: `${pod.name} ${pod.region} ${pod.track} ${pod.reason}`.toLowerCase() });
    if (pod.track === 'canary') canary += 1;
    else if (pod.track === 'stable') stable += 1;
    else other += 1;
    if (pod.name.length > nameWidth) nameWidth = pod.name.length;
    if (pod.region.length > regionWidth) regionWidth = pod.region.length;
    regions.add(pod.region);
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
  const shorts = new Set([...regions].map(abbreviateRegion));
  const regionShortWidth = shorts.size === regions.size ? Math.max(3, ...[...shorts].map((r) => r.length)) : null;
  return { rows, counts: { total: rows.length, canary, stable, other, problems: list }, nameWidth, regionWidth, statusWidth, regionShortWidth };
}

/** The rows matching `filter` (substring, case-insensitive). O(n); memoize on (model, filter). */
export function filterRows(rows: PodRow[], filter: string): PodRow[] {
  const f = filter.trim().toLowerCase();
  if (!f) return rows;
  const out: PodRow[] = [];
  for (const r of rows) if (r.search.includes(f)) out.push(r);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fitting names and regions into the table

const COMPASS: Record<string, string> = {
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};
const shortRegions = new Map<string, string>();

/** A cloud region in the usual short form: us-east-1 -> use1, ap-southeast-2 -> apse2,
 * us-central1 -> usc1; a name without that shape is kept as it is. */
export function abbreviateRegion(region: string): string {
  const hit = shortRegions.get(region);
  if (hit !== undefined) return hit;
  const parts = region.split('-');
  let out = region;
  if (parts.length >= 2 && parts.every((p) => /^[a-z]+\d*$|^\d+$/.test(p))) {
    out = parts
      .map((part, i) => {
        if (i === 0) return part;
        const m = /^([a-z]*)(\d*)$/.exec(part)!;
        const word = m[1]!;
        return `${word ? (COMPASS[word] ?? word[0]) : ''}${m[2]}`;
      })
      .join('');
    if (out.length >= region.length) out = region;
  }
  shortRegions.set(region, out);
  return out;
}

const ASCII = /^[\x20-\x7e]*$/;

/** Whether `name` must be cut to fit `width` the ASCII way (head + … + tail, see cutPodName). */
export function needsCut(name: string, width: number): boolean {
  return name.length > width && width > 2 && ASCII.test(name);
}

/** How many characters of a cut name's end to keep at `width`: its last `-suffix` (the pod's own
 * part: -khjlq) when that leaves the start at least as much room, else half. */
export function podNameTail(name: string, width: number): number {
  const half = Math.floor((width - 1) / 2);
  const dash = name.lastIndexOf('-');
  const suffix = dash > 0 ? name.length - dash : 0; // "-khjlq"
  return suffix > 0 && suffix <= half ? suffix : half;
}

/** The start and the end kept of an ASCII name cut to `width` with its last `tail` characters
 * (the … goes between them). */
export function cutPodName(name: string, width: number, tail: number): { head: string; tail: string } {
  const t = Math.max(0, Math.min(tail, width - 1));
  return { head: name.slice(0, width - 1 - t), tail: t ? name.slice(name.length - t) : '' };
}

/** A pod name cut to `width` from the middle, marked with …, keeping its distinctive ends: the
 * workload's name at the start and the pod's own suffix at the end
 * (orchestrator-canary-pshns-khjlq at 27 -> orchestrator-canary-…-khjlq). Unchanged when it fits. */
export function truncatePodName(name: string, width: number): string {
  if (!needsCut(name, width)) return name.length <= width && ASCII.test(name) ? name : truncate(name, width);
  const cut = cutPodName(name, width, podNameTail(name, width));
  return `${cut.head}…${cut.tail}`;
}
