// Drives the pure engine through simulated time, as the runtime would, without timers: samples
// every analysis minute, actuators that confirm at once, and optionally the embedded crew.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Plan } from '../../src/plan/schema.js';
import { initialState, reduce } from '../../src/engine/reduce.js';
import type { Effect, EngineEvent, RolloutState, SliSample } from '../../src/engine/types.js';
import { SimCrew, type CrewOptions } from '../../src/sim/crew.js';

export const PLAN_PATH = new URL('../../config/maestro-conductor-rc.yaml', import.meta.url);
export function loadSeedPlan(): Plan {
  return Plan.parse(parse(readFileSync(PLAN_PATH, 'utf8')));
}

/** Monday 2026-11-30 14:00 UTC. */
export const T0 = Date.parse('2026-11-30T14:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export type Values = Record<string, number | null>;
export const HEALTHY: Values = {
  availability: 99.97,
  latency_p95: 220,
  error_rate: 0.03,
  workflow_success_rate: 99.9,
  request_rate: 8,
  safety_violations: 0,
  critical_errors: 0,
  security_violations: 0,
  data_integrity_failures: 0,
  memory_leaks: 0,
  customer_complaints: 0,
  security_incidents: 0,
};

export function samples(canary: Values, baseline: Values = HEALTHY): SliSample[] {
  const out: SliSample[] = [];
  for (const [sli, value] of Object.entries(canary)) out.push({ sli, track: 'canary', value });
  for (const [sli, value] of Object.entries(baseline)) out.push({ sli, track: 'baseline', value });
  return out;
}

export class Driver {
  state: RolloutState;
  effects: Effect[] = [];
  events: EngineEvent[] = [];
  crew: SimCrew | null;
  /** What the canary reports, as a function of the state (weight, time...). */
  canary: (s: RolloutState) => Values = () => HEALTHY;
  confirm = true;

  constructor(
    readonly plan: Plan,
    opts: { crew?: CrewOptions | false; start?: number } = {},
  ) {
    this.state = initialState(plan, opts.start ?? T0);
    this.crew = opts.crew === false ? null : new SimCrew(plan, opts.crew ?? {});
  }

  get now(): number {
    return this.state.now;
  }

  send(e: EngineEvent): Effect[] {
    this.events.push(e);
    const r = reduce(this.plan, this.state, e);
    this.state = r.state;
    this.effects.push(...r.effects);
    for (const eff of r.effects) {
      if (this.confirm && (eff.type === 'set-weight' || eff.type === 'rollback'))
        this.send({ type: 'effect.result', at: this.state.now, effectId: eff.id, ok: true, detail: 'confirmed', weight: eff.type === 'set-weight' ? eff.weight : 0 });
    }
    return r.effects;
  }

  /** Advance one analysis minute: samples, then whatever the crew does. */
  minute(): void {
    const at = this.state.now + MIN;
    this.send({ type: 'sli.samples', at, samples: samples(this.canary(this.state)) });
    if (this.crew) for (const e of this.crew.decide(this.state)) this.send(e);
  }

  /** One round of samples now (the canary and baseline as they read): what the first gate needs
   * to see before it opens (a healthy source, valid baseline data). */
  observe(): void {
    this.send({ type: 'sli.samples', at: this.state.now, samples: samples(this.canary(this.state)) });
  }

  runFor(ms: number, stop?: (s: RolloutState) => boolean): void {
    const end = this.state.now + ms;
    while (this.state.now < end) {
      this.minute();
      if (stop?.(this.state)) return;
    }
  }

  command(kind: 'advance' | 'pause' | 'resume' | 'rollback' | 'ack-checkpoint', who = 'Ana Ortiz'): Effect[] {
    return this.send({ type: 'command', at: this.state.now, actor: { id: who, name: who }, command: { kind } });
  }

  approve(phase: string, role: string, who: string): Effect[] {
    return this.send({ type: 'approve', at: this.state.now, actor: { id: who, name: who }, phase, role });
  }
}
