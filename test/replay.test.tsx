// canary replay: the same console driven by recorded states, with time to move through.
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { Replay, moveReplay, type ReplayFrame } from '../components/Replay.js';
import { Driver, HEALTHY, HOUR, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Frames of a run that reaches 25% and rolls back on a latency regression. */
function frames(): ReplayFrame[] {
  const d = new Driver(plan);
  d.canary = (s) => (s.desiredWeight >= 25 ? { ...HEALTHY, latency_p95: 1200 } : HEALTHY);
  const out: ReplayFrame[] = [{ seq: 0, state: d.state }];
  const send = d.send.bind(d);
  d.send = (e) => {
    const r = send(e);
    out.push({ seq: out.length, state: d.state });
    return r;
  };
  d.runFor(8 * 24 * HOUR, (s) => s.status === 'rolled-back');
  return out;
}

describe('replay', () => {
  const f = frames();

  it('moves by event, by hour, to the next rollback, home and end', () => {
    expect(moveReplay(f, 0, '', { rightArrow: true })).toBe(1);
    expect(moveReplay(f, 5, '', { leftArrow: true })).toBe(4);
    const h = moveReplay(f, 0, ']', {});
    expect(f[h]!.state.now - f[0]!.state.now).toBeGreaterThanOrEqual(HOUR);
    expect(moveReplay(f, h, '[', {})).toBeLessThan(h);
    const rb = moveReplay(f, 0, 'n', {});
    expect(f[rb]!.state.status).toBe('rolled-back');
    expect(f[rb - 1]!.state.status).not.toBe('rolled-back');
    expect(moveReplay(f, 3, '', { end: true })).toBe(f.length - 1);
    expect(moveReplay(f, 3, '', { home: true })).toBe(0);
  });

  it('shows the recorded console; n jumps to the rollback and the reason is on screen; commands change nothing', async () => {
    const r = render(<Replay plan={plan} frames={f} file="rollout.jsonl" columns={120} rows={40} />);
    await settle();
    const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
    expect(frame()).toContain(`REPLAY rollout.jsonl  event 1/${f.length}`);
    expect(frame()).toContain('PENDING');
    r.stdin.write(']');
    await settle();
    expect(frame()).not.toContain(`event 1/${f.length}`);
    r.stdin.write('n');
    await settle();
    expect(frame()).toContain('ROLLED BACK');
    expect(frame()).toMatch(/latency_p95_threshold/);
    r.stdin.write('R');
    await settle();
    r.stdin.write('y');
    await settle();
    expect(frame()).toContain('ROLLED BACK'); // nothing happened: a replay never acts
    r.unmount();
  });
});

describe('replay of a recorded journal', () => {
  it('a journal written during a rollout with a rollback replays to the same screens: n shows the rollback', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { JournalWriter, readJournal, replaySteps } = await import('../src/journal/journal.js');
    const { initialState } = await import('../src/engine/reduce.js');
    const { PLAN_PATH } = await import('./helpers/drive.js');
    const dir = mkdtempSync(join(tmpdir(), 'canary-replay-'));
    try {
      const path = join(dir, 'rollout.jsonl');
      const d = new Driver(plan);
      const writer = JournalWriter.openSync(path, { plan, planText: readFileSync(PLAN_PATH, 'utf8'), start: d.state.now });
      const send = d.send.bind(d);
      d.send = (e) => {
        const effects = send(e);
        writer.append(e, d.state, effects);
        return effects;
      };
      d.canary = (s) => (s.desiredWeight >= 25 ? { ...HEALTHY, latency_p95: 1200 } : HEALTHY);
      d.runFor(8 * 24 * HOUR, (s) => s.status === 'rolled-back');
      writer.close();
      const read = readJournal(path);
      const recorded: ReplayFrame[] = [{ seq: 0, state: initialState(plan, read.header!.at) }];
      for (const step of replaySteps(plan, read)) recorded.push({ seq: step.entry.seq, state: step.state });
      expect(recorded.at(-1)!.state.status).toBe('rolled-back');
      expect(recorded.at(-1)!.state.rollback!.reason).toBe(d.state.rollback!.reason);
      const r = render(<Replay plan={plan} frames={recorded} file="rollout.jsonl" columns={120} rows={40} />);
      await settle();
      r.stdin.write('n');
      await settle();
      const frame = stripVTControlCharacters(r.lastFrame() ?? '');
      expect(frame).toContain('ROLLED BACK');
      expect(frame).toMatch(/latency_p95_threshold/);
      r.unmount();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
