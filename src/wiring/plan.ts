// Loading the plan for a command: its problems as `file:line:col` lines and a UserError.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../commands/errors.js';
import { formatPlanError, loadPlanFile, loadPlanText, type LoadOptions } from '../plan/loader.js';
import type { Plan } from '../plan/schema.js';
import { DEFAULT_PLAN } from '../paths.js';

/** Loads a plan; its problems go to stderr one per line, then a UserError (exit 1) says what next. */
export function loadPlanOrThrow(file: string, opts: LoadOptions = {}): Plan {
  const r = loadPlanFile(file, opts);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(`${formatPlanError(e)}\n`);
    throw new UserError(r.unreadable ? '' : `the plan has ${r.errors.length} problem(s); fix them, then \`canary validate ${file}\` shows a summary`);
  }
  return r.plan;
}

/** --plan (or the default plan): its path, the plan, and its text (the journal records its hash). */
export function planAndText(values: { plan?: string | undefined }, opts: LoadOptions = {}): { planPath: string; plan: Plan; planText: string } {
  const planPath = resolve(values.plan ?? DEFAULT_PLAN);
  const plan = loadPlanOrThrow(planPath, opts);
  return { planPath, plan, planText: readFileSync(planPath, 'utf8') };
}

/** The plan as the server runs it (a local --plan only if the server sent none). */
export function serverPlan(planText: string | null, url: string, values: { plan?: string | undefined }, opts: LoadOptions = {}): Plan {
  if (planText === null) return planAndText(values, opts).plan;
  const r = loadPlanText(planText, `${url} (plan)`);
  if (!r.ok) throw new UserError(`the server's plan does not load here: ${r.errors.map(formatPlanError).join('; ')}`);
  return r.plan;
}
