// Issue 16 item 4: `canary run --headless` always ends. No data past the plan's noDataAfter is
// exit 5 (or 4 when the plan says hold), and there are no empty `verdict:` lines.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-trust-headless-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state') };
    delete env.CI;
    const child = spawn(process.execPath, [cli, 'run', '--headless', ...args], { cwd: tmp, env });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit after ${timeoutMs} ms (the run hangs); output:\n${out.slice(-2000)}\n${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('issue 16 item 4: a headless run always ends', () => {
  it('--scenario no-traffic: exit 5 once the SLIs the gate needs have had no data past noDataAfter, naming them', async () => {
    const r = await run(['--scenario', 'no-traffic']);
    expect(r.code).toBe(5);
    const last = r.out.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^exit 5: no data past noDataAfter 10m: availability \(stable fleet\) for \d+m/);
  });

  it("--scenario no-traffic with the plan's analysis.onNoData: hold: exit 4, held", async () => {
    const plan = join(tmp, 'hold.yaml');
    writeFileSync(plan, readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8').replace('noDataAfter: 10m', 'noDataAfter: 10m\n  onNoData: hold'));
    const r = await run(['--plan', plan, '--scenario', 'no-traffic']);
    expect(r.code).toBe(4);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/^exit 4: held: no data past noDataAfter 10m: .*analysis\.onNoData is hold/);
  });

  it('--timeout bounds any run: a slow run (real time at --speed 60) ends with exit 124 and says where it was', async () => {
    const t0 = Date.now();
    const r = await run(['--scenario', 'healthy', '--speed', '60', '--timeout', '2s'], 30_000);
    expect(r.code).toBe(124);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/^exit 124: --timeout 2s passed; rollout \w+ at \d+%/);
  });

  it('--timeout with something that is not a duration: a usage error (exit 2) that says what is expected', async () => {
    const r = await run(['--timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--timeout soon: expected a duration such as 90s, 10m or 2h');
  });

  it('no empty verdict lines: a phase change (criteria not judged yet) prints none', async () => {
    const r = await run(['--scenario', 'healthy', '--until', 'canary-5']);
    expect(r.code).toBe(0);
    const verdicts = r.out.split('\n').filter((l) => / verdict:/.test(l));
    expect(verdicts.length).toBeGreaterThan(1);
    for (const v of verdicts) expect(v).toMatch(/ verdict: (no criteria yet; judgment|\w+ (pass|fail|no-data))/);
  });
});
