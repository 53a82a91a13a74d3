// What `kubectl describe pod` and `kubectl logs -f` read, for the test API server: core/v1 Events
// (listed with the involvedObject field selectors kubectl uses) and the pods/{name}/log subresource
// (container, follow, previous, sinceSeconds, tailLines, timestamps), as a 1.32 server answers them:
// text/plain lines; 400 "container X is not valid for pod Y" for a container the pod does not
// have; 400 "a container name must be specified for pod Y, choose one of: [...]" when the pod has
// several and none is named; 400 "container X in pod Y is waiting to start: <reason>" for one that
// never ran (ContainerCreating, PodInitializing, ImagePullBackOff); 400 "previous terminated
// container X in pod Y not found" when there was no previous instance. A crash-looping container's
// current log is its last run's (what kubelet keeps), and with follow=true the stream ends with it.
//
// Control API (server.logs): set(ns, pod, container, lines, { previous }) / append(ns, pod,
// container, lines) (followers get them at once) / terminate(ns, pod, container) (ends follows) /
// followers() (open follow streams). Lines are stored with the time they were added, so
// sinceSeconds filters by it.
import type { ServerResponse } from 'node:http';
import type { ResourceDef } from './resources.js';
import { errors } from './status.js';
import type { KubeObject } from './store.js';

export const EVENTS: ResourceDef = {
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  builtIn: true,
  subresources: {},
  microTimeFields: [],
  // pkg/registry/core/event/strategy.go ToSelectableFields.
  selectableFields: {
    'involvedObject.kind': ['involvedObject', 'kind'],
    'involvedObject.namespace': ['involvedObject', 'namespace'],
    'involvedObject.name': ['involvedObject', 'name'],
    'involvedObject.uid': ['involvedObject', 'uid'],
    'involvedObject.apiVersion': ['involvedObject', 'apiVersion'],
    'involvedObject.resourceVersion': ['involvedObject', 'resourceVersion'],
    'involvedObject.fieldPath': ['involvedObject', 'fieldPath'],
    reason: ['reason'],
    reportingComponent: ['reportingComponent'],
    source: ['source', 'component'],
    type: ['type'],
  },
};

interface Line {
  at: number;
  text: string;
}

interface Follower {
  key: string;
  res: ServerResponse;
  timestamps: boolean;
}

type Obj = Record<string, unknown>;
const o = (x: unknown): Obj => (x && typeof x === 'object' ? (x as Obj) : {});

export class PodLogs {
  private readonly current = new Map<string, Line[]>();
  private readonly previous = new Map<string, Line[]>();
  private readonly follows = new Set<Follower>();

  private static key(ns: string, pod: string, container: string): string {
    return `${ns}/${pod}/${container}`;
  }

  set(ns: string, pod: string, container: string, lines: string[], opts: { previous?: boolean; at?: number } = {}): void {
    const at = opts.at ?? Date.now();
    (opts.previous ? this.previous : this.current).set(PodLogs.key(ns, pod, container), lines.map((text) => ({ at, text })));
  }

  append(ns: string, pod: string, container: string, lines: string[]): void {
    const key = PodLogs.key(ns, pod, container);
    const now = Date.now();
    const list = this.current.get(key) ?? [];
    list.push(...lines.map((text) => ({ at: now, text })));
    this.current.set(key, list);
    for (const f of this.follows) if (f.key === key) f.res.write(lines.map((l) => `${f.timestamps ? `${new Date(now).toISOString()} ` : ''}${l}\n`).join(''));
  }

  /** The container stopped: follow streams of it end (as kubectl logs -f does when it exits). */
  terminate(ns: string, pod: string, container: string): void {
    const key = PodLogs.key(ns, pod, container);
    for (const f of [...this.follows]) if (f.key === key) this.end(f);
  }

  followers(): number {
    return this.follows.size;
  }

  endAll(): void {
    for (const f of [...this.follows]) this.end(f);
  }

  private end(f: Follower): void {
    this.follows.delete(f);
    f.res.end();
  }

  /** GET .../pods/{name}/log. Throws ApiErrors the server turns into Status answers. */
  serve(pod: KubeObject, q: URLSearchParams, res: ServerResponse, onStatus: (code: number) => void): void {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const names = (Array.isArray(o(pod.spec).containers) ? (o(pod.spec).containers as unknown[]) : []).map((c) => String(o(c).name));
    let container = q.get('container') ?? undefined;
    if (!container) {
      if (names.length !== 1) throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
      container = names[0]!;
    }
    if (!names.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    const previous = q.get('previous') === 'true';
    const status = (Array.isArray(o(pod.status).containerStatuses) ? (o(pod.status).containerStatuses as unknown[]) : []).map(o).find((c) => c.name === container);
    const waiting = o(o(status?.state).waiting);
    const neverRan = typeof status?.restartCount !== 'number' || status.restartCount === 0;
    if (!previous && typeof waiting.reason === 'string' && waiting.reason !== 'CrashLoopBackOff' && neverRan)
      throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting.reason}`);
    const key = PodLogs.key(ns, name, container);
    const store = previous ? this.previous : this.current;
    if (previous && !store.has(key)) throw errors.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    let lines = store.get(key) ?? [];
    const since = Number(q.get('sinceSeconds') ?? NaN);
    if (Number.isFinite(since) && since > 0) lines = lines.filter((l) => l.at >= Date.now() - since * 1000);
    const tail = Number(q.get('tailLines') ?? NaN);
    if (Number.isFinite(tail) && tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
    const timestamps = q.get('timestamps') === 'true';
    onStatus(200);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(q.get('follow') === 'true' && !previous ? { 'Transfer-Encoding': 'chunked' } : {}) });
    const text = lines.map((l) => `${timestamps ? `${new Date(l.at).toISOString()} ` : ''}${l.text}\n`).join('');
    // Follow only a container that runs: a crash-looping one's log ends with its last run.
    const running = o(status?.state).running !== undefined;
    if (q.get('follow') === 'true' && !previous && running) {
      res.write(text);
      const f: Follower = { key, res, timestamps };
      this.follows.add(f);
      res.on('close', () => this.follows.delete(f));
      return;
    }
    res.end(text);
  }
}
