// Traffic providers: how one cluster's canary weight is read and written for each kind of
// traffic routing the plan can name. Every write is precise: a JSON Patch whose `test` ops pin the
// object's resourceVersion and the entries being changed (so a concurrent change fails with 409/422
// instead of being overwritten), or a merge patch carrying metadata.resourceVersion as a
// precondition. Merge patch is never used on arrays: it would replace the whole list.
//
// Each provider is the plan's descriptor (src/plan/traffic-providers.ts: kind, settings, weight
// granularity) plus `make`, here: the same descriptor the plan schema and `canary validate` read.
import type { z } from 'zod';
import { CONTENT, type KubeCluster } from '../../kube/client.js';
import { TRAFFIC_PROVIDERS, type KubeProviderKind, type TrafficProviderSpec, type TrafficSettings } from '../../plan/traffic-providers.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ProviderRead {
  /** Canary weight in percent; null when the object says nothing usable. */
  weight: number | null;
  resourceVersion: string;
  detail: string;
  /** The object as read (a write based on this read pins it with `test` ops). */
  object?: Raw;
}

export interface TrafficProvider {
  readonly kind: string;
  /** The object it edits, for messages ("virtualservice orchestrator"). */
  readonly object: string;
  /** Null if the weight can be expressed; otherwise why not. */
  invalid(weight: number): string | null;
  read(c: KubeCluster): Promise<ProviderRead>;
  /** One precise write based on `seen` (the last read); throws KubeError 409/422 on a race. */
  write(c: KubeCluster, weight: number, seen: ProviderRead): Promise<void>;
}

/** The namespace, and the settings of the provider made (as the plan has them under `traffic:`). */
export type ProviderSettings = { namespace: string } & TrafficSettings;
type Settings<K extends KubeProviderKind> = z.infer<(typeof TRAFFIC_PROVIDERS)[K]['settings']>;

export interface Dest {
  host: string;
  subset?: string;
}

const enc = encodeURIComponent;

function path(group: string, version: string, ns: string, plural: string, name: string): string {
  return `${group ? `/apis/${group}` : '/api'}/${version}/namespaces/${enc(ns)}/${plural}/${enc(name)}`;
}

/** A weighted list of destinations inside one object (Istio, Gateway API, SMI). */
abstract class WeightedList implements TrafficProvider {
  abstract readonly kind: string;
  abstract readonly object: string;
  protected abstract readonly url: string;
  protected abstract readonly resource: string;
  /** Where the list is, and its entries. */
  protected abstract locate(obj: Raw): { at: string; entries: Raw[] } | string;
  protected abstract isCanary(e: Raw): boolean;
  protected abstract isStable(e: Raw): boolean;
  /** Weights as written: (canary, stable). */
  protected abstract weights(weight: number): [number, number];
  /** What a missing weight means (Gateway API and SMI: 1; Istio: 100 if alone). */
  protected abstract defaultWeight(entries: Raw[]): number;

  abstract invalid(weight: number): string | null;

  async read(c: KubeCluster): Promise<ProviderRead> {
    const obj = await c.request<Raw>('GET', this.url, { verb: 'get', resource: this.resource });
    return this.interpret(obj);
  }

  protected interpret(obj: Raw): ProviderRead {
    const rv = obj.metadata?.resourceVersion ?? '';
    const loc = this.locate(obj);
    if (typeof loc === 'string') return { weight: null, resourceVersion: rv, detail: loc, object: obj };
    const can = loc.entries.find((e) => this.isCanary(e));
    const stb = loc.entries.find((e) => this.isStable(e));
    if (!stb) return { weight: null, resourceVersion: rv, detail: `${this.object}: no stable destination in ${loc.at}`, object: obj };
    const d = this.defaultWeight(loc.entries);
    const cw = can ? Number(can.weight ?? d) : 0;
    const sw = Number(stb.weight ?? d);
    const total = cw + sw;
    return { weight: total > 0 ? round((cw / total) * 100) : 0, resourceVersion: rv, detail: `${this.object} ${loc.at}: canary ${cw}, stable ${sw}`, object: obj };
  }

