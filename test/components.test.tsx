// The console against the real engine: a tiny store reduces every event (test/helpers/state.ts),
// keys go in through ink-testing-library's stdin, frames come out of lastFrame().
import { vi, describe, it, expect, afterEach } from 'vitest';
// Colours on (the test process is not a TTY), so the NO_COLOR test has something to turn off;
// and no NO_COLOR from the environment except where a test sets it.
vi.hoisted(() => {
  process.env['FORCE_COLOR'] = '1';
  delete process.env['NO_COLOR'];
});
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { cellWidth, formatAge, truncateMiddle, wrap } from '../components/format.js';
import { BINDINGS, handleKey, INITIAL_UI, type UiState } from '../components/keys.js';
import { computeLayout } from '../components/layout.js';
import { podModel, filterRows } from '../components/pods.js';
import { sparkline } from '../components/sparkline.js';
import { whoIs } from '../src/engine/roster.js';
import type { RolloutState } from '../src/engine/types.js';
import { CHLOE, DEV, HOUR, loadPlan, makeStore, manyPods, MIN, OPERATOR, runningScenario, samples, seen, T0, type TestStore } from './helpers/state.js';

afterEach(() => {
  cleanup();
  delete process.env['NO_COLOR'];
});

/** One turn of the event loop. */
const tick = () => new Promise<void>((r) => setImmediate(r));
/** Let the screen catch up: React schedules renders on the next turn, and Ink waits a turn to tell
 * a lone ESC from an escape sequence. Commands never wait for this (see the mid-redraw test). */
const settle = async () => {
  await tick();
  await tick();
};

const KEY = { up: '\u001B[A', down: '\u001B[B', pgdn: '\u001B[6~', pgup: '\u001B[5~', home: '\u001B[H', end: '\u001B[F', esc: '\u001B', tab: '\t', enter: '\r', backspace: '\u007F' };

const plain = (frame: string | undefined) => stripVTControlCharacters(frame ?? '');
const COLOUR_SGR = /\u001B\[(?:\d+;)*(?:3\d|4\d|9[0-7]|10[0-7])(?:;\d+)*m/;

interface Rendered {
  store: TestStore;
  frame(): string;
  raw(): string;
  write(s: string): void;
  onQuit: ReturnType<typeof vi.fn>;
}

/** Render the App over `store` at a terminal of `columns` x `rows` (stdout is resized to match, so
 * Ink lays out at that width too). */
async function show(store: TestStore, columns = 80, rows = 24): Promise<Rendered> {
  const plan = loadPlan();
  const onQuit = vi.fn();
  const r = sized(render(<App plan={plan} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={onQuit} />), columns, rows);
  await settle();
  return { store, frame: () => plain(r.lastFrame()), raw: () => r.lastFrame() ?? '', write: (s) => r.stdin.write(s), onQuit };
}

function running(minutes = 10): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, minutes);
  return store;
}

function pending(approved: boolean): TestStore {
  const store = seen(makeStore(loadPlan(), T0));
  if (approved) {
    store.dispatch({ type: 'approve', at: T0, actor: DEV, phase: 'canary-1', role: 'eng-lead' });
    store.dispatch({ type: 'approve', at: T0, actor: CHLOE, phase: 'canary-1', role: 'sre-lead' });
  }
  return store;
}

const rollbacks = (store: TestStore) => store.effects.filter((e) => e.type === 'rollback');
const commands = (store: TestStore) => store.events.flatMap((e) => (e.type === 'command' ? [e.command.kind] : []));

function expectFits(frame: string, columns: number, rows: number): void {
  const lines = frame.split('\n');
  expect(lines.length).toBeLessThanOrEqual(rows);
  for (const line of lines) expect(cellWidth(line), line).toBeLessThanOrEqual(columns);
}

