// Colours for the console, by meaning. Every `color=` in components/ goes through a Theme so that
// NO_COLOR (https://no-color.org: set and non-empty) turns all of them off at once; glyphs
// (✓ ✗ ? ! ▶ ⚑ ⌛) carry the meaning either way, colour only repeats it.
import { processNoColor } from '../src/env.js';

export type Tone =
  | 'ok' // pass, healthy, done
  | 'bad' // fail, crash, rolled back
  | 'warn' // no data, pending, stale, waiting for a person
  | 'info' // current phase, canary series
  | 'muted' // secondary text, baseline series, pending phases
  | 'focus' // the focused pane's border and title
  | 'border' // unfocused borders
  | 'accent'; // key hints

export const PALETTE: Record<Tone, string> = {
  ok: 'green',
  bad: 'red',
  warn: 'yellow',
  info: 'cyan',
  muted: 'gray',
  focus: 'cyan',
  border: 'gray',
  accent: 'magenta',
};

export interface Theme {
  /** false when NO_COLOR is set. */
  readonly enabled: boolean;
  /** The colour for a meaning, or undefined when colours are off (Ink then emits no escape). */
  c(tone: Tone | undefined): string | undefined;
}

/** NO_COLOR set to a non-empty value (default: in this process now; --no-color sets it there,
 * src/env.ts applyToProcess). */
export function noColorRequested(env?: Record<string, string | undefined>): boolean {
  if (!env) return processNoColor();
  const v = env['NO_COLOR'];
  return v !== undefined && v !== '';
}

const OFF: Theme = { enabled: false, c: () => undefined };
const ON: Theme = { enabled: true, c: (tone) => (tone === undefined ? undefined : PALETTE[tone]) };

export function makeTheme(enabled: boolean = !noColorRequested()): Theme {
  return enabled ? ON : OFF;
}
