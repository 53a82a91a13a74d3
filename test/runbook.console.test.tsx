// The runbook's keys and dialogs in the console frames (ink-testing-library over the real engine):
// t ticks the checklist as the person at this keyboard, n records a no-go with its reason, enter on
// the marked pod opens its description and log (and esc stops following), and what the help shows.
import { afterEach, describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { HOUR, loadPlan, makeStore, OPERATOR, runningScenario, T0, type TestStore } from './helpers/state.js';
import { Driver } from './helpers/drive.js';
import { LocalInspection, type PodInspection } from '../src/runtime/inspection.js';
import type { PodInspector, PodInspectRequest } from '../src/runtime/ports.js';

afterEach(() => cleanup());
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const KEY = { esc: '\u001B', tab: '\t', enter: '\r' };

async function show(store: TestStore, columns = 120, rows = 40, inspect?: PodInspection) {
  const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} simulated {...(inspect ? { inspect } : {})} />), columns, rows);
  await settle();
  return { frame: () => stripVTControlCharacters(r.lastFrame() ?? ''), write: async (s: string) => (r.stdin.write(s), await settle()) };
}

describe('the runbook in the console', () => {
  it('t opens the checklist before the 1% gate; t ticks the chosen item as the person at this keyboard', async () => {
    const store = makeStore(loadPlan(), T0, { checklist: false });
    const ui = await show(store);
    expect(ui.frame()).toContain('checklist 0/18 next: All production');
    await ui.write('t');
    expect(ui.frame()).toContain('Checklist before Canary 1%: internal validation: 0/18 ticked');
    await ui.write('t');
    expect(store.events.at(-1)).toMatchObject({ type: 'command', actor: OPERATOR, command: { kind: 'tick-item', item: 'infrastructure#1' } });
    expect(ui.frame()).toContain('ticked by Ana Ortiz');
    expect(ui.frame()).toContain('1/18 ticked');
    await ui.write(KEY.esc);
    expect(ui.frame()).toContain('checklist 1/18 next: Database migrations');
  });

  it('n asks for the reason; enter records the no-go and the phase holds with it', async () => {
    const store = makeStore(loadPlan(), T0);
    // Six hours of healthy samples: the hour-6 checkpoint is due and nothing else holds the phase.
    runningScenario(store, 6 * 60 + 5);
    expect(store.getState().holds).toEqual([]);
    const ui = await show(store);
    await ui.write('n');
    expect(ui.frame()).toContain('NO-GO at hour 6');
    for (const ch of 'p95 creeping') await ui.write(ch);
    expect(ui.frame()).toContain('Reason: p95 creeping');
    await ui.write(KEY.enter);
    expect(store.events.at(-1)).toMatchObject({ command: { kind: 'no-go', reason: 'p95 creeping' } });
    expect(store.getState().runbook.noGo).toMatchObject({ hour: 6, by: 'Ana Ortiz', reason: 'p95 creeping' });
    expect(ui.frame()).toContain('hold: no-go at hour 6');
  });

  it('enter on the marked pod describes it and shows its log on this terminal only; esc closes and stops following', async () => {
    const plan = loadPlan();
    const store = makeStore(plan, T0);
    runningScenario(store, 10);
    // A fake inspector: what the runtime would fetch (the embedded world's or the cluster's).
    const asked: { req: PodInspectRequest; out: Parameters<PodInspector['inspect']>[1]; stopped: boolean }[] = [];
    const inspector: PodInspector = {
      inspect(req, out) {
        const h = { req, out, stopped: false };
        asked.push(h);
        return { stop: () => void (h.stopped = true) };
      },
    };
    const pod = (k: string) => store.getState().pods.get(k);
    const mine = new LocalInspection({ plan, inspector, pod });
    const theirs = new LocalInspection({ plan, inspector, pod });
    const ui = await show(store, 120, 40, mine);
    // A second terminal on the same rollout (a war room's other screen).
    const other = await show(store, 120, 40, theirs);
    // Filter to the crash-looping pod (/ focuses the pods pane): it is the marked first row.
    await ui.write('/');
    for (const ch of 'crash') await ui.write(ch);
    await ui.write(KEY.enter);
    expect(ui.frame()).toMatch(/✗>orchestr/);
    const key = [...store.getState().pods.values()].find((p) => p.reason === 'CrashLoopBackOff')!.key;
    const events = store.events.length;
    await ui.write(KEY.enter);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.req).toMatchObject({ key, container: 'orchestrator', sinceMs: 600_000, tail: 200 });
    // Looking is not an action on the rollout: nothing is sent to the store (nor journaled).
    expect(store.events.length).toBe(events);
    asked[0]!.out.detail({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }], containers: [{ name: 'orchestrator', ready: false, restarts: 5, state: 'Waiting: CrashLoopBackOff', lastState: 'Terminated: Error (exit code 2)' }], events: [{ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', count: 9, at: store.clock.t }] });
    asked[0]!.out.logs(['FATAL saga coordinator: schema version 7', 'panic: runtime error'], 'container "orchestrator" exited with code 2 (CrashLoopBackOff): these are its last words');
    await settle();
    const f = ui.frame();
    expect(f).toContain('Container orchestrator Waiting: CrashLoopBackOff');
    expect(f).toContain('last: Terminated: Error (exit');
    expect(f).toContain('! BackOff (x9)');
    expect(f).toContain('panic: runtime error');
    expect(f).toContain('these are its last words');
    // The other terminal sees none of it.
    expect(other.frame()).not.toContain('panic: runtime error');
    expect(other.frame()).not.toContain('BackOff (x9)');
    expect(theirs.view()).toBeNull();
    await ui.write(KEY.esc);
    expect(asked[0]!.stopped).toBe(true);
    expect(mine.view()).toBeNull();
    expect(ui.frame()).not.toContain('panic: runtime error');
    // Lines that arrive after closing are dropped.
    asked[0]!.out.logs(['late']);
    expect(mine.view()).toBeNull();
  });

  it('help lists the runbook keys and their dialogs', async () => {
    const ui = await show(makeStore(loadPlan(), T0), 120, 60);
    await ui.write('?');
    const f = ui.frame();
    for (const text of ['checklist before the next gate', 'deploy steps of the next phase', 'NO-GO at a due checkpoint', 'describe the marked pod']) expect(f).toContain(text);
  });

  it('F shows the feature flags with their approvals; e asks what runs, y enables it as you; the phases pane counts them', async () => {
    const plan = loadPlan();
    // The crew brings the rollout to 25% and approves the phase's flags in their roles.
    const d = new Driver(plan);
    d.runFor(6 * 24 * HOUR, (s) => s.phaseIndex === 2 && Object.values(s.runbook.flags).filter((f) => f.approvals.length).length === 4);
    const store = makeStore(plan, d.now, { initial: d.state });
    store.clock.t = d.now;
    const ui = await show(store);
    expect(ui.frame()).toContain('flags 0/4 enabled (F)');
    await ui.write('F');
    expect(ui.frame()).toContain('Feature flags: 0/4 enabled');
    expect(ui.frame()).toMatch(/▶ ☐ advanced-features — Gradual enablement of advanced features/);
    expect(ui.frame()).toMatch(/✓ VP Product \(Isla Moreau \(simulated\)\)/);
    // Every approval is in: A says so, marked as a refusal.
    await ui.write('A');
    expect(store.events.at(-1)).toMatchObject({ type: 'command', actor: OPERATOR, command: { kind: 'approve-flag', flag: 'advanced-features' } });
    expect(ui.frame()).toContain('✗ Ana Ortiz asked to approve flag advanced-features: refused - every approval it needs is in');
    await ui.write('e');
    expect(ui.frame()).toContain('Enable flag advanced-features');
    expect(ui.frame()).toContain('$ ./scripts/flags.sh enable advanced-features --phase canary-25');
    expect(ui.frame()).toContain('simulated world runs: ./sim/flag.sh advanced-features');
    await ui.write('y');
    const run = store.effects.at(-1)!;
    expect(run).toMatchObject({ type: 'run-command', purpose: 'flag', key: 'flag:advanced-features', env: { FLAG: 'advanced-features' } });
    store.dispatch({ type: 'command.output', at: d.now, runId: run.id, lines: ['flag advanced-features enabled for phase canary-25 (simulated flag service)'] });
    store.dispatch({ type: 'command.result', at: d.now, runId: run.id, ok: true, exitCode: 0, detail: 'exited 0 (simulated)' });
    await ui.write('');
    // Back in the flags overlay (the runbook pane opened behind it with the hook's output).
    expect(ui.frame()).toContain('Feature flags: 1/4 enabled');
    expect(ui.frame()).toMatch(/✓ advanced-features/);
    expect(ui.frame()).toContain('enabled by Ana Ortiz');
    await ui.write(KEY.esc);
    expect(ui.frame()).toContain('flags 1/4 enabled');
    // The hook's output, in the runbook pane.
    expect(ui.frame()).toContain('Runbook: flag');
    expect(ui.frame()).toContain('✓ enable advanced-features');
    expect(ui.frame()).toContain('flag advanced-features enabled for ph');
  });
});
