// The war room over real sockets on 127.0.0.1: a server started by each test over the real engine
// (a store that reduces every event), joined by RemoteStores (what `canary join` uses) and by raw
// sockets that misbehave. Frames come from ink-testing-library: a joined viewer renders the same
// App as the driver, fed by its RemoteStore.
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { WebSocket } from 'ws';
import { App } from '../components/App.js';
import { WarRoomConsole } from '../components/WarRoom.js';
import { reduce, initialState } from '../src/engine/reduce.js';
import { joinedLine } from '../src/warroom/commands.js';
import type { Actor, EngineEvent, PodInfo } from '../src/engine/types.js';
import { RemoteStore } from '../src/warroom/client.js';
import { applyPatch, diffState, fromWire, toWire } from '../src/warroom/protocol.js';
import { WarRoomServer, type WarRoomServerOptions } from '../src/warroom/server.js';
import type { PodInspector } from '../src/runtime/ports.js';
import { issueTokens, readTokenFile, TokenBook, writeTokenFile, type Issued } from '../src/warroom/tokens.js';
import { CHLOE, DEV, loadPlan, makeStore, manyPods, MIN, OPERATOR, runningScenario, samples, seen, T0, type TestStore } from './helpers/state.js';

const plan = loadPlan();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  cleanup();
  for (const o of open.splice(0).reverse()) await o.close();
});

/** Poll until `cond` holds (a guard against hanging, not a timing assertion). */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Room {
  store: TestStore;
  server: WarRoomServer;
  book: TokenBook;
  url: string;
  tokens: Record<string, string>;
  viewer: string;
  join(who: string, opts?: { reconnect?: boolean; silentAfterMs?: number }): Promise<RemoteStore>;
  logs: string[];
}

async function room(over: Partial<WarRoomServerOptions> = {}, store = seen(makeStore(plan, T0))): Promise<Room> {
  const { file, issued } = issueTokens(plan, { viewers: 1 });
  const tokens: Record<string, string> = {};
  let viewer = '';
  for (const i of issued as Issued[]) {
    if (i.person) tokens[i.person] = i.token;
    else viewer = i.token;
  }
  const logs: string[] = [];
  const book = new TokenBook(plan, file);
  const server = new WarRoomServer({ store, tokens: book, planName: plan.metadata.name, now: () => store.clock.t, log: (l) => logs.push(l), ...over });
  const url = await server.listen();
  open.push(server);
  return {
    store,
    server,
    book,
    url,
    tokens,
    viewer,
    logs,
    async join(who, opts = {}) {
      const token = who === 'viewer' ? viewer : tokens[who]!;
      const r = new RemoteStore({ url, token, ...(over.tls ? { ca: over.tls.cert } : {}), ...opts });
      open.push(r);
      await r.start();
      return r;
    },
  };
}

const caughtUp = (r: Room, ...viewers: RemoteStore[]) => (r.server.flush(), until(() => viewers.every((v) => v.seq === r.server.sequence), `viewers at seq ${r.server.sequence}`));

/** A raw WebSocket (no reconnects, no politeness), authenticated. */
function rawSocket(url: string, token: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...opts });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    open.push({ close: () => ws.terminate() });
  });
}

