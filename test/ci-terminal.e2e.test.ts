// CI=true in a shell a person uses (a build agent's interactive shell, a devcontainer): Ink 6.8 reads
// CI once, when it loads (is-in-ci), and then writes no frame before exit, and chalk draws no
// colour; the console was a blank screen. With a terminal on stdout canary hides CI from them
// (src/env.ts applyToProcess), so the console draws as in any terminal. Piped, it keeps CI's
// behaviour: the last frame once, at exit, with no cursor movement. These tests run with CI=true on
// purpose (the other tmux tests unset it). Needs tmux; under CI=true a missing tmux fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the console test (apt-get install -y tmux); CI must install it');

const work = mkdtempSync(join(tmpdir(), 'canary-ci-terminal-'));
const sessions: string[] = [];
let launched = 0;
// A tmux server of its own (-L): other tests' sessions (and their server ending) never touch it.
const SOCKET = `canary-ci-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
// A session that outlives the tests' own, so the server never exits (and restarts) between tests.
beforeAll(() => {
  if (hasTmux) tmux('new-session', '-d', '-s', 'keep', 'sleep 600');
});
afterAll(() => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  rmSync(work, { recursive: true, force: true });
});

/** Polls the session's screen until `ok`; throws with `what` and the last screen seen. */
async function waitFor(session: string, ok: (s: string) => boolean, what: string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    try {
      last = tmux('capture-pane', '-p', '-t', session);
    } catch {
      break; // the session ended
    }
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the screen never showed ${what}; last screen:\n${last}`);
}

/** A tmux session running `canary start` with CI=true (and CONTINUOUS_INTEGRATION=1); `redirect`
 * sends stdout elsewhere (stdin stays the terminal, as a console needs). */
function launch(redirect = ''): string {
  const name = `canary-ci-${process.pid}-${launched++}`;
  sessions.push(name);
  const env = `env -u NO_COLOR CI=true CONTINUOUS_INTEGRATION=1 XDG_STATE_HOME=${work}/${name}`;
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '40', `cd ${root} && ${env} node dist/canary.mjs start ${redirect}; echo EXITED $?; sleep 30`);
  return name;
}

/** Lines in the session's journal so far (the embedded world records a sample a simulated minute). */
function journalLines(session: string): number {
  const dir = join(work, session, 'canary');
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.jsonl')) : undefined;
  return file ? readFileSync(join(dir, file), 'utf8').split('\n').length - 1 : 0;
}

/** Ink reads keys (the terminal is out of canonical mode). */
function readingKeys(session: string): boolean {
  const tty = spawnSync('tmux', ['-L', SOCKET, 'display', '-p', '-t', session, '#{pane_tty}'], { encoding: 'utf8' }).stdout.trim();
  return tty !== '' && /(^|\s)-icanon\b/.test(spawnSync('stty', ['-a', '-F', tty], { encoding: 'utf8' }).stdout);
}

async function fileShows(file: string, ok: (s: string) => boolean, what: string): Promise<string> {
  const end = Date.now() + 30_000;
  let last = '';
  while (Date.now() < end) {
    last = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${file} never showed ${what}; it held:\n${last.slice(-2000)}`);
}

describe.skipIf(!hasTmux)('CI=true in a terminal (tmux)', () => {
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
  });

  it('the console draws its four panes, in colour, and redraws on keys', async () => {
    const s = launch();
    const first = await waitFor(s, (x) => /Phases/.test(x) && /SLIs/.test(x) && /Pods/.test(x) && /Roster/.test(x) && /orchestrator-/.test(x), 'the four panes under CI=true');
    expect(first.replace(/\n+$/, '').split('\n').length).toBeLessThanOrEqual(40);
    // Colour as in any terminal (chalk sees no CI either): the pane titles' SGR colour codes.
    expect(tmux('capture-pane', '-e', '-p', '-t', s)).toMatch(/\x1b\[3[0-9]m/);
    // Frames keep coming (not only the last one at exit): the help overlay opens on a key.
    tmux('send-keys', '-t', s, '?');
    await waitFor(s, (x) => /Keys 1-/.test(x) && /this help/.test(x), 'the help overlay');
    tmux('send-keys', '-t', s, 'Escape');
    await waitFor(s, (x) => !/Keys 1-/.test(x) && /Phases/.test(x) && /Roster/.test(x), 'the panes again after esc');
  }, 60_000);

  it('piped, CI keeps Ink to one frame at exit: no cursor movement in the output', async () => {
    const out = join(work, 'piped.txt');
    const s = launch(`> ${out}`);
    // stdout is the file, and in CI mode nothing is written before exit: wait until Ink reads keys
    // and then until the world has moved on 20 samples (changes Ink would have drawn frames of,
    // were it not in CI mode), then quit.
    const end = Date.now() + 30_000;
    const tick = () => new Promise((r) => setTimeout(r, 100));
    while (Date.now() < end && !readingKeys(s)) await tick();
    expect(readingKeys(s), `Ink never read keys; the screen:\n${tmux('capture-pane', '-p', '-t', s)}`).toBe(true);
    const mounted = journalLines(s);
    while (Date.now() < end && journalLines(s) < mounted + 20) await tick();
    expect(journalLines(s)).toBeGreaterThanOrEqual(mounted + 20);
    // q, and y when it asks (quitting a running rollout asks).
    tmux('send-keys', '-t', s, 'q');
    let left = '';
    while (Date.now() < end && !/EXITED/.test(left)) {
      await new Promise((r) => setTimeout(r, 200));
      left = tmux('capture-pane', '-p', '-t', s);
      if (!/EXITED/.test(left)) tmux('send-keys', '-t', s, 'y');
    }
    expect(left).toMatch(/EXITED 0/);
    const text = await fileShows(out, (x) => /left the console/.test(x), 'the line after the console');
    expect(text.match(/Phases/g)?.length).toBe(1);
    expect(text).not.toMatch(/\x1b\[(2K|1A|\?1049h)/);
  }, 60_000);
});
