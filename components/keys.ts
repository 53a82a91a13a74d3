// Key bindings as data, and the one pure function that turns a key press into a new UI state and,
// maybe, an engine command. The App sends that command to the store at once, before any React
// state update, so nothing on screen can delay it.
//
// Rollback is always exactly two keystrokes, `R` then `y`, from every state: with help open, with
// another dialog open, while typing a pod filter (pod names are lowercase RFC 1123, so an uppercase
// `R` is never filter text).
import type { Command, IncidentSeverity, RolloutStatus } from '../src/engine/types.js';
import { handleLoadKey } from './loadkeys.js';

export type Focus = 'phases' | 'slis' | 'pods' | 'roster';
export const FOCUS_ORDER: readonly Focus[] = ['phases', 'slis', 'pods', 'roster'];

export type Overlay =
  | 'none'
  | 'help'
  | 'confirm-advance'
  | 'confirm-rollback'
  | 'confirm-quit'
  | 'sli-details'
  | 'declare-incident'
  | 'resolve-incident'
  | 'communications'
  | 'load-picker'
  | 'confirm-load';

/** The incident being declared (`i`): kept while R's rollback confirmation is open over it. */
export interface IncidentDraft {
  severity: IncidentSeverity;
  summary: string;
}
export const SEVERITIES: readonly IncidentSeverity[] = ['P0', 'P1', 'P2'];
export const SUMMARY_MAX = 120;

export interface UiState {
  focus: Focus;
  overlay: Overlay;
  /** Pod filter (substring of name, region, track or status; case-insensitive). */
  filter: string;
  /** The filter prompt has the keyboard. */
  editingFilter: boolean;
  /** First visible row of the pods table. */
  podsOffset: number;
  /** The selected SLI row (SLIs pane), whose details `enter` opens. */
  sliIndex: number;
  /** `i`: the incident being declared (null when none). */
  draft?: IncidentDraft | null;
  /** `I`: which open incident the resolve dialog points at. */
  resolveIndex?: number;
  /** `c`: first line shown of the communications preview. */
  commsOffset?: number;
  /** Load tests (loadkeys.ts): the picker's row, the test being confirmed, the load pane shown. */
  loadIndex?: number;
  loadName?: string;
  loadPane?: boolean;
}

export const INITIAL_UI: UiState = { focus: 'phases', overlay: 'none', filter: '', editingFilter: false, podsOffset: 0, sliIndex: 0 };

export type Action =
  | 'rollback'
  | 'advance'
  | 'go'
  | 'pause'
  | 'help'
  | 'close'
  | 'quit'
  | 'confirm'
  | 'focus-next'
  | 'focus-prev'
  | 'filter'
  | 'up'
  | 'down'
  | 'page-up'
  | 'page-down'
  | 'home'
  | 'end'
  | 'details'
  | 'approve'
  | 'declare-incident'
  | 'ack-incident'
  | 'resolve-incident'
  | 'communications'
  | 'load'
  | 'stop-load';

export interface Binding {
  /** As shown in help; named keys: tab, shift-tab, esc, enter, ↑, ↓, pgup, pgdn, home, end. */
  keys: string[];
  action: Action;
  help: string;
  group: 'Rollout' | 'Panes' | 'Pods' | 'General' | 'People';
}