describe('layout', () => {
  for (const [columns, rows] of [
    [80, 24],
    [120, 40],
  ] as const) {
    it(`shows all four panes and the status bar at ${columns}x${rows}, within the terminal`, async () => {
      const store = running();
      const ui = await show(store, columns, rows);
      const f = ui.frame();
      for (const title of ['Phases', 'SLIs', 'Pods', 'Roster']) expect(f).toContain(title);
      expect(f).toContain('Canary 1%: internal validation');
      expect(f).toMatch(/[▁▂▃▄▅▆▇█]{4}/);
      const primary = whoIs(loadPlan(), 'sre-primary', store.getState().now).person!.name;
      expect(f).toContain(primary);
      const last = f.split('\n').at(-1)!;
      expect(last).toContain('RUNNING');
      expect(last).toContain('1%');
      expect(last).toMatch(/R.?rollback/);
      expect(f).toContain('▶ Phases'); // focus: a glyph, not only a colour
      expect(f).toContain('≥ 99.9%'); // a target from the plan
      expectFits(f, columns, rows);
      expect(f.split('\n')).toHaveLength(rows);
    });
  }

  it('marks the CrashLoopBackOff pod with ✗ and the Pending one with !', async () => {
    const ui = await show(running(), 120, 40);
    const f = ui.frame();
    expect(f).toMatch(/│✗ orchestr\S* +canary .*CrashLoopBac/);
    expect(f).toMatch(/│! orchestr\S* +stable .*Pending/);
    expect(f).toContain('✗ 1 CrashLoopBackOff');
    expect(f).toContain('4 canary · 6 stable');
  });

  it('keeps within the terminal at other sizes too', async () => {
    for (const [c, r] of [
      [100, 30],
      [90, 20],
      [160, 50],
    ] as const) {
      const ui = await show(running(), c, r);
      expectFits(ui.frame(), c, r);
      cleanup();
    }
  });

  it('computes a 2x2 grid from 100 columns and a stacked layout below', () => {
    expect(computeLayout(80, 24).mode).toBe('narrow');
    expect(computeLayout(120, 40).mode).toBe('wide');
    for (const [c, r] of [
      [80, 24],
      [120, 40],
      [60, 12],
      [200, 60],
    ] as const) {
      const l = computeLayout(c, r);
      if (l.mode === 'wide') {
        expect(l.phases.width + l.slis.width).toBe(c);
        expect(l.pods.width + l.roster.width).toBe(c);
        expect(l.phases.height + l.pods.height + 1).toBeLessThanOrEqual(r);
      } else {
        expect(l.phases.width + l.roster.width).toBe(c);
        expect(l.phases.height + l.slis.height + l.pods.height + 1).toBeLessThanOrEqual(r);
      }
    }
  });
});

