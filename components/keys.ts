// The key registry: the main screen's bindings (global and per focused pane) and every dialog's,
// each binding carrying its keys, its handler, its description and, through `availability`, the
// reason it is refused right now. One pure function turns a key press into a new UI state and,
// maybe, an engine command; the App sends that command to the store at once, before any React
// state update, so nothing on screen can delay it. Help and the status bar's hints are generated
// from the same tables, so a key cannot work without being shown or be shown without working.
//
// Dispatch order is `handleKey` below, in this order:
//   0. a text prompt (the pod filter, an incident's summary, a no-go's reason) takes every
//      printable key as text, `R` and every other global key included (k9s, vim): only esc,
//      enter, backspace, arrows/tab and ctrl keys act there;
//   1. rollback (`R`, or its remap) from every other state: R then y always rolls back;
//   2. the topmost dialog (modal: its bindings, then what it does with any other key);
//   3. the focused pane (its bindings);
//   4. the global bindings.
// Read-only views (k9s): a replay binds no action key at all; a war-room viewer and a terminal
// that does not hold the lease are told why at once when they press one, before any dialog opens.
import { POD_SORTS } from './pods.js';
import { ACTIONS, ACTION_NAMES, DEFAULT_KEYMAP, type ActionName, type KeyGroup, type KeyKind, type Keymap } from '../src/config/keys.js';
import type { Plan } from '../src/plan/schema.js';
import type { Actor, Command, IncidentSeverity, RolloutState, RolloutStatus } from '../src/engine/types.js';
import { FOCUS_ORDER, FULL_ACCESS, NO_OVERLAY, SEVERITIES, SUMMARY_MAX, type Access, type ClockKey, type Dialog, type DialogKind, type Focus, type KeyContext, type KeyLike, type KeyResult, type UiState } from './ui.js';

export * from './ui.js';
export type { ActionName, Keymap } from '../src/config/keys.js';

// ---------------------------------------------------------------------------------------------
// matching

const NAMED: Record<string, (k: KeyLike) => boolean> = {
  tab: (k) => !!k.tab && !k.shift,
  'shift-tab': (k) => !!k.tab && !!k.shift,
  esc: (k) => !!k.escape,
  enter: (k) => !!k.return,
  '↑': (k) => !!k.upArrow,
  '↓': (k) => !!k.downArrow,
  '←': (k) => !!k.leftArrow,
  '→': (k) => !!k.rightArrow,
  pgup: (k) => !!k.pageUp,
  pgdn: (k) => !!k.pageDown,
  home: (k) => !!k.home,
  end: (k) => !!k.end,
  backspace: (k) => !!k.backspace || !!k.delete,
};

/** Does this key press match a key as written in the registry (`R`, `enter`, `↑`, `space`)? */
export function matches(spec: string, input: string, key: KeyLike): boolean {
  const named = NAMED[spec];
  if (named) return named(key);
  if (spec === 'space') return input === ' ' && !key.ctrl && !key.meta;
  return input === spec && !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab;
}
const any = (specs: readonly string[], input: string, key: KeyLike) => specs.some((s) => matches(s, input, key));

/** Is a text prompt open (the pod filter, an incident's summary, a no-go's reason)? There every
 * printable key is text: `R`, `n`, `q`, `?`, `:` too. Only esc, enter, backspace, the arrows, tab
 * and ctrl keys act. */
export function inTextPrompt(ui: UiState): boolean {
  return ui.overlay.kind === 'none' ? ui.editingFilter : ui.overlay.kind === 'declare-incident' || ui.overlay.kind === 'no-go' || ui.overlay.kind === 'tick-note';
}

/** The printable characters of a key press (C0, DEL and C1 controls dropped): what a prompt takes. */
function typedText(input: string): string {
  return [...input].filter((ch) => ch >= ' ' && (ch < '\u007f' || ch > '\u009f')).join('');
}

// ---------------------------------------------------------------------------------------------
// who may do what

/** What this keyboard may do, from who sits at it and the state (pure; the App passes it in). */
export function accessFor(plan: Plan, state: Pick<RolloutState, 'driver'>, actor: Actor, replay = false, clock = false): Access {
  if (replay) return { kind: 'replay' };
  const who = actor.name ?? actor.id;
  if (actor.viewer) return { kind: 'viewer', reason: `${who} has a view-only token: a viewer cannot act` };
  const auth = plan.rollback.authority;
  const titles = new Map(plan.roster.roles.map((r) => [r.id, r.title]));
  const rollback =
    actor.roles && auth.length && !auth.some((a) => actor.roles!.includes(a.role))
      ? `no rollback authority: only ${auth.map((a) => titles.get(a.role) ?? a.role).join(', ')}`
      : null;
  const actions = state.driver && !state.driver.self ? `read-only: ${state.driver.holder ?? 'nobody'} drives${rollback ? '' : '; R still works'}` : null;
  return { kind: 'operator', actions, rollback, ...(clock ? { clock } : {}) };
}

export type Availability = { state: 'on' } | { state: 'refused'; why: string } | { state: 'unbound' };

/** Whether an action of this kind is bound for this keyboard, and if refused, why. */
export function availability(action: ActionName | null, kind: KeyKind, access: Access): Availability {
  // The clock keys exist only where this console paces a simulated clock.
  if (action && ACTIONS[action].group === 'Clock') return access.kind === 'operator' && access.clock ? { state: 'on' } : { state: 'unbound' };
  if (kind === 'view') return { state: 'on' };
  switch (access.kind) {
    case 'replay':
      return { state: 'unbound' };
    case 'viewer':
      return { state: 'refused', why: access.reason };
    case 'operator':
      if (action === 'rollback') return access.rollback ? { state: 'refused', why: access.rollback } : { state: 'on' };
      if (access.actions) return { state: 'refused', why: access.actions };
      return { state: 'on' };
  }
}

// ---------------------------------------------------------------------------------------------
// the main screen: global bindings and per-pane bindings

export interface Binding {
  action: ActionName;
  /** As shown in help; named keys: tab, shift-tab, esc, enter, ↑, ↓, pgup, pgdn, home, end. */
  keys: readonly string[];
  help: string;
  hint: string;
  group: KeyGroup;
  kind: KeyKind;
}

