// Gates that opened on evidence that was not there (review 3, defects 3, 5, 6 and 11's --timeout
// reason), as a pipeline sees them: the built `canary run --headless --json` against a Prometheus
// this test starts on 127.0.0.1 (port 0), answering each SLI query per track as the case says.
// - a canary serving no requests (request_rate 0, ratio SLIs healthy as `or vector(0)` makes them)
//   never passes a gate, and ends like no data (exit 5, the page, the reason);
// - invalid data (NaN) past noDataAfter ends like no data: exit 5, or 4 with onNoData: hold;
// - --timeout at 0% names what the first gate waits for;
// - a plan whose canary label is the stable fleet's or the baseline's is refused before anything runs.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { loadPlanText } from '../src/plan/loader.js';
import { planQueries } from '../src/sources/prometheus-source.js';
import type { Plan } from '../src/plan/schema.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-evidence-headless-'));
const servers: http.Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));
  rmSync(tmp, { recursive: true, force: true });
});

const SEED = readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8');

/** The seed, fast: one analysis a second, noDataAfter 6s, every step baking 2s, no judgment (it
 * needs an hour of samples), no checkpoints in the first phase and no checklist before its gate
 * (the simulated crew only approves). */
function fastPlan(extra: (text: string) => string = (t) => t): { path: string; plan: Plan } {
  let text = SEED.replace('interval: 1m ', 'interval: 1s ').replace('noDataAfter: 10m', 'noDataAfter: 6s').replace('staleAfter: 3m', 'staleAfter: 3s');
  text = text.replace(/\n  judgment:\n(?: {4}.*\n)+/, '\n');
  text = text.replace(/\n {4}checkpoints:\n(?: {6}- \{ at: \d+h,.*\n)+/, '\n');
  text = text.replace('    checklists: [infrastructure, monitoring, security]\n', '');
  text = text.replace(/bake: \{ min: \w+, max: \w+ \}/g, 'bake: { min: 2s, max: 10m }');
  text = extra(text);
  const r = loadPlanText(text, 'fast.yaml');
  if (!r.ok) throw new Error(`the test's plan does not load: ${JSON.stringify(r.errors.slice(0, 3))}`);
  const path = join(mkdtempSync(join(tmp, 'plan-')), 'fast.yaml');
  writeFileSync(path, text);
  return { path, plan: r.plan };
}

const HEALTHY: Record<string, string> = { availability: '99.97', latency_p95: '120', error_rate: '0.02', workflow_success_rate: '99.9', request_rate: '50' };
type Answer = (sli: string, track: string) => string | null | undefined;

/** A Prometheus on 127.0.0.1:0 answering every SLI query of `plan` with `answer(sli, track)` (a
 * number as text; null: an empty answer; undefined: the healthy value, 0 for counters), stamped now. */
async function prometheus(plan: Plan, answer: Answer): Promise<string> {
  const queries = new Map(planQueries(plan).map((q) => [q.promql, q]));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const promql = u.searchParams.get('query') ?? new URLSearchParams(body).get('query') ?? '';
      const q = queries.get(promql);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (u.pathname.endsWith('/query_range') || !q) return res.end(JSON.stringify({ status: 'success', data: { resultType: u.pathname.endsWith('/query_range') ? 'matrix' : 'vector', result: [] } }));
      const given = answer(q.sli, q.track);
      const v = given === undefined ? (HEALTHY[q.sli] ?? '0') : given;
      const result = v === null ? [] : [{ metric: {}, value: [Date.now() / 1000, v] }];
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Run {
  code: number | null;
  err: string;
  lines: Record<string, unknown>[];
}

function run(args: string[], timeoutMs = 80_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: mkdtempSync(join(tmp, 'state-')), XDG_CACHE_HOME: join(tmp, 'cache') };
    delete env.CI;
    const child = spawn(process.execPath, [cli, 'run', '--headless', '--json', '--no-journal', ...args], { cwd: tmp, env });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit after ${timeoutMs} ms; output:\n${out.slice(-3000)}\n${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, err, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) });
    });
  });
}

const exitOf = (r: Run) => r.lines.find((l) => l.type === 'exit') as { code: number; reason: string; status: string; weight: number };
const weights = (r: Run) => r.lines.filter((l) => l.type === 'effect' && (l.effect as { type: string }).type === 'set-weight').map((l) => (l.effect as { weight: number }).weight);
const pages = (r: Run) => r.lines.filter((l) => l.type === 'effect' && (l.effect as { type: string; severity?: string; kind?: string }).type === 'notify' && (l.effect as { severity: string }).severity === 'critical' && (l.effect as { kind?: string }).kind === 'gate').map((l) => (l.effect as { message: string }).message);

