// The war room's wire format: a snapshot of the state on join, then compact patches, each with a
// sequence number. The state is plain data except `pods` (a Map) and the SLI series (windows over
// shared buffers); both are sent as plain arrays and rebuilt on the viewer's side.
//
// A patch carries only what changed since the previous one, compared by reference (the engine
// replaces what it changes and keeps the rest): top-level fields whole, pods as upserts and
// deletes by key, series as the points appended, history as the entries appended. With 3,000 pods
// a snapshot is ~0.5 MB; a typical patch (new samples, a tick) is well under 2 KB.
import { append } from '../engine/series.js';
import { PodTable } from '../engine/podtable.js';
import type { PodView } from '../runtime/inspection.js';
import { HISTORY_CAPACITY, SERIES_CAPACITY, type EngineEvent, type HistoryEntry, type PodInfo, type RolloutState, type Series, type SampleNote, type SliState } from '../engine/types.js';

export const PROTOCOL_VERSION = 1;

/** A series on the wire: its window as [times, values]. */
export type WireSeries = [number[], (number | null)[]];

export interface WireSli {
  canary: WireSeries;
  baseline: WireSeries;
  lastAt: number | null;
  canaryNote: SampleNote | null;
  baselineNote: SampleNote | null;
  stableNote?: SampleNote | null;
}

/** RolloutState as JSON: pods as an array, series as windows. */
export type WireState = Omit<RolloutState, 'pods' | 'slis'> & { pods: PodInfo[]; slis: Record<string, WireSli> };

/** Appended points (`a`) or the whole window again (`r`, after the buffer was copied/compacted). */
export type SeriesPatch = { a: WireSeries } | { r: WireSeries };

export interface Patch {
  /** Top-level fields replaced whole. */
  set?: Record<string, unknown>;
  pods?: { up: PodInfo[]; del: string[] };
  slis?: Record<string, { canary?: SeriesPatch; baseline?: SeriesPatch; lastAt: number | null; canaryNote: SampleNote | null; baselineNote: SampleNote | null; stableNote?: SampleNote | null }>;
  /** The common round of samples, compactly: every SLI that changed got one valid value per
   * track at the same time `at` (no warnings), so the points, the notes ({at, status: 'ok',
   * value}) and lastAt follow from the values alone. [canary, baseline, stable?]; null: that track got
   * nothing; the stable fleet's value (a note, no series) only when its note changed, to such a note.
   * ~10x fewer bytes and objects for a viewer to parse than `slis`. */
  pts?: { at: number; v: Record<string, [number | null, number | null] | [number | null, number | null, number]> };
  history?: { append: HistoryEntry[] } | { replace: HistoryEntry[] };
}

/** Who the server says you are (from your token, never from what you send). */
export interface Identity {
  id: string;
  name: string;
  roles: string[];
  /** false: a view-only token. */
  canAct: boolean;
}

export type ServerMessage =
  /** The state as of `seq` (on join, or when the missed updates are no longer kept). */
  | { t: 'snapshot'; v: number; epoch: string; seq: number; plan: string; you: Identity; state: WireState; planText?: string }
  /** Resuming after `seq`: the missed updates follow as ordinary `u` messages. */
  | { t: 'resume'; v: number; epoch: string; seq: number; plan: string; you: Identity }
  | { t: 'u'; seq: number; p: Patch }
  /** What the server made of an action of yours (refusals, the engine's words). */
  | { t: 'said'; id?: number; ok: boolean; text: string }
  /** The pod this terminal looks at (its description and followed log), to this terminal only. */
  | { t: 'pod'; view: PodView | null };

/** What a joined terminal may send: its key presses as events, without actor or time. */
export type ActionEvent =
  | { type: 'command'; command: Extract<EngineEvent, { type: 'command' }>['command'] }
  | { type: 'approve'; phase: string; role: string }
  | { type: 'signal'; name: string; severity?: 'P0' | 'P1' | 'P2'; note?: string };

export type ClientMessage =
  | { t: 'act'; id: number; event: ActionEvent }
  /** Look at a pod (describe + follow its log) for this connection only; null stops. Not an
   * action: it changes nothing, any token may, and it is never journaled. */
  | { t: 'inspect'; key: string | null };

// ---------------------------------------------------------------------------------------------
// state <-> wire

function seriesToWire(s: Series): WireSeries {
  return [s.bt.slice(s.start, s.end), s.bv.slice(s.start, s.end)];
}

function seriesFromWire([t, v]: WireSeries): Series {
  return { bt: t.slice(), bv: v.slice(), start: 0, end: t.length };
}

