// Issue 16 item 11: a joined terminal always shows its connection state and how long ago the
// server was last heard from, first on its line (never cut to "· rec…"), ticking while nothing
// arrives; a frozen "data 20s" can no longer pass for live.
import { describe, expect, it } from 'vitest';
import { joinedLine } from '../src/warroom/commands.js';
import type { RemoteStore } from '../src/warroom/client.js';

function fakeStore(over: Partial<RemoteStore>): RemoteStore {
  const listeners = new Set<() => void>();
  return {
    you: { id: 'ana', name: 'Ana Ortiz', roles: ['sre'], canAct: true },
    status: 'connected',
    problem: null,
    notice: null,
    lastHeardAt: null,
    onStatus: (l: () => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ...over,
  } as unknown as RemoteStore;
}

describe('issue 16 item 11: connection state and the age of the last update, always', () => {
  it('a server that died: the state and the age lead the line, so a narrow terminal still shows them', () => {
    let now = 1_000_000;
    const store = fakeStore({ status: 'reconnecting', problem: 'connect ECONNREFUSED 127.0.0.1:7420', lastHeardAt: now - 20_000, notice: { ok: true, text: 'Ana Ortiz approved Canary 5%', at: 0 } });
    const line = joinedLine(store, 'ws://127.0.0.1:7420/', () => now);
    const a = line.line();
    expect(a.tone).toBe('bad');
    expect(a.text.slice(0, 80)).toMatch(/^✗ RECONNECTING: connect ECONNREFUSED 127\.0\.0\.1:7420 · last update 20s ago/);
    now += 15_000;
    expect(line.line().text).toContain('last update 35s ago');
  });

  it('the line is told once a second while nothing arrives (the age ticks), and stops when unsubscribed', async () => {
    const store = fakeStore({ status: 'reconnecting', lastHeardAt: Date.now() });
    let calls = 0;
    const off = joinedLine(store, 'ws://x/').subscribe(() => (calls += 1));
    const t0 = Date.now();
    while (calls < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    off();
    expect(calls).toBeGreaterThanOrEqual(2);
    const at = calls;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(calls).toBe(at);
  });

  it('connected: "● connected · last update …" first', () => {
    const store = fakeStore({ lastHeardAt: 5_000 });
    expect(joinedLine(store, 'ws://127.0.0.1:7420/', () => 6_000).line().text).toBe('● connected · last update 1s ago · Ana Ortiz (sre) · ws://127.0.0.1:7420/');
  });
});