describe('keys', () => {
  it('? opens help and esc closes it', async () => {
    const ui = await show(running());
    ui.write('?');
    await settle();
    expect(ui.frame()).toContain('Keys');
    expect(ui.frame()).toContain('roll back (y confirms)');
    ui.write(KEY.esc);
    await settle();
    expect(ui.frame()).not.toContain('roll back (y confirms)');
  });

  it('/ and typing filter the pods table; esc clears the filter', async () => {
    const ui = await show(running(), 120, 40);
    expect(ui.frame()).toContain('orchestr');
    ui.write('/');
    for (const ch of 'crash') ui.write(ch);
    await settle();
    let f = ui.frame();
    expect(f).toContain('/crash');
    // The pods pane has the focus: its first row is marked (>), the pod enter describes.
    expect(f).toMatch(/│✗>orchestr.*CrashLoopBac/);
    expect(f).not.toMatch(/│ [ >]orchestr/); // healthy rows are filtered out
    expect(f).toContain('rows 1-1 of 1/10');
    ui.write(KEY.enter);
    ui.write(KEY.esc);
    await settle();
    f = ui.frame();
    expect(f).not.toContain('/crash');
    expect(f).toContain('rows 1-10 of 10');
  });

  it('a with missing approvals shows the blockers and does not advance', async () => {
    const store = pending(false);
    const ui = await show(store, 100, 30);
    ui.write('a');
    await settle();
    const f = ui.frame();
    expect(f).toContain('Open the gate: Canary 1%');
    expect(f).toContain('Blocked: approval from Engineering Lead missing');
    expect(f).toContain('Blocked: approval from SRE Lead missing');
    ui.write('y'); // any key closes; y does not send a refused command
    expect(commands(store)).toEqual([]);
    expect(store.getState().status).toBe('pending');
  });

  it('a then y advances when the gate allows it', async () => {
    const store = pending(true);
    const ui = await show(store);
    ui.write('a');
    await settle();
    expect(ui.frame()).toContain('Press y to do it');
    ui.write('y');
    expect(commands(store)).toEqual(['advance']);
    expect(store.getState().status).toBe('running');
    expect(store.effects.some((e) => e.type === 'set-weight' && e.weight === 1)).toBe(true);
  });

  it('a then n does nothing', async () => {
    const store = pending(true);
    const ui = await show(store);
    ui.write('a');
    ui.write('n');
    expect(commands(store)).toEqual([]);
  });

  it('g then y gives the GO at a due checkpoint (g alone only asks: it is k9s\'s "top")', async () => {
    const store = running();
    store.clock.t += 6 * HOUR;
    store.dispatch({ type: 'tick', at: store.clock.t });
    const ui = await show(store);
    expect(ui.frame()).toContain('⚑ GO? hour 6 Basic functionality validation');
    ui.write('g');
    await settle();
    expect(commands(store).at(-1)).not.toBe('ack-checkpoint');
    expect(ui.frame()).toContain('Basic functionality validation" came due');
    ui.write('y');
    expect(commands(store).at(-1)).toBe('ack-checkpoint');
    const cp = store.getState().checkpoints['canary-1']![0]!;
    expect(cp.ackedAt).toBeDefined();
    await settle();
    expect(ui.frame()).not.toContain('GO? hour 6');
  });

  it('p pauses and p again resumes', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('p');
    expect(store.getState().status).toBe('paused');
    await settle();
    expect(ui.frame()).toContain('PAUSED');
    ui.write('p');
    expect(store.getState().status).toBe('running');
  });

  it('R then y rolls back', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('R');
    await settle();
    expect(ui.frame()).toContain('ROLL BACK maestro-conductor-rc');
    ui.write('y');
    expect(rollbacks(store)).toHaveLength(1);
    expect(store.getState().status).toBe('rolled-back');
    await settle();
    expect(ui.frame()).toContain('ROLLED BACK');
  });

  it('R then n does nothing', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('R');
    ui.write('n');
    expect(rollbacks(store)).toHaveLength(0);
    expect(store.getState().status).toBe('running');
    await settle();
    expect(ui.frame()).not.toContain('ROLL BACK');
  });

  it('R then y rolls back with help open', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('?');
    ui.write('R');
    ui.write('y');
    expect(rollbacks(store)).toHaveLength(1);
  });

  it('in the pod filter R is a letter; esc, then R y rolls back', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('/');
    ui.write('o');
    ui.write('R');
    ui.write('y');
    expect(rollbacks(store)).toHaveLength(0);
    ui.write('\u001B'); // esc leaves the prompt (and clears it)
    await settle(); // (an escape followed at once by R would be alt-R)
    ui.write('R');
    ui.write('y');
    expect(rollbacks(store)).toHaveLength(1);
  });

  it('R then y rolls back from the advance dialog', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('a');
    ui.write('R');
    ui.write('y');
    expect(rollbacks(store)).toHaveLength(1);
  });

  it('R then y rolls back mid-redraw, without waiting for a render', async () => {
    const store = running();
    const ui = await show(store);
    let t = store.clock.t;
    let afterY = -1;
    for (let i = 0; i < 40; i++) {
      t += 5000;
      store.dispatch({ type: 'sli.samples', at: t, samples: samples(100 + i) });
      if (i === 20) ui.write('R');
      if (i === 21) {
        ui.write('y');
        // recorded by the time write() returns: no render, no await in between
        afterY = rollbacks(store).length;
      }
    }
    expect(afterY).toBe(1);
    expect(store.getState().status).toBe('rolled-back');
  });

  it('q asks while a rollout is in progress, and quits on y', async () => {
    const store = running();
    const ui = await show(store);
    ui.write('q');
    await settle();
    const f = ui.frame();
    for (const words of ['A rollout is in progress; quitting stops watching it', 'leaves traffic', '(1%). Quit? y/N']) expect(f).toContain(words);
    expect(ui.onQuit).not.toHaveBeenCalled();
    ui.write('y');
    expect(ui.onQuit).toHaveBeenCalledTimes(1);
  });

  it('q quits at once when nothing is in progress', async () => {
    const ui = await show(pending(false));
    ui.write('q');
    expect(ui.onQuit).toHaveBeenCalledTimes(1);
  });

  it('tab moves the focus, shown by a glyph', async () => {
    const ui = await show(running());
    ui.write(KEY.tab);
    await settle();
    expect(ui.frame()).toContain('▶ SLIs');
    expect(ui.frame()).not.toContain('▶ Phases');
  });
});

