// People in the console, against the real engine (test/helpers/state.ts): `i` declares an
// incident, the roster pane shows its escalation clock, `k` acknowledges, `I` resolves, `c` shows
// the communications rendered with real values, and a manual rollback shows the SRE's reminder.
import { describe, it, expect, afterEach } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { BINDINGS, handleKey, handleInput, INITIAL_UI } from '../components/keys.js';
import { loadPlan, makeStore, MIN, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());

const tick = () => new Promise<void>((r) => setImmediate(r));
const settle = async () => {
  await tick();
  await tick();
};
const KEY = { up: '\u001B[A', down: '\u001B[B', right: '\u001B[C', esc: '\u001B', enter: '\r', backspace: '\u007F' };

async function show(store: TestStore, columns = 120, rows = 40) {
  const plan = loadPlan();
  const r = sized(render(<App plan={plan} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} people={{ notifyOn: [], notifyOff: ['slack-eng: $CANARY_SLACK_WEBHOOK_URL is not set'], commsDir: '/tmp/comms' }} />), columns, rows);
  await settle();
  return {
    frame: () => stripVTControlCharacters(r.lastFrame() ?? ''),
    async type(s: string) {
      for (const ch of [...s]) {
        r.stdin.write(ch);
        await settle();
      }
    },
    async key(s: string) {
      r.stdin.write(s);
      await settle();
    },
  };
}

/** Moves the store's clock and ticks the engine. */
function at(store: TestStore, t: number) {
  store.clock.t = t;
  store.dispatch({ type: 'tick', at: t });
}

