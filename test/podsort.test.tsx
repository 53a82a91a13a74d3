// The pods table's sort key (issue 16 item 14): `s` cycles unhealthy first (the default) -> name
// -> age (youngest first) -> restarts (most first), like k9s's column sort; the pane title names
// any sort but the default, and the table starts again at its first row.
import { describe, it, expect, afterEach } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { render, cleanup } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { handleKey, helpSections, INITIAL_UI } from '../components/keys.js';
import { HOUR, loadPlan, makeStore, MIN, OPERATOR, pod, runningScenario, T0 } from './helpers/state.js';

afterEach(() => cleanup());

const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const plain = (f: string | undefined) => stripVTControlCharacters(f ?? '');
const NAMES = ['zeta-crash', 'alpha-ok', 'mid-restarts', 'young-ok'];

describe('s sorts the pods table', () => {
  it('cycles unhealthy first -> name -> age -> restarts, named in the pane title', async () => {
    const store = makeStore(loadPlan(), T0);
    const t = runningScenario(store, 5);
    store.dispatch({
      type: 'pods.sync',
      at: t,
      region: 'us-east-1',
      pods: [
        pod('zeta-crash', { ready: false, reason: 'CrashLoopBackOff', restarts: 2, startedAt: T0 - 3 * HOUR }),
        pod('alpha-ok', { startedAt: T0 - HOUR }),
        pod('mid-restarts', { restarts: 9, startedAt: T0 - 2 * HOUR }),
        pod('young-ok', { startedAt: T0 - MIN }),
      ],
    });
    const r = sized(render(<App plan={loadPlan()} store={store} actor={OPERATOR} now={() => store.clock.t} columns={140} rows={40} onQuit={() => undefined} />), 140, 40);
    await settle();
    const frame = () => plain(r.lastFrame());
    /** The pod names in the order the table shows them. */
    const order = () => {
      const f = frame();
      return [...NAMES].filter((n) => f.includes(n)).sort((a, b) => f.indexOf(a) - f.indexOf(b));
    };
    const until = async (want: string[], title: RegExp | null) => {
      const t0 = Date.now();
      while (JSON.stringify(order()) !== JSON.stringify(want) || (title ? !title.test(frame()) : /⇅/.test(frame()))) {
        if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${want.join(', ')} ${String(title)} in:\n${frame()}`);
        await new Promise<void>((res) => setImmediate(res));
      }
    };
    await until(['zeta-crash', 'alpha-ok', 'mid-restarts', 'young-ok'], null);
    r.stdin.write('s');
    await until(['alpha-ok', 'mid-restarts', 'young-ok', 'zeta-crash'], /Pods.*⇅ name/);
    r.stdin.write('s');
    await until(['young-ok', 'alpha-ok', 'mid-restarts', 'zeta-crash'], /Pods.*⇅ age/);
    r.stdin.write('s');
    await until(['mid-restarts', 'zeta-crash', 'alpha-ok', 'young-ok'], /Pods.*⇅ restarts/);
    r.stdin.write('s');
    await until(['zeta-crash', 'alpha-ok', 'mid-restarts', 'young-ok'], null);
  });

  it('is a view key: it works in a replay too, and help lists it', () => {
    const ui = handleKey(INITIAL_UI, 's', {}, { status: 'running', access: { kind: 'replay' } }).ui;
    expect(ui.podSort).toBe('name');
    const rows = helpSections({ access: { kind: 'replay' } }).sections.flatMap((s) => s.rows);
    expect(rows).toContainEqual({ keys: 's', help: 'sort pods: unhealthy first, name, age, restarts' });
  });
});