/** Every main-screen binding under a keymap (default: the built-in keys). */
export function bindings(keymap: Keymap = DEFAULT_KEYMAP): Binding[] {
  return ACTION_NAMES.map((action) => {
    const a = ACTIONS[action];
    return { action, keys: keymap[action], help: a.help, hint: a.hint, group: a.group, kind: a.kind };
  });
}
export const BINDINGS: readonly Binding[] = bindings();

type Run = (ui: UiState, ctx: KeyContext, input: string, key: KeyLike) => KeyResult;

const open = (ui: UiState, overlay: Dialog): KeyResult => ({ ui: { ...ui, overlay } });

/** A rollout is in progress: traffic is (or may be) on the canary. */
export function inProgress(status: RolloutStatus): boolean {
  return status === 'running' || status === 'paused';
}

/** What describeRollback allows: anything but pending and already rolled back. */
function canRollback(status: RolloutStatus): boolean {
  return status !== 'pending' && status !== 'rolled-back';
}

const GLOBAL: Partial<Record<ActionName, Run>> = {
  advance: (ui) => open(ui, { kind: 'confirm-advance' }),
  // Always a dialog: it names the checkpoint, or says none is waiting (then y only closes it).
  go: (ui) => open(ui, { kind: 'confirm-go' }),
  approve: (ui) => ({ ui, approve: true }),
  pause: (ui, ctx) => (ctx.status === 'running' ? { ui, command: { kind: 'pause' } } : ctx.status === 'paused' ? { ui, command: { kind: 'resume' } } : { ui }),
  load: (ui) => open(ui, { kind: 'load-picker', index: 0 }),
  'stop-load': (ui, ctx) => (ctx.loadRunning ? { ui, command: { kind: 'stop-load-test' } } : { ui }),
  'declare-incident': (ui) => open(ui, { kind: 'declare-incident', draft: { severity: 'P0', summary: '' } }),
  // Nothing to acknowledge or resolve: the engine says so (the App shows it where the hints are).
  'ack-incident': (ui, ctx) => (ctx.ackTarget ? open(ui, { kind: 'confirm-ack', id: ctx.ackTarget }) : { ui, command: { kind: 'ack-incident' } }),
  'resolve-incident': (ui, ctx) => (ctx.openIncidents?.length ? open(ui, { kind: 'resolve-incident', index: 0 }) : { ui, command: { kind: 'resolve-incident' } }),
  communications: (ui) => open(ui, { kind: 'communications', offset: 0 }),
  checklist: (ui) => open(ui, { kind: 'checklist', index: 0 }),
  flags: (ui) => open(ui, { kind: 'flags', index: 0 }),
  deploy: (ui) => open(ui, { kind: 'confirm-deploy' }),
  'no-go': (ui) => open(ui, { kind: 'no-go', reason: '' }),
  validate: (ui) => open(ui, { kind: 'confirm-validate' }),
  runbook: (ui) => ({ ui: { ...ui, runbookPane: !ui.runbookPane } }),
  help: (ui) => open(ui, { kind: 'help', offset: 0 }),
  close: (ui, ctx) => {
    if (ctx.loadRunning && availability('stop-load', 'acts', ctx.access ?? FULL_ACCESS).state === 'on') return { ui, command: { kind: 'stop-load-test' } };
    if (ui.filter) return { ui: { ...ui, filter: '', podsOffset: 0 } };
    if (ui.runbookPane) return { ui: { ...ui, runbookPane: false } };
    return ui.loadPane ? { ui: { ...ui, loadPane: false } } : { ui };
  },
  // A replay changes nothing: quitting it needs no question.
  quit: (ui, ctx) => (inProgress(ctx.status) && ctx.access?.kind !== 'replay' ? open(ui, { kind: 'confirm-quit' }) : { ui, quit: true }),
  'clock-slower': (ui) => ({ ui, clock: 'slower' }),
  'clock-faster': (ui) => ({ ui, clock: 'faster' }),
  'clock-pause': (ui) => ({ ui, clock: 'toggle' }),
  'focus-next': (ui) => ({ ui: { ...ui, focus: FOCUS_ORDER[(FOCUS_ORDER.indexOf(ui.focus) + 1) % FOCUS_ORDER.length]! } }),
  'focus-prev': (ui) => ({ ui: { ...ui, focus: FOCUS_ORDER[(FOCUS_ORDER.indexOf(ui.focus) + FOCUS_ORDER.length - 1) % FOCUS_ORDER.length]! } }),
  filter: (ui) => ({ ui: { ...ui, focus: 'pods', editingFilter: true } }),
  'pod-sort': (ui) => ({ ui: { ...ui, podSort: POD_SORTS[(POD_SORTS.indexOf(ui.podSort ?? 'health') + 1) % POD_SORTS.length]!, podsOffset: 0 } }),
};

function moveSli(ui: UiState, by: number, ctx: KeyContext): UiState {
  const n = Math.max(1, ctx.sliCount ?? 1);
  const i = Math.max(0, Math.min(n - 1, ui.sliIndex + by));
  return i === ui.sliIndex ? ui : { ...ui, sliIndex: i };
}

function clampOffset(offset: number, ctx: KeyContext): number {
  const page = Math.max(1, ctx.pageSize ?? 1);
  const max = ctx.podCount === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, ctx.podCount - page);
  return Math.max(0, Math.min(max, offset));
}

type Move = 'up' | 'down' | 'page-up' | 'page-down' | 'home' | 'end';
function scrollPods(ui: UiState, move: Move, ctx: KeyContext): KeyResult {
  const page = Math.max(1, ctx.pageSize ?? 10);
  let offset = clampOffset(ui.podsOffset, ctx);
  if (move === 'up') offset -= 1;
  else if (move === 'down') offset += 1;
  else if (move === 'page-up') offset -= page;
  else if (move === 'page-down') offset += page;
  else if (move === 'home') offset = 0;
  else offset = Number.MAX_SAFE_INTEGER;
  offset = clampOffset(offset, ctx);
  return offset === ui.podsOffset ? { ui } : { ui: { ...ui, podsOffset: offset } };
}

