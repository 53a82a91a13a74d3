// The console: four panes (phases, SLIs, pods, roster), a status bar, help and confirmations.
// A function of the store's state; a key press becomes at most one engine command, sent to the
// store synchronously from the input handler, before any React state update, so a rollback is
// never waiting for a render.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import { describeAdvance, describeRollback, gateView } from '../src/engine/gates.js';
import { describeAdvanceFor } from '../src/engine/authority.js';
import type { Actor } from '../src/engine/types.js';
import type { Store } from '../src/runtime/store.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { formatPercent } from './format.js';
import { helpLayout, HelpOverlay } from './HelpOverlay.js';
import { accessFor, handleInput, inProgress, inTextPrompt } from './keys.js';
import { INITIAL_UI, type ClockControl, type KeyContext, type UiState } from './ui.js';
import type { Keymap } from '../src/config/keys.js';
import { compile } from '../src/engine/compiled.js';
import { trafficOn } from '../src/engine/traffic.js';
import type { RolloutState } from '../src/engine/types.js';
import { formatDuration } from '../src/plan/duration.js';
import { computeLayout } from './layout.js';
import { PhasesPane, phaseKeys, phasesPaneLines } from './PhasesPane.js';
import { PodsPane, podsPageSize, podsPaneClockText, usePodRows } from './PodsPane.js';
import { RosterPane } from './RosterPane.js';
import { SliPane, sliOrder, sliPaneClockText } from './SliPane.js';
import { sliDetails } from './sliDetails.js';
import { SpeedMeter } from './sparkline.js';
import { flashLines, StatusBar, statusSegs } from './StatusBar.js';
import { makeTheme } from './theme.js';
import { Overlay } from './Overlay.js';
import { Live, useStoreView } from './useStoreView.js';
import { commsLines, declareLines, reportFlash, resolveLines } from './people.js';
import { incidentKinds, openIncidents } from '../src/engine/people.js';
import { describeLoadConfirm, describeLoadPicker, LoadPane } from './LoadPane.js';
import { loadTestsForPhase } from '../src/engine/loadtests.js';
import { RunbookPane } from './RunbookPane.js';
import type { PodInspection } from '../src/runtime/inspection.js';
import { checklistLines, describeDeploy, describeFlag, describeValidate, flagLines, needsNote, noGoLines, podLines, tickNoteLines } from './runbook.js';

export interface AppProps {
  plan: Plan;
  store: Store;
  /** Who is at this keyboard: the actor of every command sent from here. */
  actor: Actor;
  /** The clock for command timestamps (injected: real or simulated). */
  now: () => number;
  /** Override the terminal size (tests, the war-room screen). Default: stdout's, following resizes. */
  columns?: number;
  rows?: number;
  /** Called when the user quits (after confirming if a rollout is in progress). Default: exit Ink. */
  onQuit?: () => void;
  /** Where the journal is being written (shown in the status bar). */
  journal?: string;
  /** Notification channels on and off, and where `w` writes communications (the preview says). */
  people?: { notifyOn?: readonly string[]; notifyOff?: readonly string[]; commsDir?: string };
  /** The keys in force (a config file may remap them; default: the built-in keys). */
  keymap?: Keymap;
  /** A recorded rollout (`canary replay`): read-only, no action key is bound. */
  replay?: boolean;
  /** The embedded simulated world: the runbook's stand-ins run instead of the plan's commands. */
  simulated?: boolean;
  /** What this terminal looks at (enter on a pod): the CLI side fetches the description and the
   * followed log; the App renders its view and tells it which pod (or none). Absent: replay. */
  inspect?: PodInspection;
  /** The embedded simulated world's clock (only there): its speed keys are bound and the status
   * bar shows its speed. Absent in real time, a replay and a joined console. */
  clock?: ClockControl;
  /** Keys of the view around the console (`canary replay`'s ←/→, [ ], n): called with every key
   * press no text prompt takes (in the pod filter, `n` is a letter, not the next rollback). */
  onViewKey?: (input: string, key: Key) => void;
}

const noSubscribe = () => () => undefined;
const noView = () => null;

function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = useCallback(() => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }), [stdout]);
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read]);
  return size;
}

