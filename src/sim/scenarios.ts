// What goes wrong (or not) with the release candidate in the simulated world. A scenario is plain
// data: the world reads it to decide how canary traffic behaves once the canary weight reaches
// `atWeight`. Baseline and stable always behave like the healthy previous version.

export type ScenarioName = 'healthy' | 'latency-regression' | 'error-spike' | 'crashloop' | 'no-traffic';

/** Counters that stay at zero in a healthy service, as events per sim hour at full fault strength. */
export interface ScenarioEventRates {
  safetyViolations?: number;
  securityViolations?: number;
  criticalErrors?: number;
  dataIntegrityFailures?: number;
  memoryLeaks?: number;
  customerComplaints?: number;
  securityIncidents?: number;
}

export interface Scenario {
  name: string;
  /** One line, for `--help`. */
  description: string;
  /** The fault shows once the canary weight is at least this (percent). */
  atWeight: number;
  /** Sim ms the fault takes to reach full strength once it shows (linear ramp). */
  rampMs: number;
  /** Canary p95 latency at full strength (ms); unset: healthy latency. */
  canaryP95Ms?: number;
  /** Canary 5xx share at full strength (percent of requests); unset: healthy error rate. */
  canaryErrorPercent?: number;
  /** Canary pods crash on start (CrashLoopBackOff, restarts climbing); requests to them get 503. */
  crashLoop?: boolean;
  /** No requests reach canary or baseline at all (a broken route, a selector typo). */
  noTraffic?: boolean;
  /** Rare-event counters on the canary at full strength. */
  canaryEvents?: ScenarioEventRates;
}

const MINUTE = 60_000;

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  healthy: {
    name: 'healthy',
    description: 'the release candidate behaves like stable: every phase passes its checks',
    atWeight: 0,
    rampMs: 0,
  },
  'latency-regression': {
    name: 'latency-regression',
    description: 'from 25% canary weight, canary p95 climbs to ~1400 ms over ~20 min (errors slightly up)',
    atWeight: 25,
    rampMs: 20 * MINUTE,
    canaryP95Ms: 1400,
    canaryErrorPercent: 0.06,
  },
  'error-spike': {
    name: 'error-spike',
    description: 'from 5% canary weight, canary 5xx responses rise to ~3% within a few minutes',
    atWeight: 5,
    rampMs: 5 * MINUTE,
    canaryErrorPercent: 3,
  },
  crashloop: {
    name: 'crashloop',
    description: 'canary pods crash on start (CrashLoopBackOff); canary requests fail with 503',
    atWeight: 1,
    rampMs: 0,
    crashLoop: true,
  },
  'no-traffic': {
    name: 'no-traffic',
    description: 'no requests reach canary or baseline: ratio SLIs have no data, request rate is 0',
    atWeight: 0,
    rampMs: 0,
    noTraffic: true,
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(name: string): name is ScenarioName {
  return Object.prototype.hasOwnProperty.call(SCENARIOS, name);
}

/** A scenario by name (or as given); unknown names throw with the list of known ones. */
export function resolveScenario(scenario: ScenarioName | Scenario): Scenario {
  if (typeof scenario !== 'string') return scenario;
  if (!isScenarioName(scenario))
    throw new Error(`unknown scenario "${scenario as string}"; expected one of: ${SCENARIO_NAMES.join(', ')}`);
  return SCENARIOS[scenario];
}

/** `name  description` lines for `--help`. */
export function describeScenarios(): string {
  const width = Math.max(...SCENARIO_NAMES.map((n) => n.length));
  return SCENARIO_NAMES.map((n) => `${n.padEnd(width)}  ${SCENARIOS[n].description}`).join('\n');
}

/**
 * The scenario's fault at full strength at any canary weight, without a ramp: for
 * `SimWorld.inject` when the fault must show at once (real-time tests, a demo's "break it now").
 */
export function atOnce(scenario: ScenarioName | Scenario): Scenario {
  const s = resolveScenario(scenario);
  return { ...s, name: `${s.name} (at once)`, atWeight: 0, rampMs: 0 };
}