describe('rendering', () => {
  it('NO_COLOR: no colour escapes, glyphs still there', async () => {
    const colour = await show(running());
    expect(colour.raw()).toMatch(COLOUR_SGR); // the control: colours are on otherwise
    cleanup();
    process.env['NO_COLOR'] = '1';
    const ui = await show(running());
    const raw = ui.raw();
    expect(raw).not.toMatch(COLOUR_SGR);
    for (const g of ['✓', '✗', '▶', '·']) expect(raw).toContain(g);
  });

  it('shows a rollback reason with the rule, the value and the threshold', async () => {
    const store = running();
    store.clock.t += MIN;
    store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(50, { latency_p95: 1500 }) });
    expect(store.getState().status).toBe('rolled-back');
    for (const [c, r] of [
      [120, 40],
      [80, 24],
    ] as const) {
      const ui = await show(store, c, r);
      const f = ui.frame();
      expect(f).toContain('✗ ROLLED BACK from 1%');
      for (const word of ['automatic', 'trigger:', 'p95', 'latency', 'threshold', '(latency_p95_threshold):', '1500ms', '>=', '1000ms']) expect(f).toContain(word);
      expect(f.split('\n').at(-1)).toContain('ROLLED BACK');
      expectFits(f, c, r);
      cleanup();
    }
  });

  it('no data is shown as — and ?, never as 0', async () => {
    const store = makeStore(loadPlan(), T0);
    const ui = await show(store, 120, 40);
    const f = ui.frame();
    expect(f).toMatch(/Availability +— +— +≥ 99.9% .*\? +—/);
    expect(f).toContain('critical — ?');
    expect(f).toContain('PENDING');
    expect(f).toContain('approvals 0/2');
  });

  it('shows a weight not yet confirmed, and the holds', async () => {
    const store = pending(true);
    store.dispatch({ type: 'command', at: T0, actor: OPERATOR, command: { kind: 'advance' } });
    store.clock.t = T0 + MIN;
    store.dispatch({ type: 'tick', at: store.clock.t });
    const ui = await show(store, 120, 40);
    const f = ui.frame();
    expect(f.split('\n').at(-1)).toContain('0% → 1% (applying)');
    expect(f).toContain('│  traffic 0% → 1% not confirmed yet');
    expect(f).toContain('! hold: waiting for the traffic provider to');
  });

  it('marks stale samples with ⌛', async () => {
    const store = running();
    store.clock.t += 5 * MIN;
    store.dispatch({ type: 'tick', at: store.clock.t });
    const ui = await show(store, 120, 40);
    expect(ui.frame()).toMatch(/5m⌛/);
  });

  it('renders only the visible window of 3,000 pods and scrolls it', async () => {
    const store = running();
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) store.dispatch({ type: 'pods.sync', at: store.clock.t, region, pods: manyPods(1000, region) });
    expect(store.getState().pods.size).toBe(3000);
    const ui = await show(store, 120, 40);
    let f = ui.frame();
    expectFits(f, 120, 40);
    const rows = f.split('\n').filter((l) => /│[ ✗!] orchestr/.test(l));
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(40);
    expect(f).toContain(`rows 1-${rows.length} of 3000`);
    expect(f).toContain('300 canary · 2700 stable');
    // canary first
    expect(rows[0]).toContain('canary');
    ui.write(KEY.tab);
    ui.write(KEY.tab); // phases -> slis -> pods
    ui.write(KEY.pgdn);
    await settle();
    f = ui.frame();
    expect(f).toContain(`rows ${rows.length + 1}-${2 * rows.length} of 3000`);
    ui.write(KEY.end);
    await settle();
    expect(ui.frame()).toContain(`rows ${3000 - rows.length + 1}-3000 of 3000`);
    ui.write(KEY.up);
    await settle();
    expect(ui.frame()).toContain(`rows ${3000 - rows.length}-2999 of 3000`);
    ui.write(KEY.home);
    await settle();
    expect(ui.frame()).toContain(`rows 1-${rows.length} of 3000`);
  });
});