const MOVES: Move[] = ['up', 'down', 'page-up', 'page-down', 'home', 'end'];
/** The focused pane's bindings: asked before the global ones. */
const PANES: Record<Focus, Partial<Record<ActionName, Run>>> = {
  pods: {
    ...Object.fromEntries(MOVES.map((m) => [m, (ui: UiState, ctx: KeyContext) => scrollPods(ui, m, ctx)])),
    // kubectl describe + logs -f of the marked row: the overlay closes (and stops following) on esc.
    inspect: (ui: UiState, ctx: KeyContext) => (ctx.podKey ? { ui: { ...ui, overlay: { kind: 'pod', key: ctx.podKey } }, inspect: ctx.podKey } : { ui }),
  },
  slis: {
    up: (ui, ctx) => ({ ui: moveSli(ui, -1, ctx) }),
    down: (ui, ctx) => ({ ui: moveSli(ui, 1, ctx) }),
    details: (ui) => open(ui, { kind: 'sli-details' }),
  },
  phases: {},
  roster: {},
};

// ---------------------------------------------------------------------------------------------
// dialogs

export interface DialogBinding<D> {
  /** As shown in help and the hints. */
  keys: readonly string[];
  help: string;
  /** Shown in the status bar (short); `essential` ones stay when it is narrow. */
  hint?: string;
  essential?: boolean;
  /** Matches more than `keys` says (a digit, text). Default: any of `keys`. */
  match?: (input: string, key: KeyLike) => boolean;
  /** Does something to the rollout or the outside: not bound in read-only views. */
  acts?: boolean;
  run: (ui: UiState, d: D, ctx: KeyContext, input: string, key: KeyLike) => KeyResult;
}

export interface DialogSpec<D> {
  title: string;
  bindings: DialogBinding<D>[];
  /** Any other key: what it does (help says so). */
  other: { help: string; hint?: string; run: (ui: UiState, d: D, ctx: KeyContext, input: string, key: KeyLike) => KeyResult };
  /** A yes/no confirmation (hints: `y: yes  any other key: no`). */
  confirm?: boolean;
}

type Specs = { [K in DialogKind]: DialogSpec<Extract<Dialog, { kind: K }>> };

const closeTo = (ui: UiState): KeyResult => ({ ui: { ...ui, overlay: NO_OVERLAY } });

/** A confirmation: `y` does it, any other key closes it. */
function declareCommand(draft: { severity: IncidentSeverity; summary: string; kind?: string }): Command {
  return { kind: 'declare-incident', severity: draft.severity, summary: draft.summary.trim(), ...(draft.kind && draft.kind !== 'other' ? { incidentKind: draft.kind } : {}) };
}

function confirmSpec<D extends Dialog>(title: string, what: string, yes: (ui: UiState, d: D, ctx: KeyContext) => KeyResult): DialogSpec<D> {
  return {
    title,
    confirm: true,
    bindings: [{ keys: ['y'], help: what, hint: 'y: yes', essential: true, run: (ui, d, ctx) => yes({ ...ui, overlay: NO_OVERLAY }, d, ctx) }],
    other: { help: 'no: closes the dialog', hint: 'any other key: no', run: (ui) => closeTo(ui) },
  };
}

function scrollBy(cur: number, max: number, page: number, input: string, key: KeyLike): number {
  let next = cur;
  if (key.upArrow || (input === 'k' && !key.ctrl)) next -= 1;
  else if (key.downArrow || (input === 'j' && !key.ctrl)) next += 1;
  else if (key.pageUp) next -= page;
  else if (key.pageDown || input === ' ') next += page;
  else if (key.home || (input === 'g' && !key.ctrl)) next = 0; // vim, less, k9s: g top, G bottom
  else if (key.end || (input === 'G' && !key.ctrl)) next = max;
  return Math.max(0, Math.min(max, next));
}
const SCROLL_KEYS = ['↑', 'k', '↓', 'j', 'pgup', 'pgdn', 'space', 'home', 'end', 'g', 'G'];
const isScroll = (input: string, key: KeyLike) => any(SCROLL_KEYS, input, key);