export function toWire(state: RolloutState): WireState {
  const slis: Record<string, WireSli> = {};
  for (const [name, s] of Object.entries(state.slis)) slis[name] = { canary: seriesToWire(s.canary), baseline: seriesToWire(s.baseline), lastAt: s.lastAt, canaryNote: s.canaryNote, baselineNote: s.baselineNote, stableNote: s.stableNote };
  return { ...state, pods: [...state.pods.values()], slis };
}

export function fromWire(w: WireState): RolloutState {
  const slis: Record<string, SliState> = {};
  for (const [name, s] of Object.entries(w.slis)) slis[name] = { canary: seriesFromWire(s.canary), baseline: seriesFromWire(s.baseline), lastAt: s.lastAt, canaryNote: s.canaryNote ?? null, baselineNote: s.baselineNote ?? null, stableNote: s.stableNote ?? null };
  return { ...w, pods: PodTable.from(w.pods), slis } as RolloutState;
}

// ---------------------------------------------------------------------------------------------
// diff and apply

function diffSeries(o: Series, n: Series): SeriesPatch | undefined {
  if (o === n) return undefined;
  // Same buffers, only appended to: send the new points (the viewer appends them with the same
  // capacity, so its window moves exactly as the driver's).
  if (n.bt === o.bt && n.end >= o.end && n.start >= o.start) {
    if (n.end === o.end && n.start === o.start) return undefined;
    return { a: [n.bt.slice(o.end, n.end), n.bv.slice(o.end, n.end)] };
  }
  return { r: seriesToWire(n) };
}

/** What changed from `prev` to `next`; null when nothing did. */
export function diffState(prev: RolloutState, next: RolloutState): Patch | null {
  if (prev === next) return null;
  const patch: Patch = {};
  let any = false;
  for (const key of Object.keys(next) as (keyof RolloutState)[]) {
    const a = prev[key];
    const b = next[key];
    if (a === b) continue;
    if (key === 'pods') {
      // Shards the change did not touch are the same objects: skipped without a look.
      const { up, del } = PodTable.from(b as RolloutState['pods']).changesSince(a as RolloutState['pods']);
      if (up.length || del.length) {
        patch.pods = { up, del };
        any = true;
      }
    } else if (key === 'slis') {
      const os = a as RolloutState['slis'];
      const ns = b as RolloutState['slis'];
      const out: NonNullable<Patch['slis']> = {};
      let changed = false;
      for (const [name, n] of Object.entries(ns)) {
        const o = os[name];
        if (o === n) continue;
        if (!o) {
          out[name] = { canary: { r: seriesToWire(n.canary) }, baseline: { r: seriesToWire(n.baseline) }, lastAt: n.lastAt, canaryNote: n.canaryNote, baselineNote: n.baselineNote, stableNote: n.stableNote };
          changed = true;
          continue;
        }
        const c = diffSeries(o.canary, n.canary);
        const bl = diffSeries(o.baseline, n.baseline);
        if (!c && !bl && o.lastAt === n.lastAt && o.canaryNote === n.canaryNote && o.baselineNote === n.baselineNote && o.stableNote === n.stableNote) continue;
        out[name] = { ...(c ? { canary: c } : {}), ...(bl ? { baseline: bl } : {}), lastAt: n.lastAt, canaryNote: n.canaryNote, baselineNote: n.baselineNote, stableNote: n.stableNote };
        changed = true;
      }
      if (changed) {
        const pts = compactPoints(os, ns);
        if (pts) patch.pts = pts;
        else patch.slis = out;
        any = true;
      }
    } else if (key === 'history') {
      const oh = a as HistoryEntry[];
      const nh = b as HistoryEntry[];
      const last = oh.at(-1);
      const idx = last === undefined ? -1 : nh.lastIndexOf(last);
      if (last === undefined) patch.history = { append: nh.slice() };
      else if (idx >= 0) patch.history = { append: nh.slice(idx + 1) };
      else patch.history = { replace: nh.slice() };
      any = true;
    } else {
      (patch.set ??= {})[key] = b;
      any = true;
    }
  }
  return any ? patch : null;
}

/** An ok note as the engine makes it for a valid value without warnings (evidence.ts): these
 * exact keys in this order, so a viewer's rebuilt note serializes the same. */
function isPlainOk(n: SampleNote | null, at: number, value: number | null): boolean {
  if (!n || n.status !== 'ok' || n.at !== at || n.value !== value || value === null) return false;
  const k = Object.keys(n);
  return k.length === 3 && k[0] === 'at' && k[1] === 'status' && k[2] === 'value';
}

