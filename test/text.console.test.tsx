// What the console draws can be trusted (review of issue 18's build): text from people and servers
// never reaches the terminal as control sequences, the rollback dialog names its hook, an overlay
// leaves nothing stray after its corner, and a read-only view names no action key.
import { afterEach, describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { Replay, type ReplayFrame } from '../components/Replay.js';
import { describeRollback } from '../src/engine/gates.js';
import { PassThrough } from 'node:stream';
import { startWall } from '../components/Wall.js';
import { printable } from '../src/plan/printable.js';
import type { Actor } from '../src/engine/types.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const KEY = { esc: '\u001B', enter: '\r', tab: '\t' };

/** What the review's war-room person declared: a window title, a screen clear, a red background. */
const HOSTILE = '\u001b]0;PWNED\u0007\u001b[2J\u001b[41mRED\u001b[0m';
const WARROOM: Actor = { id: 'mallory', name: 'Mallory', roles: ['sre'] };

function running(minutes = 10): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, minutes);
  return store;
}

async function show(store: TestStore, columns = 120, rows = 40, simulated = false) {
  const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} {...(simulated ? { simulated } : {})} />), columns, rows);
  await settle();
  return {
    raw: () => r.lastFrame() ?? '',
    frame: () => stripVTControlCharacters(r.lastFrame() ?? ''),
    key: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
  };
}

