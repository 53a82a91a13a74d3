// `canary validate <file>` and `canary schema`.
import { formatPlanError, loadPlanFile, type LoadOptions } from './loader.js';
import { planJsonSchema } from './jsonschema.js';
import { planSummary } from './summary.js';
import { stopLines } from './authority.js';
import { printable } from './printable.js';

/** Loads and checks a plan. Prints the summary and `✓ <file> is a valid plan` to `out` and returns
 * 0; or every problem (`file:line:col: path: message`) and `✗ N problem(s) in <file>` to `err` and
 * returns 1; or returns 2 when the file cannot be read. */
export function runValidate(file: string, outStream: NodeJS.WritableStream, errStream: NodeJS.WritableStream, opts: LoadOptions = {}): number {
  // The plan's text (its names, an unknown key echoed in a problem) is shown, never obeyed.
  const out = { write: (text: string) => outStream.write(printable(text, 'newline')) };
  const err = { write: (text: string) => errStream.write(printable(text, 'newline')) };
  const result = loadPlanFile(file, opts);
  if (result.ok) {
    out.write(`${planSummary(result.plan)}\n\n`);
    for (const w of result.warnings ?? []) err.write(`${formatPlanError(w).replace(/^([^ ]+: )/, '$1warning: ')}\n`);
    out.write(`who can stop the rollout, and how:\n${stopLines(result.plan).join('\n')}\n\n`);
    out.write(`✓ ${file} is a valid plan${result.warnings?.length ? ` (${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'})` : ''}\n`);
    return 0;
  }
  for (const e of result.errors) err.write(`${formatPlanError(e)}\n`);
  if (result.unreadable) return 2;
  const n = result.errors.length;
  err.write(`✗ ${n} problem${n === 1 ? '' : 's'} in ${file}\n`);
  return 1;
}

/** Prints the plan's JSON Schema, 2-space indented. */
export function runSchema(out: NodeJS.WritableStream): number {
  out.write(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
  return 0;
}
