// Pods and traffic from the clusters of a Kubernetes plan's regions, in real time; SLIs from the
// embedded world or Prometheus. Loaded only for such a plan.
import { UserError, messageOf } from '../commands/errors.js';
import { connectKubernetes, type KubeWiring } from '../kubernetes.js';
import type { Source } from '../runtime/ports.js';
import { realClock, simSource, type Common, type ModeParts } from './parts.js';

export async function kubernetesParts(c: Common, prometheus: boolean): Promise<ModeParts> {
  const clock = realClock();
  // Prometheus's options are checked before any cluster is contacted.
  const prom = prometheus ? (await import('./prometheus.js')).prometheusSource(c, clock) : null;
  let kube: KubeWiring;
  try {
    kube = await connectKubernetes(c.plan, {
      planPath: c.planPath,
      now: () => clock.now(),
      env: c.env.vars,
      ...(c.values.kubeconfig ? { kubeconfig: c.values.kubeconfig } : {}),
      ...(c.values.context ? { contexts: c.values.context } : {}),
    });
  } catch (err) {
    prom?.close();
    throw new UserError(messageOf(err));
  }
  const sources: Source[] = [simSource(c, clock, { samples: prom === null, pods: false }), kube.pods, kube.watch, ...(kube.lease ? [kube.lease] : []), ...(prom ? [prom.source] : [])];
  return {
    clock,
    sources,
    traffic: kube.traffic,
    kubeTargets: kube.targets,
    ...(prom ? { prometheus: prom.client } : {}),
    // A Kubernetes rollback keeps trying for 60 s, then scales down and runs the hook (up to 120 s).
    actuatorTimeoutMs: 240_000,
    // Simulated people never approve anything on real clusters.
    noCrew: true,
    serveByDefault: false,
    afterStart: async (runtime, dispatch) => {
      await prom?.afterStart?.(runtime, dispatch);
      // Who drives, before anything can move traffic: a resumed journal may say "this terminal"
      // from an earlier process, and the in-doubt redo needs the lease.
      if (kube.lease) {
        const won = await kube.lease.tryAcquireOrRenew();
        dispatch({ type: 'driver.status', at: clock.now(), holder: won ? kube.lease.identity : kube.lease.holder, self: won });
      }
    },
    close: () => {
      prom?.close();
      kube.close();
    },
  };
}
