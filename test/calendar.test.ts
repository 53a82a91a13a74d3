// Approvals that depend on the calendar (issue 17 item 8): the seed's "CTO if weekend/holiday",
// judged in the plan's time zone against its holidays. The gate, its blockers, the advance dialog's
// words, `status` and the journal's history all say WHY the CTO is needed; crossing into a weekend
// (and back) is said in the history; validate checks the zone and the holidays with file:line.
import { describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Driver, HOUR, loadSeedPlan, PLAN_PATH } from './helpers/drive.js';
import { calendarDay, parseStartAt, specialDayReason, startAtInstant } from '../src/engine/calendar.js';
import { describeAdvance, gateView } from '../src/engine/gates.js';
import { statusText } from '../src/status.js';
import { formatPlanError, loadPlanFile } from '../src/plan/loader.js';

const plan = loadSeedPlan();
const NY = (local: string) => startAtInstant(plan, parseStartAt(local) as Exclude<ReturnType<typeof parseStartAt>, string>);

describe('the calendar in words', () => {
  it('names the day in the plan time zone: a holiday, a weekend, or a working day (midnight is New York midnight, not UTC)', () => {
    expect(specialDayReason(plan, NY('2026-12-25T09:00'))).toBe('Fri 2026-12-25 is a plan holiday (America/New_York)');
    expect(specialDayReason(plan, NY('2026-12-26T12:00'))).toBe('Sat 2026-12-26 is a weekend (America/New_York)');
    expect(specialDayReason(plan, NY('2026-12-28T09:00'))).toBeNull();
    // 03:00 UTC on the 25th is still the 24th (a Thursday) in New York; 05:00 UTC is its midnight.
    expect(specialDayReason(plan, Date.parse('2026-12-25T04:59:00Z'))).toBeNull();
    expect(specialDayReason(plan, Date.parse('2026-12-25T05:00:00Z'))).toBe('Fri 2026-12-25 is a plan holiday (America/New_York)');
    expect(calendarDay(plan, Date.parse('2026-12-27T04:00:00Z'))).toEqual({ date: '2026-12-26', weekday: 'Sat', weekend: true, holiday: false });
  });

  it('--start-at: a local time in the plan zone, or with Z / an offset; bad text says what and what is expected', () => {
    expect(new Date(NY('2026-12-25T09:00')).toISOString()).toBe('2026-12-25T14:00:00.000Z');
    // Summer time: 09:00 in New York is 13:00 UTC.
    expect(new Date(NY('2026-07-03T09:00')).toISOString()).toBe('2026-07-03T13:00:00.000Z');
    expect(new Date(NY('2026-12-25')).toISOString()).toBe('2026-12-25T05:00:00.000Z');
    expect(new Date(NY('2026-12-25T09:00Z')).toISOString()).toBe('2026-12-25T09:00:00.000Z');
    expect(new Date(NY('2026-12-25T09:00+01:00')).toISOString()).toBe('2026-12-25T08:00:00.000Z');
    expect(parseStartAt('2026-02-30T09:00')).toMatch(/2026-02-30 is not a day of the calendar; expected an ISO date-time such as 2026-12-25T09:00/);
    expect(parseStartAt('2026-12-25T25:00')).toMatch(/25:00:00 is not a time of day/);
    expect(parseStartAt('next friday')).toMatch(/"next friday" is not a date-time/);
  });
});

/** Mon 21 Dec 09:00 New York: the 5% phase bakes 72 h and its gate into 25% opens on Christmas. */
function toTheGateInto25(): Driver {
  const d = new Driver(plan, { start: NY('2026-12-21T09:00') });
  d.observe();
  d.runFor(3 * 24 * HOUR, (s) => s.phaseIndex === 1);
  expect(d.state.phaseIndex).toBe(1);
  // From here on nobody approves: the gate shows what it waits for.
  d.crew = null;
  d.runFor(4 * 24 * HOUR, (s) => gateView(plan, s).blockers.every((b) => b.startsWith('approval from')));
  return d;
}

