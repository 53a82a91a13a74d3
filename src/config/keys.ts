// The console's remappable actions (their names, default keys, where they apply and what they
// risk) and the pure checker of `keys:` in canary's config file ($XDG_CONFIG_HOME/canary/config.yaml).
// The file is read at the edge (cli); this module only turns text into a keymap or into errors
// `file:line:col: keys.<action>: what is wrong`, the way a plan is checked.
//
// Safety rules the checker enforces (the house's key rules):
//   - two actions never share a key in one mode (`R` applies everywhere, so it shares with nothing);
//   - an action that changes something on its first key (`acts`) is never on a key people press to
//     move (h j k l g G, arrows, pgup/pgdn, home/end): habit must not approve or stop anything;
//   - rollback stays an uppercase letter (never text a pod filter or an incident summary can type
//     as a command) and `y`, the dialogs' yes, is never remapped.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import type { PlanError } from '../plan/loader.js';

export { ACTIONS, type ActionInfo, type ActionName, type KeyGroup, type KeyKind, type KeyScope } from './actions.js';
import { ACTIONS, type ActionInfo, type ActionName, type KeyScope } from './actions.js';

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** Which keys each action answers to. */
export type Keymap = Readonly<Record<ActionName, readonly string[]>>;
export const DEFAULT_KEYMAP: Keymap = Object.fromEntries(ACTION_NAMES.map((a) => [a, ACTIONS[a].keys])) as unknown as Keymap;

/** Keys people press to move (vim, k9s, lazygit): never an action that acts on its first key. */
export const MOVEMENT_KEYS: readonly string[] = ['h', 'j', 'k', 'l', 'g', 'G', '↑', '↓', '←', '→', 'pgup', 'pgdn', 'home', 'end'];

/** Named keys as written in the config file and in help. Aliases map to the name help shows. */
const NAMED_KEYS: Record<string, string> = {
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

const conflict = (key: string, holder: ActionName) => `"${key}" is already ${holder} (${ACTIONS[holder].help}); two actions cannot share a key`;

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

const KeyList = z.union([z.string(), z.array(z.string()).min(1)]);
export const KeyConfig = z
  .object({
    keys: z.record(z.string(), KeyList).optional(),
  })
  .strict();

export type KeyConfigResult = { ok: true; keymap: Keymap } | { ok: false; errors: PlanError[] };

/** Parses config text: `keys: { rollback: R, ack-incident: [K] }`. Never throws. */
export function parseKeyConfig(text: string, file: string): KeyConfigResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const p = lc.linePos(Math.max(0, Math.min(offset ?? 0, text.length)));
    return { line: Math.max(1, p.line), col: Math.max(1, p.col) };
  };
  const err = (offset: number | undefined, path: string, message: string): PlanError => ({ file, ...at(offset), path, message });
  if (doc.errors.length) return { ok: false, errors: doc.errors.map((e) => err(e.pos[0], '', e.message.split('\n')[0]!)) };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value == null)) return { ok: true, keymap: DEFAULT_KEYMAP };
  const data: unknown = doc.toJS();
  const parsed = KeyConfig.safeParse(data);
  // Where a path points in the document (the key of a map entry when it has one).
  const locate = (path: readonly PropertyKey[], preferKey = false): number | undefined => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as YamlNode | null)?.range?.[0];
    for (const k of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === k);
        if (!pair) return offset;
        offset = (preferKey || path.at(-1) !== k ? (pair.key as YamlNode).range?.[0] : ((pair.value as YamlNode | null)?.range?.[0] ?? (pair.key as YamlNode).range?.[0])) ?? offset;
        if (path.at(-1) === k && preferKey) return (pair.key as YamlNode).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && typeof k === 'number') {
        node = node.items[k];
        offset = (node as YamlNode | undefined)?.range?.[0] ?? offset;
      } else return offset;
    }
    return offset;
  };
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => {
        const path = i.path.map((p) => String(p)).join('.');
        if (i.code === 'unrecognized_keys') return err(locate([...i.path, i.keys[0]!], true), path, `unknown setting "${i.keys.join('", "')}"; expected keys: (a map of action -> key)`);
        return err(locate(i.path), path, i.message);
      }),
    };
  }
  const errors: PlanError[] = [];
  const map: Record<string, readonly string[]> = { ...DEFAULT_KEYMAP };
  for (const [action, value] of Object.entries(parsed.data.keys ?? {})) {
    if (!(action in ACTIONS)) {
      errors.push(err(locate(['keys', action], true), `keys.${action}`, `unknown action "${action}"; actions: ${ACTION_NAMES.join(', ')}`));
      continue;
    }
    const raw = typeof value === 'string' ? [value] : value;
    const keys: string[] = [];
    raw.forEach((r, i) => {
      const k = normalizeKey(r);
      if (k === null) errors.push(err(locate(typeof value === 'string' ? ['keys', action] : ['keys', action, i]), `keys.${action}`, `"${r}" is not a key: one character, or one of ${[...new Set(Object.values(NAMED_KEYS))].join(' ')}`));
      else keys.push(k);
    });
    map[action] = keys;
  }
  if (errors.length) return { ok: false, errors };
  const keymap = map as unknown as Keymap;
  const remapped = new Set(Object.keys(parsed.data.keys ?? {}));
  for (const p of checkKeymap(keymap)) {
    // A shared key is reported at the action the person remapped, naming the one that keeps it.
    if (p.other && !remapped.has(p.action) && remapped.has(p.other)) {
      errors.push(err(locate(['keys', p.other]), `keys.${p.other}`, `${conflict(p.key, p.action)} (remap ${p.action} too, or pick another key)`));
    } else errors.push(err(locate(['keys', p.action]), `keys.${p.action}`, p.message));
  }
  return errors.length ? { ok: false, errors } : { ok: true, keymap };
}
