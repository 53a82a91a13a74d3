// A journal is replayed under the evidence rules it was written with (its header's `rules`; none
// = rules 1, the journals of every canary before the stable fleet's answers). A rollout upgraded
// mid-flight must resume where it is: re-reduced under the new first-gate rule, a journal at 5%
// read "pending at 0%" and opened its first gate again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entryHash, readJournal, replayJournal } from '../src/journal/journal.js';
import { ENGINE_RULES } from '../src/engine/reduce.js';
import { initialState } from '../src/engine/reduce.js';
import { snapshotOf, stateFromSnapshot } from '../src/cluster/snapshot.js';
import { loadPlan, T0 } from './helpers/state.js';

const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'canary-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Line = { seq: number; at: number; actor: string; event: Record<string, unknown>; prev: string; hash: string };

/** The journal as a canary before rules 2 wrote it: no `rules` in the header, no stable-fleet
 * samples (they did not exist), the chain made whole again. `rules` keeps the header's field. */
function asWrittenBefore(text: string, rules?: number): string {
  let prev = '0'.repeat(64);
  const out: string[] = [];
  for (const l of text.trim().split('\n')) {
    const e = JSON.parse(l) as Line;
    if (e.seq === 0) {
      delete e.event.rules;
      if (rules !== undefined) e.event.rules = rules;
    }
    if (e.event.type === 'sli.samples') e.event.samples = (e.event.samples as { track: string }[]).filter((s) => s.track !== 'stable');
    e.prev = prev;
    e.hash = entryHash(prev, e);
    prev = e.hash;
    out.push(JSON.stringify(e));
  }
  return `${out.join('\n')}\n`;
}

/** The journal of a healthy run to 5% by this canary (written once, shared by the tests). */
let healthy: { file: string; text: string } | undefined;
function healthyJournal(): { file: string; text: string } {
  if (healthy) return healthy;
  const file = join(tmp, 'j.jsonl');
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(tmp, 'state'), XDG_CACHE_HOME: join(tmp, 'cache') };
  delete env.CI;
  execFileSync(process.execPath, [join(root, 'dist', 'canary.mjs'), 'run', '--headless', '--journal', file, '--scenario', 'healthy', '--until', 'canary-5', '--timeout', '100s', '--speed', '100000'], { cwd: tmp, env, stdio: 'ignore', timeout: 90_000 });
  healthy = { file, text: readFileSync(file, 'utf8') };
  return healthy;
}

/** The journal with its header's rules set to `rules` and the canary's request rate 0 in every
 * sample (every ratio SLI still healthy), the chain made whole again. */
function asServingNothing(text: string, rules: number): string {
  let prev = '0'.repeat(64);
  const out: string[] = [];
  type Sample = { sli: string; track: string; value: number | null };
  const zero = (samples: Sample[]) => samples.map((x) => (x.sli === 'request_rate' && x.track === 'canary' && x.value !== null ? { ...x, value: 0 } : x));
  for (const l of text.trim().split('\n')) {
    const e = JSON.parse(l) as Line;
    if (e.seq === 0) e.event.rules = rules;
    if (e.event.type === 'sli.samples') e.event.samples = zero(e.event.samples as Sample[]);
    if (e.event.type === 'sli.history') e.event.points = (e.event.points as { t: number; samples: Sample[] }[]).map((p) => ({ ...p, samples: zero(p.samples) }));
    e.prev = prev;
    e.hash = entryHash(prev, e);
    prev = e.hash;
    out.push(JSON.stringify(e));
  }
  return `${out.join('\n')}\n`;
}

describe('journals replay under the rules they were written with', () => {
  it('a journal at 5% written before the stable fleet resumes at 5%; the same entries under rules 2 would not', () => {
    const { file, text: written } = healthyJournal();
    expect(JSON.parse(written.split('\n')[0]!).event.rules).toBe(ENGINE_RULES); // a new journal names its rules
    const plan = loadPlan();
    const now = replayJournal(plan, readJournal(file));
    expect([now.state.status, now.state.desiredWeight]).toEqual(['running', 5]);

    // As an older canary wrote it (the simulated baseline answered at 0% then): resumes at 5%.
    const old = join(tmp, 'old.jsonl');
    writeFileSync(old, asWrittenBefore(written));
    const r = replayJournal(plan, readJournal(old));
    expect(r.problems).toEqual([]);
    expect(r.state.rules).toBe(1);
    expect([r.state.status, r.state.desiredWeight]).toEqual(['running', 5]);
    expect(r.state.history.map((h) => h.text).join('\n')).toMatch(/opened the gate: Canary 1%/);

    // The very same entries judged under rules 2: no stable answers, so the first gate never opened.
    const strict = join(tmp, 'strict.jsonl');
    writeFileSync(strict, asWrittenBefore(written, 2));
    const s = replayJournal(plan, readJournal(strict));
    expect([s.state.status, s.state.desiredWeight]).toEqual(['pending', 0]);
  });

  it('a rules-2 journal whose canary served no requests at 1% resumes at 5%, as it ran; under rules 3 the same entries hold at 1%', () => {
    const { text } = healthyJournal();
    const plan = loadPlan();
    const two = join(tmp, 'two.jsonl');
    writeFileSync(two, asServingNothing(text, 2));
    const r = replayJournal(plan, readJournal(two));
    expect(r.problems).toEqual([]);
    expect(r.state.rules).toBe(2);
    expect([r.state.status, r.state.desiredWeight]).toEqual(['running', 5]);
    expect(r.state.slis['request_rate']!.canaryNote).toMatchObject({ status: 'ok', value: 0 });
    expect(r.state.holds.join('\n')).not.toContain('canary serves no requests');

    const three = join(tmp, 'three.jsonl');
    writeFileSync(three, asServingNothing(text, 3));
    const s = replayJournal(plan, readJournal(three));
    expect(s.state.rules).toBe(3);
    expect([s.state.status, s.state.desiredWeight]).toEqual(['running', 1]);
    expect(s.state.holds).toContain('canary serves no requests: 0/s (request_rate)');
  });

  it('a cluster snapshot written before rules existed resumes under rules 1; a new one keeps its rules', () => {
    const plan = loadPlan();
    const fresh = initialState(plan, T0);
    expect(fresh.rules).toBe(ENGINE_RULES);
    expect(stateFromSnapshot(plan, snapshotOf(fresh)).rules).toBe(ENGINE_RULES);
    const { rules: _r, ...older } = fresh;
    expect(stateFromSnapshot(plan, snapshotOf(older)).rules).toBe(1);
  });
});
