// ink-testing-library renders at 100 columns whatever the App is told: resize its stdout so Ink
// lays out at the terminal size under test too.
import type { render } from 'ink-testing-library';

export function sized<R extends ReturnType<typeof render>>(r: R, columns: number, rows: number): R {
  Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true });
  Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
  r.stdout.emit('resize');
  return r;
}