describe('handleKey (pure)', () => {
  const ctx = { status: 'running' as const, podCount: 100, pageSize: 10 };
  const states: UiState[] = [
    INITIAL_UI,
    { ...INITIAL_UI, overlay: { kind: 'help', offset: 0 } },
    { ...INITIAL_UI, overlay: { kind: 'confirm-advance' } },
    { ...INITIAL_UI, overlay: { kind: 'confirm-quit' } },
    { ...INITIAL_UI, overlay: { kind: 'confirm-rollback' } },
  ];

  it('R, y is a rollback from every state but a text prompt (there R is a letter)', () => {
    const editing: UiState = { ...INITIAL_UI, focus: 'pods', editingFilter: true, filter: 'orch' };
    expect(handleKey(editing, 'R', { shift: true }, ctx)).toEqual({ ui: { ...editing, filter: 'orchr' } });
    for (const s of states) {
      const a = handleKey(s, 'R', { shift: true }, ctx);
      expect(a.command).toBeUndefined();
      expect(a.ui.overlay.kind).toBe('confirm-rollback');
      const b = handleKey(a.ui, 'y', {}, ctx);
      expect(b.command).toEqual({ kind: 'rollback' });
      expect(b.ui.overlay.kind).toBe('none');
    }
  });

  it('only y confirms; other keys cancel', () => {
    const open: UiState = { ...INITIAL_UI, overlay: { kind: 'confirm-rollback' } };
    for (const [input, key] of [
      ['n', {}],
      ['Y', { shift: true }],
      ['', { return: true }],
      ['', { escape: true }],
      [' ', {}],
    ] as const) {
      const r = handleKey(open, input, key, ctx);
      expect(r.command).toBeUndefined();
      expect(r.ui.overlay.kind).toBe('none');
    }
  });

  it('a paste is never a command', () => {
    expect(handleKey(INITIAL_UI, 'Ry', {}, ctx)).toEqual({ ui: INITIAL_UI });
    const editing: UiState = { ...INITIAL_UI, editingFilter: true };
    expect(handleKey(editing, 'my-pod', {}, ctx).ui.filter).toBe('my-pod');
  });

  it('p pauses or resumes by status; g and a open their dialogs, y does it', () => {
    expect(handleKey(INITIAL_UI, 'p', {}, ctx).command).toEqual({ kind: 'pause' });
    expect(handleKey(INITIAL_UI, 'p', {}, { status: 'paused' }).command).toEqual({ kind: 'resume' });
    expect(handleKey(INITIAL_UI, 'p', {}, { status: 'pending' }).command).toBeUndefined();
    // g is k9s's "top": it only opens the go's confirmation; y gives the go
    const go = handleKey(INITIAL_UI, 'g', {}, ctx);
    expect(go.command).toBeUndefined();
    expect(handleKey(go.ui, 'y', {}, ctx).command).toEqual({ kind: 'ack-checkpoint' });
    expect(handleKey(INITIAL_UI, 'a', {}, ctx).ui.overlay.kind).toBe('confirm-advance');
    const blocked = handleKey({ ...INITIAL_UI, overlay: { kind: 'confirm-advance' } }, 'y', {}, { ...ctx, canAdvance: false });
    expect(blocked.command).toBeUndefined();
  });

  it('no rollback command when there is nothing to roll back', () => {
    const open: UiState = { ...INITIAL_UI, overlay: { kind: 'confirm-rollback' } };
    expect(handleKey(open, 'y', {}, { status: 'pending' }).command).toBeUndefined();
    expect(handleKey(open, 'y', {}, { status: 'rolled-back' }).command).toBeUndefined();
  });

  it('scrolls only when the pods pane has the focus, clamped', () => {
    expect(handleKey(INITIAL_UI, 'j', {}, ctx).ui.podsOffset).toBe(0);
    const pods: UiState = { ...INITIAL_UI, focus: 'pods' };
    expect(handleKey(pods, 'j', {}, ctx).ui.podsOffset).toBe(1);
    expect(handleKey(pods, '', { pageDown: true }, ctx).ui.podsOffset).toBe(10);
    expect(handleKey(pods, '', { end: true }, ctx).ui.podsOffset).toBe(90);
    expect(handleKey(pods, '', { upArrow: true }, ctx).ui.podsOffset).toBe(0);
  });

  it('every binding is documented with a group', () => {
    for (const b of BINDINGS) {
      expect(b.help.length).toBeGreaterThan(0);
      expect(b.keys.length).toBeGreaterThan(0);
    }
    expect(BINDINGS.find((b) => b.action === 'rollback')!.keys).toEqual(['R']);
  });
});

