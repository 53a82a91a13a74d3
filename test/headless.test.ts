// `canary run --headless` as a pipeline runs it: the built binary, its output lines and its exit
// code, one scenario built for each exit code. Every test is its own process with its own files
// and mostly waits for the simulated clock, so they run at once (describe.concurrent).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-headless-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  lines: Record<string, unknown>[];
}

function run(args: string[], opts: { onLine?: (line: Record<string, unknown>, kill: (s: NodeJS.Signals) => void) => void; timeoutMs?: number; stateHome?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // A state home of its own: runs at the same time would otherwise share the default journal's
    // directory (its name is the start time, to the millisecond).
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: opts.stateHome ?? mkdtempSync(join(tmp, 'state-')) };
    delete env.CI;
    const child = spawn(process.execPath, [cli, 'run', '--headless', ...args], { cwd: tmp, env });
    let out = '';
    let err = '';
    let buf = '';
    const lines: Record<string, unknown>[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit after ${opts.timeoutMs ?? 60_000} ms; output:\n${out.slice(-3000)}\n${err}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!args.includes('--json')) continue;
        const obj = JSON.parse(text) as Record<string, unknown>; // every --json line parses
        lines.push(obj);
        opts.onLine?.(obj, (s) => child.kill(s));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, lines });
    });
  });
}

const exitLine = (r: Run) => r.lines.find((l) => l.type === 'exit') as { code: number; reason: string; status: string; weight: number; appliedWeight: number };

describe.concurrent('canary run --headless', { timeout: 90_000 }, () => {
  it('--until canary-5 on a healthy canary: exit 0 once 5% is applied; JSON lines carry verdicts with explanations', async ({ expect }) => {
    const r = await run(['--json', '--scenario', 'healthy', '--until', 'canary-5']);
    expect(r.code).toBe(0);
    expect(exitLine(r)).toMatchObject({ code: 0, status: 'running', weight: 5, appliedWeight: 5 });
    const verdict = r.lines.find((l) => l.type === 'verdict' && (l.judgment as { verdict: string } | null)?.verdict === 'pass') as { criteria: { sli: string; verdict: string }[]; judgment: { reason: string; metrics: { explanation: string }[] } };
    expect(verdict.criteria.map((c) => c.sli)).toContain('latency_p95');
    expect(verdict.judgment.reason).toMatch(/score 100 reaches the pass threshold 95/);
    expect(verdict.judgment.metrics[0]!.explanation).toMatch(/canary median .* vs baseline .*p[=<]/);
    const effects = r.lines.filter((l) => l.type === 'effect').map((l) => (l.effect as { type: string }).type);
    expect(effects).toContain('set-weight');
    expect(r.lines.filter((l) => l.type === 'state').map((l) => l.phase)).toEqual(expect.arrayContaining(['canary-1', 'canary-5']));
  });

  it('a regression rolls back: exit 3, and the last line names the rule, the value and the threshold', async ({ expect }) => {
    const r = await run([]);
    expect(r.code).toBe(3);
    const last = r.out.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^exit 3: rolled back from 25%: circuit breaker: p95 degradation vs baseline \(latency_degradation\): canary Latency p95 \d+ms >= 3x baseline \d+ms = \d+ms/);
  });

  it('nobody to approve (--no-crew): exit 4, held waiting for a person, with who is missing', async ({ expect }) => {
    const r = await run(['--json', '--no-crew']);
    expect(r.code).toBe(4);
    // Nobody ticks the pre-deployment checklist either: every item is named.
    expect(exitLine(r).reason).toMatch(/^held waiting for a person: approval from Engineering Lead missing; approval from SRE Lead missing; checklist "Pre-deployment: Infrastructure Readiness": 6 of 6 not ticked: All production environments provisioned and validated; /);
    expect(exitLine(r).reason).toContain('checklist "Pre-deployment: Security & Compliance": 6 of 6 not ticked:');
  });

  it('a bad plan: exit 1 with file:line:col', async ({ expect }) => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8').replace('weight: 25, bake', 'weight: 125, bake'));
    const r = await run(['--plan', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: phases\\[2\\]\\.steps\\[0\\]\\.weight: a traffic weight is a percentage: 0 to 100`));
  });

  it('Prometheus unreachable for longer than noDataAfter: exit 5 with the error', async ({ expect }) => {
    const plan = join(tmp, 'fast-nodata.yaml');
    writeFileSync(plan, readFileSync(join(root, 'config', 'maestro-conductor-rc.yaml'), 'utf8').replace('noDataAfter: 10m', 'noDataAfter: 3s').replace('staleAfter: 3m', 'staleAfter: 2s'));
    const r = await run(['--json', '--plan', plan, '--prometheus', 'http://127.0.0.1:1'], { timeoutMs: 30_000 });
    expect(r.code).toBe(5);
    expect(exitLine(r).reason).toMatch(/source prometheus: .*cannot reach 127\.0\.0\.1:1: connection refused.* unavailable for more than 3s/);
  });

  it('SIGTERM in the middle: exit 130, and every weight change handed out is confirmed (nothing half-applied)', async ({ expect }) => {
    let sent = false;
    const r = await run(['--json', '--scenario', 'healthy'], {
      onLine: (line, kill) => {
        // Right after a traffic change has been handed to the actuator, before its result.
        if (!sent && line.type === 'effect' && (line.effect as { type: string; weight?: number }).type === 'set-weight' && (line.effect as { weight: number }).weight === 5) {
          sent = true;
          kill('SIGTERM');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const exit = exitLine(r);
    expect(exit.reason).toMatch(/^stopped by SIGTERM/);
    expect(exit.reason).not.toMatch(/unconfirmed/);
    expect(exit.appliedWeight).toBe(exit.weight);
    const ids = r.lines.filter((l) => l.type === 'effect' && ['set-weight', 'rollback'].includes((l.effect as { type: string }).type)).map((l) => (l.effect as { id: number }).id);
    for (const id of ids) expect(r.lines.some((l) => l.type === 'event' && String(l.text).startsWith(`set-weight #${id} confirmed`))).toBe(true);
  });
});