describe('incidents in the console', () => {
  it('i declares a P0 with a summary; the roster shows who was paged, who is next and the countdown; ! then y stops it', async () => {
    const store = makeStore(loadPlan(), T0);
    runningScenario(store, 10);
    const ui = await show(store);
    await ui.key('i');
    expect(ui.frame()).toContain('Declare an incident');
    expect(ui.frame()).toContain('[P0]');
    await ui.type('checkout api 503s');
    expect(ui.frame()).toContain('checkout api 503s');
    await ui.key(KEY.enter);
    const s = store.getState();
    expect(s.incidents).toHaveLength(1);
    expect(s.incidents[0]).toMatchObject({ severity: 'P0', summary: 'checkout api 503s', openedBy: OPERATOR.name });
    let f = ui.frame();
    expect(f).not.toContain('Declare an incident');
    expect(f).toContain('● INC-1 P0');
    expect(f).toMatch(/paged Ben Okafor, Dev Raman/);
    expect(f).toMatch(/next in 15m: Product Manager, CTO/);
    expect(f).toContain('● 1 incident');
    expect(f).toContain('INC-1 P0 ! ack I resolve'); // status bar: the incident keys while it is open
    // 16 minutes later: product lead and CTO paged, CEO and VP CS next in 14 minutes
    at(store, store.clock.t + 16 * MIN);
    await settle();
    f = ui.frame();
    expect(f).toMatch(/paged Ben Okafor, Dev Raman, Emma Brandt/);
    expect(f).toMatch(/│\s+Jon Weller\s+│/); // the paged list wraps in a narrow pane
    expect(f).toMatch(/next in 14m: CEO, VP Customer Success/);
    await ui.key('!');
    expect(ui.frame()).toContain('Acknowledge an incident');
    expect(store.getState().incidents[0]!.ackedBy).toBeUndefined(); // ! only asks
    await ui.key('y');
    f = ui.frame();
    expect(store.getState().incidents[0]!.ackedBy).toBe(OPERATOR.name);
    expect(f).toMatch(/clock stopped: acked by Ana Ortiz \+16m/);
    expect(f).not.toContain('! ack');
    expect(f).toContain('INC-1 P0 I resolve'); // still open: the resolve key stays
    at(store, store.clock.t + 60 * MIN);
    expect(store.effects.filter((e) => e.type === 'notify' && e.kind === 'escalation')).toHaveLength(2);
  });

  it('severity with →, backspace edits, esc cancels without declaring', async () => {
    const store = makeStore(loadPlan(), T0);
    const ui = await show(store);
    await ui.key('i');
    await ui.key(KEY.right);
    expect(ui.frame()).toContain('[P1]');
    await ui.type('slow');
    await ui.key(KEY.backspace);
    expect(ui.frame()).toMatch(/Summary\s+slo▏/);
    await ui.key(KEY.esc);
    await new Promise((r) => setTimeout(r, 60)); // Ink tells a lone ESC from a sequence after a moment
    await settle();
    expect(ui.frame()).not.toContain('Declare an incident');
    expect(store.getState().incidents).toHaveLength(0);
  });

  it('in the incident dialog R is a letter of the summary; esc, then R y rolls back', () => {
    const ctx = { status: 'running' as const };
    let r = handleKey(INITIAL_UI, 'i', {}, ctx);
    r = handleKey(r.ui, 'd', {}, ctx);
    r = handleKey(r.ui, 'R', {}, ctx);
    expect(r.ui.overlay).toEqual({ kind: 'declare-incident', draft: { severity: 'P0', summary: 'dR' } });
    r = handleKey(r.ui, 'y', {}, ctx);
    expect(r.command).toBeUndefined();
    expect(r.ui.overlay).toEqual({ kind: 'declare-incident', draft: { severity: 'P0', summary: 'dRy' } });
    const closed = handleKey(r.ui, '', { escape: true }, ctx);
    const rb = handleKey(handleKey(closed.ui, 'R', {}, ctx).ui, 'y', {}, ctx);
    expect(rb.command).toEqual({ kind: 'rollback' });
    // a fast burst is text in the dialog (not keys): `kIc` types, it does not acknowledge
    const typed = handleInput(r.ui, 'kIc', {}, ctx);
    expect(typed.commands).toEqual([]);
    expect(typed.ui.overlay).toMatchObject({ kind: 'declare-incident', draft: { summary: 'dRykIc' } });
  });

  it('I resolves the chosen incident of several; ! y acks the most severe first', async () => {
    const store = makeStore(loadPlan(), T0);
    store.dispatch({ type: 'command', at: T0, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P2', summary: 'tooltip typo' } });
    store.dispatch({ type: 'command', at: T0, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P1', summary: 'slow search' } });
    const ui = await show(store);
    await ui.key('!');
    await ui.key('y');
    expect(store.getState().incidents.map((i) => i.ackedAt !== undefined)).toEqual([false, true]);
    await ui.key('I');
    let f = ui.frame();
    expect(f).toContain('Resolve an incident');
    expect(f).toMatch(/▶ INC-2 P1 slow search/);
    await ui.key(KEY.down);
    expect(ui.frame()).toMatch(/▶ INC-1 P2 tooltip typo/);
    await ui.key('y');
    expect(store.getState().incidents.map((i) => i.resolvedAt !== undefined)).toEqual([true, false]);
    f = ui.frame();
    expect(f).not.toContain('Resolve an incident');
    expect(f).toContain('INC-2 P1');
    expect(f).not.toMatch(/[●○] INC-1/);
  });

  it('every new key is in the help overlay; the old keys keep their meaning', async () => {
    // enter is the SLI details in the SLIs pane and describe-the-pod in the pods pane: one per pane.
    const keys = BINDINGS.filter((b) => b.action !== 'inspect').flatMap((b) => b.keys);
    for (const k of ['i', 'k', 'I', 'c', '?', 'tab', '/', 'a', 'g', 'A', 'p', 'R', 'enter', 'q']) expect(keys).toContain(k);
    expect(new Set(keys).size).toBe(keys.length); // no key bound twice
    const ui = await show(makeStore(loadPlan(), T0));
    await ui.key('?');
    const f = ui.frame();
    expect(f).toContain('People');
    expect(f).toContain('declare an incident');
    expect(f).toContain('acknowledge: stop the escalation clock');
    expect(f).toContain('resolve an incident');
    expect(f).toContain('communications: preview, w writes files');
    const ctx = { status: 'running' as const };
    expect(handleKey(INITIAL_UI, 'a', {}, ctx).ui.overlay.kind).toBe('confirm-advance');
    expect(handleKey(handleKey(INITIAL_UI, 'g', {}, ctx).ui, 'y', {}, ctx).command).toEqual({ kind: 'ack-checkpoint' }); // g asks now (g is k9s's "top")
    expect(handleKey(INITIAL_UI, 'p', {}, ctx).command).toEqual({ kind: 'pause' });
  });
});

describe('communications and reminders in the console', () => {
  it('c previews the schedule and the templates rendered for the current phase; w asks the engine to write them', async () => {
    const store = makeStore(loadPlan(), T0);
    runningScenario(store, 10);
    const ui = await show(store, 120, 40);
    await ui.key('c');
    const f = ui.frame();
    expect(f).toContain('Communications');
    expect(f).toMatch(/! T-24h\s+Notification of canary inclusion \[customer-canary-update\] - due since/);
    expect(f).toMatch(/· T\+6h\s+Initial health check communication \[health-check\]/);
    expect(f).toContain('off: slack-eng: $CANARY_SLACK_WEBHOOK_URL is not set');
    expect(f).toContain('w writes the files below to /tmp/comms');
    expect(f).toContain('Subject: Maestro Conductor vNext - Canary Deployment Update');
    expect(f).toContain('Canary 1%');
    await ui.key(KEY.down);
    await ui.key('w');
    const write = store.effects.find((e) => e.type === 'write-communications');
    expect(write?.type === 'write-communications' && write.files.map((x) => x.name.replace(/^.*-canary-1-/, ''))).toEqual([
      'customer-canary-update.md',
      'deployment-confirmation.md',
      'health-check.md',
      'daily-status.md',
      'phase-summary.md',
    ]);
    // the rendered dashboard link and phase are in the file text
    expect(write?.type === 'write-communications' && write.files[0]!.text).toContain('https://status.maestro-conductor.com/canary');
  });

  it('after R y by an SRE, the roster shows the 15-minute notice reminder counting down, then overdue', async () => {
    const store = makeStore(loadPlan(), T0);
    runningScenario(store, 10);
    const ui = await show(store);
    await ui.key('R');
    await ui.key('y');
    expect(store.getState().status).toBe('rolled-back');
    let f = ui.frame();
    expect(f).toMatch(/⏰ 15m left: notify stakeholders/);
    at(store, store.clock.t + 10 * MIN);
    await settle();
    expect(ui.frame()).toMatch(/⏰ 5m left: notify stakeholders/);
    at(store, store.clock.t + 6 * MIN);
    await settle();
    f = ui.frame();
    expect(f).toMatch(/⏰ OVERDUE by 1m: notify stakeholders/);
  });
});