export const DIALOGS: Specs = {
  help: {
    title: 'Help',
    bindings: [
      {
        keys: ['↑↓jk'],
        help: 'scroll (pgup/pgdn, home/end or g/G too)',
        hint: '↑/↓ scroll',
        match: isScroll,
        run: (ui, d, ctx, input, key) => {
          const page = Math.max(1, ctx.pageSize ?? 10);
          const next = scrollBy(d.offset, Math.max(0, (ctx.helpLines ?? 0) - page), page, input, key);
          return next === d.offset ? { ui } : { ui: { ...ui, overlay: { ...d, offset: next } } };
        },
      },
      { keys: ['esc', '?', 'q'], help: 'close help', hint: 'esc close', essential: true, run: (ui) => closeTo(ui) },
    ],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  'confirm-advance': confirmSpec('Advance', 'advance as the dialog says', (ui, _d, ctx) => (ctx.canAdvance === false ? { ui } : { ui, command: { kind: 'advance' } })),
  'confirm-rollback': confirmSpec('Roll back', 'roll back now', (ui, _d, ctx) => (canRollback(ctx.status) ? { ui, command: { kind: 'rollback' } } : { ui })),
  'confirm-quit': confirmSpec('Quit', 'quit (traffic stays where it is)', (ui) => ({ ui, quit: true })),
  'confirm-go': confirmSpec('GO at a checkpoint', 'give the go', (ui, _d, ctx) => (ctx.checkpointDue === false ? { ui } : { ui, command: { kind: 'ack-checkpoint' } })),
  'confirm-declare': {
    ...confirmSpec<Dialog & { kind: 'confirm-declare' }>('Declare and roll back', 'declare it: the plan rolls back at once', (ui, d) => ({ ui, command: declareCommand(d.draft) })),
    other: { help: 'no: back to the incident being declared', hint: 'any other key: no', run: (ui, d) => ({ ui: { ...ui, overlay: { kind: 'declare-incident', draft: d.draft } } }) },
  },
  'confirm-ack': confirmSpec('Acknowledge', 'acknowledge the incident named (its escalation stops)', (ui, d) => ({ ui, command: { kind: 'ack-incident', id: d.id } })),
  'confirm-load': confirmSpec('Start a load test', 'start it (the load pane opens)', (ui, d) => ({ ui: { ...ui, loadPane: true }, command: { kind: 'load-test', name: d.name } })),
  'sli-details': {
    title: 'SLI details',
    bindings: [
      { keys: ['↑', 'k'], help: 'previous SLI', match: (i, k) => any(['↑', 'k'], i, k), run: (ui, _d, ctx) => ({ ui: moveSli(ui, -1, ctx) }) },
      { keys: ['↓', 'j'], help: 'next SLI', hint: '↑/↓ next SLI', match: (i, k) => any(['↓', 'j'], i, k), run: (ui, _d, ctx) => ({ ui: moveSli(ui, 1, ctx) }) },
      { keys: ['esc', 'enter', 'q', '?'], help: 'close', hint: 'esc close', essential: true, run: (ui) => closeTo(ui) },
    ],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  'declare-incident': {
    title: 'Declare an incident',
    bindings: [
      { keys: ['esc'], help: 'cancel', hint: 'esc cancel', essential: true, run: (ui) => closeTo(ui) },
      {
        keys: ['enter'],
        help: 'declare it (the escalation clock starts)',
        hint: 'enter declare',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const summary = d.draft.summary.trim();
          if (!summary) return { ui };
          // An immediate kind rolls back: it asks first, like R.
          const kind = (ctx.incidentKinds ?? []).find((k) => k.id === d.draft.kind);
          if (kind?.immediate) return { ui: { ...ui, overlay: { kind: 'confirm-declare', draft: d.draft } } };
          return { ui: { ...ui, overlay: NO_OVERLAY }, command: declareCommand(d.draft) };
        },
      },
      {
        keys: ['↑', '↓'],
        help: "the incident's kind (an immediate one rolls back once confirmed)",
        hint: '↑/↓ kind',
        match: (_i, k) => !!(k.upArrow || k.downArrow),
        run: (ui, d, ctx, _i, key) => {
          const kinds = ctx.incidentKinds ?? [];
          if (!kinds.length) return { ui };
          const at = Math.max(0, kinds.findIndex((k) => k.id === (d.draft.kind ?? 'other')));
          const next = kinds[(at + (key.upArrow ? kinds.length - 1 : 1)) % kinds.length]!;
          return { ui: { ...ui, overlay: { ...d, draft: { ...d.draft, kind: next.id, ...(next.immediate && next.severity ? { severity: next.severity } : {}) } } } };
        },
      },
      {
        keys: ['←', '→', 'tab'],
        help: 'severity P0 / P1 / P2',
        hint: '←/→ severity',
        match: (_i, k) => !!(k.leftArrow || k.rightArrow || k.tab),
        run: (ui, d, _ctx, _i, key) => {
          const i = SEVERITIES.indexOf(d.draft.severity);
          const by = key.leftArrow || (key.tab && key.shift) ? SEVERITIES.length - 1 : 1;
          return { ui: { ...ui, overlay: { ...d, draft: { ...d.draft, severity: SEVERITIES[(i + by) % SEVERITIES.length]! } } } };
        },
      },
      { keys: ['backspace'], help: 'delete a character', run: (ui, d) => ({ ui: { ...ui, overlay: { ...d, draft: { ...d.draft, summary: [...d.draft.summary].slice(0, -1).join('') } } } }) },
    ],
    other: {
      help: 'text: the one-line summary (every printable key is text, R too: esc, then R, rolls back)',
      hint: 'type the summary',
      run: (ui, d, _ctx, input, key) => {
        if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown) return { ui };
        const text = typedText(input);
        if (!text) return { ui };
        const summary = [...(d.draft.summary + text)].slice(0, SUMMARY_MAX).join('');
        return { ui: { ...ui, overlay: { ...d, draft: { ...d.draft, summary } } } };
      },
    },
  },
  'resolve-incident': {
    title: 'Resolve an incident',
    bindings: [
      {
        keys: ['↑', '↓'],
        help: 'choose the incident',
        hint: '↑/↓ choose',
        match: (_i, k) => !!(k.upArrow || k.downArrow),
        run: (ui, d, ctx, _i, key) => {
          const n = (ctx.openIncidents ?? []).length;
          const i = Math.min(d.index, Math.max(0, n - 1));
          return { ui: { ...ui, overlay: { ...d, index: Math.max(0, Math.min(n - 1, i + (key.upArrow ? -1 : 1))) } } };
        },
      },
      {
        keys: ['y', 'enter'],
        help: 'resolve the chosen one',
        hint: 'y resolve',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const open = ctx.openIncidents ?? [];
          const id = open[Math.min(d.index, Math.max(0, open.length - 1))];
          return id === undefined ? closeTo(ui) : { ui: { ...ui, overlay: NO_OVERLAY }, command: { kind: 'resolve-incident', id } };
        },
      },
    ],
    other: { help: 'no: closes the dialog', hint: 'any other key: no', run: (ui) => closeTo(ui) },
  },
  communications: {
    title: 'Communications',
    bindings: [
      {
        keys: ['↑↓jk'],
        help: 'scroll (pgup/pgdn/space, home/end or g/G too)',
        hint: '↑/↓ scroll',
        match: isScroll,
        run: (ui, d, ctx, input, key) => {
          const page = Math.max(1, ctx.pageSize ?? 10);
          const max = Math.max(0, (ctx.commsLines ?? 0) - page);
          const next = scrollBy(Math.min(d.offset, max), max, page, input, key);
          return next === d.offset ? { ui } : { ui: { ...ui, overlay: { ...d, offset: next } } };
        },
      },
      { keys: ['w'], help: 'write every message to files', hint: 'w write files', essential: true, acts: true, run: (ui) => ({ ui, command: { kind: 'write-communications' } }) },
      { keys: ['esc', 'c', 'q', '?'], help: 'close', hint: 'esc close', essential: true, run: (ui) => closeTo(ui) },
    ],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  checklist: {
    title: 'Checklist',
    bindings: [
      {
        keys: ['↑', 'k'],
        help: 'previous item',
        match: (i, k) => any(['↑', 'k'], i, k),
        run: (ui, d) => ({ ui: { ...ui, overlay: { ...d, index: Math.max(0, d.index - 1) } } }),
      },
      {
        keys: ['↓', 'j'],
        help: 'next item',
        hint: '↑/↓ choose',
        match: (i, k) => any(['↓', 'j'], i, k),
        run: (ui, d, ctx) => ({ ui: { ...ui, overlay: { ...d, index: Math.min(Math.max(0, (ctx.checklistKeys ?? []).length - 1), d.index + 1) } } }),
      },
      {
        keys: ['t', 'enter'],
        help: 'tick the chosen item as you (named in the journal)',
        hint: 't tick',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const item = (ctx.checklistKeys ?? [])[d.index];
          if (item === undefined) return { ui };
          // Over a failed check: by hand only with a note saying why (the engine asks for one).
          if (ctx.checklistNeedsNote?.includes(item)) return { ui: { ...ui, overlay: { kind: 'tick-note', item, index: d.index, note: '' } } };
          return { ui: { ...ui, overlay: { ...d, index: Math.min(d.index + 1, Math.max(0, (ctx.checklistKeys ?? []).length - 1)) } }, command: { kind: 'tick-item', item } };
        },
      },
      {
        keys: ['c'],
        help: "run the chosen item's check (its command or query)",
        hint: 'c check',
        acts: true,
        run: (ui, d, ctx) => {
          const item = (ctx.checklistKeys ?? [])[d.index];
          return item === undefined ? { ui } : { ui: { ...ui, runbookPane: true }, command: { kind: 'run-check', item } };
        },
      },
      { keys: ['esc', 'q'], help: 'close', hint: 'esc close', essential: true, run: (ui) => closeTo(ui) },
    ],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  flags: {
    title: 'Feature flags',
    bindings: [
      { keys: ['↑', 'k'], help: 'previous flag', match: (i, k) => any(['↑', 'k'], i, k), run: (ui, d) => ({ ui: { ...ui, overlay: { ...d, index: Math.max(0, d.index - 1) } } }) },
      {
        keys: ['↓', 'j'],
        help: 'next flag',
        hint: '↑/↓ choose',
        match: (i, k) => any(['↓', 'j'], i, k),
        run: (ui, d, ctx) => ({ ui: { ...ui, overlay: { ...d, index: Math.min(Math.max(0, (ctx.flagNames ?? []).length - 1), d.index + 1) } } }),
      },
      {
        keys: ['A'],
        help: 'approve enabling the chosen flag in your role (named, journaled)',
        hint: 'A approve',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const flag = (ctx.flagNames ?? [])[d.index];
          return flag === undefined ? { ui } : { ui, command: { kind: 'approve-flag', flag } };
        },
      },
      {
        keys: ['e', 'enter'],
        help: 'enable the chosen flag: says what runs, y confirms',
        hint: 'e enable',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const flag = (ctx.flagNames ?? [])[d.index];
          return flag === undefined ? { ui } : { ui: { ...ui, overlay: { kind: 'confirm-flag', flag, index: d.index } } };
        },
      },
      { keys: ['esc', 'q'], help: 'close', hint: 'esc close', essential: true, run: (ui) => closeTo(ui) },
    ],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  'confirm-flag': {
    ...confirmSpec<Dialog & { kind: 'confirm-flag' }>('Enable a flag', 'enable it (the hook runs; output in the runbook pane)', (ui, d, ctx) =>
      ctx.canEnableFlag === false ? { ui: { ...ui, overlay: { kind: 'flags', index: d.index } } } : { ui: { ...ui, overlay: { kind: 'flags', index: d.index }, runbookPane: true }, command: { kind: 'enable-flag', flag: d.flag } },
    ),
    other: { help: 'no: back to the flags', hint: 'any other key: no', run: (ui, d) => ({ ui: { ...ui, overlay: { kind: 'flags', index: d.index } } }) },
  },
  'confirm-deploy': confirmSpec('Deploy', 'run the deploy steps (output in the runbook pane)', (ui, _d, ctx) => (ctx.canDeploy === false ? { ui } : { ui: { ...ui, runbookPane: true }, command: { kind: 'run-deploy' } })),
  'confirm-validate': confirmSpec('Validate again', 'run it again (output in the runbook pane)', (ui, _d, ctx) =>
    ctx.canValidate === false
      ? { ui }
      : ctx.status === 'rolled-back' ? { ui: { ...ui, runbookPane: true }, command: { kind: 'verify-rollback' } } : inProgress(ctx.status) ? { ui: { ...ui, runbookPane: true }, command: { kind: 'run-validation' } } : { ui },
  ),
  'no-go': {
    title: 'NO-GO at a checkpoint',
    bindings: [
      { keys: ['esc'], help: 'cancel', hint: 'esc cancel', essential: true, run: (ui) => closeTo(ui) },
      {
        keys: ['enter'],
        help: 'record the no-go with the reason typed',
        hint: 'enter no-go',
        essential: true,
        acts: true,
        run: (ui, d, ctx) => {
          const reason = d.reason.trim();
          if (!reason || ctx.checkpointDue === false) return reason ? closeTo(ui) : { ui };
          return { ui: { ...ui, overlay: NO_OVERLAY }, command: { kind: 'no-go', reason } };
        },
      },
      { keys: ['backspace'], help: 'delete a character', run: (ui, d) => ({ ui: { ...ui, overlay: { ...d, reason: [...d.reason].slice(0, -1).join('') } } }) },
    ],
    other: {
      help: 'text: the reason (every printable key is text, R too: esc, then R, rolls back)',
      hint: 'type the reason',
      run: (ui, d, _ctx, input, key) => {
        if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.tab) return { ui };
        const text = typedText(input);
        if (!text) return { ui };
        return { ui: { ...ui, overlay: { ...d, reason: [...(d.reason + text)].slice(0, SUMMARY_MAX).join('') } } };
      },
    },
  },
  'tick-note': {
    title: 'Tick over a failed check',
    bindings: [
      { keys: ['esc'], help: 'back to the checklist', hint: 'esc back', essential: true, run: (ui, d) => ({ ui: { ...ui, overlay: { kind: 'checklist', index: d.index } } }) },
      {
        keys: ['enter'],
        help: 'tick it by hand with the note typed (journaled with you and the check it overrides)',
        hint: 'enter tick',
        essential: true,
        acts: true,
        run: (ui, d) => {
          const note = d.note.trim();
          if (!note) return { ui };
          return { ui: { ...ui, overlay: { kind: 'checklist', index: d.index } }, command: { kind: 'tick-item', item: d.item, note } };
        },
      },
      { keys: ['backspace'], help: 'delete a character', run: (ui, d) => ({ ui: { ...ui, overlay: { ...d, note: [...d.note].slice(0, -1).join('') } } }) },
    ],
    other: {
      help: 'text: the note (every printable key is text, R too: esc, then R, rolls back)',
      hint: 'type the note',
      run: (ui, d, _ctx, input, key) => {
        if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.tab) return { ui };
        const text = typedText(input);
        if (!text) return { ui };
        return { ui: { ...ui, overlay: { ...d, note: [...(d.note + text)].slice(0, SUMMARY_MAX).join('') } } };
      },
    },
  },
  pod: {
    title: 'Pod',
    bindings: [{ keys: ['esc', 'q', 'enter'], help: 'close (stops following the log)', hint: 'esc close', essential: true, run: (ui) => ({ ui: { ...ui, overlay: NO_OVERLAY }, inspect: null }) }],
    other: { help: 'ignored', run: (ui) => ({ ui }) },
  },
  'load-picker': {
    title: 'Load tests of this phase',
    bindings: [
      {
        keys: ['↑', 'k'],
        help: 'previous test',
        match: (i, k) => any(['↑', 'k'], i, k),
        run: (ui, d, ctx) => ((ctx.loadTests ?? []).length ? { ui: { ...ui, overlay: { ...d, index: Math.max(0, Math.min(d.index, (ctx.loadTests ?? []).length - 1) - 1) } } } : closeTo(ui)),
      },
      {
        keys: ['↓', 'j'],
        help: 'next test',
        hint: '↑/↓ choose',
        match: (i, k) => any(['↓', 'j'], i, k),
        run: (ui, d, ctx) => {
          const n = (ctx.loadTests ?? []).length;
          return n ? { ui: { ...ui, overlay: { ...d, index: Math.min(n - 1, Math.max(0, d.index) + 1) } } } : closeTo(ui);
        },
      },
      {
        keys: ['enter', '1-9'],
        help: 'pick the chosen test (or its number); a dialog says what y starts',
        hint: 'enter pick',
        essential: true,
        match: (i, k) => !!k.return || (/^[1-9]$/.test(i) && !k.ctrl && !k.meta),
        run: (ui, d, ctx, input, key) => {
          const tests = ctx.loadTests ?? [];
          const n = key.return ? Math.max(0, Math.min(tests.length - 1, d.index)) : Number(input) - 1;
          const name = tests[n];
          return name === undefined ? (key.return ? closeTo(ui) : { ui }) : { ui: { ...ui, overlay: { kind: 'confirm-load', index: n, name } } };
        },
      },
    ],
    other: { help: 'closes the picker', hint: 'esc close', run: (ui) => closeTo(ui) },
  },
};

