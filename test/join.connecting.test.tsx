// `canary join` to a port nobody serves (review: a blank screen for 50 s and more, on which q did
// nothing). The attempt is on screen at once (where, which attempt, the last error, when it gives
// up), q and ctrl-c leave, and the FIRST connection gives up after a bounded time saying what was
// tried; once connected, reconnects go on as before (test/warroom.test.tsx).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { Connecting } from '../components/Connecting.js';
import { LeftError, RemoteStore } from '../src/warroom/client.js';
import { tmux, waitFor } from './helpers/tmux.js';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the console test (apt-get install -y tmux); CI must install it');
const stateDir = mkdtempSync(join(tmpdir(), 'canary-join-e2e-'));

/** A loopback port that was free a moment ago and that nobody listens on now. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const stores: RemoteStore[] = [];
afterEach(() => {
  cleanup();
  for (const s of stores.splice(0)) s.close();
});

async function until(ok: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the first connection', () => {
  it('gives up after its bound, saying how many attempts and the last error', async () => {
    const port = await closedPort();
    const store = new RemoteStore({ url: `ws://127.0.0.1:${port}/`, token: 't', firstConnectMs: 1_500 });
    stores.push(store);
    const started = store.start();
    // the first attempt is under way at once
    expect(store.connecting()).toMatchObject({ url: `ws://127.0.0.1:${port}/`, attempt: 1 });
    const err = await started.then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`ws://127\\.0\\.0\\.1:${port}/: could not connect within 2 s \\(\\d+ attempts; the last: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
    expect(store.status).toBe('closed');
    expect(store.connecting().attempt).toBeGreaterThan(1);
  });

  it('close() while it is being made rejects start() at once (the person left)', async () => {
    const port = await closedPort();
    const store = new RemoteStore({ url: `ws://127.0.0.1:${port}/`, token: 't', firstConnectMs: 60_000 });
    stores.push(store);
    const started = store.start();
    await until(() => store.connecting().lastError !== null, 'the first error');
    store.close();
    await expect(started).rejects.toBeInstanceOf(LeftError);
  });

  it('is shown at once, then with the last error and the time left; q leaves', async () => {
    const port = await closedPort();
    const store = new RemoteStore({ url: `ws://127.0.0.1:${port}/`, token: 't', firstConnectMs: 60_000 });
    stores.push(store);
    store.start().catch(() => undefined);
    const onLeave = vi.fn();
    const r = render(<Connecting source={store} onLeave={onLeave} />);
    const frame = () => stripVTControlCharacters(r.lastFrame() ?? '').replace(/\n/g, '');
    expect(frame()).toContain(`connecting to ws://127.0.0.1:${port}/ (attempt 1`);
    expect(frame()).toContain('q or ctrl-c leaves');
    await until(() => /attempt [2-9], last error: connect ECONNREFUSED/.test(frame()), 'a later attempt with its error');
    expect(frame()).toMatch(/gives up in \d+[ms]/);
    r.stdin.write('q');
    await until(() => onLeave.mock.calls.length > 0, 'q');
    expect(onLeave).toHaveBeenCalledWith('q');
  });
});

describe.skipIf(!hasTmux)('canary join <a closed port> in a real terminal', () => {
  const sessions: string[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', s]);
  });

  it('shows the attempt at once; q leaves (exit 0) with one line that says so', async () => {
    const port = await closedPort();
    const s = `canary-join-${process.pid}`;
    sessions.push(s);
    tmux('new-session', '-d', '-s', s, '-x', '80', '-y', '24', `cd ${root} && env -u CI NO_COLOR=1 XDG_STATE_HOME=${stateDir} CANARY_TOKEN=cnry_x node dist/canary.mjs join ws://127.0.0.1:${port}/; echo "EXIT=$?"; sleep 30`);
    await waitFor(s, (x) => x.includes(`connecting to ws://127.0.0.1:${port}/ (attempt`), 'the connection being made', 10_000);
    tmux('send-keys', '-t', s, 'q');
    const bye = await waitFor(s, (x) => /EXIT=\d+/.test(x), 'the exit', 10_000);
    expect(bye).toContain(`canary: left before joining ws://127.0.0.1:${port}/`);
    expect(bye).toContain('EXIT=0');
  }, 30_000);
});
