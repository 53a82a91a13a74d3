// The keymap in force for a console command: the built-in keys, or the user's config file
// ($XDG_CONFIG_HOME/canary/config.yaml) checked like a plan; a bad file stops before any screen.
import { configPath, loadKeymap } from '../../config/file.js';
import type { Keymap } from '../../config/keys.js';
import type { CanaryEnv } from '../../env.js';
import { UserError } from '../errors.js';

export function keymapOrFail(env: CanaryEnv): Keymap {
  const r = loadKeymap(configPath(env.configHome));
  if (!r.ok) throw new UserError(r.errors.join('\n'));
  return r.keymap;
}
