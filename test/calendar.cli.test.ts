// The built CLI (dist/canary.mjs): `--start-at` puts the embedded world on a chosen day (a bad
// value is a usage error, exit 2, saying what is expected), so the CTO rule shows up on Christmas;
// the reports the run produced are beside its journal, and `canary report --kind|--name`
// regenerates one from the journal. The runs go at half the headless default speed: on a loaded
// machine the simulated world can fall 10 simulated minutes behind its clock at 36000 (16 ms of
// real time) and a healthy run then ends with exit 5 (no data), which is not what these test.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const plan = join(root, 'config', 'maestro-conductor-rc.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'canary-cal-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function canary(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env: { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), CANARY_SLACK_WEBHOOK_URL: '' }, timeout: 120_000, maxBuffer: 64 << 20 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

// The three are separate processes with separate files: they run at once.
describe.concurrent('--start-at', () => {
  it('a value that is not a date-time, or not a day of the calendar, is a usage error (exit 2) that says what is expected', async ({ expect }) => {
    for (const [value, why] of [
      ['friday', '"friday" is not a date-time'],
      ['2026-02-30T09:00', '2026-02-30 is not a day of the calendar'],
    ] as const) {
      const r = await canary(['run', '--headless', '--start-at', value]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`option '--start-at <date-time>' argument '${value}' is invalid. `);
      expect(r.err).toContain(why);
      expect(r.err).toContain("expected an ISO date-time such as 2026-12-25T09:00 (in the plan's metadata.timezone)");
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const real = await canary(['run', '--headless', '--start-at', '2026-12-25T09:00', '--prometheus', 'http://127.0.0.1:9']);
    expect(real.code).toBe(2);
    expect(real.err).toContain("--start-at sets the embedded world's clock; with --prometheus the clock is real time");
  }, 60_000);

  // 15:00 New York: the crew ticks the pre-deployment checklist for about 1h25m, so the 1% gate
  // opens before the 17:00 engineering summary is due.
  it('headless lines name a report as it is produced and where it went (no journal: said as not produced, with why)', async ({ expect }) => {
    const r = await canary(['run', '--headless', '--scenario', 'healthy', '--until', 'canary-5', '--pods-per-region', '1', '--speed', '18000', '--no-journal', '--start-at', '2026-11-30T15:00']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/effect #\d+: produce daily report eng-daily \(Engineering\), send to slack-eng/);
    expect(r.out).toContain('daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5 NOT produced: no report directory for this run: reports are written beside a local journal (--no-journal, or a driver in the cluster, keeps none)');
  }, 60_000);

  it("Mon 21 Dec 09:00 New York: the gate into 25% comes up on Christmas, the CTO is asked for and the journal says why; the run's reports are beside its journal", async ({ expect }) => {
    const journal = join(tmp, 'xmas.jsonl');
    const r = await canary(['run', '--headless', '--json', '--scenario', 'healthy', '--start-at', '2026-12-21T09:00', '--until', 'canary-25', '--pods-per-region', '1', '--speed', '18000', '--journal', journal, '--plan', plan]);
    expect(r.code, `${r.err}${r.out.slice(-400)}`).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const texts = lines.map((l) => JSON.stringify(l));
    // The clock started where it was told (09:00 New York is 14:00 UTC): the journal's first line.
    const opened = (JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]!) as { at: number }).at;
    expect(opened - Date.parse('2026-12-21T14:00:00Z')).toBeGreaterThanOrEqual(0);
    expect(opened - Date.parse('2026-12-21T14:00:00Z')).toBeLessThan(5 * 60_000);
    expect(lines.at(-1)).toMatchObject({ type: 'exit', code: 0 });
    expect(texts.some((t) => t.includes('calendar: Fri 2026-12-25 is a plan holiday (America/New_York): approval now also needed from CTO for the gate into Canary 25%: expanded rollout'))).toBe(true);
    expect(texts.some((t) => t.includes('approved Canary 25%: expanded rollout as CTO (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))'))).toBe(true);
    // The status of the journal names the calendar too (the next gate, into the full rollout, always needs the CTO).
    const status = await canary(['status', '--journal', journal, '--plan', plan, '-o', 'json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.out);
    expect(s.phase).toBe('canary-25');
    // Reports: the executive one-pagers of the canary phases, each a file beside the journal.
    const dir = join(tmp, 'xmas-reports');
    const files = readdirSync(dir).sort();
    expect(files).toContain('exec-daily-2026-12-23-0900.md');
    expect(files).toContain('eng-daily-2026-12-21-1700.md');
    // canary report --name regenerates each, byte for byte.
    for (const f of ['exec-daily-2026-12-24-0900.md']) {
      const [name, date] = [f.replace(/-2026.*/, ''), f.replace(/^.*-(2026-\d\d-\d\d)-(\d\d)(\d\d)\.md$/, '$1T$2:$3')];
      const again = await canary(['report', journal, '--plan', plan, '--name', name, '--at', date]);
      expect(again.code, again.err).toBe(0);
      expect(again.out).toBe(readFileSync(join(dir, f), 'utf8'));
    }
    const daily = await canary(['report', journal, '--plan', plan, '--kind', 'daily']);
    expect(daily.code).toBe(0);
    expect(daily.out).toMatch(/^# Daily one-pager: Maestro Conductor vNext rc\n/);
    // The Christmas one-pager says why the CTO was needed that day.
    expect(readFileSync(join(dir, 'exec-daily-2026-12-25-0900.md'), 'utf8')).toContain('CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York)');
    const weekly = await canary(['report', journal, '--plan', plan, '--kind', 'weekly']);
    expect(weekly.code).toBe(0);
    expect(weekly.out).toContain('_No weekly report product-weekly was due in this journal: rendered as of its last entry._');
    const none = await canary(['report', journal, '--plan', plan, '--name', 'board-monthly']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('no report "board-monthly" in the plan; it has: exec-daily (daily), eng-daily (daily), product-weekly (weekly)');
  }, 180_000);
});
