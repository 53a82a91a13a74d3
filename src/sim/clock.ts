// Clocks for the simulated world. SimClock runs `speed` times faster than real time from a chosen
// start (the demo default is a Monday afternoon so weekday approval rules apply): it is the pace the
// world is asked to keep, not the time the rollout reads (that is the world's own time, see
// sources.ts: the clock waits for the world, `holdAt`). ManualClock is moved by hand in tests.
// Real time paces the world here and in sources.ts (SimSource's budget and speed measurement).
import type { Clock } from '../runtime/ports.js';

/** Monday 2026-11-30 14:00 UTC (09:00 in New York): the demo's default start. */
export const DEMO_START = Date.parse('2026-11-30T14:00:00Z');

export interface SimClockOptions {
  /** Simulated epoch ms at the moment the clock is created. */
  start: number;
  /** Simulated ms per real ms (3600: one sim hour per real second). */
  speed: number;
  /** Real monotonic ms; performance.now by default (injectable for tests). */
  realNow?: () => number;
}

export class SimClock implements Clock {
  private readonly realNow: () => number;
  private baseReal: number;
  private baseSim: number;
  private _speed: number;
  private readonly speedListeners = new Set<() => void>();

  constructor(opts: SimClockOptions) {
    if (!Number.isFinite(opts.start)) throw new Error(`SimClock: start must be epoch ms, got ${opts.start}`);
    if (!(opts.speed >= 0) || !Number.isFinite(opts.speed)) throw new Error(`SimClock: speed must be a finite number >= 0, got ${opts.speed}`);
    this.realNow = opts.realNow ?? (() => performance.now());
    this.baseReal = this.realNow();
    this.baseSim = opts.start;
    this._speed = opts.speed;
  }

  get speed(): number {
    return this._speed;
  }

  now(): number {
    return this.baseSim + (this.realNow() - this.baseReal) * this._speed;
  }

  /** Back-pressure: the world has only produced up to `sim`, so simulated time continues from there
   * from now on (the time it could not simulate is not made up later at a sprint). Never forwards. */
  holdAt(sim: number): void {
    if (!(sim < this.now())) return;
    this.baseReal = this.realNow();
    this.baseSim = sim;
  }

  /** Changes speed from now on without a jump in sim time (0 freezes the clock). */
  setSpeed(speed: number): void {
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new Error(`SimClock: speed must be a finite number >= 0, got ${speed}`);
    const t = this.now();
    this.baseReal = this.realNow();
    this.baseSim = t;
    this._speed = speed;
    for (const fn of this.speedListeners) fn();
  }

  /** Calls `fn` after every change of speed (a source sleeping at a slow pace wakes up). */
  onSpeed(fn: () => void): () => void {
    this.speedListeners.add(fn);
    return () => this.speedListeners.delete(fn);
  }
}

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  speed: number;
  private t: number;

  constructor(start: number = DEMO_START, speed = 1) {
    this.t = start;
    this.speed = speed;
  }

  now(): number {
    return this.t;
  }

  set(t: number): void {
    this.t = t;
  }

  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}
