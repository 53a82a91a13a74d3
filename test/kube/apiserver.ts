// A Kubernetes API server for tests and benchmarks: https on 127.0.0.1 and an ephemeral port (a
// self-signed test certificate that kubeconfig() carries; `tls: false` for plain http) that speaks
// the real wire protocol for what canary uses, so that the installed `kubectl` and
// @kubernetes/client-node 1.x work against it unmodified. No Kubernetes API server can be installed
// on these machines; this is what canary's Kubernetes tests talk to instead, so every behaviour here
// copies a real kube-apiserver (1.32) — where it cannot, the comment says so.
//
// What it serves
//   Discovery  /version, /api, /apis (legacy JSON, and aggregated discovery v2 when the client asks
//              for it as kubectl 1.32 does), /api/v1, /apis/<group>[/<version>]; /openapi/* is 404.
//   Resources  pods (+status), deployments.apps (+status, +scale), leases.coordination.k8s.io,
//              ingresses.networking.k8s.io, namespaces, events (logs.ts), pods/log (logs.ts:
//              follow, previous, sinceSeconds, tailLines; `server.logs` sets and appends lines);
//              custom resources installed per test
//              (virtualservices.networking.istio.io, httproutes.gateway.networking.k8s.io,
//              trafficsplits.split.smi-spec.io, rollouts.argoproj.io (+status, +scale)); an absent
//              CRD is a 404 "the server could not find the requested resource" and is not in discovery.
//   Verbs      get, list (labelSelector, fieldSelector, limit/continue, resourceVersion,
//              resourceVersionMatch), watch (resourceVersion, allowWatchBookmarks, timeoutSeconds,
//              sendInitialEvents), create, update (PUT, resourceVersion precondition -> 409), patch
//              (merge, JSON Patch, strategic for built-ins; anything else -> 415), delete
//              (preconditions), deletecollection; `dryRun=All`.
//   Errors     always `kind: Status` with the real reason strings and messages (status.ts).
//   Auth       an optional bearer token (401; without one any token is accepted), per-test RBAC-like
//              denials (403 with the real message).
//
// Wire details a client can rely on (as on a real server)
//   - Every write bumps one global resourceVersion; lists carry it in metadata.resourceVersion.
//   - A watch from a resourceVersion that has left the bounded event history gets HTTP 200 and one
//     in-stream ERROR event {code: 410, reason: "Expired", message: "too old resource version: X (Y)"},
//     then the stream ends — that is what the watch cache of a 1.32 server does. `watchExpiredAs:
//     'http'` (or an injected {type: 'status', code: 410} fault) answers an HTTP 410 instead.
//   - A watch with no resourceVersion (or "0") starts with ADDED events for what exists.
//   - A filtered watch turns an object that stops matching into DELETED, one that starts into ADDED.
//   - A JSON Patch whose `test` fails (or whose path is missing) is 422 Invalid "the server rejected
//     our request due to an error in our request"; a body that is not a JSON Patch is 400.
//   - metadata.resourceVersion in a merge patch (or set by a JSON Patch) is a precondition -> 409.
//   - Built-in list items leave out kind/apiVersion (custom resource lists keep them), as real.
//   - Leases' spec.acquireTime/renewTime come back as MicroTime, "2026-11-26T13:18:07.123000Z",
//     whatever RFC 3339 precision they were sent with (client-node sends milliseconds).
//   - Writes through HTTP to a type with a status subresource keep the stored status (and the
//     /status subresource changes only status); creating one over HTTP resets its status (pods:
//     phase Pending). The control API below writes objects as given, status included.
//   - kubectl's human output (no -o) gets a server-side Table for pods (NAME READY STATUS RESTARTS
//     AGE, and IP/NODE with -o wide; table.ts); other types answer JSON, which kubectl prints as
//     NAME AGE itself.
//   - Responses over 128 KiB are gzipped (level 1) for clients that accept gzip, as with
//     APIResponseCompression (watch streams are not compressed here).
//   Not copied: server-side apply, protobuf, OpenAPI (kubectl create/apply need
//   --validate=false), the per-type Table columns of types other than pods, namespaces need not
//   exist (one in use reads as Active), no controllers (a deployment's status only changes when a test
//   changes it), list pages after the first show objects as they are now, not as of the first
//   page, and an Exact list can only be had at the current resourceVersion.
//
// @kubernetes/client-node 1.x: choosing the patch Content-Type
//   The generated patch methods (patchNamespacedPod, patchNamespacedCustomObject, ...) send
//   `application/json-patch+json` unless told otherwise. Pass a per-call middleware that sets the
//   header; the body is then a merge patch object or a JSON Patch array accordingly:
//
//     import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
//     await custom.patchNamespacedCustomObject(
//       { group, version, namespace, plural, name, body: { spec: { ... } } },
//       setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
//     );
//     await core.patchNamespacedPod(
//       { name, namespace, body: [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, { op: 'replace', ... }] },
//       setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
//     );
//   Errors surface as ApiException with .code (HTTP status) and .body (the Status JSON as a string,
//   to JSON.parse; for a 401 client-node drops the body: .body is undefined).
//   The Watch class (new Watch(kc).watch(path, query, onEvent, onDone)) sets watch=true, ignores
//   lines it cannot parse, hands an in-stream ERROR to onEvent('ERROR', status) and calls
//   onDone(null) when the server ends the stream cleanly, onDone(err) with err.statusCode for an
//   HTTP error, onDone(err) for a reset connection.
//   Leases: client-node 1.x types acquireTime/renewTime as V1MicroTime (a Date) but hands them back
//   as the server's string ("…07.123000Z"): parse them. It sends a plain Date with milliseconds and a
//   V1MicroTime with six digits; the server accepts both.
//   client-node refuses an http:// server unless the cluster has insecure-skip-tls-verify.
//
// kubectl against it
//   kubectl --kubeconfig <server.kubeconfig({path})> get pods -o json (test/kube/kubectl.ts runs it
//   without blocking this process). kubectl caches discovery per server in ~/.kube/cache: give each
//   test run its own `--cache-dir` so an installed/removed CRD is seen. It sends a token only over
//   https and, with no credentials at all, prompts for a username: hence https and a token by default.
//
// Control API (in-process, for tests and benchmarks) — see the KubeApiServer class:
//   startKubeApiServer(opts) -> server; server.url, server.close()
//   objects:   create(res, obj) / createMany(res, objs) / apply(res, obj) / update(res, obj) /
//              patch(res, ns, name, mergePatch | (obj) => obj) / remove(res, ns, name) /
//              get(res, ns, name) / list(res, ns?) / resourceVersion
//              (`res` is 'pods', 'deployments.apps', 'leases.coordination.k8s.io',
//              'virtualservices.networking.istio.io', ... or a short plural such as 'leases')
//   CRDs:      installCrd(name), removeCrd(name), crds()
//   faults:    fault({ match..., times, action }) -> handle; clearFaults()
//   RBAC:      deny({ verb, resource, namespace, name, subresource }) -> handle; clearDenials()
//   watches:   openWatches(), whenWatching(match, n), closeWatches(), expireWatches(),
//              sendBookmarks(), compact()
//   wire log:  requests (every request: method, path, query, contentType, accept, body, status,
//              time, at, verb, resource...), clearRequests(), onRequest(fn), whenRequest(pred)
//   kubeconfig(opts) / kubeconfigFor([...]) for kubectl and client-node; several servers at once
//   (one per cluster/region) are independent.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { applyJsonPatch, decodeJsonPatch, deepEqual, mergePatch, PatchError, strategicMergePatch } from './patch.js';
import type { Json } from './patch.js';
import { apiVersionOf, BUILTINS, CRDS, defFromCrdObject, resourceKey, VERBS } from './resources.js';
import type { ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector, readPath } from './selectors.js';
import type { FieldPredicate, LabelPredicate } from './selectors.js';
import { ApiError, errors, genericStatus, statusBody } from './status.js';
import type { StatusBody } from './status.js';
import { entryFor, itemBytes, Store } from './store.js';
import { customTable, podTable, tableVersion } from './table.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './tls.js';
import { EVENTS, PodLogs } from './logs.js';
import type { KubeObject, StoredEntry, StoreEvent } from './store.js';

export type { KubeObject } from './store.js';
export type { ResourceDef } from './resources.js';
export { CRDS, BUILTINS } from './resources.js';
export { TEST_TLS_CERT } from './tls.js';

// =============================================================================================
// Options and public types

export interface KubeApiServerOptions {
  /** Bearer token required on every request (401 without it or with another). Default: none required. */
  token?: string;
  /**
   * Serve https with the self-signed test certificate (tls.ts), which kubeconfig() carries as
   * certificate-authority-data. Default true, because both clients want it: client-node 1.x refuses
   * an http:// server unless the kubeconfig says insecure-skip-tls-verify, and kubectl never sends
   * a bearer token over plain http. With false, the kubeconfig says insecure-skip-tls-verify: true.
   */
  tls?: boolean;
  /** The user named in 403 messages. Default "system:serviceaccount:canary:canary". */
  user?: string;
  /** CRDs installed at start (names as in CRDS, e.g. 'virtualservices.networking.istio.io'). */
  crds?: string[];
  /** Events kept for resuming watches (the watch cache's capacity). Default 1000. */
  historySize?: number;
  /** The resourceVersion before the first write. Default 1000. */
  startResourceVersion?: number;
  /** How often an open watch that allowed bookmarks gets one. Default 60 s (a real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** A too-old watch: 'event' (HTTP 200 + in-stream 410 ERROR, as a real 1.32 server) or 'http' (HTTP 410). */
  watchExpiredAs?: 'event' | 'http';
  /** The gitVersion /version reports. Default v1.32.4. */
  version?: string;
  /** gzip responses over 128 KiB for clients that accept it, as a real server does. Default true. */
  compression?: boolean;
}

