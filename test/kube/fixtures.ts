// Realistic objects for tests and benchmarks: pods the size and shape a real cluster serves (about
// 2.5 KB each with status, conditions and containerStatuses), deployments, leases and the traffic
// objects of each provider.
import type { KubeObject } from './store.js';

export interface PodOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** Running (default), Pending, Succeeded, Failed. */
  phase?: 'Running' | 'Pending' | 'Succeeded' | 'Failed';
  ready?: boolean;
  restarts?: number;
  /** A waiting reason (CrashLoopBackOff, ImagePullBackOff, ContainerCreating...) or a last termination reason (OOMKilled). */
  waitingReason?: string;
  lastTerminationReason?: string;
  /** When that last termination finished (default: the creation time). */
  lastTerminatedAt?: Date;
  /** Pending: the PodScheduled condition's reason and message (Unschedulable, "0/3 nodes are available: ..."). */
  unschedulable?: string;
  image?: string;
  node?: string;
  podIP?: string;
  createdAt?: Date;
  uid?: string;
}

let seq = 0;
function hex(n: number, len: number): string {
  return n.toString(16).padStart(len, '0').slice(-len);
}
function uidFor(name: string): string {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  seq += 1;
  return `${hex(h, 8)}-${hex(seq, 4)}-4${hex(h >>> 4, 3)}-8${hex(seq * 7919, 3)}-${hex(h, 6)}${hex(seq, 6)}`;
}
function time(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A pod as a kubelet-managed cluster serves it (no managedFields: kubectl -o json shows them, canary never reads them). */
export function makePod(o: PodOptions): KubeObject {
  const ns = o.namespace ?? 'default';
  const labels = o.labels ?? { app: 'checkout', track: 'stable' };
  const created = o.createdAt ?? new Date(Date.UTC(2026, 10, 26, 9, 0, 0));
  const t = time(created);
  const phase = o.phase ?? 'Running';
  const ready = o.ready ?? (phase === 'Running' && !o.waitingReason);
  const image = o.image ?? 'registry.example.com/shop/checkout:4.18.0';
  const node = o.node ?? `ip-10-0-${(o.name.length * 7) % 250}-${(o.name.charCodeAt(o.name.length - 1) * 3) % 250}.eu-west-1.compute.internal`;
  const app = labels.app ?? 'app';
  let h = 0;
  for (const c of o.name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  const podIP = o.podIP ?? `10.1.${(h >>> 8) % 250}.${(h % 250) + 2}`;
  const rsName = `${app}-${labels.track ?? 'stable'}-7d9f8b6c5d`;
  const containerState: Record<string, unknown> =
    phase === 'Pending' && !o.waitingReason
      ? { waiting: { reason: 'ContainerCreating' } }
      : o.waitingReason
        ? { waiting: { reason: o.waitingReason, message: `back-off 5m0s restarting failed container=${app} pod=${o.name}_${ns}(${o.uid ?? 'uid'})` } }
        : phase === 'Running'
          ? { running: { startedAt: t } }
          : { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: t, finishedAt: t } };
  const cond = (type: string, status: boolean, extra: Record<string, unknown> = {}) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
    ...extra,
  });
  const scheduled = !o.unschedulable;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      generateName: `${rsName}-`,
      namespace: ns,
      uid: o.uid ?? uidFor(o.name),
      creationTimestamp: t,
      labels: { ...labels, 'pod-template-hash': '7d9f8b6c5d' },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: '0b4c1a52-6f0e-4d1b-9a53-3c1f0f3a8e21', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: app,
          image,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9090, protocol: 'TCP' }],
          env: [{ name: 'TRACK', value: labels.track ?? 'stable' }, { name: 'GOMAXPROCS', value: '2' }],
          resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
          volumeMounts: [{ name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(scheduled ? { nodeName: node } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase,
      conditions: scheduled
        ? [
            cond('PodReadyToStartContainers', phase !== 'Pending'),
            cond('Initialized', true),
            cond('Ready', ready, ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${app}]` }),
            cond('ContainersReady', ready, ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${app}]` }),
            cond('PodScheduled', true),
          ]
        : [cond('PodScheduled', false, { reason: 'Unschedulable', message: o.unschedulable })],
      ...(scheduled ? { hostIP: '10.0.12.34', hostIPs: [{ ip: '10.0.12.34' }], podIP, podIPs: [{ ip: podIP }], startTime: t } : {}),
      ...(scheduled
        ? {
            containerStatuses: [
              {
                name: app,
                state: containerState,
                ...(o.lastTerminationReason
                  ? { lastState: { terminated: { exitCode: 137, reason: o.lastTerminationReason, startedAt: t, finishedAt: o.lastTerminatedAt ? time(o.lastTerminatedAt) : t, containerID: `containerd://${'b'.repeat(64)}` } } }
                  : { lastState: {} }),
                ready,
                restartCount: o.restarts ?? 0,
                image,
                imageID: `${image.split(':')[0]}@sha256:${'a'.repeat(64)}`,
                ...(phase === 'Running' ? { containerID: `containerd://${'c'.repeat(64)}` } : {}),
                started: phase === 'Running',
              },
            ],
          }
        : {}),
      qosClass: 'Burstable',
    },
  };
}

