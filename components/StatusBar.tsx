// The bottom line: status, weight, elapsed time, data freshness, and the keys.
import type { Plan } from '../src/plan/schema.js';
import { compile } from '../src/engine/compiled.js';
import type { RolloutState, RolloutStatus } from '../src/engine/types.js';
import { cellWidth, formatAge, formatDur, formatPercent } from './format.js';
import { SegLine, segsWidth, type Seg } from './line.js';
import { incidentHints, statusHints } from './keys.js';
import type { KeyContext, UiState } from './ui.js';
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

export type StatusKeys = Pick<KeyContext, 'keymap' | 'access'>;

export function statusSegs(plan: Plan, state: RolloutState, ui: UiState, width: number, flash?: string | null, journal?: string, keys: StatusKeys = {}): Seg[] {
  const st = STATUS_LABEL[state.status];
  const left: Seg[] = [{ text: ` ${st.glyph} ${st.text} `, tone: st.tone, bold: true }];
  if (state.appliedWeight !== state.desiredWeight) {
    left.push({ text: ` ${formatPercent(state.appliedWeight)}`, bold: true }, { text: ` → ${formatPercent(state.desiredWeight)} (applying)`, tone: 'warn' });
  } else left.push({ text: ` ${formatPercent(state.desiredWeight)}`, bold: true });
  if (state.startedAt !== null) left.push({ text: ` · T+${formatDur(state.now - state.startedAt)}`, tone: 'muted' });
  const newest = newestSampleAt(state);
  if (newest === null) left.push({ text: ' · data ? none yet', tone: 'warn' });
  else {
    const age = state.now - newest;
    const stale = age > compile(plan).staleMs;
    left.push({ text: ` · data ${formatAge(age)}${stale ? '⌛' : ''}`, tone: stale ? 'warn' : 'muted' });
  }
  for (const [name, h] of Object.entries(state.sources)) if (!h.ok) left.push({ text: ` · ✗ ${name}`, tone: 'bad', bold: true });
  // With a Lease: does this terminal drive, or who does.
  if (state.driver) {
    if (state.driver.self) left.push({ text: ' · ◆ driving', tone: 'ok' });
    else left.push({ text: ` · READ-ONLY: ${state.driver.holder ?? 'nobody'} drives`, tone: 'warn', bold: true });
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

  const hints = statusHints(ui, { ...keys, status: state.status, loadRunning: state.loadTests.running !== null });
  if (flash) {
    // What the engine just said about the last key (a refusal and why): shown instead of the hints.
    const room0 = width - segsWidth(left) - 3;
    if (room0 > 10) return [...left, { text: '  ' }, { text: flash.length > room0 ? `${flash.slice(0, room0 - 1)}…` : flash, tone: 'warn', bold: true }];
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
  const room = width - segsWidth(left) - 1;
  const hint = hints.find((h) => cellWidth(h) <= room);
  if (!hint) return left;
  return [...left, { text: ' '.repeat(Math.max(1, room - cellWidth(hint) + 1)) }, { text: hint, tone: 'accent' }];
}

export function StatusBar({ plan, state, ui, width, theme, flash, journal, keys }: { plan: Plan; state: RolloutState; ui: UiState; width: number; theme: Theme; flash?: string | null; journal?: string; keys?: StatusKeys }) {
  return <SegLine segs={statusSegs(plan, state, ui, width, flash, journal, keys)} width={width} theme={theme} />;
}