describe.concurrent('canary run --headless on evidence that is not there', { timeout: 100_000 }, () => {
  it('a canary that serves no requests (request_rate 0, every ratio SLI healthy) never leaves 1%: exit 5 naming it, after one page', async ({ expect }) => {
    const { path, plan } = fastPlan();
    const url = await prometheus(plan, (sli, track) => (sli === 'request_rate' && track === 'canary' ? '0' : undefined));
    const r = await run(['--plan', path, '--prometheus', url, '--timeout', '60s']);
    expect(weights(r)).toEqual([1]);
    expect(r.code).toBe(5);
    expect(exitOf(r).reason).toMatch(/^no valid data past noDataAfter 6s: request_rate \(canary serves no requests: 0\/s\) for \d+s$/);
    // The holds said so while it waited, and one page went out before the exit.
    const holds = r.lines.filter((l) => l.type === 'state').flatMap((l) => l.holds as string[]);
    expect(holds).toContain('canary serves no requests: 0/s (request_rate)');
    expect(pages(r)).toEqual([expect.stringMatching(/no valid evidence past noDataAfter \(6s\) at 1%: request_rate \(canary serves no requests: 0\/s\) for \d+s/)]);
  });

  it('NaN for every ratio SLI of the canary and the baseline past noDataAfter: exit 5 with the value named, after one page (it held until --timeout before)', async ({ expect }) => {
    const { path, plan } = fastPlan();
    const ratios = new Set(['availability', 'error_rate', 'latency_p95', 'workflow_success_rate']);
    const url = await prometheus(plan, (sli, track) => (track !== 'stable' && ratios.has(sli) ? 'NaN' : undefined));
    const r = await run(['--plan', path, '--prometheus', url, '--timeout', '60s']);
    expect(weights(r)).toEqual([1]);
    expect(r.code).toBe(5);
    // Every SLI with the same reason together.
    expect(exitOf(r).reason).toMatch(/^no valid data past noDataAfter 6s: availability, latency_p95, error_rate, workflow_success_rate \(invalid value NaN: NaN is not a finite number\) for \d+s$/);
    expect(pages(r)).toEqual([expect.stringMatching(/no valid evidence past noDataAfter \(6s\) at 1%: availability, latency_p95, error_rate, workflow_success_rate \(invalid value NaN: NaN is not a finite number\) for \d+s/)]);
  });

  it("the same with the plan's analysis.onNoData: hold: exit 4, held, and why", async ({ expect }) => {
    const { path, plan } = fastPlan((t) => t.replace('noDataAfter: 6s', 'noDataAfter: 6s\n  onNoData: hold'));
    const url = await prometheus(plan, (sli, track) => (track === 'canary' && sli === 'availability' ? '+Inf' : undefined));
    const r = await run(['--plan', path, '--prometheus', url, '--timeout', '60s']);
    expect(r.code).toBe(4);
    expect(exitOf(r).reason).toMatch(/^held: no valid data past noDataAfter 6s: availability \(invalid value \+Inf: \+Inf is not a finite number\) for \d+s \(the plan's analysis\.onNoData is hold\)$/);
  });

  it('--timeout at 0% says what the first gate waits for: the stable fleet\'s invalid answer and the approvals', async ({ expect }) => {
    const { path, plan } = fastPlan((t) => t.replace('noDataAfter: 6s', 'noDataAfter: 10m'));
    const url = await prometheus(plan, (sli, track) => (track === 'stable' && sli === 'availability' ? 'NaN' : undefined));
    const r = await run(['--plan', path, '--prometheus', url, '--no-crew', '--timeout', '6s']);
    expect(r.code).toBe(124);
    const reason = exitOf(r).reason;
    expect(reason).toMatch(/^--timeout 6s passed; rollout pending at 0%, blocked: /);
    expect(reason).toContain('stable availability: invalid value NaN: invalid data: NaN is not a finite number');
    expect(reason).toContain('approval from Engineering Lead missing');
  });

  it('a plan whose canary label is the stable fleet\'s: exit 1 before anything runs, at file:line:col, saying what to do', async ({ expect }) => {
    const path = join(mkdtempSync(join(tmp, 'plan-')), 'same.yaml');
    writeFileSync(path, SEED.replace('tracks: { canary: canary, baseline: baseline }', 'tracks: { canary: stable, baseline: baseline }'));
    const r = await run(['--plan', path, '--scenario', 'healthy']);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([]);
    const line = SEED.split('\n').findIndex((l) => l.includes('tracks: { canary: canary')) + 1;
    expect(r.err).toContain(`${path}:${line}:`);
    expect(r.err).toMatch(/analysis\.tracks\.canary: the canary's label value "stable" is the stable fleet's too \(the track label of target\.selectors\.stable\): .*set analysis\.tracks\.canary to the label value the canary's pods carry/);
  });
});