export const BINDINGS: readonly Binding[] = [
  { keys: ['R'], action: 'rollback', help: 'roll back (y confirms)', group: 'Rollout' },
  { keys: ['a'], action: 'advance', help: 'advance (next gate/step)', group: 'Rollout' },
  { keys: ['g'], action: 'go', help: 'GO at a due checkpoint', group: 'Rollout' },
  { keys: ['A'], action: 'approve', help: 'approve the next gate in your role', group: 'Rollout' },
  { keys: ['p'], action: 'pause', help: 'pause / resume the bake', group: 'Rollout' },
  { keys: ['i'], action: 'declare-incident', help: 'declare an incident (P0/P1/P2 + summary)', group: 'People' },
  { keys: ['k'], action: 'ack-incident', help: 'acknowledge: stop the escalation clock', group: 'People' },
  { keys: ['I'], action: 'resolve-incident', help: 'resolve an incident', group: 'People' },
  { keys: ['c'], action: 'communications', help: 'communications: preview, w writes files', group: 'People' },
  { keys: ['l'], action: 'load', help: 'load test: pick, y starts, watch', group: 'Rollout' },
  { keys: ['x'], action: 'stop-load', help: 'stop the load test (esc too)', group: 'Rollout' },
  { keys: ['tab'], action: 'focus-next', help: 'next pane', group: 'Panes' },
  { keys: ['shift-tab'], action: 'focus-prev', help: 'previous pane', group: 'Panes' },
  { keys: ['enter'], action: 'details', help: 'SLI details (SLIs pane)', group: 'Panes' },
  { keys: ['/'], action: 'filter', help: 'filter pods (enter/esc)', group: 'Pods' },
  { keys: ['↑'], action: 'up', help: 'scroll up / previous SLI', group: 'Pods' },
  { keys: ['↓', 'j'], action: 'down', help: 'scroll down / next SLI', group: 'Pods' },
  { keys: ['pgup'], action: 'page-up', help: 'page up', group: 'Pods' },
  { keys: ['pgdn'], action: 'page-down', help: 'page down', group: 'Pods' },
  { keys: ['home'], action: 'home', help: 'first row', group: 'Pods' },
  { keys: ['end'], action: 'end', help: 'last row', group: 'Pods' },
  { keys: ['?'], action: 'help', help: 'this help', group: 'General' },
  { keys: ['esc'], action: 'close', help: 'close / clear the filter', group: 'General' },
  { keys: ['y'], action: 'confirm', help: 'yes, in a dialog', group: 'General' },
  { keys: ['q'], action: 'quit', help: 'quit (asks if running)', group: 'General' },
];

/** The parts of Ink's `Key` the dispatcher reads (all optional, so tests can pass `{}`). */
export interface KeyLike {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

export interface KeyContext {
  status: RolloutStatus;
  /** describeAdvance(...).allowed now; when false, `y` in the advance dialog only closes it. Default true (the engine re-checks). */
  canAdvance?: boolean;
  /** Rows after filtering, and rows the pods table shows: for clamping the scroll. */
  podCount?: number;
  pageSize?: number;
  /** SLI rows in the SLIs pane, for clamping the selection. */
  sliCount?: number;
  /** Open incidents, in the order the resolve dialog lists them. */
  openIncidents?: readonly string[];
  /** Lines of the communications preview, for clamping its scroll. */
  commsLines?: number;
  /** Load tests the plan allows in this phase (the picker's rows), and whether one is running. */
  loadTests?: readonly string[];
  loadRunning?: boolean;
}

export interface KeyResult {
  ui: UiState;
  command?: Command;
  quit?: boolean;
  /** Approve the next gate as the person at this keyboard (the App knows who and which role). */
  approve?: boolean;
}

const NAMED: Record<string, (input: string, key: KeyLike) => boolean> = {
  tab: (_i, k) => !!k.tab && !k.shift,
  'shift-tab': (_i, k) => !!k.tab && !!k.shift,
  esc: (_i, k) => !!k.escape,
  enter: (_i, k) => !!k.return,
  '↑': (_i, k) => !!k.upArrow,
  '↓': (_i, k) => !!k.downArrow,
  pgup: (_i, k) => !!k.pageUp,
  pgdn: (_i, k) => !!k.pageDown,
  home: (_i, k) => !!k.home,
  end: (_i, k) => !!k.end,
};

function matches(spec: string, input: string, key: KeyLike): boolean {
  const named = NAMED[spec];
  if (named) return named(input, key);
  return input === spec && !key.ctrl && !key.meta;
}

/** The action bound to this key press, if any. */
export function actionFor(input: string, key: KeyLike): Action | undefined {
  for (const b of BINDINGS) if (b.keys.some((k) => matches(k, input, key))) return b.action;
  return undefined;
}

/** A rollout is in progress: traffic is (or may be) on the canary. */
export function inProgress(status: RolloutStatus): boolean {
  return status === 'running' || status === 'paused';
}

/** What describeRollback allows: anything but pending and already rolled back. */
function canRollback(status: RolloutStatus): boolean {
  return status !== 'pending' && status !== 'rolled-back';
}

function clampOffset(offset: number, ctx: KeyContext): number {
  const page = Math.max(1, ctx.pageSize ?? 1);
  const max = ctx.podCount === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, ctx.podCount - page);
  return Math.max(0, Math.min(max, offset));
}