describe('printable: one helper for every text a terminal shows', () => {
  it('shows every control character instead of letting a terminal obey it', () => {
    expect(printable(HOSTILE)).toBe('␛]0;PWNED␇␛[2J␛[41mRED␛[0m');
    expect(printable('a\u009b31mb\u0085c')).toBe('a\\u009b31mb\\u0085c'); // C1: CSI, NEL
    expect(printable('tab\there\r\nnext\u007f')).toBe('tab␉here␍␊next␡');
    expect(printable('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(printable('keeps\nlines\tand tabs\r', 'layout')).toBe('keeps\nlines\tand tabs␍');
    expect(printable('keeps\nlines\tnot tabs', 'newline')).toBe('keeps\nlines␉not tabs');
    const plain = 'orchestrator-canary-7d9f · ✓ 99.9% ⚑ 中文';
    expect(printable(plain)).toBe(plain);
  });
});

describe('text from people and servers in the console', () => {
  it("a war-room person's incident summary with escape codes is drawn as text: no title, no clear, no red background", async () => {
    const store = running();
    store.dispatch({ type: 'command', at: store.clock.t, actor: WARROOM, command: { kind: 'declare-incident', severity: 'P2', summary: HOSTILE } });
    const ui = await show(store);
    // the roster leads with the incident
    expect(ui.frame()).toContain('␛]0;PWNED␇␛[2J␛[41mRED');
    for (const raw of ['\u001b]0;', '\u0007', '\u001b[2J', '\u001b[41m']) expect(ui.raw()).not.toContain(raw);
    // the acknowledgement dialog quotes it, as text too
    await ui.key('!');
    expect(ui.frame()).toContain('Acknowledge an incident');
    expect(ui.frame()).toMatch(/INC-1 P2: ␛\]0;PWNED␇/);
    for (const raw of ['\u001b]0;', '\u0007', '\u001b[2J', '\u001b[41m']) expect(ui.raw()).not.toContain(raw);
  });

  it('a pod status and message from a server with escape codes stay text in the pods pane', async () => {
    const store = running();
    const first = [...store.getState().pods.values()].find((p) => p.track === 'canary')!;
    store.dispatch({ type: 'pods.delta', at: store.clock.t, upserts: [{ ...first, ready: false, reason: `Crash\u001b[41mLoop`, message: `boom \u001b]0;T\u0007` }], deletes: [] });
    const ui = await show(store);
    expect(ui.frame()).toContain('Crash␛[41mLo');
    expect(ui.raw()).not.toContain('\u001b[41m');
    expect(ui.raw()).not.toContain('\u001b]0;');
  });
});

describe('the rollback dialog names its hook (review: "Hook: [object Object]")', () => {
  it("shows the seed's hook by name with its command, and on the simulated world the stand-in that runs", async () => {
    const store = running();
    const ui = await show(store, 120, 40, true);
    await ui.key('R');
    const f = ui.frame();
    expect(f).toContain('ROLL BACK');
    expect(f).not.toContain('[object Object]');
    expect(f).toContain('Hook emergency-rollback.sh, run once traffic reads 0%');
    expect(f).toContain('./scripts/emergency-rollback.sh --version stable');
    expect(f).toContain('the simulated world runs: $ ./sim/emergency-rollback.sh');
    await ui.key(KEY.esc);
  });

  it('a hook written as a bare string is shown as its command', () => {
    const plan = loadPlan();
    const store = running();
    const d = describeRollback({ ...plan, rollback: { ...plan.rollback, hook: './rb.sh --to ${PREVIOUS_STABLE_VERSION}' } }, store.getState());
    expect(d.lines).toContain('Hook, run once traffic reads 0%: $ ./rb.sh --to stable');
  });
});

describe('overlays at 80x24', () => {
  it('leave nothing after their bottom-right corner (review: ╚═══╝k), and the status bar with the dialog keys stays', async () => {
    const store = running();
    const ui = await show(store, 80, 24);
    await ui.key('?');
    expect(ui.frame()).toContain('Keys');
    expect(ui.frame()).not.toMatch(/╝\S*[A-Za-z]/);
    expect(ui.frame().split('\n').at(-1)).toContain('esc close');
    await ui.key(KEY.esc);
  });

  it('the SLI details, taller than the screen (80x18), leave the status bar too', async () => {
    const ui = await show(running(), 80, 18);
    await ui.key(KEY.tab);
    await ui.key(KEY.enter);
    expect(ui.frame().split('\n')[0]).toContain('╔═ Availability'); // as tall as it may be
    expect(ui.frame()).toContain('╚');
    expect(ui.frame()).not.toMatch(/╝\S*[A-Za-z]/);
    expect(ui.frame().split('\n').at(-1)).toContain('esc close');
  });
});

describe('a read-only view names no action key', () => {
  it('replay of a pending rollout and of a due checkpoint: no "press a", no "press g", no (t)', async () => {
    const plan = loadPlan();
    const pending = makeStore(plan, T0, { checklist: false }).getState();
    const due = makeStore(plan, T0);
    runningScenario(due, 6 * 60 + 5);
    const frames: ReplayFrame[] = [
      { seq: 1, state: pending },
      { seq: 2, state: due.getState() },
    ];
    const r = render(<Replay plan={plan} frames={frames} file="rollout.jsonl" columns={120} rows={40} />);
    await settle();
    const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
    expect(frame()).toContain('PENDING');
    expect(frame()).toContain('checklist 0/');
    expect(frame()).not.toContain('press a');
    expect(frame()).not.toContain('(t)');
    r.stdin.write(']');
    await settle();
    expect(frame()).toContain('GO? hour 6');
    expect(frame()).not.toContain('press g');
    // the same states in an operator's console do name the keys
    const ui = await show(makeStore(plan, T0, { checklist: false }));
    expect(ui.frame()).toContain('press a');
  });
});

describe('the wall', () => {
  it("draws a war-room person's incident summary and the plan's names with escape codes as text (blessed obeys SGR in content)", async () => {
    const seed = loadPlan();
    const plan = { ...seed, roster: { ...seed.roster, people: seed.roster.people.map((p) => ({ ...p, name: `${p.name}\u001b[41m!` })) } };
    const store = running();
    store.dispatch({ type: 'command', at: store.clock.t, actor: WARROOM, command: { kind: 'declare-incident', severity: 'P0', summary: HOSTILE } });
    const output = Object.assign(new PassThrough(), { columns: 120, rows: 40, isTTY: true });
    const wall = await startWall({ plan, store, output, source: 'embedded simulated world', everyMs: 5 });
    try {
      const t0 = Date.now();
      while (!wall.text().join('\n').includes('INC-1') && Date.now() - t0 < 10_000) await new Promise<void>((r) => setTimeout(r, 10));
      expect(wall.text().join('\n')).toContain('␛]0;PWNED␇');
      expect(wall.text().join('\n')).toMatch(/Ben Okafor␛\[41m!/);
    } finally {
      wall.destroy();
    }
  });
});
