// Drives the pure engine through simulated time, as the runtime would, without timers: samples
// every analysis minute, actuators that confirm at once, and optionally the embedded crew.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Plan } from '../../src/plan/schema.js';
import { initialState, reduce } from '../../src/engine/reduce.js';
import type { Effect, EngineEvent, RolloutState, SliSample } from '../../src/engine/types.js';
import { SimCrew, type CrewOptions } from '../../src/sim/crew.js';
import { runbookPlan } from '../../src/engine/runbook.js';

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

/** Canary and baseline samples, and the stable fleet's (as the baseline) unless `stable` is false. */
export function samples(canary: Values, baseline: Values = HEALTHY, stable = true): SliSample[] {
  const out: SliSample[] = [];
  for (const [sli, value] of Object.entries(canary)) out.push({ sli, track: 'canary', value });
  for (const [sli, value] of Object.entries(baseline)) out.push({ sli, track: 'baseline', value });
  if (stable) for (const [sli, value] of Object.entries(baseline)) out.push({ sli, track: 'stable', value });
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

  /** `checklist: false`: the pre-deployment checklist starts unticked (by default the SRE lead has
   * ticked every item before T0, so tests of other things start at the approvals). Commands the
   * engine runs (checks, validation, rollback verification) exit 0 at once unless `commands` says
   * otherwise. */
  commands: (e: Extract<Effect, { type: 'run-command' }>) => { ok: boolean; exitCode: number | null; detail: string; lines?: string[] } = () => ({ ok: true, exitCode: 0, detail: 'exited 0' });

  constructor(
    readonly plan: Plan,
    opts: { crew?: CrewOptions | false; start?: number; checklist?: boolean } = {},
  ) {
    this.state = initialState(plan, opts.start ?? T0);
    this.crew = opts.crew === false ? null : new SimCrew(plan, opts.crew ?? {});
    this.ticked = opts.checklist === false;
  }

  /** The checklist is ticked (by the SRE lead, with real events) the first time the rollout needs
   * it: the first approval or minute while pending; tests of the checklist pass checklist: false. */
  private ticked: boolean;
  private tickOnce(): void {
    if (this.ticked || this.state.status !== 'pending') return;
    this.ticked = true;
    // Done "before T0": the check's run-command effect is setup, not what a test looks at.
    const n = this.effects.length;
    tickEverything(this);
    this.effects.length = n;
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
      if (this.confirm && eff.type === 'run-command') {
        const out = this.commands(eff);
        if (out.lines?.length) this.send({ type: 'command.output', at: this.state.now, runId: eff.id, lines: out.lines });
        this.send({ type: 'command.result', at: this.state.now, runId: eff.id, ok: out.ok, exitCode: out.exitCode, detail: out.detail });
      }
    }
    return r.effects;
  }

  /** Advance one analysis minute: samples, then whatever the crew does. */
  minute(): void {
    if (this.crew) this.tickOnce();
    const at = this.state.now + MIN;
    // The stable fleet while no canary traffic flows, as the simulated world sends it.
    this.send({ type: 'sli.samples', at, samples: samples(this.canary(this.state), HEALTHY, this.state.desiredWeight === 0) });
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
    this.tickOnce();
    return this.send({ type: 'approve', at: this.state.now, actor: { id: who, name: who }, phase, role });
  }
}

/** Every item of the checklists before a gate ticked by the SRE lead, as a person does with `t`. */
/** An item with an automated check is ticked by its check (engine rules 3: never by hand unless it
 * failed): the check is run and answers "passed" at once. `d.state` may be a snapshot taken before
 * the call: nothing else happens in between, so each check's run is the next effect id. */
export function tickEverything(d: { send(e: EngineEvent): unknown; state: RolloutState; plan: Plan }): void {
  const gated = Object.values(runbookPlan(d.plan).gateChecklists).flat().flatMap((c) => c.items);
  const chloe = { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-lead'] };
  const at = d.state.now;
  let nextId = d.state.nextEffectId;
  const seen = new Set<string>();
  for (const item of gated) {
    if (seen.has(item.key)) continue;
    seen.add(item.key);
    if (!item.check) {
      d.send({ type: 'command', at, actor: chloe, command: { kind: 'tick-item', item: item.key } });
      continue;
    }
    const runId = nextId++;
    d.send({ type: 'command', at, actor: chloe, command: { kind: 'run-check', item: item.key } });
    // (A driver that answers run-command effects itself has done so already: this one is ignored.)
    d.send({ type: 'command.result', at, runId, ok: true, exitCode: 0, detail: 'exited 0' });
  }
}

export function checklistKeys(plan: Plan): string[] {
  return runbookPlan(plan).items.map((i) => i.key);
}

/** The plan with no checklist before any gate: for tests of other things (the journal, the war
 * room, notifications) that open the first gate with approvals alone. */
export function withoutGateChecklists(plan: Plan): Plan {
  return { ...plan, phases: plan.phases.map(({ checklists: _c, ...p }) => p) };
}