export type Verb = (typeof VERBS)[number];

/** One request as it went over the wire. */
export interface RequestRecord {
  /** Epoch milliseconds when the request arrived. */
  time: number;
  /** performance.now() when the request arrived (same clock as the test's, for latency measurements). */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  accept: string | undefined;
  acceptEncoding: string | undefined;
  userAgent: string | undefined;
  /** The request body as sent (POST/PUT/PATCH/DELETE, '' if empty; undefined for GET). */
  body: string | undefined;
  /** The response status (200 for a watch once its headers went out); 0 while not yet answered; -1 for a reset. */
  status: number;
  verb: Verb | 'discovery' | undefined;
  /** Resource key: 'pods', 'deployments.apps', ... */
  resource: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watch: boolean;
  /** Which injected fault answered, if any. */
  fault: string | undefined;
}

export interface FaultMatch {
  method?: string;
  verb?: Verb;
  /** Resource key or plural ('pods', 'virtualservices', 'deployments.apps'). */
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch?: boolean;
  /** Matches the URL path (string: exact; RegExp: test). */
  path?: string | RegExp;
}

export type FaultAction =
  /** Answer with this status and a Status body (reason/message default to the real wording for the code). */
  | { type: 'status'; code: number; reason?: string; message?: string; retryAfterSeconds?: number }
  /** Destroy the socket: at once, or (watches) after `afterMs` of normal streaming. */
  | { type: 'reset'; afterMs?: number }
  /** Watches: send 200 and headers, then nothing at all (no events, no bookmarks) until closed. */
  | { type: 'silent' }
  /** Watches: after the first `afterEvents` events (default 0), write a line that is not JSON, then go on normally. */
  | { type: 'malformed'; line?: string; afterEvents?: number }
  /** Watches: stream normally, then after `afterMs` (default 0) send an in-stream ERROR 410 Expired and end. */
  | { type: 'expire'; afterMs?: number }
  /** Wait, then handle the request normally. */
  | { type: 'delay'; ms: number };

export interface FaultSpec extends FaultMatch {
  /** How many matching requests it applies to. Default 1; Infinity for all. */
  times?: number;
  action: FaultAction;
  /** A label for the request log. */
  label?: string;
}

export interface FaultHandle {
  /** Requests it has answered so far. */
  readonly hits: number;
  readonly remaining: number;
  remove(): void;
}

export interface DenyRule {
  verb?: Verb;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface KubeconfigOptions {
  /** Write the YAML here too. */
  path?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  /**
   * Token for the user; defaults to the server's token, or "canary-test" when the server requires
   * none (it then accepts any). Always give kubectl one: over https with no credentials at all it
   * prompts for a username on stdin ("Please enter Username: error: EOF"). null: no token.
   */
  token?: string | null;
}

export interface WatchInfo {
  resource: string;
  namespace: string | undefined;
  query: Record<string, string>;
  silent: boolean;
}

// =============================================================================================
// Internals: routes, watches

interface Route {
  def: ResourceDef;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  verb: Verb;
}

interface OpenWatch {
  route: Route;
  res: ServerResponse;
  query: URLSearchParams;
  labels: LabelPredicate;
  fields: FieldPredicate | undefined;
  silent: boolean;
  sent: number;
  malformed: { line: string; afterEvents: number } | undefined;
  /** Human-readable kubectl: events carry a one-row Table (pods only). */
  table: { version: 'v1' | 'v1beta1'; includeObject: string | null } | undefined;
  timers: NodeJS.Timeout[];
  unsubscribe: () => void;
  ended: boolean;
}

const JSON_TYPE = 'application/json';
const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/:]+)(?::([^/]+))?\/proxy(\/.*)?$/;
const PROXY_VERB: Record<string, Verb> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const HOP_HEADERS = new Set(['authorization', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);
const PATCH_TYPES_BUILTIN = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const PATCH_TYPES_CRD = ['application/json-patch+json', 'application/merge-patch+json'];
const BODY_TYPES = ['application/json', 'application/yaml'];
const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const GZIP_THRESHOLD = 128 * 1024;
const COMMA = Buffer.from(',');
const CLOSE_LIST = Buffer.from(']}');

/** metav1.Time: RFC 3339, whole seconds. */
function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * metav1.MicroTime: accepts any RFC 3339 time (client-node sends "…T13:18:07.123Z") and renders it
 * with exactly six fractional digits in UTC, as the Go encoder does. A value that is not a time is
 * a 400, as when the real server fails to decode the object.
 */
export function toMicroTime(v: unknown, kind: string): string {
  if (typeof v !== 'string') throw errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: invalid time ${JSON.stringify(v)}`);
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/.exec(v);
  if (!m) throw errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: parsing time "${v}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse`);
  const frac = ((m[3] ?? '') + '000000').slice(0, 6);
  const tz = (m[4] as string).toUpperCase();
  if (tz === 'Z') return `${m[1]}T${m[2]}.${frac}Z`;
  const base = Date.parse(`${m[1]}T${m[2]}${tz}`);
  return `${new Date(base).toISOString().slice(0, 19)}.${frac}Z`;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1] as string] = value;
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Continue tokens: base64 JSON like the real server's {"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"}. */
function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64');
}
function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad');
    return { rv: t.rv, start: t.start.replace(/\u0000$/, '') };
  } catch {
    throw errors.badRequest('continue key is not valid: illegal base64 data at input byte 0');
  }
}

// =============================================================================================
// The server

export class KubeApiServer {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[] = [];
  /** Pod logs (pods/{name}/log, logs.ts): set, append, terminate. */
  readonly logs = new PodLogs();

