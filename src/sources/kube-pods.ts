// Pods from real clusters: list, then watch from the list's resourceVersion, per cluster.
// - a clean close (the server's timeoutSeconds) resumes from the last resourceVersion seen;
// - 410 Gone, as an HTTP status or as an in-stream ERROR event, relists;
// - any other failure restarts with exponential backoff (with jitter), resuming where it was;
// - a watch that goes silent (no event, no bookmark) for `silentAfterMs` is dropped and resumed;
// - a line that is not JSON is counted and skipped (the source says so), the stream goes on.
// Pods are classified canary/stable by the plan's selectors; others in the namespace are ignored.
// Changes are coalesced into one `pods.delta` per `batchMs`, so a rollout of 3,000 pods is a
// handful of events a second, not one per pod.
import type { Emit, Source } from '../runtime/ports.js';
import type { PodInfo } from '../engine/types.js';
import { KubeError, type WatchHandle } from '../kube/client.js';
import type { ClusterTarget } from '../kube/config.js';

export interface KubePodsOptions {
  targets: ClusterTarget[];
  namespace: string;
  selectors: { canary: Record<string, string>; stable: Record<string, string> };
  /** Pod label that names the region, for a cluster that serves several regions. */
  regionLabel?: string;
  /** Time for events (the injected clock). */
  now: () => number;
  /** Asked of the server per watch; it closes cleanly after (default 300 s, plus jitter). */
  watchTimeoutSeconds?: number;
  /** No byte for this long: the watch is considered dead and restarted (default 90 s). */
  silentAfterMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Coalesce watch changes (default 200 ms). */
  batchMs?: number;
  /** Page size of the initial list (kubectl uses 500). */
  pageSize?: number;
  random?: () => number;
}

/** Counters, for tests and the status line. */
export interface KubePodsStats {
  lists: number;
  watches: number;
  relists410: number;
  restarts: number;
  silentRestarts: number;
  malformed: number;
  cleanCloses: number;
  events: number;
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class KubePodsSource implements Source {
  readonly name = 'kubernetes';
  readonly stats: KubePodsStats = { lists: 0, watches: 0, relists410: 0, restarts: 0, silentRestarts: 0, malformed: 0, cleanCloses: 0, events: 0 };
  private loops: ClusterLoop[] = [];
  private emit: Emit = () => undefined;
  private upserts = new Map<string, PodInfo>();
  private deletes = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  readonly labelSelector: string | undefined;

  constructor(readonly o: KubePodsOptions) {
    this.labelSelector = serverSelector(o.selectors);
  }

  start(emit: Emit): void {
    this.emit = emit;
    this.loops = this.o.targets.map((t) => new ClusterLoop(this, t));
    for (const l of this.loops) void l.run();
  }

  async stop(): Promise<void> {
    for (const l of this.loops) l.stop();
    this.flush();
  }

  /** Called by the loops. */
  sync(regions: string[], pods: PodInfo[]): void {
    this.flush(); // keep order: changes seen before this list go out first
    for (const region of regions) this.emit({ type: 'pods.sync', at: this.o.now(), region, pods: pods.filter((p) => p.region === region) });
  }

  change(upsert: PodInfo | null, deleteKey: string | null): void {
    if (upsert) {
      this.deletes.delete(upsert.key);
      this.upserts.set(upsert.key, upsert);
    }
    if (deleteKey) {
      this.upserts.delete(deleteKey);
      this.deletes.add(deleteKey);
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.o.batchMs ?? 200);
      this.flushTimer.unref?.();
    }
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.upserts.size && !this.deletes.size) return;
    const upserts = [...this.upserts.values()];
    const deletes = [...this.deletes];
    this.upserts.clear();
    this.deletes.clear();
    this.emit({ type: 'pods.delta', at: this.o.now(), upserts, deletes });
  }

  status(cluster: string, ok: boolean, message?: string): void {
    this.emit({ type: 'source.status', at: this.o.now(), source: `kubernetes ${cluster}`, ok, ...(message ? { message } : {}) });
  }

  classify(raw: Raw, t: ClusterTarget): PodInfo | null {
    const labels: Record<string, string> = raw.metadata?.labels ?? {};
    const track = matches(labels, this.o.selectors.canary) ? 'canary' : matches(labels, this.o.selectors.stable) ? 'stable' : null;
    if (!track) return null;
    const labelRegion = this.o.regionLabel ? labels[this.o.regionLabel] : undefined;
    const region = labelRegion && t.regions.includes(labelRegion) ? labelRegion : t.regions[0]!;
    return podInfo(raw, region, track);
  }
}

/** The list/watch loop of one cluster. */
class ClusterLoop {
  private rv: string | null = null;
  private keys = new Map<string, string>(); // pod uid/name -> key (to delete the right one)
  private stopped = false;
  private handle: WatchHandle | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private failures = 0;
  private lastOk: boolean | null = null;
  /** Ends the watch in progress (stop): its promise settles, the loop returns. */
  private endWatch: (() => void) | null = null;

