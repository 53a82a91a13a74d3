// Fixtures for console tests: the reference plan, a tiny store over the real engine (it records
// every event and effect), and builders for pods and SLI samples.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Plan } from '../../src/plan/schema.js';
import { initialState, reduce } from '../../src/engine/reduce.js';
import { runbookPlan } from '../../src/engine/runbook.js';
import type { Actor, Effect, EngineEvent, PodInfo, RolloutState, SliSample } from '../../src/engine/types.js';
import type { Store } from '../../src/runtime/store.js';

let cached: Plan | undefined;
export function loadPlan(): Plan {
  cached ??= Plan.parse(parse(readFileSync(new URL('../../config/maestro-conductor-rc.yaml', import.meta.url), 'utf8')));
  return cached;
}

export interface TestStore extends Store {
  events: EngineEvent[];
  effects: Effect[];
  /** The clock events are stamped with by `at()`; moved by `advance(ms)`. */
  clock: { t: number };
}

/** `checklist: false` starts with the checklists unticked; by default the SRE lead ticked every
 * item before `start` (console tests of other things start at the approvals). */
export function makeStore(plan: Plan, start: number, opts: { checklist?: boolean; initial?: RolloutState } = {}): TestStore {
  let state: RolloutState = opts.initial ?? initialState(plan, start);
  if (opts.checklist !== false && !opts.initial)
    state = { ...state, runbook: { ...state.runbook, ticks: Object.fromEntries(runbookPlan(plan).items.map((i) => [i.key, { by: CHLOE.name!, at: start, how: 'person' as const }])) } };
  const listeners = new Set<() => void>();
  const store: TestStore = {
    events: [],
    effects: [],
    clock: { t: start },
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    dispatch(event) {
      store.events.push(event);
      const r = reduce(plan, state, event);
      state = r.state;
      store.effects.push(...r.effects);
      for (const l of [...listeners]) l();
    },
  };
  return store;
}

export const DEV: Actor = { id: 'dev', name: 'Dev Raman', roles: ['eng-lead'] };
export const CHLOE: Actor = { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-primary', 'sre-secondary', 'sre-lead'] };
export const OPERATOR: Actor = { id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] };

/** Tuesday 2026-11-10 10:00 New York: not a weekend, not a plan holiday. */
export const T0 = Date.parse('2026-11-10T15:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export interface Healthy {
  availability: number;
  latency_p95: number;
  error_rate: number;
  workflow_success_rate: number;
  request_rate: number;
}

const GOOD: Healthy = { availability: 99.97, latency_p95: 320, error_rate: 0.03, workflow_success_rate: 99.8, request_rate: 850 };
const COUNTS = ['safety_violations', 'critical_errors', 'security_violations', 'data_integrity_failures', 'memory_leaks', 'customer_complaints', 'security_incidents'];

/** Samples for every SLI of the plan, canary, baseline and stable (as the baseline); `i` wiggles the values a little. */
export function samples(i: number, over: Partial<Record<string, number | null>> = {}): SliSample[] {
  const out: SliSample[] = [];
  const wiggle = Math.sin(i / 2);
  for (const [sli, v] of Object.entries(GOOD)) {
    const c = sli === 'latency_p95' ? v + 40 * wiggle : sli === 'request_rate' ? v + 50 * wiggle : v;
    out.push({ sli, track: 'canary', value: sli in over ? (over[sli] ?? null) : c });
    out.push({ sli, track: 'baseline', value: sli === 'latency_p95' ? 300 + 20 * Math.cos(i / 3) : v });
    out.push({ sli, track: 'stable', value: sli === 'latency_p95' ? 300 + 20 * Math.cos(i / 3) : v });
  }
  for (const sli of COUNTS) {
    out.push({ sli, track: 'canary', value: sli in over ? (over[sli] ?? null) : 0 });
    out.push({ sli, track: 'baseline', value: 0 });
    out.push({ sli, track: 'stable', value: 0 });
  }
  return out;
}