const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('protocol: snapshot and patches', () => {
  it('a viewer applying every patch has the driver state, and patches are a small fraction of a snapshot', () => {
    const store = makeStore(plan, T0);
    let viewer = fromWire(JSON.parse(JSON.stringify(toWire(store.getState()))));
    let sent = store.getState();
    const sizes: number[] = [];
    store.subscribe(() => {
      const p = diffState(sent, store.getState());
      sent = store.getState();
      if (!p) return;
      const text = JSON.stringify(p);
      sizes.push(text.length);
      viewer = applyPatch(viewer, JSON.parse(text));
    });
    runningScenario(store, 150); // more samples than a series keeps (120): windows slide
    store.dispatch({ type: 'pods.sync', at: store.clock.t, region: 'us-west-2', pods: manyPods(3000, 'us-west-2') });
    const pods = manyPods(3000, 'us-west-2');
    store.dispatch({ type: 'pods.delta', at: store.clock.t + 1, upserts: [{ ...pods[5]!, ready: false, reason: 'OOMKilled', restarts: 1 }], deletes: [pods[7]!.key] });
    for (let i = 0; i < 5; i++) store.dispatch({ type: 'sli.samples', at: store.clock.t + 2 + i * MIN, samples: samples(i) });
    expect(toWire(viewer)).toEqual(JSON.parse(JSON.stringify(toWire(store.getState()))));
    const snapshot = JSON.stringify(toWire(store.getState())).length;
    expect(snapshot).toBeGreaterThan(500_000); // 3,000+ pods
    const last = sizes.at(-1)!;
    expect(last).toBeLessThan(snapshot / 100); // a samples update carries the new points only
    // The one-pod change is sent as that pod, not the fleet.
    expect(sizes.some((s) => s < 2_000)).toBe(true);
  });
});

describe('engine rules for war-room actors', () => {
  it('a viewer never acts; rollback needs a role with rollback authority when roles are known; a terminal without roles may', () => {
    let s = runningState();
    const viewer: Actor = { id: 'viewer-1', name: 'viewer 1', roles: [], viewer: true };
    for (const e of [
      { type: 'command', at: s.now, actor: viewer, command: { kind: 'rollback' } },
      { type: 'command', at: s.now, actor: viewer, command: { kind: 'pause' } },
      { type: 'approve', at: s.now, actor: { ...viewer, roles: ['eng-lead'] }, phase: 'canary-5', role: 'eng-lead' },
      { type: 'signal', at: s.now, actor: viewer, name: 'customer_escalation', severity: 'P0' },
    ] as EngineEvent[]) {
      const r = reduce(plan, s, e);
      expect(r.effects).toEqual([]);
      expect(r.state.status).toBe('running');
      expect(r.state.history.at(-1)!.text).toMatch(/refused, a viewer cannot (act|approve)/);
      s = r.state;
    }
    const femi = reduce(plan, s, { type: 'command', at: s.now, actor: { id: 'femi', name: 'Femi Adeyemi', roles: ['customer-success'] }, command: { kind: 'rollback' } });
    expect(femi.state.status).toBe('running');
    const dev = reduce(plan, s, { type: 'command', at: s.now, actor: DEV, command: { kind: 'rollback' } });
    expect(dev.state.status).toBe('rolled-back'); // engineering lead: "Business decision rollback"
    const anyone = reduce(plan, s, { type: 'command', at: s.now, actor: { id: 'operator' }, command: { kind: 'rollback' } });
    expect(anyone.state.status).toBe('rolled-back');
  });
});

function runningState() {
  const st = makeStore(plan, T0);
  runningScenario(st, 3);
  return st.getState();
}