/** The bindings of a dialog this keyboard has (read-only views lose the ones that act). */
export function dialogBindings<K extends DialogKind>(kind: K, access: Access): { b: DialogBinding<Extract<Dialog, { kind: K }>>; why: string | null }[] {
  const spec = DIALOGS[kind] as DialogSpec<Extract<Dialog, { kind: K }>>;
  const out: { b: DialogBinding<Extract<Dialog, { kind: K }>>; why: string | null }[] = [];
  for (const b of spec.bindings) {
    if (!b.acts) out.push({ b, why: null });
    else {
      const a = availability(null, 'acts', access);
      if (a.state === 'on') out.push({ b, why: null });
      else if (a.state === 'refused') out.push({ b, why: a.why });
    }
  }
  return out;
}

function dialogKey<D extends Dialog>(ui: UiState, d: D, input: string, key: KeyLike, ctx: KeyContext): KeyResult {
  const spec = DIALOGS[d.kind] as unknown as DialogSpec<D>;
  const single = [...input].length <= 1;
  for (const { b, why } of dialogBindings(d.kind, ctx.access ?? FULL_ACCESS) as unknown as { b: DialogBinding<D>; why: string | null }[]) {
    const hit = b.match ? b.match(input, key) && (single || !!key.upArrow || !!key.downArrow) : single && any(b.keys, input, key);
    if (!hit) continue;
    if (why) return { ui, say: why };
    return b.run(ui, d, ctx, input, key);
  }
  return spec.other.run(ui, d, ctx, input, key);
}

