// `canary join`: a Store fed by a war-room server. The console's components use it exactly as
// they use the local runtime (getState/subscribe/dispatch); they cannot tell the difference.
// Key presses become the same events as locally and go to the server, without actor or time:
// the server stamps both (the actor from this terminal's token).
//
// Reconnects by itself (backoff 0.25 s .. 5 s) and resumes from the last sequence number it
// applied; an update out of order (a gap) is never applied: it reconnects and resumes instead.
// The FIRST connection is bounded (`firstConnectMs`, 20 s): a wrong URL or a server that is not
// there is said plainly (how many attempts, the last error) instead of retried forever; once it
// has been connected, it retries for as long as the terminal stays open (a restarting server).
import { WebSocket } from 'ws';
import type { EngineEvent, RolloutState } from '../engine/types.js';
import type { Store } from '../runtime/store.js';
import { visiblyDifferent } from '../runtime/visible.js';
import { applyPatch, fromWire, type ActionEvent, type ClientMessage, type Identity, type ServerMessage } from './protocol.js';
import { ViewHolder, type PodInspection, type PodView } from '../runtime/inspection.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'closed';

export interface RemoteStoreOptions {
  url: string;
  token: string;
  /** CA for wss:// with a self-signed certificate (PEM). */
  ca?: string | Buffer;
  /** Through a Kubernetes API server's service proxy: its credentials (headers, client
   * certificate), the war-room token in X-Canary-Token (the API server keeps Authorization for
   * itself) and the resume point in the path (it drops an upgrade's query string, kubernetes #77142). */
  proxy?: { headers: Record<string, string>; cert?: string | Buffer; key?: string | Buffer };
  /** Milliseconds to wait for the connection (and its first message). */
  timeoutMs?: number;
  reconnect?: boolean;
  /** The first connection gives up after this long (ms, default 20 s), with what it tried. */
  firstConnectMs?: number;
  /** Max size of a message from the server (a snapshot of a big rollout is ~1 MB). */
  maxPayloadBytes?: number;
  /** No ping or message from the server for this long: the connection is dropped and made
   * again (default 30 s: three of the server's heartbeats). */
  silentAfterMs?: number;
}

export interface Notice {
  ok: boolean;
  text: string;
  at: number;
}

export class RemoteStore implements Store {
  private state: RolloutState | null = null;
  private listeners = new Set<() => void>();
  private statusListeners = new Set<() => void>();
  private ws: WebSocket | null = null;
  private closed = false;
  private backoffMs = 250;
  private retry: NodeJS.Timeout | null = null;
  private nextAction = 1;
  /** start()'s promise while it waits for the first state (close() rejects it: the person left). */
  private startDone: ((err?: Error) => void) | null = null;
  private startedAt: number | null = null;
  private everConnected = false;
  /** Connection attempts since the last time it was connected (1 while the first one is made). */
  attempts = 0;
  /** Last sequence number applied, and the server run it belongs to. */
  seq = -1;
  epoch: string | null = null;
  you: Identity | null = null;
  plan: string | null = null;
  /** The plan's YAML as the server sent it (with the first snapshot). */
  planText: string | null = null;
  status: ConnectionStatus = 'connecting';
  /** Why the last connection failed or closed (for the banner). */
  problem: string | null = null;
  /** The server's last answer to an action of ours. */
  notice: Notice | null = null;
  /** When the server was last heard from (any message or ping; wall clock ms): the age a
   * terminal shows beside the connection state, so frozen numbers never pass for live ones. */
  lastHeardAt: number | null = null;
  /** Counters, for tests and the bench. */
  readonly stats = { snapshots: 0, resumes: 0, updates: 0, gaps: 0, connects: 0, bytes: 0 };
  /** Called with every applied sequence number (bench). */
  onSeq: ((seq: number) => void) | null = null;
  /** Called when a message arrives, before it is parsed (bench: delivery time apart from apply). */
  onReceive: ((text: string) => void) | null = null;

  constructor(private readonly o: RemoteStoreOptions) {}

  /** What this terminal looks at (enter on a pod): the server describes the pod and follows its
   * log for this connection alone; after a reconnect it is asked again. */
  private readonly podHolder = new ViewHolder();
  readonly inspection: PodInspection = {
    open: (key: string) => {
      const open = this.ws !== null && this.ws.readyState === WebSocket.OPEN;
      this.podHolder.set({ key, name: this.state?.pods.get(key)?.name ?? key, detail: null, error: open ? null : `not connected (${this.status})`, lines: [], ended: null });
      this.askPod(key);
    },
    close: () => {
      if (this.podHolder.view()) this.askPod(null);
      this.podHolder.set(null);
    },
    view: () => this.podHolder.view(),
    subscribe: (l: () => void) => this.podHolder.subscribe(l),
  };

