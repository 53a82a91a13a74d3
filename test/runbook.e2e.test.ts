// The runbook in a real terminal: the built CLI on the embedded world under tmux, the reference
// plan as it is. The checklist blocks the 1% gate and the gate names the missing items; `t` ticks;
// `d` `y` runs the deploy step and its output streams into the runbook pane; enter on the canary
// pod follows its log until the crash-looping container's last words; a no-go (`n`, a reason,
// enter) holds the phase; `R` `y` rolls back and the rollback is verified; after 100% the
// post-rollout validation runs against the simulated service and gates "complete". Needs tmux (CI
// installs it); under CI=true a missing tmux fails, it is never skipped.
//
// The three run at once (describe.concurrent): each is its own CLI in its own tmux session, port and
// state directory, and each spends its time waiting for the simulated clock, not computing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tmux, waitFor as waitForScreen } from './helpers/tmux.js';

const root = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the console test (apt-get install -y tmux); CI must install it');

const work = mkdtempSync(join(tmpdir(), 'canary-runbook-e2e-'));
const sessions: string[] = [];
afterAll(() => {
  for (const s of sessions) spawnSync('tmux', ['kill-session', '-t', s]);
});
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
/** The status bar's simulated clock (` · T+6h12m`, ` · T+1d2h`) in minutes; null when not shown. */
function clockMinutes(screen: string): number | null {
  const m = [...screen.matchAll(/· T\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)? /g)].at(-1);
  if (!m || m[0] === '· T+ ') return null;
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
}
async function start(name: string, args: string): Promise<{ session: string; keys: (...k: string[]) => void; waitFor: (ok: (s: string) => boolean, what: string, ms?: number) => Promise<string> }> {
  const session = `canary-runbook-${name}-${process.pid}`;
  sessions.push(session);
  const port = await freePort();
  const env = `env -u CI NO_COLOR=1 XDG_STATE_HOME=${join(work, name)}`;
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `cd ${root} && ${env} node dist/canary.mjs start --no-journal --sim-http 127.0.0.1:${port} ${args}; echo EXITED $?; sleep 30`);
  return {
    session,
    keys: (...k: string[]) => void tmux('send-keys', '-t', session, ...k),
    waitFor: (ok, what, ms = 60_000) => waitForScreen(session, ok, what, ms),
  };
}

