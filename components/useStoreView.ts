// A pane's subscription to the store: the pane re-renders when a field other than the clock
// changed, or when its `key` of the state changed: the times it shows, as it shows them
// (T+3m12s, a pod's "4d", a bake bar's cells). Else it keeps the state it last drew, so a clock
// tick that changes nothing on screen renders nothing (useSyncExternalStore with a selector and an
// equality, written out: the selection is the state itself, the equality is sameButClock + key).
import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { RolloutState } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import { sameButClock } from '../src/runtime/visible.js';

/** What of a state's clock a view shows (compared with ===; strings are cheap to compare). */
export type ClockKey = (state: RolloutState) => unknown;

export function useStoreView(store: Store, key: ClockKey): RolloutState {
  const keyRef = useRef(key);
  keyRef.current = key;
  const drawn = useRef<{ state: RolloutState; key: ClockKey; k: unknown } | null>(null);
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const get = useCallback(() => {
    const s = store.getState();
    const d = drawn.current;
    const fn = keyRef.current;
    if (d && d.state === s) return s;
    if (d && sameButClock(d.state, s)) {
      // A new key function (new props: a width, a focus) is asked about the drawn state too.
      const before = d.key === fn ? d.k : fn(d.state);
      const now = fn(s);
      if (before === now) {
        drawn.current = { state: d.state, key: fn, k: before };
        return d.state;
      }
      drawn.current = { state: s, key: fn, k: now };
      return s;
    }
    drawn.current = { state: s, key: fn, k: fn(s) };
    return s;
  }, [store]);
  return useSyncExternalStore(subscribe, get, get);
}

/** A view whose state comes from its own subscription (see useStoreView): App draws the panes
 * through it, so a pane re-renders by itself when only its times changed. */
export function Live({ store, clock, render }: { store: Store; clock: ClockKey; render: (state: RolloutState) => React.ReactNode }) {
  return render(useStoreView(store, clock));
}
