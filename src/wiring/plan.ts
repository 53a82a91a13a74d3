// Loading the plan for a command: its problems as `file:line:col` lines and a UserError.
// A plan validated before comes from the cache without loading the YAML parser or the schema
// (src/plan/open.ts).
import { resolve } from 'node:path';
import { UserError } from '../commands/errors.js';
import { openPlanFile, validatePlanTextFrom } from '../plan/open.js';
import { formatPlanError, type LoadOptions } from '../plan/read.js';
import type { Plan } from '../plan/schema.js';
import { DEFAULT_PLAN } from '../paths.js';

/** Loads a plan; its problems go to stderr one per line, then a UserError (exit 1) says what next. */
async function openOrThrow(file: string, opts: LoadOptions = {}): Promise<{ plan: Plan; text: string }> {
  const r = await openPlanFile(file, opts);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(`${formatPlanError(e)}\n`);
    throw new UserError(r.unreadable ? '' : `the plan has ${r.errors.length} problem(s); fix them, then \`canary validate ${file}\` shows a summary`);
  }
  return r;
}

/** --plan (or the default plan): its path, the plan, and its text (the journal records its hash). */
export async function planAndText(values: { plan?: string | undefined }, opts: LoadOptions = {}): Promise<{ planPath: string; plan: Plan; planText: string }> {
  const planPath = resolve(values.plan ?? DEFAULT_PLAN);
  const { plan, text } = await openOrThrow(planPath, opts);
  return { planPath, plan, planText: text };
}

/** The plan as the server runs it (a local --plan only if the server sent none). */
export async function serverPlan(planText: string | null, url: string, values: { plan?: string | undefined }, opts: LoadOptions = {}): Promise<Plan> {
  if (planText === null) return (await planAndText(values, opts)).plan;
  const r = await validatePlanTextFrom(planText, `${url} (plan)`);
  if (!r.ok) throw new UserError(`the server's plan does not load here: ${r.errors.map(formatPlanError).join('; ')}`);
  return r.plan;
}