// ---------------------------------------------------------------------------------------------
// the pod filter prompt (the pods pane's text mode)

// Pod filter text: every printable key, the rollback key and every global key included (matching
// ignores case, so uppercase letters are folded).
function filterKey(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): KeyResult {
  if (key.escape) return { ui: { ...ui, filter: '', editingFilter: false, podsOffset: 0 } };
  if (key.return) return { ui: { ...ui, editingFilter: false } };
  if (key.tab) return handleKey({ ...ui, editingFilter: false }, input, key, ctx);
  if (key.backspace || key.delete) return { ui: { ...ui, filter: ui.filter.slice(0, -1), podsOffset: 0 } };
  const move: Move | null = key.upArrow ? 'up' : key.downArrow ? 'down' : key.pageUp ? 'page-up' : key.pageDown ? 'page-down' : key.home ? 'home' : key.end ? 'end' : null;
  if (move) return scrollPods(ui, move, ctx);
  if (key.ctrl || key.meta || key.leftArrow || key.rightArrow) return { ui };
  const text = typedText(input).toLowerCase();
  return text ? { ui: { ...ui, filter: ui.filter + text, podsOffset: 0 } } : { ui };
}

/** `canary replay`'s own keys (Replay.tsx moves through the recorded events with them). */
export const REPLAY_HELP: HelpRow[] = [
  { keys: '←/→', help: 'one event back / on' },
  { keys: '[ ]', help: 'one hour back / on' },
  { keys: 'n', help: 'the next rollback' },
  { keys: 'home/end', help: 'first / last event' },
];

export const FILTER_HELP: { keys: string; help: string }[] = [
  { keys: 'text', help: 'filter by name, region, track or status (every printable key is text: R, q, ? too)' },
  { keys: 'enter', help: 'keep the filter' },
  { keys: 'esc', help: 'clear it (then R rolls back)' },
  { keys: '↑/↓ pgup/pgdn', help: 'scroll the pods' },
];

// ---------------------------------------------------------------------------------------------
// the dispatcher

/** The main-screen action bound to this key press with the pane focused, if any. */
export function actionFor(input: string, key: KeyLike, keymap: Keymap = DEFAULT_KEYMAP, focus: Focus = 'phases'): ActionName | undefined {
  const inPane = ACTION_NAMES.filter((a) => PANES[focus][a] !== undefined);
  for (const a of [...inPane, ...ACTION_NAMES.filter((x) => !inPane.includes(x))]) if (any(keymap[a], input, key)) return a;
  return undefined;
}

/**
 * One key press. Multi-character input (a paste) is never a command: it is filter or summary text,
 * or nothing.
 */