describe('tokens', () => {
  it('the file keeps salted hashes only; the printed token identifies its person; viewers cannot act', () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-tokens-'));
    const path = join(dir, 'tokens.json');
    const { file, issued } = issueTokens(plan, { viewers: 2 });
    writeTokenFile(path, file);
    const text = readFileSync(path, 'utf8');
    for (const i of issued) expect(text).not.toContain(i.token.slice('cnry_000000000000_'.length));
    const book = new TokenBook(plan, readTokenFile(path));
    const ana = issued.find((i) => i.person === 'ana')!;
    expect(book.verify(ana.token)).toEqual({ id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary', 'sre-secondary'], canAct: true });
    expect(book.verify(ana.token.slice(0, -1) + (ana.token.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(book.verify('cnry_000000000000_' + 'x'.repeat(43))).toBeNull();
    expect(book.verify('')).toBeNull();
    expect(book.verify(issued.find((i) => i.person === null)!.token)?.canAct).toBe(false);
    expect(issued.filter((i) => i.person).map((i) => i.person)).toEqual(plan.roster.people.map((p) => p.id));
    // Re-issuing one person's token keeps everyone else's (and the viewers').
    const again = issueTokens(plan, { people: ['dev'], previous: file });
    const book2 = new TokenBook(plan, again.file);
    expect(book2.verify(ana.token)?.id).toBe('ana');
    expect(book2.verify(issued.find((i) => i.person === 'dev')!.token)).toBeNull();
    expect(book2.verify(again.issued[0]!.token)?.id).toBe('dev');
    expect(() => issueTokens(plan, { people: ['nobody'] })).toThrow(/--person nobody: no such person.*expected one of: ana/);
  });
});

describe('war room over sockets on 127.0.0.1', () => {
  it('an upgrade without a valid token gets 401 and never becomes a WebSocket', async () => {
    const r = await room();
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(r.url);
        const req = request({ host: u.hostname, port: u.port, path: '/', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
        req.on('response', (res) => resolve(res.statusCode ?? 0));
        req.on('upgrade', () => resolve(101));
        req.on('error', reject);
        req.end();
      });
    expect(await status({})).toBe(401);
    expect(await status({ authorization: 'Bearer cnry_000000000000_' + 'x'.repeat(43) })).toBe(401);
    expect(await status({ authorization: `Basic ${r.tokens.ana}` })).toBe(401);
    expect(await status({ authorization: `Bearer ${r.tokens.ana}` })).toBe(101);
    const bad = new RemoteStore({ url: r.url, token: 'nope' });
    await expect(bad.start()).rejects.toThrow(/401 Unauthorized/);
    expect(bad.status).toBe('refused');
    expect(r.server.stats.refusedUpgrades).toBe(4);
  });

  it('refused upgrades never crash the server: a client that resets at once, and one that never closes its side', async () => {
    const r = await room();
    const u = new URL(r.url);
    const upgrade = `GET / HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    // 50 clients that send an upgrade without a token and reset at once (a port scan, a cancelled curl)
    await Promise.all(
      Array.from({ length: 50 }, () =>
        new Promise<void>((resolve) => {
          const sock: Socket = connect(Number(u.port), u.hostname, () => {
            sock.write(upgrade);
            sock.resetAndDestroy();
            resolve();
          });
          sock.on('error', () => resolve());
        }),
      ),
    );
    // one that keeps its side open: the server closes it anyway
    const lingering: Socket = connect(Number(u.port), u.hostname);
    open.push({ close: () => lingering.destroy() });
    const closedByServer = new Promise<string>((resolve) => {
      let text = '';
      lingering.on('data', (d) => (text += d.toString()));
      lingering.on('close', () => resolve(text));
    });
    lingering.on('connect', () => lingering.write(upgrade));
    expect(await closedByServer).toMatch(/^HTTP\/1\.1 401 Unauthorized/);
    // still serving
    const v = await r.join('ana');
    expect(v.status).toBe('connected');
  });

  it('several joined viewers show the same frames as the driver, live', async () => {
    const r = await room();
    const [emma, viewer] = [await r.join('emma'), await r.join('viewer')];
    expect(emma.you).toMatchObject({ id: 'emma', canAct: true });
    expect(viewer.you).toMatchObject({ canAct: false });
    // The panes are the same for everyone; the status bar's key hints are each person's own (someone
    // without rollback authority is not offered R), so they are compared apart below.
    const hintsOf = new Map<() => string, () => string>();
    const frames = (store: typeof r.store | RemoteStore, actor: Actor) => {
      const f = render(<App plan={plan} store={store} actor={actor} now={() => r.store.clock.t} columns={120} rows={36} />);
      const panes = () => plain(f.lastFrame()).split('\n').slice(0, -1).join('\n');
      hintsOf.set(panes, () => plain(f.lastFrame()).split('\n').at(-1) ?? '');
      return panes;
    };
    const driver = frames(r.store, OPERATOR);
    const a = frames(emma, { id: 'emma', name: 'Emma Brandt', roles: ['product-lead'] });
    const b = frames(viewer, { id: 'v', roles: [] });
    await until(() => a() === driver(), 'the first frames alike');
    expect(a()).toBe(driver());
    runningScenario(r.store, 30);
    r.store.dispatch({ type: 'pods.sync', at: r.store.clock.t, region: 'us-west-2', pods: manyPods(200, 'us-west-2') });
    await caughtUp(r, emma, viewer);
    // Ink draws on its own schedule: wait for each screen to have drawn this state.
    await until(() => a() === driver() && b() === driver() && driver().includes('Canary 1%'), 'the same frame on every screen');
    const d = driver();
    expect(d).toContain('Canary 1%');
    expect(a()).toBe(d);
    expect(b()).toBe(d);
    expect(hintsOf.get(driver)!()).toContain('R rollback');
    expect(hintsOf.get(a)!()).toContain('R rollback'); // the product lead has rollback authority
    expect(hintsOf.get(b)!()).not.toContain('R rollback'); // roles [] : no rollback authority
  });

  it("approvals from each required role, pressed in each person's own terminal, open the gate; none short of that does", async () => {
    const r = await room();
    const dev = await r.join('dev');
    const chloe = await r.join('chloe');
    const ana = await r.join('ana');
    const term = (store: RemoteStore) => {
      const you = store.you!;
      const f = render(<App plan={plan} store={store} actor={{ id: you.id, name: you.name, roles: you.roles }} now={() => Date.now()} columns={120} rows={36} />);
      return { write: (s: string) => f.stdin.write(s), frame: () => plain(f.lastFrame()) };
    };
    const [devT, chloeT, anaT] = [term(dev), term(chloe), term(ana)];
    await settle();
    // Ana (SRE) holds no role the 1% gate asks for (engineering lead, SRE lead).
    anaT.write('A');
    await until(() => /holds none of the roles/.test(anaT.frame()), "ana told she holds none of the gate's roles");
    devT.write('A');
    await until(() => (r.store.getState().approvals['canary-1'] ?? []).length === 1, 'dev approved');
    // One of two: the advance dialog says what is missing, and y sends nothing.
    await caughtUp(r, ana);
    anaT.write('a');
    await until(() => /✓ Engineering Lead \(Dev Raman\)/.test(anaT.frame()), 'the advance dialog');
    expect(anaT.frame()).toMatch(/✗ SRE Lead/);
    anaT.write('y');
    await settle();
    // Sent anyway (an older client), the engine refuses it.
    ana.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'advance' } });
    await until(() => ana.notice !== null, 'an answer to the advance');
    expect(ana.notice!.text).toMatch(/Ana Ortiz asked to advance: refused - .*SRE Lead/);
    expect(r.store.getState().status).toBe('pending');
    // Dev again (already approved) and a forged role change nothing.
    dev.dispatch({ type: 'approve', at: 0, actor: { id: 'x' }, phase: 'canary-1', role: 'sre-lead' });
    await until(() => dev.notice?.text.includes('cannot approve as sre-lead') === true, 'dev refused as sre-lead');
    chloeT.write('A');
    await until(() => (r.store.getState().approvals['canary-1'] ?? []).length === 2, 'chloe approved');
    ana.notice = null;
    anaT.write('a');
    await settle();
    anaT.write('y');
    await until(() => r.store.getState().status === 'running', 'the gate opened');
    const approvals = r.store.events.filter((e): e is Extract<EngineEvent, { type: 'approve' }> => e.type === 'approve');
    expect(approvals.map((e) => [e.actor.id, e.role])).toEqual([
      ['dev', 'eng-lead'],
      ['dev', 'sre-lead'],
      ['chloe', 'sre-lead'],
    ]);
    const advances = r.store.events.filter((e) => e.type === 'command' && e.command.kind === 'advance');
    expect(advances.map((e) => (e as { actor: Actor }).actor.id)).toEqual(['ana', 'ana']);
    expect(r.store.getState().history.some((h) => h.text === 'Ana Ortiz opened the gate: Canary 1%: internal validation, traffic 0% -> 1% in us-east-1')).toBe(true);
    await caughtUp(r, dev, chloe, ana);
    await until(() => /▶ RUNNING/.test(devT.frame()), "dev's screen shows the rollout running");
  });

  it("a viewer's action is refused by the engine and recorded with its actor; any SRE can roll back, a customer-success person cannot", async () => {
    const r = await room();
    runningScenario(r.store, 5);
    const viewer = await r.join('viewer');
    const femi = await r.join('femi');
    const ben = await r.join('ben');
    viewer.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'rollback' } });
    await until(() => viewer.notice !== null, 'the answer to the viewer');
    expect(viewer.notice).toMatchObject({ ok: false });
    expect(viewer.notice!.text).toMatch(/a viewer cannot act/);
    const recorded = r.store.events.at(-1) as Extract<EngineEvent, { type: 'command' }>;
    expect(recorded.actor).toMatchObject({ viewer: true, roles: [] });
    expect(recorded.actor.id).toMatch(/^viewer-/); // from the token, not from the message
    expect(r.store.getState().status).toBe('running');
    femi.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'rollback' } });
    await until(() => femi.notice !== null, 'the answer to femi');
    expect(femi.notice!.text).toMatch(/refused, the plan gives rollback authority to SRE, Engineering Lead/);
    expect(r.store.getState().status).toBe('running');
    ben.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'rollback', reason: 'p95 creeping' } });
    await until(() => r.store.getState().status === 'rolled-back', 'ben rolled back');
    expect(r.store.getState().rollback).toMatchObject({ by: 'Ben Okafor', reason: 'manual rollback by Ben Okafor: p95 creeping' });
    await until(() => ben.notice !== null, 'the answer to ben');
    expect(ben.notice).toMatchObject({ ok: true, text: 'ROLLBACK from 1%: manual rollback by Ben Okafor: p95 creeping' });
  });

  it("a joined viewer's console says on its last line who it is; its R is refused at once, before any dialog, and nothing is sent", async () => {
    const r = await room();
    runningScenario(r.store, 3);
    const v = await r.join('viewer');
    const sent: EngineEvent[] = [];
    const dispatch = v.dispatch.bind(v);
    v.dispatch = (e: EngineEvent) => {
      sent.push(e);
      dispatch(e);
    };
    const f = render(<WarRoomConsole plan={plan} store={v} actor={{ id: v.you!.id, roles: [], viewer: true }} now={() => 0} columns={120} rows={30} room={joinedLine(v, r.url)} />);
    await settle();
    expect(plain(f.lastFrame())).toMatch(/● connected · last update \d+(ms|s) ago · viewer \w+ \(view only\) · ws:\/\/127\.0\.0\.1:\d+\//);
    f.stdin.write('R');
    await until(() => /has a view-only token: a viewer cannot act/.test(plain(f.lastFrame())), 'the refusal at once, where the hints are');
    expect(plain(f.lastFrame())).not.toMatch(/ROLL BACK/); // no dialog opened
    f.stdin.write('y');
    await settle();
    expect(sent.filter((e) => e.type === 'command')).toEqual([]);
    expect(r.store.getState().status).toBe('running');
  });

  it('a 10 MB message closes that connection only', async () => {
    const r = await room();
    const big = await rawSocket(r.url, r.tokens.ana!);
    const other = await r.join('dev');
    const closed = new Promise<number>((resolve) => big.on('close', (code) => resolve(code)));
    big.send('x'.repeat(10 * 1024 * 1024));
    expect(await closed).toBe(1009);
    await until(() => r.server.clientInfo().length === 1, 'the server let go of it');
    runningScenario(r.store, 3);
    await caughtUp(r, other);
    expect(other.status).toBe('connected');
    expect(other.getState().status).toBe('running');
    expect(r.server.clientInfo().map((c) => c.who.id)).toEqual(['dev']);
  });

  it('a client that stops answering pings is dropped; one that answers stays', async () => {
    const r = await room({ heartbeatMs: 250 }); // long enough that a loaded machine still answers in time
    const mute = await rawSocket(r.url, r.tokens.ana!, { autoPong: false });
    const alive = await r.join('dev');
    const closed = new Promise<void>((resolve) => mute.on('close', () => resolve()));
    await closed;
    await until(() => r.server.clientInfo().length === 1, 'the server let go of it');
    expect(r.logs.some((l) => /Ana Ortiz: no answer to the last ping; dropped/.test(l))).toBe(true);
    expect(alive.status).toBe('connected');
    expect(r.server.clientInfo().map((c) => c.who.id)).toEqual(['dev']);
  });

  it('a viewer that stops reading is held back and then dropped, while the driver and the others go on', async () => {
    const r = await room({ highWaterBytes: 64 * 1024, dropAfterBytes: 64 * 1024 * 1024, dropAfterMs: 300, heartbeatMs: 1000 });
    // A raw TCP client: upgrade, then never read again.
    const u = new URL(r.url);
    const sock: Socket = connect(Number(u.port), u.hostname);
    open.push({ close: () => sock.destroy() });
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${r.tokens.ben}\r\n\r\n`);
    await until(() => r.server.clientInfo().some((c) => c.who.id === 'ben'), 'ben joined');
    sock.pause();
    const fast = await r.join('dev');
    runningScenario(r.store, 2);
    // Every update rewrites 3,000 pods (~0.6 MB): the paused socket's buffers fill quickly.
    let t = r.store.clock.t;
    for (let i = 0; i < 60; i++) {
      const pods: PodInfo[] = manyPods(3000, 'us-west-2').map((p) => ({ ...p, restarts: i }));
      r.store.dispatch({ type: 'pods.sync', at: (t += 1000), region: 'us-west-2', pods });
      await new Promise((res) => setImmediate(res));
      if (r.server.stats.dropped > 0) break;
    }
    await until(() => r.server.stats.dropped > 0 || r.server.stats.degraded > 0, 'the slow viewer held back');
    expect(r.server.stats.degraded).toBeGreaterThanOrEqual(1);
    await caughtUp(r, fast);
    expect(fast.getState().pods.size).toBe(r.store.getState().pods.size);
    expect(toWire(fast.getState())).toEqual(JSON.parse(JSON.stringify(toWire(r.store.getState()))));
    // Still not reading after dropAfterMs: dropped; the others stay.
    await until(() => !r.server.clientInfo().some((c) => c.who.id === 'ben'), 'ben dropped');
    expect(r.server.clientInfo().map((c) => c.who.id)).toEqual(['dev']);
    expect(r.logs.some((l) => /Ben Okafor: dropped, not reading/.test(l))).toBe(true);
  });

  it('a reconnect resumes from the last sequence number without gaps; too far behind, it gets a snapshot', async () => {
    const r = await room({ keepUpdates: 50 });
    const v = await r.join('emma');
    const seen: number[] = [v.seq];
    v.onSeq = (s) => seen.push(s);
    runningScenario(r.store, 5);
    await caughtUp(r, v);
    v.cut();
    await until(() => v.status === 'reconnecting', 'emma lost the connection');
    for (let i = 0; i < 10; i++) r.store.dispatch({ type: 'sli.samples', at: r.store.clock.t + (i + 1) * MIN, samples: samples(i) });
    await until(() => v.status === 'connected', 'emma back');
    await caughtUp(r, v);
    expect(v.stats).toMatchObject({ snapshots: 1, resumes: 1, gaps: 0 });
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0]! + i));
    expect(seen.at(-1)).toBe(r.server.sequence);
    expect(toWire(v.getState())).toEqual(JSON.parse(JSON.stringify(toWire(r.store.getState()))));
    // Far behind: more missed updates than the server keeps.
    v.cut();
    await until(() => v.status === 'reconnecting', 'emma lost the connection again');
    for (let i = 0; i < 80; i++) {
      r.store.dispatch({ type: 'sli.samples', at: r.store.clock.t + (20 + i) * MIN, samples: samples(i) });
      r.server.flush(); // one update each (in one turn of the loop they would be one)
    }
    await until(() => v.status === 'connected' && v.seq === r.server.sequence, 'emma caught up');
    expect(v.stats).toMatchObject({ snapshots: 2, resumes: 1, gaps: 0 });
    expect(toWire(v.getState())).toEqual(JSON.parse(JSON.stringify(toWire(r.store.getState()))));
  });

  it('after the server restarts, a viewer never resumes on the old run\'s sequence numbers: it gets a snapshot', async () => {
    const first = await room();
    const v = await first.join('emma', { silentAfterMs: 60_000 });
    runningScenario(first.store, 5);
    await caughtUp(first, v);
    const port = Number(new URL(first.url).port);
    await first.server.close();
    // a new run on the same port, from another state (seq starts again from 0)
    const store2 = makeStore(plan, T0);
    const second = new WarRoomServer({ store: store2, tokens: first.book, planName: plan.metadata.name, now: () => store2.clock.t, port });
    // the new run is already further along (more updates) than the viewer's old sequence number
    runningScenario(store2, 2);
    for (let i = 0; i < v.seq + 5; i++) {
      store2.dispatch({ type: 'sli.samples', at: store2.clock.t + (i + 1) * MIN, samples: samples(i) });
      second.flush();
    }
    expect(second.sequence).toBeGreaterThan(v.seq);
    await second.listen();
    open.push(second);
    await until(() => v.status === 'connected' && v.stats.connects >= 2, 'emma reconnected to the new run');
    second.flush();
    await until(() => v.seq === second.sequence, 'emma at the new run\'s sequence');
    expect(v.stats.snapshots).toBe(2);
    expect(toWire(v.getState())).toEqual(JSON.parse(JSON.stringify(toWire(store2.getState()))));
  });

  it('the action rate limit is per person: more connections with the same token do not refill it', async () => {
    const r = await room({ actionBurst: 3, actionsPerSecond: 0.001 });
    const a = await r.join('ana');
    const b = await r.join('ana');
    const notices: string[] = [];
    for (const v of [a, b]) v.onStatus(() => v.notice && notices.push(v.notice.text));
    for (let i = 0; i < 4; i++) for (const v of [a, b]) v.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'pause' } });
    await until(() => notices.length >= 8, '8 answers');
    expect(r.store.events.filter((e) => e.type === 'command')).toHaveLength(3);
  });

  it('actions past the rate limit are refused without reaching the engine', async () => {
    const r = await room({ actionBurst: 5, actionsPerSecond: 0.001 });
    const v = await r.join('ana');
    const notices: string[] = [];
    v.onStatus(() => v.notice && notices.push(v.notice.text));
    for (let i = 0; i < 20; i++) v.dispatch({ type: 'command', at: 0, actor: OPERATOR, command: { kind: 'pause' } });
    await until(() => notices.length >= 20, '20 answers');
    expect(r.store.events.filter((e) => e.type === 'command')).toHaveLength(5);
    expect(notices.filter((n) => /more than .* actions a second/.test(n))).toHaveLength(15);
  });

  it('every refusal of an action carries its id: over the rate limit, and not understood', async () => {
    const r = await room({ actionBurst: 2, actionsPerSecond: 0.001 });
    const ws = await rawSocket(r.url, r.tokens.ana!);
    const said: { id?: number; ok: boolean; text: string }[] = [];
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { t: string; id?: number; ok: boolean; text: string };
      if (m.t === 'said') said.push(m);
    });
    ws.send(JSON.stringify({ t: 'act', id: 1, event: { type: 'command', command: { kind: 'bogus' } } }));
    for (const id of [2, 3, 4]) ws.send(JSON.stringify({ t: 'act', id, event: { type: 'command', command: { kind: 'pause' } } }));
    await until(() => said.length >= 4, '4 answers');
    expect(said.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(said[0]!.text).toMatch(/not an action this server understands/);
    expect(said[1]!.text).not.toMatch(/refused: (more than|not an action)/); // the engine's own answer
    for (const m of said.slice(2)) expect(m).toMatchObject({ ok: false, text: expect.stringMatching(/more than .* actions a second/) });
    expect(r.store.events.filter((e) => e.type === 'command')).toHaveLength(1);
  });

  it('serves wss:// with a certificate and key; a join that trusts the CA sees the state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canary-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch (err) {
      if (process.env.CI === 'true') throw err;
      throw new Error(`openssl is needed for this test: ${String(err)}`);
    }
    const tls = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
    const r = await room({ tls });
    expect(r.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/);
    const v = await r.join('dev');
    runningScenario(r.store, 2);
    await caughtUp(r, v);
    expect(v.getState().status).toBe('running');
    // Without trusting the certificate, no connection.
    const untrusting = new RemoteStore({ url: r.url, token: r.tokens.dev!, reconnect: false });
    await expect(untrusting.start()).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});

