// Which clusters canary talks to, found the way kubectl finds them: --kubeconfig, then KUBECONFIG
// (several files, merged), then ~/.kube/config, then the in-cluster service account. One context
// per region of the plan (`target.clusters`), or one context for all. Never the silent
// `http://localhost:8080` that client-node's loadFromDefault falls back to.
import { processVars } from '../env.js';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeCluster } from './client.js';

export const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeOptions {
  /** --kubeconfig */
  kubeconfig?: string;
  /** --context NAME (all regions) or region=NAME pairs. */
  contexts?: string[];
  /** canary's environment (CanaryEnv.vars): KUBECONFIG, HOME, the in-cluster variables
   * (default: the process's, src/env.ts processVars). */
  env?: Readonly<Record<string, string | undefined>>;
  /** For tests: a root directory under which the service account files are mounted. */
  inClusterRoot?: string;
  timeoutMs?: number;
}

export interface PlanClusters {
  regions: string[];
  /** Per region: the kubeconfig context (plan `target.clusters`). */
  clusters?: Record<string, { context?: string }>;
}

/** A cluster and the plan regions it serves (two regions may live in one cluster). */
export interface ClusterTarget {
  cluster: KubeCluster;
  regions: string[];
}

export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeConfigError';
  }
}

/** Loads the kubeconfig like kubectl; the returned source says where it came from. */
export async function loadKubeConfig(o: KubeOptions): Promise<{ kc: KubeConfig; from: string }> {
  // Loaded on first use only (see build/bundle.mjs).
  const { KubeConfig } = await import('@kubernetes/client-node');
  const env = o.env ?? processVars();
  const kc = new KubeConfig();
  const load = (file: string, into: KubeConfig) => {
    if (!existsSync(file)) throw new KubeConfigError(`kubeconfig ${file}: no such file`);
    try {
      into.loadFromString(readFileSync(file, 'utf8'));
      into.makePathsAbsolute(join(file, '..'));
    } catch (err) {
      // The YAML parser quotes the lines around the problem: they may hold a token or a key.
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      const safe = first.replace(/((?:token|password|client-key-data|client-certificate-data|secret)\s*:\s*)\S+/gi, '$1***');
      throw new KubeConfigError(`kubeconfig ${file}: cannot be read: ${safe}`);
    }
  };
  if (o.kubeconfig) {
    load(o.kubeconfig, kc);
    return { kc, from: o.kubeconfig };
  }
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length) {
    const present = list.filter((f) => existsSync(f));
    // kubectl ignores missing entries of KUBECONFIG, but not all of them.
    if (!present.length) throw new KubeConfigError(`KUBECONFIG=${env.KUBECONFIG}: none of these files exists`);
    load(present[0]!, kc);
    // kubectl's merge: the first file that names a cluster, user or context wins; current-context
    // comes from the first file that sets one.
    const merged = { clusters: [...kc.clusters], users: [...kc.users], contexts: [...kc.contexts], currentContext: kc.getCurrentContext() };
    for (const f of present.slice(1)) {
      const more = new KubeConfig();
      load(f, more);
      const add = <T extends { name: string }>(into: T[], from: T[]) => from.forEach((x) => into.some((y) => y.name === x.name) || into.push(x));
      add(merged.clusters, more.clusters);
      add(merged.users, more.users);
      add(merged.contexts, more.contexts);
      merged.currentContext ||= more.getCurrentContext();
    }
    kc.loadFromOptions(merged);
    return { kc, from: `KUBECONFIG (${present.join(', ')})` };
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) {
    load(home, kc);
    return { kc, from: home };
  }
  const root = o.inClusterRoot ?? '';
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(root, SERVICEACCOUNT_DIR, 'token'))) {
    kc.loadFromCluster(root);
    return { kc, from: 'in-cluster service account' };
  }
  throw new KubeConfigError(
    `no kubeconfig found: give --kubeconfig FILE, set KUBECONFIG, create ${home}, or run in a pod with a service account. ` +
      '(canary never falls back to http://localhost:8080.)',
  );
}

/** Region -> context from the flags (`--context X` or `--context region=X`) over the plan's. */
export function contextsByRegion(plan: PlanClusters, kc: KubeConfig, flags: string[] = []): Map<string, string> {
  const all = flags.find((f) => !f.includes('='));
  const pairs = new Map(flags.filter((f) => f.includes('=')).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] as const));
  for (const r of pairs.keys())
    if (!plan.regions.includes(r)) throw new KubeConfigError(`--context ${r}=…: "${r}" is not a region of the plan (${plan.regions.join(', ')})`);
  const out = new Map<string, string>();
  for (const region of plan.regions) {
    const ctx = pairs.get(region) ?? all ?? plan.clusters?.[region]?.context ?? kc.getCurrentContext();
    if (!ctx) throw new KubeConfigError(`region ${region}: no context (set target.clusters.${region}.context in the plan, or --context)`);
    out.set(region, ctx);
  }
  return out;
}

/** One KubeCluster per distinct context, with the regions it serves. */
export async function connectClusters(plan: PlanClusters, o: KubeOptions): Promise<{ targets: ClusterTarget[]; from: string }> {
  const { kc, from } = await loadKubeConfig(o);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const byRegion = contextsByRegion(plan, kc, o.contexts);
  const names = kc.getContexts().map((c) => c.name);
  const byContext = new Map<string, string[]>();
  for (const [region, ctx] of byRegion) {
    if (!names.includes(ctx)) throw new KubeConfigError(`kubeconfig ${from}: context "${ctx}" (for region ${region}) is not there; it has: ${names.join(', ') || 'no contexts'}`);
    byContext.set(ctx, [...(byContext.get(ctx) ?? []), region]);
  }
  const targets: ClusterTarget[] = [];
  for (const [ctx, regions] of byContext) {
    const one = new KubeConfig();
    // A plain-http server (kubectl proxy, a local test server) has no TLS to verify; client-node
    // refuses http unless skipTLSVerify is set, kubectl does not: do as kubectl does.
    const clusters = kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c));
    one.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: ctx });
    const cluster = one.getCurrentCluster();
    if (!cluster?.server) throw new KubeConfigError(`kubeconfig ${from}: context "${ctx}" has no cluster server`);
    targets.push({ cluster: new KubeCluster(regions.join('+'), ctx, one, o.timeoutMs), regions });
  }
  return { targets, from };
}