// Pod filter text: what can appear in a pod name, region, track or status (no uppercase R: that is
// the rollback key). Uppercase letters are folded since matching ignores case.
const FILTER_CHAR = /^[a-zA-Z0-9._:/-]$/;

/**
 * The dispatcher. Order matters:
 *   1. `R` opens the rollback confirmation from any state (so `R`, `y` always rolls back);
 *   2. an open confirmation: only `y` confirms, any other key cancels;
 *   3. help: `?`, `esc` or `q` close it, other keys are ignored;
 *   4. the filter prompt takes text;
 *   5. the bindings table.
 * Multi-character input (a paste) is never a command: it is filter text or nothing.
 */
export function handleKey(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): KeyResult {
  const single = input.length <= 1;

  // 1. rollback, from anywhere (while declaring an incident too: the draft is kept, and the
  //    dialog comes back when the confirmation closes)
  if (single && input === 'R' && !key.ctrl && !key.meta) {
    return { ui: { ...ui, overlay: 'confirm-rollback', editingFilter: false } };
  }

  // 2. confirmations: y does it, anything else cancels
  if (ui.overlay === 'confirm-rollback' || ui.overlay === 'confirm-advance' || ui.overlay === 'confirm-quit') {
    const closed: UiState = { ...ui, overlay: ui.overlay === 'confirm-rollback' && ui.draft ? 'declare-incident' : 'none' };
    const yes = single && input === 'y' && !key.ctrl && !key.meta;
    if (!yes) return { ui: closed };
    if (ui.overlay === 'confirm-rollback') return canRollback(ctx.status) ? { ui: closed, command: { kind: 'rollback' } } : { ui: closed };
    if (ui.overlay === 'confirm-advance') return ctx.canAdvance === false ? { ui: closed } : { ui: closed, command: { kind: 'advance' } };
    return { ui: closed, quit: true };
  }

  // 2b. the load-test picker and its confirmation (loadkeys.ts)
  const load = handleLoadKey(ui, input, key, ctx);
  if (load) return load;

  // 3. help, the SLI details and the people dialogs are modal (R still works: see 1)
  if (ui.overlay === 'declare-incident') return draftKey(ui, input, key);
  if (ui.overlay === 'resolve-incident') {
    const open = ctx.openIncidents ?? [];
    const i = Math.min(ui.resolveIndex ?? 0, Math.max(0, open.length - 1));
    if (key.upArrow || key.downArrow) return { ui: { ...ui, resolveIndex: Math.max(0, Math.min(open.length - 1, i + (key.upArrow ? -1 : 1))) } };
    const closed: UiState = { ...ui, overlay: 'none', resolveIndex: 0 };
    if ((key.return || (single && input === 'y' && !key.ctrl && !key.meta)) && open[i] !== undefined) return { ui: closed, command: { kind: 'resolve-incident', id: open[i] } };
    return { ui: closed };
  }
  if (ui.overlay === 'communications') {
    if (key.escape || (single && (input === 'c' || input === 'q' || input === '?') && !key.ctrl)) return { ui: { ...ui, overlay: 'none' } };
    if (single && input === 'w' && !key.ctrl && !key.meta) return { ui, command: { kind: 'write-communications' } };
    const max = Math.max(0, (ctx.commsLines ?? 0) - (ctx.pageSize ?? 10));
    const cur = Math.min(ui.commsOffset ?? 0, max);
    const page = Math.max(1, ctx.pageSize ?? 10);
    let next = cur;
    if (key.upArrow) next -= 1;
    else if (key.downArrow) next += 1;
    else if (key.pageUp) next -= page;
    else if (key.pageDown || (single && input === ' ')) next += page;
    else if (key.home) next = 0;
    else if (key.end) next = max;
    next = Math.max(0, Math.min(max, next));
    return next === (ui.commsOffset ?? 0) ? { ui } : { ui: { ...ui, commsOffset: next } };
  }
  if (ui.overlay === 'sli-details') {
    if (key.escape || key.return || (single && (input === 'q' || input === '?') && !key.ctrl)) return { ui: { ...ui, overlay: 'none' } };
    if (key.upArrow || key.downArrow || (single && (input === 'k' || input === 'j'))) return { ui: moveSli(ui, key.upArrow || input === 'k' ? -1 : 1, ctx) };
    return { ui };
  }
  if (ui.overlay === 'help') {
    if (key.escape || (single && (input === '?' || input === 'q') && !key.ctrl)) return { ui: { ...ui, overlay: 'none' } };
    return { ui };
  }

  // 4. the filter prompt
  if (ui.editingFilter) {
    if (key.escape) return { ui: { ...ui, filter: '', editingFilter: false, podsOffset: 0 } };
    if (key.return) return { ui: { ...ui, editingFilter: false } };
    if (key.tab) return handleKey({ ...ui, editingFilter: false }, input, key, ctx);
    if (key.backspace || key.delete) return { ui: { ...ui, filter: ui.filter.slice(0, -1), podsOffset: 0 } };
    if (key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end) return scroll(ui, key, ctx);
    if (key.ctrl || key.meta) return { ui };
    const text = [...input].filter((ch) => FILTER_CHAR.test(ch)).join('').toLowerCase();
    return text ? { ui: { ...ui, filter: ui.filter + text, podsOffset: 0 } } : { ui };
  }

  if (!single) return { ui }; // a paste outside the filter prompt: never a command

  switch (actionFor(input, key)) {
    case 'advance':
      return { ui: { ...ui, overlay: 'confirm-advance' } };
    case 'go':
      return { ui, command: { kind: 'ack-checkpoint' } };
    case 'approve':
      return { ui, approve: true };
    case 'declare-incident':
      return { ui: { ...ui, overlay: 'declare-incident', draft: ui.draft ?? { severity: 'P0', summary: '' } } };
    case 'ack-incident':
      return { ui, command: { kind: 'ack-incident' } };
    case 'resolve-incident':
      // Nothing open: the engine says so (the App shows it where the hints are).
      if (!ctx.openIncidents?.length) return { ui, command: { kind: 'resolve-incident' } };
      return { ui: { ...ui, overlay: 'resolve-incident', resolveIndex: 0 } };
    case 'communications':
      return { ui: { ...ui, overlay: 'communications', commsOffset: 0 } };
    case 'pause':
      if (ctx.status === 'running') return { ui, command: { kind: 'pause' } };
      if (ctx.status === 'paused') return { ui, command: { kind: 'resume' } };
      return { ui };
    case 'help':
      return { ui: { ...ui, overlay: 'help' } };
    case 'close':
      if (ctx.loadRunning) return { ui, command: { kind: 'stop-load-test' } };
      if (ui.filter) return { ui: { ...ui, filter: '', podsOffset: 0 } };
      return ui.loadPane ? { ui: { ...ui, loadPane: false } } : { ui };
    case 'load':
      return { ui: { ...ui, overlay: 'load-picker', loadIndex: 0 } };
    case 'stop-load':
      return ctx.loadRunning ? { ui, command: { kind: 'stop-load-test' } } : { ui };
    case 'quit':
      return inProgress(ctx.status) ? { ui: { ...ui, overlay: 'confirm-quit' } } : { ui, quit: true };
    case 'focus-next':
    case 'focus-prev': {
      const i = FOCUS_ORDER.indexOf(ui.focus);
      const n = FOCUS_ORDER.length;
      const next = FOCUS_ORDER[(i + (key.shift ? n - 1 : 1)) % n]!;
      return { ui: { ...ui, focus: next } };
    }
    case 'filter':
      return { ui: { ...ui, focus: 'pods', editingFilter: true } };
    case 'details':
      return ui.focus === 'slis' ? { ui: { ...ui, overlay: 'sli-details' } } : { ui };
    case 'up':
    case 'down':
      if (ui.focus === 'slis') return { ui: moveSli(ui, key.upArrow ? -1 : 1, ctx) };
      if (ui.focus !== 'pods') return { ui };
      return scroll(ui, { ...key, downArrow: key.downArrow || input === 'j' }, ctx);
    case 'page-up':
    case 'page-down':
    case 'home':
    case 'end':
      if (ui.focus !== 'pods') return { ui };
      return scroll(ui, key, ctx);
    case 'confirm':
    case 'rollback': // handled above
    case undefined:
      return { ui };
  }
}

