// One writer per journal: the lock beside it (`<journal>.lock`) admits exactly one canary, even
// when several take over a stale lock at the same instant, and says whose it is and what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { lockJournal } from '../src/wiring/journal-lock.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canary-lock-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A child process that takes locks when told to (test/helpers/lock-child.ts), with its answers as lines. */
class LockChild {
  readonly p: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private buf = '';
  private stderr = '';
  private exited: Error | null = null;
  private fail: ((e: Error) => void) | null = null;
  constructor(script: string) {
    this.p = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.p.on('exit', (code) => {
      this.exited = new Error(`lock child ${this.p.pid} exited (${code}) before answering: ${this.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      this.fail?.(this.exited);
    });
    this.p.stdout.setEncoding('utf8');
    this.p.stdout.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(line);
        } else this.lines.push(line);
      }
    });
  }
  next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.fail = reject;
    });
  }
  send(line: string): void {
    this.p.stdin.write(`${line}\n`);
  }
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.p.once('exit', r));
    this.p.stdin.end();
    await exited;
  }
}

const hex = (n: number) => n.toString(16).padStart(32, '0');
const started = () => {
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return `${boot}/1`; // this boot, but not the start of any process running now
};

/** A stale lock beside `journal`, of one of four kinds: 0, one by hand or an older canary (a pid
 * that is gone); 1, this canary's, whose process is gone; 2, this canary's, whose pid now belongs
 * to another process (a reboot); 3, like 1 with a takeover claim left by a process that died
 * while taking it over. */
function staleLock(journal: string, kind: number): void {
  const lock = `${journal}.lock`;
  if (kind === 0) writeFileSync(lock, '999999999\n');
  else if (kind === 1) writeFileSync(lock, `999999999\nid ${hex(1)}\nstarted ${started()}\n`);
  else if (kind === 2) writeFileSync(lock, `${process.pid}\nid ${hex(2)}\nstarted ${started()}\n`);
  else {
    writeFileSync(lock, `999999999\nid ${hex(3)}\n`);
    writeFileSync(`${lock}.next-${hex(3)}`, `999999998\nid ${hex(4)}\n`);
  }
}

describe('journal lock: exactly one writer', () => {
  let script: string;
  beforeAll(async () => {
    script = join(dir, 'lock-child.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./helpers/lock-child.ts', import.meta.url))],
      outfile: script,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'warning',
    });
  });

  it('eight processes taking over the same stale lock at the same instant: one wins, every time (60 rounds, four kinds of stale lock)', async () => {
    const kids = Array.from({ length: 8 }, () => new LockChild(script));
    try {
      for (const k of kids) expect(await k.next()).toBe('ready');
      const rounds = 60;
      const failures: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const journal = join(dir, `race-${round}.jsonl`);
        staleLock(journal, round % 4);
        const at = Date.now() + 30;
        for (const k of kids) k.send(`go ${at} ${journal}`);
        const answers = (await Promise.all(kids.map((k) => k.next()))).map((l) => JSON.parse(l) as { ok: boolean; pid: number; holder?: string });
        const winners = answers.filter((a) => a.ok);
        if (winners.length !== 1) failures.push(`round ${round}: ${winners.length} winners (pids ${winners.map((w) => w.pid).join(', ')})`);
        else {
          let holder = 'nothing (the lock file is gone)';
          try {
            holder = `pid ${readFileSync(`${journal}.lock`, 'utf8').split('\n')[0]}`;
          } catch {
            /* said below */
          }
          if (holder !== `pid ${winners[0]!.pid}`) failures.push(`round ${round}: the lock says ${holder}, the winner is pid ${winners[0]!.pid}`);
          for (const a of answers.filter((x) => !x.ok)) if (!a.holder?.includes(`pid ${winners[0]!.pid}`)) failures.push(`round ${round}: a loser was told "${a.holder}", not the winner's pid ${winners[0]!.pid}`);
        }
        for (const k of kids) k.send('release');
        for (const k of kids) expect(await k.next()).toBe('released');
        // Released: no lock, and nothing left behind (claims, temporary files).
        const left = readdirSync(dir).filter((f) => f.startsWith(`race-${round}.`));
        if (left.length) failures.push(`round ${round}: left behind: ${left.join(', ')}`);
      }
      expect(failures).toEqual([]);
    } finally {
      await Promise.all(kids.map((k) => k.close()));
    }
  }, 120_000);
});

/** A process that runs until killed, with `args` on its command line (what /proc/<pid>/cmdline shows). */
function sleeper(args: string[]): Promise<ChildProcessWithoutNullStreams> {
  const p = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e3);console.log(1)', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    p.stdout.once('data', () => resolve(p));
    p.once('error', reject);
  });
}

describe('journal lock: whose it is, and what to do', () => {
  it('a live canary keeps it: the answer names the pid, the lock file, and what runs; released, it is free', () => {
    const journal = join(dir, 'mine.jsonl');
    const first = lockJournal(journal);
    expect(first.ok).toBe(true);
    const second = lockJournal(journal);
    expect(second).toMatchObject({ ok: false, holder: `canary pid ${process.pid}`, lock: `${journal}.lock` });
    if (!second.ok) expect(second.detail).toMatch(/^running since \d{4}-\d\d-\d\dT[\d:.]+Z: /);
    if (first.ok) first.release();
    expect(existsSync(`${journal}.lock`)).toBe(false);
    const third = lockJournal(journal);
    expect(third.ok).toBe(true);
    if (third.ok) third.release();
  });

  it('a pid that is alive but not canary (reused after a reboot: echo 1 > j.lock) does not hold it: taken over, and said why', async () => {
    const other = await sleeper(['not-the-journal-writer']);
    try {
      const journal = join(dir, 'reused.jsonl');
      writeFileSync(`${journal}.lock`, `${other.pid}\n`);
      const r = lockJournal(journal);
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.tookOver).toContain(`pid ${other.pid} runs, but it is not canary`);
        expect(r.tookOver).toContain('not-the-journal-writer');
        r.release();
      }
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a lock without a start time whose process is canary (an older canary) is respected', async () => {
    const older = await sleeper(['dist/canary.mjs', 'start', '--journal', 'x.jsonl']);
    try {
      const journal = join(dir, 'older.jsonl');
      writeFileSync(`${journal}.lock`, `${older.pid}\n`);
      const r = lockJournal(journal);
      expect(r).toMatchObject({ ok: false, holder: `canary pid ${older.pid}`, lock: `${journal}.lock` });
    } finally {
      older.kill('SIGKILL');
    }
  });

  it('an empty or damaged lock file names no process: taken over, and said why', () => {
    const journal = join(dir, 'empty.jsonl');
    writeFileSync(`${journal}.lock`, '');
    const r = lockJournal(journal);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.tookOver).toContain('names no process');
      r.release();
    }
  });
});
