// The console's remappable actions (their names, default keys, where they apply and what they
// risk), and the rules a keymap must keep. The checker of `keys:` in canary's config file
// ($XDG_CONFIG_HOME/canary/config.yaml) is ./key-config.ts: it needs the YAML parser and zod, which
// the console loads only when that file exists.
//
// Safety rules the checker enforces (the house's key rules):
//   - two actions never share a key in one mode (`R` applies everywhere, so it shares with nothing);
//   - an action that changes something on its first key (`acts`) is never on a key people press to
//     move (h j k l g G, arrows, pgup/pgdn, home/end): habit must not approve or stop anything;
//   - rollback stays an uppercase letter (never text a pod filter or an incident summary can type
//     as a command) and `y`, the dialogs' yes, is never remapped.

export { ACTIONS, type ActionInfo, type ActionName, type KeyGroup, type KeyKind, type KeyScope } from './actions.js';
import { ACTIONS, type ActionInfo, type ActionName, type KeyScope } from './actions.js';

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** Which keys each action answers to. */
export type Keymap = Readonly<Record<ActionName, readonly string[]>>;
export const DEFAULT_KEYMAP: Keymap = Object.fromEntries(ACTION_NAMES.map((a) => [a, ACTIONS[a].keys])) as unknown as Keymap;

/** Keys people press to move (vim, k9s, lazygit): never an action that acts on its first key. */
export const MOVEMENT_KEYS: readonly string[] = ['h', 'j', 'k', 'l', 'g', 'G', '↑', '↓', '←', '→', 'pgup', 'pgdn', 'home', 'end'];

/** Named keys as written in the config file and in help. Aliases map to the name help shows. */
export const NAMED_KEYS: Record<string, string> = {
  tab: 'tab',
  'shift-tab': 'shift-tab',
  esc: 'esc',
  escape: 'esc',
  enter: 'enter',
  return: 'enter',
  up: '↑',
  '↑': '↑',
  down: '↓',
  '↓': '↓',
  left: '←',
  '←': '←',
  right: '→',
  '→': '→',
  pgup: 'pgup',
  pageup: 'pgup',
  pgdn: 'pgdn',
  pagedown: 'pgdn',
  home: 'home',
  end: 'end',
};

/** A key as written (`K`, `up`, `pgdn`) -> its canonical name, or null when it is not a key. */
export function normalizeKey(raw: string): string | null {
  if (NAMED_KEYS[raw.toLowerCase()] !== undefined) return NAMED_KEYS[raw.toLowerCase()]!;
  const chars = [...raw];
  if (chars.length === 1 && raw > ' ' && raw !== '\u007f') return raw;
  return null;
}

/** The modes in which two actions may not share a key: the main screen with each pane focused. */
function modesOf(scope: KeyScope): string[] {
  if (scope === 'always' || scope === 'main') return ['pods', 'slis', 'other'];
  return [scope];
}

export interface KeymapProblem {
  action: ActionName;
  key: string;
  message: string;
  /** For a shared key: the action that had it first. */
  other?: ActionName;
}

export const conflict = (key: string, holder: ActionName) => `"${key}" is already ${holder} (${ACTIONS[holder].help}); two actions cannot share a key`;

/** Every rule a keymap breaks (empty when it is fine). */
export function checkKeymap(map: Keymap): KeymapProblem[] {
  const out: KeymapProblem[] = [];
  const seen = new Map<string, ActionName>(); // `${mode} ${key}` -> first action
  for (const action of ACTION_NAMES) {
    const info: ActionInfo = ACTIONS[action];
    for (const key of map[action]) {
      if (info.kind === 'acts' && MOVEMENT_KEYS.includes(key))
        out.push({ action, key, message: `"${key}" is a key people press to move (${MOVEMENT_KEYS.join(' ')}); ${action} acts on its first key, so habit would ${info.help.split(' (')[0]}. Pick another key` });
      if (action === 'rollback' && !/^[A-Z]$/.test(key))
        out.push({ action, key, message: `rollback must be an uppercase letter A-Z (it works from every dialog and the filter prompt, where lowercase keys are text); got "${key}"` });
      if (key === 'y' || key === 'Y') out.push({ action, key, message: `"${key}" is the dialogs' yes and cannot be remapped` });
      for (const mode of modesOf(info.scope)) {
        const other = seen.get(`${mode} ${key}`);
        if (other && other !== action) {
          out.push({ action, key, other, message: conflict(key, other) });
          break;
        }
        seen.set(`${mode} ${key}`, action);
      }
    }
  }
  return out;
}