export function App({ plan, store, actor, now, columns, rows, onQuit, journal, people, keymap, replay, simulated: simulatedProp, clock: clockProp, inspect, onViewKey }: AppProps) {
  // A replay never paces anything.
  const clock = replay ? undefined : clockProp;
  const subscribeInspect = useCallback((listener: () => void) => inspect?.subscribe(listener) ?? (() => undefined), [inspect]);
  const getPodView = useCallback(() => inspect?.view() ?? null, [inspect]);
  const podView = useSyncExternalStore(subscribeInspect, getPodView, getPodView);
  const size = useTerminalSize();
  const cols = Math.max(20, Math.floor(columns ?? size.columns));
  // In a real terminal keep the last line free: when the output is as tall as the terminal, Ink 6
  // clears the whole screen and redraws every frame (flicker) instead of updating in place.
  const height = Math.max(3, Math.floor(rows ?? size.rows - 1));
  const theme = useMemo(() => makeTheme(), []);
  const { exit } = useApp();

  const [ui, setUi] = useState<UiState>(INITIAL_UI);
  // App itself redraws on a change other than the clock; the panes that show times subscribe by
  // themselves (Live) and redraw when what they show changes. App's own times: a dialog's (while
  // one is open, to the second) and the reminders that came due (they choose the roster's pane).
  const appClock = useCallback(
    (s: RolloutState) => (ui.overlay.kind === 'none' ? '' : Math.floor(s.now / 1000)) + '|' + s.comms.items.filter((i) => i.doneAt === undefined && i.dueAt <= s.now).length,
    [ui.overlay.kind],
  );
  const state = useStoreView(store, appClock);
  // The pod's dialog gone by any way (esc, R over it...): stop following its log.
  useEffect(() => {
    if (ui.overlay.kind !== 'pod' && inspect?.view()) inspect.close();
  }, [ui.overlay.kind, inspect]);
  // The advance dialog's words as they were when it opened: what `y` confirms.
  const advanceSnap = useRef<ReturnType<typeof describeAdvance> | null>(null);
  const [flash, setFlashState] = useState<string | null>(null);
  const flashTimer = useRef<NodeJS.Timeout | null>(null);
  const setFlash = useCallback((text: string | null) => {
    setFlashState(text);
    if (flashTimer.current) clearTimeout(flashTimer.current);
    if (text) flashTimer.current = setTimeout(() => setFlashState(null), 4_000);
  }, []);
  useEffect(
    () => () => {
      if (flashTimer.current) clearTimeout(flashTimer.current);
    },
    [],
  );
  // A report produced (or failing to be written or sent) says so where the hints are, with its file.
  const lastReport = state.reports?.recent.at(-1);
  const reportKey = lastReport && lastReport.doneAt !== undefined ? `${lastReport.effectId}:${lastReport.sent?.length ?? 0}` : null;
  const reportSeen = useRef(reportKey);
  useEffect(() => {
    if (reportKey === null || reportKey === reportSeen.current || replay) return;
    reportSeen.current = reportKey;
    if (lastReport) setFlash(reportFlash(plan, lastReport));
  }, [reportKey]);
  // The UI state the key handler works from: updated synchronously with each key, so keys that
  // arrive before React re-renders (R then y in one burst) see the state the previous key made.
  const uiRef = useRef<UiState>(ui);

  const sliRows = useMemo(() => plan.slis.filter((s) => s.unit !== 'count').length, [plan]);
  const clockSub = useMemo(() => (clock ? { subscribe: (l: () => void) => clock.subscribe(l), view: () => clock.view() } : { subscribe: noSubscribe, view: noView }), [clock]);
  const clockView = useSyncExternalStore(clockSub.subscribe, clockSub.view, clockSub.view);
  // The clock's speed, for the sparklines' window: the embedded world's own; elsewhere (a joined
  // console, a replay) as this screen sees simulated time pass.
  const meter = useRef<SpeedMeter | null>(null);
  meter.current ??= new SpeedMeter();
  // (the store's time: App's own state keeps the time of its last change other than the clock)
  if (!clockView) meter.current.observe(performance.now(), store.getState().now);
  const speed = clockView ? clockView.speed : meter.current.speed();
  const access = accessFor(plan, state, actor, replay === true, !!clock);
  const overlayKind = ui.overlay;
  const canConfirm = useCallback((s: RolloutState) => confirmAllowed(plan, s, overlayKind, actor, simulatedProp === true), [plan, overlayKind, actor, simulatedProp]);
  const keys = { ...(keymap ? { keymap } : {}), access, ...(clockView ? { clock: clockView } : {}), canConfirm };
  const statusRows = 1 + flashLines(plan, state, ui, cols, flash, journal, keys).length;
  const layout = computeLayout(cols, height, sliRows, statusRows);
  const statusClock = (s: RolloutState) => JSON.stringify(statusSegs(plan, s, ui, cols, flash, journal, keys));
  const pods = usePodRows(state, ui.filter, ui.podSort ?? 'health');
  const pageSize = podsPageSize(layout.pods.height);

  // Everything the key handler needs, as of the latest render (the handler itself never changes).
  const overlayWidth = Math.min(cols - 2, 100);
  const simulated = simulatedProp === true;
  const live = useRef({ plan, store, actor, now, onQuit, exit, podCount: 0, podRows: pods.rows, pageSize: 1, height, cols, overlayWidth, people, keymap, replay, simulated, clock, inspect, onViewKey });
  live.current = { plan, store, actor, now, onQuit, exit, podCount: pods.rows.length, podRows: pods.rows, pageSize, height, cols, overlayWidth, people, keymap, replay, simulated, clock, inspect, onViewKey };

  const onInput = useCallback((input: string, key: Key) => {
    const l = live.current;
    const st = l.store.getState();
    const prev = uiRef.current;
    const open = openIncidents(st);
    const ctx: KeyContext = {
      status: st.status,
      ...(l.keymap ? { keymap: l.keymap } : {}),
      access: accessFor(l.plan, st, l.actor, l.replay === true, !!l.clock),
      podCount: l.podCount,
      pageSize: l.pageSize,
      sliCount: sliOrder(l.plan).length,
      loadTests: loadTestsForPhase(l.plan, st).map((t) => t.name),
      loadRunning: st.loadTests.running !== null,
      openIncidents: open.map((i) => i.id),
      ackTarget: open.find((i) => i.ackedAt === undefined)?.id ?? null,
      checkpointDue: dueCheckpoints(l.plan, st).length > 0,
      incidentKinds: incidentKinds(compile(l.plan)),
      podKey: prev.focus === 'pods' ? (l.podRows[Math.max(0, Math.min(prev.podsOffset, l.podRows.length - l.pageSize))]?.pod.key ?? null) : null,
    };
    if (prev.overlay.kind === 'checklist') {
      ctx.checklistKeys = checklistLines(l.plan, st, l.overlayWidth - 4, 0).keys;
      ctx.checklistNeedsNote = needsNote(l.plan, st);
    }
    if (prev.overlay.kind === 'flags') ctx.flagNames = flagLines(l.plan, st, l.overlayWidth - 4, 0).names;
    if (prev.overlay.kind === 'confirm-flag') ctx.canEnableFlag = describeFlag(l.plan, st, prev.overlay.flag, l.simulated).allowed;
    if (prev.overlay.kind === 'confirm-deploy') ctx.canDeploy = describeDeploy(l.plan, st, l.simulated, l.actor).allowed;
    if (prev.overlay.kind === 'confirm-validate') ctx.canValidate = describeValidate(l.plan, st).allowed;
    if (prev.overlay.kind === 'confirm-advance') ctx.canAdvance = describeAdvanceFor(l.plan, st, l.actor ?? null).allowed;
    if (prev.overlay.kind === 'communications') {
      ctx.commsLines = commsLines(l.plan, st, l.overlayWidth - 4, l.people ?? {}, ctx.access?.kind === 'operator' && !ctx.access.actions).length;
      ctx.pageSize = Math.max(1, l.height - 4);
    }
    if (prev.overlay.kind === 'help') {
      const h = helpLayout(ctx, l.cols, l.height);
      ctx.helpLines = h.lines.length;
      ctx.pageSize = h.page;
    }
    const res = handleInput(prev, input, key, ctx);
    if (!inTextPrompt(prev)) l.onViewKey?.(input, key);
    const before = st.history.length;
    // Commands first: synchronously, before any state update or render. An advance carries the
    // move the dialog showed, so the engine refuses it if the next gate changed meanwhile.
    for (const command of res.commands) {
      const c = command.kind === 'advance' ? { ...command, ...(advanceSnap.current?.target ? { target: advanceSnap.current.target } : {}) } : command;
      l.store.dispatch({ type: 'command', at: l.now(), actor: l.actor, command: c });
    }
    for (const k of res.clock) l.clock?.press(k);
    if (res.inspect !== undefined) {
      if (res.inspect === null) l.inspect?.close();
      else l.inspect?.open(res.inspect);
    }
    if (res.approve) approveAs(l.plan, l.store, l.actor, l.now(), setFlash);
    // When the engine refused (it writes why as an 'info' entry), say so where the hints are.
    const after = l.store.getState().history;
    const said = after.length > before || (after.length === before && after.at(-1) !== st.history.at(-1)) ? after.at(-1) : undefined;
    // A refusal is marked as one (✗, the refusal tone), never shown like a success.
    if (res.commands.length && (said?.kind === 'info' || said?.kind === 'incident' || said?.kind === 'refused')) setFlash(said.kind === 'refused' ? `✗ ${said.text}` : said.text);
    // A key refused here (a viewer, a read-only terminal, no rollback authority): why, at once.
    if (res.say) setFlash(res.say.startsWith('✗') ? res.say : `✗ ${res.say}`);
    else if (res.note) setFlash(res.note);
    if (res.ui.overlay.kind === 'confirm-advance' && prev.overlay.kind !== 'confirm-advance') advanceSnap.current = describeAdvanceFor(l.plan, l.store.getState(), l.actor ?? null);
    if (res.ui.overlay.kind !== 'confirm-advance') advanceSnap.current = null;
    if (res.ui !== prev) {
      uiRef.current = res.ui;
      setUi(res.ui);
    }
    if (res.quit) (l.onQuit ?? l.exit)();
  }, []);
  useInput(onInput);

  const { phases, slis, pods: podsBox, roster } = layout;
  // Each pane through its own subscription (Live), with the times it shows as its clock key.
  // A read-only view (a replay, a war-room viewer) binds no action key, so its panes name none.
  const operator = access.kind === 'operator';
  const actions = useMemo(() => (operator ? phaseKeys(keymap) : null), [operator, keymap]);
  const phasesClock = useCallback((s: RolloutState) => JSON.stringify(phasesPaneLines(plan, s, phases.width, phases.height, actions)), [plan, phases.width, phases.height, actions]);
  const phasesPane = (
    <Live store={store} clock={phasesClock} render={(s) => <PhasesPane plan={plan} state={s} width={phases.width} height={phases.height} focused={ui.focus === 'phases'} theme={theme} actions={actions} />} />
  );
  const order = useMemo(() => sliOrder(plan), [plan]);
  const selectedSli = order[Math.min(ui.sliIndex, order.length - 1)] ?? '';
  const sliSelected = ui.focus === 'slis' ? selectedSli : null;
  const slisClock = useCallback((s: RolloutState) => sliPaneClockText(plan, s, slis.width, slis.height, sliSelected, speed), [plan, slis.width, slis.height, sliSelected, speed]);
  const sliPane = (
    <Live store={store} clock={slisClock} render={(s) => <SliPane plan={plan} state={s} width={slis.width} height={slis.height} focused={ui.focus === 'slis'} theme={theme} selected={selectedSli} speed={speed} />} />
  );
  // Incidents, due reminders and failed notifications lead the roster pane. Redrawn every second
  // while a clock counts down (an escalation, the rollback notice), else once a minute.
  const peopleNow = state.incidents.some((i) => i.resolvedAt === undefined) || state.comms.items.some((i) => i.doneAt === undefined && i.dueAt <= state.now) || state.notifications.failed > 0;
  // A load test (running, or its result until esc) takes the roster's place, beside the SLIs.
  // An escalation clock that nobody acknowledged yet wins the pane back: it is what people must see.
  const paging = state.incidents.some((i) => i.resolvedAt === undefined && i.ackedAt === undefined);
  // A runbook command running (a deploy step, the post-rollout validation, a rollback's
  // verification), or the pane opened with o: its output takes the roster's place too.
  const runbookShown = (ui.runbookPane || state.runbook.runs.some((r) => r.status === 'running')) && !paging && !state.loadTests.running;
  const rosterPane = runbookShown ? (
    <RunbookPane plan={plan} state={state} width={roster.width} height={roster.height} focused={ui.focus === 'roster'} theme={theme} />
  ) : (ui.loadPane || state.loadTests.running) && !paging ? (
      <LoadPane plan={plan} state={state} width={roster.width} height={roster.height} focused={ui.focus === 'roster'} theme={theme} />
    ) : (
      <Live
        store={store}
        clock={rosterClock}
        render={(s) => {
          const now = rosterClock(s);
          return peopleNow ? (
            <RosterPane plan={plan} now={now} state={{ now, incidents: s.incidents, comms: s.comms, notifications: s.notifications }} width={roster.width} height={roster.height} focused={ui.focus === 'roster'} theme={theme} />
          ) : (
            <RosterPane plan={plan} now={now} width={roster.width} height={roster.height} focused={ui.focus === 'roster'} theme={theme} />
          );
        }}
      />
    );
  const podsClock = useCallback((s: RolloutState) => podsPaneClockText(pods.rows, ui.podsOffset, podsBox.height, s.now), [pods.rows, ui.podsOffset, podsBox.height]);
  const podsPane = (
    <Live
      store={store}
      clock={podsClock}
      render={(s) => (
        <PodsPane
          state={s}
          model={pods.model}
          rows={pods.rows}
          filter={ui.filter}
          sort={ui.podSort ?? 'health'}
          editingFilter={ui.editingFilter}
          offset={ui.podsOffset}
          {...(ui.focus === 'pods' ? { selected: true } : {})}
          width={podsBox.width}
          height={podsBox.height}
          focused={ui.focus === 'pods'}
          theme={theme}
        />
      )}
    />
  );

  let overlay: ReactNode = null;
  const o = ui.overlay;
  switch (o.kind) {
    case 'none':
      break;
    case 'help':
      overlay = <HelpOverlay columns={cols} rows={height} theme={theme} offset={o.offset} ctx={keys} />;
      break;
    case 'confirm-advance': {
      const d = advanceSnap.current ?? describeAdvanceFor(plan, state, actor ?? null);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone={d.allowed ? 'info' : 'warn'} columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-rollback': {
      const d = describeRollback(plan, state, simulated);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="bad" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-go': {
      const d = describeGo(plan, state);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="info" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-ack': {
      const inc = state.incidents.find((i) => i.id === o.id);
      const lines = inc
        ? [`${inc.id} ${inc.severity}: ${inc.summary}`, `open ${formatDuration(state.now - inc.openedAt)}; acknowledging stops its escalation (nobody further is paged).`, 'Acknowledge? y/N']
        : [`${o.id} is gone.`, 'any key closes'];
      overlay = <ConfirmDialog title="Acknowledge an incident" lines={lines} allowed tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'sli-details': {
      const d = sliDetails(plan, state, selectedSli, { speed, width: Math.min(cols - 2, 110) - 4 });
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed tone="info" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'declare-incident':
      overlay = <Overlay title="Declare an incident" tone={o.draft.severity === 'P0' ? 'bad' : 'warn'} lines={declareLines(o.draft, Math.min(cols - 2, 72) - 4, incidentKinds(compile(plan)))} columns={cols} rows={height} width={Math.min(cols - 2, 72)} theme={theme} />;
      break;
    case 'confirm-declare': {
      const kind = incidentKinds(compile(plan)).find((k) => k.id === o.draft.kind);
      const d = describeRollback(plan, state);
      const lines = [
        `${kind?.title ?? o.draft.kind} (${kind?.severity ?? o.draft.severity}): ${o.draft.summary.trim()}`,
        `The plan rolls back at once on this kind (rollback.immediate): ${d.allowed ? `traffic to 0% in ${plan.target.regions.join(', ')}` : 'nothing to roll back now'}; the P0 escalation starts; the journal keeps you and the summary.`,
        'Declare it and roll back? y/N (any other key returns to the draft)',
      ];
      overlay = <ConfirmDialog title="Declare and roll back" lines={lines} allowed tone="bad" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'resolve-incident':
      overlay = <Overlay title="Resolve an incident" tone="info" lines={resolveLines(state, o.index)} columns={cols} rows={height} width={Math.min(cols - 2, 90)} theme={theme} />;
      break;
    case 'communications': {
      const all = commsLines(plan, state, overlayWidth - 4, people ?? {}, access.kind === 'operator' && !access.actions);
      const page = Math.max(1, height - 4);
      const off = Math.min(o.offset, Math.max(0, all.length - page));
      const more = all.length > page ? ` ${off + 1}-${Math.min(all.length, off + page)} of ${all.length} (↑/↓)` : '';
      overlay = <Overlay title={`Communications${more}`} tone="info" lines={all.slice(off, off + page)} columns={cols} rows={height} width={overlayWidth} theme={theme} />;
      break;
    }
    case 'load-picker': {
      const d = describeLoadPicker(plan, state, o.index);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="info" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-load': {
      const d = describeLoadConfirm(plan, o.name);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'checklist':
    case 'flags': {
      const v = o.kind === 'checklist' ? checklistLines(plan, state, overlayWidth - 4, o.index) : flagLines(plan, state, overlayWidth - 4, o.index);
      const page = Math.max(1, height - 4);
      // Keep the chosen item (the line marked ▶) in view.
      const at = v.lines.findIndex((l) => l[0]?.text === '▶ ');
      const off = Math.max(0, Math.min(at - Math.floor(page / 2), v.lines.length - page));
      overlay = <Overlay title={v.title} tone="info" lines={v.lines.slice(off, off + page)} columns={cols} rows={height} width={overlayWidth} theme={theme} />;
      break;
    }
    case 'confirm-flag': {
      const d = describeFlag(plan, state, o.flag, simulated);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-deploy': {
      const d = describeDeploy(plan, state, simulated, actor);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'confirm-validate': {
      const d = describeValidate(plan, state);
      overlay = <ConfirmDialog title={d.title} lines={d.lines} allowed={d.allowed} tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
    case 'tick-note': {
      const w = Math.min(cols - 2, 80);
      overlay = <Overlay title="Tick by hand, over its check" tone="warn" lines={tickNoteLines(plan, state, o.item, o.note, w - 4)} columns={cols} rows={height} width={w} theme={theme} />;
      break;
    }
    case 'no-go': {
      const w = Math.min(cols - 2, 80);
      const v = noGoLines(plan, state, o.reason, w - 4);
      overlay = <Overlay title={v.title} tone="bad" lines={v.lines} columns={cols} rows={height} width={w} theme={theme} />;
      break;
    }
    case 'pod': {
      const v = podLines(state, podView, overlayWidth - 4, height - 4);
      overlay = <Overlay title={v.title} tone="info" lines={v.lines} columns={cols} rows={height} width={overlayWidth} theme={theme} />;
      break;
    }
    case 'confirm-quit': {
      const lines = inProgress(state.status)
        ? [`A rollout is in progress; quitting stops watching it but leaves traffic as it is (${formatPercent(state.desiredWeight)}). Quit? y/N`]
        : ['Quit? y/N'];
      overlay = <ConfirmDialog title="Quit canary" lines={lines} allowed tone="warn" columns={cols} rows={height} theme={theme} />;
      break;
    }
  }

  return (
    <Box flexDirection="column" width={cols} height={height} overflowY="hidden">
      {layout.mode === 'wide' ? (
        <>
          <Box flexDirection="row" height={phases.height} flexShrink={0}>
            {phasesPane}
            {sliPane}
          </Box>
          <Box flexDirection="row" height={podsBox.height} flexShrink={0}>
            {podsPane}
            {rosterPane}
          </Box>
        </>
      ) : (
        <>
          <Box flexDirection="row" height={phases.height} flexShrink={0}>
            {phasesPane}
            {rosterPane}
          </Box>
          {sliPane}
          {podsPane}
        </>
      )}
      <Live store={store} clock={statusClock} render={(s) => <StatusBar plan={plan} state={s} ui={ui} width={cols} theme={theme} flash={flash} keys={keys} {...(journal ? { journal } : {})} />} />
      {overlay}
    </Box>
  );
}

/** The roster's clock: to the second while a clock counts down (an escalation nobody
 * acknowledged, the rollback notice), else to the minute (who is on call). */
function rosterClock(s: RolloutState): number {
  const ticking = s.incidents.some((i) => i.resolvedAt === undefined && i.ackedAt === undefined) || s.comms.items.some((i) => i.kind === 'rollback-notice' && i.doneAt === undefined);
  return ticking ? Math.floor(s.now / 1000) * 1000 : Math.floor(s.now / 60_000) * 60_000;
}

/** `A`: approve the next gate in a role of the person at this keyboard that the gate still needs
 * (one person fills one role). Says so when there is nothing this person can approve. */
function approveAs(plan: Plan, store: Store, actor: Actor, at: number, say: (text: string | null) => void): void {
  const s = store.getState();
  const g = gateView(plan, s);
  const who = actor.name ?? actor.id;
  if (g.kind !== 'phase' || !g.phase) return say(`✗ nothing to approve: the next move is not a gate (${g.kind})`);
  const missing = g.approvals.filter((a) => !a.given);
  if (!missing.length) return say(`✗ ${g.phase.title}: every approval is in; nothing left to approve`);
  if ((s.approvals[g.phase.id] ?? []).some((a) => a.by === who)) return say(`✗ ${who} already approved ${g.phase.title}; one person fills one role`);
  const mine = missing.find((a) => actor.roles?.includes(a.role));
  if (!mine) return say(`✗ ${who} holds none of the roles ${g.phase.title} still needs: ${missing.map((a) => a.title).join(', ')} (start with --as <person>)`);
  store.dispatch({ type: 'approve', at, actor, phase: g.phase.id, role: mine.role });
  say(`${who} approved ${g.phase.title} as ${mine.title}`);
}

/** Checkpoints of the current phase that came due and wait for a go (none while no traffic is on the canary). */
function dueCheckpoints(plan: Plan, state: RolloutState): { at: number; title: string }[] {
  const phase = compile(plan).phases[state.phaseIndex];
  if (!phase || !trafficOn(state)) return [];
  return (state.checkpoints[phase.id] ?? []).filter((c) => c.dueAt !== undefined && c.ackedAt === undefined);
}

/** `g`'s confirmation: the checkpoint the go is for. */
function describeGo(plan: Plan, state: RolloutState): { allowed: boolean; title: string; lines: string[] } {
  const due = dueCheckpoints(plan, state);
  const phase = compile(plan).phases[state.phaseIndex];
  if (!due.length || !phase) return { allowed: false, title: 'GO at a checkpoint', lines: ['No checkpoint is waiting for a go.'] };
  const c = due[0]!;
  return { allowed: true, title: `GO: ${phase.title}, checkpoint ${formatDuration(c.at)}`, lines: [`"${c.title}" came due.`, 'Giving the go lets the rollout proceed past it; it is journaled under your name.', 'Give the go? y/N'] };
}

/** Whether the open confirmation's `y` would do something now, as its dialog says (the status
 * bar's hints follow it: "any key closes" when not). Undefined for anything else. */
export function confirmAllowed(plan: Plan, state: RolloutState, o: UiState['overlay'], actor: Actor, simulated: boolean): boolean | undefined {
  switch (o.kind) {
    case 'confirm-advance':
      return describeAdvanceFor(plan, state, actor).allowed;
    case 'confirm-rollback':
      return describeRollback(plan, state, simulated).allowed;
    case 'confirm-go':
      return describeGo(plan, state).allowed;
    case 'confirm-deploy':
      return describeDeploy(plan, state, simulated, actor).allowed;
    case 'confirm-validate':
      return describeValidate(plan, state).allowed;
    case 'confirm-flag':
      return describeFlag(plan, state, o.flag, simulated).allowed;
    default:
      return undefined;
  }
}