export function pod(name: string, over: Partial<PodInfo> = {}): PodInfo {
  const region = over.region ?? 'us-east-1';
  return {
    key: `${region}/maestro-conductor-canary/${name}`,
    name,
    namespace: 'maestro-conductor-canary',
    region,
    track: 'stable',
    phase: 'Running',
    ready: true,
    reason: 'Running',
    restarts: 0,
    startedAt: T0 - 2 * HOUR,
    ...over,
  };
}

/** A small fleet: 3 canary + 5 stable in us-east-1, one canary in CrashLoopBackOff, one stable Pending. */
export function fleet(): PodInfo[] {
  const pods: PodInfo[] = [];
  for (let i = 0; i < 3; i++) pods.push(pod(`orchestrator-canary-7d9f-${i}`, { track: 'canary', startedAt: T0 - 5 * MIN }));
  pods.push(
    pod('orchestrator-canary-7d9f-crash', { track: 'canary', ready: false, reason: 'CrashLoopBackOff', restarts: 7, lastRestartReason: 'Error', startedAt: T0 - 5 * MIN }),
  );
  for (let i = 0; i < 5; i++) pods.push(pod(`orchestrator-stable-55c8-${i}`, { startedAt: T0 - 3 * 86_400_000 }));
  pods.push(pod('orchestrator-stable-55c8-pend', { phase: 'Pending', ready: false, reason: 'Pending', message: '0/3 nodes available: Insufficient cpu' }));
  return pods;
}

/** `n` pods across three regions, a few of them unhealthy. */
export function manyPods(n: number, region = 'us-east-1'): PodInfo[] {
  const out: PodInfo[] = [];
  for (let i = 0; i < n; i++) {
    const canary = i % 10 === 0;
    const crash = i % 97 === 3;
    out.push(
      pod(`orchestrator-${canary ? 'canary' : 'stable'}-${String(i).padStart(5, '0')}`, {
        region,
        track: canary ? 'canary' : 'stable',
        ...(crash ? { ready: false, reason: 'CrashLoopBackOff', restarts: 4 } : {}),
        startedAt: T0 - (i % 500) * MIN,
      }),
    );
  }
  return out;
}

/** One round of healthy samples now: the first gate opens only on a healthy source and valid
 * baseline data (issue 15), as after the first query round of a real source. Returns the store. */
export function seen(store: TestStore): TestStore {
  store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(0) });
  return store;
}

/** Drive a store to: approvals for canary-1, the gate opened, weight confirmed, `minutes` of
 * healthy samples a minute apart, and the fleet synced. Returns the time of the last event. */
export function runningScenario(store: TestStore, minutes = 10): number {
  let t = store.clock.t;
  // The first gate opens only on a healthy source and valid baseline data: one round of samples.
  store.dispatch({ type: 'sli.samples', at: t, samples: samples(0) });
  store.dispatch({ type: 'approve', at: t, actor: DEV, phase: 'canary-1', role: 'eng-lead' });
  store.dispatch({ type: 'approve', at: t, actor: CHLOE, phase: 'canary-1', role: 'sre-lead' });
  store.dispatch({ type: 'command', at: t, actor: OPERATOR, command: { kind: 'advance' } });
  const setWeight = store.effects.find((e) => e.type === 'set-weight');
  if (!setWeight || setWeight.type !== 'set-weight') throw new Error('the gate did not open');
  t += 1000;
  store.dispatch({ type: 'effect.result', at: t, effectId: setWeight.id, ok: true, detail: 'weight 1% confirmed', weight: setWeight.weight });
  store.dispatch({ type: 'pods.sync', at: t, region: 'us-east-1', pods: fleet() });
  for (let i = 0; i < minutes; i++) {
    t += MIN;
    store.dispatch({ type: 'sli.samples', at: t, samples: samples(i) });
  }
  t += 4000;
  store.dispatch({ type: 'tick', at: t });
  store.clock.t = t;
  return t;
}
