// The dialogs offer `y` only when the action can run now, and the status bar agrees with them
// (ink-testing-library frames over the real engine): d at 0% names what blocks the deploy and
// offers no y; V before 100% says why not; g with no checkpoint due says "any key closes" in the
// dialog and in the status bar. Once the gate could open, d offers y and runs the deploy.
import { afterEach, describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import type { Actor } from '../src/engine/types.js';
import { loadPlan, makeStore, OPERATOR, T0, type TestStore } from './helpers/state.js';
import { samples } from './helpers/state.js';

afterEach(() => cleanup());
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

async function show(store: TestStore, actor: Actor = OPERATOR, columns = 120, rows = 40) {
  const r = sized(render(<App plan={loadPlan()} store={store} actor={actor} now={() => store.clock.t} columns={columns} rows={rows} simulated />), columns, rows);
  await settle();
  return { frame: () => stripVTControlCharacters(r.lastFrame() ?? ''), write: async (s: string) => (r.stdin.write(s), await settle()) };
}
const lastLine = (f: string) => f.trimEnd().split('\n').at(-1)!;

describe('dialogs offer y only when the action can run now', () => {
  it('d at 0% with approvals missing: what blocks it, no y, and y sends nothing; the status bar says any key closes', async () => {
    const store = makeStore(loadPlan(), T0, { checklist: false });
    const ui = await show(store);
    await ui.write('d');
    const f = ui.frame();
    expect(f).toContain('Deploy Canary 1%: internal validation');
    expect(f).toContain('Blocked: approval from Engineering Lead missing');
    expect(f).toContain('Blocked: checklist "Pre-deployment: Infrastructure');
    expect(f).not.toContain('Press y to run');
    expect(f).toContain('any key closes');
    expect(lastLine(f)).toContain('any key closes');
    expect(lastLine(f)).not.toContain('y: yes');
    await ui.write('y');
    expect(store.events.filter((e) => e.type === 'command')).toEqual([]);
  });

  it('d once the first gate could open: y runs the deploy steps', async () => {
    const store = makeStore(loadPlan(), T0);
    store.dispatch({ type: 'sli.samples', at: T0, samples: samples(0) });
    store.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman', roles: ['eng-lead'] }, phase: 'canary-1', role: 'eng-lead' });
    store.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-lead'] }, phase: 'canary-1', role: 'sre-lead' });
    const ui = await show(store);
    await ui.write('d');
    expect(ui.frame()).toContain('Press y to run');
    expect(lastLine(ui.frame())).toContain('y: yes');
    await ui.write('y');
    expect(store.events.at(-1)).toMatchObject({ type: 'command', actor: OPERATOR, command: { kind: 'run-deploy' } });
    expect(store.getState().runbook.runs.map((r) => r.key)).toEqual(['deploy:canary-1:0']);
  });

  it('d by a person without rollout authority (customer success) says so, with no y', async () => {
    const store = makeStore(loadPlan(), T0);
    store.dispatch({ type: 'sli.samples', at: T0, samples: samples(0) });
    store.dispatch({ type: 'approve', at: T0, actor: { id: 'dev', name: 'Dev Raman', roles: ['eng-lead'] }, phase: 'canary-1', role: 'eng-lead' });
    store.dispatch({ type: 'approve', at: T0, actor: { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-lead'] }, phase: 'canary-1', role: 'sre-lead' });
    const ui = await show(store, { id: 'femi', name: 'Femi Adeyemi', roles: ['customer-success'] });
    await ui.write('d');
    expect(ui.frame()).toContain('Blocked: Femi Adeyemi holds none of the roles with rollout authority here');
    expect(ui.frame()).not.toContain('Press y to run');
  });

  it('V at 0% says validation runs once traffic is at 100%, with no y', async () => {
    const store = makeStore(loadPlan(), T0);
    const ui = await show(store);
    await ui.write('V');
    const f = ui.frame();
    expect(f).toContain('Post-rollout validation again');
    expect(f).toContain('Blocked: post-rollout validation runs once traffic is at 100% (the rollout');
    expect(f).not.toContain('Run it? y/N');
    expect(lastLine(f)).toContain('any key closes');
    await ui.write('y');
    expect(store.events.filter((e) => e.type === 'command')).toEqual([]);
  });

  it('g with no checkpoint due: the dialog and the status bar both say any key closes', async () => {
    const store = makeStore(loadPlan(), T0);
    const ui = await show(store);
    await ui.write('g');
    const f = ui.frame();
    expect(f).toContain('No checkpoint is waiting for a go.');
    expect(f).toContain('any key closes');
    expect(lastLine(f)).toContain('any key closes');
    expect(lastLine(f)).not.toContain('y: yes');
  });

  it('t on an item whose check failed asks for a note; enter ticks it with the note, said as an override', async () => {
    const store = makeStore(loadPlan(), T0, { checklist: false });
    const CHLOE: Actor = { id: 'chloe', name: 'Chloe Lindqvist', roles: ['sre', 'sre-lead'] };
    store.dispatch({ type: 'command', at: T0, actor: CHLOE, command: { kind: 'run-check', item: 'monitoring#1' } });
    const run = store.getState().runbook.runs.at(-1)!;
    store.dispatch({ type: 'command.result', at: T0, runId: run.id, ok: false, exitCode: 127, detail: 'exited 127' });
    const ui = await show(store, CHLOE);
    await ui.write('t');
    for (let i = 0; i < 6; i++) await ui.write('j');
    await ui.write('t');
    expect(ui.frame()).toContain('Tick by hand, over its check');
    expect(ui.frame()).toContain('Prometheus targets configured f');
    expect(ui.frame()).toContain('failed: exited');
    expect(store.events.filter((e) => e.type === 'command' && e.command.kind === 'tick-item')).toEqual([]);
    // Enter with no note does nothing; typed text (t included) is the note.
    await ui.write('\r');
    expect(ui.frame()).toContain('Tick by hand, over its check');
    for (const ch of 'targets up in the UI') await ui.write(ch);
    expect(ui.frame()).toContain('Note: targets up in the UI');
    await ui.write('\r');
    expect(store.events.at(-1)).toMatchObject({ type: 'command', actor: CHLOE, command: { kind: 'tick-item', item: 'monitoring#1', note: 'targets up in the UI' } });
    expect(store.getState().runbook.ticks['monitoring#1']).toMatchObject({ by: 'Chloe Lindqvist', detail: 'targets up in the UI' });
    expect(store.getState().history.at(-1)!.text).toContain('OVERRIDING its check (failed: exited 127)');
    expect(ui.frame()).toContain('Checklist before Canary 1%');
  });
});