describe('helpers', () => {
  it('sparkline: fits the width, gaps for no data, right-aligned', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([1, null, 3], 5)).toBe('  ▁·█');
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4)).toBe('▁▃▆█');
    expect(sparkline([], 3)).toBe('   ');
    expect(sparkline([0, 0], 2)).toBe('▁▁');
  });

  it('formats ages like kubectl', () => {
    expect(formatAge(45_000)).toBe('45s');
    expect(formatAge(12 * MIN)).toBe('12m');
    expect(formatAge(3 * HOUR + 5 * MIN)).toBe('3h');
    expect(formatAge(50 * HOUR)).toBe('2d');
  });

  it('wraps and truncates by terminal cells', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('aaaaaaaaaa', 4)).toEqual(['aaaa', 'aaaa', 'aa']);
    expect(truncateMiddle('orchestrator-canary-7d9f-0', 16)).toBe('orchestr…-7d9f-0');
    expect(cellWidth('4s⌛')).toBe(4);
  });

  it('sorts pods unhealthy first (issue 16), then canary, region and name, and filters them', () => {
    const pods = new Map([...manyPods(20, 'us-west-2'), ...manyPods(20, 'eu-west-1')].map((p) => [p.key, p] as const));
    const m = podModel(pods);
    const rank = { crash: 0, waiting: 1, ok: 2 } as const;
    const ranks = m.rows.map((r) => rank[r.health]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks[0]).toBe(0);
    const healthy = m.rows.filter((r) => r.health === 'ok');
    expect(m.rows.slice(0, 2).map((r) => `${r.pod.reason}/${r.pod.region}`)).toEqual(['CrashLoopBackOff/eu-west-1', 'CrashLoopBackOff/us-west-2']);
    expect(healthy.map((r) => `${r.pod.track}/${r.pod.region}`).slice(0, 4)).toEqual(['canary/eu-west-1', 'canary/eu-west-1', 'canary/us-west-2', 'canary/us-west-2']);
    expect(filterRows(m.rows, 'CRASH').every((r) => r.pod.reason === 'CrashLoopBackOff')).toBe(true);
  });
});

describe('SLI details, judgment and source health (what is behind a verdict)', () => {
  it('tab to the SLIs pane, ↓ selects the next SLI, enter shows its criterion, rules, judgment and query', async () => {
    const ui = await show(running(90), 120, 40);
    ui.write(KEY.tab);
    await settle();
    ui.write(KEY.down);
    await settle();
    expect(ui.frame()).toMatch(/▸Latency p95/);
    ui.write(KEY.enter);
    await settle();
    const f = ui.frame();
    expect(f).toContain('Latency p95 (latency_p95)');
    expect(f).toMatch(/criterion: canary < 500ms \(seed: <500ms\) over 5m: ✓ pass/);
    expect(f).toMatch(/rule latency_p95_threshold \[automatic\]: roll back when canary >= 1000ms: not tripped/);
    expect(f).toMatch(/rule latency_degradation \[circuit-breaker\]: roll back when canary >= 3x baseline/);
    expect(f).toMatch(/judgment \(98%\): latency_p95: canary median \d+/);
    expect(f).toContain('histogram_quantile(0.95');
    // R still rolls back from here.
    ui.write('R');
    await settle();
    ui.write('y');
    expect(ui.store.effects.some((e) => e.type === 'rollback')).toBe(true);
  });

  it('esc closes the details; the pane title carries the judgment verdict and score', async () => {
    const ui = await show(running(90), 120, 40);
    expect(ui.frame()).toMatch(/judgment ✓ pass 100/);
    ui.write(KEY.tab);
    await settle();
    ui.write(KEY.enter);
    await settle();
    expect(ui.frame()).toContain('Availability (availability)');
    ui.write(KEY.esc);
    await settle();
    await settle();
    expect(ui.frame()).not.toContain('Availability (availability)');
  });

  it('a failing source is shown in the status bar and holds the rollout with its message', async () => {
    const store = running(30);
    store.dispatch({ type: 'source.status', at: store.clock.t, source: 'prometheus', ok: false, message: 'Prometheus GET http://127.0.0.1:9090/api/v1/query: cannot reach 127.0.0.1:9090: connection refused' });
    const ui = await show(store, 120, 40);
    const f = ui.frame();
    expect(f).toContain('✗ prometheus');
    expect(f).toMatch(/source prometheus failing/);
  });
});

