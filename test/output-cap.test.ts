// A runbook command's output is bounded before it is journaled (review: a check printing 30 MB put
// ~4 MB into the journal in one line): lines cut, the head live, then only the tail at the end.
import { describe, expect, it, vi } from 'vitest';
import { HEAD_LINES, LINE_CHARS, OutputCap, TAIL } from '../src/runtime/output-cap.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { CommandRunner, TrafficActuator } from '../src/runtime/ports.js';
import { ManualClock } from '../src/sim/clock.js';
import type { EngineEvent } from '../src/engine/types.js';
import { runbookPlan } from '../src/engine/runbook.js';
import { T0, loadSeedPlan } from './helpers/drive.js';

describe('OutputCap', () => {
  it('passes a short output on as it comes, whole', () => {
    const got: string[][] = [];
    const cap = new OutputCap((l) => got.push(l));
    cap.push(['one', 'two']);
    cap.push(['three']);
    cap.end();
    expect(got).toEqual([['one', 'two'], ['three']]);
  });

  it('cuts a long line, keeps the head live, then says so and gives only the last lines at the end', () => {
    const got: string[] = [];
    const cap = new OutputCap((l) => got.push(...l));
    cap.push(['x'.repeat(LINE_CHARS + 10)]);
    expect(got[0]).toBe(`${'x'.repeat(LINE_CHARS)} … (10 more characters not kept)`);
    for (let i = 1; i < 10_000; i++) cap.push([`line ${i}`]);
    expect(got).toHaveLength(HEAD_LINES + 1); // the head and the line that says the rest comes at the end
    expect(got.at(-1)).toMatch(/^… more than 2,000 lines of output: the rest is not shown as it comes; its last 200 lines are kept when the command ends$/);
    cap.end();
    expect(got).toHaveLength(HEAD_LINES + 1 + 1 + TAIL);
    expect(got[HEAD_LINES + 1]).toBe(`… ${(10_000 - HEAD_LINES - TAIL).toLocaleString('en-US')} lines (${(7_800 * 9).toLocaleString('en-US')} characters) of output not kept; the last 200:`);
    expect(got.at(-1)).toBe('line 9999');
  });
});

describe('a runbook check that prints 30 MB, through the runtime and its journal', () => {
  it('journals ~0.2 MB: the head as it came, then how much was left out, then the end; the state ends with the last line', async () => {
    const plan = loadSeedPlan();
    const clock = new ManualClock(T0);
    const traffic: TrafficActuator = { name: 'probe', setWeight: async (weight) => ({ weight, detail: 'ok' }), rollback: async () => ({ weight: 0, detail: 'ok' }) };
    const line = 'A'.repeat(99);
    const commands: CommandRunner = {
      async run(_e, onLines) {
        for (let b = 0; b < 300; b++) onLines(Array.from({ length: 1000 }, () => line)); // 30 MB
        onLines(['the-last-line']);
        return { ok: true, exitCode: 0, detail: 'exited 0' };
      },
      stop: () => undefined,
      close: () => undefined,
    };
    const journaled: EngineEvent[] = [];
    const rt = new Runtime({ plan, clock, traffic, commands, journal: { append: (e) => journaled.push(e) } });
    const item = runbookPlan(plan).items.find((i) => i.check)!;
    rt.dispatch({ type: 'command', at: T0, actor: { id: 'ana', name: 'Ana Ortiz', roles: ['sre'] }, command: { kind: 'run-check', item: item.key } });
    await vi.waitFor(() => expect(rt.getState().runbook.runs.at(-1)?.status).toBe('passed'));
    const out = journaled.flatMap((e) => (e.type === 'command.output' ? e.lines : []));
    const chars = out.reduce((n, l) => n + l.length, 0);
    expect(chars).toBeLessThan(300_000);
    expect(out).toHaveLength(HEAD_LINES + 1 + 1 + TAIL);
    expect(out[HEAD_LINES + 1]).toMatch(/^… 297,801 lines \(29,482,299 characters\) of output not kept; the last 200:$/);
    expect(out.at(-1)).toBe('the-last-line');
    expect(rt.getState().runbook.runs.at(-1)!.lines.at(-1)).toBe('the-last-line');

  });
});
