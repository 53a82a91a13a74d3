// The cluster that holds a CanaryRollout ("home"), found the way kubectl finds one: --kubeconfig,
// KUBECONFIG, ~/.kube/config, else the pod's service account; --context picks the context; the
// namespace is --namespace, else the context's, else the pod's own, else "default".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeCluster } from '../kube/client.js';
import { KubeConfigError, loadKubeConfig, SERVICEACCOUNT_DIR, type KubeOptions } from '../kube/config.js';

export interface HomeOptions extends Pick<KubeOptions, 'kubeconfig' | 'inClusterRoot' | 'env' | 'timeoutMs'> {
  context?: string;
  namespace?: string;
}

export async function connectHome(o: HomeOptions): Promise<{ cluster: KubeCluster; namespace: string; from: string }> {
  const { kc, from } = await loadKubeConfig(o);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const names = kc.getContexts().map((c) => c.name);
  const ctx = o.context ?? kc.getCurrentContext();
  if (!ctx || !names.includes(ctx)) throw new KubeConfigError(`kubeconfig ${from}: context "${ctx ?? ''}" is not there; it has: ${names.join(', ') || 'no contexts'}`);
  const one = new KubeConfig();
  const clusters = kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c));
  one.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: ctx });
  const cluster = new KubeCluster(ctx, ctx, one, o.timeoutMs);
  const nsFile = join(o.inClusterRoot ?? '', SERVICEACCOUNT_DIR, 'namespace');
  const namespace =
    o.namespace ??
    kc.getContextObject(ctx)?.namespace ??
    (from === 'in-cluster service account' && existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined) ??
    'default';
  return { cluster, namespace, from };
}
