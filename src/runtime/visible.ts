// When views need telling: the runtime and a joined terminal's RemoteStore both skip a redraw
// when a new state could not look different on screen.
import type { RolloutState } from '../engine/types.js';

/** Fields the console shows as times or durations, to the second (T+29m18s, 49s ago, bake 3m12s). */
const CLOCK_FIELDS = new Set<string>(['now', 'stepBakeMs', 'phaseBakeMs']);

/** Could a view draw `b` differently from `a`? Any field replaced by another value, or a clock
 * field crossing a whole second (the console shows times to the second). The engine keeps a
 * field's object when its content is the same (holds, pods, series...), so this is a shallow
 * comparison. */
export function visiblyDifferent(a: RolloutState, b: RolloutState): boolean {
  if (a === b) return false;
  for (const key of Object.keys(b) as (keyof RolloutState)[]) {
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (CLOCK_FIELDS.has(key) && typeof x === 'number' && typeof y === 'number') {
      if (Math.floor(x / 1000) !== Math.floor(y / 1000)) return true;
      continue;
    }
    return true;
  }
  return false;
}

/** Do `a` and `b` differ in nothing but the clock fields (by any amount)? A view that shows no
 * time, or that checks its own times (useStoreView's key), need not redraw then. */
export function sameButClock(a: RolloutState, b: RolloutState): boolean {
  if (a === b) return true;
  for (const key of Object.keys(b) as (keyof RolloutState)[]) {
    if (a[key] !== b[key] && !CLOCK_FIELDS.has(key)) return false;
  }
  return true;
}