/** How a track moved from `o` to `n` when it got one valid point at `at` (its value), unchanged
 * (null), or in any other way (undefined: no compact form). */
function onePoint(os: Series, ns: Series, on: SampleNote | null, nn: SampleNote | null, at: number | undefined): { at: number; v: number | null } | null | undefined {
  if (os === ns && on === nn) return null;
  if (ns.bt !== os.bt || ns.end !== os.end + 1) return undefined;
  const t = ns.bt[os.end]!;
  const v = ns.bv[os.end] ?? null;
  if ((at !== undefined && t !== at) || !isPlainOk(nn, t, v)) return undefined;
  // what append() does on the viewer's side must give the same window
  const start = ns.end - os.start > SERIES_CAPACITY ? ns.end - SERIES_CAPACITY : os.start;
  if (ns.start !== start) return undefined;
  return { at: t, v };
}

function compactPoints(os: RolloutState['slis'], ns: RolloutState['slis']): Patch['pts'] | undefined {
  let at: number | undefined;
  const v: NonNullable<Patch['pts']>['v'] = {};
  for (const [name, n] of Object.entries(ns)) {
    const o = os[name];
    if (o === n) continue;
    if (!o) return undefined;
    const c = onePoint(o.canary, n.canary, o.canaryNote, n.canaryNote, at);
    if (c === undefined) return undefined;
    at ??= c?.at;
    const b = onePoint(o.baseline, n.baseline, o.baselineNote, n.baselineNote, at);
    if (b === undefined) return undefined;
    at ??= b?.at;
    if (at === undefined || n.lastAt !== Math.max(o.lastAt ?? 0, at)) return undefined;
    const sn = n.stableNote;
    if (o.stableNote !== sn) {
      if (sn === null || sn.value === null || !isPlainOk(sn, at, sn.value)) return undefined;
      v[name] = [c ? c.v : null, b ? b.v : null, sn.value];
    } else v[name] = [c ? c.v : null, b ? b.v : null];
  }
  for (const name of Object.keys(os)) if (!(name in ns)) return undefined;
  return at === undefined ? undefined : { at, v };
}

function applySeries(s: Series, p: SeriesPatch | undefined): Series {
  if (!p) return s;
  if ('r' in p) return seriesFromWire(p.r);
  let out = s;
  const [t, v] = p.a;
  for (let i = 0; i < t.length; i++) out = append(out, t[i]!, v[i] ?? null);
  return out;
}

/** The next state: a new object (views compare by reference), unchanged parts shared. */
export function applyPatch(state: RolloutState, p: Patch): RolloutState {
  const next = { ...state, ...(p.set ?? {}) } as RolloutState;
  if (p.pods) {
    // Copies only the shards the patch touches (a whole-Map copy per patch per viewer before).
    next.pods = PodTable.from(state.pods).with(p.pods.up, p.pods.del);
  }
  if (p.slis) {
    const slis = { ...state.slis };
    for (const [name, sp] of Object.entries(p.slis)) {
      const cur = slis[name] ?? { canary: { bt: [], bv: [], start: 0, end: 0 }, baseline: { bt: [], bv: [], start: 0, end: 0 }, lastAt: null, canaryNote: null, baselineNote: null, stableNote: null };
      slis[name] = { canary: applySeries(cur.canary, sp.canary), baseline: applySeries(cur.baseline, sp.baseline), lastAt: sp.lastAt, canaryNote: sp.canaryNote ?? null, baselineNote: sp.baselineNote ?? null, stableNote: sp.stableNote ?? null };
    }
    next.slis = slis;
  }
  if (p.pts) {
    const slis = { ...state.slis };
    const at = p.pts.at;
    for (const [name, [c, b, st]] of Object.entries(p.pts.v)) {
      const cur = slis[name];
      if (!cur) continue;
      slis[name] = {
        canary: c === null ? cur.canary : append(cur.canary, at, c),
        baseline: b === null ? cur.baseline : append(cur.baseline, at, b),
        lastAt: Math.max(cur.lastAt ?? 0, at),
        canaryNote: c === null ? cur.canaryNote : { at, status: 'ok', value: c },
        baselineNote: b === null ? cur.baselineNote : { at, status: 'ok', value: b },
        stableNote: st === undefined ? cur.stableNote : { at, status: 'ok', value: st },
      };
    }
    next.slis = slis;
  }
  if (p.history) {
    if ('replace' in p.history) next.history = p.history.replace;
    else {
      const h = [...state.history, ...p.history.append];
      next.history = h.length > HISTORY_CAPACITY ? h.slice(-HISTORY_CAPACITY) : h;
    }
  }
  return next;
}
