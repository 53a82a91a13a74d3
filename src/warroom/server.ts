// `canary serve`: the driving console publishes its state to joined terminals over WebSocket.
//
// - Authentication at the HTTP upgrade: `Authorization: Bearer <token>`; anything else gets 401
//   and the socket never becomes a WebSocket.
// - On join a snapshot (state + sequence number); then one patch per change of the state, in
//   order, each with the next sequence number. A reconnect names the last number it saw
//   (`?since=N`): the missed patches are sent if they are still kept, else a fresh snapshot.
// - Actions arrive as events without actor or time; the server stamps the actor from the token
//   and its own clock, and hands the event to the engine, whose rules (roles, viewers, read-only)
//   decide. The engine's answer goes back to that terminal only.
// - Robustness: pings every heartbeatMs and terminate a client that did not answer the previous
//   one; maxPayload (64 KiB) closes a connection that sends more (1009), that one only; a token
//   bucket per connection for actions; a viewer whose socket buffer passes highWaterBytes gets no
//   more patches until it drains, then a fresh snapshot (degraded), and is dropped past
//   dropAfterBytes or after being behind for dropAfterMs. Encoding happens once per change for
//   everyone; a send never waits, so no viewer can slow the driver.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { z } from 'zod';
import type { Command, EngineEvent, RolloutState } from '../engine/types.js';
import type { Store } from '../runtime/store.js';
import { LocalInspection } from '../runtime/inspection.js';
import type { PodInspector } from '../runtime/ports.js';
import type { Plan } from '../plan/schema.js';
import { diffState, PROTOCOL_VERSION, toWire, type Identity, type ServerMessage } from './protocol.js';
import type { TokenBook } from './tokens.js';

export interface WarRoomServerOptions {
  store: Store;
  /** Called after every change (not coalesced); default: store.subscribe. */
  watch?: (listener: () => void) => () => void;
  tokens: TokenBook;
  planName: string;
  /** The plan's YAML, sent with each snapshot so a joined terminal needs no copy of the file. */
  planText?: string;
  now: () => number;
  host?: string;
  port?: number;
  /** PEM certificate and key: wss:// instead of ws://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  heartbeatMs?: number;
  maxPayloadBytes?: number;
  /** Actions per connection: bucket size and refill per second. */
  actionBurst?: number;
  actionsPerSecond?: number;
  /** Patches kept for resuming. */
  keepUpdates?: number;
  highWaterBytes?: number;
  dropAfterBytes?: number;
  dropAfterMs?: number;
  /** Called for each connection event (logs, tests). */
  log?: (line: string) => void;
  /** How often (real ms) the token file is looked at for re-issued or revoked tokens (besides every
   * join and action); a connection whose token is gone is closed with a message. Default 2000. */
  tokenCheckMs?: number;
  /** `enter` on a pod in a joined terminal: the server describes it and follows its log for that
   * connection only (the plan says which container and how far back). */
  inspect?: { plan: Plan; inspector: PodInspector | null };
}

export interface ClientInfo {
  id: number;
  who: Identity;
  /** Last sequence number sent to it. */
  sentSeq: number;
  /** Behind: patches held back until its buffer drains (then a snapshot). */
  lagging: boolean;
  bufferedAmount: number;
}

interface Client {
  id: number;
  ws: WebSocket;
  who: Identity;
  /** The token entry it joined with: revoked (re-issued, removed), the connection is closed. */
  tokenId: string;
  alive: boolean;
  sentSeq: number;
  laggingSince: number | null;
  tokens: number;
  refilledAt: number;
  /** What this terminal looks at (opened on its first inspect message). */
  inspection: { ins: LocalInspection; off: () => void; timer: NodeJS.Timeout | null } | null;
}

