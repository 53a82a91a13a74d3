// The loop: events in (sources, keys, clock ticks), reduce, tell the views, hand effects to the
// actuators, and turn their outcomes back into events. The only stateful part besides the
// sources; the engine it drives is pure.
import type { Plan } from '../plan/schema.js';
import { initialState, reduce } from '../engine/reduce.js';
import type { Effect, EngineEvent, LoadSummary, RolloutState } from '../engine/types.js';
import type { ActuationResult, Clock, CommandRunner, CommsWriter, LoadRunner, Notifier, ReportEffect, ReportProducer, Source, TrafficActuator } from './ports.js';
import type { Store } from './store.js';
import { JournalLostError } from '../journal/journal.js';
import { visiblyDifferent } from './visible.js';
import { OutputCap } from './output-cap.js';

export { visiblyDifferent };

export interface RuntimeOptions {
  plan: Plan;
  clock: Clock;
  sources?: Source[];
  traffic: TrafficActuator;
  notifier?: Notifier;
  /** Where `w` writes the rendered communications. */
  comms?: CommsWriter;
  /** Renders and writes the reports the plan schedules; without one a due report is answered
   * with a failure that says so. */
  reports?: ReportProducer;
  /** Carries out start-load-test / stop-load-test; without one a start is answered with a failure. */
  loadRunner?: LoadRunner;
  /** Runs the runbook's commands (deploy, validation, rollback verification, checks, flags). */
  commands?: CommandRunner;
  initial?: RolloutState;
  /** Real milliseconds between clock ticks (0: none; the sources carry time). */
  tickMs?: number;
  /** Actuator calls that take longer than this fail (real ms). */
  actuatorTimeoutMs?: number;
  /** Tell views at most this often (real ms); 0 tells them after every dispatch. The engine still
   * reduces every event at once and effects start at once: only redraws are coalesced. */
  notifyEveryMs?: number;
  /** The journal: each event is appended after it is reduced and before its effects are carried
   * out, so a decision is on disk before it acts. If append throws (the journal cannot be
   * written) the event's state is not taken and its effects are not carried out. When what it
   * throws is a JournalLostError (the file was replaced, truncated or removed under canary, or a
   * write failed) the engine is told (`journal.lost`: the rollout holds, and says why), the event
   * is reduced again after it, and nothing more is journaled. */
  journal?: { append(event: EngineEvent, state: RolloutState, effects: Effect[]): unknown };
  /** Called after every reduce (journal, war room, crew...). May return follow-up events. */
  observers?: ((state: RolloutState, event: EngineEvent, effects: Effect[]) => EngineEvent[] | void)[];
}

export class Runtime implements Store {
  private state: RolloutState;
  private listeners = new Set<() => void>();
  private queue: EngineEvent[] = [];
  private draining = false;
  /** The journal threw a JournalLostError: nothing more is appended. */
  private journalLost = false;
  private timer: NodeJS.Timeout | null = null;
  /** Every effect handed out, newest last (bounded), for the status line and tests. */
  readonly effects: Effect[] = [];

  /** The state this runtime started from (a resumed journal's, or the initial state): what a
   * reporter compares with to print everything this process decided, from its first event. */
  readonly startState: RolloutState;

  constructor(private readonly opts: RuntimeOptions) {
    this.state = opts.initial ?? initialState(opts.plan, opts.clock.now());
    this.startState = this.state;
  }

  getState = (): RolloutState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private watchers = new Set<() => void>();

  /** Called after every dispatch, at once (not coalesced like `subscribe`): for the war room,
   * whose viewers must not wait for the console's redraw interval. */
  watch = (listener: () => void): (() => void) => {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  };

  private followers = new Set<() => void>();

  /** Called after each event is reduced and its effects handed out, in order, inside the drain:
   * before the next queued event, such as an effect's result given at once (a report with no
   * report directory). For a reporter that prints each event's lines before those of its result
   * (the headless output); `subscribe` and `watch` come once per dispatch, after all of them. */
  follow = (listener: () => void): (() => void) => {
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  };