export function handleKey(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): KeyResult {
  const single = [...input].length <= 1;
  const keymap = ctx.keymap ?? DEFAULT_KEYMAP;
  const access = ctx.access ?? FULL_ACCESS;

  // 0. a text prompt takes every printable key (the filter prompt below, the incident summary
  //    and the no-go reason in their dialogs): R there is a letter, never the rollback
  const prompt = inTextPrompt(ui);

  // 1. rollback, from anywhere else
  if (single && !prompt && any(keymap.rollback, input, key)) {
    const a = availability('rollback', 'asks', access);
    if (a.state === 'refused') return { ui, say: a.why };
    if (a.state === 'on') {
      return { ui: { ...ui, overlay: { kind: 'confirm-rollback' } } };
    }
  }

  // 2. the topmost dialog
  if (ui.overlay.kind !== 'none') {
    return dialogKey(ui, ui.overlay, input, key, ctx);
  }

  // 3. the focused pane: its text prompt, then its bindings; 4. the global bindings
  if (ui.editingFilter) return filterKey(ui, input, key, ctx);
  if (!single) return { ui }; // a paste outside the filter prompt: never a command
  const action = actionFor(input, key, keymap, ui.focus);
  // k9s's command mode: canary has none; say so instead of doing nothing.
  if (!action && input === ':' && !key.ctrl && !key.meta) return { ui, note: 'no command mode: ? shows the keys' };
  if (!action || action === 'rollback') return { ui };
  const a = availability(action, ACTIONS[action].kind, access);
  if (a.state === 'unbound') return { ui };
  if (a.state === 'refused') return { ui, say: a.why };
  const run = PANES[ui.focus][action] ?? GLOBAL[action];
  return run ? run(ui, ctx, input, key) : { ui };
}

/** Longest input that is fast typing rather than a paste: a busy event loop can deliver `R` and
 * `y` typed 10 ms apart in one read, and that must still roll back. */
export const BURST_MAX = 4;

/** One read from the terminal: a burst of up to BURST_MAX plain characters is each character in
 * turn (so `Ry` in one read rolls back); anything longer outside the filter prompt is a paste and
 * never a command. */
export function handleInput(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): { ui: UiState; commands: Command[]; quit: boolean; approve: boolean; say: string | null; note?: string; clock: ClockKey[]; inspect?: string | null } {
  const chars = [...input];
  const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab && chars.every((c) => c >= ' ' && c !== '\u007f');
  // In a text prompt a burst is text as a whole (every printable key is text there).
  if (chars.length <= 1 || !plain || chars.length > BURST_MAX || inTextPrompt(ui)) {
    const r = handleKey(ui, input, key, ctx);
    return { ui: r.ui, commands: r.command ? [r.command] : [], quit: r.quit === true, approve: r.approve === true, say: r.say ?? null, ...(r.note ? { note: r.note } : {}), clock: r.clock ? [r.clock] : [], ...(r.inspect !== undefined ? { inspect: r.inspect } : {}) };
  }
  let state = ui;
  const commands: Command[] = [];
  let approve = false;
  let say: string | null = null;
  let note: string | undefined;
  let inspect: string | null | undefined;
  const clock: ClockKey[] = [];
  const done = (quit: boolean) => ({ ui: state, commands, quit, approve, say, ...(note ? { note } : {}), clock, ...(inspect !== undefined ? { inspect } : {}) });
  for (const ch of chars) {
    const r = handleKey(state, ch, {}, ctx);
    state = r.ui;
    if (r.command) commands.push(r.command);
    if (r.clock) clock.push(r.clock);
    if (r.approve) approve = true;
    if (r.say) say = r.say;
    if (r.note) note = r.note;
    if (r.inspect !== undefined) inspect = r.inspect;
    if (r.quit) return done(true);
  }
  return done(false);
}

// ---------------------------------------------------------------------------------------------
// what help and the status bar show, generated from the tables above

/** Help text for the key column: `↑/k`, `shift-tab`. */
export function keyLabel(b: { keys: readonly string[] }): string {
  return b.keys.join('/');
}

export interface HelpRow {
  keys: string;
  help: string;
}
export interface HelpSection {
  title: string;
  rows: HelpRow[];
}

const GROUP_ORDER: KeyGroup[] = ['Rollout', 'People', 'Clock', 'Panes', 'Pods', 'General'];

/** Help, per mode: the main screen's bindings this keyboard has (grouped), then every dialog's
 * keys; what is refused here is named once with the reason. */
export function helpSections(ctx: Pick<KeyContext, 'keymap' | 'access'>): { sections: HelpSection[]; refused: string[]; asks: string[]; rollback: boolean } {
  const keymap = ctx.keymap ?? DEFAULT_KEYMAP;
  const access = ctx.access ?? FULL_ACCESS;
  const all = bindings(keymap);
  const refused = new Set<string>();
  const shown = (b: Binding) => {
    const a = availability(b.action, b.kind, access);
    if (a.state === 'refused') refused.add(a.why);
    return a.state === 'on';
  };
  const visible = all.filter(shown);
  const sections: HelpSection[] = GROUP_ORDER.map((g) => ({ title: g, rows: visible.filter((b) => b.group === g).map((b) => ({ keys: keyLabel(b), help: b.help })) })).filter((s) => s.rows.length);
  const opens: Partial<Record<DialogKind, boolean>> = {
    'confirm-advance': visible.some((b) => b.action === 'advance'),
    'confirm-go': visible.some((b) => b.action === 'go'),
    'confirm-ack': visible.some((b) => b.action === 'ack-incident'),
    'declare-incident': visible.some((b) => b.action === 'declare-incident'),
    'confirm-declare': visible.some((b) => b.action === 'declare-incident'),
    'resolve-incident': visible.some((b) => b.action === 'resolve-incident'),
    'load-picker': visible.some((b) => b.action === 'load'),
    'confirm-load': visible.some((b) => b.action === 'load'),
    'sli-details': visible.some((b) => b.action === 'details'),
    communications: visible.some((b) => b.action === 'communications'),
    'confirm-rollback': visible.some((b) => b.action === 'rollback'),
    'confirm-quit': access.kind !== 'replay',
    checklist: visible.some((b) => b.action === 'checklist'),
    'tick-note': visible.some((b) => b.action === 'checklist'),
    flags: visible.some((b) => b.action === 'flags'),
    'confirm-flag': visible.some((b) => b.action === 'flags'),
    'confirm-deploy': visible.some((b) => b.action === 'deploy'),
    'no-go': visible.some((b) => b.action === 'no-go'),
    'confirm-validate': visible.some((b) => b.action === 'validate'),
    pod: visible.some((b) => b.action === 'inspect'),
    help: true,
  };
  const confirms: string[] = [];
  for (const kind of Object.keys(DIALOGS) as DialogKind[]) {
    if (!opens[kind]) continue;
    const spec = DIALOGS[kind] as DialogSpec<Dialog>;
    if (spec.confirm) {
      confirms.push(spec.title.toLowerCase());
      continue;
    }
    // A dialog's keys as written (`↑ k`: either); what is refused here is named once below.
    const rows = dialogBindings(kind, access)
      .filter((x) => x.why === null)
      .map(({ b }) => ({ keys: b.keys.join(' '), help: b.help }));
    if (spec.other.help !== 'ignored') rows.push({ keys: 'other', help: spec.other.help });
    sections.push({ title: `In ${spec.title}`, rows });
  }
  if (confirms.length) sections.push({ title: 'In a confirmation', rows: [{ keys: 'y', help: `yes (${confirms.join(', ')})` }, { keys: 'other', help: 'no: any other key closes it' }] });
  if (access.kind !== 'replay') sections.push({ title: 'In the pod filter', rows: FILTER_HELP });
  else sections.unshift({ title: 'Replay', rows: REPLAY_HELP });
  // The keys whose first press only asks (their dialog says what y will do).
  const asks = visible.filter((b) => b.kind === 'asks' && b.action !== 'rollback' && b.action !== 'declare-incident' && b.keys.length).map((b) => b.keys[0]!);
  return { sections, refused: [...refused], asks, rollback: visible.some((b) => b.action === 'rollback' && b.keys.length > 0) };
}

