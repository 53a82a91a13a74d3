// `canary replay <journal>`: the same console, driven by the recorded events, with time you can
// move: ←/→ one event, [/] one hour, n the next rollback, home/end. Read-only: the console binds no
// action key (keys.ts, access 'replay'), the store ignores commands anyway, and the banner says so.
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { Box, Text, useStdout } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import type { EngineEvent, RolloutState } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import { App } from './App.js';
import type { Keymap } from '../src/config/keys.js';
import { makeTheme } from './theme.js';
import { printable } from '../src/plan/printable.js';

export interface ReplayFrame {
  seq: number;
  state: RolloutState;
}

/** A store showing one recorded frame at a time; dispatch is a no-op (a replay never acts). The
 * frame shown is the store's (`index`): a key moves it from the input handler, and the banner and
 * the panes read it from here, so one move is one consistent render (never a store changed while
 * React renders). */
class ReplayStore implements Store {
  private listeners = new Set<() => void>();
  private i = 0;
  constructor(private frames: ReplayFrame[]) {}
  getState = () => this.frames[this.i]!.state;
  /** The frame shown. */
  index = () => this.i;
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  dispatch = (_e: EngineEvent) => undefined;
  show(i: number): void {
    if (i === this.i) return;
    this.i = i;
    for (const l of this.listeners) l();
  }
}

const HOUR = 3_600_000;

/** Index of the first frame at or after `t` (or the last one). */
function frameAt(frames: ReplayFrame[], t: number): number {
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.state.now < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function moveReplay(frames: ReplayFrame[], i: number, input: string, key: { leftArrow?: boolean; rightArrow?: boolean; home?: boolean; end?: boolean }): number {
  const last = frames.length - 1;
  if (key.rightArrow) return Math.min(last, i + 1);
  if (key.leftArrow) return Math.max(0, i - 1);
  if (key.home) return 0;
  if (key.end) return last;
  const now = frames[i]!.state.now;
  if (input === ']') return Math.min(last, Math.max(i + 1, frameAt(frames, now + HOUR)));
  if (input === '[') return Math.max(0, Math.min(i - 1, frameAt(frames, now - HOUR)));
  if (input === 'n') {
    // the next frame at which the rollout becomes rolled back
    for (let k = i + 1; k <= last; k++) if (frames[k]!.state.status === 'rolled-back' && frames[k - 1]!.state.status !== 'rolled-back') return k;
    return i;
  }
  return i;
}

export function Replay({ plan, frames, file, columns, rows, keymap }: { plan: Plan; frames: ReplayFrame[]; file: string; columns?: number; rows?: number; keymap?: Keymap }) {
  const { stdout } = useStdout();
  const height = rows ?? Math.max(4, (stdout.rows || 24) - 1);
  const width = columns ?? (stdout.columns || 80);
  const theme = useMemo(() => makeTheme(), []);
  const store = useMemo(() => new ReplayStore(frames), [frames]);
  const i = useSyncExternalStore(store.subscribe, store.index, store.index);
  const frame = frames[i]!;
  // The console hands over every key its filter prompt does not take (there, n is a letter).
  const onViewKey = useCallback(
    (input: string, key: { leftArrow?: boolean; rightArrow?: boolean; home?: boolean; end?: boolean }) => store.show(moveReplay(frames, store.index(), input, key)),
    [frames, store],
  );
  const when = new Date(frame.state.now).toISOString().slice(0, 16).replace('T', ' ');
  const banner = ` REPLAY ${printable(file)}  event ${i + 1}/${frames.length} (seq ${frame.seq}) at ${when} UTC  ←/→ event  [/] hour  n next rollback  home/end  q quit  (read-only)`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text {...(theme.enabled ? { color: 'black', backgroundColor: 'yellow' } : {})} wrap="truncate">
        {banner.padEnd(width).slice(0, width)}
      </Text>
      <App plan={plan} store={store} actor={{ id: 'replay', name: 'replay (read-only)' }} now={() => store.getState().now} columns={width} rows={height - 1} replay onViewKey={onViewKey} {...(keymap ? { keymap } : {})} />
    </Box>
  );
}
