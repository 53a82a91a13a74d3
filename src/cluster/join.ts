// `canary join --rollout <name>`: the console of an in-cluster driver, reached through the API
// server's service proxy with the person's kubeconfig, so the driver needs no public port and RBAC
// (get on services/proxy) decides who may connect; the war-room token still decides the person
// and the role. The API server takes the caller's Authorization header for itself and drops the
// query string of an upgraded request (kubernetes #77142): the war-room token goes in
// X-Canary-Token and the resume point in the path (see RemoteStore's `proxy`).
import { KubeConfigError, loadKubeConfig, type KubeOptions } from '../kube/config.js';
import { RemoteStore } from '../warroom/client.js';

export const DRIVER_SERVICE = 'canary-driver';
export const WARROOM_PORT = 'warroom';

export interface ProxyJoinOptions extends Pick<KubeOptions, 'kubeconfig' | 'env'> {
  context?: string | undefined;
  namespace?: string | undefined;
  service?: string;
  port?: string;
  token: string;
  timeoutMs?: number;
}

/** The wss:// URL of the driver's war room through the API server, and the credentials to get there. */
export async function proxyTarget(o: Omit<ProxyJoinOptions, 'token'>): Promise<{ url: string; headers: Record<string, string>; ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; namespace: string }> {
  const { kc, from } = await loadKubeConfig(o);
  const ctx = o.context ?? kc.getCurrentContext();
  if (!kc.getContexts().some((c) => c.name === ctx)) throw new KubeConfigError(`kubeconfig ${from}: context "${ctx}" is not there; it has: ${kc.getContexts().map((c) => c.name).join(', ')}`);
  kc.setCurrentContext(ctx);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new KubeConfigError(`kubeconfig ${from}: context "${ctx}" has no cluster server`);
  const namespace = o.namespace ?? kc.getContextObject(ctx)?.namespace ?? 'default';
  // client-node applies the user's credentials (token, exec plugin, client certificate) and the CA.
  const opts: { headers: Record<string, string>; ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } = { headers: {} };
  await kc.applyToHTTPSOptions(opts as never);
  const server = new URL(cluster.server);
  const scheme = server.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = server.pathname.replace(/\/$/, '');
  const url = `${scheme}//${server.host}${base}/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(o.service ?? DRIVER_SERVICE)}:${encodeURIComponent(o.port ?? WARROOM_PORT)}/proxy/`;
  return { url, headers: opts.headers, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}), namespace };
}

/** A RemoteStore for the in-cluster driver through the API server, not connected yet, and how to
 * explain a failure to connect (what to do): `canary join --rollout` shows the attempt meanwhile. */
export async function proxyStore(o: ProxyJoinOptions): Promise<{ store: RemoteStore; explain: (message: string) => string }> {
  const t = await proxyTarget(o);
  const store = new RemoteStore({
    url: t.url,
    token: o.token,
    ...(t.ca ? { ca: t.ca } : {}),
    proxy: { headers: t.headers, ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}) },
    timeoutMs: o.timeoutMs ?? 5_000,
  });
  return { store, explain: (m) => explainJoin(o, t, m) };
}

/** A RemoteStore joined to the in-cluster driver through the API server; rejects with what to do. */
export async function joinThroughApiServer(o: ProxyJoinOptions): Promise<RemoteStore> {
  const { store, explain } = await proxyStore(o);
  try {
    await store.start();
  } catch (err) {
    store.close();
    throw new Error(explain(err instanceof Error ? err.message : String(err)));
  }
  return store;
}

function explainJoin(o: ProxyJoinOptions, t: { url: string; namespace: string }, m: string): string {
  const hint = /403/.test(m)
    ? ` - your Kubernetes user may not reach the driver: grant "get" on "services/proxy" (service ${o.service ?? DRIVER_SERVICE}) in namespace ${t.namespace}`
    : /503/.test(m)
      ? ` - no driver serves the war room: is the Deployment in deploy/ running (kubectl get canaryrollouts -n ${t.namespace})?`
      : /401/.test(m)
        ? ' - the API server or the war room refused the credentials: check your kubeconfig login, and CANARY_TOKEN'
        : '';
  return `${t.url}: ${m}${hint}`;
}
