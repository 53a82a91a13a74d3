// Reads canary's config file, $XDG_CONFIG_HOME/canary/config.yaml (default ~/.config/canary/config.yaml),
// at the edge (the cli): the checking itself is pure (keys.ts). No file is the built-in keys; a file
// that cannot be read or does not check is an error naming the file, the line and the column.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatPlanError } from '../plan/loader.js';
import { DEFAULT_KEYMAP, parseKeyConfig, type Keymap } from './keys.js';

/** Where the config file is: `configHome` is $XDG_CONFIG_HOME or ~/.config (src/env.ts reads it once). */
export function configPath(configHome: string = join(homedir(), '.config')): string {
  return join(configHome, 'canary', 'config.yaml');
}

/** The keymap in force: the built-in keys when there is no config file. */
export function loadKeymap(file: string): { ok: true; keymap: Keymap; from: string | null } | { ok: false; errors: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, keymap: DEFAULT_KEYMAP, from: null };
    return { ok: false, errors: [`${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const r = parseKeyConfig(text, file);
  return r.ok ? { ok: true, keymap: r.keymap, from: file } : { ok: false, errors: r.errors.map(formatPlanError) };
}
