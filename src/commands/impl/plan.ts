// `canary validate` and `canary schema`.
import { runSchema, runValidate } from '../../plan/commands.js';
import { loadPlanFile } from '../../plan/loader.js';
import { planSummary } from '../../plan/summary.js';
import { formatMachine, type OutputFormat } from '../output.js';
import type { Ctx } from '../types.js';

/** Text: the summary, or file:line:col lines. json/yaml: one object on stdout either way:
 * `{ file, valid, problems: [{ line, col, path, message }], plan?, summary? }`. */
export async function validate(file: string, output: OutputFormat, ctx: Ctx): Promise<number> {
  if (output === 'text') return runValidate(file, ctx.out, ctx.err);
  const r = loadPlanFile(file);
  const value = r.ok
    ? {
        file,
        valid: true,
        problems: [],
        plan: { name: r.plan.metadata.name, service: r.plan.metadata.service, version: r.plan.metadata.version, regions: r.plan.target.regions, provider: r.plan.traffic.provider, phases: r.plan.phases.map((p) => ({ id: p.id, weights: p.steps.map((s) => s.weight) })) },
        summary: planSummary(r.plan),
      }
    : { file, valid: false, readable: !r.unreadable, problems: r.errors.map((e) => ({ line: e.line, col: e.col, path: e.path, message: e.message })) };
  ctx.out.write(await formatMachine(value, output));
  return r.ok ? 0 : r.unreadable ? 2 : 1;
}

export async function schema(ctx: Ctx): Promise<number> {
  return runSchema(ctx.out);
}
