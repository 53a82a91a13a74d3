// The wall (blessed-contrib), drawn offscreen into a stream with columns, rows and isTTY, joined to
// a real war-room server on 127.0.0.1 like any viewer: its widgets show the live values.
import { describe, it, expect, afterEach } from 'vitest';
import { PassThrough } from 'node:stream';
import { startWall, wallModel, type Wall, type WallOutput } from '../components/Wall.js';
import { RemoteStore } from '../src/warroom/client.js';
import { WarRoomServer } from '../src/warroom/server.js';
import { issueTokens, TokenBook } from '../src/warroom/tokens.js';
import { CHLOE, loadPlan, makeStore, MIN, runningScenario, samples, T0 } from './helpers/state.js';

const plan = loadPlan();
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function screenStream(columns: number, rows: number): WallOutput & { written: string } {
  const s = Object.assign(new PassThrough(), { columns, rows, isTTY: true, written: '' });
  s.on('data', (d: Buffer) => (s.written += d.toString()));
  return s;
}

describe('canary wall', () => {
  it('joined to a serve, it draws the SLI charts with thresholds, the weight gauge, the phase, pods per region and who is on call, live', async () => {
    const store = makeStore(plan, T0);
    const { file, issued } = issueTokens(plan, { viewers: 1 });
    const server = new WarRoomServer({ store, tokens: new TokenBook(plan, file), planName: plan.metadata.name, now: () => store.clock.t });
    const url = await server.listen();
    cleanup.push(() => server.close());
    const remote = new RemoteStore({ url, token: issued.find((i) => i.person === null)!.token });
    await remote.start();
    cleanup.push(() => remote.close());

    const out = screenStream(160, 45);
    const wall: Wall = await startWall({ plan, store: remote, output: out, source: url, everyMs: 10 });
    cleanup.push(() => wall.destroy());
    const screen = () => wall.text().join('\n');
    expect(screen()).toContain('PENDING at 0%');
    expect(screen()).toContain('Canary weight 0%');
    const flat = (t: string) => t.replace(/\x1b\[(\d*)C/g, (_m, n: string) => ' '.repeat(Number(n || 1)));
    // blessed writes its buffer to the stream on the next tick; the first frame is whole.
    await until(() => flat(out.written).includes('Canary weight 0%'), 'the first frame on the stream');
    const firstFrame = out.written.length;

    runningScenario(store, 40);
    server.flush();
    await until(() => remote.seq === server.sequence, 'the wall caught up');
    await until(() => screen().includes('RUNNING at 1%'), 'the wall redrew');
    const text = screen();
    // Large line charts of the SLIs, each with its rollback threshold and the live values.
    expect(text).toContain('Availability 99.97% (base 99.97%) rb < 99.5%');
    expect(text).toMatch(/Latency p95 \d+ms \(base \d+ms\) rb >= 1000ms/);
    expect(text).toContain('Error rate 0.03% (base 0.03%) rb >= 1%');
    expect(text).toMatch(/[⠁-⣿]{10,}/); // braille: the plotted lines
    // The gauge, the phase and its time left, pods per region, people.
    expect(text).toContain('Canary weight 1%');
    expect(text).toContain('Canary 1%: internal validation');
    expect(text).toMatch(/bake 23h\d+m left of 1d/);
    expect(text).toMatch(/us-east-1 +3\/4 +5\/6 +1/);
    expect(text).toMatch(/Primary SRE +\S+ \S+/);
    expect(text).toContain('Engineering Lead   Dev Raman');
    // Then only the cells that changed (blessed moves the cursor over the rest with CSI n C).
    await until(() => out.written.length > firstFrame + 1000, 'the changes written to the stream (on the tick after the draw)');

    // A declared P0 pages its first escalation step at once: who is paged shows on the wall.
    store.dispatch({ type: 'command', at: store.clock.t, actor: CHLOE, command: { kind: 'declare-incident', severity: 'P0', summary: 'checkout down' } });
    store.dispatch({ type: 'tick', at: store.clock.t + 1000 });
    await until(() => /PAGED P0/.test(screen()), 'the page on the wall');
    expect(screen()).toMatch(/PAGED P0 \S+ +Dev Raman/);
    // A rollback by an SRE reaches the wall too.
    store.dispatch({ type: 'sli.samples', at: store.clock.t + MIN, samples: samples(41) });
    store.dispatch({ type: 'command', at: store.clock.t + MIN, actor: CHLOE, command: { kind: 'rollback', reason: 'wall test' } });
    await until(() => screen().includes('ROLLED BACK from 1%'), 'the rollback on the wall');
    expect(screen()).toContain('Canary weight 0%');
    expect(screen()).toMatch(/rolled back by +Chloe Lindqvist/);
  });

  it('the model keeps at most four charts and a gap in the data repeats the previous value (never a fake 0)', () => {
    const store = makeStore(plan, T0);
    runningScenario(store, 3);
    store.dispatch({ type: 'sli.samples', at: store.clock.t + MIN, samples: samples(4, { latency_p95: null }) });
    const m = wallModel(plan, store.getState());
    expect(m.charts.length).toBeLessThanOrEqual(4);
    const latency = m.charts.find((c) => c.labels[0]!.includes('Latency'))!;
    expect(latency.canary.at(-1)).toBe(latency.canary.at(-2));
    expect(latency.threshold?.every((v) => v === 1000)).toBe(true);
  });
});