describe('keys under load and keys that say no', () => {
  it('R and y arriving in one read (a busy event loop) still roll back', async () => {
    const ui = await show(running(30), 120, 40);
    ui.write('Ry');
    expect(ui.store.effects.some((e) => e.type === 'rollback')).toBe(true);
  });

  it('a longer paste outside the filter prompt is never a command', async () => {
    const ui = await show(running(30), 120, 40);
    ui.write('xxRyxx');
    await settle();
    expect(ui.store.effects.some((e) => e.type === 'rollback')).toBe(false);
  });

  it('the advance dialog confirms the move it showed: if the next gate changed, the engine refuses and says so', async () => {
    const store = running(30);
    const ui = await show(store, 120, 40);
    ui.write('a');
    await settle();
    expect(ui.frame()).toContain('Open the gate: Canary 5%');
    // Meanwhile someone else rolls back: the next move is now "restart at 1%".
    store.dispatch({ type: 'command', at: store.clock.t, actor: CHLOE, command: { kind: 'rollback' } });
    // (A restart waits until the rollback is confirmed.)
    const rb = rollbacks(store).at(-1)!;
    store.dispatch({ type: 'effect.result', at: store.clock.t, effectId: rb.id, ok: true, detail: 'rolled back', weight: 0 });
    store.dispatch({ type: 'approve', at: store.clock.t, actor: DEV, phase: 'canary-1', role: 'eng-lead' });
    store.dispatch({ type: 'approve', at: store.clock.t, actor: CHLOE, phase: 'canary-1', role: 'sre-lead' });
    await settle();
    expect(ui.frame()).toContain('Open the gate: Canary 5%'); // the dialog keeps the words it opened with
    ui.write('y');
    await settle();
    expect(store.getState().status).toBe('rolled-back'); // not restarted behind the person's back
    expect(ui.frame()).toMatch(/refused - the next move has changed/);
  });

  it('g with no checkpoint due: its dialog says no checkpoint is waiting, and y gives nothing', async () => {
    const store = running(30);
    const ui = await show(store, 120, 40);
    ui.write('g');
    await settle();
    expect(ui.frame()).toContain('No checkpoint is waiting for a go.');
    ui.write('y');
    await settle();
    expect(commands(store)).not.toContain('ack-checkpoint');
    expect(ui.frame()).not.toContain('No checkpoint is waiting');
  });

  it('A approves the next gate in the role of the person at the keyboard, once', async () => {
    const store = makeStore(loadPlan(), T0);
    const plan = loadPlan();
    const r = render(<App plan={plan} store={store} actor={DEV} now={() => store.clock.t} columns={120} rows={40} />);
    await settle();
    r.stdin.write('A');
    await settle();
    expect(store.getState().approvals['canary-1']).toEqual([{ role: 'eng-lead', by: 'Dev Raman', at: T0 }]);
    expect(plain(r.lastFrame())).toContain('Dev Raman approved Canary 1%: internal validation as Engineering Lead');
    r.stdin.write('A');
    await settle();
    expect(store.getState().approvals['canary-1']).toHaveLength(1);
    expect(plain(r.lastFrame())).toContain('one person fills one role');
    r.unmount();
  });
});