  constructor(
    private readonly src: KubePodsSource,
    private readonly t: ClusterTarget,
  ) {}

  private get path(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.src.o.namespace)}/pods`;
  }

  stop(): void {
    this.stopped = true;
    this.endWatch?.();
    this.handle?.abort();
    if (this.watchdog) clearInterval(this.watchdog);
    this.wake?.();
  }

  private health(ok: boolean, message?: string): void {
    if (ok && this.lastOk === true) return;
    this.lastOk = ok;
    this.src.status(this.t.cluster.name, ok, message);
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.rv === null) await this.list();
        const started = performance.now();
        const { outcome, events } = await this.watchOnce();
        if (outcome === 'gone') {
          this.src.stats.relists410++;
          this.rv = null;
          continue;
        }
        // A watch that ran a while or brought news was a good one: the backoff starts over.
        const productive = events > 0 || performance.now() - started > 30_000;
        if (productive) this.failures = 0;
        if (outcome === 'closed' && !productive && !this.stopped) {
          // Closed at once with nothing in it (a proxy that answers and hangs up): back off, as
          // client-go does with a "very short watch", instead of spinning.
          this.failures++;
          await this.backoff();
        }
        // 'silent': resume at once from the last resourceVersion.
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeError && err.status === 410) {
          this.src.stats.relists410++;
          this.rv = null;
          continue;
        }
        this.src.stats.restarts++;
        this.failures++;
        const message = err instanceof Error ? err.message : String(err);
        this.health(false, message);
        await this.backoff();
      }
    }
  }

  /** Exponential, with jitter: half the step plus up to another half. */
  private backoff(): Promise<void> {
    const base = Math.min(this.src.o.backoffMaxMs ?? 30_000, (this.src.o.backoffInitialMs ?? 500) * 2 ** Math.max(0, this.failures - 1));
    return this.sleep(base / 2 + ((this.src.o.random ?? Math.random)() * base) / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      t.unref?.();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async list(): Promise<void> {
    const pods: PodInfo[] = [];
    const keys = new Map<string, string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const res = await this.t.cluster.request<Raw>('GET', this.path, {
        verb: 'list',
        resource: 'pods',
        query: { labelSelector: this.src.labelSelector, limit: this.src.o.pageSize ?? 500, continue: cont },
        timeoutMs: 60_000,
      });
      for (const item of (res.items ?? []) as Raw[]) {
        const p = this.src.classify(item, this.t);
        if (!p) continue;
        pods.push(p);
        keys.set(item.metadata.name, p.key);
      }
      cont = res.metadata?.continue || undefined;
      rv = res.metadata?.resourceVersion ?? rv;
    } while (cont && !this.stopped);
    if (this.stopped) return;
    this.src.stats.lists++;
    this.keys = keys;
    this.rv = rv;
    this.src.sync(this.t.regions, pods);
    this.health(true);
  }

  /** One watch stream, until it ends. */
  private watchOnce(): Promise<{ outcome: 'closed' | 'gone' | 'silent'; events: number }> {
    let events = 0;
    return new Promise<'closed' | 'gone' | 'silent'>((resolve, reject) => {
      let last = performance.now();
      let done = false;
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        if (this.watchdog) clearInterval(this.watchdog);
        this.watchdog = null;
        this.handle?.abort();
        this.handle = null;
        f();
      };
      const silentAfter = this.src.o.silentAfterMs ?? 90_000;
      const timeoutSeconds = (this.src.o.watchTimeoutSeconds ?? 300) + Math.floor((this.src.o.random ?? Math.random)() * 60);
      this.src.stats.watches++;
      this.t.cluster
        .watch(
          this.path,
          { resourceVersion: this.rv ?? undefined, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.src.labelSelector },
          'pods',
          {
            onActivity: () => {
              last = performance.now();
            },
            onMalformed: (line) => {
              this.src.stats.malformed++;
              this.src.status(this.t.cluster.name, true, `skipped a watch line that is not JSON: ${line.slice(0, 60)}`);
              this.lastOk = null;
            },
            onEvent: (ev) => {
              this.src.stats.events++;
              if (ev.type !== 'BOOKMARK') events++;
              if (ev.type === 'ERROR') {
                const st = ev.object as Raw;
                if (st.code === 410) return finish(() => resolve('gone'));
                return finish(() => reject(new KubeError(this.t.cluster.name, Number(st.code) || 500, st.reason ?? 'Error', 'watch', 'pods', `${this.t.cluster.name}: watch pods: ${st.code} ${st.reason ?? ''}: ${st.message ?? ''}`)));
              }
              const obj = ev.object as Raw;
              const rv = obj.metadata?.resourceVersion;
              if (rv) this.rv = rv;
              if (ev.type === 'BOOKMARK') return;
              this.onPod(ev.type, obj);
            },
            onEnd: (err) => {
              if (err) finish(() => reject(err));
              else {
                this.src.stats.cleanCloses++;
                finish(() => resolve('closed'));
              }
            },
          },
        )
        .then(
          (h) => {
            // stop() may have come while the watch was connecting (auth plugins can be slow).
            if (done || this.stopped) {
              h.abort();
              finish(() => resolve('closed'));
            } else {
              this.handle = h;
              this.health(true);
            }
          },
          (err: unknown) => finish(() => reject(err)),
        );
      this.watchdog = setInterval(() => {
        if (performance.now() - last > silentAfter) {
          this.src.stats.silentRestarts++;
          this.src.status(this.t.cluster.name, false, `watch silent for ${Math.round(silentAfter / 1000)} s: restarting it`);
          this.lastOk = false;
          finish(() => resolve('silent'));
        }
      }, Math.max(50, Math.min(5_000, silentAfter / 4)));
      this.watchdog.unref?.();
      this.endWatch = () => finish(() => resolve('closed'));
      if (this.stopped) this.endWatch();
    }).then((outcome) => ({ outcome, events }));
  }

  private onPod(type: string, obj: Raw): void {
    const name: string = obj.metadata?.name;
    if (!name) return;
    if (type === 'DELETED') {
      const key = this.keys.get(name);
      if (key) {
        this.keys.delete(name);
        this.src.change(null, key);
      }
      return;
    }
    const p = this.src.classify(obj, this.t);
    const old = this.keys.get(name);
    if (!p) {
      // Relabelled out of the rollout.
      if (old) {
        this.keys.delete(name);
        this.src.change(null, old);
      }
      return;
    }
    if (old && old !== p.key) this.src.change(null, old);
    this.keys.set(name, p.key);
    this.src.change(p, null);
  }
}

function matches(labels: Record<string, string>, sel: Record<string, string>): boolean {
  const keys = Object.keys(sel);
  return keys.length > 0 && keys.every((k) => labels[k] === sel[k]);
}

/** A server-side label selector covering both tracks, when one can express it. */
export function serverSelector(sel: { canary: Record<string, string>; stable: Record<string, string> }): string | undefined {
  const keys = new Set([...Object.keys(sel.canary), ...Object.keys(sel.stable)]);
  const terms: string[] = [];
  let differing = 0;
  for (const k of [...keys].sort()) {
    const a = sel.canary[k];
    const b = sel.stable[k];
    if (a === undefined || b === undefined) return undefined;
    if (a === b) terms.push(`${k}=${a}`);
    else {
      differing++;
      terms.push(`${k} in (${[a, b].sort().join(',')})`);
    }
  }
  return differing <= 1 && terms.length ? terms.join(',') : undefined;
}

/** What `kubectl get pods` shows in STATUS, and why. */
export function podInfo(raw: Raw, region: string, track: PodInfo['track']): PodInfo {
  const meta = raw.metadata ?? {};
  const status = raw.status ?? {};
  const spec = raw.spec ?? {};
  const containers: Raw[] = status.containerStatuses ?? [];
  const inits: Raw[] = status.initContainerStatuses ?? [];
  let reason: string = status.reason || status.phase || 'Unknown';
  let message: string | undefined = status.message;

  let initializing = false;
  const nInit = (spec.initContainers ?? inits).length;
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (term) reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== 'PodInitializing') {
      reason = `Init:${wait.reason}`;
      message = wait.message ?? message;
    } else reason = `Init:${i}/${nInit}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i]!;
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait?.reason) {
        reason = wait.reason;
        message = wait.message ?? message;
      } else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  const conditions: Raw[] = status.conditions ?? [];
  if (status.phase === 'Pending') {
    const sched = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (sched) message = sched.message ?? sched.reason;
  }
  if (meta.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';

  let restarts = 0;
  let lastRestart: { at: number; reason: string } | undefined;
  for (const c of [...inits, ...containers]) {
    restarts += Number(c.restartCount) || 0;
    const t = c.lastState?.terminated;
    if (t?.reason) {
      const at = Date.parse(t.finishedAt ?? '') || 0;
      if (!lastRestart || at >= lastRestart.at) lastRestart = { at, reason: t.reason };
    }
  }
  const readyCond = conditions.find((c) => c.type === 'Ready');
  const ready = readyCond ? readyCond.status === 'True' : containers.length > 0 && containers.every((c) => c.ready);
  const phase = (['Pending', 'Running', 'Succeeded', 'Failed'] as const).find((p) => p === status.phase) ?? 'Unknown';
  return {
    key: `${region}/${meta.namespace}/${meta.name}`,
    name: meta.name,
    namespace: meta.namespace,
    region,
    track,
    phase,
    ready,
    reason,
    ...(message ? { message } : {}),
    restarts,
    ...(lastRestart ? { lastRestartReason: lastRestart.reason } : {}),
    startedAt: Date.parse(status.startTime ?? meta.creationTimestamp ?? '') || 0,
  };
}