describe.concurrent('machine output agrees with itself (issue 15 item 12)', () => {
  const cmd = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state') };
      delete env.CI;
      const child = spawn(process.execPath, [cli, ...args], { cwd: tmp, env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });

  it('--json prints the first gate and its set-weight; state lines, effects and status --json number steps alike; the journal is in time order', async ({ expect }) => {
    const journal = join(tmp, 'order.jsonl');
    const r = await run(['--json', '--scenario', 'healthy', '--until', 'canary-5', '--journal', journal]);
    expect(r.code).toBe(0);
    const texts = r.lines.map((l) => `${String(l.type)}:${l.type === 'effect' ? (l.effect as { type: string; id: number }).type + '#' + (l.effect as { id: number }).id : String(l.text ?? l.status ?? '')}`);
    const opened = texts.findIndex((t) => /^event:.*opened the gate: Canary 1%/.test(t));
    // Effects are numbered in order; the crew's checklist check (a run-command) may come first.
    const first = texts.findIndex((t) => t.startsWith('effect:set-weight#'));
    const id = texts[first]?.slice('effect:set-weight#'.length);
    const confirmed = texts.findIndex((t) => t.startsWith(`event:set-weight #${id} confirmed`));
    expect(opened).toBeGreaterThanOrEqual(0);
    expect(first).toBeGreaterThan(opened);
    expect(confirmed).toBeGreaterThan(first);
    const sw = r.lines.filter((l) => l.type === 'effect' && (l.effect as { type: string }).type === 'set-weight').map((l) => l.effect as { phase: string; step: number; weight: number });
    expect(sw.slice(0, 2)).toEqual([expect.objectContaining({ phase: 'canary-1', step: 1, weight: 1 }), expect.objectContaining({ phase: 'canary-5', step: 1, weight: 5 })]);
    const lastState = r.lines.filter((l) => l.type === 'state').at(-1) as { phase: string; step: number };
    const status = JSON.parse((await cmd(['status', '--journal', journal, '--json'])).out) as { phase: string; step: number };
    expect([status.phase, status.step]).toEqual([lastState.phase, lastState.step]);
    expect(status.step).toBe(1);
    const ats = readFileSync(journal, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { at: number }).at);
    for (let i = 1; i < ats.length; i++) expect(ats[i]!, `journal line ${i + 1}`).toBeGreaterThanOrEqual(ats[i - 1]!);
  }, 120_000);
});

describe.concurrent('the journal from the command line', () => {
  const journal = join(tmp, 'rollout.jsonl');
  const cmd = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state') };
      delete env.CI;
      const child = spawn(process.execPath, [cli, ...args], { cwd: tmp, env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => resolve({ code, out, err }));
    });

  it('run --journal, then status, audit verify, report; a second run resumes the same chain; an edit is caught', async ({ expect }) => {
    const first = await run(['--scenario', 'healthy', '--until', 'canary-5', '--journal', journal]);
    expect(first.code).toBe(0);
    const status = await cmd(['status', '--journal', journal]);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/Status:\s+RUNNING/);
    expect(status.out).toMatch(/Weight:\s+5%/);
    const verify = await cmd(['audit', 'verify', journal]);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/chain: OK/);
    const head = /head: seq (\d+) ([0-9a-f]{64})/.exec(verify.out)!;

    const second = await run(['--scenario', 'healthy', '--until', 'canary-25', '--journal', journal]);
    expect(second.code).toBe(0);
    expect(second.err).toMatch(/resumed .* at seq \d+: running at 5%/);
    const verify2 = await cmd(['audit', 'verify', journal, '--expect-head', `${head[1]}:${head[2]}`]);
    expect(verify2.code).toBe(0);
    const report = await cmd(['report', journal]);
    expect(report.out).toContain('# Rollout retrospective');
    expect(report.out).toMatch(/approved Canary 25%: expanded rollout as VP Engineering/);

    // Someone edits an approval after the fact.
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"type":"approve"'));
    lines[at] = lines[at]!.replace('Dev Raman', 'Mallory');
    writeFileSync(journal, lines.join('\n'));
    const tampered = await cmd(['audit', 'verify', journal]);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain(`line ${at + 1}`);
  }, 120_000);
});

it.concurrent('by default the journal goes under $XDG_STATE_HOME/canary, a fresh one per simulated run', async ({ expect }) => {
  const r = await run(['--json', '--scenario', 'healthy', '--until', 'canary-1'], { stateHome: join(tmp, 'state-default') });
  expect(r.code).toBe(0);
  const dir = join(tmp, 'state-default', 'canary');
  const files = readdirSync(dir).filter((f) => /^maestro-conductor-vnext-rc-sim-.*\.jsonl$/.test(f));
  expect(files.length).toBeGreaterThanOrEqual(1);
  expect(readFileSync(join(dir, files[0]!), 'utf8').split('\n')[0]).toContain('"type":"journal.open"');
});
