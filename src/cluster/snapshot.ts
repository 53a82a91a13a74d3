// What of the engine's state the cluster keeps, and the state a driver resumes from. The engine
// does not know about any of this: a resumed state is a state (initialState's shape with the
// durable parts put back), and takeover is the adapter's business.
//
// Kept: everything a decision depends on or a person was promised — phase, step, weights, bake
// clock, approvals, checkpoints, incidents and their escalation clocks, communications, the
// rollback, effects in flight, the last verdicts, who drives. Left out: the SLI sample series
// (Prometheus has them: a new driver reads them back with range queries), pods (the watch lists
// them again) and the history (the journal is the history).
import type { Plan } from '../plan/schema.js';
import { initialState } from '../engine/reduce.js';
import type { Effect, RolloutState } from '../engine/types.js';

export type Snapshot = Omit<RolloutState, 'slis' | 'pods' | 'podsVersion' | 'history'> & {
  /** The newest history lines (context for a person reading the journal; not needed to resume). */
  recent: RolloutState['history'];
};

const RECENT = 5;

export function snapshotOf(s: RolloutState): Snapshot {
  const { slis: _s, pods: _p, podsVersion: _v, history, ...rest } = s;
  return { ...rest, recent: history.slice(-RECENT) };
}

/** The state a driver resumes from: the snapshot's durable parts on a fresh state's shape. */
export function stateFromSnapshot(plan: Plan, snap: Snapshot): RolloutState {
  const base = initialState(plan, snap.now);
  const { recent, ...rest } = snap;
  // A snapshot without `rules` was written before there was more than one set: rules 1, as it ran.
  return { ...base, ...rest, rules: snap.rules ?? 1, slis: base.slis, pods: base.pods, podsVersion: 0, history: [...recent] };
}

/** Traffic effects asked for and not confirmed in `s` (set-weight, rollback): redone on takeover. */
export function inDoubt(s: RolloutState, known: ReadonlyMap<number, Effect>): Effect[] {
  return Object.keys(s.pending)
    .map((id) => known.get(Number(id)))
    .filter((e): e is Effect => e !== undefined && (e.type === 'set-weight' || e.type === 'rollback'));
}
