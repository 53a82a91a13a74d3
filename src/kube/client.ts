// One Kubernetes cluster as canary talks to it: the kubeconfig's cluster, user and auth come from
// @kubernetes/client-node (kubeconfig merging, in-cluster tokens, exec/OIDC plugins, TLS files:
// the parts kubectl users rely on), and the requests themselves are plain HTTP(S) with a
// keep-alive agent, a timeout on every call, and errors that say which verb on which resource.
//
// Plain requests rather than the generated API classes: canary needs the exact wire behaviour
// (patch content types, 409/410 handling, a watch it can time out and resume) and raw JSON it can
// classify without the generated model's per-field conversion of thousands of pods.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export const CONTENT = {
  json: 'application/json',
  merge: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

/** A Kubernetes API error with what a person needs to act on it. */
export class KubeError extends Error {
  constructor(
    readonly cluster: string,
    readonly status: number,
    readonly reason: string,
    readonly verb: Verb,
    readonly resource: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface RequestOptions {
  verb: Verb;
  /** For messages: "pods", "virtualservices.networking.istio.io"... */
  resource: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export interface WatchHandle {
  /** Ends the watch; `onEnd` is not called after an abort. */
  abort(): void;
}

export interface WatchCallbacks {
  /** One decoded line of the stream. */
  onEvent(event: { type: string; object: Record<string, unknown> }): void;
  /** A line that is not JSON: reported, skipped. */
  onMalformed?(line: string): void;
  /** Any bytes arrived (watchdog). */
  onActivity?(): void;
  /** The stream ended: cleanly (err null) or with an error (HTTP status, reset...). */
  onEnd(err: KubeError | Error | null): void;
}

export class KubeCluster {
  private readonly agent: http.Agent;
  private readonly server: URL;
  private readonly proxied: boolean;

  constructor(
    /** The region (or name) this cluster serves in the plan. */
    readonly name: string,
    readonly context: string,
    private readonly kc: KubeConfig,
    readonly defaultTimeoutMs = 10_000,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig context "${context}" names no cluster`);
    this.server = new URL(cluster.server);
    this.proxied = Boolean(cluster.proxyUrl);
    const Agent = this.server.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16 });
  }

  get url(): string {
    return this.server.toString().replace(/\/$/, '');
  }

  /** Who the kubeconfig says we are (for lease holder identity and messages). */
  get user(): string {
    return this.kc.getCurrentUser()?.name ?? 'unknown';
  }

  private async options(method: string, path: string, query: RequestOptions['query'], headers: Record<string, string>): Promise<https.RequestOptions> {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json', 'User-Agent': 'canary', ...headers } };
    await this.kc.applyToHTTPSOptions(opts);
    // client-node makes a new agent per call; keep one keep-alive agent per cluster instead,
    // unless the kubeconfig names a proxy (proxy-url): then its proxy agent is the way out.
    if (!this.proxied) opts.agent = this.agent;
    opts.protocol = url.protocol;
    opts.hostname = url.hostname;
    opts.port = url.port;
    opts.path = url.pathname + url.search;
    return opts;
  }

  /** One request. Resolves with the decoded body on 2xx; rejects with a KubeError otherwise. */
  async request<T = Record<string, unknown>>(method: string, path: string, o: RequestOptions): Promise<T> {
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: Record<string, string> = {};
    if (body) {
      headers['Content-Type'] = o.contentType ?? CONTENT.json;
      headers['Content-Length'] = String(body.length);
    }
    const opts = await this.options(method, path, o.query, headers);
    const timeoutMs = o.timeoutMs ?? this.defaultTimeoutMs;
    const mod = this.server.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(this.netError(e, o)));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let json: unknown = undefined;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            /* handled below */
          }
          if (status >= 200 && status < 300) {
            if (json === undefined && text) reject(new KubeError(this.name, status, 'BadResponse', o.verb, o.resource, `${this.name}: ${o.verb} ${o.resource}: the API server answered ${status} with a body that is not JSON`));
            else resolve(json as T);
            return;
          }
          reject(this.statusError(status, json, text, o));
        });
      });
      const timer = setTimeout(() => {
        req.destroy(new KubeError(this.name, 0, 'Timeout', o.verb, o.resource, `${this.name}: ${o.verb} ${o.resource}: no answer from ${this.url} after ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e instanceof KubeError ? e : this.netError(e, o));
      });
      if (body) req.write(body);
      req.end();
    });
  }

  /** A watch stream: JSON lines until the server closes it, `timeoutSeconds` passes, or abort. */
  async watch(path: string, query: RequestOptions['query'], resource: string, cb: WatchCallbacks, connectTimeoutMs = this.defaultTimeoutMs): Promise<WatchHandle> {
    const opts = await this.options('GET', path, { ...query, watch: 'true' }, {});
    const mod = this.server.protocol === 'https:' ? https : http;
    let ended = false;
    let aborted = false;
    const end = (err: KubeError | Error | null) => {
      if (ended || aborted) return;
      ended = true;
      cb.onEnd(err);
    };
    const req = mod.request(opts, (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        this.failed(res, status, 'watch', resource, end);
        return;
      }
      res.on('data', () => cb.onActivity?.());
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      // readline re-emits the response's errors; the response's own handler below reports them.
      lines.on('error', () => undefined);
      lines.on('line', (line) => {
        if (aborted || ended || !line.trim()) return;
        let ev: unknown;
        try {
          ev = JSON.parse(line);
        } catch {
          cb.onMalformed?.(line);
          return;
        }
        const e = ev as { type?: unknown; object?: unknown };
        if (typeof e.type !== 'string' || !e.object || typeof e.object !== 'object') {
          cb.onMalformed?.(line);
          return;
        }
        cb.onEvent({ type: e.type, object: e.object as Record<string, unknown> });
      });
      res.on('error', (e) => end(this.netError(e, { verb: 'watch', resource })));
      res.on('aborted', () => end(new Error(`${this.name}: watch ${resource}: connection reset by the API server`)));
      lines.on('close', () => end(res.readableAborted ? new Error(`${this.name}: watch ${resource}: connection reset by the API server`) : null));
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${this.name}: watch ${resource}: no answer from ${this.url} after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      end(this.netError(e, { verb: 'watch', resource }));
    });
    req.end();
    return {
      abort: () => {
        aborted = true;
        clearTimeout(timer);
        req.destroy();
      },
    };
  }

  /** A non-2xx answer to a watch or a stream: its body read whole and turned into the KubeError
   * that says what to do (the Status object's message, or the text). */
  private failed(res: http.IncomingMessage, status: number, verb: 'watch' | 'get', resource: string, end: (err: KubeError | Error) => void): void {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      end(this.statusError(status, json, text, { verb, resource }));
    });
    res.on('error', (e) => end(this.netError(e, { verb, resource })));
  }

  /** A text stream read line by line (pods/log with follow=true): each line as it arrives, until
   * the server ends it, the connection fails, or abort. Non-2xx answers end it with a KubeError. */
  async stream(path: string, query: RequestOptions['query'], resource: string, cb: { onLine(line: string): void; onEnd(err: KubeError | Error | null): void }, connectTimeoutMs = this.defaultTimeoutMs): Promise<WatchHandle> {
    const opts = await this.options('GET', path, query, { Accept: '*/*' });
    const mod = this.server.protocol === 'https:' ? https : http;
    let done = false;
    let aborted = false;
    const end = (err: KubeError | Error | null) => {
      if (done || aborted) return;
      done = true;
      cb.onEnd(err);
    };
    const req = mod.request(opts, (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        this.failed(res, status, 'get', resource, end);
        return;
      }
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      lines.on('error', () => undefined);
      lines.on('line', (line) => {
        if (!aborted && !done) cb.onLine(line);
      });
      res.on('error', (e) => end(this.netError(e, { verb: 'get', resource })));
      lines.on('close', () => end(res.readableAborted ? new Error(`${this.name}: get ${resource}: connection reset by the API server`) : null));
    });
    const timer = setTimeout(() => req.destroy(new Error(`${this.name}: get ${resource}: no answer from ${this.url} after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      end(this.netError(e, { verb: 'get', resource }));
    });
    req.end();
    return {
      abort: () => {
        aborted = true;
        clearTimeout(timer);
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }

  private netError(e: Error, o: Pick<RequestOptions, 'verb' | 'resource'>): Error {
    if (e instanceof KubeError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ECONNREFUSED' ? `nothing listens at ${this.url} (is the context "${this.context}" right?)` : code === 'ECONNRESET' ? 'connection reset by the API server' : e.message;
    return new KubeError(this.name, 0, code ?? 'NetworkError', o.verb, o.resource, `${this.name}: ${o.verb} ${o.resource}: ${what}`);
  }

  private statusError(status: number, json: unknown, text: string, o: Pick<RequestOptions, 'verb' | 'resource'>): KubeError {
    const st = (json && typeof json === 'object' ? json : {}) as { reason?: string; message?: string; kind?: string };
    const reason = st.reason ?? (status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : status === 409 ? 'Conflict' : status === 410 ? 'Gone' : `HTTP ${status}`);
    const server = st.message ?? text.slice(0, 200);
    let advice = '';
    if (status === 401) advice = ` — the credentials of context "${this.context}" were refused; refresh them (e.g. log in again) and retry`;
    else if (status === 403) advice = ` — grant the "${o.verb}" verb on "${o.resource}" to ${this.user} (a Role/ClusterRole binding in this namespace)`;
    else if (status === 404 && o.resource.includes('.')) advice = ` — is the CRD for ${o.resource} installed in this cluster, and the object's name right?`;
    return new KubeError(this.name, status, reason, o.verb, o.resource, `${this.name}: ${o.verb} ${o.resource}: ${status} ${reason}: ${server}${advice}`);
  }
}