/** `count` pods named `<prefix>-<i>`, a fraction of them canary. */
export function makePods(count: number, o: { namespace?: string; app?: string; canaryEvery?: number; prefix?: string } = {}): KubeObject[] {
  const app = o.app ?? 'checkout';
  const every = o.canaryEvery ?? 10;
  const out: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const track = i % every === 0 ? 'canary' : 'stable';
    out.push(makePod({ name: `${o.prefix ?? app}-${track}-${i.toString(36).padStart(5, '0')}`, namespace: o.namespace ?? 'default', labels: { app, track } }));
  }
  return out;
}

export function makeDeployment(name: string, o: { namespace?: string; replicas?: number; labels?: Record<string, string> } = {}): KubeObject {
  const labels = o.labels ?? { app: name };
  const replicas = o.replicas ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: o.namespace ?? 'default', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/app:1.0.0' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    },
    status: { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

export function makeVirtualService(name: string, o: { namespace?: string; host?: string; stable?: number; canary?: number } = {}): KubeObject {
  const host = o.host ?? name;
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      hosts: [host],
      http: [
        {
          name: 'primary',
          route: [
            { destination: { host, subset: 'stable' }, weight: o.stable ?? 100 },
            { destination: { host, subset: 'canary' }, weight: o.canary ?? 0 },
          ],
        },
      ],
    },
  };
}

export function makeHttpRoute(name: string, o: { namespace?: string; stable?: number; canary?: number } = {}): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      parentRefs: [{ name: 'shop-gateway' }],
      rules: [
        {
          backendRefs: [
            { name: `${name}-stable`, port: 8080, weight: o.stable ?? 100 },
            { name: `${name}-canary`, port: 8080, weight: o.canary ?? 0 },
          ],
        },
      ],
    },
  };
}

export function makeTrafficSplit(name: string, o: { namespace?: string; stable?: number; canary?: number } = {}): KubeObject {
  return {
    apiVersion: 'split.smi-spec.io/v1alpha2',
    kind: 'TrafficSplit',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      service: name,
      backends: [
        { service: `${name}-stable`, weight: o.stable ?? 100 },
        { service: `${name}-canary`, weight: o.canary ?? 0 },
      ],
    },
  };
}

export function makeRollout(name: string, o: { namespace?: string; replicas?: number } = {}): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: o.namespace ?? 'default' },
    spec: {
      replicas: o.replicas ?? 5,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: 'registry.example.com/shop/app:1.0.0' }] } },
      strategy: { canary: { steps: [{ setWeight: 5 }, { pause: {} }, { setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] } },
    },
    status: { currentStepIndex: 1, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-26T09:00:00Z' }], HPAReplicas: o.replicas ?? 5, selector: `app=${name}` },
  };
}

export function makeIngress(name: string, o: { namespace?: string; canary?: boolean; weight?: number } = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      annotations: o.canary ? { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': String(o.weight ?? 0) } : {},
    },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 8080 } } } }] } }],
    },
  };
}