const Target = z.strictObject({ kind: z.enum(['phase', 'step', 'complete']), phase: z.string().max(200), step: z.number().int().min(0) });
const Text = z.string().max(2000);
/** The wire schema of each engine `Command`, by kind: the fields besides `kind`. The table is typed
 * by the engine's Command, so a kind missing here (or one the engine does not have) fails to
 * compile, and `WireCommand` below must be exactly the engine's Command, field for field. */
const COMMAND_FIELDS = {
  advance: { target: Target.optional() },
  'load-test': { name: z.string().max(200) },
  pause: {},
  resume: {},
  rollback: { reason: Text.optional() },
  'ack-checkpoint': {},
  'declare-incident': { severity: z.enum(['P0', 'P1', 'P2']), summary: Text, incidentKind: z.string().max(200).optional() },
  'ack-incident': { id: z.string().max(200).optional() },
  'resolve-incident': { id: z.string().max(200).optional() },
  'write-communications': {},
  'stop-load-test': {},
  // The runbook (src/engine/runbook-types.ts).
  'tick-item': { item: z.string().max(400), note: Text.optional() },
  'run-check': { item: z.string().max(400) },
  'run-deploy': { phase: z.string().max(200).optional() },
  'no-go': { reason: Text },
  'run-validation': {},
  'verify-rollback': {},
  'enable-flag': { flag: z.string().max(200) },
  'approve-flag': { flag: z.string().max(200), role: z.string().max(200).optional() },
  'stop-command': { runId: z.number().int() },
} satisfies { [K in Command['kind']]: z.core.$ZodLooseShape };
type CommandFields = typeof COMMAND_FIELDS;
/** What a shape parses to (zod types `{}` as Record<string, never>, which no object with a kind is). */
type Parsed<S extends z.core.$ZodLooseShape> = keyof S extends never ? unknown : z.infer<z.ZodObject<S>>;
type WireCommand = { [K in keyof CommandFields]: { kind: K } & Parsed<CommandFields[K]> }[keyof CommandFields];
// Fails to compile when the wire's commands and the engine's differ in a kind or a field.
const sameCommands: [WireCommand] extends [Command] ? ([Command] extends [WireCommand] ? true : false) : false = true;
void sameCommands;
/** The commands the console sends, derived from the table: one strict object per kind. */
const CommandSchema = z.discriminatedUnion(
  'kind',
  (Object.keys(COMMAND_FIELDS) as (keyof CommandFields)[]).map((kind) => z.strictObject({ kind: z.literal(kind), ...COMMAND_FIELDS[kind] })) as unknown as [
    z.ZodObject<{ kind: z.ZodLiteral<Command['kind']> }>,
  ],
) as unknown as z.ZodType<Command>;
const InspectSchema = z.strictObject({ t: z.literal('inspect'), key: z.string().max(600).nullable() });
const ActionSchema = z.strictObject({
  t: z.literal('act'),
  id: z.number().int(),
  event: z.union([
    z.strictObject({ type: z.literal('command'), command: CommandSchema }),
    z.strictObject({ type: z.literal('approve'), phase: z.string().max(200), role: z.string().max(200) }),
    z.strictObject({ type: z.literal('signal'), name: z.string().max(200), severity: z.enum(['P0', 'P1', 'P2']).optional(), note: Text.optional() }),
  ]),
});

/** The close code of a connection whose token was revoked or re-issued (the client stops there). */
export const REVOKED_CODE = 4001;

