// The console's UI state and the shapes the key registry works with: a leaf module (it imports
// only types), so keys.ts, the dialog handlers and the components that draw them all depend on
// it and never on each other in a circle.
import type { Keymap } from '../src/config/keys.js';
import type { Command, IncidentSeverity, RolloutStatus } from '../src/engine/types.js';
import type { PodSort } from './pods.js';

export type Focus = 'phases' | 'slis' | 'pods' | 'roster';
export const FOCUS_ORDER: readonly Focus[] = ['phases', 'slis', 'pods', 'roster'];

/** The incident being declared (`i`): kept while R's rollback confirmation is open over it. */
export interface IncidentDraft {
  severity: IncidentSeverity;
  summary: string;
  /** The incident kind picked (↑/↓): one of the plan's (incidentKinds); absent: other. */
  kind?: string;
}

/** An incident kind as the declare dialog offers it (src/engine/people.ts incidentKinds). */
export interface KindChoice {
  id: string;
  title: string;
  immediate: boolean;
  severity?: IncidentSeverity;
}
export const SEVERITIES: readonly IncidentSeverity[] = ['P0', 'P1', 'P2'];
export const SUMMARY_MAX = 120;

/** One variant per dialog, each with only its own fields. */
export type Dialog =
  | { kind: 'help'; offset: number }
  | { kind: 'confirm-advance' }
  | { kind: 'confirm-rollback' }
  | { kind: 'confirm-quit' }
  | { kind: 'confirm-go' }
  /** The incident `y` acknowledges (the most severe, oldest one nobody acknowledged yet). */
  | { kind: 'confirm-ack'; id: string }
  | { kind: 'sli-details' }
  | { kind: 'declare-incident'; draft: IncidentDraft }
  /** An immediate kind (security breach, data corruption, a P0 customer escalation) rolls back:
   * `y` declares it, as R's `y` rolls back; any other key goes back to the draft. */
  | { kind: 'confirm-declare'; draft: IncidentDraft }
  | { kind: 'resolve-incident'; index: number }
  | { kind: 'communications'; offset: number }
  | { kind: 'load-picker'; index: number }
  | { kind: 'confirm-load'; index: number; name: string }
  // The runbook (issue 17).
  | { kind: 'checklist'; index: number }
  /** Ticking by hand an item whose check failed (or could not run): the note the engine asks for. */
  | { kind: 'tick-note'; item: string; index: number; note: string }
  | { kind: 'confirm-deploy' }
  | { kind: 'no-go'; reason: string }
  | { kind: 'confirm-validate' }
  /** The feature flags (F): approve (A), enable (e: asks y in confirm-flag). */
  | { kind: 'flags'; index: number }
  | { kind: 'confirm-flag'; flag: string; index: number }
  /** A pod's description and followed log (enter on a pod); closing stops following. */
  | { kind: 'pod'; key: string };

export type DialogKind = Dialog['kind'];
export type Overlay = { kind: 'none' } | Dialog;
export const NO_OVERLAY: Overlay = { kind: 'none' };

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
  /** The load pane is shown (a load test started here, until esc). */
  loadPane?: boolean;
  /** The runbook pane (commands' output) is shown, until o or esc. */
  runbookPane?: boolean;
  /** The pods table's sort (`s` cycles it); absent: unhealthy first. */
  podSort?: PodSort;
}

export const INITIAL_UI: UiState = { focus: 'phases', overlay: NO_OVERLAY, filter: '', editingFilter: false, podsOffset: 0, sliIndex: 0 };

/** Who is at this keyboard and what they may do (k9s: read-only views bind no action keys).
 *  - operator: everything; `actions` is why every action but rollback is refused (a read-only
 *    terminal: another terminal holds the lease), `rollback` why rollback is (no rollback authority);
 *  - viewer: a war-room view-only token: no action, and R says why at once;
 *    `clock`: this console paces the embedded simulated world's clock (its speed keys are bound);
 *  - replay: a recorded rollout: no action key is bound at all, and `q` just quits. */
