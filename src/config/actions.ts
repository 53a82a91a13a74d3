// The console's remappable actions: names, default keys, where they apply and what they risk. A leaf
// module (no imports), so `canary start --help` can list the keys without loading yaml or zod.

/** Where an action applies: everywhere (rollback), on the main screen, or in one focused pane. */
export type KeyScope = 'always' | 'main' | 'pods' | 'slis';
/** What the first key does: `acts` changes something at once; `asks` opens a dialog that `y`
 * confirms; `view` only moves, opens or closes something to look at. */
export type KeyKind = 'acts' | 'asks' | 'view';
export type KeyGroup = 'Rollout' | 'People' | 'Clock' | 'Panes' | 'Pods' | 'General';

export interface ActionInfo {
  keys: readonly string[];
  scope: KeyScope;
  kind: KeyKind;
  group: KeyGroup;
  help: string;
  /** The word the status bar uses next to the key. */
  hint: string;
}

export const ACTIONS = {
  rollback: { keys: ['R'], scope: 'always', kind: 'asks', group: 'Rollout', help: 'roll back (y confirms)', hint: 'rollback' },
  advance: { keys: ['a'], scope: 'main', kind: 'asks', group: 'Rollout', help: 'advance (next gate/step)', hint: 'advance' },
  go: { keys: ['g'], scope: 'main', kind: 'asks', group: 'Rollout', help: 'GO at a due checkpoint (y confirms)', hint: 'go' },
  approve: { keys: ['A'], scope: 'main', kind: 'acts', group: 'Rollout', help: 'approve the next gate in your role', hint: 'approve' },
  pause: { keys: ['p'], scope: 'main', kind: 'acts', group: 'Rollout', help: 'pause / resume the bake', hint: 'pause' },
  load: { keys: ['l'], scope: 'main', kind: 'asks', group: 'Rollout', help: 'load test: pick, y starts, watch', hint: 'load' },
  'stop-load': { keys: ['x'], scope: 'main', kind: 'acts', group: 'Rollout', help: 'stop the load test (esc too)', hint: 'stop load' },
  // The runbook (issue 17): the checklist before a gate, the deploy steps, a no-go, validation.
  checklist: { keys: ['t'], scope: 'main', kind: 'view', group: 'Rollout', help: 'checklist before the next gate: tick items (named, journaled)', hint: 'checklist' },
  deploy: { keys: ['d'], scope: 'main', kind: 'asks', group: 'Rollout', help: "deploy steps of the next phase, its values filled in (y runs them)", hint: 'deploy' },
  'no-go': { keys: ['n'], scope: 'main', kind: 'asks', group: 'Rollout', help: 'NO-GO at a due checkpoint, with your reason (enter records it)', hint: 'no-go' },
  flags: { keys: ['F'], scope: 'main', kind: 'view', group: 'Rollout', help: 'feature flags: approve in your role (A), enable (e, y confirms)', hint: 'flags' },
  validate: { keys: ['V'], scope: 'main', kind: 'asks', group: 'Rollout', help: 'run the post-rollout validation (or the rollback verification) again', hint: 'validate' },
  'declare-incident': { keys: ['i'], scope: 'main', kind: 'asks', group: 'People', help: 'declare an incident (P0/P1/P2 + summary)', hint: 'incident' },
  'ack-incident': { keys: ['!'], scope: 'main', kind: 'asks', group: 'People', help: 'acknowledge: stop the escalation clock', hint: 'ack' },
  'resolve-incident': { keys: ['I'], scope: 'main', kind: 'asks', group: 'People', help: 'resolve an incident', hint: 'resolve' },
  communications: { keys: ['c'], scope: 'main', kind: 'view', group: 'People', help: 'communications: preview, w writes files', hint: 'comms' },
  // The embedded simulated world's clock only (never real time, a replay or a joined viewer).
  'clock-slower': { keys: ['-'], scope: 'main', kind: 'acts', group: 'Clock', help: 'simulated clock slower (embedded world)', hint: 'slower' },
  'clock-faster': { keys: ['+', '='], scope: 'main', kind: 'acts', group: 'Clock', help: 'simulated clock faster (embedded world)', hint: 'faster' },
  'clock-pause': { keys: ['.'], scope: 'main', kind: 'acts', group: 'Clock', help: 'pause / resume the simulated clock', hint: 'clock' },
  'focus-next': { keys: ['tab'], scope: 'main', kind: 'view', group: 'Panes', help: 'next pane', hint: 'focus' },
  'focus-prev': { keys: ['shift-tab'], scope: 'main', kind: 'view', group: 'Panes', help: 'previous pane', hint: 'focus' },
  details: { keys: ['enter'], scope: 'slis', kind: 'view', group: 'Panes', help: 'SLI details (SLIs pane)', hint: 'details' },
  runbook: { keys: ['o'], scope: 'main', kind: 'view', group: 'Panes', help: "runbook pane: the commands' output (o again or esc closes)", hint: 'output' },
  inspect: { keys: ['enter'], scope: 'pods', kind: 'view', group: 'Pods', help: 'describe the marked pod (>) and follow its log (pods pane)', hint: 'describe' },
  filter: { keys: ['/'], scope: 'main', kind: 'view', group: 'Pods', help: 'filter pods (enter/esc)', hint: 'filter' },
  up: { keys: ['↑', 'k'], scope: 'main', kind: 'view', group: 'Pods', help: 'scroll up / previous SLI', hint: 'up' },
  down: { keys: ['↓', 'j'], scope: 'main', kind: 'view', group: 'Pods', help: 'scroll down / next SLI', hint: 'down' },
  'pod-sort': { keys: ['s'], scope: 'main', kind: 'view', group: 'Pods', help: 'sort pods: unhealthy first, name, age, restarts', hint: 'sort' },
  'page-up': { keys: ['pgup'], scope: 'pods', kind: 'view', group: 'Pods', help: 'page up', hint: 'page up' },
  'page-down': { keys: ['pgdn'], scope: 'pods', kind: 'view', group: 'Pods', help: 'page down', hint: 'page down' },
  home: { keys: ['home'], scope: 'pods', kind: 'view', group: 'Pods', help: 'first row', hint: 'first' },
  end: { keys: ['end'], scope: 'pods', kind: 'view', group: 'Pods', help: 'last row', hint: 'last' },
  help: { keys: ['?'], scope: 'main', kind: 'view', group: 'General', help: 'this help', hint: 'help' },
  close: { keys: ['esc'], scope: 'main', kind: 'view', group: 'General', help: 'close / clear the filter', hint: 'close' },
  quit: { keys: ['q'], scope: 'main', kind: 'view', group: 'General', help: 'quit (asks if running)', hint: 'quit' },
} as const satisfies Record<string, ActionInfo>;

export type ActionName = keyof typeof ACTIONS;
