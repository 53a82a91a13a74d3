// `canary validate` and `canary schema`.
import { runSchema, runValidate } from '../../plan/commands.js';
import { loadPlanFile } from '../../plan/loader.js';
import { planSummary } from '../../plan/summary.js';
import type { OutputFormat } from '../output.js';
import { formatMachine } from './machine.js';
import type { Ctx } from '../types.js';
import { planCacheDir } from '../../env.js';
import { UsageError } from '../errors.js';

/** Text: the summary, or file:line:col lines. json/yaml: one object on stdout either way:
 * `{ file, valid, problems: [{ line, col, path, message }], plan?, summary? }`. */
export async function validate(file: string, output: OutputFormat, ctx: Ctx, live: { against?: string | undefined; 'prometheus-header'?: string[] | undefined; 'prometheus-ca'?: string | undefined } = {}): Promise<number> {
  if (live.against !== undefined) {
    if (output !== 'text') throw new UsageError('--against prints text; leave out -o');
    const code = runValidate(file, ctx.out, ctx.err, { cacheDir: planCacheDir(ctx.env) });
    const r = loadPlanFile(file, { cacheDir: planCacheDir(ctx.env) });
    if (code !== 0 || !r.ok) return code;
    // Each SLI query once against a live server: its shape (one series, a vector) and a finite value in range.
    const [{ runValidateAgainst }, { prometheusOptions }] = await Promise.all([import('../../sources/validate-live.js'), import('../../wiring/prometheus.js')]);
    return runValidateAgainst(r.plan, prometheusOptions(r.plan, { prometheus: live.against, 'prometheus-header': live['prometheus-header'], 'prometheus-ca': live['prometheus-ca'] }, ctx.env), ctx.out);
  }
  if (output === 'text') return runValidate(file, ctx.out, ctx.err, { cacheDir: planCacheDir(ctx.env) });
  const r = loadPlanFile(file, { cacheDir: planCacheDir(ctx.env) });
  const value = r.ok
    ? {
        file,
        valid: true,
        problems: [],
        plan: { name: r.plan.metadata.name, service: r.plan.metadata.service, version: r.plan.metadata.version, regions: r.plan.target.regions, provider: r.plan.traffic.provider, phases: r.plan.phases.map((p) => ({ id: p.id, weights: p.steps.map((s) => s.weight) })) },
        summary: planSummary(r.plan),
      }
    : { file, valid: false, readable: !r.unreadable, problems: r.errors.map((e) => ({ line: e.line, col: e.col, path: e.path, message: e.message })) };
  ctx.out.write(formatMachine(value, output));
  return r.ok ? 0 : r.unreadable ? 2 : 1;
}

export async function schema(ctx: Ctx): Promise<number> {
  return runSchema(ctx.out);
}