export class WarRoomServer {
  private http: HttpServer;
  private wss: WebSocketServer;
  private clients = new Map<WebSocket, Client>();
  private nextClient = 1;
  private seq = 0;
  /** This server run: a resume across a restart (seq starting again at 0) would be on the wrong base. */
  readonly epoch = randomBytes(8).toString('hex');
  /** Action rate buckets per person (a token), across all their connections. */
  private buckets = new Map<string, { tokens: number; refilledAt: number }>();
  /** The state the last patch brought viewers to. */
  private sent: RolloutState;
  /** Encoded patches (UTF-8), oldest first: [seq, bytes]. */
  private ring: [number, Buffer][] = [];
  private snapshotCache: { seq: number; text: string } | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private tokenTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private flushQueued = false;
  private readonly o: Required<Omit<WarRoomServerOptions, 'tls' | 'watch' | 'log' | 'planText' | 'inspect'>> & Pick<WarRoomServerOptions, 'tls' | 'watch' | 'log' | 'planText' | 'inspect'>;
  /** Bytes of patches encoded (once each, whatever the number of viewers) and their count. */
  readonly stats = { updates: 0, updateBytes: 0, snapshots: 0, snapshotBytes: 0, dropped: 0, degraded: 0, refusedUpgrades: 0 };

