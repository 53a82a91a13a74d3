// The demo, in a real terminal: the built CLI on the embedded world serves the simulated service on
// 127.0.0.1; `l`, enter, `y` starts a load test from the plan; the load pane appears with live
// figures; the canary's request rate in the SLI pane rises above the baseline's (the load goes to
// the canary only here: /canary/...); `x` stops it. Needs tmux (CI installs it); under CI=true a
// missing tmux fails, it is never skipped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmux, waitFor as waitForScreen } from './helpers/tmux.js';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the console test (apt-get install -y tmux); CI must install it');

const work = mkdtempSync(join(tmpdir(), 'canary-load-e2e-'));
const session = `canary-load-e2e-${process.pid}`;
const waitFor = (ok: (s: string) => boolean, what: string) => waitForScreen(session, ok, what);
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Canary and baseline requests per second from the SLI pane's "Requests/s" row. */
function rates(s: string): { canary: number; baseline: number } | null {
  const m = /Requests\/s\s+\S+\s+([\d.]+k?)\/s\s+\S+\s+([\d.]+k?)\/s/.exec(s);
  if (!m) return null;
  const num = (x: string) => (x.endsWith('k') ? Number(x.slice(0, -1)) * 1000 : Number(x));
  return { canary: num(m[1]!), baseline: num(m[2]!) };
}

afterAll(() => {
  spawnSync('tmux', ['kill-session', '-t', session]);
});

describe.skipIf(!hasTmux)('a load test from the console (tmux)', () => {
  it('l, enter, y: the load pane appears, the canary request rate rises, x stops it and the result is saved', async () => {
    const port = await freePort();
    // The seed plan, with api-smoke allowed from the first phase, aimed at the canary only, at a
    // fixed 4 requests a second (so the canary's 1% share visibly grows and nothing trips).
    const text = readFileSync(join(root, 'config/maestro-conductor-rc.yaml'), 'utf8').replace(
      /  - name: api-smoke\n    phase: \[canary-5, canary-25\]\n    engine: autocannon\n    target: http:\/\/127\.0\.0\.1:8080\/v1\/workflows\n    duration: 30s\n    connections: 50\n/,
      `  - name: api-smoke\n    phase: [canary-1, canary-25]\n    engine: autocannon\n    target: http://127.0.0.1:${port}/canary/v1/workflows\n    duration: 60s\n    connections: 2\n    rate: 4\n`,
    );
    expect(text).toContain(`http://127.0.0.1:${port}/canary/v1/workflows`);
    const plan = join(work, 'plan.yaml');
    writeFileSync(plan, text);
    const state = join(work, 'state');
    const env = `env -u CI NO_COLOR=1 XDG_STATE_HOME=${state}`;
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `cd ${root} && ${env} node dist/canary.mjs start --scenario healthy --speed 600 --plan ${plan} --sim-http 127.0.0.1:${port}; echo EXITED $?; sleep 30`);

    const before = await waitFor((s) => /RUNNING/.test(s) && rates(s) !== null && rates(s)!.canary > 0, 'a running rollout with request rates');
    const r0 = rates(before)!;
    // Both tracks get the same traffic on their own.
    expect(r0.canary).toBe(r0.baseline);

    tmux('send-keys', '-t', session, 'l');
    await waitFor((s) => s.includes('api-smoke: autocannon, 60s, 2 conn, 4/s'), 'the picker');
    tmux('send-keys', '-t', session, 'Enter');
    await waitFor((s) => s.includes('Start load test api-smoke') && s.includes(`Target: GET http://127.0.0.1:${port}/canary/v1/workflows`), 'the confirmation');
    tmux('send-keys', '-t', session, 'y');
    const running = await waitFor((s) => /Load api-smoke/.test(s) && /req\/s\s+\d/.test(s) && /\d+s left/.test(s), 'the load pane with figures');
    // How to stop it is on screen: the load pane says so (the status bar's hint can be displaced by a
    // message for a moment, since a long message takes the hints' line).
    expect(running).toMatch(/x or esc stops it|x(\/esc)? stop load/);
    // The load reaches the canary: its request rate climbs above the baseline's.
    const during = await waitFor((s) => {
      const r = rates(s);
      return r !== null && r.canary >= r.baseline + 2;
    }, 'the canary request rate above the baseline');
    console.log(`load e2e: Requests/s before ${r0.canary}/${r0.baseline}, during ${rates(during)!.canary}/${rates(during)!.baseline} (canary/baseline)`);

    tmux('send-keys', '-t', session, 'x');
    const stopped = await waitFor((s) => s.includes('✗ FAIL stopped'), 'the stopped result');
    expect(stopped).toMatch(/stopped after \d+\.\d s of 60s/);
    const files = readdirSync(join(state, 'canary', 'loadtests'));
    expect(files.filter((f) => f.includes('api-smoke') && f.endsWith('.json'))).toHaveLength(1);

    tmux('send-keys', '-t', session, '?');
    const help = await waitFor((s) => s.includes('load test: pick, y starts, watch'), 'the help');
    expect(help).toContain('stop the load test (esc too)');
  }, 90_000);
});
