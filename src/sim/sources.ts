// The simulated world as a Source, with back-pressure: simulated time is what the world has
// produced, never more. The source moves the world towards its pace clock (SimClock: `speed` times
// real time) in batches of at most one poll's worth of simulated time, emitting each batch's events
// and then a tick at the world's time. `time` is the clock the runtime reads (effect results,
// notifications, keys are stamped with it), so nothing the rollout sees can be later than the
// samples the world has made: a world slower than its speed makes a slower rollout, never an SLI
// without data (a healthy run at --speed 100000 on a loaded machine ended with exit 5, "no data
// past noDataAfter", when effect results were stamped with a clock running ahead of the world).
//
// When a batch of catching up has used its real-time budget, the pace clock is held at the world's
// time (`SimClock.holdAt`: the time the world could not simulate is dropped, not sprinted through
// later) and the next batch runs as soon as the event loop has served timers and I/O. The speed
// actually reached is measured (`actualSpeed`, `averageSpeed`) and shown next to the speed asked.
// A real clock (Prometheus or Kubernetes mode, where this source carries only pods or the world's
// SLIs in real time) cannot be held: the world then catches up batch by batch.
import type { Clock, Emit, Source } from '../runtime/ports.js';
import type { SimWorld } from './world.js';

/** The clock the source paces the world by; a SimClock can also be held back. */
export interface PaceClock extends Clock {
  holdAt?(sim: number): void;
  /** Calls `fn` after every change of speed; returns how to stop. */
  onSpeed?(fn: () => void): () => void;
}

export interface SimSourceOptions {
  /** Real ms between world advances when the world keeps up (default 250); at a slow pace the
   * source advances at most once per simulated second (a second apart in real time at x1), since
   * nothing on screen changes faster, and wakes up at once when the speed changes. */
  periodMs?: number;
  /** Emit one sample per analysis interval crossed (default true), so the engine judges every
   * interval the plan names (consecutive_failures counts minutes) however fast the clock runs. */
  everyInterval?: boolean;
  /** Emit the world's own SLI samples (default true). Off when a real Prometheus scrapes the
   * world and the SLIs come from there: then this source only carries pods. */
  samples?: boolean;
  /** Emit the world's pods (default true). Off when the pods come from Kubernetes. */
  pods?: boolean;
  /** Real ms one advance may spend catching up before it yields (default 25). */
  budgetMs?: number;
  /** Real monotonic ms (performance.now by default; injectable for tests). */
  realNow?: () => number;
}

/** The speed asked of the simulated clock and the speed the world actually kept (null: not
 * measured yet, under a quarter of a second of real time at this speed). */
export interface SpeedReport {
  asked: number;
  actual: number | null;
}

/** How much real time the speed measurement looks back over (ms). */
const WINDOW_MS = 2_000;
/** Measurement points are at least this far apart (real ms). */
const POINT_EVERY_MS = 50;
/** A measurement over less real time than this is no measurement (ms). */
const MIN_SPAN_MS = 250;

