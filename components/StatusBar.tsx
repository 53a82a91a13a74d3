// The bottom line: status, weight, elapsed time, data freshness, and the keys.
import type { Plan } from '../src/plan/schema.js';
import { compile } from '../src/engine/compiled.js';
import type { RolloutState, RolloutStatus } from '../src/engine/types.js';
import { Box } from 'ink';
import { cellWidth, formatAge, formatDur, formatPercent, wrap } from './format.js';
import { SegLine, segsWidth, type Seg } from './line.js';
import { incidentHints, statusHints } from './keys.js';
import type { ClockView, KeyContext, UiState } from './ui.js';
import type { Theme, Tone } from './theme.js';

export const STATUS_LABEL: Record<RolloutStatus, { glyph: string; text: string; tone: Tone }> = {
  pending: { glyph: '◌', text: 'PENDING', tone: 'muted' },
  running: { glyph: '▶', text: 'RUNNING', tone: 'info' },
  paused: { glyph: '‖', text: 'PAUSED', tone: 'warn' },
  completed: { glyph: '✓', text: 'COMPLETED', tone: 'ok' },
  'rolled-back': { glyph: '✗', text: 'ROLLED BACK', tone: 'bad' },
};

/** Newest SLI sample of any SLI. */
export function newestSampleAt(state: RolloutState): number | null {
  let at: number | null = null;
  for (const k in state.slis) {
    const t = state.slis[k]!.lastAt;
    if (t !== null && (at === null || t > at)) at = t;
  }
  return at;
}

export type StatusKeys = Pick<KeyContext, 'keymap' | 'access'> & {
  clock?: ClockView;
  /** Whether the open confirmation's `y` would do something in this state (its dialog's words). */
  canConfirm?: (state: RolloutState) => boolean | undefined;
};

export function statusSegs(plan: Plan, state: RolloutState, ui: UiState, width: number, flash?: string | null, journal?: string, keys: StatusKeys = {}): Seg[] {
  const st = STATUS_LABEL[state.status];
  const left: Seg[] = [{ text: ` ${st.glyph} ${st.text} `, tone: st.tone, bold: true }];
  if (state.appliedWeight !== state.desiredWeight) {
    left.push({ text: ` ${formatPercent(state.appliedWeight)}`, bold: true }, { text: ` → ${formatPercent(state.desiredWeight)} (applying)`, tone: 'warn' });
  } else left.push({ text: ` ${formatPercent(state.desiredWeight)}`, bold: true });
  // Cut first when the rollback key would not fit beside them (80 columns, a slowed clock, an incident).
  const cuttable: Seg[] = [];
  if (state.startedAt !== null) {
    const t: Seg = { text: ` · T+${formatDur(state.now - state.startedAt)}`, tone: 'muted' };
    left.push(t);
    cuttable.push(t);
  }
  const newest = newestSampleAt(state);
  if (newest === null) left.push({ text: ' · data ? none yet', tone: 'warn' });
  else {
    const age = state.now - newest;
    const stale = age > compile(plan).staleMs;
    left.push({ text: ` · data ${formatAge(age)}${stale ? '⌛' : ''}`, tone: stale ? 'warn' : 'muted' });
  }
  // The embedded world's clock: its speed, paused, or slowed by itself around a moment.
  const ck = keys.clock;
  if (ck) {
    if (ck.paused) left.push({ text: ' · ‖ clock paused', tone: 'warn', bold: true });
    else
      left.push(
        { text: ` · ×${formatSpeed(ck.speed)}`, tone: ck.slowed ? 'warn' : 'muted', bold: ck.slowed !== null },
        ...(ck.slowed ? [{ text: ` slowed: ${ck.slowed}`, tone: 'warn' as const }] : []),
        // The world cannot keep the speed asked: simulated time waits for it, and says how fast it goes.
        ...(ck.actual !== undefined && ck.actual !== null ? [{ text: ` asked, ×${formatSpeed(ck.actual)} actual`, tone: 'warn' as const }] : []),
      );
    // Why it slowed goes before the T+ does (the ×60 in the warning tone still says it slowed).
    const why = left.find((x) => x.text.startsWith(' slowed: '));
    const actual = left.find((x) => x.text.endsWith(' actual'));
    cuttable.unshift(...[why, actual].filter((x): x is Seg => x !== undefined));
  }
  for (const [name, h] of Object.entries(state.sources)) if (!h.ok) left.push({ text: ` · ✗ ${name}`, tone: 'bad', bold: true });
  // The journal is gone (replaced, truncated, removed): nothing is recorded and the rollout holds.
  if (state.journalLost) left.push({ text: ` · ✗ JOURNAL LOST (${state.journalLost.kind}): holding`, tone: 'bad', bold: true });
  // With a Lease: does this terminal drive, or who does.
  if (state.driver) {
    // With what the driver's side says: whom this terminal took over from, a renewal that failed, a
    // cluster that cannot be read.
    const why = state.driver.message ? ` (${state.driver.message})` : '';
    if (state.driver.self) left.push({ text: ` · ◆ driving${why}`, tone: 'ok' });
    else left.push({ text: ` · READ-ONLY: ${state.driver.holder ?? 'nobody'} drives${why}`, tone: 'warn', bold: true });
  }
  // Open incidents and the keys that act on them: one nobody acknowledged yet has its escalation
  // clock running (and the acknowledge key); one acknowledged still names the resolve key.
  const paging = state.incidents.filter((i) => i.resolvedAt === undefined && i.ackedAt === undefined);
  const acked = state.incidents.filter((i) => i.resolvedAt === undefined && i.ackedAt !== undefined);
  if (paging.length || acked.length) {
    const keysText = incidentHints(keys, paging.length > 0);
    const ids = [...paging, ...acked].map((i) => `${i.id} ${i.severity}`).join(' ');
    left.push({ text: ` · ● ${ids}${keysText ? ` ${keysText}` : ''}`, tone: paging.length ? 'bad' : 'warn', bold: true });
  }

  const canConfirm = ui.overlay.kind === 'none' ? undefined : keys.canConfirm?.(state);
  const hints = statusHints(ui, { ...(keys.keymap ? { keymap: keys.keymap } : {}), ...(keys.access ? { access: keys.access } : {}), status: state.status, loadRunning: state.loadTests.running !== null, ...(canConfirm !== undefined ? { canConfirm } : {}) });
  if (flash) {
    // What the engine just said about the last key: shown instead of the hints when it fits; a
    // refusal (✗) in the refusal tone. One that does not fit goes on lines of its own (flashLines).
    const room0 = width - segsWidth(left) - 3;
    if (cellWidth(flash) <= room0) return [...left, { text: '  ' }, { text: flash, tone: flashTone(flash), bold: true }];
  }
  // The journal's file (its name; the full path is printed on exit) when there is room beside the hints.
  if (journal) {
    // Keep room for a hint line that still names every key (~34 columns) and show as much of the
    // name as fits, its end first (the time stamp tells runs apart).
    const file = journal.split('/').pop() ?? journal;
    const shortest = Math.min(...hints.map((h) => cellWidth(h)).filter((w) => w >= 30), 34);
    const room = width - segsWidth(left) - 2 - shortest - cellWidth(' · journal ');
    if (room >= 12) left.push({ text: ` · journal ${file.length <= room ? file : `…${file.slice(file.length - room + 1)}`}`, tone: 'muted' });
  }
  let room = width - segsWidth(left) - 1;
  let hint = hints.find((h) => cellWidth(h) <= room);
  // The rollback key is never pushed off the line (issue 16 item 7): decoration goes first.
  for (const cut of cuttable) {
    if (hint) break;
    left.splice(left.indexOf(cut), 1);
    room = width - segsWidth(left) - 1;
    hint = hints.find((h) => cellWidth(h) <= room);
  }
  if (!hint) return left;
  return [...left, { text: ' '.repeat(Math.max(1, room - cellWidth(hint) + 1)) }, { text: hint, tone: 'accent' }];
}

