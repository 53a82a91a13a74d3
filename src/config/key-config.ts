// The checker of `keys:` in canary's config file ($XDG_CONFIG_HOME/canary/config.yaml): turns its
// text into a keymap, or into errors `file:line:col: keys.<action>: what is wrong`, the way a plan
// is checked. The file is read at the edge (./file.ts), which loads this module (and with it the
// YAML parser and zod) only when there is a file; the keymap's rules are ./keys.ts.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import type { PlanError } from '../plan/read.js';
import { ACTION_NAMES, ACTIONS, checkKeymap, conflict, DEFAULT_KEYMAP, NAMED_KEYS, normalizeKey, type Keymap } from './keys.js';

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
