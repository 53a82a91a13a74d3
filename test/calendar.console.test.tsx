// The console at a gate the calendar changes (issue 17 item 8) and a stakeholder report being
// produced (item 9), in ink-testing-library frames against the real engine.
import { afterEach, describe, expect, it } from 'vitest';
import { stripVTControlCharacters } from 'node:util';
import { cleanup, render } from 'ink-testing-library';
import { sized } from './helpers/sized.js';
import { App } from '../components/App.js';
import { makeStore, OPERATOR, type TestStore } from './helpers/state.js';
import { Driver, HOUR, loadSeedPlan } from './helpers/drive.js';
import { gateView } from '../src/engine/gates.js';
import { parseStartAt, startAtInstant } from '../src/engine/calendar.js';
import type { Plan } from '../src/plan/schema.js';

afterEach(() => cleanup());

const tick = () => new Promise<void>((r) => setImmediate(r));
const settle = async () => {
  await tick();
  await tick();
};

const plan = loadSeedPlan();
const NY = (local: string) => startAtInstant(plan, parseStartAt(local) as Exclude<ReturnType<typeof parseStartAt>, string>);

/** The rollout of the seed plan from `start` up to the gate into 25%, every approval but that gate's in. */
function storeAtGateInto25(start: string): TestStore {
  const d = new Driver(plan, { start: NY(start) });
  d.observe();
  d.runFor(3 * 24 * HOUR, (s) => s.phaseIndex === 1);
  d.crew = null;
  d.runFor(4 * 24 * HOUR, (s) => gateView(plan, s).blockers.every((b) => b.startsWith('approval from')));
  const store = makeStore(plan, NY(start));
  for (const e of d.events) store.dispatch(e);
  store.clock.t = store.getState().now;
  return store;
}

async function show(p: Plan, store: TestStore, columns = 160, rows = 45) {
  const r = sized(render(<App plan={p} store={store} actor={OPERATOR} now={() => store.clock.t} columns={columns} rows={rows} people={{ notifyOn: [], notifyOff: [], commsDir: '/tmp/comms' }} />), columns, rows);
  await settle();
  return {
    frame: () => stripVTControlCharacters(r.lastFrame() ?? ''),
    async key(s: string) {
      r.stdin.write(s);
      await settle();
    },
  };
}

/** The whole frame on one line (wrapped lines joined). */
const flat = (frame: string) => frame.replace(/\s+/g, ' ');
/** The text inside the dialog's double border, its lines joined (a long line wraps). */
function dialog(frame: string): string {
  const rows = frame.split('\n');
  const top = rows.findIndex((l) => l.includes('╔'));
  const bottom = rows.findIndex((l, i) => i > top && l.includes('╚'));
  const left = rows[top]!.indexOf('╔');
  const right = rows[top]!.indexOf('╗');
  return rows
    .slice(top, bottom + 1)
    .map((l) => [...l].slice(left + 1, right).join(''))
    .join(' ')
    .replace(/[═]/g, ' ')
    .replace(/\s+/g, ' ');
}

describe('the gate dialog says why the CTO is needed', () => {
  it('on Christmas: the CTO is one of the approvals, marked, and the dialog names the holiday and the zone', async () => {
    const store = storeAtGateInto25('2026-12-21T09:00');
    const ui = await show(plan, store);
    await ui.key('a');
    const f = dialog(ui.frame());
    expect(f).toContain('Open the gate: Canary 25%: expanded rollout');
    expect(f).toContain('✗ CTO [weekend/holiday]');
    expect(f).toContain('CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York)');
    expect(f).toContain('Blocked: approval from CTO missing (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    // The phases pane marks the conditional approval too.
    expect(flat(ui.frame())).toContain('✗ CTO (weekend/holiday)');
  });

  it('on a Tuesday: no CTO, and the dialog says a weekend or holiday would add one', async () => {
    const store = storeAtGateInto25('2026-11-30T09:00');
    const ui = await show(plan, store);
    await ui.key('a');
    const f = dialog(ui.frame());
    expect(f).toContain('Open the gate: Canary 25%: expanded rollout');
    expect(f).not.toContain('CTO approval required');
    expect(f).toContain('On a weekend or plan holiday (America/New_York) this gate also needs: CTO');
  });
});

describe('a stakeholder report being produced', () => {
  it('the status line says which report was written and where; the communications preview lists it with the next one', async () => {
    const store = makeStore(plan, NY('2026-11-30T09:00'));
    const d = new Driver(plan, { start: NY('2026-11-30T09:00') });
    d.observe();
    // Up to the first report due (Engineering's daily summary at 17:00 New York).
    d.runFor(12 * HOUR, () => d.effects.some((e) => e.type === 'produce-report'));
    for (const e of d.events) store.dispatch(e);
    store.clock.t = store.getState().now;
    const eff = d.effects.find((e) => e.type === 'produce-report')!;
    expect(eff).toMatchObject({ name: 'eng-daily', every: 'daily', audience: 'Engineering', channels: ['slack-eng'] });
    const ui = await show(plan, store);
    expect(ui.frame()).not.toContain('eng-daily');
    store.dispatch({ type: 'report.result', at: store.clock.t, effectId: eff.id, ok: true, detail: '/state/run-reports/eng-daily-2026-11-30-1700.md', file: '/state/run-reports/eng-daily-2026-11-30-1700.md' });
    await settle();
    expect(flat(ui.frame())).toContain('daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5: /state/run-reports/eng-daily-2026-11-30-1700.md');
    // Sending it fails: said at once, with the channel and why.
    store.dispatch({ type: 'notify.result', at: store.clock.t, effectId: eff.id, channel: 'slack-eng', ok: false, detail: 'HTTP 500 Internal Server Error', attempts: 4 });
    await settle();
    expect(flat(ui.frame())).toContain('✗ daily report eng-daily (Engineering) for Mon 30 Nov 2026 17:00 GMT-5: /state/run-reports/eng-daily-2026-11-30-1700.md · NOT sent to slack-eng (HTTP 500 Internal Server Error)');
    await ui.key('c');
    const f = dialog(ui.frame());
    expect(f).toContain('Reports from the journal, beside it');
    expect(f).toContain('✗ eng-daily daily for Engineering · next Tue 17:00 last Mon 17:00: /state/run-reports/eng-daily-2026-11-30-1700.md');
    expect(f).toContain('✗ NOT sent to slack-eng: HTTP 500 Internal Server Error');
    expect(f).toContain('· exec-daily daily for Executive · next Wed 09:00 · none yet');
    expect(f).toContain('· product-weekly weekly for Product · next Mon 09:00 · none yet');
  });
});
