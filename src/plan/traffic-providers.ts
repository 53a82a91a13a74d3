// The traffic providers a plan can name, one descriptor each: its kind, the key its settings sit
// under in `traffic:` and their schema, and the weights it can express. The plan schema builds
// `traffic:` from these and `canary validate` refuses, step by step, a weight a provider cannot
// write; the wiring (src/actuators/traffic/providers.ts) adds to each descriptor how to make the
// provider, and refuses the same weights at run time with the same words. Adding a provider is a
// descriptor here and its `make` there (a descriptor without one does not compile).
//
// `sim`, the embedded world, is no Kubernetes provider: it has no settings and takes any weight.
import { z } from 'zod';

/** What one Kubernetes traffic provider is, as far as the plan knows. */
export interface TrafficProviderSpec<Kind extends string = string, Key extends string = string, Settings extends z.ZodObject = z.ZodObject> {
  kind: Kind;
  /** Where its settings are in the plan: `traffic.<key>`. */
  key: Key;
  settings: Settings;
  /**
   * The weight granularity: why `weight` (percent) cannot be written by this provider, or null when
   * it can. `settings` is undefined when the plan lacks them (reported on its own).
   */
  weightRefusal(weight: number, settings: z.infer<Settings> | undefined): string | null;
}

function spec<Kind extends string, Key extends string, Settings extends z.ZodObject>(
  s: TrafficProviderSpec<Kind, Key, Settings>,
): TrafficProviderSpec<Kind, Key, Settings> {
  return s;
}

/** w is a whole multiple of 1/scale (within float noise). */
const whole = (w: number, scale: number) => Math.abs(Math.round(w * scale) - w * scale) < 1e-9;
const tenths = (kind: string) => (w: number) => (whole(w, 10) ? null : `${kind}: weights are kept in tenths of a percent; ${w} is finer`);

export const TRAFFIC_PROVIDERS = {
  istio: spec({
    kind: 'istio',
    key: 'istio',
    settings: z.strictObject({
      virtualService: z.string(),
      apiVersion: z.enum(['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']).optional(),
      /** The http route by name (default: the first one sending to the stable host). */
      route: z.string().optional(),
      canary: z.strictObject({ host: z.string(), subset: z.string().optional() }),
      stable: z.strictObject({ host: z.string(), subset: z.string().optional() }),
    }),
    weightRefusal: (w) => (whole(w, 1) ? null : `istio route weights are whole percentages; ${w} is not`),
  }),
  'gateway-api': spec({
    kind: 'gateway-api',
    key: 'gatewayApi',
    settings: z.strictObject({ httpRoute: z.string(), rule: z.number().int().min(0).optional(), canaryBackend: z.string(), stableBackend: z.string() }),
    weightRefusal: tenths('gateway-api'),
  }),
  smi: spec({
    kind: 'smi',
    key: 'smi',
    settings: z.strictObject({
      trafficSplit: z.string(),
      apiVersion: z.enum(['split.smi-spec.io/v1alpha1', 'split.smi-spec.io/v1alpha2', 'split.smi-spec.io/v1alpha3', 'split.smi-spec.io/v1alpha4']).optional(),
      canaryBackend: z.string(),
      stableBackend: z.string(),
    }),
    weightRefusal: tenths('smi'),
  }),
  nginx: spec({
    kind: 'nginx',
    key: 'nginx',
    settings: z.strictObject({ canaryIngress: z.string() }),
    weightRefusal: tenths('nginx'),
  }),
  'argo-rollouts': spec({
    kind: 'argo-rollouts',
    key: 'argoRollouts',
    settings: z.strictObject({ rollout: z.string() }),
    // Any weight: it is checked against the Rollout's own setWeight steps when read.
    weightRefusal: () => null,
  }),
  replicas: spec({
    kind: 'replicas',
    key: 'replicas',
    settings: z.strictObject({ canaryDeployment: z.string(), stableDeployment: z.string(), total: z.number().int().min(1) }),
    weightRefusal: (w, s) =>
      s && !whole((w * s.total) / 100, 1) ? `replicas: ${w}% of traffic.replicas.total (${s.total}) is ${(w * s.total) / 100} pods, not a whole number` : null,
  }),
};

type Providers = typeof TRAFFIC_PROVIDERS;
export type KubeProviderKind = keyof Providers;
export type TrafficProviderKind = 'sim' | KubeProviderKind;

/** Every provider a plan can name, `sim` first. */
export const TRAFFIC_PROVIDER_KINDS = ['sim', ...(Object.keys(TRAFFIC_PROVIDERS) as KubeProviderKind[])] as [TrafficProviderKind, ...TrafficProviderKind[]];

/** The settings of every provider under `traffic:`, each optional (crossCheck says which one a plan needs). */
type SettingsShape = { [K in KubeProviderKind as Providers[K]['key']]: z.ZodOptional<Providers[K]['settings']> };
export const trafficSettingsShape = Object.fromEntries(Object.values(TRAFFIC_PROVIDERS).map((p) => [p.key, p.settings.optional()])) as SettingsShape;

/** Settings by key, as a parsed plan has them. */
export type TrafficSettings = { [K in KubeProviderKind as Providers[K]['key']]?: z.infer<Providers[K]['settings']> };

/** The descriptor of a Kubernetes provider; undefined for `sim` (or anything else). */
export function kubeTrafficProvider(kind: string): TrafficProviderSpec | undefined {
  return Object.hasOwn(TRAFFIC_PROVIDERS, kind) ? (TRAFFIC_PROVIDERS[kind as KubeProviderKind] as unknown as TrafficProviderSpec) : undefined;
}