describe.skipIf(!hasTmux).concurrent('the runbook from the console (tmux)', { timeout: 300_000 }, () => {
  it('the checklist blocks the 1% gate naming the missing items; t ticks; d y streams the deploy output; enter on the canary pod follows its log to the crash-looping container\'s last words', async ({ expect }) => {
    const t = await start('crash', '--scenario crashloop --speed 60');
    await t.waitFor((s) => s.includes('checklist 0/18') || /checklist \d+\/18/.test(s), 'the checklist line');
    t.keys('a');
    const blocked = await t.waitFor((s) => s.includes('Blocked: checklist "Pre-deployment: Security & Compliance"'), 'the gate blocked by the checklist');
    expect(blocked).toMatch(/Data encryption at rest and\s*║?\s*║?\s*in transit verified|Data encryption at rest and in transit verified/);
    t.keys('Escape');
    // The dialog closed before the next key: ESC and d arriving together read as alt-d.
    await t.waitFor((s) => !s.includes('Blocked: checklist'), 'the advance dialog closed');
    // The deploy step, its values filled in; it sets the canary's weight, so it waits for what the
    // gate waits for, and the dialog says so instead of offering y.
    t.keys('d');
    await t.waitFor((s) => s.includes('Deploy Canary 1%') && s.includes('helm upgrade --install maestro-conductor-rc') && /canary\.weight=1\b/.test(s) && s.includes('Blocked: checklist'), 'the deploy dialog, blocked');
    t.keys('Escape');
    await t.waitFor((s) => !s.includes('Deploy Canary 1%'), 'the deploy dialog closed');
    // Tick every item as the person at this keyboard; the one with a check (Prometheus targets) is
    // ticked by its check (c), never by hand before it ran.
    t.keys('t');
    await t.waitFor((s) => s.includes('Checklist before Canary 1%'), 'the checklist overlay');
    // One key at a time: a burst longer than four characters is a paste, never a command.
    for (let i = 0; i < 18; i++) {
      t.keys('t');
      await new Promise((r) => setTimeout(r, 60));
    }
    await t.waitFor((s) => s.includes('17/18 ticked'), 'every item but the checked one ticked');
    for (let i = 0; i < 11; i++) {
      t.keys('k');
      await new Promise((r) => setTimeout(r, 60));
    }
    t.keys('c');
    await t.waitFor((s) => s.includes('18/18 ticked'), 'the checked item ticked by its check');
    t.keys('Escape');
    await t.waitFor((s) => s.includes('checklist 18/18 ✓') && !s.includes('Checklist before Canary 1%'), 'every item ticked');
    // Focus the pods pane before the canary pod exists: it becomes the marked first row.
    t.keys('Tab');
    await new Promise((r) => setTimeout(r, 100));
    t.keys('Tab');
    await t.waitFor((s) => /Pods .*[▶◆]|▶ Pods|Pods ─/.test(s) && s.includes('>orchestrator-'), 'the pods pane focused, its first row marked');
    await t.waitFor((s) => /[ !✗]>orchestrator-canary/.test(s), 'the canary pod marked in the pods pane', 120_000);
    t.keys('Enter');
    const log = await t.waitFor((s) => s.includes('panic: runtime error: invalid memory address'), "the crash-looping container's last words", 60_000);
    expect(log).toMatch(/FATAL saga coordinator/);
    expect(log).toMatch(/these are its last words/);
    expect(log).toMatch(/Container orchestrator/);
    t.keys('Escape');
    // The crash-looping canary rolls back by itself; the rollback is verified.
    await t.waitFor((s) => s.includes('rolled back, confirmed') && s.includes('validate-rollback.sh exited 0'), 'the rollback verified');
    // Before a restart (the approvers sign again) the first gate's deploy can run: d offers y once
    // it could open, and its output streams into the runbook pane (once the rollback's P0 incident,
    // which takes that place while it pages, is acknowledged).
    t.keys('!');
    await t.waitFor((s) => s.includes('Acknowledge an incident'), 'the acknowledge dialog');
    t.keys('y');
    await t.waitFor((s) => !s.includes('Acknowledge an incident'), 'the incident acknowledged');
    // The clock slowed itself at the rollback: faster again, for the approvers to sign.
    for (let i = 0; i < 8; i++) {
      t.keys('+');
      await new Promise((r) => setTimeout(r, 60));
    }
    t.keys('d');
    await t.waitFor((s) => s.includes('Deploy Canary 1%') && s.includes('Press y to run'), 'the deploy dialog offering y', 120_000);
    t.keys('y');
    await t.waitFor((s) => s.includes('Runbook: deploy') && s.includes('Release "maestro-conductor-rc" has been upg') && s.includes('STATUS: deployed'), 'the deploy output streamed into the pane');
  });

  it('a no-go at hour 6 holds the phase with the reason; R y rolls back and the rollback is verified', async ({ expect }) => {
    // One simulated hour a second to hour 6; the clock slows itself to ×60 while the checkpoint is
    // due, so the crew's go (30 simulated minutes after it came due) is half a minute away.
    const t = await start('nogo', '--scenario healthy --speed 3600');
    await t.waitFor((s) => s.includes('GO? hour 6'), 'the hour-6 checkpoint due', 120_000);
    t.keys('n');
    await t.waitFor((s) => s.includes('NO-GO at hour 6') && s.includes('Reason:'), 'the no-go dialog');
    t.keys('-l', 'saga completion 97 percent in use1');
    t.keys('Enter');
    const held = await t.waitFor((s) => s.includes('hold: no-go at hour 6') && clockMinutes(s) !== null, 'the phase held by the no-go');
    expect(held).toMatch(/GO\? hour 6/);
    // Still held after the crew would have given a go: 35 simulated minutes on the status bar's
    // clock after the no-go, itself after the checkpoint came due.
    const noGoAt = clockMinutes(held)!;
    const still = await t.waitFor((s) => (clockMinutes(s) ?? 0) >= noGoAt + 35, 'the simulated clock 35 minutes past the no-go', 120_000);
    expect(still).toContain('hold: no-go at hour 6');
    expect(still).toContain('GO? hour 6');
    // a shows why the gate stays shut: the no-go, with the person's reason.
    t.keys('a');
    await t.waitFor((s) => s.includes('Blocked: no-go at hour 6') && s.includes('saga completion 97 percent'), 'the no-go and its reason among the blockers');
    t.keys('Escape');
    await t.waitFor((s) => !s.includes('Blocked: no-go at hour 6'), 'the advance dialog closed');
    t.keys('R');
    await t.waitFor((s) => s.includes('ROLL BACK'), 'the rollback dialog');
    t.keys('y');
    const rb = await t.waitFor((s) => s.includes('rolled back, confirmed') && s.includes('validate-rollback.sh exited 0'), 'the rollback verified');
    expect(rb).toContain('ROLLED BACK');
  });

  it('after 100% the post-rollout validation runs against the simulated service, each with its status, and gates completion', async ({ expect }) => {
    const t = await start('full', '--scenario healthy --speed 36000');
    await t.waitFor((s) => s.includes('post-rollout validation'), 'the validation starting at 100%', 180_000);
    const done = await t.waitFor((s) => s.includes('COMPLETED at 100%'), 'the rollout completed', 110_000);
    expect(done).toContain('post-rollout validation 5/5');
    expect(done).toMatch(/✓ npm run test:production-smoke exited 0/);
    expect(done).toMatch(/✓ customer workflow validation exited 0/);
  });
});
