// The first README command, in a real terminal: tmux runs the built CLI on the embedded world,
// and we read the screen a person would see. Needs tmux (CI installs it); under CI=true a missing
// tmux fails the test, it is never skipped.
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
const stateDir = mkdtempSync(join(tmpdir(), 'canary-e2e-state-'));
function launch(cols: number, rows: number, args = ''): string {
  const name = `canary-e2e-${process.pid}-${sessions.length}`;
  sessions.push(name);
  const env = `env -u CI NO_COLOR=1 XDG_STATE_HOME=${stateDir}`;
  tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), `cd ${root} && ${env} node dist/canary.mjs start ${args}; echo EXITED $?; sleep 30`);
  return name;
}

describe.skipIf(!hasTmux)('the console in a real terminal (tmux)', () => {
  // dist/canary.mjs is built once for the whole run by test/global-setup.ts.
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['kill-session', '-t', s]);
  });

  it('at 120x40 fills all four panes with live data, then R y rolls back and q leaves', async () => {
    const s = launch(120, 40);
    const t0 = Date.now();
    const first = await waitFor(s, (x) => /Phases/.test(x) && /SLIs/.test(x) && /Pods/.test(x) && /Roster/.test(x) && /orchestrator-/.test(x) && /[▁▂▃▄▅▆▇█]/.test(x));
    expect(first).toMatch(/Ana Ortiz|Ben Okafor|Chloe Lindqvist/); // the primary SRE on call
    // Reported, not asserted (timings belong in benchmarks): how long until every pane had data.
    console.log(`console e2e: all four panes filled with live data ${Date.now() - t0} ms after launch`);
    expect(first).toMatch(/1%/);
    const lines = first.replace(/\n+$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    // Wait until traffic is on the canary, then roll back with two keystrokes.
    await waitFor(s, (x) => /RUNNING/.test(x));
    tmux('send-keys', '-t', s, 'R');
    await waitFor(s, (x) => /ROLL BACK/.test(x));
    tmux('send-keys', '-t', s, 'y');
    const after = await waitFor(s, (x) => /ROLLED BACK/.test(x));
    expect(after).toMatch(/manual rollback by/);
    tmux('send-keys', '-t', s, 'q');
    const bye = await waitFor(s, (x) => /EXITED 0/.test(x));
    expect(bye).toMatch(/rollout rolled-back at 0%/);
  }, 60_000);

  it('at 80x24 shows all four panes without overflowing', async () => {
    const s = launch(80, 24, '--scenario healthy');
    const first = await waitFor(s, (x) => /Phases/.test(x) && /SLIs/.test(x) && /Pods/.test(x) && /Roster/.test(x) && /orchestrator-/.test(x));
    const lines = first.replace(/\n+$/, '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    // The top line is still the top of the console: nothing scrolled off.
    expect(lines.slice(0, 3).join('\n')).toMatch(/Phases|canary/i);
  }, 60_000);
});
