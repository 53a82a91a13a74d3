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
  /** A CRD's additionalPrinterColumns: the server answers kubectl's Table request with them. */
  printerColumns?: PrinterColumn[];
  /** Installed from a CustomResourceDefinition object (created over HTTP or the control API). */
  fromCrdObject?: boolean;
}

/** apiextensions.k8s.io/v1 CustomResourceColumnDefinition. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

import { errors } from './status.js';

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
  // What deploy/ ships (the driver's ServiceAccount, Role, RoleBinding, Deployment, Service, PDB and
  // the CanaryRollout CRD) and what the driver keeps its journal in (ConfigMaps).
  def({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  def({ group: '', version: 'v1', resource: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], subresources: { status: true } }),
  def({ group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding' }),
  def({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', shortNames: ['pdb'], subresources: { status: true } }),
  def({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: { status: true },
  }),
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

/**
 * The type a CustomResourceDefinition object (apiextensions.k8s.io/v1) serves, checked the way the
 * real server validates one (a 422 Invalid naming the field): the name is `<plural>.<group>`, a
 * scope, at least one version, exactly one storage version, a schema per version. The storage
 * version is the one served here (one version per type, as everywhere in this server).
 */
export function defFromCrdObject(obj: { metadata: { name: string }; [k: string]: unknown }): ResourceDef {
  const spec = (obj.spec ?? {}) as {
    group?: string;
    scope?: string;
    names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    versions?: { name?: string; served?: boolean; storage?: boolean; schema?: { openAPIV3Schema?: unknown }; subresources?: { status?: unknown }; additionalPrinterColumns?: PrinterColumn[] }[];
  };
  const causes: { field: string; type: string; detail: string }[] = [];
  const name = obj.metadata.name;
  const plural = spec.names?.plural;
  if (!spec.group) causes.push({ field: 'spec.group', type: 'Required value', detail: '' });
  if (!plural) causes.push({ field: 'spec.names.plural', type: 'Required value', detail: '' });
  if (!spec.names?.kind) causes.push({ field: 'spec.names.kind', type: 'Required value', detail: '' });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ field: 'spec.scope', type: 'Unsupported value', detail: `${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"` });
  if (plural && spec.group && name !== `${plural}.${spec.group}`) causes.push({ field: 'metadata.name', type: 'Invalid value', detail: `"${name}": must be spec.names.plural+"."+spec.group` });
  const versions = spec.versions ?? [];
  if (!versions.length) causes.push({ field: 'spec.versions', type: 'Invalid value', detail: 'must have exactly one version marked as storage version' });
  else if (versions.filter((v) => v.storage).length !== 1) causes.push({ field: 'spec.versions', type: 'Invalid value', detail: 'must have exactly one version marked as storage version' });
  versions.forEach((v, i) => {
    if (!v.schema?.openAPIV3Schema) causes.push({ field: `spec.versions[${i}].schema.openAPIV3Schema`, type: 'Required value', detail: 'schemas are required' });
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      if (!c.name || !c.type || !c.jsonPath) causes.push({ field: `spec.versions[${i}].additionalPrinterColumns[${j}]`, type: 'Required value', detail: 'name, type and jsonPath are required' });
    });
  });
  if (causes.length) throw errors.invalid('CustomResourceDefinition', 'apiextensions.k8s.io', name, causes);
  const v = versions.find((x) => x.storage)!;
  const kind = spec.names!.kind!;
  return {
    group: spec.group!,
    version: v.name ?? 'v1',
    resource: plural!,
    singular: spec.names?.singular ?? kind.toLowerCase(),
    kind,
    listKind: spec.names?.listKind ?? `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: spec.names?.shortNames ?? [],
    categories: spec.names?.categories ?? [],
    builtIn: false,
    subresources: { ...(v.subresources?.status ? { status: true } : {}) },
    microTimeFields: [],
    selectableFields: {},
    ...(v.additionalPrinterColumns?.length ? { printerColumns: v.additionalPrinterColumns } : {}),
    fromCrdObject: true,
  };
}
