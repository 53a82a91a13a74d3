// A journal replaced, truncated, removed or written by someone else under a running canary is
// noticed before the next write: canary stops writing (never into the replaced file, never past the
// truncation), the rollout holds and the console says so, rolling back still works, and the exit
// says what happened and what to do. An empty journal says what to do with it.
import { vi, afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
vi.hoisted(() => {
  delete process.env['NO_COLOR'];
});
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import React from 'react';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { HEALTHY, PLAN_PATH, T0, loadSeedPlan, samples, withoutGateChecklists } from './helpers/drive.js';
import { JournalLostError, JournalWriter, readJournal, resumeSync, verifyJournal } from '../src/journal/index.js';
import { reduce } from '../src/engine/reduce.js';
import { initialState } from '../src/engine/reduce.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import type { EngineEvent, RolloutState } from '../src/engine/types.js';

const plan = withoutGateChecklists(loadSeedPlan());
const planText = readFileSync(fileURLToPath(PLAN_PATH), 'utf8');
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'canary.mjs');
let dir: string;
let n = 0;
const file = (name = 'journal') => join(dir, `${name}-${++n}.jsonl`);
const plain = (frame: string | undefined) => stripVTControlCharacters(frame ?? '');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canary-journal-lost-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => cleanup());

const ana = { id: 'ana', name: 'Ana Ortiz' };
const pause: EngineEvent = { type: 'command', at: T0 + 60_000, actor: ana, command: { kind: 'pause' } };

