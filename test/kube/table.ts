// Server-side printing for `kubectl get pods` without -o: the meta.k8s.io Table a real server sends
// when the client's Accept asks for `as=Table` (kubectl always does for human output, with plain
// JSON as its fallback). Pods get the columns and the READY/STATUS/RESTARTS logic of
// pkg/printers/internalversion (printPod); other types are answered with plain JSON, from which
// kubectl prints NAME and AGE itself, as it does for a custom resource without printer columns.
import type { KubeObject } from './store.js';

type Json = Record<string, unknown>;

/** The Table version the Accept header asks for ('v1' preferred), or undefined. */
export function tableVersion(accept: string | undefined): 'v1' | 'v1beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s/g, '');
    if (!p.includes('as=Table') || !p.includes('g=meta.k8s.io')) continue;
    if (p.includes('v=v1beta1')) return 'v1beta1';
    if (p.includes('v=v1')) return 'v1';
  }
  return undefined;
}

/** Kubernetes' duration.HumanDuration, as the AGE column shows it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: unknown, now: number): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

const POD_COLUMNS = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 },
  { name: 'Ready', type: 'string', format: '', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0 },
  { name: 'Status', type: 'string', format: '', description: 'The aggregate status of the containers in this pod.', priority: 0 },
  { name: 'Restarts', type: 'string', format: '', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', priority: 0 },
  { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata', priority: 0 },
  { name: 'IP', type: 'string', format: '', description: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', priority: 1 },
  { name: 'Node', type: 'string', format: '', description: "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.", priority: 1 },
  { name: 'Nominated Node', type: 'string', format: '', description: 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node.', priority: 1 },
  { name: 'Readiness Gates', type: 'string', format: '', description: 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', priority: 1 },
];

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: Json; terminated?: { reason?: string; signal?: number; exitCode?: number } };
  lastState?: { terminated?: { finishedAt?: string } };
}

/** The cells of printPod: name, ready, status, restarts, age, IP, node, nominated node, readiness gates. */
export function podCells(pod: KubeObject, now: number): unknown[] {
  const spec = (pod.spec ?? {}) as { containers?: unknown[]; nodeName?: string; readinessGates?: { conditionType: string }[] };
  const status = (pod.status ?? {}) as {
    phase?: string;
    reason?: string;
    podIP?: string;
    nominatedNodeName?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: (ContainerStatus & { name?: string })[];
  };
  const total = spec.containers?.length ?? 0;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason = status.reason || status.phase || '';
  for (const c of status.conditions ?? []) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  // Init containers (restartable "sidecar" init containers are not modelled: none are served here).
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i] as ContainerStatus;
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
    const t = c.state?.terminated;
    if (t && (t.exitCode ?? 0) === 0) continue;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode ?? 0}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${inits.length}`;
    break;
  }
  const initialized = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = 0;
    lastRestart = 0;
    let hasRunning = false;
    const cs = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i] as ContainerStatus;
      restarts += c.restartCount ?? 0;
      const finished = c.lastState?.terminated?.finishedAt;
      if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready += 1;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const gates = spec.readinessGates ?? [];
  const trueConditions = new Set((status.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type));
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    reason,
    restartsCell,
    since(pod.metadata.creationTimestamp, now),
    status.podIP || '<none>',
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    gates.length ? `${gates.filter((g) => trueConditions.has(g.conditionType)).length}/${gates.length}` : '<none>',
  ];
}

function rowObject(obj: KubeObject, includeObject: string, version: string): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

/** A Table of pods (`includeObject`: None, Metadata (default) or Object). */
export function podTable(pods: KubeObject[], listMeta: Json, version: 'v1' | 'v1beta1', includeObject: string | null, now: number): string {
  const include = includeObject ?? 'Metadata';
  const rows = pods.map((p) => {
    const phase = (p.status as { phase?: string } | undefined)?.phase;
    const conditions = phase === 'Succeeded' ? [{ type: 'Completed', status: 'True', reason: phase, message: 'The pod has completed successfully.' }] : phase === 'Failed' ? [{ type: 'Completed', status: 'True', reason: phase, message: 'The pod failed.' }] : undefined;
    const object = rowObject(p, include, version);
    return { cells: podCells(p, now), ...(conditions ? { conditions } : {}), ...(object !== undefined ? { object } : {}) };
  });
  return JSON.stringify({ kind: 'Table', apiVersion: `meta.k8s.io/${version}`, metadata: listMeta, columnDefinitions: POD_COLUMNS, rows });
}

/** A simple JSONPath as CRD printer columns use it: `.status.phase`, `.spec.items[0].name`. */
export function readJsonPath(obj: unknown, path: string): unknown {
  const parts = path.replace(/^\{?\.?/, '').replace(/\}$/, '').split('.').filter(Boolean);
  let cur: unknown = obj;
  for (const part of parts) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      cur = (cur as Json)[m[1]];
    }
    for (const idx of m[2]!.match(/\d+/g) ?? []) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(idx)];
    }
  }
  return cur;
}

/**
 * A Table of custom resources by their CRD's additionalPrinterColumns, as the apiextensions
 * server's tableconvertor builds it: a Name column, then each printer column; a `date` column is
 * shown as an age (HumanDuration), a missing value as an empty cell (kubectl prints <none>).
 */
export function customTable(
  def: { kind: string },
  columns: readonly { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }[],
  objs: KubeObject[],
  listMeta: Json,
  version: 'v1' | 'v1beta1',
  includeObject: string | null,
  now: number,
): string {
  const include = includeObject ?? 'Metadata';
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: `Name must be unique within a namespace.`, priority: 0 },
    ...columns.map((c) => ({ name: c.name, type: c.type === 'date' ? 'date' : c.type, format: c.format ?? '', description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`, priority: c.priority ?? 0 })),
  ];
  const rows = objs.map((o) => {
    const cells: unknown[] = [o.metadata.name];
    for (const c of columns) {
      const v = readJsonPath(o, c.jsonPath);
      if (v === undefined || v === null) cells.push(null);
      else if (c.type === 'date') cells.push(since(v, now));
      else if (typeof v === 'object') cells.push(JSON.stringify(v));
      else cells.push(v);
    }
    const object = rowObject(o, include, version);
    return { cells, ...(object !== undefined ? { object } : {}) };
  });
  void def;
  return JSON.stringify({ kind: 'Table', apiVersion: `meta.k8s.io/${version}`, metadata: listMeta, columnDefinitions, rows });
}
