// Keys of the load-test picker (`l`) and its confirmation: ↑/↓ (or k/j) choose, enter or the
// row's number picks, y in the confirmation starts it (and opens the load pane), any other key
// cancels. Kept apart from keys.ts so the dispatcher there only asks this first.
import type { KeyContext, KeyLike, KeyResult, UiState } from './keys.js';

export function handleLoadKey(ui: UiState, input: string, key: KeyLike, ctx: KeyContext): KeyResult | null {
  const single = input.length <= 1;
  const tests = ctx.loadTests ?? [];
  if (ui.overlay === 'confirm-load') {
    const closed: UiState = { ...ui, overlay: 'none' };
    const yes = single && input === 'y' && !key.ctrl && !key.meta;
    if (!yes || !ui.loadName) return { ui: closed };
    return { ui: { ...closed, loadPane: true }, command: { kind: 'load-test', name: ui.loadName } };
  }
  if (ui.overlay !== 'load-picker') return null;
  const closed: UiState = { ...ui, overlay: 'none' };
  if (tests.length === 0) return { ui: closed }; // the picker only explained: any key closes it
  const i = Math.max(0, Math.min(tests.length - 1, ui.loadIndex ?? 0));
  if (key.upArrow || (single && input === 'k')) return { ui: { ...ui, loadIndex: Math.max(0, i - 1) } };
  if (key.downArrow || (single && input === 'j')) return { ui: { ...ui, loadIndex: Math.min(tests.length - 1, i + 1) } };
  const n = single && /^[1-9]$/.test(input) ? Number(input) - 1 : -1;
  if (key.return || (n >= 0 && n < tests.length)) {
    const pick = n >= 0 ? n : i;
    return { ui: { ...ui, overlay: 'confirm-load', loadIndex: pick, loadName: tests[pick]! } };
  }
  return { ui: closed }; // esc, q, l, anything else: close
}
