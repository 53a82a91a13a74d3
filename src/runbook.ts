// Runbook wiring for the CLI: the command runner (deploy steps, validation, rollback verification,
// checklist checks, flag hooks), the pod inspector (describe + logs -f), and on the embedded world a
// traffic actuator whose rollback runs the plan's rollback hook's stand-in, as KubeTraffic runs the
// real one. On the embedded world every command's `sim` stand-in runs (against the simulated
// service at CANARY_SIM_URL); with a Kubernetes plan the real commands do.
import { dirname } from 'node:path';
import type { Plan } from './plan/schema.js';
import type { PodInfo } from './engine/types.js';
import type { CommandRunner, PodInspector, TrafficActuator } from './runtime/ports.js';
import type { ClusterTarget } from './kube/config.js';
import type { PrometheusClient } from './sources/prometheus.js';
import { HookedTraffic, PlanCommandRunner, queryLines, queryRulesOf, rollbackHookOf, type RunMode } from './actuators/runbook.js';
import { SimPodInspector } from './sim/inspect.js';
import { KubePodInspector } from './sources/kube-inspect.js';

export interface RunbookWiringOptions {
  plan: Plan;
  planPath: string;
  /** sim: the embedded world (stand-ins run); real: a Kubernetes plan (the plan's commands run). */
  mode: RunMode;
  traffic: TrafficActuator;
  /** The simulated service's URL (the stand-ins' CANARY_SIM_URL), when it is served. */
  simUrl?: string | null;
  pod(key: string): PodInfo | undefined;
  now(): number;
  kubeTargets?: ClusterTarget[] | null;
  prometheus?: PrometheusClient | null;
  /** The environment commands start from (CanaryEnv.vars). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface RunbookWiring {
  traffic: TrafficActuator;
  commands: CommandRunner;
  inspector: PodInspector;
}

export function wireRunbook(o: RunbookWiringOptions): RunbookWiring {
  const cwd = dirname(o.planPath);
  const simEnv: Record<string, string> = o.simUrl ? { CANARY_SIM_URL: o.simUrl } : {};
  const prom = o.prometheus;
  const commands = new PlanCommandRunner({
    mode: o.mode,
    cwd,
    env: o.env,
    secretEnv: o.plan.runbook.secretEnv,
    simEnv,
    ...(prom ? { query: queryLines(prom), queryRules: queryRulesOf(o.plan) } : {}),
  });
  const simHook = o.mode === 'sim' ? rollbackHookOf(o.plan, cwd, 'sim', simEnv) : null;
  const hook = simHook ? { ...simHook, base: o.env } : simHook;
  const traffic = hook ? new HookedTraffic(o.traffic, hook) : o.traffic;
  const inspector: PodInspector = o.kubeTargets?.length
    ? new KubePodInspector({ targets: o.kubeTargets })
    : new SimPodInspector({ pod: o.pod, now: o.now, version: { canary: o.plan.metadata.version, stable: o.plan.metadata.previousVersion } });
  return { traffic, commands, inspector };
}