const hintOf = (keymap: Keymap, a: ActionName, word?: string) => (keymap[a].length ? `${keymap[a][0]} ${word ?? ACTIONS[a].hint}` : '');

/** The status bar's key hints for this mode, longest first (the bar shows the first that fits). */
export function statusHints(ui: UiState, ctx: Pick<KeyContext, 'keymap' | 'access' | 'status' | 'loadRunning' | 'canConfirm'>): string[] {
  const keymap = ctx.keymap ?? DEFAULT_KEYMAP;
  const access = ctx.access ?? FULL_ACCESS;
  const on = (a: ActionName) => availability(a, ACTIONS[a].kind, access).state === 'on' && keymap[a].length > 0;
  // In a text prompt R is a letter: the rollback is esc, then R.
  const rb = on('rollback') ? (inTextPrompt(ui) ? `esc,${keymap.rollback[0]} rollback` : hintOf(keymap, 'rollback')) : '';
  const join = (parts: string[]) => parts.filter(Boolean).join('  ');
  if (ui.overlay.kind !== 'none') {
    const spec = DIALOGS[ui.overlay.kind] as DialogSpec<Dialog>;
    // A confirmation whose action cannot run now only explains: no `y` offered, here as in it.
    if (spec.confirm) return ctx.canConfirm === false ? ['any key closes'] : ['y: yes  any other key: no', 'y/N'];
    const bs = dialogBindings(ui.overlay.kind, access).filter((x) => x.why === null).map((x) => x.b);
    const hinted = bs.filter((b) => b.hint);
    const other = spec.other.hint ? [spec.other.hint] : [];
    const full = join([...hinted.filter((b) => !b.essential).map((b) => b.hint!), ...hinted.filter((b) => b.essential).map((b) => b.hint!), ...other, ui.overlay.kind === 'resolve-incident' ? '' : rb]);
    // The rollback key stays in the short form too: at 80 columns it is the one hint that must show.
    const short = join([...hinted.filter((b) => b.essential).map((b) => b.hint!), ...(ui.overlay.kind === 'load-picker' ? other : []), ui.overlay.kind === 'resolve-incident' ? '' : rb]);
    const last = hinted.find((b) => b.essential)?.keys[0];
    const keepRb = ui.overlay.kind === 'resolve-incident' ? '' : rb;
    return [full, short, join([last ?? '', keepRb]), keepRb, ...(last ? [last] : [])].filter(Boolean);
  }
  if (ui.editingFilter) return [join(['type to filter  enter keep  esc clear', rb]), 'enter keep  esc clear', 'esc'];
  const pause = ctx.status === 'paused' ? 'resume' : 'pause';
  if (ctx.loadRunning && on('stop-load')) {
    const x = keymap['stop-load'][0];
    return [join([`${x}/esc stop load test`, hintOf(keymap, 'help'), on('advance') ? hintOf(keymap, 'advance') : '', rb, hintOf(keymap, 'quit')]), join([`${x} stop load`, rb, hintOf(keymap, 'help')]), join([`${x} stop`, rb])];
  }
  const pick = (a: ActionName, word?: string) => (on(a) ? hintOf(keymap, a, word) : '');
  const k = (a: ActionName) => (on(a) ? keymap[a][0]! : '');
  return [
    join([pick('help'), pick('advance'), pick('go'), pick('pause', pause), rb, pick('filter'), pick('focus-next'), on('clock-slower') && on('clock-faster') ? `${k('clock-slower')}/${k('clock-faster')} speed` : '', pick('clock-pause'), pick('quit')]),
    join([pick('help'), pick('advance'), pick('go'), pick('pause', pause), rb, pick('filter'), pick('focus-next'), pick('quit')]),
    join([pick('help'), pick('advance', 'adv'), pick('go'), pick('pause', pause), rb, pick('filter'), pick('quit')]),
    [on('help') ? `${k('help')}:help` : '', k('advance'), k('go'), k('pause'), rb ? `${keymap.rollback[0]}:rollback` : '', on('filter') ? `${k('filter')}:filter` : '', k('quit')].filter(Boolean).join(' '),
    join([rb, pick('help')]),
    rb,
  ].filter(Boolean);
}

/** The incident keys the status bar names while an incident is open. */
export function incidentHints(ctx: Pick<KeyContext, 'keymap' | 'access'>, paging: boolean): string {
  const keymap = ctx.keymap ?? DEFAULT_KEYMAP;
  const access = ctx.access ?? FULL_ACCESS;
  const on = (a: ActionName) => availability(a, ACTIONS[a].kind, access).state === 'on' && keymap[a].length > 0;
  return [paging && on('ack-incident') ? hintOf(keymap, 'ack-incident') : '', on('resolve-incident') ? hintOf(keymap, 'resolve-incident') : ''].filter(Boolean).join(' ');
}
