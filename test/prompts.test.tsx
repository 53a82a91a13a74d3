// Text prompts take every printable key (k9s, vim): the pod filter, an incident's summary and a
// no-go's reason. An adversarial review typed `/` then `R u n n i n g` one key at a time: `R`
// opened the rollback dialog (the filter lost it), `u` cancelled it and closed the prompt, `n`
// opened the NO-GO dialog, `ning` became its reason and `enter` recorded a NO-GO. Here every key is
// its own write, as a person types, and the frames and the store show what happened.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { Replay, type ReplayFrame } from '../components/Replay.js';
import { DEFAULT_KEYMAP } from '../src/config/keys.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const KEY = { esc: '\u001B', enter: '\r', backspace: '\u007F' };

/** Every one-character key the main screen binds (R, n, a, q, ?, /, g, :...), uppercase ones included. */
const BOUND = [...new Set(Object.values(DEFAULT_KEYMAP).flat().filter((k) => [...k].length === 1 && k !== ' '))];
const GLOBAL_KEYS = [...BOUND, ':', 'y', 'Y'].join('');

/** Running, with the hour-6 checkpoint due: a no-go would be recorded (and sent) at once. */
function dueCheckpoint(): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, 6 * 60 + 5);
  return store;
}

async function show(store: TestStore, columns = 120, rows = 40) {
  const onQuit = vi.fn();
  const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={onQuit} simulated />), columns, rows);
  await settle();
  const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
  return {
    frame,
    statusLine: () => frame().split('\n').at(-1) ?? '',
    /** One key per write, as typed. */
    type: async (text: string) => {
      for (const ch of text) {
        r.stdin.write(ch);
        await settle();
      }
    },
    key: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
    onQuit,
  };
}

describe('a text prompt takes every printable key (review: typing "Running" in the pod filter recorded a NO-GO)', () => {
  it('the keys bound globally are what the test types', () => {
    for (const k of ['R', 'n', 'a', 'q', '?', '/', 'g', 'A', 'I', '!', 'i', 'p', 'F', 'V', 't', 'd', 'l', 'x', 'c', 'o']) expect(GLOBAL_KEYS).toContain(k);
  });

  it('/ then R u n n i n g, one key at a time, then enter: the filter is /running and nothing else happened', async () => {
    const store = dueCheckpoint();
    const before = store.events.length;
    const ui = await show(store);
    await ui.key('/');
    await ui.type('Running');
    expect(ui.frame()).toContain('/running▏');
    await ui.key(KEY.enter);
    expect(ui.frame()).toContain('/running ');
    expect(ui.frame()).not.toMatch(/╔═|NO-GO|ROLL BACK/);
    expect(store.events.slice(before).filter((e) => e.type === 'command')).toEqual([]);
    expect(store.getState().runbook.noGo).toBeFalsy();
    expect(store.getState().status).toBe('running');
  });

  it('the pod filter takes every key bound globally, uppercase ones included; esc clears it', async () => {
    const store = dueCheckpoint();
    const before = store.events.length;
    const ui = await show(store);
    await ui.key('/');
    await ui.type(GLOBAL_KEYS);
    // no pod matches such a filter: the pane says what it filters by, in full
    expect(ui.frame()).toContain(`no pods match /${GLOBAL_KEYS.toLowerCase()} (esc clears)`);
    expect(ui.frame()).not.toContain('╔═');
    expect(store.events.slice(before).filter((e) => e.type === 'command')).toEqual([]);
    expect(ui.onQuit).not.toHaveBeenCalled();
    // the prompt says how to roll back from here
    expect(ui.statusLine()).toContain('esc,R rollback');
    await ui.key(KEY.esc);
    expect(ui.frame()).not.toContain('no pods match');
  });

  it("an incident's summary takes every key bound globally; esc cancels, nothing was sent", async () => {
    const store = dueCheckpoint();
    const before = store.events.length;
    const ui = await show(store);
    await ui.key('i');
    expect(ui.frame()).toContain('Declare an incident');
    await ui.type(GLOBAL_KEYS);
    expect(ui.frame()).toContain(`Summary   ${GLOBAL_KEYS}▏`);
    expect(ui.frame()).toContain('Declare an incident');
    expect(store.events.slice(before).filter((e) => e.type === 'command')).toEqual([]);
    await ui.key(KEY.backspace);
    expect(ui.frame()).toContain(`Summary   ${GLOBAL_KEYS.slice(0, -1)}▏`);
    await ui.key(KEY.esc);
    expect(ui.frame()).not.toContain('Declare an incident');
    expect(store.events.slice(before).filter((e) => e.type === 'command')).toEqual([]);
    expect(store.getState().incidents).toEqual([]);
  });

  it("a no-go's reason takes every key bound globally; enter records exactly what was typed", async () => {
    const store = dueCheckpoint();
    const before = store.events.length;
    const ui = await show(store);
    await ui.key('n');
    expect(ui.frame()).toContain('NO-GO at hour 6');
    const reason = `Running ${GLOBAL_KEYS}`;
    await ui.type(reason);
    expect(ui.frame()).toContain(`Reason: ${reason}`);
    expect(store.events.slice(before).filter((e) => e.type === 'command')).toEqual([]);
    await ui.key(KEY.enter);
    expect(store.events.slice(before).flatMap((e) => (e.type === 'command' ? [e.command] : []))).toEqual([{ kind: 'no-go', reason }]);
    expect(store.getState().status).toBe('running');
  });

  it(': says there is no command mode (k9s habit), once, where the hints are', async () => {
    const store = dueCheckpoint();
    const ui = await show(store);
    await ui.key(':');
    expect(ui.statusLine()).toContain('no command mode: ? shows the keys');
    expect(ui.frame()).not.toContain('╔═');
  });
});

describe("replay's own keys stay out of its filter prompt", () => {
  it('in replay, / then n types n: the event shown does not move to the next rollback', async () => {
    const plan = loadPlan();
    const store = dueCheckpoint();
    const f: ReplayFrame[] = [{ seq: 1, state: makeStore(plan, T0).getState() }, { seq: 2, state: store.getState() }];
    const r = render(<Replay plan={plan} frames={f} file="rollout.jsonl" columns={120} rows={40} />);
    await settle();
    const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
    expect(frame()).toContain('event 1/2');
    for (const ch of '/n]') {
      r.stdin.write(ch);
      await settle();
    }
    expect(frame()).toContain('event 1/2');
    expect(frame()).toContain('/n]▏');
    r.stdin.write(KEY.enter);
    await settle();
    r.stdin.write(']');
    await settle();
    expect(frame()).toContain('event 2/2');
  });
});