/** Longest input that is fast typing rather than a paste: a busy event loop can deliver `R` and
 * `y` typed 10 ms apart in one read, and that must still roll back. */
export const BURST_MAX = 4;

/** One read from the terminal: a burst of up to BURST_MAX plain characters is each character in
 * turn (so `Ry` in one read rolls back); anything longer outside the filter prompt is a paste and
 * never a command. */
export function handleInput(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): { ui: UiState; commands: Command[]; quit: boolean; approve: boolean } {
  const chars = [...input];
  const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab && chars.every((c) => c >= ' ' && c !== '\u007f');
  if (chars.length <= 1 || !plain || chars.length > BURST_MAX || ui.editingFilter || (ui.overlay === 'declare-incident' && !chars.includes('R'))) {
    const r = handleKey(ui, input, key, ctx);
    return { ui: r.ui, commands: r.command ? [r.command] : [], quit: r.quit === true, approve: r.approve === true };
  }
  let state = ui;
  const commands: Command[] = [];
  let approve = false;
  for (const ch of chars) {
    const r = handleKey(state, ch, {}, ctx);
    state = r.ui;
    if (r.command) commands.push(r.command);
    if (r.approve) approve = true;
    if (r.quit) return { ui: state, commands, quit: true, approve };
  }
  return { ui: state, commands, quit: false, approve };
}