  constructor(opts: WarRoomServerOptions) {
    this.o = {
      host: '127.0.0.1',
      port: 0,
      heartbeatMs: 10_000,
      maxPayloadBytes: 64 * 1024,
      actionBurst: 10,
      actionsPerSecond: 5,
      keepUpdates: 2_000,
      highWaterBytes: 1024 * 1024,
      dropAfterBytes: 16 * 1024 * 1024,
      dropAfterMs: 60_000,
      tokenCheckMs: 2_000,
      ...opts,
    };
    this.sent = opts.store.getState();
    this.http = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }) : createHttpServer();
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('canary war room: connect with `canary join <url>` (WebSocket)\n');
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.o.maxPayloadBytes, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Listens; resolves to the URL viewers join (ws:// or wss://). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.o.port, this.o.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const watch = this.o.watch ?? ((l: () => void) => this.o.store.subscribe(l));
    this.unwatch = watch(() => this.changed());
    this.heartbeat = setInterval(() => this.beat(), this.o.heartbeatMs);
    this.heartbeat.unref?.();
    this.tokenTimer = setInterval(() => this.checkTokens(), this.o.tokenCheckMs);
    this.tokenTimer.unref?.();
    return this.url;
  }

  get url(): string {
    const a = this.http.address();
    const port = a && typeof a === 'object' ? a.port : this.o.port;
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `${this.o.tls ? 'wss' : 'ws'}://${host}:${port}/`;
  }

  get sequence(): number {
    return this.seq;
  }

  clientInfo(): ClientInfo[] {
    return [...this.clients.values()].map((c) => ({ id: c.id, who: c.who, sentSeq: c.sentSeq, lagging: c.laggingSince !== null, bufferedAmount: c.ws.bufferedAmount }));
  }

  async close(): Promise<void> {
    this.unwatch?.();
    for (const c of this.clients.values()) this.stopInspecting(c);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.tokenTimer) clearInterval(this.tokenTimer);
    for (const c of this.clients.values()) c.ws.close(1001, 'server stopping');
    const closing = new Promise<void>((resolve) => this.http.close(() => resolve()));
    setTimeout(() => {
      for (const c of this.clients.values()) c.ws.terminate();
      this.http.closeAllConnections?.();
    }, 1000).unref();
    await closing;
    this.wss.close();
  }

  // ---- connections

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node's server drops its own error listener before 'upgrade': without ours, a client that
    // resets mid-answer (a port scan, a cancelled curl) would crash the driving console.
    socket.on('error', () => socket.destroy());
    // Through the API server's service proxy the caller's Authorization header is taken by the
    // API server (it is the person's Kubernetes credential): the war-room token then travels in
    // a header of its own.
    const own = req.headers['x-canary-token'];
    const auth = req.headers.authorization;
    const token = typeof own === 'string' && own.trim() ? own.trim() : auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
    // A token re-issued or removed since the last look is refused now, not after a restart.
    this.checkTokens();
    const checked = this.o.tokens.check(token);
    if (!checked) {
      this.stats.refusedUpgrades += 1;
      this.o.log?.(`refused a join from ${req.socket.remoteAddress}: ${token ? 'unknown token' : 'no token'}`);
      // Answer and close both ways (end() alone leaves the socket half open, with no timeout).
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nWWW-Authenticate: Bearer realm="canary"\r\n\r\nA war-room token is required (Authorization: Bearer <token>; `canary tokens` issues them).\n', () => socket.destroy());
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    // Resume point: ?since=N&epoch=E, or in the path (.../since/N/epoch/E): the API server's
    // service proxy drops the query string of an upgraded request (kubernetes #77142).
    const inPath = /\/since\/(\d+)\/epoch\/([0-9a-f]+)\/?$/.exec(url.pathname);
    const sinceText = inPath ? inPath[1]! : url.searchParams.get('since');
    const epochText = inPath ? inPath[2]! : url.searchParams.get('epoch');
    // Sequence numbers mean something only within one server run: resume only in the same epoch.
    const since = sinceText !== null && /^\d+$/.test(sinceText) && epochText === this.epoch ? Number(sinceText) : null;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, checked.who, checked.tokenId, since));
  }

  /** Re-reads the token file when it changed; closes every connection whose token is no longer in
   * it, saying why (code 4001: the client does not reconnect with that token). */
  private checkTokens(): void {
    if (!this.o.tokens.refresh()) return;
    for (const c of this.clients.values()) {
      if (this.o.tokens.has(c.tokenId)) continue;
      const why = `${c.who.name}: your war-room token was revoked or re-issued on the serving machine; join again with the new one (canary tokens)`;
      this.o.log?.(`${c.who.name}: token revoked; disconnected`);
      this.say(c, undefined, false, why);
      this.stopInspecting(c);
      this.clients.delete(c.ws);
      c.ws.close(REVOKED_CODE, 'war-room token revoked or re-issued: join again with the new one');
    }
  }

  private connected(ws: WebSocket, who: Identity, tokenId: string, since: number | null): void {
    // Bring the others up to date first (before this one is among them), so the join starts
    // from the newest state and no patch can reach it ahead of its snapshot or resume.
    this.flush();
    const c: Client = { id: this.nextClient++, ws, who, tokenId, alive: true, sentSeq: 0, laggingSince: null, tokens: this.o.actionBurst, refilledAt: performance.now(), inspection: null };
    this.clients.set(ws, c);
    this.o.log?.(`${who.name} joined${who.canAct ? ` (${who.roles.join(', ') || 'no roles'})` : ' (view only)'}`);
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => this.message(c, data as Buffer, isBinary));
    ws.on('close', () => {
      this.clients.delete(ws);
      this.stopInspecting(c);
      this.o.log?.(`${who.name} left`);
    });
    ws.on('error', (err) => {
      // Too big a message (1009) or a broken frame: that connection only.
      this.o.log?.(`${who.name}: ${err.message}`);
    });
    const oldest = this.ring[0]?.[0];
    if (since !== null && since <= this.seq && (since === this.seq || (oldest !== undefined && since >= oldest - 1))) {
      this.send(c, JSON.stringify({ t: 'resume', v: PROTOCOL_VERSION, epoch: this.epoch, seq: since, plan: this.o.planName, you: who } satisfies ServerMessage));
      for (const [s, text] of this.ring) if (s > since) this.send(c, text);
      c.sentSeq = this.seq;
    } else this.sendSnapshot(c);
  }

  private snapshotText(): string {
    if (this.snapshotCache?.seq !== this.seq) {
      const text = JSON.stringify({ t: 'snapshot', v: PROTOCOL_VERSION, epoch: this.epoch, seq: this.seq, plan: this.o.planName, you: { id: '', name: '', roles: [], canAct: false }, state: toWire(this.sent), ...(this.o.planText !== undefined ? { planText: this.o.planText } : {}) } satisfies ServerMessage);
      this.snapshotCache = { seq: this.seq, text };
    }
    return this.snapshotCache.text;
  }

  private sendSnapshot(c: Client): void {
    // The cached text is shared; the identity is spliced in (same for every viewer but `you`).
    const you = `"you":${JSON.stringify(c.who)}`;
    const text = this.snapshotText().replace('"you":{"id":"","name":"","roles":[],"canAct":false}', () => you);
    this.stats.snapshots += 1;
    this.stats.snapshotBytes += text.length;
    this.send(c, text);
    c.sentSeq = this.seq;
  }

  private send(c: Client, data: string | Buffer): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    // A Buffer is encoded once for every viewer; binary: false keeps it a text frame.
    c.ws.send(data, { binary: false });
  }

  // ---- updates

  private changed(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Events dispatched in one turn of the loop become one patch.
    queueMicrotask(() => this.flush());
  }

  /** Diff the state against what viewers have, encode once, send to each that keeps up. */
  flush(): void {
    this.flushQueued = false;
    const next = this.o.store.getState();
    const patch = diffState(this.sent, next);
    this.sent = next;
    if (!patch) return;
    this.seq += 1;
    const text = Buffer.from(JSON.stringify({ t: 'u', seq: this.seq, p: patch } satisfies ServerMessage));
    this.stats.updates += 1;
    this.stats.updateBytes += text.length;
    this.ring.push([this.seq, text]);
    if (this.ring.length > this.o.keepUpdates) this.ring.splice(0, this.ring.length - this.o.keepUpdates);
    const now = performance.now();
    for (const c of this.clients.values()) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      const buffered = c.ws.bufferedAmount;
      if (buffered > this.o.dropAfterBytes || (c.laggingSince !== null && now - c.laggingSince > this.o.dropAfterMs)) {
        this.stats.dropped += 1;
        this.o.log?.(`${c.who.name}: dropped, not reading (${buffered} bytes waiting)`);
        c.ws.terminate();
        continue;
      }
      if (buffered > this.o.highWaterBytes) {
        if (c.laggingSince === null) {
          c.laggingSince = now;
          this.stats.degraded += 1;
          this.o.log?.(`${c.who.name}: behind (${buffered} bytes waiting); updates held until it catches up`);
        }
        continue;
      }
      if (c.laggingSince !== null) {
        // Caught up enough: a fresh snapshot instead of every patch it missed.
        c.laggingSince = null;
        this.sendSnapshot(c);
        continue;
      }
      this.send(c, text);
      c.sentSeq = this.seq;
    }
  }

  private beat(): void {
    const now = performance.now();
    for (const c of this.clients.values()) {
      if (c.laggingSince !== null && now - c.laggingSince > this.o.dropAfterMs) {
        this.o.log?.(`${c.who.name}: dropped, not reading (${c.ws.bufferedAmount} bytes waiting)`);
        this.stats.dropped += 1;
        c.ws.terminate();
        continue;
      }
      if (!c.alive) {
        this.o.log?.(`${c.who.name}: no answer to the last ping; dropped`);
        this.stats.dropped += 1;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }

  // ---- actions

  private say(c: Client, id: number | undefined, ok: boolean, text: string): void {
    this.send(c, JSON.stringify({ t: 'said', ...(id !== undefined ? { id } : {}), ok, text } satisfies ServerMessage));
  }

  /** A joined terminal looks at a pod: its own inspection, its view sent to it alone (at most
   * every 100 ms while the log streams). */
  private inspect(c: Client, key: string | null): void {
    if (key === null) {
      this.stopInspecting(c);
      this.send(c, JSON.stringify({ t: 'pod', view: null } satisfies ServerMessage));
      return;
    }
    if (!c.inspection) {
      const ins = new LocalInspection({ ...(this.o.inspect ? { plan: this.o.inspect.plan } : {}), inspector: this.o.inspect?.inspector ?? null, pod: (k) => this.o.store.getState().pods.get(k) });
      const entry: NonNullable<Client['inspection']> = { ins, off: () => undefined, timer: null };
      const push = () => {
        entry.timer = null;
        this.send(c, JSON.stringify({ t: 'pod', view: ins.view() } satisfies ServerMessage));
      };
      entry.off = ins.subscribe(() => {
        if (!entry.timer) entry.timer = setTimeout(push, 100);
      });
      c.inspection = entry;
    }
    c.inspection.ins.open(key);
  }

  private stopInspecting(c: Client): void {
    const e = c.inspection;
    if (!e) return;
    c.inspection = null;
    e.off();
    if (e.timer) clearTimeout(e.timer);
    e.ins.close();
  }

  /** Takes one token from the person's bucket; when it is empty, refuses (with the message's action
   * `id`, when it has one) and returns true. One bucket per person, not per
   * connection: reconnecting or opening more sockets with the same token does not refill it.
   * (A message is at most maxPayload bytes, so reading its id before refusing costs little.) */
  private refusedOverRate(c: Client, id: number | undefined): boolean {
    const now = performance.now();
    const b = this.buckets.get(c.who.id) ?? { tokens: this.o.actionBurst, refilledAt: now };
    b.tokens = Math.min(this.o.actionBurst, b.tokens + ((now - b.refilledAt) / 1000) * this.o.actionsPerSecond);
    b.refilledAt = now;
    this.buckets.set(c.who.id, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return false;
    }
    this.say(c, id, false, `refused: more than ${this.o.actionsPerSecond} actions a second; slow down`);
    return true;
  }

  private message(c: Client, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (!this.refusedOverRate(c, undefined)) this.say(c, undefined, false, 'refused: binary messages are not understood');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString('utf8'));
    } catch {
      if (!this.refusedOverRate(c, undefined)) this.say(c, undefined, false, 'refused: not JSON');
      return;
    }
    // Every refusal of an action names it (its id), so a client that sent several knows which.
    const id = typeof json === 'object' && json !== null && Number.isInteger((json as { id?: unknown }).id) ? (json as { id: number }).id : undefined;
    // An action from a token revoked a moment ago is never carried out.
    this.checkTokens();
    if (!this.clients.has(c.ws)) return;
    if (this.refusedOverRate(c, id)) return;
    const inspect = InspectSchema.safeParse(json);
    if (inspect.success) return this.inspect(c, inspect.data.key);
    const r = ActionSchema.safeParse(json);
    if (!r.success) return this.say(c, id, false, `refused: not an action this server understands (${r.error.issues[0]?.message ?? 'malformed'})`);
    const parsed: z.infer<typeof ActionSchema> = r.data;
    const actor = { id: c.who.id, name: c.who.name, roles: c.who.roles, ...(c.who.canAct ? {} : { viewer: true }) };
    const at = this.o.now();
    const e = parsed.event;
    const event: EngineEvent =
      e.type === 'command'
        ? ({ type: 'command', at, actor, command: e.command } as EngineEvent)
        : e.type === 'approve'
          ? { type: 'approve', at, actor, phase: e.phase, role: e.role }
          : { type: 'signal', at, actor, name: e.name, ...(e.severity ? { severity: e.severity } : {}), ...(e.note ? { note: e.note } : {}) };
    const before = this.o.store.getState().history;
    try {
      this.o.store.dispatch(event);
    } catch (err) {
      return this.say(c, parsed.id, false, `failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    // The engine's own words about it: the entries it logged (refusals are 'refused').
    const after = this.o.store.getState().history;
    const last = before.at(-1);
    const fresh = last === undefined ? after : after.slice(after.lastIndexOf(last) + 1);
    const mine = fresh.filter((h) => h.text.includes(c.who.name));
    const words = (mine.length ? mine : fresh).at(0);
    const ok = words ? words.kind !== 'refused' : true;
    this.say(c, parsed.id, ok, words?.text ?? 'done');
  }
}
