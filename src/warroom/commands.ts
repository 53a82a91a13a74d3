// The war room's command-line parts that need no screen: `canary tokens`, opening the server for
// `canary serve`, and reading what `canary join` / `canary wall` need (URL, token, CA).
import { existsSync, readFileSync } from 'node:fs';
import type { Plan } from '../plan/schema.js';
import { formatDuration } from '../plan/duration.js';
import type { Clock, PodInspector } from '../runtime/ports.js';
import type { Runtime } from '../runtime/runtime.js';
import { RemoteStore } from './client.js';
import { WarRoomServer } from './server.js';
import { defaultTokenPath, issueTokens, readTokenFile, readTokenFileIfAny, TokenBook, writeTokenFile } from './tokens.js';

export const DEFAULT_LISTEN = '127.0.0.1:7420';

/** `canary tokens`: new tokens, printed once; the file keeps salted hashes. */
export function runTokens(plan: Plan, opts: { file?: string | undefined; people?: string[] | undefined; viewers?: number | undefined; stateHome: string }, out: NodeJS.WritableStream): string {
  const path = opts.file ?? defaultTokenPath(plan, opts.stateHome);
  const previous = readTokenFileIfAny(path);
  const { file, issued } = issueTokens(plan, { ...(opts.people?.length ? { people: opts.people } : {}), viewers: opts.viewers ?? 0, previous });
  writeTokenFile(path, file);
  out.write(`War-room tokens for ${plan.metadata.name} (shown once; ${path} keeps only salted hashes).\n`);
  out.write(`Give each person theirs; they join with CANARY_TOKEN=<token> canary join <url>.\n\n`);
  const w = Math.max(...issued.map((i) => i.name.length), 4);
  for (const i of issued) out.write(`${i.name.padEnd(w)}  ${(i.person ? i.roles.join(',') : 'view only').padEnd(44)}  ${i.token}\n`);
  const kept = file.tokens.length - issued.length;
  if (kept > 0) out.write(`\n${kept} other token(s) in the file are unchanged.\n`);
  return path;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error(`--listen expects host:port, e.g. ${DEFAULT_LISTEN}, got "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export interface OpenedRoom {
  server: WarRoomServer;
  url: string;
  tokenFile: string;
  line(): { text: string; tone: 'ok' | 'warn' | 'bad' };
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The server for `canary serve`, on the console's runtime. Throws with a message that says what to do. */
export async function openWarRoom(o: { plan: Plan; planText: string; runtime: Runtime; clock: Clock; inspector?: PodInspector | null; listen?: string | undefined; tokens?: string | undefined; cert?: string | undefined; key?: string | undefined; insecure?: boolean | undefined; stateHome?: string }): Promise<OpenedRoom> {
  if (o.tokens === undefined && o.stateHome === undefined) throw new Error('the war room needs a token file (--tokens)');
  const tokenFile = o.tokens ?? defaultTokenPath(o.plan, o.stateHome!);
  if (!existsSync(tokenFile)) throw new Error(`no war-room tokens at ${tokenFile}: run \`canary tokens${o.tokens ? ` --file ${o.tokens}` : ''}\` first and give each person theirs`);
  // Followed while serving: a token re-issued or removed stops working at once (no restart).
  let say: (line: string) => void = () => undefined;
  const book = new TokenBook(o.plan, readTokenFile(tokenFile), tokenFile, (l) => say(l));
  if ((o.cert === undefined) !== (o.key === undefined)) throw new Error('--cert and --key go together (PEM files): give both for wss://, or neither for ws://');
  const tls = o.cert && o.key ? { cert: readFileSync(o.cert), key: readFileSync(o.key) } : undefined;
  const { host, port } = parseListen(o.listen ?? DEFAULT_LISTEN);
  // Tokens travel in the upgrade's Authorization header: off this machine, only over TLS.
  const onLoopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  if (!tls && !onLoopback && !o.insecure)
    throw new Error(`--listen ${host}:${port}: people's tokens would cross the network in clear text; give --cert and --key (wss://), or --insecure if this network is yours alone`);
  const listeners = new Set<() => void>();
  const tell = () => {
    for (const l of listeners) l();
  };
  let last = '';
  const server = new WarRoomServer({
    store: o.runtime,
    watch: o.runtime.watch,
    tokens: book,
    planName: o.plan.metadata.name,
    planText: o.planText,
    now: () => o.clock.now(),
    // A joined terminal's `enter` on a pod: described and followed for it alone.
    inspect: { plan: o.plan, inspector: o.inspector ?? null },
    host,
    port,
    ...(tls ? { tls } : {}),
    log: (l) => {
      last = l;
      tell();
    },
  });
  say = (l) => {
    last = l;
    tell();
  };
  let url: string;
  try {
    url = await server.listen();
  } catch (err) {
    throw new Error(`--listen ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  return {
    server,
    url,
    tokenFile,
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    line() {
      const who = server.clientInfo().map((c) => c.who.name + (c.lagging ? ' (behind)' : ''));
      const warn = !tls && !loopback ? ' · NOT ENCRYPTED (give --cert/--key)' : '';
      return { text: `war room ${url}${warn} · ${who.length} joined${who.length ? `: ${who.join(', ')}` : ''}${last ? ` · ${last}` : ''}`, tone: warn ? 'warn' : 'ok' };
    },
    close: () => server.close(),
  };
}

/** The token for join/wall: CANARY_TOKEN (`token`: CanaryEnv.token), or the first line of
 * --token-file. Never a flag: a command line is visible to every user of the machine. */
export function readJoinToken(tokenFile: string | undefined, token: string | undefined): string {
  if (tokenFile) {
    try {
      return readFileSync(tokenFile, 'utf8').split('\n')[0]!.trim();
    } catch (err) {
      throw new Error(`--token-file ${tokenFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const t = token?.trim();
  if (!t) throw new Error('no token: set CANARY_TOKEN=<your token> (from `canary tokens` on the serving machine) or give --token-file <file>');
  return t;
}

/** A RemoteStore for the war room at `urlText`, not connected yet (the URL, token and CA are
 * checked here, at once): `canary join` shows the connection being made while `start()` runs. */
export function openRoom(urlText: string | undefined, o: { tokenFile?: string | undefined; token: string | undefined; ca?: string | undefined; reconnect?: boolean }): RemoteStore {
  if (!urlText) throw new Error('usage: canary join <ws://host:port/ | wss://host:port/> (the URL `canary serve` shows)');
  let url: URL;
  try {
    url = new URL(urlText);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('not ws(s)');
  } catch {
    throw new Error(`"${urlText}" is not a ws:// or wss:// URL, e.g. ws://127.0.0.1:7420/`);
  }
  const token = readJoinToken(o.tokenFile, o.token);
  const ca = o.ca ? readFileSync(o.ca) : undefined;
  return new RemoteStore({ url: url.toString(), token, ...(ca ? { ca } : {}), timeoutMs: 5_000, ...(o.reconnect === false ? { reconnect: false } : {}) });
}

/** `openRoom`, connected: resolves once the first state is in. */
export async function joinRoom(urlText: string | undefined, o: { tokenFile?: string | undefined; token: string | undefined; ca?: string | undefined; reconnect?: boolean }): Promise<RemoteStore> {
  const store = openRoom(urlText, o);
  try {
    await store.start();
  } catch (err) {
    store.close();
    throw err;
  }
  return store;
}

/** The bottom line of a joined console: the connection and how long ago the server was last
 * heard from first (never cut off, and it ticks while nothing arrives), then who you are, the
 * server's last answer to your last action, and the URL. */
export function joinedLine(store: RemoteStore, url: string, now: () => number = Date.now): { subscribe(l: () => void): () => void; line(): { text: string; tone: 'ok' | 'warn' | 'bad' } } {
  return {
    subscribe: (l) => {
      const off = store.onStatus(l);
      // the age of the last update moves on its own: tell the view once a second
      const t = setInterval(l, 1_000);
      t.unref?.();
      return () => {
        clearInterval(t);
        off();
      };
    },
    line() {
      const you = store.you;
      const who = you ? `${you.name}${you.canAct ? ` (${you.roles.join(', ') || 'no roles'})` : ' (view only)'}` : '?';
      const conn = store.status === 'connected' ? '● connected' : `✗ ${store.status.toUpperCase()}${store.problem ? `: ${store.problem}` : ''}`;
      const heard = store.lastHeardAt === null ? ' · nothing heard yet' : ` · last update ${formatDuration(Math.max(0, now() - store.lastHeardAt))} ago`;
      const n = store.notice ? ` · ${store.notice.ok ? '' : '✗ '}${store.notice.text}` : '';
      const tone = store.status !== 'connected' ? 'bad' : store.notice && !store.notice.ok ? 'warn' : 'ok';
      return { text: `${conn}${heard}${n} · ${who} · ${url}`, tone };
    },
  };
}