/** The incident dialog: type the summary; ←/→ (or tab) pick the severity; enter declares; esc
 * cancels. Printable text only; `R` is never text here (see 1 in handleKey). */
function draftKey(ui: UiState, input: string, key: KeyLike): KeyResult {
  const draft = ui.draft ?? { severity: 'P0' as const, summary: '' };
  if (key.escape) return { ui: { ...ui, overlay: 'none', draft: null } };
  if (key.return) {
    const summary = draft.summary.trim();
    if (!summary) return { ui };
    return { ui: { ...ui, overlay: 'none', draft: null }, command: { kind: 'declare-incident', severity: draft.severity, summary } };
  }
  if (key.leftArrow || key.rightArrow || key.tab) {
    const i = SEVERITIES.indexOf(draft.severity);
    const by = key.leftArrow || (key.tab && key.shift) ? SEVERITIES.length - 1 : 1;
    return { ui: { ...ui, draft: { ...draft, severity: SEVERITIES[(i + by) % SEVERITIES.length]! } } };
  }
  if (key.backspace || key.delete) return { ui: { ...ui, draft: { ...draft, summary: [...draft.summary].slice(0, -1).join('') } } };
  if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return { ui };
  const text = [...input].filter((ch) => ch >= ' ' && ch !== '\u007f').join('');
  if (!text) return { ui };
  const summary = [...(draft.summary + text)].slice(0, SUMMARY_MAX).join('');
  return { ui: { ...ui, draft: { ...draft, summary } } };
}

function moveSli(ui: UiState, by: number, ctx: KeyContext): UiState {
  const n = Math.max(1, ctx.sliCount ?? 1);
  const i = Math.max(0, Math.min(n - 1, ui.sliIndex + by));
  return i === ui.sliIndex ? ui : { ...ui, sliIndex: i };
}

function scroll(ui: UiState, key: KeyLike, ctx: KeyContext): KeyResult {
  const page = Math.max(1, ctx.pageSize ?? 10);
  let offset = clampOffset(ui.podsOffset, ctx);
  if (key.upArrow) offset -= 1;
  else if (key.downArrow) offset += 1;
  else if (key.pageUp) offset -= page;
  else if (key.pageDown) offset += page;
  else if (key.home) offset = 0;
  else if (key.end) offset = Number.MAX_SAFE_INTEGER;
  offset = clampOffset(offset, ctx);
  return offset === ui.podsOffset ? { ui } : { ui: { ...ui, podsOffset: offset } };
}

/** Help text for the key column: `↑/k`, `shift-tab`. */
export function keyLabel(b: Binding): string {
  return b.keys.join('/');
}