  private readonly store: Store;
  private readonly defs = new Map<string, ResourceDef>();
  private readonly installedCrds = new Set<string>();
  private readonly faults: { spec: FaultSpec; left: number; hits: number }[] = [];
  private readonly denials: DenyRule[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly requestListeners = new Set<(rec: RequestRecord) => void>();
  private readonly backends = new Map<string, string>();
  private readonly watchListeners = new Set<() => void>();
  private readonly user: string;
  private readonly bookmarkIntervalMs: number;
  private readonly watchExpiredAs: 'event' | 'http';
  private readonly gitVersion: string;
  private readonly startedAt = nowTime();
  private readonly compression: boolean;

  private constructor(
    private readonly server: Server,
    readonly options: KubeApiServerOptions,
  ) {
    this.port = (server.address() as AddressInfo).port;
    this.url = `${options.tls === false ? 'http' : 'https'}://127.0.0.1:${this.port}`;
    this.store = new Store(options.startResourceVersion ?? 1000, options.historySize ?? 1000);
    this.user = options.user ?? 'system:serviceaccount:canary:canary';
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.watchExpiredAs = options.watchExpiredAs ?? 'event';
    this.gitVersion = options.version ?? 'v1.32.4';
    this.compression = options.compression ?? true;
    for (const d of [...BUILTINS, EVENTS]) this.defs.set(resourceKey(d), d);
    for (const c of options.crds ?? []) this.installCrd(c);
  }

  /** Starts a server on 127.0.0.1 and an ephemeral port. */
  static async start(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const server: Server = options.tls !== false
      ? (createHttpsServer({ keepAlive: true, cert: TEST_TLS_CERT, key: TEST_TLS_KEY }) as unknown as Server)
      : createServer({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const api = new KubeApiServer(server, options);
    server.on('connection', (s: Socket) => {
      s.setNoDelay(true);
      api.sockets.add(s);
      s.on('close', () => api.sockets.delete(s));
    });
    server.on('request', (req, res) => void api.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => api.upgrade(req, socket, head));
    return api;
  }

  /** Ends open watches cleanly, drops every connection and stops listening. */
  async close(): Promise<void> {
    this.closeWatches();
    this.logs.endAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Control API: objects

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  /** Resolves 'pods', 'leases', 'deployments.apps', 'virtualservices.networking.istio.io', 'Pod', 'vs'... */
  resolve(resource: string): ResourceDef {
    const direct = this.defs.get(resource);
    if (direct) return direct;
    const lower = resource.toLowerCase();
    const hits = [...this.defs.values()].filter(
      (d) => d.resource === lower || d.kind.toLowerCase() === lower || d.singular === lower || d.shortNames.includes(lower),
    );
    if (hits.length === 1) return hits[0] as ResourceDef;
    if (hits.length > 1) throw new Error(`"${resource}" is ambiguous here: ${hits.map(resourceKey).join(', ')}`);
    throw new Error(`this test API server serves no resource "${resource}" (installed: ${[...this.defs.keys()].join(', ')})`);
  }

  /**
   * Stores a new object as given (status included), bumping the resourceVersion; watches see ADDED.
   * Returns a copy of what was stored (as do update and patch: changing it changes nothing here).
   */
  create(resource: string, obj: KubeObject): KubeObject {
    return JSON.parse(this.createEntry(this.resolve(resource), obj).json) as KubeObject;
  }

  /** Creates many objects at once: one JSON.stringify each (3,000 realistic pods: ~0.1 s here). */
  createMany(resource: string, objs: readonly KubeObject[]): void {
    const def = this.resolve(resource);
    for (const o of objs) this.createEntry(def, o);
  }

  private createEntry(def: ResourceDef, obj: KubeObject): StoredEntry {
    const ns = def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    if (this.store.get(def, ns, obj.metadata.name)) throw new Error(`${resourceKey(def)} ${ns ?? ''}/${obj.metadata.name} already exists`);
    return this.write(def, this.stampNew(def, obj, ns), undefined);
  }

  /** Creates the object, or replaces the stored one (keeping uid and creationTimestamp). */
  apply(resource: string, obj: KubeObject): KubeObject {
    const def = this.resolve(resource);
    const ns = def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    return this.store.get(def, ns, obj.metadata.name) ? this.update(resource, obj) : this.create(resource, obj);
  }

  /** Replaces a stored object as given (no precondition); watches see MODIFIED. */
  update(resource: string, obj: KubeObject): KubeObject {
    const def = this.resolve(resource);
    const ns = def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const cur = this.store.get(def, ns, obj.metadata.name);
    if (!cur) throw new Error(`${resourceKey(def)} ${ns ?? ''}/${obj.metadata.name} does not exist`);
    const next = { ...obj };
    next.metadata = { ...next.metadata, namespace: ns, uid: cur.obj.metadata.uid, creationTimestamp: cur.obj.metadata.creationTimestamp };
    if (ns === undefined) delete next.metadata.namespace;
    return JSON.parse(this.write(def, next, cur).json) as KubeObject;
  }

  /** Changes a stored object by a merge patch or a function of a copy of it; watches see MODIFIED. */
  patch(resource: string, namespace: string | undefined, name: string, change: Record<string, unknown> | ((obj: KubeObject) => KubeObject | void)): KubeObject {
    const def = this.resolve(resource);
    const ns = def.namespaced ? (namespace ?? 'default') : undefined;
    const cur = this.store.get(def, ns, name);
    if (!cur) throw new Error(`${resourceKey(def)} ${ns ?? ''}/${name} does not exist`);
    let next: KubeObject;
    if (typeof change === 'function') {
      const copy = structuredClone(cur.obj);
      next = change(copy) ?? copy;
    } else next = mergePatch(cur.obj as unknown as Json, change as Json) as unknown as KubeObject;
    next.metadata = { ...next.metadata, name, namespace: ns };
    if (ns === undefined) delete next.metadata.namespace;
    return JSON.parse(this.write(def, next, cur).json) as KubeObject;
  }

  /** Deletes a stored object; watches see DELETED. Returns false when there was none. */
  remove(resource: string, namespace: string | undefined, name: string): boolean {
    const def = this.resolve(resource);
    const ns = def.namespaced ? (namespace ?? 'default') : undefined;
    return this.removeEntry(def, ns, name) !== undefined;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = this.resolve(resource);
    const e = this.store.get(def, def.namespaced ? (namespace ?? 'default') : undefined, name);
    return e ? (JSON.parse(e.json) as KubeObject) : undefined;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    const def = this.resolve(resource);
    return this.store.list(def, namespace).map((e) => JSON.parse(e.json) as KubeObject);
  }

  // ------------------------------------------------------------------------------------------
  // Control API: CRDs

  /** Serves a custom resource type from now on (a name from CRDS, or a whole definition). */
  installCrd(crd: string | ResourceDef): ResourceDef {
    const def = typeof crd === 'string' ? CRDS[crd] : crd;
    if (!def) throw new Error(`unknown CRD "${String(crd)}" (known: ${Object.keys(CRDS).join(', ')})`);
    this.defs.set(resourceKey(def), def);
    this.installedCrds.add(resourceKey(def));
    return def;
  }

  /** Stops serving a custom resource type: its objects are gone, its watches end, its paths are 404. */
  removeCrd(name: string): void {
    const def = this.defs.get(name) ?? this.resolve(name);
    if (!this.installedCrds.has(resourceKey(def))) throw new Error(`${name} is not an installed CRD`);
    for (const w of [...this.watches]) if (w.route.def === def) this.endWatch(w);
    this.store.dropType(def);
    this.defs.delete(resourceKey(def));
    this.installedCrds.delete(resourceKey(def));
    const crdType = this.crdType;
    if (def.fromCrdObject && crdType) this.store.remove(crdType, undefined, resourceKey(def), this.store.nextResourceVersion());
  }

  crds(): string[] {
    return [...this.installedCrds];
  }

  // ------------------------------------------------------------------------------------------
  // Control API: faults and denials

  /** Makes the next `times` matching requests fail as `action` says. */
  fault(spec: FaultSpec): FaultHandle {
    const f = { spec, left: spec.times ?? 1, hits: 0 };
    this.faults.push(f);
    const faults = this.faults;
    return {
      get hits() {
        return f.hits;
      },
      get remaining() {
        return f.left;
      },
      remove() {
        const i = faults.indexOf(f);
        if (i >= 0) faults.splice(i, 1);
      },
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Denies a verb on a resource (every field optional = any): 403 Forbidden with the real message. */
  deny(rule: DenyRule): { remove(): void } {
    const r = { ...rule, resource: rule.resource ? this.keyFor(rule.resource) : undefined };
    this.denials.push(r);
    return {
      remove: () => {
        const i = this.denials.indexOf(r);
        if (i >= 0) this.denials.splice(i, 1);
      },
    };
  }

  clearDenials(): void {
    this.denials.length = 0;
  }

  // ------------------------------------------------------------------------------------------
  // Control API: watches

  openWatches(): WatchInfo[] {
    return [...this.watches].map((w) => ({
      resource: resourceKey(w.route.def),
      namespace: w.route.namespace,
      query: Object.fromEntries(w.query),
      silent: w.silent,
    }));
  }

  /**
   * Resolves once at least `count` watches matching `match` are open on the server (their headers
   * sent and initial events written), so that a test can write knowing the watch will see it.
   * Rejects after timeoutMs (default 10 s) saying what is open.
   */
  whenWatching(match: { resource?: string; namespace?: string; silent?: boolean } = {}, count = 1, timeoutMs = 10_000): Promise<void> {
    const key = match.resource ? this.keyFor(match.resource) : undefined;
    const enough = () =>
      [...this.watches].filter((w) => (!key || resourceKey(w.route.def) === key) && (match.namespace === undefined || w.route.namespace === match.namespace) && (match.silent === undefined || w.silent === match.silent)).length >= count;
    if (enough()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!enough()) return;
        clearTimeout(timer);
        this.watchListeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchListeners.delete(check);
        reject(new Error(`no ${count} open watch(es) matching ${JSON.stringify(match)} in ${timeoutMs} ms; open: ${JSON.stringify(this.openWatches())}`));
      }, timeoutMs);
      this.watchListeners.add(check);
    });
  }

  /** Resolves with the first request from now on for which `pred` holds (rejects after timeoutMs, default 10 s). */
  whenRequest(pred: (rec: RequestRecord) => boolean, timeoutMs = 10_000): Promise<RequestRecord> {
    return new Promise((resolve, reject) => {
      const off = this.onRequest((rec) => {
        if (!pred(rec)) return;
        off();
        clearTimeout(timer);
        resolve(rec);
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching request in ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** Ends every open watch cleanly (the terminating chunk), as a server does at its timeout. */
  closeWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  /** Sends every open watch an in-stream ERROR 410 Expired and ends it (a watch cache being re-initialised). */
  expireWatches(): void {
    for (const w of [...this.watches]) this.expireWatch(w);
  }

  /** Sends a BOOKMARK now on every open watch that allowed bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watches) if (!w.silent && w.query.get('allowWatchBookmarks') === 'true') this.bookmark(w);
  }

  /** Forgets the event history: a watch resuming from any resourceVersion before now gets 410. */
  compact(): void {
    this.store.compact();
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /**
   * Calls `fn` for every request as soon as it has been read (body and route known, before it is
   * answered), e.g. to resolve a promise when canary's PATCH reaches the wire. Returns an unsubscribe.
   */
  onRequest(fn: (rec: RequestRecord) => void): () => void {
    this.requestListeners.add(fn);
    return () => this.requestListeners.delete(fn);
  }

  // ------------------------------------------------------------------------------------------
  // Control API: the service proxy

  /**
   * Where the service proxy sends requests for a Service's port (`port`: its name or number; the
   * Service object must exist too): a real API server would pick one of the Service's ready
   * endpoints; here the test says which process stands behind it ("http://127.0.0.1:PORT").
   * undefined removes it (the proxy then answers 503 "no endpoints available").
   */
  serviceBackend(namespace: string, service: string, port: string | number, url: string | undefined): void {
    const key = `${namespace}/${service}:${port}`;
    if (url === undefined) this.backends.delete(key);
    else this.backends.set(key, url.replace(/\/$/, ''));
  }

  // ------------------------------------------------------------------------------------------
  // Control API: kubeconfig

  /** A kubeconfig for this server (and writes it to opts.path if given). */
  kubeconfig(opts: KubeconfigOptions = {}): string {
    const yaml = kubeconfigFor([{ server: this, ...opts }]);
    if (opts.path) writeFileSync(opts.path, yaml);
    return yaml;
  }

  // ------------------------------------------------------------------------------------------
  // Writes

  private keyFor(resource: string): string {
    try {
      return resourceKey(this.resolve(resource));
    } catch {
      return resource;
    }
  }

  /** A shallow copy with uid, creationTimestamp, namespace and generation (write() copies deeply). */
  private stampNew(def: ResourceDef, obj: KubeObject, ns: string | undefined): KubeObject {
    const next = { ...obj };
    next.metadata = {
      ...next.metadata,
      ...(ns !== undefined ? { namespace: ns } : {}),
      uid: (next.metadata.uid as string | undefined) ?? randomUUID(),
      creationTimestamp: (next.metadata.creationTimestamp as string | undefined) ?? nowTime(),
    };
    if (ns === undefined) delete next.metadata.namespace;
    if (this.hasGeneration(def)) next.metadata.generation = 1;
    return next;
  }

  private hasGeneration(def: ResourceDef): boolean {
    return !def.builtIn || def.resource === 'deployments' || def.resource === 'ingresses';
  }

  /**
   * Normalises, bumps generation when the spec changed, takes a resourceVersion and stores. `obj`
   * may share nested values with the caller's objects or the stored ones: only its top level and
   * its metadata object are changed here (the store keeps its own parsed copy).
   */
  private write(def: ResourceDef, input: KubeObject, prev: StoredEntry | undefined): StoredEntry {
    const obj = def.microTimeFields.length > 0 ? structuredClone(input) : { ...input, metadata: { ...input.metadata } };
    for (const path of def.microTimeFields) {
      const v = getPath(obj, path);
      if (v !== undefined && v !== null) setPath(obj, path, toMicroTime(v, def.kind));
    }
    if (prev && this.hasGeneration(def)) {
      const { metadata: _m1, status: _s1, ...a } = prev.obj;
      const { metadata: _m2, status: _s2, ...b } = obj;
      const changed = !deepEqual({ ...a, kind: undefined, apiVersion: undefined }, { ...b, kind: undefined, apiVersion: undefined });
      const gen = Number(prev.obj.metadata.generation ?? 1);
      obj.metadata.generation = changed ? gen + 1 : gen;
    }
    delete obj.apiVersion;
    delete obj.kind;
    // A CustomResourceDefinition object: checked as the real server checks it, and its type served
    // from now on (and its printer columns used for kubectl's Table).
    const crdDef = def === this.crdType ? defFromCrdObject(obj) : undefined;
    const rv = this.store.nextResourceVersion();
    obj.metadata.resourceVersion = String(rv);
    const stored = this.store.put(def, obj, rv);
    if (crdDef) {
      this.defs.set(resourceKey(crdDef), crdDef);
      this.installedCrds.add(resourceKey(crdDef));
    }
    return stored;
  }

  private get crdType(): ResourceDef | undefined {
    return this.defs.get('customresourcedefinitions.apiextensions.k8s.io');
  }

  /** Deletes an object through the store; a deleted CRD object stops serving its type. */
  private removeEntry(def: ResourceDef, ns: string | undefined, name: string): StoredEntry | undefined {
    const gone = this.store.remove(def, ns, name, this.store.nextResourceVersion());
    if (gone && def === this.crdType) {
      const key = name;
      const served = this.defs.get(key);
      if (served?.fromCrdObject) {
        for (const w of [...this.watches]) if (w.route.def === served) this.endWatch(w);
        this.store.dropType(served);
        this.defs.delete(key);
        this.installedCrds.delete(key);
      }
    }
    return gone;
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RequestRecord = {
      time: Date.now(),
      at: performance.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      acceptEncoding: req.headers['accept-encoding'],
      userAgent: req.headers['user-agent'],
      body: undefined,
      status: 0,
      verb: undefined,
      resource: undefined,
      namespace: undefined,
      name: undefined,
      subresource: undefined,
      watch: false,
      fault: undefined,
    };
    this.requests.push(rec);
    res.on('close', () => {
      if (rec.status === 0) rec.status = res.headersSent ? res.statusCode : -1;
    });
    try {
      // DELETE carries DeleteOptions (preconditions) in its body.
      const body = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' || req.method === 'DELETE' ? await readBody(req) : undefined;
      rec.body = body;
      // A path the server does not serve is a 404, but only after authentication (as on a real server).
      let route: Route | undefined;
      let unrouted: ApiError | undefined;
      try {
        route = this.route(req.method ?? 'GET', url);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        unrouted = err;
      }
      if (route) {
        rec.verb = route.verb;
        rec.resource = resourceKey(route.def);
        rec.namespace = route.namespace;
        rec.name = route.name;
        rec.subresource = route.subresource;
        rec.watch = route.verb === 'watch';
      } else rec.verb = 'discovery';
      const proxy = PROXY_PATH.exec(url.pathname);
      if (proxy) {
        rec.verb = PROXY_VERB[req.method ?? 'GET'];
        rec.resource = 'services';
        rec.namespace = decodeURIComponent(proxy[1]!);
        rec.name = decodeURIComponent(proxy[2]!);
        rec.subresource = 'proxy';
        for (const fn of this.requestListeners) fn(rec);
        this.authenticate(req);
        return await this.proxyHttp(req, res, rec, url, proxy, body);
      }
      for (const fn of this.requestListeners) fn(rec);

      // Injected faults first: they stand for anything between the client and the object store.
      const fault = this.takeFault(rec, url);
      let watchFault: FaultAction | undefined;
      if (fault) {
        rec.fault = fault.label ?? fault.action.type;
        const a = fault.action;
        if (a.type === 'delay') await new Promise((r) => setTimeout(r, a.ms));
        else if (a.type === 'status') {
          const st = genericStatus(a.code, a.reason, a.message);
          if (a.retryAfterSeconds !== undefined) {
            st.details = { ...(st.details ?? {}), retryAfterSeconds: a.retryAfterSeconds };
            res.setHeader('Retry-After', String(a.retryAfterSeconds));
          }
          return this.sendStatus(res, rec, st);
        } else if (a.type === 'reset' && !(route?.verb === 'watch' && a.afterMs !== undefined)) {
          rec.status = -1;
          req.socket.destroy();
          return;
        } else watchFault = a;
      }

      this.authenticate(req);
      if (unrouted) throw unrouted;
      if (!route) return this.discovery(req, res, rec, url);
      this.authorize(route);
      await this.serve(req, res, rec, url, route, body, watchFault);
    } catch (err) {
      if (err instanceof ApiError) return this.sendStatus(res, rec, err.status);
      const message = err instanceof Error ? err.message : String(err);
      return this.sendStatus(res, rec, errors.internal(message).status);
    }
  }

  private takeFault(rec: RequestRecord, url: URL): FaultSpec | undefined {
    for (const f of this.faults) {
      const s = f.spec;
      if (f.left <= 0) continue;
      // Stream faults only ever apply to watches.
      if ((s.action.type === 'silent' || s.action.type === 'malformed' || s.action.type === 'expire') && !rec.watch) continue;
      if (s.method && s.method.toUpperCase() !== rec.method) continue;
      if (s.verb && s.verb !== rec.verb) continue;
      if (s.resource && this.keyFor(s.resource) !== rec.resource) continue;
      if (s.namespace && s.namespace !== rec.namespace) continue;
      if (s.name && s.name !== rec.name) continue;
      if (s.subresource !== undefined && s.subresource !== rec.subresource) continue;
      if (s.watch !== undefined && s.watch !== rec.watch) continue;
      if (s.path !== undefined && (typeof s.path === 'string' ? s.path !== url.pathname : !s.path.test(url.pathname))) continue;
      f.left -= 1;
      f.hits += 1;
      return s;
    }
    return undefined;
  }

  private authenticate(req: IncomingMessage): void {
    if (this.options.token === undefined) return;
    if (req.headers.authorization !== `Bearer ${this.options.token}`) throw errors.unauthorized();
  }

  private authorize(route: Route): void {
    const rk = resourceKey(route.def);
    for (const d of this.denials) {
      if (d.verb && d.verb !== route.verb) continue;
      if (d.resource && d.resource !== rk) continue;
      if (d.namespace && d.namespace !== route.namespace) continue;
      if (d.name && d.name !== route.name) continue;
      if (d.subresource !== undefined && d.subresource !== route.subresource) continue;
      const resource = route.subresource ? `${route.def.resource}/${route.subresource}` : route.def.resource;
      throw errors.forbidden(route.def, route.name, this.user, route.verb, resource, route.def.namespaced ? route.namespace : undefined);
    }
  }

  /**
   * /api/v1/[watch/][namespaces/{ns}/]{resource}[/{name}[/{subresource}]] and the same under
   * /apis/{group}/{version}/. Returns undefined for discovery paths; throws 404 for paths that name
   * a group, version or resource the server does not serve.
   */
  private route(method: string, url: URL): Route | undefined {
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') {
      if (parts.length <= 2) return undefined;
      group = '';
      version = parts[1] as string;
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      if (parts.length <= 3) return undefined;
      group = parts[1] as string;
      version = parts[2] as string;
      rest = parts.slice(3);
    } else return undefined;
    let legacyWatch = false;
    if (rest[0] === 'watch') {
      legacyWatch = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, subresource, ...extra] = rest;
    const def = [...this.defs.values()].find((d) => d.group === group && d.version === version && d.resource === resource);
    if (!def || extra.length > 0) throw errors.noResource();
    if (namespace !== undefined && !def.namespaced) throw errors.noResource();
    if (subresource !== undefined && !(subresource === 'status' && def.subresources.status) && !(subresource === 'scale' && def.subresources.scale) && !(subresource === 'log' && def.resource === 'pods' && def.group === '' && method === 'GET')) {
      throw errors.noResource();
    }
    const watch = legacyWatch || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    let verb: Verb;
    switch (method) {
      case 'GET':
        verb = watch ? 'watch' : name === undefined ? 'list' : 'get';
        break;
      case 'POST':
        if (name !== undefined) throw errors.methodNotAllowed();
        verb = 'create';
        break;
      case 'PUT':
        if (name === undefined) throw errors.methodNotAllowed();
        verb = 'update';
        break;
      case 'PATCH':
        if (name === undefined) throw errors.methodNotAllowed();
        verb = 'patch';
        break;
      case 'DELETE':
        verb = name === undefined ? 'deletecollection' : 'delete';
        break;
      default:
        throw errors.methodNotAllowed();
    }
    return { def, namespace: def.namespaced ? namespace : undefined, name, subresource, verb };
  }

  private async serve(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, url: URL, route: Route, body: string | undefined, watchFault: FaultAction | undefined): Promise<void> {
    const q = url.searchParams;
    const dryRun = q.get('dryRun') === 'All';
    switch (route.verb) {
      case 'get': {
        if (route.subresource === 'scale') return this.sendJson(res, rec, 200, JSON.stringify(this.scaleOf(route)));
        if (route.subresource === 'log') return this.logs.serve(this.mustGet(route).obj, q, res, (code) => (rec.status = code));
        const e = this.mustGet(route);
        const tv = (route.def === this.defs.get('pods') || route.def.printerColumns) && !route.subresource ? tableVersion(req.headers.accept) : undefined;
        if (tv && route.def.printerColumns) return this.sendJson(res, rec, 200, customTable(route.def, route.def.printerColumns, [e.obj], { resourceVersion: e.obj.metadata.resourceVersion }, tv, q.get('includeObject'), Date.now()));
        if (tv) return this.sendJson(res, rec, 200, podTable([e.obj], { resourceVersion: e.obj.metadata.resourceVersion }, tv, q.get('includeObject'), Date.now()));
        return this.sendJson(res, rec, 200, e.json);
      }
      case 'list':
        return this.sendList(req, res, rec, route, q);
      case 'watch':
        return this.startWatch(req, res, rec, route, q, watchFault);
      case 'create': {
        const obj = this.decodeBody(req, body, route);
        const created = this.createFromRequest(route, obj, dryRun);
        return this.sendJson(res, rec, 201, created.json);
      }
      case 'update': {
        const obj = this.decodeBody(req, body, route);
        return this.sendJson(res, rec, 200, this.updateFromRequest(route, obj, dryRun));
      }
      case 'patch':
        return this.sendJson(res, rec, 200, this.patchFromRequest(req, route, body ?? '', dryRun));
      case 'delete':
        return this.sendJson(res, rec, 200, this.deleteFromRequest(route, body, dryRun));
      case 'deletecollection': {
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'), route.def.selectableFields);
        const gone: StoredEntry[] = [];
        for (const e of this.store.list(route.def, route.namespace)) {
          if (!labels(e.labels) || (fields && !fields(e.obj))) continue;
          if (!dryRun) this.removeEntry(route.def, e.namespace, e.name);
          gone.push(e);
        }
        return this.sendJson(res, rec, 200, this.listBody(route.def, String(this.store.resourceVersion), gone, undefined, undefined));
      }
    }
  }

  private mustGet(route: Route): StoredEntry {
    const e = this.store.get(route.def, route.namespace, route.name as string) ?? (route.def.resource === 'namespaces' ? this.implicitNamespace(route.name as string) : undefined);
    if (!e) throw errors.notFound(route.def, route.name as string);
    return e;
  }

  /**
   * Namespaces need not be created here: one that holds objects (or default, kube-system,
   * kube-public) reads as an Active Namespace, so that kubectl's follow-up GET of the namespace after
   * a 404 finds it and reports the object missing, as on a cluster. Not stored, never in a watch.
   */
  private implicitNamespace(name: string): StoredEntry | undefined {
    const builtin = ['default', 'kube-system', 'kube-public'].includes(name);
    if (!builtin && !this.namespacesInUse().has(name)) return undefined;
    const def = this.defs.get('namespaces') as ResourceDef;
    return entryFor(def, {
      metadata: { name, uid: `00000000-0000-4000-8000-${Buffer.from(name).toString('hex').padEnd(12, '0').slice(0, 12)}`, resourceVersion: '1', creationTimestamp: this.startedAt, labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  private namespacesInUse(): Set<string> {
    const out = new Set<string>(['default', 'kube-system', 'kube-public']);
    for (const d of this.defs.values()) {
      if (!d.namespaced) continue;
      for (const e of this.store.list(d)) if (e.namespace) out.add(e.namespace);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Bodies

  private decodeBody(req: IncomingMessage, body: string | undefined, route: Route): KubeObject {
    const type = mediaType(req.headers['content-type']);
    if (!BODY_TYPES.includes(type)) throw errors.unsupportedMediaType(['application/json', 'application/yaml']);
    let obj: unknown;
    try {
      obj = type === 'application/yaml' ? parseYaml(body ?? '') : JSON.parse(body ?? '');
    } catch (err) {
      throw errors.badRequest(`${route.def.kind} in version "${route.def.version}" cannot be handled as a ${route.def.kind}: ${(err as Error).message}`);
    }
    if (!isObj(obj)) throw errors.badRequest(`${route.def.kind} in version "${route.def.version}" cannot be handled as a ${route.def.kind}: not an object`);
    if (route.subresource === 'scale') return obj as KubeObject;
    const av = obj.apiVersion;
    const kind = obj.kind;
    if ((av !== undefined && av !== apiVersionOf(route.def)) || (kind !== undefined && kind !== route.def.kind)) {
      throw errors.badRequest(`the API version in the data (${String(av)}) does not match the expected API version (${apiVersionOf(route.def)})`);
    }
    if (!isObj(obj.metadata)) obj.metadata = {};
    return obj as KubeObject;
  }

  private createFromRequest(route: Route, obj: KubeObject, dryRun: boolean): StoredEntry {
    if (route.subresource) throw errors.methodNotAllowed();
    const def = route.def;
    const md = obj.metadata;
    if (def.namespaced) {
      if (md.namespace !== undefined && md.namespace !== '' && md.namespace !== route.namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      // POST to the all-namespaces collection (/api/v1/pods) is not a route of the real server either.
      if (route.namespace === undefined) throw errors.methodNotAllowed();
    }
    if (!md.name && typeof md.generateName === 'string' && md.generateName) {
      md.name = `${md.generateName}${Math.random().toString(36).slice(2, 7)}`;
    }
    if (!md.name) throw errors.invalid(def.kind, def.group, '', [{ field: 'metadata.name', type: 'Required value', detail: 'name or generateName is required' }]);
    if (this.store.get(def, route.namespace, md.name)) throw errors.alreadyExists(def, md.name);
    delete md.resourceVersion;
    delete md.uid;
    delete md.creationTimestamp;
    if (def.subresources.status) obj.status = def.resource === 'pods' ? { phase: 'Pending', qosClass: 'BestEffort' } : {};
    const stamped = this.stampNew(def, obj, route.namespace);
    if (dryRun) return entryFor(def, { ...stamped, metadata: { ...stamped.metadata, resourceVersion: '' } });
    return this.write(def, stamped, undefined);
  }

  /** PUT: a resourceVersion in the body must be the stored one (409 otherwise). */
  private updateFromRequest(route: Route, obj: KubeObject, dryRun: boolean): string {
    const def = route.def;
    const name = route.name as string;
    if (route.subresource === 'scale') return JSON.stringify(this.writeScale(route, obj as unknown as Record<string, unknown>, dryRun));
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && obj.metadata.namespace !== undefined && obj.metadata.namespace !== '' && obj.metadata.namespace !== route.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const cur = this.mustGet(route);
    // Without a resourceVersion the update is unconditional (every type served here allows that).
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== cur.obj.metadata.resourceVersion) throw errors.conflict(def, name);
    return this.commit(route, cur, obj, dryRun);
  }

  /** Keeps what a write through this endpoint may not change, and stores. */
  private commit(route: Route, cur: StoredEntry, next: KubeObject, dryRun: boolean): string {
    const def = route.def;
    const out = structuredClone(next);
    out.metadata = {
      ...out.metadata,
      name: cur.obj.metadata.name,
      uid: cur.obj.metadata.uid,
      creationTimestamp: cur.obj.metadata.creationTimestamp,
      ...(def.namespaced ? { namespace: cur.obj.metadata.namespace } : {}),
    };
    if (def.subresources.status) {
      if (route.subresource === 'status') {
        // The status subresource changes status only.
        const status = out.status;
        const keep = structuredClone(cur.obj);
        if (status === undefined) delete keep.status;
        else keep.status = status;
        return this.save(def, keep, cur, dryRun);
      }
      if (cur.obj.status === undefined) delete out.status;
      else out.status = structuredClone(cur.obj.status);
    }
    return this.save(def, out, cur, dryRun);
  }

  private save(def: ResourceDef, obj: KubeObject, cur: StoredEntry, dryRun: boolean): string {
    if (dryRun) return entryFor(def, obj).json;
    return this.write(def, obj, cur).json;
  }

  private patchFromRequest(req: IncomingMessage, route: Route, body: string, dryRun: boolean): string {
    const def = route.def;
    const type = mediaType(req.headers['content-type']);
    const accepted = def.builtIn ? PATCH_TYPES_BUILTIN : PATCH_TYPES_CRD;
    if (!accepted.includes(type)) throw errors.unsupportedMediaType(accepted);
    let patch: unknown;
    try {
      patch = JSON.parse(body);
    } catch (err) {
      throw errors.badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const name = route.name as string;
    const cur: KubeObject | Record<string, unknown> = route.subresource === 'scale' ? this.scaleOf(route) : this.mustGet(route).obj;
    const curRv = (cur.metadata as { resourceVersion?: string }).resourceVersion;
    let patched: Json;
    if (type === 'application/json-patch+json') {
      let ops;
      try {
        ops = decodeJsonPatch(patch);
      } catch (err) {
        throw errors.badRequest((err as Error).message);
      }
      try {
        patched = applyJsonPatch(cur as unknown as Json, ops);
      } catch (err) {
        if (err instanceof PatchError) throw errors.patchUnprocessable();
        throw err;
      }
    } else if (type === 'application/merge-patch+json') {
      if (!isObj(patch)) throw errors.badRequest('error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = mergePatch(cur as unknown as Json, patch as Json);
    } else {
      if (!isObj(patch)) throw errors.badRequest('error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = strategicMergePatch(cur as unknown as Json, patch as Json);
    }
    if (!isObj(patched) || !isObj(patched.metadata)) throw errors.badRequest('the patched object has no metadata');
    // metadata.resourceVersion in the result is a precondition (the real patcher passes it on to the update).
    const rv = patched.metadata.resourceVersion;
    if (rv !== undefined && rv !== null && rv !== '' && rv !== curRv) throw errors.conflict(def, name);
    if (patched.metadata.name !== undefined && patched.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`);
    }
    if (route.subresource === 'scale') return JSON.stringify(this.writeScale(route, patched, dryRun));
    return this.commit(route, this.mustGet(route), patched as unknown as KubeObject, dryRun);
  }

  private deleteFromRequest(route: Route, body: string | undefined, dryRun: boolean): string {
    if (route.subresource) throw errors.methodNotAllowed();
    const cur = this.mustGet(route);
    if (body) {
      let opts: unknown;
      try {
        opts = JSON.parse(body);
      } catch {
        throw errors.badRequest('DeleteOptions in version "v1" cannot be handled as a DeleteOptions');
      }
      const pre = isObj(opts) && isObj(opts.preconditions) ? opts.preconditions : undefined;
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== cur.obj.metadata.resourceVersion) {
        throw errors.conflict(route.def, route.name as string, `the ResourceVersion in the precondition (${String(pre.resourceVersion)}) does not match the ResourceVersion in record (${cur.obj.metadata.resourceVersion}). The object might have been modified`);
      }
      if (pre?.uid !== undefined && pre.uid !== cur.obj.metadata.uid) {
        throw errors.conflict(route.def, route.name as string, `the UID in the precondition (${String(pre.uid)}) does not match the UID in record (${String(cur.obj.metadata.uid)}). The object might have been deleted and then recreated`);
      }
    }
    if (dryRun) return cur.json;
    const gone = this.removeEntry(route.def, route.namespace, route.name as string);
    return (gone ?? cur).json;
  }

  // ------------------------------------------------------------------------------------------
  // The scale subresource (autoscaling/v1 Scale)

  private scaleOf(route: Route): Record<string, unknown> {
    const spec = route.def.subresources.scale;
    if (!spec) throw errors.noResource();
    const o = this.mustGet(route).obj;
    const selector = spec.labelSelectorPath
      ? readPath(o, spec.labelSelectorPath)
      : Object.entries((getPath(o, ['spec', 'selector', 'matchLabels']) as Record<string, string> | undefined) ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        uid: o.metadata.uid,
        resourceVersion: o.metadata.resourceVersion,
        creationTimestamp: o.metadata.creationTimestamp,
      },
      spec: { replicas: Number(getPath(o, spec.specReplicasPath) ?? 0) },
      status: { replicas: Number(getPath(o, spec.statusReplicasPath) ?? 0), selector },
    };
  }

  private writeScale(route: Route, scale: Record<string, unknown>, dryRun: boolean): Record<string, unknown> {
    const spec = route.def.subresources.scale;
    if (!spec) throw errors.noResource();
    const cur = this.mustGet(route);
    const md = isObj(scale.metadata) ? scale.metadata : {};
    if (md.resourceVersion !== undefined && md.resourceVersion !== '' && md.resourceVersion !== cur.obj.metadata.resourceVersion) {
      throw errors.conflict(route.def, route.name as string);
    }
    const replicas = getPath(scale, ['spec', 'replicas']);
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', route.name as string, [
        { field: 'spec.replicas', type: 'Invalid value', detail: `${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` },
      ]);
    }
    const next = structuredClone(cur.obj);
    setPath(next, spec.specReplicasPath, replicas);
    if (!dryRun) this.write(route.def, next, cur);
    return this.scaleOf(route);
  }

  // ------------------------------------------------------------------------------------------
  // Lists

  /** A list body from the items' cached UTF-8 bytes: one memory copy, no JSON work per request. */
  private listBody(def: ResourceDef, rv: string, items: StoredEntry[], cont: string | undefined, remaining: number | undefined): Buffer {
    const meta: Record<string, unknown> = { resourceVersion: rv };
    if (cont) meta.continue = cont;
    if (remaining !== undefined && remaining > 0) meta.remainingItemCount = remaining;
    const parts: Buffer[] = [Buffer.from(`{"kind":"${def.listKind}","apiVersion":"${apiVersionOf(def)}","metadata":${JSON.stringify(meta)},"items":[`)];
    items.forEach((e, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(itemBytes(e));
    });
    parts.push(CLOSE_LIST);
    return Buffer.concat(parts);
  }

  private sendList(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, route: Route, q: URLSearchParams): void {
    const def = route.def;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), def.selectableFields);
    const limit = Number(q.get('limit') ?? 0);
    const cont = q.get('continue');
    let rv = this.store.resourceVersion;
    let start: string | undefined;
    if (cont) {
      const t = decodeContinue(cont);
      if (t.rv < this.store.oldestResumable()) {
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      rv = t.rv;
      start = t.start;
    } else {
      const want = q.get('resourceVersion');
      const match = q.get('resourceVersionMatch');
      if (match && match !== 'Exact' && match !== 'NotOlderThan') throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${match}"`);
      if (want !== null && want !== '' && !/^\d+$/.test(want)) {
        throw errors.badRequest(`resourceVersion: Invalid value: "${want}": must be a non-negative integer`);
      }
      if (match === 'Exact') {
        // Only the newest state is kept: an exact list at an older resourceVersion is too old, as after compaction.
        const n = Number(want);
        if (n < this.store.oldestResumable() || (n < this.store.resourceVersion && n !== this.store.resourceVersion)) {
          throw errors.expired(`too old resource version: ${n} (${this.store.oldestResumable()})`);
        }
      }
    }
    const items: StoredEntry[] = [];
    let lastKey: string | undefined;
    let remaining = 0;
    let all = this.store.list(def, route.namespace);
    if (def.resource === 'namespaces') {
      const stored = new Set(all.map((e) => e.obj.metadata.name));
      const implicit = [...this.namespacesInUse()].filter((n) => !stored.has(n)).map((n) => this.implicitNamespace(n) as StoredEntry);
      all = [...all, ...implicit].sort((a, b) => (a.name < b.name ? -1 : 1));
    }
    for (const e of all) {
      const key = e.key;
      if (start !== undefined && key <= start) continue;
      if (!labels(e.labels) || (fields && !fields(e.obj))) continue;
      if (limit > 0 && items.length >= limit) {
        remaining += 1;
        continue;
      }
      items.push(e);
      lastKey = key;
    }
    const next = limit > 0 && remaining > 0 && lastKey !== undefined ? encodeContinue(rv, lastKey) : undefined;
    // remainingItemCount is only given without selectors, as on a real server.
    const plain = !q.get('labelSelector') && !q.get('fieldSelector');
    const count = next && plain ? remaining : undefined;
    const tv = def === this.defs.get('pods') || def.printerColumns ? tableVersion(req.headers.accept) : undefined;
    if (tv) {
      const meta: Record<string, unknown> = { resourceVersion: String(rv), ...(next ? { continue: next } : {}), ...(count ? { remainingItemCount: count } : {}) };
      if (def.printerColumns) return this.sendJson(res, rec, 200, customTable(def, def.printerColumns, items.map((e) => e.obj), meta, tv, q.get('includeObject'), Date.now()));
      return this.sendJson(res, rec, 200, podTable(items.map((e) => e.obj), meta, tv, q.get('includeObject'), Date.now()));
    }
    this.sendJson(res, rec, 200, this.listBody(def, String(rv), items, next, count));
  }

  // ------------------------------------------------------------------------------------------
  // Watches

  private startWatch(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, route: Route, q: URLSearchParams, fault: FaultAction | undefined): void {
    const def = route.def;
    // A watch on one object: the path names it (fieldSelector metadata.name, as client-go does it).
    const fields = parseFieldSelector(q.get('fieldSelector'), def.selectableFields);
    const labels = parseLabelSelector(q.get('labelSelector'));
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw errors.badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
    const from = rvParam === '' ? 0 : Number(rvParam);
    const tooOld = from > 0 && from < this.store.oldestResumable();
    if (tooOld && this.watchExpiredAs === 'http') throw errors.expired(`too old resource version: ${from} (${this.store.oldestResumable()})`);

    res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    rec.status = 200;
    const w: OpenWatch = {
      route,
      res,
      query: q,
      labels,
      fields,
      silent: fault?.type === 'silent',
      sent: 0,
      malformed: fault?.type === 'malformed' ? { line: fault.line ?? '{"type":"MODIFIED","object":{"kind":', afterEvents: fault.afterEvents ?? 0 } : undefined,
      table: (() => {
        const tv = def === this.defs.get('pods') ? tableVersion(req.headers.accept) : undefined;
        return tv ? { version: tv, includeObject: q.get('includeObject') } : undefined;
      })(),
      timers: [],
      unsubscribe: () => {},
      ended: false,
    };
    this.watches.add(w);
    const cleanup = () => {
      w.ended = true;
      w.unsubscribe();
      for (const t of w.timers) clearTimeout(t);
      this.watches.delete(w);
    };
    res.on('close', cleanup);
    req.on('close', () => {
      if (!res.writableEnded) res.end();
    });
    if (w.silent) return this.watchOpened();
    if (w.malformed && w.malformed.afterEvents === 0) this.writeMalformed(w);

    if (tooOld) {
      this.writeLine(w, `{"type":"ERROR","object":${JSON.stringify(errors.expired(`too old resource version: ${from} (${this.store.oldestResumable()})`).status)}}`);
      this.endWatch(w);
      return;
    }
    // Initial state: everything that exists (no resourceVersion, "0", or sendInitialEvents=true), or the history after `from`.
    const initial = rvParam === '' || from === 0 || q.get('sendInitialEvents') === 'true';
    if (initial) {
      for (const e of this.store.list(def, route.namespace)) if (this.matches(w, e)) this.writeEvent(w, 'ADDED', e);
      if (q.get('sendInitialEvents') === 'true' && q.get('allowWatchBookmarks') === 'true') this.bookmark(w, true);
    } else {
      for (const ev of this.store.since(from)) this.deliver(w, ev);
    }
    w.unsubscribe = this.store.subscribe((ev) => this.deliver(w, ev));
    this.watchOpened();

    if (q.get('allowWatchBookmarks') === 'true') {
      const tick = () => {
        if (w.ended) return;
        this.bookmark(w);
        w.timers.push(setTimeout(tick, this.bookmarkIntervalMs).unref());
      };
      w.timers.push(setTimeout(tick, this.bookmarkIntervalMs).unref());
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) w.timers.push(setTimeout(() => this.endWatch(w), timeout * 1000).unref());
    if (fault?.type === 'reset') w.timers.push(setTimeout(() => res.socket?.destroy(), fault.afterMs ?? 0).unref());
    if (fault?.type === 'expire') w.timers.push(setTimeout(() => this.expireWatch(w), fault.afterMs ?? 0).unref());
  }

  /** Whether an object is in a watch's selection (the path's namespace and name, label and field selectors). */
  private watchOpened(): void {
    for (const fn of [...this.watchListeners]) fn();
  }

  private matches(w: OpenWatch, e: StoredEntry): boolean {
    if (w.route.namespace !== undefined && e.namespace !== w.route.namespace) return false;
    if (w.route.name !== undefined && e.name !== w.route.name) return false;
    return w.labels(e.labels) && (!w.fields || w.fields(e.obj));
  }

  /** An event for this watch, with the selector transitions of the watch cache. */
  private deliver(w: OpenWatch, ev: StoreEvent): void {
    if (w.ended || w.silent || ev.entry.def !== w.route.def) return;
    const now = this.matches(w, ev.entry);
    if (ev.type === 'MODIFIED') {
      const before = ev.prev ? this.matches(w, ev.prev) : false;
      if (now && before) this.writeEvent(w, 'MODIFIED', ev.entry);
      else if (now) this.writeEvent(w, 'ADDED', ev.entry);
      else if (before) this.writeEvent(w, 'DELETED', ev.entry);
    } else if (now) this.writeEvent(w, ev.type, ev.entry);
  }

  private writeEvent(w: OpenWatch, type: string, e: StoredEntry): void {
    const json = w.table ? podTable([e.obj], { resourceVersion: e.obj.metadata.resourceVersion }, w.table.version, w.table.includeObject, Date.now()) : e.json;
    this.writeLine(w, `{"type":"${type}","object":${json}}`);
    w.sent += 1;
    if (w.malformed && w.sent === w.malformed.afterEvents) this.writeMalformed(w);
  }

  private writeMalformed(w: OpenWatch): void {
    if (!w.malformed) return;
    this.writeLine(w, w.malformed.line);
    w.malformed = undefined;
  }

  private writeLine(w: OpenWatch, line: string): void {
    if (w.ended || w.res.writableEnded) return;
    w.res.write(`${line}\n`);
  }

  private bookmark(w: OpenWatch, initialEventsEnd = false): void {
    const def = w.route.def;
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.resourceVersion), creationTimestamp: null };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.writeLine(w, `{"type":"BOOKMARK","object":${JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), metadata })}}`);
  }

  private endWatch(w: OpenWatch): void {
    if (!w.res.writableEnded) w.res.end();
    w.ended = true;
    w.unsubscribe();
    for (const t of w.timers) clearTimeout(t);
    this.watches.delete(w);
  }

  private expireWatch(w: OpenWatch): void {
    const st = errors.expired(`too old resource version: ${this.store.resourceVersion - 1} (${this.store.resourceVersion})`).status;
    w.silent = false;
    this.writeLine(w, `{"type":"ERROR","object":${JSON.stringify(st)}}`);
    this.endWatch(w);
  }

  // ------------------------------------------------------------------------------------------
  // The service proxy: /api/v1/namespaces/{ns}/services/{name}[:{port}]/proxy/{path}
  //
  // As kube-apiserver does it: the caller is authenticated and authorized (verb by method on
  // services/proxy), its Authorization header is NOT passed on, the request goes to the Service's
  // endpoint with the path after /proxy. For a WebSocket upgrade the query string is dropped
  // (kubernetes #77142): parameters must travel in the path or in headers.

  private proxyTarget(proxy: RegExpExecArray, verb: Verb): { base: string; path: string } {
    const ns = decodeURIComponent(proxy[1]!);
    const name = decodeURIComponent(proxy[2]!);
    const port = proxy[3] ? decodeURIComponent(proxy[3]) : undefined;
    const svcDef = this.defs.get('services') as ResourceDef;
    this.authorize({ def: svcDef, namespace: ns, name, subresource: 'proxy', verb });
    const svc = this.store.get(svcDef, ns, name);
    if (!svc) throw errors.notFound(svcDef, name);
    const ports = ((svc.obj.spec as { ports?: { name?: string; port: number }[] } | undefined)?.ports ?? []);
    const chosen = port === undefined ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
    if (!chosen) throw errors.serviceUnavailable(`no endpoints available for service "${name}"`);
    const base = this.backends.get(`${ns}/${name}:${chosen.name ?? chosen.port}`) ?? this.backends.get(`${ns}/${name}:${chosen.port}`);
    if (!base) throw errors.serviceUnavailable(`no endpoints available for service "${name}"`);
    return { base, path: proxy[4] || '/' };
  }

  private async proxyHttp(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, url: URL, proxy: RegExpExecArray, body: string | undefined): Promise<void> {
    const { base, path } = this.proxyTarget(proxy, rec.verb as Verb);
    const target = new URL(path + url.search, base);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !HOP_HEADERS.has(k)) headers[k] = v;
    const answer = await fetch(target, { method: req.method ?? 'GET', headers, ...(body !== undefined && req.method !== 'GET' && req.method !== 'HEAD' ? { body } : {}) }).catch((err: unknown) => err as Error);
    if (answer instanceof Error) throw errors.serviceUnavailable(`error trying to reach service: ${answer.message}`);
    const buf = Buffer.from(await answer.arrayBuffer());
    rec.status = answer.status;
    res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'text/plain', 'Content-Length': buf.length });
    res.end(buf);
  }

  /** An HTTP upgrade (WebSocket) through the service proxy: authenticated, Authorization dropped, query string dropped. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RequestRecord = {
      time: Date.now(), at: performance.now(), method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'], accept: req.headers.accept, acceptEncoding: req.headers['accept-encoding'], userAgent: req.headers['user-agent'],
      body: undefined, status: 0, verb: 'get', resource: 'services', namespace: undefined, name: undefined, subresource: 'proxy', watch: false, fault: undefined,
    };
    this.requests.push(rec);
    const refuse = (st: StatusBody) => {
      rec.status = st.code;
      const text = JSON.stringify(st);
      socket.write(`HTTP/1.1 ${st.code} ${st.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`, () => socket.destroy());
    };
    const proxy = PROXY_PATH.exec(url.pathname);
    if (!proxy) return refuse(errors.noResource().status);
    rec.namespace = decodeURIComponent(proxy[1]!);
    rec.name = decodeURIComponent(proxy[2]!);
    for (const fn of this.requestListeners) fn(rec);
    let target: { base: string; path: string };
    try {
      this.authenticate(req);
      target = this.proxyTarget(proxy, 'get');
    } catch (err) {
      return refuse(err instanceof ApiError ? err.status : errors.internal(String(err)).status);
    }
    const backend = new URL(target.base);
    const upstream = netConnect(Number(backend.port), backend.hostname);
    upstream.on('error', () => {
      if (rec.status === 0) refuse(errors.serviceUnavailable('error trying to reach service: connection refused').status);
      else socket.destroy();
    });
    upstream.on('connect', () => {
      rec.status = 101;
      // kubernetes #77142: the upgraded request reaches the backend without its query string.
      const lines = [`${req.method} ${target.path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i]!;
        if (k.toLowerCase() === 'authorization' || k.toLowerCase() === 'host') continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`Host: ${backend.host}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }

  // ------------------------------------------------------------------------------------------
  // Discovery

  private visibleDefs(): ResourceDef[] {
    return [...this.defs.values()];
  }

  private groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, string[]>();
    for (const d of this.visibleDefs()) {
      if (!d.group) continue;
      const v = out.get(d.group) ?? [];
      if (!v.includes(d.version)) v.push(d.version);
      out.set(d.group, v);
    }
    return [...out].map(([name, versions]) => ({ name, versions }));
  }

  private resourceList(group: string, version: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const d of this.visibleDefs()) {
      if (d.group !== group || d.version !== version) continue;
      out.push({
        name: d.resource,
        singularName: d.singular,
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: [...VERBS],
        ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
        ...(d.categories.length ? { categories: d.categories } : {}),
      });
      if (d.subresources.status) out.push({ name: `${d.resource}/status`, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: ['get', 'patch', 'update'] });
      if (d.subresources.scale) {
        out.push({ name: `${d.resource}/scale`, singularName: '', namespaced: d.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      }
    }
    return out;
  }

  private aggregatedResources(group: string, version: string): Record<string, unknown>[] {
    return this.visibleDefs()
      .filter((d) => d.group === group && d.version === version)
      .map((d) => {
        const subresources: Record<string, unknown>[] = [];
        if (d.subresources.status) subresources.push({ subresource: 'status', responseKind: { group: d.group, version: d.version, kind: d.kind }, verbs: ['get', 'patch', 'update'] });
        if (d.subresources.scale) subresources.push({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
        return {
          resource: d.resource,
          responseKind: { group: d.group, version: d.version, kind: d.kind },
          scope: d.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: d.singular,
          verbs: [...VERBS],
          ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
          ...(d.categories.length ? { categories: d.categories } : {}),
          ...(subresources.length ? { subresources } : {}),
        };
      });
  }

  private wantsAggregated(req: IncomingMessage): boolean {
    const accept = req.headers.accept ?? '';
    return accept.split(',').some((a) => {
      const p = a.replace(/\s/g, '');
      return p.includes('as=APIGroupDiscoveryList') && p.includes('g=apidiscovery.k8s.io') && p.includes('v=v2') && !p.includes('v=v2beta1');
    });
  }

  private discovery(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, url: URL): void {
    if (req.method !== 'GET') throw errors.methodNotAllowed();
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const path = `/${parts.join('/')}`;
    const serverAddress = [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }];
    if (path === '/version') {
      const [major, minor] = this.gitVersion.replace(/^v/, '').split('.');
      return this.sendJson(res, rec, 200, JSON.stringify({
        major,
        minor,
        gitVersion: this.gitVersion,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-04-22T16:03:58Z',
        goVersion: 'go1.23.8',
        compiler: 'gc',
        platform: 'linux/amd64',
      }));
    }
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      rec.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/api') {
      if (this.wantsAggregated(req)) {
        return this.sendJson(res, rec, 200, JSON.stringify({
          kind: 'APIGroupDiscoveryList',
          apiVersion: 'apidiscovery.k8s.io/v2',
          metadata: {},
          items: [{ metadata: { creationTimestamp: null }, versions: [{ version: 'v1', resources: this.aggregatedResources('', 'v1'), freshness: 'Current' }] }],
        }), AGGREGATED_V2);
      }
      return this.sendJson(res, rec, 200, JSON.stringify({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: serverAddress }));
    }
    if (path === '/apis') {
      if (this.wantsAggregated(req)) {
        return this.sendJson(res, rec, 200, JSON.stringify({
          kind: 'APIGroupDiscoveryList',
          apiVersion: 'apidiscovery.k8s.io/v2',
          metadata: {},
          items: this.groups().map((g) => ({
            metadata: { name: g.name, creationTimestamp: null },
            versions: g.versions.map((v) => ({ version: v, resources: this.aggregatedResources(g.name, v), freshness: 'Current' })),
          })),
        }), AGGREGATED_V2);
      }
      return this.sendJson(res, rec, 200, JSON.stringify({
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: this.groups().map((g) => this.apiGroup(g)),
      }));
    }
    if (path === '/api/v1') {
      return this.sendJson(res, rec, 200, JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: this.resourceList('', 'v1') }));
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = this.groups().find((x) => x.name === parts[1]);
      if (!g) throw errors.noResource();
      return this.sendJson(res, rec, 200, JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroup(g) }));
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const g = this.groups().find((x) => x.name === parts[1]);
      if (!g || !g.versions.includes(parts[2] as string)) throw errors.noResource();
      return this.sendJson(res, rec, 200, JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${parts[1]}/${parts[2]}`, resources: this.resourceList(parts[1] as string, parts[2] as string) }));
    }
    throw errors.noResource();
  }

  private apiGroup(g: { name: string; versions: string[] }): Record<string, unknown> {
    const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
    return { name: g.name, versions, preferredVersion: versions[0] };
  }

  // ------------------------------------------------------------------------------------------
  // Responses

  /**
   * Like the real server (APIResponseCompression, on by default): a body over 128 KiB goes out
   * gzipped at level 1 when the client accepts gzip (kubectl, client-node and fetch all do, and
   * decompress transparently). `compression: false` turns it off.
   */
  private sendJson(res: ServerResponse, rec: RequestRecord, code: number, json: string | Buffer, contentType = JSON_TYPE): void {
    rec.status = code;
    const size = Buffer.byteLength(json);
    if (this.compression && size > GZIP_THRESHOLD && /\bgzip\b/i.test(rec.acceptEncoding ?? '')) {
      const body = gzipSync(json, { level: 1 });
      res.writeHead(code, { 'Content-Type': contentType, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' });
      res.end(body);
      return;
    }
    res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': size, 'Cache-Control': 'no-cache, private' });
    res.end(json);
  }

  private sendStatus(res: ServerResponse, rec: RequestRecord, st: StatusBody): void {
    if (res.headersSent) {
      // A watch already streaming: report in-stream, as a real server does.
      res.end(`{"type":"ERROR","object":${JSON.stringify(st)}}\n`);
      return;
    }
    this.sendJson(res, rec, st.code, JSON.stringify(st));
  }
}

/** Starts a test Kubernetes API server on 127.0.0.1 (see KubeApiServer). */
export function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  return KubeApiServer.start(options);
}

/**
 * One kubeconfig with a context per server (one per cluster/region), the first one current.
 * Contexts/clusters/users are named after `context` (default "kapi-<port>").
 */
export function kubeconfigFor(entries: (KubeconfigOptions & { server: KubeApiServer })[], current?: string): string {
  const clusters: unknown[] = [];
  const users: unknown[] = [];
  const contexts: unknown[] = [];
  for (const e of entries) {
    const ctx = e.context ?? `kapi-${e.server.port}`;
    const cluster = e.cluster ?? ctx;
    const user = e.user ?? `${ctx}-user`;
    const token = e.token === undefined ? (e.server.options.token ?? 'canary-test') : (e.token ?? undefined);
    const ca = e.server.url.startsWith('https:') ? { 'certificate-authority-data': Buffer.from(TEST_TLS_CERT).toString('base64') } : { 'insecure-skip-tls-verify': true };
    clusters.push({ name: cluster, cluster: { server: e.server.url, ...ca } });
    users.push({ name: user, user: token ? { token } : {} });
    contexts.push({ name: ctx, context: { cluster, user, ...(e.namespace ? { namespace: e.namespace } : {}) } });
  }
  const first = entries[0];
  const currentContext = current ?? (first ? (first.context ?? `kapi-${first.server.port}`) : '');
  return stringifyYaml({ apiVersion: 'v1', kind: 'Config', preferences: {}, clusters, users, contexts, 'current-context': currentContext });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Re-exported for tests that build Status bodies to compare with.
export { statusBody, errors as statusErrors };
export type { StatusBody };