  async write(c: KubeCluster, weight: number, seen: ProviderRead): Promise<void> {
    // The object as read: the test ops pin its resourceVersion and the entries at the indices we change.
    const obj = seen.object ?? (await c.request<Raw>('GET', this.url, { verb: 'get', resource: this.resource }));
    const loc = this.locate(obj);
    if (typeof loc === 'string') throw new Error(loc);
    const ci = loc.entries.findIndex((e) => this.isCanary(e));
    const si = loc.entries.findIndex((e) => this.isStable(e));
    if (si < 0) throw new Error(`${this.object}: no stable destination in ${loc.at}`);
    if (ci < 0) throw new Error(`${this.object}: no canary destination in ${loc.at}; add one with weight 0 (canary does not add routes)`);
    const [cw, sw] = this.weights(weight);
    const ops = [
      { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
      { op: 'test', path: `${loc.at}/${ci}`, value: loc.entries[ci] },
      { op: 'test', path: `${loc.at}/${si}`, value: loc.entries[si] },
      { op: 'add', path: `${loc.at}/${ci}/weight`, value: cw },
      { op: 'add', path: `${loc.at}/${si}/weight`, value: sw },
    ];
    await c.request('PATCH', this.url, { verb: 'patch', resource: this.resource, body: ops, contentType: CONTENT.jsonPatch });
  }
}

class Istio extends WeightedList {
  readonly kind = 'istio';
  readonly object: string;
  protected readonly url: string;
  protected readonly resource = 'virtualservices.networking.istio.io';
  override invalid(weight: number): string | null {
    return TRAFFIC_PROVIDERS.istio.weightRefusal(weight, this.s);
  }
  constructor(private readonly s: Settings<'istio'>, ns: string) {
    super();
    this.object = `virtualservice ${s.virtualService}`;
    const [, version] = (s.apiVersion ?? 'networking.istio.io/v1beta1').split('/');
    this.url = path('networking.istio.io', version!, ns, 'virtualservices', s.virtualService);
  }
  protected locate(obj: Raw) {
    const http: Raw[] = obj.spec?.http ?? [];
    const i = this.s.route ? http.findIndex((r) => r.name === this.s.route) : http.findIndex((r) => (r.route ?? []).some((e: Raw) => this.isStable(e)));
    if (i < 0) return `${this.object}: no http route ${this.s.route ? `named "${this.s.route}"` : `sending to ${this.s.stable.host}`}`;
    return { at: `/spec/http/${i}/route`, entries: http[i]!.route ?? [] };
  }
  private is(e: Raw, d: Dest) {
    return e.destination?.host === d.host && (d.subset === undefined || e.destination?.subset === d.subset);
  }
  protected isCanary(e: Raw) {
    return this.is(e, this.s.canary);
  }
  protected isStable(e: Raw) {
    return this.is(e, this.s.stable);
  }
  protected weights(w: number): [number, number] {
    return [w, 100 - w];
  }
  protected defaultWeight(entries: Raw[]) {
    return entries.length === 1 ? 100 : 0;
  }
}

class GatewayApi extends WeightedList {
  readonly kind = 'gateway-api';
  readonly object: string;
  protected readonly url: string;
  protected readonly resource = 'httproutes.gateway.networking.k8s.io';
  override invalid(weight: number): string | null {
    return TRAFFIC_PROVIDERS['gateway-api'].weightRefusal(weight, this.s);
  }
  constructor(private readonly s: Settings<'gateway-api'>, ns: string) {
    super();
    this.object = `httproute ${s.httpRoute}`;
    this.url = path('gateway.networking.k8s.io', 'v1', ns, 'httproutes', s.httpRoute);
  }
  protected locate(obj: Raw) {
    const rules: Raw[] = obj.spec?.rules ?? [];
    const i = this.s.rule ?? rules.findIndex((r) => (r.backendRefs ?? []).some((e: Raw) => this.isStable(e)));
    if (i < 0 || !rules[i]) return `${this.object}: no rule ${this.s.rule ?? `with a backendRef to ${this.s.stableBackend}`}`;
    return { at: `/spec/rules/${i}/backendRefs`, entries: rules[i]!.backendRefs ?? [] };
  }
  protected isCanary(e: Raw) {
    return e.name === this.s.canaryBackend;
  }
  protected isStable(e: Raw) {
    return e.name === this.s.stableBackend;
  }
  // Relative weights: tenths of a percent keep 0.5% expressible.
  protected weights(w: number): [number, number] {
    return [round(w * 10), round((100 - w) * 10)];
  }
  protected defaultWeight() {
    return 1;
  }
}

class Smi extends WeightedList {
  readonly kind = 'smi';
  readonly object: string;
  protected readonly url: string;
  protected readonly resource = 'trafficsplits.split.smi-spec.io';
  override invalid(weight: number): string | null {
    return TRAFFIC_PROVIDERS.smi.weightRefusal(weight, this.s);
  }
  constructor(private readonly s: Settings<'smi'>, ns: string) {
    super();
    this.object = `trafficsplit ${s.trafficSplit}`;
    const [, version] = (s.apiVersion ?? 'split.smi-spec.io/v1alpha2').split('/');
    this.url = path('split.smi-spec.io', version!, ns, 'trafficsplits', s.trafficSplit);
  }
  protected locate(obj: Raw) {
    return { at: '/spec/backends', entries: (obj.spec?.backends ?? []) as Raw[] };
  }
  protected isCanary(e: Raw) {
    return e.service === this.s.canaryBackend;
  }
  protected isStable(e: Raw) {
    return e.service === this.s.stableBackend;
  }
  protected weights(w: number): [number, number] {
    return [round(w * 10), round((100 - w) * 10)];
  }
  protected defaultWeight() {
    return 0;
  }
}

const CANARY = 'nginx.ingress.kubernetes.io/canary';
const WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
const TOTAL = 'nginx.ingress.kubernetes.io/canary-weight-total';

/** NGINX ingress: a second ("canary") Ingress whose annotations say what share it takes. */
class Nginx implements TrafficProvider {
  readonly kind = 'nginx';
  readonly object: string;
  private readonly url: string;
  constructor(s: Settings<'nginx'>, ns: string) {
    this.object = `ingress ${s.canaryIngress}`;
    this.url = path('networking.k8s.io', 'v1', ns, 'ingresses', s.canaryIngress);
  }
  invalid(weight: number): string | null {
    // canary-weight is an integer out of canary-weight-total, which canary writes as 1000.
    return TRAFFIC_PROVIDERS.nginx.weightRefusal(weight, undefined);
  }
  async read(c: KubeCluster): Promise<ProviderRead> {
    const obj = await c.request<Raw>('GET', this.url, { verb: 'get', resource: 'ingresses.networking.k8s.io' });
    const a: Record<string, string> = obj.metadata?.annotations ?? {};
    const rv = obj.metadata?.resourceVersion ?? '';
    if (a[CANARY] !== 'true') return { weight: 0, resourceVersion: rv, detail: `${this.object}: canary annotation off` };
    const w = Number(a[WEIGHT] ?? 0);
    const total = Number(a[TOTAL] ?? 100);
    return { weight: round((w / total) * 100), resourceVersion: rv, detail: `${this.object}: canary-weight ${w}/${total}` };
  }
  async write(c: KubeCluster, weight: number, seen: ProviderRead): Promise<void> {
    // Annotations are a map: a merge patch touches only these keys; the resourceVersion in it is
    // a precondition (409 if the object changed since we read it).
    const body = { metadata: { resourceVersion: seen.resourceVersion, annotations: { [CANARY]: 'true', [WEIGHT]: String(round(weight * 10)), [TOTAL]: '1000' } } };
    await c.request('PATCH', this.url, { verb: 'patch', resource: 'ingresses.networking.k8s.io', body, contentType: CONTENT.merge });
  }
}

/** Argo Rollouts: drive its own steps (promote to the next setWeight, abort to roll back); never
 * write weights into the objects its controller owns. */
class ArgoRollouts implements TrafficProvider {
  readonly kind = 'argo-rollouts';
  readonly object: string;
  private readonly url: string;
  /** Per cluster: the Rollout's setWeight steps, as last read. */
  private steps = new Map<string, number[]>();
  /** Per cluster: the step index at which canary last promoted. Never promote twice from the same
   * step (the controller may not have taken it yet; a second promote would skip a pause). */
  private promotedAt = new Map<string, number>();
  constructor(s: Settings<'argo-rollouts'>, ns: string) {
    this.object = `rollout ${s.rollout}`;
    this.url = path('argoproj.io', 'v1alpha1', ns, 'rollouts', s.rollout);
  }
  invalid(weight: number): string | null {
    return TRAFFIC_PROVIDERS['argo-rollouts'].weightRefusal(weight, undefined); // the Rollout's own steps are checked when read
  }
  /** The weight the controller reports (with traffic routing), else what its current step set.
   * After an abort, 0 only once the controller says so: the abort flag is what canary wrote, not
   * proof that traffic moved. */
  private weightOf(obj: Raw): number | null {
    const st = obj.status ?? {};
    const traffic = st.canary?.weights?.canary?.weight;
    if (typeof traffic === 'number') return traffic;
    if (st.abort) return st.phase === 'Degraded' || /abort/i.test(String(st.message ?? '')) ? 0 : null;
    const steps: Raw[] = obj.spec?.strategy?.canary?.steps ?? [];
    const idx = Number(st.currentStepIndex ?? 0);
    let w = 0;
    for (let i = 0; i < Math.min(idx, steps.length); i++) if (typeof steps[i]!.setWeight === 'number') w = steps[i]!.setWeight;
    return idx >= steps.length && steps.length ? 100 : w;
  }
  async read(c: KubeCluster): Promise<ProviderRead> {
    const obj = await c.request<Raw>('GET', this.url, { verb: 'get', resource: 'rollouts.argoproj.io' });
    this.steps.set(c.name, ((obj.spec?.strategy?.canary?.steps ?? []) as Raw[]).filter((s) => typeof s.setWeight === 'number').map((s) => s.setWeight as number));
    const st = obj.status ?? {};
    return {
      weight: this.weightOf(obj),
      resourceVersion: obj.metadata?.resourceVersion ?? '',
      detail: `${this.object}: step ${st.currentStepIndex ?? 0}${st.abort ? ', aborted' : ''}${st.pauseConditions?.length ? ', paused' : ''}`,
      object: obj,
    };
  }
  async write(c: KubeCluster, weight: number, seen: ProviderRead): Promise<void> {
    if (weight === 0) {
      // kubectl argo rollouts abort (idempotent)
      await c.request('PATCH', `${this.url}/status`, { verb: 'patch', resource: 'rollouts.argoproj.io/status', body: { status: { abort: true } }, contentType: CONTENT.merge });
      return;
    }
    const steps = this.steps.get(c.name);
    if (steps && !steps.includes(weight) && weight !== 100)
      throw new Error(`${this.object}: its steps set ${steps.join('/')}%; ${weight}% is not one of them (align the Rollout's steps with the plan)`);
    if ((seen.weight ?? 0) > weight) throw new Error(`${this.object}: at ${seen.weight}%, cannot go down to ${weight}% by promoting; abort instead`);
    const index = Number(seen.object?.status?.currentStepIndex ?? 0);
    if (this.promotedAt.get(c.name) === index) throw new Error(`${this.object}: promoted at step ${index}; waiting for Argo's controller to take it`);
    // kubectl argo rollouts promote: clear the pause so the controller takes the next step.
    await c.request('PATCH', this.url, { verb: 'patch', resource: 'rollouts.argoproj.io', body: { metadata: { resourceVersion: seen.resourceVersion }, spec: { paused: false } }, contentType: CONTENT.merge });
    await c.request('PATCH', `${this.url}/status`, { verb: 'patch', resource: 'rollouts.argoproj.io/status', body: { status: { pauseConditions: null, abort: false } }, contentType: CONTENT.merge });
    this.promotedAt.set(c.name, index);
  }
}

/** Plain Deployments: the weight is the canary's share of a fixed number of replicas. */
class Replicas implements TrafficProvider {
  readonly kind = 'replicas';
  readonly object: string;
  constructor(
    private readonly s: Settings<'replicas'>,
    private readonly ns: string,
  ) {
    this.object = `deployments ${s.canaryDeployment}/${s.stableDeployment}`;
  }
  private url(name: string) {
    return `${path('apps', 'v1', this.ns, 'deployments', name)}/scale`;
  }
  invalid(weight: number): string | null {
    return TRAFFIC_PROVIDERS.replicas.weightRefusal(weight, this.s);
  }
  async read(c: KubeCluster): Promise<ProviderRead> {
    const [can, stb] = await Promise.all(
      [this.s.canaryDeployment, this.s.stableDeployment].map((n) => c.request<Raw>('GET', this.url(n), { verb: 'get', resource: 'deployments.apps/scale' })),
    );
    const cr = Number(can!.spec?.replicas ?? 0);
    const sr = Number(stb!.spec?.replicas ?? 0);
    return {
      weight: cr + sr > 0 ? round((cr / (cr + sr)) * 100) : 0,
      resourceVersion: `${can!.metadata?.resourceVersion}/${stb!.metadata?.resourceVersion}`,
      detail: `${this.object}: ${cr} canary, ${sr} stable replicas`,
    };
  }
  async write(c: KubeCluster, weight: number, seen: ProviderRead): Promise<void> {
    const canary = round((weight / 100) * this.s.total);
    const [crv, srv] = seen.resourceVersion.split('/');
    // The side that grows first, the side that shrinks last: never fewer pods than the total.
    const stable: [string, number, string | undefined] = [this.s.stableDeployment, this.s.total - canary, srv];
    const can: [string, number, string | undefined] = [this.s.canaryDeployment, canary, crv];
    const order = weight < (seen.weight ?? 0) ? [stable, can] : [can, stable];
    for (const [name, replicas, rv] of order)
      await c.request('PATCH', this.url(name), { verb: 'patch', resource: 'deployments.apps/scale', body: { metadata: { resourceVersion: rv }, spec: { replicas } }, contentType: CONTENT.merge });
  }
}

/** A traffic provider's descriptor: the plan's (kind, settings, weight granularity) and how to make it. */
export type TrafficProviderDescriptor<K extends KubeProviderKind = KubeProviderKind> = (typeof TRAFFIC_PROVIDERS)[K] & {
  make(settings: Settings<K>, namespace: string): TrafficProvider;
};

/** One descriptor per provider: a provider the plan knows and this table does not fails to compile. */
export const PROVIDERS: { [K in KubeProviderKind]: TrafficProviderDescriptor<K> } = {
  istio: { ...TRAFFIC_PROVIDERS.istio, make: (s, ns) => new Istio(s, ns) },
  'gateway-api': { ...TRAFFIC_PROVIDERS['gateway-api'], make: (s, ns) => new GatewayApi(s, ns) },
  smi: { ...TRAFFIC_PROVIDERS.smi, make: (s, ns) => new Smi(s, ns) },
  nginx: { ...TRAFFIC_PROVIDERS.nginx, make: (s, ns) => new Nginx(s, ns) },
  'argo-rollouts': { ...TRAFFIC_PROVIDERS['argo-rollouts'], make: (s, ns) => new ArgoRollouts(s, ns) },
  replicas: { ...TRAFFIC_PROVIDERS.replicas, make: (s, ns) => new Replicas(s, ns) },
};

/** The provider of `kind`, made from its settings in `s` (as the plan's `traffic:` has them). */
export function makeProvider(kind: string, s: ProviderSettings): TrafficProvider {
  if (!Object.hasOwn(PROVIDERS, kind)) throw new Error(`traffic provider "${kind}" does not talk to Kubernetes`);
  const d = PROVIDERS[kind as KubeProviderKind] as unknown as TrafficProviderSpec & { make(settings: unknown, namespace: string): TrafficProvider };
  const settings = (s as Record<string, unknown>)[d.key];
  if (!settings) throw new Error(`traffic.provider is ${kind} but traffic.${d.key} is missing in the plan`);
  return d.make(settings, s.namespace);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
