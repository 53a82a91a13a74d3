// What views see: the current state, a way to hear that it changed, and a way to send an event.
// Ink components use it through useSyncExternalStore; the war room and the wall will too.
import type { EngineEvent, RolloutState } from '../engine/types.js';

export interface Store {
  getState(): RolloutState;
  subscribe(listener: () => void): () => void;
  /** Feed an event (a key press turned into a command, an approval...). Synchronous. */
  dispatch(event: EngineEvent): void;
}
