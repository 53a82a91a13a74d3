// `canary declare` end to end (issue 16 item 1): the built binary, spawned as a process, against a
// real `canary serve` process (the console in a pseudo-terminal, its war room on 127.0.0.1 at an
// ephemeral port). A person the plan lets declare a security breach rolls the rollout back, and the
// journal and `canary status` name the person and the reason; a person it does not is refused with a
// clear message and a nonzero exit, and nothing moves.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteStore } from '../src/warroom/client.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'canary.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'canary-declare-e2e-'));
const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), NO_COLOR: '1', TERM: 'xterm-256color' };
delete env.CANARY_TOKEN;
const children: ChildProcess[] = [];
const remotes: RemoteStore[] = [];
afterAll(() => {
  for (const r of remotes) r.close();
  for (const c of children) {
    if (c.exitCode !== null) continue;
    // script's child is canary (exec): end canary itself, then script.
    try {
      const pid = Number(readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim().split(' ')[0]);
      if (pid > 0) process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    c.kill('SIGKILL');
  }
  rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function canary(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: tmp, env: { ...env, ...extra }, timeout: 30_000 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

async function until<T>(get: () => T | null | undefined | false, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('canary declare (the binary) against canary serve (a process)', () => {
  it('an SRE declaring a security breach rolls back, journaled under their name; customer success is refused and nothing moves', async () => {
    // Tokens for an SRE (in the plan's rollback authority), a customer-success person (in neither
    // the authority nor the P0 escalation matrix) and one viewer for the test to watch with.
    const tokenFile = join(tmp, 'tokens.json');
    const issued = await canary(['tokens', '--file', tokenFile, '--person', 'ben', '--person', 'femi', '--viewers', '1']);
    expect(issued.code).toBe(0);
    const tokenOf = (who: RegExp) => issued.out.split('\n').find((l) => who.test(l))?.match(/cnry_\S+/)?.[0];
    const ben = tokenOf(/^Ben Okafor/)!;
    const femi = tokenOf(/^Femi Adeyemi/)!;
    const viewer = tokenOf(/^viewer /)!;
    expect([ben, femi, viewer].every(Boolean)).toBe(true);

    // The serve console needs a terminal: util-linux `script` gives it one (as cli.test.ts does).
    const journal = join(tmp, 'rollout.jsonl');
    const serveArgs = ['serve', '--listen', '127.0.0.1:0', '--tokens', tokenFile, '--journal', journal, '--scenario', 'healthy'];
    const cmd = `stty cols 120 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} ${serveArgs.map((a) => JSON.stringify(a)).join(' ')}`;
    const serveEnv = { ...env };
    delete serveEnv.CI; // Ink prints only the last frame in CI mode
    const serve = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: tmp, env: serveEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(serve);
    let screen = '';
    serve.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
    const url = await until(() => screen.match(/ws:\/\/127\.0\.0\.1:(\d+)\//)?.[0], 'the war room URL on the serve console');
    expect(Number(url.split(':')[2]!.replace('/', ''))).not.toBe(7420);

    // Watch the server's state as a viewer would, until traffic is on the canary.
    const watch = new RemoteStore({ url, token: viewer, timeoutMs: 10_000 });
    remotes.push(watch);
    await watch.start();
    await until(() => watch.getState().status === 'running' && watch.getState().desiredWeight > 0, 'the rollout running on the canary');
    const weight = watch.getState().desiredWeight;

    // Not allowed: refused with the reason, exit 1; no incident, no rollback.
    const refused = await canary(['declare', url, '--kind', 'security_breach', '--summary', 'tokens in the logs'], { CANARY_TOKEN: femi });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('✗ Femi Adeyemi declared security_breach: refused');
    expect(refused.err).toMatch(/the plan lets only .*SRE.* declare security_breach/);
    expect(refused.err).not.toMatch(/^\s+at .+[:(]\d+/m);
    expect(refused.out).toBe('');
    let s = watch.getState();
    expect(s.status).toBe('running');
    expect(s.desiredWeight).toBe(weight);
    expect(s.incidents).toHaveLength(0);
    expect(s.rollback).toBeNull();

    // Allowed: the rollout rolls back at once, under Ben's name, with the kind and the summary.
    const ok = await canary(['declare', url, '--kind', 'security_breach', '--summary', 'tokens in the logs'], { CANARY_TOKEN: ben });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/INC-1 P0 .*opened by Ben Okafor/);
    expect(ok.out).toMatch(new RegExp(`rolled back from ${weight}% by Ben Okafor: immediate rollback: .*security_breach.* declared by Ben Okafor - tokens in the logs`));
    s = await until(() => (watch.getState().status === 'rolled-back' ? watch.getState() : null), 'the rollback on the server');
    expect(s.desiredWeight).toBe(0);
    expect(s.rollback?.by).toBe('Ben Okafor');
    expect(s.incidents.map((i) => i.openedBy)).toEqual(['Ben Okafor']);

    // The journal keeps the reason and the person; `canary status` reads them back from it.
    await until(() => {
      try {
        return /rolled back/i.test(readFileSync(journal, 'utf8')) && readFileSync(journal, 'utf8').includes('tokens in the logs');
      } catch {
        return false;
      }
    }, 'the rollback in the journal');
    const status = await canary(['status', '--journal', journal]);
    expect(status.code, status.err).not.toBe(2);
    expect(status.out).toMatch(/rolled.back/i);
    expect(status.out).toContain('Ben Okafor');
    expect(status.out).toContain('tokens in the logs');
    expect(readFileSync(journal, 'utf8')).not.toContain('declared by Femi');
  }, 90_000);
});
