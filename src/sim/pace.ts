// The pace of the embedded simulated world: the console's clock keys (slower, faster, pause the
// clock) and the rule that slows the world down by itself around a moment that needs a person (a
// checkpoint due, an incident nobody acknowledged, a rollback draining), so it does not fly past at
// one simulated hour a second. The person's own choice wins: a speed key pressed during a moment
// keeps their speed until the moment passes. Only the simulated clock is paced (never real time).
import { compile } from '../engine/compiled.js';
import { trafficOn } from '../engine/traffic.js';
import type { RolloutState } from '../engine/types.js';
import type { Plan } from '../plan/schema.js';
import type { SimClock } from './clock.js';
import type { SpeedReport } from './sources.js';

/** The speed a moment that needs a person drops to: one simulated minute a second. */
export const SLOW_SPEED = 60;
/** The speed keys' steps (simulated seconds per real second). */
export const SPEED_STEPS: readonly number[] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 18_000, 36_000, 100_000];
/** The speed once the rollout is over (completed, or rolled back and settled): real time. At
 * x60 the console still redrew several times a second (~7% of a core); at x1 it idles (~0.5%). */
export const OVER_SPEED = 1;
/** The moments that mean the rollout is over (slowReason's words). */
const OVER: ReadonlySet<string> = new Set(['rollout complete', 'rolled back']);
/** How long after a rollback the world stays slow (simulated ms), so its effects can be read. */
export const ROLLBACK_SLOW_MS = 10 * 60_000;

/** What the world should slow down for now, in a few words for the status bar (null: nothing). */
export function slowReason(plan: Plan, state: RolloutState): string | null {
  if (state.rollback && (state.appliedWeight !== state.desiredWeight || state.now - state.rollback.at < ROLLBACK_SLOW_MS)) return 'rollback';
  if (state.incidents.some((i) => i.resolvedAt === undefined && i.ackedAt === undefined)) return 'incident open';
  const phase = compile(plan).phases[state.phaseIndex];
  if (phase && trafficOn(state) && (state.checkpoints[phase.id] ?? []).some((c) => c.dueAt !== undefined && c.ackedAt === undefined)) return 'checkpoint due';
  // Over: nothing is left to fly past (a world kept at x36000 afterwards cost ~17% of a core for
  // as long as the console stayed open); the clock goes back to real time (OVER_SPEED).
  if (state.status === 'completed') return 'rollout complete';
  if (state.status === 'rolled-back') return 'rolled back';
  return null;
}

/** The speed the clock should run at: the person's, unless a moment needs them and they have not
 * chosen a speed since it began (then at most SLOW_SPEED; once the rollout is over, OVER_SPEED).
 * Paused is 0. */
export function desiredSpeed(choice: { speed: number; paused: boolean; choseDuringMoment: boolean }, reason: string | null): number {
  if (choice.paused) return 0;
  if (reason !== null && !choice.choseDuringMoment) return Math.min(choice.speed, OVER.has(reason) ? OVER_SPEED : SLOW_SPEED);
  return choice.speed;
}

/** One step slower or faster on SPEED_STEPS from any speed (stays within the steps' range). */
export function stepSpeed(speed: number, dir: 'slower' | 'faster'): number {
  if (dir === 'faster') return SPEED_STEPS.find((s) => s > speed) ?? SPEED_STEPS.at(-1)!;
  return [...SPEED_STEPS].reverse().find((s) => s < speed) ?? Math.min(speed, SPEED_STEPS[0]!);
}

export type PaceKey = 'slower' | 'faster' | 'toggle';
/** What the status bar shows: the speed the clock runs at, paused, and why it slowed itself. */
export interface PaceView {
  speed: number;
  paused: boolean;
  slowed: string | null;
  /** The speed the world actually keeps, when it is well below the speed asked (the simulated
   * clock waits for the world: src/sim/sources.ts); absent when it keeps up or is not measured yet. */
  actual?: number;
}

/** Below this share of the speed asked, the status bar says the world does not keep up. */
export const KEEPS_UP = 0.9;

/** The actual speed worth showing (two significant digits), or null when the world keeps up. */
export function lagging(r: SpeedReport | null): number | null {
  if (!r || r.actual === null || !(r.asked > 0) || r.actual >= KEEPS_UP * r.asked) return null;
  const a = Math.max(0, r.actual);
  if (a < 10) return Math.round(a * 10) / 10;
  const unit = 10 ** (Math.floor(Math.log10(a)) - 1);
  return Math.round(a / unit) * unit;
}

/** Drives a SimClock from the speed keys and the state (observe it on every state change). */
export class SimPace {
  private base: number;
  private paused = false;
  private moment: string | null = null;
  private chose = false;
  private current: PaceView;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly clock: SimClock,
    private readonly plan: Plan,
    /** The speed the world actually keeps (SimSource.actualSpeed). */
    private readonly measured: () => SpeedReport | null = () => null,
  ) {
    this.base = clock.speed;
    this.current = { speed: clock.speed, paused: false, slowed: null };
  }

  view(): PaceView {
    return this.current;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The rollout's state changed: a moment may have begun or passed. */
  observe(state: RolloutState): void {
    const reason = slowReason(this.plan, state);
    if (reason !== this.moment) {
      this.moment = reason;
      this.chose = false;
    }
    this.apply();
  }

  /** A speed key: the person's choice, which wins over the slowdown until the moment passes. */
  press(key: PaceKey): void {
    if (key === 'toggle') this.paused = !this.paused;
    else {
      // From the speed shown (a slowed clock steps from where it is, not from the speed before).
      const from = this.paused ? this.base : desiredSpeed({ speed: this.base, paused: false, choseDuringMoment: this.chose }, this.moment);
      this.base = stepSpeed(from, key);
      this.paused = false;
    }
    if (this.moment !== null) this.chose = true;
    this.apply();
  }

  private apply(): void {
    const speed = desiredSpeed({ speed: this.base, paused: this.paused, choseDuringMoment: this.chose }, this.moment);
    if (speed !== this.clock.speed) this.clock.setSpeed(speed);
    const shown = this.paused ? this.base : speed;
    const slowed = !this.paused && this.moment !== null && !this.chose && speed < this.base ? this.moment : null;
    const m = this.measured();
    const actual = this.paused || !m || m.asked !== speed ? null : lagging(m);
    const c = this.current;
    if (c.speed === shown && c.paused === this.paused && c.slowed === slowed && (c.actual ?? null) === actual) return;
    this.current = { speed: shown, paused: this.paused, slowed, ...(actual !== null ? { actual } : {}) };
    for (const l of this.listeners) l();
  }
}