/** 3600, 36000, 0.5: as typed on --speed. */
export function formatSpeed(speed: number): string {
  return Number.isInteger(speed) ? String(speed) : speed.toFixed(1);
}

const flashTone = (flash: string): Tone => (flash.startsWith('✗') ? 'bad' : 'warn');

/** A message too long for the status line, on up to two lines of its own above it (never cut to
 * "rolled back as s…"); empty when it fits on the status line. */
export function flashLines(plan: Plan, state: RolloutState, ui: UiState, width: number, flash?: string | null, journal?: string, keys: StatusKeys = {}): string[] {
  if (!flash) return [];
  const segs = statusSegs(plan, state, ui, width, flash, journal, keys);
  if (segs.some((s) => s.text === flash)) return [];
  const lines = wrap(flash, width - 1, '  ');
  return lines.length > 2 ? [lines[0]!, `${lines[1]!.slice(0, Math.max(0, width - 2))}…`] : lines;
}

export function StatusBar({ plan, state, ui, width, theme, flash, journal, keys }: { plan: Plan; state: RolloutState; ui: UiState; width: number; theme: Theme; flash?: string | null; journal?: string; keys?: StatusKeys }) {
  const extra = flashLines(plan, state, ui, width, flash, journal, keys);
  if (!extra.length) return <SegLine segs={statusSegs(plan, state, ui, width, flash, journal, keys)} width={width} theme={theme} />;
  return (
    <Box flexDirection="column" flexShrink={0}>
      {extra.map((t, i) => (
        <SegLine key={i} segs={[{ text: ` ${t}`, tone: flashTone(flash!), bold: true }]} width={width} theme={theme} />
      ))}
      <SegLine segs={statusSegs(plan, state, ui, width, null, journal, keys)} width={width} theme={theme} />
    </Box>
  );
}
