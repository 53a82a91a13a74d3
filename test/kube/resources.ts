// The resource types the test API server serves: the built-ins canary talks to and the custom
// resources of the traffic providers, which a test installs or leaves absent (an absent CRD is a 404
// on its paths and missing from discovery, as on a real cluster).

export interface ScaleSpec {
  /** Where spec.replicas lives in the object, e.g. ['spec', 'replicas']. */
  specReplicasPath: string[];
  statusReplicasPath: string[];
  /** A string selector (status.selector on Argo Rollouts) or, absent, spec.selector.matchLabels rendered as a string. */
  labelSelectorPath?: string[];
}

export interface ResourceDef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case: 'pods'. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Built-in types take strategic merge patches; custom resources answer 415 to them, as a real server does. */
  builtIn: boolean;
  subresources: { status?: boolean; scale?: ScaleSpec };
  /** metav1.MicroTime fields (RFC 3339 with exactly 6 fractional digits on output). */
  microTimeFields: string[][];
  /** Field selector keys beyond metadata.name / metadata.namespace, with how to read them. */
  selectableFields: Record<string, string[]>;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** 'apps/v1' or 'v1' for the core group. */
export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** The key a test uses to name a type: 'pods', 'deployments.apps', 'virtualservices.networking.istio.io'. */
export function resourceKey(def: Pick<ResourceDef, 'group' | 'resource'>): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

function def(d: Partial<ResourceDef> & Pick<ResourceDef, 'group' | 'version' | 'resource' | 'kind'>): ResourceDef {
  return {
    singular: d.kind.toLowerCase(),
    listKind: `${d.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    builtIn: true,
    subresources: {},
    microTimeFields: [],
    selectableFields: {},
    ...d,
  };
}

export const BUILTINS: readonly ResourceDef[] = [
  def({
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    shortNames: ['po'],
    categories: ['all'],
    subresources: { status: true },
    // pkg/registry/core/pod/strategy.go ToSelectableFields (the ones canary could plausibly use).
    selectableFields: {
      'spec.nodeName': ['spec', 'nodeName'],
      'spec.restartPolicy': ['spec', 'restartPolicy'],
      'spec.schedulerName': ['spec', 'schedulerName'],
      'spec.serviceAccountName': ['spec', 'serviceAccountName'],
      'spec.hostNetwork': ['spec', 'hostNetwork'],
      'status.phase': ['status', 'phase'],
      'status.podIP': ['status', 'podIP'],
      'status.nominatedNodeName': ['status', 'nominatedNodeName'],
    },
  }),
  def({
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: { status: true },
    selectableFields: { 'status.phase': ['status', 'phase'] },
  }),
  def({
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: { status: true, scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'] } },
  }),
  def({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', microTimeFields: [['spec', 'acquireTime'], ['spec', 'renewTime']] }),
  def({ group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', shortNames: ['ing'], subresources: { status: true } }),
];

/** Custom resources of the traffic providers, by the name of their CustomResourceDefinition. */
export const CRDS: Readonly<Record<string, ResourceDef>> = {
  'virtualservices.networking.istio.io': def({
    group: 'networking.istio.io',
    version: 'v1beta1',
    resource: 'virtualservices',
    kind: 'VirtualService',
    shortNames: ['vs'],
    categories: ['istio-io', 'networking-istio-io'],
    builtIn: false,
    subresources: { status: true },
  }),
  'httproutes.gateway.networking.k8s.io': def({
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    resource: 'httproutes',
    kind: 'HTTPRoute',
    categories: ['gateway-api'],
    builtIn: false,
    subresources: { status: true },
  }),
  'trafficsplits.split.smi-spec.io': def({
    group: 'split.smi-spec.io',
    version: 'v1alpha2',
    resource: 'trafficsplits',
    kind: 'TrafficSplit',
    shortNames: ['ts'],
    builtIn: false,
  }),
  'rollouts.argoproj.io': def({
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'rollouts',
    kind: 'Rollout',
    shortNames: ['ro'],
    categories: ['all'],
    builtIn: false,
    subresources: {
      status: true,
      scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'HPAReplicas'], labelSelectorPath: ['status', 'selector'] },
    },
  }),
};

export type CrdName = keyof typeof CRDS & string;
