// The simulated world as a Source: every `periodMs` of real time it moves the world to the sim
// clock's now and emits what happened. The first call is made at once so the first frame has data.
import type { Clock, Emit, Source } from '../runtime/ports.js';
import type { SimWorld } from './world.js';

export interface SimSourceOptions {
  /** Real ms between world advances (default 250). */
  periodMs?: number;
  /** Emit one sample per analysis interval crossed (default true), so the engine judges every
   * interval the plan names (consecutive_failures counts minutes) however fast the clock runs. */
  everyInterval?: boolean;
  /** Emit the world's own SLI samples (default true). Off when a real Prometheus scrapes the
   * world and the SLIs come from there: then this source only carries pods. */
  samples?: boolean;
  /** Emit the world's pods (default true). Off when the pods come from Kubernetes. */
  pods?: boolean;
}

export class SimSource implements Source {
  readonly name = 'sim';
  private readonly periodMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private emit: Emit | null = null;
  private readonly everyInterval: boolean;
  private readonly samples: boolean;
  private readonly pods: boolean;

  constructor(
    private readonly world: SimWorld,
    private readonly clock: Clock,
    opts: SimSourceOptions = {},
  ) {
    this.periodMs = Math.max(1, opts.periodMs ?? 250);
    this.everyInterval = opts.everyInterval ?? true;
    this.samples = opts.samples ?? true;
    this.pods = opts.pods ?? true;
  }

  start(emit: Emit): void {
    if (this.timer !== null) return; // already running
    this.emit = emit;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.emit = null;
  }

  /** One advance: exposed so a caller (or a test) can step the source without a timer. */
  tick(): void {
    const emit = this.emit;
    if (!emit) return;
    const now = this.clock.now();
    for (const event of this.world.advanceTo(now, { everyInterval: this.everyInterval })) {
      if (event.type === 'sli.samples' && !this.samples) continue;
      if ((event.type === 'pods.sync' || event.type === 'pods.delta') && !this.pods) continue;
      emit(event);
    }
    // The world's time, after its events: the runtime can then leave ticking to this source, and
    // time never runs ahead of the samples when the process is busy for a moment.
    emit({ type: 'tick', at: now });
  }
}
