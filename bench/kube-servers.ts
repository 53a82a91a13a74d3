// Worker thread for bench/kube.tsx: test API servers (test/kube/apiserver.ts, unchanged) off the
// console's thread. A real API server is another process: with the servers on the console's
// event loop, a redraw queued before the server's read of canary's PATCH was counted as rollback
// latency. This thread owns everything on the server side of its clusters: the pods, the churn
// streaming through the watches, and the time each server received canary's first PATCH. The
// bench starts one such thread per cluster (three clusters are three independent servers); the
// file serves any number of clusters.
//
// Clock: every time that crosses the thread boundary is `performance.timeOrigin +
// performance.now()` (epoch milliseconds with sub-millisecond precision). Each thread has its own
// timeOrigin, but both sides of the sum come from the same system clocks, so the two threads agree
// (the `clock` message lets the bench check that: it must fall between the bench's send and
// receive). A request's arrival is the server's own stamp, `RequestRecord.at` (this thread's
// performance.now() when the 'request' event fired: headers read), moved to that clock.
//
// Messages (bench -> worker, worker -> bench):
//   started at load: { type: 'ready', kubeconfig }        one context per cluster, named as given
//   { type: 'churn' }                                      starts `churnPerSecond` pod changes a
//                                                          second, round-robin across the clusters
//   { type: 'arm', id }  -> { type: 'armed', id }           sets every cluster's VirtualService to
//                                                          75/25, clears the request logs, and
//                                                          waits for a PATCH on each cluster:
//                        -> { type: 'patched', id, at }     `at`: when each cluster received its
//                                                          first PATCH since the arm (clock above)
//   { type: 'clock', t } -> { type: 'clock', t, worker }    the worker's clock now, for the check
//   { type: 'stop' }     -> { type: 'stopped' }             churn stopped, servers closed; the
//                                                          thread then ends by itself
import { parentPort, workerData } from 'node:worker_threads';
import { kubeconfigFor, startKubeApiServer, type KubeApiServer } from '../test/kube/apiserver.js';
import { makePods, makeVirtualService } from '../test/kube/fixtures.js';

export interface KubeServersConfig {
  namespace: string;
  clusters: { context: string; pods: number; prefix: string }[];
  /** CRDs installed on every server. */
  crds: string[];
  /** Pod changes a second across all clusters, in batches every 100 ms. */
  churnPerSecond: number;
}

export type KubeServersRequest = { type: 'churn' } | { type: 'arm'; id: number } | { type: 'clock'; t: number } | { type: 'stop' };
export type KubeServersReply =
  | { type: 'ready'; kubeconfig: string }
  | { type: 'armed'; id: number }
  | { type: 'patched'; id: number; at: number[] }
  | { type: 'clock'; t: number; worker: number }
  | { type: 'stopped' };

const port = parentPort!;
const config = workerData as KubeServersConfig;
const now = () => performance.timeOrigin + performance.now();
const post = (m: KubeServersReply) => port.postMessage(m);

const servers: KubeApiServer[] = [];
for (const c of config.clusters) {
  const s = await startKubeApiServer({ crds: config.crds });
  s.createMany('pods', makePods(c.pods, { namespace: config.namespace, app: 'orchestrator', prefix: c.prefix }));
  servers.push(s);
}

// The first PATCH each server received since the last arm (NaN: none yet).
let armed: { id: number; at: number[] } | null = null;
servers.forEach((s, k) =>
  s.onRequest((rec) => {
    if (!armed || rec.method !== 'PATCH' || !Number.isNaN(armed.at[k])) return;
    armed.at[k] = performance.timeOrigin + rec.at;
    if (armed.at.every((t) => !Number.isNaN(t))) {
      post({ type: 'patched', id: armed.id, at: armed.at });
      armed = null;
    }
  }),
);

let churner: NodeJS.Timeout | undefined;
function startChurn(): void {
  const names = servers.map((s) => s.list('pods', config.namespace).map((p) => p.metadata.name as string));
  let churn = 0;
  let due = 0;
  churner = setInterval(() => {
    // `churnPerSecond` in ten batches a second (fractions carried over: 50 a second over three
    // threads is 16.7 each)
    due += config.churnPerSecond / 10;
    for (; due >= 1; due--) {
      const k = churn % servers.length;
      const name = names[k]![(churn * 7) % names[k]!.length]!;
      servers[k]!.patch('pods', config.namespace, name, (o) => {
        const st = o.status as { containerStatuses?: { restartCount: number }[] };
        if (st.containerStatuses?.[0]) st.containerStatuses[0].restartCount += 1;
      });
      churn++;
    }
  }, 100);
}

port.on('message', (m: KubeServersRequest) => {
  switch (m.type) {
    case 'churn':
      if (!churner) startChurn();
      return;
    case 'arm':
      for (const s of servers) {
        s.apply('virtualservices.networking.istio.io', makeVirtualService('orchestrator', { namespace: config.namespace, stable: 75, canary: 25 }));
        s.clearRequests();
      }
      armed = { id: m.id, at: servers.map(() => NaN) };
      post({ type: 'armed', id: m.id });
      return;
    case 'clock':
      post({ type: 'clock', t: m.t, worker: now() });
      return;
    case 'stop':
      clearInterval(churner);
      void Promise.all(servers.map((s) => s.close())).then(() => {
        post({ type: 'stopped' });
        port.close(); // nothing left: the thread ends
      });
      return;
  }
});

post({ type: 'ready', kubeconfig: kubeconfigFor(servers.map((server, i) => ({ server, context: config.clusters[i]!.context }))) });
