// Who may move traffic, over a real war room on 127.0.0.1:0: a deploy or an approval the engine
// refuses is answered with its reason to that terminal; the serving console follows its token file
// (a re-issued token stops working at once, without a restart, and a connected session of a
// revoked token is closed with a message saying so).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { RemoteStore } from '../src/warroom/client.js';
import { WarRoomServer } from '../src/warroom/server.js';
import { issueTokens, readTokenFile, TokenBook, writeTokenFile, type Issued } from '../src/warroom/tokens.js';
import { loadPlan, makeStore, seen, T0 } from './helpers/state.js';

const plan = loadPlan();
const open: { close(): unknown }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function room(tokenCheckMs = 600_000) {
  const dir = mkdtempSync(join(tmpdir(), 'canary-authority-wr-'));
  dirs.push(dir);
  const path = join(dir, 'tokens.json');
  const { file, issued } = issueTokens(plan, {});
  writeTokenFile(path, file);
  const tokens = Object.fromEntries((issued as Issued[]).map((i) => [i.person!, i.token]));
  const logs: string[] = [];
  const store = seen(makeStore(plan, T0, { checklist: false }));
  const book = new TokenBook(plan, readTokenFile(path), path, (l) => logs.push(l));
  // The periodic look is slowed down here: joins and actions must find a change by themselves.
  const server = new WarRoomServer({ store, tokens: book, planName: plan.metadata.name, now: () => store.clock.t, log: (l) => logs.push(l), tokenCheckMs });
  const url = await server.listen();
  open.push(server);
  return { path, tokens, logs, store, server, url };
}

/** A raw client: its messages, and one action answered ('said' with its id). */
async function raw(url: string, token: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const got: { t: string; id?: number; ok?: boolean; text?: string }[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on('message', (d) => got.push(JSON.parse(d.toString())));
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  open.push({ close: () => ws.terminate() });
  let next = 1;
  return {
    got,
    closed: () => closed,
    send: (event: unknown) => ws.send(JSON.stringify({ t: 'act', id: next++, event })),
    async act(event: unknown) {
      const id = next++;
      ws.send(JSON.stringify({ t: 'act', id, event }));
      await until(() => got.some((m) => m.t === 'said' && m.id === id), `an answer to action ${id}`);
      return got.find((m) => m.t === 'said' && m.id === id)!;
    },
  };
}

describe('the war room: refusals say why', () => {
  it("Femi's deploy of the 100% phase at 0% and Jon's approval of it are refused with the reason; nothing runs", async () => {
    const r = await room();
    const femi = await raw(r.url, r.tokens.femi!);
    const a = await femi.act({ type: 'command', command: { kind: 'run-deploy', phase: 'full' } });
    expect(a).toMatchObject({ ok: false });
    expect(a.text).toBe("Femi Adeyemi asked to deploy full: refused - Full rollout: 100% production: only the next gate's phase can be deployed (Canary 1%: internal validation)");
    const b = await femi.act({ type: 'command', command: { kind: 'tick-item', item: 'monitoring#1', note: 'looks fine' } });
    expect(b).toMatchObject({ ok: false });
    expect(b.text).toContain('it has an automated check');
    const jon = await raw(r.url, r.tokens.jon!);
    const c = await jon.act({ type: 'approve', phase: 'full', role: 'cto' });
    expect(c).toMatchObject({ ok: false });
    expect(c.text).toContain('refused - only the next gate can be approved: Canary 1%: internal validation');
    expect(r.store.getState().runbook.runs).toEqual([]);
    expect(r.store.getState().approvals).toEqual({});
  });
});

describe('the war room follows its token file', () => {
  it('a token re-issued while serving: the old one is refused at the next join, and its open session is closed with a message', async () => {
    const r = await room();
    const old = r.tokens.jon!;
    const jon = new RemoteStore({ url: r.url, token: old });
    open.push(jon);
    await jon.start();
    const rawJon = await raw(r.url, old);
    // canary tokens --person jon, on the serving machine: a new token for Jon, the old one gone.
    const again = issueTokens(plan, { people: ['jon'], previous: readTokenFile(r.path) });
    writeTokenFile(r.path, again.file);
    const fresh = again.issued[0]!.token;
    // The next join (anyone's) looks at the file: the old token is refused, the new one taken.
    await expect(raw(r.url, old)).rejects.toThrow(/HTTP 401/);
    const ok = await raw(r.url, fresh);
    expect(ok.got.length).toBeGreaterThan(0);
    // Both sessions of the old token were closed, with why.
    await until(() => rawJon.closed() !== null, 'the raw session closed');
    expect(rawJon.closed()).toEqual({ code: 4001, reason: 'war-room token revoked or re-issued: join again with the new one' });
    expect(rawJon.got.some((m) => m.t === 'said' && m.ok === false && /your war-room token was revoked or re-issued/.test(m.text ?? ''))).toBe(true);
    await until(() => jon.status === 'refused', 'the joined console told');
    expect(jon.problem).toContain('war-room token revoked or re-issued: join again with the new one (ask the driver for a new one: canary tokens)');
    expect(r.logs.some((l) => /tokens re-read from .*: 1 new, 1 revoked/.test(l))).toBe(true);
    expect(r.server.clientInfo().map((c) => c.who.name)).toEqual(['Jon Weller']);
  });

  it('a token removed from the file is caught on the next action of its session, which is never carried out', async () => {
    const r = await room();
    const femi = await raw(r.url, r.tokens.femi!);
    const file = readTokenFile(r.path);
    writeTokenFile(r.path, { ...file, tokens: file.tokens.filter((t) => t.person !== 'femi') });
    const before = r.store.getState().history.length;
    femi.send({ type: 'command', command: { kind: 'tick-item', item: 'infrastructure#1' } });
    await until(() => femi.closed() !== null, 'the session closed');
    expect(femi.closed()!.code).toBe(4001);
    expect(r.store.getState().runbook.ticks['infrastructure#1']).toBeUndefined();
    expect(r.store.getState().history.length).toBe(before);
  });

  it('an idle session of a revoked token is closed by the periodic look at the file', async () => {
    const r = await room(50);
    const dev = await raw(r.url, r.tokens.dev!);
    const again = issueTokens(plan, { people: ['dev'], previous: readTokenFile(r.path) });
    writeTokenFile(r.path, again.file);
    await until(() => dev.closed() !== null, 'the idle session closed');
    expect(dev.closed()!.code).toBe(4001);
    expect(r.logs).toContain('Dev Raman: token revoked; disconnected');
  });
});