void CHLOE;

describe('a pod looked at in a war room is that terminal\'s (issue 17)', () => {
  it('enter on a pod in one joined terminal: the server inspects for that connection alone; the other and the shared state see nothing', async () => {
    const store = seen(makeStore(plan, T0));
    runningScenario(store, 5);
    const podKey = [...store.getState().pods.values()].find((p) => p.reason === 'CrashLoopBackOff')!.key;
    const asked: { key: string; stopped: boolean; out: Parameters<PodInspector['inspect']>[1] }[] = [];
    const inspector: PodInspector = {
      inspect(req, out) {
        const h = { key: req.key, stopped: false, out };
        asked.push(h);
        queueMicrotask(() => out.logs(['panic: runtime error: invalid memory address'], 'these are its last words'));
        return { stop: () => void (h.stopped = true) };
      },
    };
    const r = await room({ inspect: { plan, inspector } }, store);
    const dev = await r.join('dev');
    const viewer = await r.join('viewer');
    const seqBefore = r.server.sequence;
    let viewerHeard = 0;
    viewer.onReceive = (text) => void (text.includes('"t":"pod"') && viewerHeard++);
    // A view-only token may look too: looking changes nothing.
    dev.inspection.open(podKey);
    await until(() => dev.inspection.view()?.lines.includes('panic: runtime error: invalid memory address') === true, "the pod's log on the terminal that asked");
    expect(dev.inspection.view()).toMatchObject({ key: podKey, ended: 'these are its last words' });
    expect(asked).toHaveLength(1);
    expect(viewer.inspection.view()).toBeNull();
    expect(viewerHeard).toBe(0);
    // Nothing went through the engine: no command, no new sequence number.
    r.server.flush();
    expect(r.server.sequence).toBe(seqBefore);
    expect(store.events.filter((e) => e.type === 'command' && e.actor.id !== OPERATOR.id)).toEqual([]);
    dev.inspection.close();
    await until(() => asked[0]!.stopped, 'the server to stop following when the terminal closes the pod');
    // Closing the connection stops any inspection it had.
    viewer.inspection.open(podKey);
    await until(() => asked.length === 2, 'the second terminal inspecting');
    viewer.close();
    await until(() => asked[1]!.stopped, 'a closed connection stops its inspection');
  });
});
