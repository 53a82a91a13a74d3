// `canary declare` (issue 16 item 1): an incident declared from a headless shell against a running
// war room, over a real socket on 127.0.0.1 to a WarRoomServer over the real engine.
import { describe, it, expect, afterEach } from 'vitest';
import { compile } from '../src/engine/compiled.js';
import { incidentKinds } from '../src/engine/people.js';
import { RemoteStore } from '../src/warroom/client.js';
import { declareProblem, declareRemote } from '../src/warroom/declare.js';
import { WarRoomServer } from '../src/warroom/server.js';
import { issueTokens, TokenBook, type Issued } from '../src/warroom/tokens.js';
import { loadPlan, makeStore, runningScenario, T0 } from './helpers/state.js';

const plan = loadPlan();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function room() {
  const store = makeStore(plan, T0);
  runningScenario(store, 5);
  const { file, issued } = issueTokens(plan, { viewers: 1 });
  const tokens: Record<string, string> = {};
  let viewer = '';
  for (const i of issued as Issued[]) {
    if (i.person) tokens[i.person] = i.token;
    else viewer = i.token;
  }
  const server = new WarRoomServer({ store, tokens: new TokenBook(plan, file), planName: plan.metadata.name, now: () => store.clock.t, log: () => undefined });
  const url = await server.listen();
  open.push(server);
  const join = async (token: string) => {
    const r = new RemoteStore({ url, token, timeoutMs: 5_000 });
    open.push(r);
    await r.start();
    return r;
  };
  return { store, url, tokens, viewer, join };
}

describe('canary declare', () => {
  const immediate = incidentKinds(compile(plan)).find((k) => k.immediate)!;

  it('names the kinds when the kind is not one of the plan, and wants a summary', () => {
    const p = declareProblem(plan, { kind: 'bogus', summary: 'x' });
    expect(p).toContain('--kind bogus: not an incident kind');
    expect(p).toContain(`${immediate.id} (rolls back)`);
    expect(p).toContain('other');
    expect(declareProblem(plan, { kind: immediate.id, summary: '  ' })).toContain('--summary');
    expect(declareProblem(plan, { kind: 'other', summary: 'slow checkout' })).toBeNull();
  });

  it('an immediate kind declared from a shell rolls the war room back, under the person', async () => {
    const r = await room();
    const person = Object.keys(r.tokens)[0]!;
    const remote = await r.join(r.tokens[person]!);
    const res = await declareRemote(remote, plan, { kind: immediate.id, summary: 'tokens in the logs' });
    expect(res.ok).toBe(true);
    const s = r.store.getState();
    expect(s.status).toBe('rolled-back');
    const inc = s.incidents.find((i) => i.kind === immediate.id)!;
    expect(inc.summary).toContain('tokens in the logs');
    expect(inc.openedBy).toContain(remote.you!.name);
  });

  it('an immediate kind from a person outside its declarers (the authority and the P0 matrix) is refused: no incident, no rollback', async () => {
    const r = await room();
    const remote = await r.join(r.tokens['femi']!);
    const res = await declareRemote(remote, plan, { kind: immediate.id, summary: 'tokens in the logs' });
    expect(res.ok).toBe(false);
    expect(res.text).toContain(`Femi Adeyemi declared ${immediate.id}: refused - the plan lets only`);
    const s = r.store.getState();
    expect(s.status).toBe('running');
    expect(s.incidents).toHaveLength(0);
    // The same person may still page with an incident of no automatic rollback.
    expect((await declareRemote(remote, plan, { kind: 'other', summary: 'customers report leaked tokens' })).ok).toBe(true);
    expect(r.store.getState().status).toBe('running');
    expect(r.store.getState().incidents).toHaveLength(1);
  });

  it('a view-only token is refused, and nothing is declared', async () => {
    const r = await room();
    const remote = await r.join(r.viewer);
    const res = await declareRemote(remote, plan, { kind: 'other', summary: 'slow' });
    expect(res.ok).toBe(false);
    expect(r.store.getState().incidents).toHaveLength(0);
  });
});
