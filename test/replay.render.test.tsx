// The replay moves its recorded frame from the key handler, never while React renders: React's
// "Cannot update a component while rendering a different component" warning (the replay used to set
// its store from its render) must not come back. Its own file: React says a warning once per process.
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Replay, type ReplayFrame } from '../components/Replay.js';
import { Driver, HEALTHY, HOUR, loadSeedPlan } from './helpers/drive.js';

const plan = loadSeedPlan();
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};

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

describe('replay renders without side effects', () => {
  afterEach(() => vi.restoreAllMocks());

  it('moving through the frames prints no React warning, and the banner and the panes show the same frame', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const f = frames();
    const r = render(<Replay plan={plan} frames={f} file="rollout.jsonl" columns={120} rows={40} />);
    await settle();
    const screen = () => stripVTControlCharacters(r.lastFrame() ?? '');
    for (const key of [']', ']', '\u001B[C', 'n', '\u001B[D', '[', 'n']) {
      r.stdin.write(key);
      await settle();
    }
    // The last n went back to the rollback's frame: the banner's event and the panes agree.
    const at = Number(/event (\d+)\//.exec(screen())![1]) - 1;
    expect(f[at]!.state.status).toBe('rolled-back');
    expect(f[at - 1]!.state.status).not.toBe('rolled-back');
    expect(screen()).toContain('ROLLED BACK');
    r.unmount();
    const said = errors.mock.calls.map((c) => c.map(String).join(' '));
    expect(said.filter((s) => /Cannot update a component|while rendering a different component/.test(s))).toEqual([]);
    expect(said).toEqual([]);
  });
});