  private askPod(key: string | null): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ t: 'inspect', key } satisfies ClientMessage));
  }
  private reinspect(): void {
    const v = this.podHolder.view();
    if (v) this.askPod(v.key);
  }
  private podView(view: PodView | null): void {
    const cur = this.podHolder.view();
    // Only the pod still being looked at (an answer for one closed meanwhile is dropped).
    if (cur && view && view.key === cur.key) this.podHolder.set(view);
  }

  /** Connects; resolves once the first state is in (snapshot or resume), rejects on 401, on a
   * server that sends no state, when the first connection cannot be made within
   * `firstConnectMs`, or with a LeftError when close() is called meanwhile (the person left). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        this.startDone = null;
        if (err) reject(err);
        else resolve();
      };
      this.startDone = done;
      this.startedAt = Date.now();
      this.connect(done);
    });
  }

  /** What a terminal shows while the first connection is being made: where, which attempt, the
   * last error, and how long until it gives up. */
  connecting(now = Date.now()): { url: string; attempt: number; lastError: string | null; giveUpInMs: number | null } {
    const left = this.startedAt === null || this.everConnected ? null : Math.max(0, this.startedAt + (this.o.firstConnectMs ?? 20_000) - now);
    return { url: this.o.url, attempt: this.attempts, lastError: this.problem, giveUpInMs: left };
  }

  getState = (): RolloutState => {
    if (!this.state) throw new Error('RemoteStore: no state yet (await start())');
    return this.state;
  };

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Actions go to the server; anything else (ticks, samples) is not a viewer's to send. */
  dispatch = (event: EngineEvent): void => {
    let action: ActionEvent | null = null;
    if (event.type === 'command') action = { type: 'command', command: event.command };
    else if (event.type === 'approve') action = { type: 'approve', phase: event.phase, role: event.role };
    else if (event.type === 'signal') action = { type: 'signal', name: event.name, ...(event.severity ? { severity: event.severity } : {}), ...(event.note ? { note: event.note } : {}) };
    if (!action) return;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.setNotice(false, `not sent (${this.status}): ${describe(action)}`);
      return;
    }
    const msg: ClientMessage = { t: 'act', id: this.nextAction++, event: action };
    this.ws.send(JSON.stringify(msg));
  };

  /** Send a raw text message (tests: oversized or malformed messages). */
  sendRaw(data: string | Buffer): void {
    this.ws?.send(data);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.ws?.close(1000, 'bye');
    this.setStatus('closed');
    this.startDone?.(new LeftError(`${this.o.url}: left before the first connection was made (attempt ${this.attempts}${this.problem ? `, last error: ${this.problem}` : ''})`));
  }

  /** Drop the connection without saying goodbye (tests: a network cut); it reconnects. */
  cut(): void {
    this.ws?.terminate();
  }

  private connect(done: (err?: Error) => void): void {
    const url = new URL(this.o.url);
    const px = this.o.proxy;
    if (this.seq >= 0 && this.epoch) {
      if (px) url.pathname = `${url.pathname.replace(/\/$/, '')}/since/${this.seq}/epoch/${this.epoch}`;
      else {
        url.searchParams.set('since', String(this.seq));
        url.searchParams.set('epoch', this.epoch);
      }
    }
    this.stats.connects += 1;
    this.attempts += 1;
    this.setStatus(this.everConnected ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(url, {
      headers: px ? { ...px.headers, 'x-canary-token': this.o.token } : { authorization: `Bearer ${this.o.token}` },
      ...(px?.cert ? { cert: px.cert } : {}),
      ...(px?.key ? { key: px.key } : {}),
      handshakeTimeout: this.o.timeoutMs ?? 5_000,
      maxPayload: this.o.maxPayloadBytes ?? 256 * 1024 * 1024,
      perMessageDeflate: false,
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    });
    this.ws = ws;
    const firstTimer = setTimeout(() => {
      ws.terminate();
      done(new Error(`${this.o.url}: no state from the server after ${this.o.timeoutMs ?? 5_000} ms`));
    }, (this.o.timeoutMs ?? 5_000) * 2);
    firstTimer.unref?.();
    // The server pings every 10 s: silence for much longer means the path is gone without a
    // reset (a NAT or VPN drop, a sleeping laptop). Drop it and reconnect, rather than show
    // frozen numbers as if they were live.
    let silence: NodeJS.Timeout | null = null;
    const alive = () => {
      if (silence) clearTimeout(silence);
      silence = setTimeout(() => ws.terminate(), this.o.silentAfterMs ?? 30_000);
      silence.unref?.();
    };
    ws.on('open', alive);
    ws.on('ping', () => {
      alive();
      this.lastHeardAt = Date.now();
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(firstTimer);
      const status = res.statusCode ?? 0;
      this.problem = status === 401 ? `${this.o.url}: 401 Unauthorized - the token is not known to this server (ask the driver for one: canary tokens)` : `${this.o.url}: HTTP ${status} instead of a WebSocket`;
      this.closed = true;
      ws.terminate();
      this.setStatus('refused');
      done(new Error(this.problem));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      this.stats.bytes += text.length;
      this.onReceive?.(text);
      let msg: ServerMessage;
      try {
        msg = JSON.parse(text) as ServerMessage;
      } catch {
        return;
      }
      alive(); // any message: the server is there
      this.lastHeardAt = Date.now();
      if (msg.t === 'snapshot') {
        this.state = fromWire(msg.state);
        this.seq = msg.seq;
        this.epoch = msg.epoch;
        this.you = msg.you;
        this.plan = msg.plan;
        if (msg.planText !== undefined) this.planText = msg.planText;
        this.stats.snapshots += 1;
        this.backoffMs = 250;
        this.attempts = 0;
        this.everConnected = true;
        clearTimeout(firstTimer);
        this.setStatus('connected');
        this.emit();
        this.onSeq?.(msg.seq);
        this.reinspect();
        done();
      } else if (msg.t === 'resume') {
        if (msg.seq !== this.seq || !this.state || msg.epoch !== this.epoch) {
          ws.terminate(); // cannot happen with a sane server; start over
          return;
        }
        this.you = msg.you;
        this.stats.resumes += 1;
        this.backoffMs = 250;
        this.attempts = 0;
        this.everConnected = true;
        clearTimeout(firstTimer);
        this.setStatus('connected');
        this.reinspect();
        done();
      } else if (msg.t === 'u') {
        if (!this.state) return;
        if (msg.seq !== this.seq + 1) {
          // A gap: never apply out of order. Resume from what we have.
          this.stats.gaps += 1;
          ws.terminate();
          return;
        }
        this.state = applyPatch(this.state, msg.p);
        this.seq = msg.seq;
        this.stats.updates += 1;
        // As the runtime does: a patch that moved only the clock within a second redraws nothing.
        if (this.told === null || visiblyDifferent(this.told, this.state)) this.emit();
        this.onSeq?.(msg.seq);
      } else if (msg.t === 'said') {
        this.setNotice(msg.ok, msg.text);
      } else if (msg.t === 'pod') {
        this.podView(msg.view);
      }
    });
    let error: string | null = null;
    ws.on('error', (err) => {
      error = err.message;
    });
    ws.on('close', (code, reason) => {
      clearTimeout(firstTimer);
      if (silence) clearTimeout(silence);
      if (this.ws === ws) this.ws = null;
      if (this.closed) return;
      this.problem = error ?? `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      // The server revoked this token (re-issued or removed): reconnecting with it cannot work.
      if (code === 4001) {
        this.problem = `${this.o.url}: ${reason.length ? reason.toString() : 'war-room token revoked'} (ask the driver for a new one: canary tokens)`;
        this.closed = true;
        this.setStatus('refused');
        done(new Error(this.problem));
        return;
      }
      if (this.o.reconnect === false) {
        this.setStatus('closed');
        done(new Error(`${this.o.url}: ${this.problem}`));
        return;
      }
      const wait = this.backoffMs;
      // The first connection is bounded: say what was tried rather than retry forever.
      const bound = this.o.firstConnectMs ?? 20_000;
      if (!this.everConnected && this.startedAt !== null && Date.now() + wait - this.startedAt > bound) {
        this.closed = true;
        this.setStatus('closed');
        done(new Error(`${this.o.url}: could not connect within ${Math.round(bound / 1000)} s (${this.attempts} attempt${this.attempts === 1 ? '' : 's'}; the last: ${this.problem}) - is the war room served there (canary serve prints its URL)?`));
        return;
      }
      this.setStatus(this.everConnected ? 'reconnecting' : 'connecting');
      this.backoffMs = Math.min(5_000, this.backoffMs * 2);
      this.retry = setTimeout(() => this.connect(done), wait);
    });
  }

  private setNotice(ok: boolean, text: string): void {
    this.notice = { ok, text, at: Date.now() };
    for (const l of this.statusListeners) l();
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const l of this.statusListeners) l();
  }

  /** The state the console was last told about. */
  private told: RolloutState | null = null;

  private emit(): void {
    this.told = this.state;
    for (const l of this.listeners) l();
  }
}

/** start() was abandoned: the person left (q, ctrl-c) before the first connection was made. */
export class LeftError extends Error {}

function describe(a: ActionEvent): string {
  return a.type === 'command' ? a.command.kind : a.type === 'approve' ? `approve ${a.phase} as ${a.role}` : `signal ${a.name}`;
}