export class SimSource implements Source {
  readonly name = 'sim';
  /** The world's time: what the runtime reads. It never runs ahead of what the world has produced. */
  readonly time: Clock;
  private readonly periodMs: number;
  private readonly budgetMs: number;
  private readonly realNow: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private emit: Emit | null = null;
  private readonly everyInterval: boolean;
  private readonly samples: boolean;
  private readonly pods: boolean;
  /** (real ms, world ms) points since the last speed change, oldest first, for the measurement. */
  private points: { real: number; sim: number }[] = [];
  private since: { real: number; sim: number; speed: number } | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly world: SimWorld,
    private readonly clock: PaceClock,
    opts: SimSourceOptions = {},
  ) {
    this.periodMs = Math.max(1, opts.periodMs ?? 250);
    this.budgetMs = Math.max(1, opts.budgetMs ?? 25);
    this.realNow = opts.realNow ?? (() => performance.now());
    this.everyInterval = opts.everyInterval ?? true;
    this.samples = opts.samples ?? true;
    this.pods = opts.pods ?? true;
    this.time = {
      now: () => world.now,
      get speed() {
        return clock.speed;
      },
    };
  }

  start(emit: Emit): void {
    if (this.emit !== null) return; // already running
    this.emit = emit;
    this.unsubscribe = this.clock.onSpeed?.(() => this.wake()) ?? null;
    this.loop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.emit = null;
  }

  private loop = (): void => {
    this.timer = null;
    this.immediate = null;
    const behind = this.tick();
    if (this.emit === null) return; // stopped while emitting
    // Behind: the next batch as soon as timers and I/O (actuators' answers, keys, redraws) had their
    // turn. (Not unref'd: an unref'd immediate does not stop the loop from sleeping in poll until
    // some timer is due; it ran 7 s late in a headless run. It is due at once anyway.)
    if (behind) this.immediate = setImmediate(this.loop);
    else {
      this.timer = setTimeout(this.loop, this.sleepMs());
      this.timer.unref();
    }
  };

  /** How long the loop sleeps when the world keeps up: the poll period, or at a slow pace (under
   * x4) as long as one simulated second takes, at most a real second. An idle real-time console
   * then advances the world and ticks the runtime once a second, not four times. */
  private sleepMs(): number {
    const speed = this.clock.speed;
    return Math.max(this.periodMs, speed > 0 ? Math.min(1000, 1000 / speed) : 1000);
  }

  /** The speed changed: a sleeping loop runs now (from x1 to x3600 the world moves at once). */
  private wake(): void {
    if (this.timer === null || this.emit === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.immediate = setImmediate(this.loop);
  }

  /**
   * One advance (exposed so a caller or a test can step the source without a timer): moves the
   * world towards the pace clock's now in batches of at most one poll's worth of simulated time
   * (and one analysis interval at least), each followed by its events and a tick at the world's
   * time, until it is there or the real-time budget is spent. Returns true when it stopped short:
   * the pace clock has then been held at the world's time.
   */
  tick(): boolean {
    const emit = this.emit;
    if (!emit) return false;
    const target = this.clock.now();
    const began = this.realNow();
    const batch = Math.max(this.world.intervalMs, this.clock.speed * this.periodMs);
    do {
      const to = Math.min(target, this.world.now + batch);
      for (const event of this.world.advanceTo(to, { everyInterval: this.everyInterval })) {
        if (event.type === 'sli.samples' && !this.samples) continue;
        if ((event.type === 'pods.sync' || event.type === 'pods.delta') && !this.pods) continue;
        emit(event);
      }
      // The world's time, after its events: the runtime leaves ticking to this source.
      emit({ type: 'tick', at: this.world.now });
      if (this.emit !== emit) return false; // stopped by what the events set off
    } while (this.world.now < target && this.realNow() - began < this.budgetMs);
    const behind = this.world.now < target;
    if (behind) this.clock.holdAt?.(this.world.now);
    this.measure();
    return behind;
  }

  private measure(): void {
    const real = this.realNow();
    const sim = this.world.now;
    const speed = this.clock.speed;
    if (this.since === null || this.since.speed !== speed) {
      this.since = { real, sim, speed };
      this.points = [{ real, sim }];
      return;
    }
    const last = this.points.at(-1)!;
    if (real - last.real < POINT_EVERY_MS) return;
    this.points.push({ real, sim });
    while (this.points.length > 2 && real - this.points[1]!.real >= WINDOW_MS) this.points.shift();
  }

  /** The speed asked and the speed the world kept over the last ~2 s of real time. */
  actualSpeed(): SpeedReport {
    const asked = this.clock.speed;
    // Points measured at another speed (changed since the last advance) say nothing about this one.
    if (this.since?.speed !== asked) return { asked, actual: null };
    const first = this.points[0];
    const last = this.points.at(-1);
    return { asked, actual: first && last && last.real - first.real >= MIN_SPAN_MS ? (last.sim - first.sim) / (last.real - first.real) : null };
  }

  /** The speed asked and the speed the world kept since it was asked (the whole run, headless). */
  averageSpeed(): SpeedReport {
    const s = this.since;
    const asked = this.clock.speed;
    const real = this.realNow();
    return { asked, actual: s && s.speed === asked && real - s.real >= MIN_SPAN_MS ? (this.world.now - s.sim) / (real - s.real) : null };
  }
}
