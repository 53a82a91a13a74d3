// Kubernetes wiring for the CLI: the clusters of the plan's regions, the pods source, the traffic
// provider with its drift watch, and the Lease that makes one terminal the driver. Used by
// `canary start`/`run` when the plan's traffic provider is a Kubernetes one, and by
// `canary rollback` (the same rollback code as `R` `y` in the console).
import { dirname } from 'node:path';
import type { Plan } from './plan/schema.js';
import { parseDuration } from './plan/duration.js';
import { rollbackHookOf } from './actuators/runbook.js';
import { connectClusters, type ClusterTarget, type KubeOptions } from './kube/config.js';
import { KubePodsSource } from './sources/kube-pods.js';
import { KubeTraffic, TrafficWatch } from './actuators/traffic/kube-traffic.js';
import { makeProvider } from './actuators/traffic/providers.js';
import { LeaseKeeper } from './actuators/lease.js';

export interface KubeWiring {
  targets: ClusterTarget[];
  from: string;
  pods: KubePodsSource;
  traffic: KubeTraffic;
  watch: TrafficWatch;
  lease: LeaseKeeper | null;
  close(): void;
}

export interface KubeWiringOptions extends KubeOptions {
  now: () => number;
  planPath: string;
  /** Take part in driver election (false: `canary rollback`, which never needs the lease). */
  lease?: boolean;
  identity?: string;
  /** Lease timings (client-go's by default: 15 s duration from the plan, 10 s renew deadline, 2 s retry). */
  leaseTimings?: { durationSeconds?: number; renewDeadlineMs?: number; retryMs?: number };
  driftEveryMs?: number;
  podOptions?: Partial<ConstructorParameters<typeof KubePodsSource>[0]>;
}

export { isKubernetesPlan } from './plan/provider.js';

export async function connectKubernetes(plan: Plan, o: KubeWiringOptions): Promise<KubeWiring> {
  const { targets, from } = await connectClusters({ regions: plan.target.regions, ...(plan.target.clusters ? { clusters: plan.target.clusters } : {}) }, o);
  const provider = makeProvider(plan.traffic.provider, { namespace: plan.target.namespace, ...plan.traffic });
  const primary = targets.find((t) => t.regions.includes(plan.target.primaryRegion)) ?? targets[0]!;
  const lease =
    o.lease === false
      ? null
      : new LeaseKeeper({
          cluster: primary.cluster,
          namespace: plan.target.namespace,
          name: plan.target.lease.name ?? `canary-${plan.metadata.name}`,
          durationSeconds: (parseDuration(plan.target.lease.duration) ?? 15_000) / 1000,
          now: o.now,
          ...o.leaseTimings,
          ...(o.identity ? { identity: o.identity } : {}),
        });
  const hook = rollbackHookOf(plan, dirname(o.planPath), 'real');
  const traffic = new KubeTraffic({
    targets,
    provider,
    ...(lease ? { guard: lease.whyNot } : {}),
    ...(plan.rollback.scaleCanaryToZero ? { scaleCanaryToZero: { namespace: plan.target.namespace, deployment: plan.target.deployment } } : {}),
    ...(hook ? { hook: { ...hook, ...(o.env ? { base: o.env } : {}) } } : {}),
  });
  const pods = new KubePodsSource({
    targets,
    namespace: plan.target.namespace,
    selectors: plan.target.selectors,
    ...(plan.target.regionLabel ? { regionLabel: plan.target.regionLabel } : {}),
    now: o.now,
    ...o.podOptions,
  });
  const watch = new TrafficWatch(traffic, targets, o.now, o.driftEveryMs ?? 10_000);
  return {
    targets,
    from,
    pods,
    traffic,
    watch,
    lease,
    close() {
      for (const t of targets) t.cluster.close();
    },
  };
}