export type Access = { kind: 'operator'; actions: string | null; rollback: string | null; clock?: boolean } | { kind: 'viewer'; reason: string } | { kind: 'replay' };
export const FULL_ACCESS: Access = { kind: 'operator', actions: null, rollback: null };

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
  /** The keys in force (default: DEFAULT_KEYMAP; a config file may remap them). */
  keymap?: Keymap;
  /** What this keyboard may do (default: everything). */
  access?: Access;
  /** describeAdvance(...).allowed now; when false, `y` in the advance dialog only closes it. Default true (the engine re-checks). */
  canAdvance?: boolean;
  /** Rows after filtering, and rows the pods table shows: for clamping the scroll. */
  podCount?: number;
  pageSize?: number;
  /** SLI rows in the SLIs pane, for clamping the selection. */
  sliCount?: number;
  /** Open incidents, in the order the resolve dialog lists them. */
  openIncidents?: readonly string[];
  /** A checkpoint of this phase waits for a go (false: `y` in the go dialog only closes it). */
  checkpointDue?: boolean;
  /** The incident an acknowledgment would stop (most severe, oldest unacknowledged), if any. */
  ackTarget?: string | null;
  /** The plan's incident kinds, for the declare dialog's ↑/↓. */
  incidentKinds?: readonly KindChoice[];
  /** Lines of the communications preview / the help, for clamping their scroll. */
  commsLines?: number;
  helpLines?: number;
  /** Load tests the plan allows in this phase (the picker's rows), and whether one is running. */
  loadTests?: readonly string[];
  loadRunning?: boolean;
  /** The checklist overlay's items (keys), in the order it lists them. */
  checklistKeys?: readonly string[];
  /** Items whose automated check failed or could not run: `t` on one asks for a note first. */
  checklistNeedsNote?: readonly string[];
  /** The flags overlay's flags (names), in the order it lists them. */
  flagNames?: readonly string[];
  /** The flag being confirmed can be enabled now (false: `y` only closes the dialog). */
  canEnableFlag?: boolean;
  /** The deploy steps can run now (false: `y` in the deploy dialog only closes it). */
  canDeploy?: boolean;
  /** `V` can run now (false: `y` in its dialog only closes it). */
  canValidate?: boolean;
  /** The open confirmation's `y` would do something now (false: the status bar says "any key
   * closes", as the dialog does). Undefined: no confirmation open, or one that always can. */
  canConfirm?: boolean;
  /** The pod `enter` describes (the pods pane's marked row), if any. */
  podKey?: string | null;
}

/** A speed key for the embedded world's clock (src/sim/pace.ts acts on it). */
export type ClockKey = 'slower' | 'faster' | 'toggle';
/** The embedded world's clock as the status bar shows it. */
export interface ClockView {
  speed: number;
  paused: boolean;
  /** Why the world slowed itself down (a checkpoint due...), or null. */
  slowed: string | null;
  /** The speed the world really keeps when it cannot keep the one asked (simulated time waits
   * for it), or null/absent when it keeps up. */
  actual?: number | null;
}
/** Given by the CLI on the embedded simulated world only: the App reads the view and hands it the
 * speed keys; the CLI side changes the simulated clock. */
export interface ClockControl {
  view(): ClockView;
  subscribe(listener: () => void): () => void;
  press(key: ClockKey): void;
}

export interface KeyResult {
  ui: UiState;
  /** A speed key for the simulated clock. */
  clock?: ClockKey;
  command?: Command;
  quit?: boolean;
  /** Approve the next gate as the person at this keyboard (the App knows who and which role). */
  approve?: boolean;
  /** Say this where the hints are (a refusal, before any dialog opens). */
  say?: string;
  /** Something to tell the person at the keyboard that is not a refusal (`:`: there is no command mode). */
  note?: string;
  /** Look at this pod (describe + follow its log) on this terminal only; null stops looking. */
  inspect?: string | null;
}
