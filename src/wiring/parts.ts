// What every mode of the wiring shares (src/wiring/build.ts builds it) and the small pieces the
// mode builders (simulated.ts, prometheus.ts, kubernetes.ts) use: a leaf below build.ts, so the
// builders that build.ts loads with import() never import build.ts back.
import type { CanaryEnv } from '../env.js';
import type { ValuesOf } from '../commands/options.js';
import type { WORLD_OPTIONS } from '../commands/world-options.js';
import type { Plan } from '../plan/schema.js';
import type { EngineEvent } from '../engine/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Clock, Source, TrafficActuator } from '../runtime/ports.js';
import type { ResumeResult } from '../journal/journal.js';
import { SimClock } from '../sim/clock.js';
import { SimSource, type PaceClock, type SpeedReport } from '../sim/sources.js';
import type { SimWorld } from '../sim/world.js';
import type { ClusterTarget } from '../kube/config.js';
import type { PrometheusClient } from '../sources/prometheus.js';

export type WorldValues = ValuesOf<typeof WORLD_OPTIONS>;

/** What every mode shares, decided before the mode's own parts are built. */
export interface Common {
  values: WorldValues;
  env: CanaryEnv;
  plan: Plan;
  planPath: string;
  planText: string;
  resumed: ResumeResult | null;
  world: SimWorld;
  speed: number;
  realTime: boolean;
  start: number;
}

/** What a mode adds: the clock, its sources, where traffic goes, and what to do once the runtime
 * exists (Prometheus's history, the Kubernetes lease), and its own close. */
export interface ModeParts {
  clock: Clock;
  sources: Source[];
  traffic: TrafficActuator;
  /** A Kubernetes rollback keeps trying for minutes: the runtime must not give up on it first. */
  actuatorTimeoutMs?: number;
  /** Real approvers only (never simulated people on real clusters). */
  noCrew?: boolean;
  /** Simulated people answer in seconds (real time) rather than simulated minutes. */
  crewRealTime?: boolean;
  /** Serve the simulated service by default (not against real clusters). */
  serveByDefault: boolean;
  /** The clusters of a Kubernetes plan: the runbook describes pods and follows logs there. */
  kubeTargets?: ClusterTarget[];
  /** The Prometheus client, when SLIs come from one: checklist query checks ask it. */
  prometheus?: PrometheusClient;
  /** The embedded world only: the pace its clock is asked to keep (the console's speed keys drive
   * it) and the speed the world actually keeps. */
  pace?: SimPacing;
  afterStart?: (runtime: Runtime, dispatch: (e: EngineEvent) => void) => Promise<void>;
  close(): Promise<void> | void;
}

/** The embedded world's pace: the clock it is asked to keep, and the speed it keeps. */
export interface SimPacing {
  clock: SimClock;
  /** Over the last seconds (the status bar). */
  actual(): SpeedReport;
  /** Since the speed was last changed (a headless run's summary). */
  average(): SpeedReport;
}

/** The simulated world's source, paced by `clock`: polls it twice per simulated analysis interval
 * (at most every 250 ms real), so samples are never older than the plan's staleAfter only because
 * the clock runs fast. Its `time` is the world's time, the clock a simulated rollout reads. */
export function simSource(c: Common, clock: PaceClock, o: { samples: boolean; pods: boolean }): SimSource {
  return new SimSource(c.world, clock, { periodMs: Math.min(250, Math.max(5, c.world.intervalMs / Math.max(c.speed, 1e-9) / 2)), samples: o.samples, pods: o.pods });
}

/** The real clock (Prometheus and clusters answer for real time only). */
export const realClock = (): Clock => ({ now: () => Date.now(), speed: 1 });

/** The simulated clock, from where the rollout was (resumed) or the demo's start: the pace the
 * world is asked to keep. The rollout reads the world's time (`SimSource.time`), never this. */
export const simClock = (c: Common): SimClock => new SimClock({ start: c.start, speed: c.speed });