/** A journal with a header, a batch of samples and two decisions, its writer still open. */
function started(): { path: string; w: JournalWriter; state: RolloutState } {
  const path = file();
  const w = JournalWriter.openSync(path, { plan, planText, start: T0, flushEveryMs: 60_000 });
  let state = initialState(plan, T0);
  const feed = (e: EngineEvent) => {
    const r = reduce(plan, state, e);
    w.append(e, r.state, r.effects);
    state = r.state;
  };
  feed({ type: 'sli.samples', at: T0, samples: samples(HEALTHY) }); // batched, not yet written
  feed({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
  feed({ type: 'sli.samples', at: T0 + 30_000, samples: samples(HEALTHY) }); // batched again
  return { path, w, state };
}

describe('journal: the file under a running writer', () => {
  it('replaced (sed -i: a new file renamed over it): noticed before the next decision, nothing written into the new file, the journal as written is saved and verifies', () => {
    const { path, w, state } = started();
    const edited = `${path}.sed`;
    writeFileSync(edited, readFileSync(path, 'utf8').replace('Dev Raman', 'Dev R.'));
    renameSync(edited, path);
    const replaced = readFileSync(path, 'utf8');
    let err: unknown;
    try {
      w.append(pause, reduce(plan, state, pause).state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JournalLostError);
    const loss = (err as JournalLostError).loss;
    expect(loss).toMatchObject({ kind: 'replaced', path, lastSeq: 3, saved: `${path}.saved-3` });
    expect(loss.reason).toContain('another file is at its path now');
    expect(loss.todo).toContain(`mv ${path}.saved-3 ${path}`);
    expect(readFileSync(path, 'utf8')).toBe(replaced); // not a byte appended to the file that replaced it
    // The saved copy: header, samples, approval, samples (the batch), and not the pause that was refused.
    const v = verifyJournal(loss.saved!);
    expect(v.ok).toBe(true);
    expect(v.head?.seq).toBe(3);
    expect(readJournal(loss.saved!).entries.map((e) => e.event.type)).toEqual(['sli.samples', 'approve', 'sli.samples']);
    // Every later append is refused the same way; close writes nothing.
    expect(() => w.append(pause)).toThrow(JournalLostError);
    w.close();
    expect(readFileSync(path, 'utf8')).toBe(replaced);
  });

  it('truncated (truncate -s 0, copytruncate): nothing is written past the truncation', () => {
    const { path, w, state } = started();
    truncateSync(path, 0);
    expect(() => w.append(pause, reduce(plan, state, pause).state)).toThrow(JournalLostError);
    expect(w.lost).toMatchObject({ kind: 'truncated', saved: null });
    expect(w.lost!.reason).toMatch(/truncated while canary wrote it: 0 bytes, canary had written \d+/);
    expect(w.lost!.todo).toContain('restore the journal from a copy');
    w.close();
    expect(statSync(path).size).toBe(0);
  });

  it('removed (logrotate moved it away): noticed, and the journal is saved beside the path', () => {
    const { path, w, state } = started();
    renameSync(path, `${path}.1`);
    expect(() => w.append(pause, reduce(plan, state, pause).state)).toThrow(JournalLostError);
    expect(w.lost).toMatchObject({ kind: 'removed', saved: `${path}.saved-3` });
    expect(verifyJournal(`${path}.saved-3`).ok).toBe(true);
    w.close();
    expect(existsSync(path)).toBe(false);
  });

  it('written by another process: noticed before canary adds to it', () => {
    const { path, w, state } = started();
    appendFileSync(path, '{"seq":2,"someone":"else"}\n');
    const size = statSync(path).size;
    expect(() => w.append(pause, reduce(plan, state, pause).state)).toThrow(JournalLostError);
    expect(w.lost).toMatchObject({ kind: 'grew' });
    expect(w.lost!.reason).toContain('another process writes to it');
    w.close();
    expect(statSync(path).size).toBe(size);
  });

  it('replaced while nothing was written: the last look at close notices it', () => {
    const path = file();
    const w = JournalWriter.openSync(path, { plan, planText, start: T0 });
    copyFileSync(path, `${path}.copy`);
    renameSync(`${path}.copy`, path);
    w.close();
    expect(w.lost).toMatchObject({ kind: 'replaced', lastSeq: 0 });
  });
});

describe('journal lost under a running console', () => {
  it('the console shouts, the rollout holds (advance refused, no weight set), R y still rolls back; nothing goes into the new file', async () => {
    const path = file();
    const writer = JournalWriter.openSync(path, { plan, planText, start: T0, flushEveryMs: 0 });
    const clock = new ManualClock(T0);
    const calls: string[] = [];
    const traffic: TrafficActuator = {
      name: 'probe',
      setWeight: async (weight) => {
        calls.push(`setWeight ${weight}`);
        return { weight, detail: 'ok' };
      },
      rollback: async () => {
        calls.push('rollback');
        return { weight: 0, detail: 'stable takes all traffic' };
      },
    };
    const rt = new Runtime({ plan, clock, traffic, journal: writer });
    const r = sized(render(<App plan={plan} store={rt} actor={{ id: 'ana', name: 'Ana Ortiz', roles: ['sre', 'sre-primary'] }} now={() => clock.now()} columns={140} rows={40} onQuit={() => undefined} />), 140, 40);
    rt.dispatch({ type: 'sli.samples', at: T0, samples: samples(HEALTHY) });
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman' }, phase: 'canary-1', role: 'eng-lead' });
    rt.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist' }, phase: 'canary-1', role: 'sre-lead' });
    rt.dispatch({ type: 'command', at: T0, actor: ana, command: { kind: 'advance' } });
    await vi.waitFor(() => expect(rt.getState().appliedWeight).toBe(1));
    expect(calls).toEqual(['setWeight 1']);
    const seq = writer.head.seq;
    // someone edits the journal in place
    writeFileSync(`${path}.sed`, readFileSync(path, 'utf8'));
    renameSync(`${path}.sed`, path);
    const replaced = readFileSync(path, 'utf8');
    clock.advance(60_000);
    rt.dispatch({ type: 'sli.samples', at: clock.now(), samples: samples(HEALTHY) });
    rt.dispatch({ type: 'command', at: clock.now(), actor: ana, command: { kind: 'advance' } });
    const s = rt.getState();
    expect(s.journalLost).toMatchObject({ kind: 'replaced', path, lastSeq: seq });
    expect(s.holds[0]).toContain(`JOURNAL LOST (replaced): ${path} - nothing after seq ${seq} is recorded`);
    expect(s.history.map((h) => h.text).join('\n')).toMatch(/JOURNAL LOST: .* the rollout holds[\s\S]*asked to advance: refused - the journal is lost \(replaced/);
    await vi.waitFor(() => expect(plain(r.lastFrame())).toContain('JOURNAL LOST (replaced): holding'));
    expect(plain(r.lastFrame())).toContain('hold: JOURNAL LOST (replaced)');
    expect(calls).toEqual(['setWeight 1']);
    // Rolling back is never held: R y works, and it is carried out.
    r.stdin.write('R');
    await vi.waitFor(() => expect(plain(r.lastFrame())).toContain('ROLL BACK maestro-conductor-rc'));
    r.stdin.write('y');
    await vi.waitFor(() => expect(calls).toEqual(['setWeight 1', 'rollback']));
    expect(rt.getState().status).toBe('rolled-back');
    await rt.stop();
    writer.close();
    expect(readFileSync(path, 'utf8')).toBe(replaced);
  });
});

describe('journal lost under `canary run --headless`', () => {
  const run = (args: string[], onLine: (line: string) => void) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [cli, 'run', '--headless', ...args], { cwd: dir, env: { ...process.env, XDG_STATE_HOME: join(dir, 'state'), NO_COLOR: '1' } });
      let out = '';
      let err = '';
      p.stdout.setEncoding('utf8');
      p.stdout.on('data', (c: string) => {
        out += c;
        for (const l of c.split('\n')) if (l) onLine(l);
      });
      p.stderr.on('data', (c: Buffer) => (err += c.toString()));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, out, err }));
    });

  it('a journal replaced mid-run: exit 4 (held) with why, what to do on stderr, nothing written into the new file', async () => {
    const journal = join(dir, 'headless-replaced.jsonl');
    let replaced: string | null = null;
    // The healthy plan goes on for minutes of simulated time at x3600; once the 1% phase is under
    // way (its set-weight journaled), the journal is edited in place.
    const r = await run(['--journal', journal, '--scenario', 'healthy', '--speed', '3600', '--timeout', '60s'], (line) => {
      if (replaced === null && /canary-1 step 1 weight 1%$/.test(line)) {
        writeFileSync(`${journal}.sed`, readFileSync(journal, 'utf8'));
        renameSync(`${journal}.sed`, journal);
        replaced = readFileSync(journal, 'utf8');
      }
    });
    expect(replaced).not.toBeNull();
    expect(r.code).toBe(4);
    expect(r.out.trim().split('\n').at(-1)).toMatch(new RegExp(`^exit 4: held: the journal ${journal} was lost \\(another file is at its path now`));
    expect(r.out).toContain('JOURNAL LOST');
    expect(r.err).toContain(`canary: to do: check it (canary audit verify ${journal}.saved-`);
    expect(readFileSync(journal, 'utf8')).toBe(replaced);
    const saved = /saved in (\S+)\./.exec(r.out)?.[1];
    expect(saved).toBeDefined();
    expect(verifyJournal(saved!).ok).toBe(true);
  }, 90_000);

  it('a journal truncated mid-run: exit 4, and the journal is not written past the truncation', async () => {
    const journal = join(dir, 'headless-truncated.jsonl');
    let truncated = false;
    const r = await run(['--journal', journal, '--scenario', 'healthy', '--speed', '3600', '--timeout', '60s'], (line) => {
      if (!truncated && /canary-1 step 1 weight 1%$/.test(line)) {
        truncateSync(journal, 0);
        truncated = true;
      }
    });
    expect(truncated).toBe(true);
    expect(r.code).toBe(4);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/^exit 4: held: the journal .* was lost \(it was truncated while canary wrote it/);
    expect(r.err).toContain('canary: to do: restore the journal from a copy');
    // Nothing after the truncation but, at worst, the one batch (a simulated hour) whose write raced
    // it; never the rest of the run (~2.3 MB per simulated day).
    expect(statSync(journal).size).toBeLessThan(500_000);
  }, 90_000);
});

describe('an empty journal', () => {
  it('says it holds no decision and what to do', () => {
    const path = file('empty');
    writeFileSync(path, '');
    expect(() => resumeSync(plan, path, { planText })).toThrow(`${path} is empty (0 bytes): it holds no decision and cannot be resumed. A canary killed as it started leaves such a file: then remove it (rm ${path}) and start again, or start with --journal <new file>`);
    unlinkSync(path);
  });
});