describe('the CTO on weekends and holidays', () => {
  it('at the gate into 25% on Christmas the CTO is asked for, and the blocker, the dialog and status say why', () => {
    const d = toTheGateInto25();
    expect(calendarDay(plan, d.now).date).toBe('2026-12-25');
    const g = gateView(plan, d.state);
    expect(g.kind).toBe('phase');
    expect(g.blockers).toContain('approval from CTO missing (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    expect(g.approvals.find((a) => a.role === 'cto')).toMatchObject({ conditional: true, why: 'CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York)' });
    const dialog = describeAdvance(plan, d.state);
    expect(dialog.lines).toContain('CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York)');
    expect(dialog.lines).toContain('Blocked: approval from CTO missing (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    const json = JSON.parse(statusText(plan, d.state, { json: true }));
    expect(json.approvals).toContainEqual({ role: 'cto', by: null, why: 'CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York)' });
    expect(json.next.blockers).toContain('approval from CTO missing (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    expect(json.calendar).toMatchObject({ timezone: 'America/New_York', day: 'Fri 2026-12-25', holiday: true, weekend: false, reason: 'Fri 2026-12-25 is a plan holiday (America/New_York)' });
    const text = statusText(plan, d.state, { json: false });
    expect(text).toContain('approval from CTO missing (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    expect(text).toContain('Calendar:   Fri 2026-12-25 is a plan holiday (America/New_York): Canary 25%: expanded rollout needs CTO');
  });

  it('the CTO who approves on a holiday is journaled with the reason; crossing into the weekend and back to Monday is said in the history', () => {
    const d = toTheGateInto25();
    d.approve('canary-25', 'cto', 'Jon Weller');
    const said = d.state.history.filter((h) => h.kind === 'approval').at(-1)!.text;
    expect(said).toBe('Jon Weller approved Canary 25%: expanded rollout as CTO (CTO approval required: Fri 2026-12-25 is a plan holiday (America/New_York))');
    // Friday (holiday) -> Saturday (weekend) -> Monday (a working day): each change, once.
    d.runFor(3 * 24 * HOUR);
    const cal = d.state.history.filter((h) => h.text.startsWith('calendar:')).map((h) => h.text);
    expect(cal).toEqual([
      'calendar: Fri 2026-12-25 is a plan holiday (America/New_York): approval now also needed from CTO for the gate into Canary 25%: expanded rollout',
      'calendar: Sat 2026-12-26 is a weekend (America/New_York): approval now also needed from CTO for the gate into Canary 25%: expanded rollout',
      'calendar: Sun 2026-12-27 is a weekend (America/New_York): approval now also needed from CTO for the gate into Canary 25%: expanded rollout',
      'calendar: a working day again (America/New_York): no longer needed: CTO for the gate into Canary 25%: expanded rollout',
    ]);
    const monday = d.state.history.find((h) => h.text.startsWith('calendar: a working day'))!;
    expect(new Date(monday.at).toISOString()).toBe('2026-12-28T05:00:00.000Z');
    // On Monday the CTO is not asked for; the dialog says which approval a weekend would add.
    const g = gateView(plan, d.state);
    expect(g.approvals.map((a) => a.role)).not.toContain('cto');
    expect(describeAdvance(plan, d.state).lines).toContain('On a weekend or plan holiday (America/New_York) this gate also needs: CTO');
  });
});

describe('validate: the calendar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canary-calendar-'));
  const variant = (name: string, edit: (text: string) => string) => {
    const file = join(dir, name);
    writeFileSync(file, edit(readFileSync(PLAN_PATH, 'utf8')));
    return file;
  };

  it('a zone abbreviation (read as some other zone) and a holiday listed twice are errors at their line', () => {
    const file = variant('abbrev.yaml', (t) =>
      t.replace('timezone: America/New_York  # canary: the calendar', 'timezone: EST  # canary: the calendar').replace('holidays: [2026-11-26, 2026-12-25, 2027-01-01]', 'holidays: [2026-11-26, 2026-12-25, 2027-01-01, 2026-12-25]'),
    );
    const r = loadPlanFile(file);
    expect(r.ok).toBe(false);
    const msgs = r.ok ? [] : r.errors.map((p) => `${p.line}: ${p.message}`);
    const text = readFileSync(file, 'utf8').split('\n');
    const zoneLine = text.findIndex((l) => l.includes('timezone: EST')) + 1;
    const holidayLine = text.findIndex((l) => l.includes('holidays: [')) + 1;
    expect(msgs.some((m) => m.startsWith(`${zoneLine}: `) && m.includes('time zone "EST" is an abbreviation, read as "America/Panama"') && m.includes('write an IANA name such as "America/New_York"'))).toBe(true);
    expect(msgs.some((m) => m.startsWith(`${holidayLine}: `) && m.includes('holiday 2026-12-25 is listed twice (first at holidays[1])'))).toBe(true);
  });

  it('an unknown zone and a day that is not in the calendar are errors at their line', () => {
    const bad = loadPlanFile(variant('zone.yaml', (t) => t.replace('timezone: America/New_York  # canary: the calendar', 'timezone: America/New_Yrok  # canary: the calendar')));
    expect(bad.ok ? [] : bad.errors.map(formatPlanError)).toContainEqual(expect.stringMatching(/zone\.yaml:15:13: metadata\.timezone: unknown time zone "America\/New_Yrok"/));
    const day = loadPlanFile(variant('day.yaml', (t) => t.replace('holidays: [2026-11-26, 2026-12-25, 2027-01-01]', 'holidays: [2026-11-26, 2026-02-30]')));
    expect(day.ok ? [] : day.errors.map(formatPlanError)).toContainEqual(expect.stringMatching(/day\.yaml:\d+:\d+: calendar\.holidays\[1\]: expected a date YYYY-MM-DD.*2026-02-30/));
  });
});