  /** Synchronous: when dispatch returns, the event is reduced and its effects are under way. */
  dispatch = (event: EngineEvent): void => {
    this.queue.push(event);
    if (this.draining) return; // an observer or listener dispatched: handled in this same drain
    this.draining = true;
    try {
      while (this.queue.length) {
        const e = this.queue.shift()!;
        const { state, effects } = reduce(this.opts.plan, this.state, e);
        if (!this.journalLost) {
          try {
            this.opts.journal?.append(e, state, effects);
          } catch (err) {
            if (!(err instanceof JournalLostError)) throw err;
            // The record is gone: the engine holds the rollout (a gate would open, a weight go up,
            // with nothing to show for it), then takes this event on that state, unjournaled.
            this.journalLost = true;
            this.queue.unshift({ type: 'journal.lost', at: this.state.now, loss: err.loss }, e);
            continue;
          }
        }
        this.state = state;
        for (const eff of effects) this.carryOut(eff);
        for (const obs of this.opts.observers ?? []) {
          const more = obs(state, e, effects);
          if (more) this.queue.push(...more);
        }
        for (const f of this.followers) f();
      }
    } finally {
      this.draining = false;
    }
    for (const w of this.watchers) w();
    this.notify();
  };

  private notifyTimer: NodeJS.Timeout | null = null;
  private lastNotify = 0;
  /** The state views were last told about. */
  private told: RolloutState | null = null;

  /** Tells the views, unless nothing they could draw differently changed since they were last
   * told (an idle console redrew an identical frame 4 times a second: every source poll and tick
   * made a new state object whose only change was `now` by 250 ms). */
  private tell(): void {
    if (this.told !== null && !visiblyDifferent(this.told, this.state)) return;
    this.told = this.state;
    for (const l of this.listeners) l();
  }

