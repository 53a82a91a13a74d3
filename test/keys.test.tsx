// The key registry (components/keys.ts) and the key config (src/config/keys.ts), through the
// console's frames: dispatch order, read-only views, refusals before any dialog, remapped keys in
// help, the incident keys that habit cannot hit, and help at 80x24.
import { describe, it, expect, afterEach, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { phaseKeys, phaseLines } from '../components/PhasesPane.js';
import { Replay, type ReplayFrame } from '../components/Replay.js';
import { handleKey, INITIAL_UI, type KeyContext, type UiState } from '../components/keys.js';
import { ACTION_NAMES, checkKeymap, DEFAULT_KEYMAP, type Keymap } from '../src/config/keys.js';
import { parseKeyConfig } from '../src/config/key-config.js';
import { configPath, loadKeymap } from '../src/config/file.js';
import { readEnv } from '../src/env.js';
import type { Actor } from '../src/engine/types.js';
import { loadPlan, makeStore, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';

afterEach(() => cleanup());

const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const KEY = { up: '\u001B[A', down: '\u001B[B', pgdn: '\u001B[6~', end: '\u001B[F', esc: '\u001B', tab: '\t', enter: '\r' };
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');
const commands = (store: TestStore) => store.events.flatMap((e) => (e.type === 'command' ? [e.command.kind] : []));

async function show(store: TestStore, opts: { actor?: Actor; keymap?: Keymap; columns?: number; rows?: number } = {}) {
  const columns = opts.columns ?? 120;
  const rows = opts.rows ?? 40;
  const onQuit = vi.fn();
  const r = sized(
    render(<App plan={loadPlan()} store={store} actor={opts.actor ?? OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} onQuit={onQuit} {...(opts.keymap ? { keymap: opts.keymap } : {})} />),
    columns,
    rows,
  );
  await settle();
  return {
    frame: () => plain(r.lastFrame()),
    statusLine: () => plain(r.lastFrame()).split('\n').at(-1) ?? '',
    key: async (s: string) => {
      r.stdin.write(s);
      await settle();
    },
    /** Ink draws on its own schedule: wait for the frame to show this (never a fixed sleep). */
    until: async (what: RegExp | string, where: () => string = () => plain(r.lastFrame())) => {
      const t0 = Date.now();
      while (!(typeof what === 'string' ? where().includes(what) : what.test(where()))) {
        if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${String(what)} in:\n${where()}`);
        await new Promise<void>((res) => setImmediate(res));
      }
    },
    onQuit,
  };
}

function running(minutes = 10): TestStore {
  const store = makeStore(loadPlan(), T0);
  runningScenario(store, minutes);
  return store;
}

function withIncident(): TestStore {
  const store = running();
  store.dispatch({ type: 'command', at: store.clock.t, actor: OPERATOR, command: { kind: 'declare-incident', severity: 'P0', summary: 'checkout 503s' } });
  return store;
}

describe('dispatch order: a text prompt, then R, then the topmost dialog, then the focused pane, then global keys', () => {
  it('R opens the rollback from inside every dialog but a text prompt (test/prompts.test.tsx), and y rolls back', async () => {
    for (const open of ['?', 'c', 'l', 'I', 'g', 'a', '!']) {
      const store = withIncident();
      const ui = await show(store);
      await ui.key(open);
      expect(ui.frame()).toMatch(/╔═/); // a dialog is open
      await ui.key('R');
      expect(ui.frame()).toContain('ROLL BACK');
      await ui.key('y');
      expect(store.getState().status).toBe('rolled-back');
      cleanup();
    }
  });

  it('a dialog takes a key before the focused pane: j scrolls the help, not the pods', () => {
    const ctx: KeyContext = { status: 'running', podCount: 100, pageSize: 10, helpLines: 60 };
    const pods: UiState = { ...INITIAL_UI, focus: 'pods' };
    expect(handleKey(pods, 'j', {}, ctx).ui.podsOffset).toBe(1); // the pane
    const help = handleKey(pods, '?', {}, ctx).ui;
    const r = handleKey(help, 'j', {}, ctx);
    expect(r.ui.podsOffset).toBe(0);
    expect(r.ui.overlay).toEqual({ kind: 'help', offset: 1 });
  });

  it('the focused pane before global keys: esc in the filter prompt clears the filter; on the main screen it stops the load test', () => {
    const ctx: KeyContext = { status: 'running', loadRunning: true, loadTests: ['api-smoke'] };
    const editing: UiState = { ...INITIAL_UI, focus: 'pods', editingFilter: true, filter: 'crash' };
    const inPrompt = handleKey(editing, '', { escape: true }, ctx);
    expect(inPrompt.command).toBeUndefined();
    expect(inPrompt.ui).toMatchObject({ filter: '', editingFilter: false });
    expect(handleKey(inPrompt.ui, '', { escape: true }, ctx).command).toEqual({ kind: 'stop-load-test' });
    // and the pane decides what ↓ means: the SLI selection in SLIs, the table in pods, nothing in phases
    expect(handleKey({ ...INITIAL_UI, focus: 'slis' }, 'j', {}, { status: 'running', sliCount: 5 }).ui.sliIndex).toBe(1);
    expect(handleKey(INITIAL_UI, 'j', {}, { status: 'running', sliCount: 5, podCount: 50 }).ui).toBe(INITIAL_UI);
  });
});

describe('acknowledge and resolve cannot be hit by habit (issue 16 item 2)', () => {
  it('no movement key acknowledges, in any pane; the status bar names ! and I while an incident is open', async () => {
    const store = withIncident();
    const ui = await show(store);
    expect(ui.statusLine()).toContain('INC-1 P0 ! ack I resolve');
    for (let pane = 0; pane < 4; pane++) {
      for (const k of ['k', 'j', 'h', 'l', 'g', 'G', 'K', 'J', KEY.up, KEY.down]) {
        await ui.key(k);
        await ui.key(KEY.esc); // close whatever a key opened (l, g open dialogs that only ask)
      }
      await ui.key(KEY.tab);
    }
    expect(commands(store)).not.toContain('ack-incident');
    expect(commands(store)).not.toContain('ack-checkpoint');
    expect(store.getState().incidents[0]!.ackedAt).toBeUndefined();
    await ui.key('!');
    expect(ui.frame()).toContain('INC-1 P0: checkout 503s');
    await ui.key('y');
    expect(store.getState().incidents[0]!.ackedBy).toBe(OPERATOR.name);
    expect(ui.statusLine()).toContain('INC-1 P0 I resolve');
  });
});

describe('read-only views bind no action keys (issue 16 item 10)', () => {
  function recorded(): ReplayFrame[] {
    const store = running(30);
    return [{ seq: 1, state: store.getState() }];
  }

  it('replay: no action key in the hints or the help; pressing them opens nothing; q quits without asking', async () => {
    const f = recorded();
    const r = sized(render(<Replay plan={loadPlan()} frames={f} file="rollout.jsonl" columns={120} rows={40} />), 120, 40);
    await settle();
    const frame = () => plain(r.lastFrame());
    const status = frame().split('\n').at(-1)!;
    expect(status).toContain('? help');
    for (const hint of ['a advance', 'g go', 'p pause', 'R rollback', 'rollback']) expect(status).not.toContain(hint);
    const before = frame();
    for (const k of ['a', 'g', 'p', 'R', 'A', 'i', '!', 'I', 'l', 'x']) {
      r.stdin.write(k);
      await settle();
      expect(frame()).not.toMatch(/╔═/); // no dialog
      r.stdin.write('y');
      await settle();
    }
    expect(frame()).toBe(before);
    r.stdin.write('?');
    await settle();
    const help = frame();
    expect(help).toContain('Replay');
    expect(help).toContain('the next rollback');
    for (const words of ['roll back', 'advance (next gate/step)', 'GO at a due checkpoint', 'approve the next gate', 'declare an incident', 'write every message']) expect(help).not.toContain(words);
    r.stdin.write(KEY.esc);
    await settle();
    expect(f[0]!.state.status).toBe('running');
    r.stdin.write('q');
    await settle();
    expect(frame()).not.toContain('A rollout is in progress');
    expect(frame()).not.toContain('Quit canary');
    r.unmount();
  });

  it("a war-room viewer is offered no action key, and R is refused at once with the reason, before any dialog", async () => {
    const store = running();
    const ui = await show(store, { actor: { id: 'viewer-7', name: 'viewer 7', roles: [], viewer: true } });
    const status = ui.statusLine();
    for (const hint of ['a advance', 'g go', 'p pause', 'R rollback']) expect(status).not.toContain(hint);
    await ui.key('R');
    expect(ui.frame()).not.toContain('ROLL BACK');
    await ui.until('viewer 7 has a view-only token: a viewer cannot act', ui.statusLine);
    await ui.key('y');
    await ui.key('a');
    expect(ui.frame()).not.toMatch(/╔═/);
    expect(commands(store)).toEqual(commands(running()));
    await ui.key('?');
    expect(ui.frame()).toContain('Not here: viewer 7 has a view-only token');
  });

  it('someone without rollback authority is told why on R, not after y', async () => {
    const store = running();
    const ui = await show(store, { actor: { id: 'cs', name: 'Cy Success', roles: ['customer-success'] } });
    expect(ui.statusLine()).not.toContain('R rollback');
    expect(ui.statusLine()).toContain('a advance'); // what this person may do is still offered
    await ui.key('R');
    expect(ui.frame()).not.toContain('ROLL BACK');
    await ui.until(/no rollback authority: only SRE, Engineering Lead, Product Manager, CTO/, ui.statusLine);
    expect(store.getState().status).toBe('running');
    await ui.key('?');
    expect(ui.frame()).toContain('Not here: no rollback authority');
    expect(ui.frame()).not.toContain('R then y rolls back');
  });

  it('a terminal that does not hold the lease: only rollback remains; other action keys say why at once', async () => {
    const store = running();
    store.dispatch({ type: 'driver.status', at: store.clock.t, holder: 'ana@wall:42', self: false });
    const ui = await show(store);
    expect(ui.statusLine()).toContain('R rollback');
    expect(ui.statusLine()).not.toContain('a advance');
    await ui.key('a');
    expect(ui.frame()).not.toMatch(/╔═/);
    await ui.until('read-only: ana@wall:42 drives; R still works', ui.statusLine);
    await ui.key('R');
    expect(ui.frame()).toContain('ROLL BACK');
    await ui.key('y');
    expect(store.getState().status).toBe('rolled-back');
  });
});

describe('help at 80x24', () => {
  it('G goes to the end and g back to the top, as in vim, less and k9s (review: they did nothing)', async () => {
    const ui = await show(running(), { columns: 80, rows: 24 });
    await ui.key('?');
    const total = Number(/Keys 1-\d+ of (\d+)/.exec(ui.frame())![1]);
    await ui.key('G');
    expect(ui.frame()).toMatch(new RegExp(`Keys \\d+-${total} of ${total}`));
    await ui.key('g');
    expect(ui.frame()).toMatch(/Keys 1-\d+ of \d+ ↓ more/);
    expect(ui.frame()).toContain('Keys'); // still in help: g is not GO there
  });

  it('fits, says which lines it shows, and scrolls to the end without cutting anything', async () => {
    const ui = await show(running(), { columns: 80, rows: 24 });
    await ui.key('?');
    let f = ui.frame();
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    const m = /Keys 1-(\d+) of (\d+) ↓ more/.exec(f);
    expect(m).not.toBeNull();
    const total = Number(m![2]);
    const seen = new Set<string>();
    for (let i = 0; i < total && !/Keys \d+-(\d+) of (\d+) ↑/.test(f); i++) {
      for (const l of f.split('\n')) seen.add(l);
      await ui.key('j');
      f = ui.frame();
    }
    for (const l of f.split('\n')) seen.add(l);
    expect(f).toMatch(new RegExp(`Keys \\d+-${total} of ${total}`));
    const all = [...seen].join('\n');
    // every section, the dialogs' keys included, was on screen at some point
    for (const t of ['Rollout', 'People', 'Panes', 'Pods', 'General', 'In SLI details', 'In Declare an incident', 'In Resolve an incident', 'In Communications', 'In Load tests of this phase', 'In a confirmation', 'In the pod filter'])
      expect(all).toContain(t);
    expect(f).toContain('R y rolls back from any screen (in a text prompt: esc first).');
  });
});

describe('key remapping ($XDG_CONFIG_HOME/canary/config.yaml)', () => {
  const parse = (text: string) => parseKeyConfig(text, 'config.yaml');

  it('a remapped key works and shows in help and in the status bar', async () => {
    const r = parse('keys:\n  ack-incident: N\n  help: H\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const store = withIncident();
    const ui = await show(store, { keymap: r.keymap });
    expect(ui.statusLine()).toContain('INC-1 P0 N ack');
    expect(ui.statusLine()).toMatch(/H[: ]help/);
    await ui.key('!');
    expect(ui.frame()).not.toContain('Acknowledge an incident');
    await ui.key('?');
    expect(ui.frame()).not.toContain('this help');
    await ui.key('H');
    const help = ui.frame();
    expect(help).toMatch(/ N +acknowledge: stop the escalation clock/);
    expect(help).toMatch(/ H +this help/);
    await ui.key(KEY.esc);
    await ui.key('N');
    expect(ui.frame()).toContain('Acknowledge an incident');
    await ui.key('y');
    expect(store.getState().incidents[0]!.ackedBy).toBe(OPERATOR.name);
  });

  it("the Phases pane's hints name the keys as remapped (review: they said a, g and t whatever the keymap)", async () => {
    const r = parse('keys:\n  advance: N\n  checklist: T\n  go: O\n');
    expect(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; ')).toBe(true);
    if (!r.ok) return;
    const plan = loadPlan();
    const pending = await show(makeStore(plan, T0, { checklist: false }), { keymap: r.keymap });
    expect(pending.frame()).toContain('press N to open the first gate');
    expect(pending.frame()).not.toContain('press a ');
    // the checklist line is cut at this width: the pane's lines as a wide pane would show them
    const text = phaseLines(plan, makeStore(plan, T0, { checklist: false }).getState(), 300, false, phaseKeys(r.keymap))
      .map((l) => l.segs.map((g) => g.text).join(''))
      .join('\n');
    expect(text).toMatch(/checklist 0\/\d+ next: .*\(T\)$/m);
    expect(text).not.toContain('(t)');
    cleanup();
    const due = makeStore(plan, T0);
    runningScenario(due, 6 * 60 + 5);
    const running = await show(due, { keymap: r.keymap });
    expect(running.frame()).toContain('GO? hour 6');
    expect(running.frame()).toContain('— press O'); // the same line, wrapped
    expect(running.frame()).not.toContain('press g');
  });

  it('errors name the file, line, column, the action and the key', () => {
    const bad = (text: string) => {
      const r = parse(text);
      expect(r.ok).toBe(false);
      return r.ok ? [] : r.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.path}: ${e.message}`);
    };
    expect(bad('keys:\n  acknowledge: N\n')[0]).toMatch(/^config\.yaml:2:3: keys\.acknowledge: unknown action "acknowledge"; actions: rollback, advance/);
    expect(bad('keys:\n  help: ctrl-h\n')[0]).toMatch(/^config\.yaml:2:9: keys\.help: "ctrl-h" is not a key/);
    expect(bad('keys:\n  help: [H, "F1"]\n')[0]).toMatch(/^config\.yaml:2:13: keys\.help: "F1" is not a key/);
    // two actions on one key in the same mode
    expect(bad('keys:\n  pause: a\n')[0]).toMatch(/^config\.yaml:2:10: keys\.pause: "a" is already advance .*two actions cannot share a key/);
    // an action that acts on its first key, onto a movement key
    expect(bad('keys:\n  approve: h\n')[0]).toMatch(/^config\.yaml:2:12: keys\.approve: "h" is a key people press to move/);
    expect(bad('keys:\n  stop-load: G\n')[0]).toMatch(/keys\.stop-load: "G" is a key people press to move/);
    // rollback stays an uppercase letter; y is the dialogs' yes
    expect(bad('keys:\n  rollback: r\n')[0]).toMatch(/keys\.rollback: rollback must be an uppercase letter/);
    expect(bad('keys:\n  go: y\n')[0]).toMatch(/keys\.go: "y" is the dialogs' yes/);
    // a key taken by a remap of another action: named at the remap
    expect(bad('keys:\n  quit: R\n')[0]).toMatch(/^config\.yaml:2:9: keys\.quit: .*"R"/);
    expect(bad('colors: dark\n')[0]).toMatch(/^config\.yaml:1:1: : unknown setting "colors"/);
    expect(bad('keys:\n  help: [H\n')[0]).toMatch(/^config\.yaml:\d+:\d+: : /);
  });

  it('the built-in keys pass the same checks; an empty or missing file is the built-in keys', async () => {
    expect(checkKeymap(DEFAULT_KEYMAP)).toEqual([]);
    expect(parse('')).toEqual({ ok: true, keymap: DEFAULT_KEYMAP });
    expect(ACTION_NAMES.every((a) => DEFAULT_KEYMAP[a].length > 0)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'canary-keys-'));
    // the environment is read once (src/env.ts); the config file is under its configHome
    expect(configPath(readEnv({ XDG_CONFIG_HOME: dir }).configHome)).toBe(join(dir, 'canary', 'config.yaml'));
    expect(configPath(readEnv({}).configHome)).toBe(join(homedir(), '.config', 'canary', 'config.yaml'));
    expect(await loadKeymap(join(dir, 'none.yaml'))).toEqual({ ok: true, keymap: DEFAULT_KEYMAP, from: null });
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'keys:\n  advance: A\n');
    const r = await loadKeymap(file);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(new RegExp(`^${file}:2:12: keys\\.advance: "A" is already approve`));
  });
});
