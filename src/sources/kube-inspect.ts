// `kubectl describe pod` and `kubectl logs -f` for the pod a person selects, from the Kubernetes
// API of the pod's cluster: the pod (conditions, container states, node), its events
// (involvedObject field selector), and pods/{name}/log with follow=true, the plan's container, a
// sinceSeconds window and tailLines. A container that is crash-looping has no running instance to
// follow: its previous instance's log (previous=true) is what it said before it died.
import type { ClusterTarget } from '../kube/config.js';
import type { KubeCluster, WatchHandle } from '../kube/client.js';
import type { PodDetail } from '../engine/types.js';
import type { PodInspectRequest, PodInspector } from '../runtime/ports.js';

type Obj = Record<string, unknown>;
const o = (x: unknown): Obj => (x && typeof x === 'object' ? (x as Obj) : {});
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

function stateText(st: Obj): string {
  if (st.running) return `Running since ${str(o(st.running).startedAt) ?? '?'}`;
  if (st.waiting) {
    const w = o(st.waiting);
    return `Waiting: ${str(w.reason) ?? '?'}${w.message ? ` (${str(w.message)})` : ''}`;
  }
  if (st.terminated) {
    const t = o(st.terminated);
    return `Terminated: ${str(t.reason) ?? '?'} (exit code ${String(t.exitCode ?? '?')})`;
  }
  return 'unknown';
}

/** The parts of a Pod and its Events that `kubectl describe pod` shows and that matter here. */
export function describePod(pod: Obj, events: Obj[]): PodDetail {
  const spec = o(pod.spec);
  const status = o(pod.status);
  const statuses = (Array.isArray(status.containerStatuses) ? status.containerStatuses : []).map(o);
  const specContainers = (Array.isArray(spec.containers) ? spec.containers : []).map(o);
  const containers = (specContainers.length ? specContainers : statuses).map((c) => {
    const name = str(c.name) ?? '?';
    const cs = statuses.find((x) => x.name === name) ?? {};
    const last = o(cs.lastState);
    return {
      name,
      ...(str(c.image) ?? str(cs.image) ? { image: (str(c.image) ?? str(cs.image))! } : {}),
      ready: cs.ready === true,
      restarts: typeof cs.restartCount === 'number' ? cs.restartCount : 0,
      state: cs.state ? stateText(o(cs.state)) : 'Waiting: not started',
      ...(Object.keys(last).length ? { lastState: stateText(last) } : {}),
    };
  });
  const time = (e: Obj) => Date.parse(str(e.lastTimestamp) ?? str(e.eventTime) ?? str(e.firstTimestamp) ?? str(o(e.metadata).creationTimestamp) ?? '') || 0;
  return {
    ...(str(spec.nodeName) ? { node: str(spec.nodeName)! } : {}),
    ...(str(status.podIP) ? { ip: str(status.podIP)! } : {}),
    phase: str(status.phase) ?? 'Unknown',
    conditions: (Array.isArray(status.conditions) ? status.conditions : []).map(o).map((c) => ({
      type: str(c.type) ?? '?',
      status: str(c.status) ?? '?',
      ...(str(c.reason) ? { reason: str(c.reason)! } : {}),
      ...(str(c.message) ? { message: str(c.message)! } : {}),
    })),
    containers,
    events: events
      .map((e) => ({ type: str(e.type) ?? 'Normal', reason: str(e.reason) ?? '', message: str(e.message) ?? '', count: typeof e.count === 'number' ? e.count : 1, at: time(e) }))
      .sort((a, b) => a.at - b.at)
      .slice(-20),
  };
}

export interface KubePodInspectorOptions {
  targets: ClusterTarget[];
  /** Real ms between hand-offs of followed lines (default 100). */
  batchMs?: number;
}

export class KubePodInspector implements PodInspector {
  constructor(private readonly opts: KubePodInspectorOptions) {}

  private clusterOf(region: string): KubeCluster | undefined {
    return (this.opts.targets.find((t) => t.regions.includes(region)) ?? this.opts.targets[0])?.cluster;
  }

  inspect(e: PodInspectRequest, out: { detail(d: PodDetail | null, error?: string): void; logs(lines: string[], ended?: string): void }): { stop(): void } {
    const cluster = this.clusterOf(e.region);
    let stopped = false;
    let stream: WatchHandle | null = null;
    let batch: string[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = (ended?: string) => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (stopped) return;
      if (batch.length || ended) out.logs(batch, ended);
      batch = [];
    };
    if (!cluster) {
      queueMicrotask(() => out.detail(null, `no cluster serves region ${e.region}`));
      return { stop() {} };
    }
    const base = `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/pods/${encodeURIComponent(e.name)}`;
    const run = async () => {
      let pod: Obj;
      try {
        pod = await cluster.request('GET', base, { verb: 'get', resource: 'pods' });
        let events: Obj[] = [];
        try {
          const list = await cluster.request('GET', `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/events`, {
            verb: 'list',
            resource: 'events',
            query: { fieldSelector: `involvedObject.name=${e.name},involvedObject.namespace=${e.namespace}` },
          });
          events = (Array.isArray(list.items) ? list.items : []).map(o);
        } catch (err) {
          // Events are extra: without them (RBAC, an old server) the description still stands.
          events = [{ type: 'Warning', reason: 'EventsUnavailable', message: err instanceof Error ? err.message : String(err), count: 1 }];
        }
        if (stopped) return;
        out.detail(describePod(pod, events));
      } catch (err) {
        if (!stopped) out.detail(null, err instanceof Error ? err.message : String(err));
        return;
      }
      const names = (Array.isArray(o(pod.spec).containers) ? (o(pod.spec).containers as unknown[]) : []).map((c) => str(o(c).name) ?? '');
      let container = e.container && names.includes(e.container) ? e.container : names[0];
      if (e.container && container !== e.container && container) batch.push(`(the plan's container "${e.container}" is not in this pod; following "${container}")`);
      if (!container) container = e.container ?? '';
      const cs = (Array.isArray(o(pod.status).containerStatuses) ? (o(pod.status).containerStatuses as unknown[]) : []).map(o).find((c) => c.name === container);
      const crashLooping = str(o(o(cs?.state).waiting).reason) === 'CrashLoopBackOff';
      const follow = (previous: boolean) =>
        cluster.stream(
          `${base}/log`,
          { container, follow: previous ? undefined : 'true', previous: previous ? 'true' : undefined, sinceSeconds: Math.max(1, Math.round(e.sinceMs / 1000)), tailLines: e.tail },
          'pods/log',
          {
            onLine: (line) => {
              batch.push(line);
              if (!timer) timer = setTimeout(() => flush(), this.opts.batchMs ?? 100);
            },
            onEnd: (err) => {
              if (stopped) return;
              if (err && !previous && /40[04]/.test(err.message) && typeof cs?.restartCount === 'number' && cs.restartCount > 0) {
                // The current instance is not there (crash-looping): what the last one said.
                void follow(true).then((h) => (stream = h), (e2: unknown) => flush(String(e2)));
                return;
              }
              flush(err ? err.message : previous || crashLooping ? `container "${container}" is not running (${crashLooping ? 'CrashLoopBackOff' : 'ended'}): these are its last words` : `log stream of ${container} ended`);
            },
          },
        );
      stream = await follow(crashLooping);
      if (stopped) stream.abort();
    };
    run().catch((err: unknown) => {
      if (!stopped) flush(err instanceof Error ? err.message : String(err));
    });
    return {
      stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
        stream?.abort();
      },
    };
  }
}