  private notify(): void {
    const every = this.opts.notifyEveryMs ?? 0;
    if (every <= 0) {
      this.tell();
      return;
    }
    if (this.notifyTimer) return; // a redraw is already scheduled; it will see this state
    if (this.told !== null && !visiblyDifferent(this.told, this.state)) return;
    const wait = Math.max(0, this.lastNotify + every - performance.now());
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this.lastNotify = performance.now();
      this.tell();
    }, wait);
  }

  start(): void {
    for (const s of this.opts.sources ?? []) s.start(this.dispatch);
    // tickMs 0: no clock ticks of our own (a simulated world that moves time with its samples, so
    // time never runs ahead of the data only because this process was busy for a moment).
    const tickMs = this.opts.tickMs ?? 250;
    if (tickMs > 0) {
      this.timer = setInterval(() => this.dispatch({ type: 'tick', at: this.opts.clock.now() }), tickMs);
      this.timer.unref?.();
    }
    this.dispatch({ type: 'tick', at: this.opts.clock.now() });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this.timer = null;
    await Promise.all((this.opts.sources ?? []).map((s) => s.stop()));
    await this.opts.loadRunner?.close();
    this.opts.commands?.close();
  }

  /** A runbook command: its output and its exit come back as events (journaled: the audit trail
   * keeps what ran, what it printed and how it ended). */
  private runCommand(effect: Extract<Effect, { type: 'run-command' }>): void {
    const result = (r: { ok: boolean; exitCode: number | null; detail: string; skipped?: boolean }) =>
      this.dispatch({ type: 'command.result', at: this.opts.clock.now(), runId: effect.id, ok: r.ok, exitCode: r.exitCode, detail: r.detail, ...(r.skipped ? { skipped: true } : {}) });
    const runner = this.opts.commands;
    if (!runner) {
      queueMicrotask(() => result({ ok: false, exitCode: null, detail: 'no command runner is configured' }));
      return;
    }
    // What it prints is bounded (src/runtime/output-cap.ts): the journal keeps every event.
    const output = new OutputCap((lines) => this.dispatch({ type: 'command.output', at: this.opts.clock.now(), runId: effect.id, lines }));
    runner
      .run(effect, (lines) => output.push(lines))
      .then(
        (r) => {
          output.end();
          result(r);
        },
        (err: unknown) => {
          output.end();
          result({ ok: false, exitCode: null, detail: errorText(err) });
        },
      );
  }

  /** A load test's progress and result come back as events, so the pane is a function of state and
   * the journal keeps the figures. The runner paces progress (about once a second). */
  private startLoadTest(runId: number, name: string): void {
    const test = this.opts.plan.loadTests.find((t) => t.name === name);
    const runner = this.opts.loadRunner;
    const result = (r: { outcome: 'completed' | 'stopped' | 'failed'; detail: string; summary: LoadSummary | null; file?: string }) =>
      this.dispatch({ type: 'loadtest.result', at: this.opts.clock.now(), runId, name, outcome: r.outcome, detail: r.detail, summary: r.summary, ...(r.file ? { file: r.file } : {}) });
    if (!test || !runner) {
      queueMicrotask(() => result({ outcome: 'failed', detail: `load test "${name}": no load-test runner is configured`, summary: null }));
      return;
    }
    runner
      .run(runId, test, (progress) => this.dispatch({ type: 'loadtest.progress', at: this.opts.clock.now(), runId, name, progress }))
      .then(result, (err: unknown) => result({ outcome: 'failed', detail: errorText(err), summary: null }));
  }

  /** A report: rendered and written by the producer, then handed to the notifier for its
   * channels; each step's outcome comes back as an event (report.result, notify.result). */
  private produceReport(effect: ReportEffect, timeoutMs: number): void {
    const result = (ok: boolean, detail: string, file?: string) =>
      this.dispatch({ type: 'report.result', at: this.opts.clock.now(), effectId: effect.id, ok, detail, ...(file ? { file } : {}) });
    const producer = this.opts.reports;
    if (!producer) {
      // At once, in this same drain (like a communications write without a directory).
      result(false, 'no report directory for this run: reports are written beside a local journal (--no-journal, or a driver in the cluster, keeps none)');
      return;
    }
    withTimeout(producer.produce(effect, this.state), timeoutMs, `report ${effect.name}`).then(
      ({ file, markdown }) => {
        result(true, file, file);
        if (effect.channels.length === 0) return;
        const report = (r: { effectId: number; channel: string; ok: boolean; detail: string; attempts: number }) =>
          this.dispatch({ type: 'notify.result', at: this.opts.clock.now(), ...r });
        if (!this.opts.notifier) {
          for (const channel of effect.channels) report({ effectId: effect.id, channel, ok: false, detail: 'no notifier is configured', attempts: 0 });
          return;
        }
        try {
          this.opts.notifier.notify({ id: effect.id, type: 'notify', kind: 'report', severity: 'info', message: markdown, channels: effect.channels }, { at: this.opts.clock.now(), report });
        } catch (err) {
          report({ effectId: effect.id, channel: 'notifier', ok: false, detail: errorText(err), attempts: 0 });
        }
      },
      (err: unknown) => result(false, errorText(err)),
    );
  }

  private carryOut(effect: Effect): void {
    this.effects.push(effect);
    if (this.effects.length > 500) this.effects.splice(0, this.effects.length - 500);
    const done = (ok: boolean, detail: string, weight?: number, clusters?: ActuationResult['clusters']) => {
      // Even after stop(): an effect handed to an actuator is reported, so the state never
      // claims less (or more) than what happened.
      this.dispatch({ type: 'effect.result', at: this.opts.clock.now(), effectId: effect.id, ok, detail, ...(weight !== undefined ? { weight } : {}), ...(clusters ? { clusters } : {}) });
    };
    const timeoutMs = this.opts.actuatorTimeoutMs ?? 30_000;
    switch (effect.type) {
      case 'set-weight':
        withTimeout(this.opts.traffic.setWeight(effect.weight, effect.regions), timeoutMs, `${this.opts.traffic.name}: set weight ${effect.weight}%`).then(
          (r) => done(r.weight === effect.weight, r.weight === effect.weight ? r.detail : `read back ${r.weight}%, expected ${effect.weight}%: ${r.detail}`, r.weight, r.clusters),
          (err: unknown) => done(false, errorText(err)),
        );
        return;
      case 'rollback':
        withTimeout(this.opts.traffic.rollback(effect.reason, effect.regions), timeoutMs, `${this.opts.traffic.name}: rollback`).then(
          (r) => done(r.weight === 0, r.weight === 0 ? r.detail : `read back ${r.weight}% after rollback: ${r.detail}`, r.weight, r.clusters),
          (err: unknown) => done(false, errorText(err)),
        );
        return;
      case 'notify': {
        // Fire and forget: the notifier queues and returns; outcomes come back as events.
        const report = (r: { effectId: number; channel: string; ok: boolean; detail: string; attempts: number }) =>
          this.dispatch({ type: 'notify.result', at: this.opts.clock.now(), ...r });
        try {
          this.opts.notifier?.notify(effect, { at: this.opts.clock.now(), report });
        } catch (err) {
          report({ effectId: effect.id, channel: 'notifier', ok: false, detail: errorText(err), attempts: 0 });
        }
        return;
      }
      case 'write-communications':
        if (!this.opts.comms) {
          done(false, 'no output directory for communications is configured');
          return;
        }
        withTimeout(this.opts.comms.write(effect.files), timeoutMs, 'writing communications').then(
          (where) => done(true, where),
          (err: unknown) => done(false, errorText(err)),
        );
        return;
      case 'produce-report':
        this.produceReport(effect, timeoutMs);
        return;
      case 'start-load-test':
        this.startLoadTest(effect.id, effect.name);
        return;
      case 'stop-load-test':
        this.opts.loadRunner?.stop(effect.runId);
        return;
      case 'run-command':
        this.runCommand(effect);
        return;
      case 'stop-command':
        this.opts.commands?.stop(effect.runId);
        return;
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
    t.unref?.();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
