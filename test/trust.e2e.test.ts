// Issue 16 item 12 in a real terminal (tmux): after q, the exit message keeps its own line (a
// final newline), so the journal path it promises is not overwritten by the shell's prompt.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tmux, waitFor } from './helpers/tmux.js';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the console test (apt-get install -y tmux); CI must install it');
const sessions: string[] = [];
const stateDir = mkdtempSync(join(tmpdir(), 'canary-trust-e2e-'));

describe.skipIf(!hasTmux)('issue 16 item 12: the exit message survives the prompt', () => {
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', s]);
  });

  it('q then y: "left the console ... journal <path>" ends with a newline; what the shell prints next starts a new line', async () => {
    const s = `canary-trust-${process.pid}`;
    sessions.push(s);
    // printf instead of a prompt: it prints right where the cursor is, as a prompt would
    tmux('new-session', '-d', '-s', s, '-x', '200', '-y', '30', `cd ${root} && env -u CI NO_COLOR=1 XDG_STATE_HOME=${stateDir} node dist/canary.mjs start --sim-http off; printf 'PROMPT$ '; sleep 30`);
    await waitFor(s, (x) => /RUNNING|PENDING/.test(x), 'the console');
    tmux('send-keys', '-t', s, 'q');
    // a rollout in progress asks first; a pending one leaves at once
    const seen = await waitFor(s, (x) => /Quit|PROMPT\$/.test(x), 'the quit dialog or the prompt');
    if (!/PROMPT\$/.test(seen)) tmux('send-keys', '-t', s, 'y');
    const bye = await waitFor(s, (x) => /PROMPT\$/.test(x), 'the prompt after the exit');
    const lines = bye.split('\n');
    const msg = lines.findIndex((l) => l.includes('canary: left the console'));
    expect(msg).toBeGreaterThanOrEqual(0);
    expect(lines[msg]).toMatch(/journal \S+\.jsonl$/);
    expect(lines[msg + 1]).toMatch(/^PROMPT\$/);
  }, 60_000);
});
