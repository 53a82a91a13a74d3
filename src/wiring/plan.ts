// Loading the plan for a command: its problems as `file:line:col` lines and a UserError.
// A plan validated before comes from the cache without loading the YAML parser or the schema
// (src/plan/open.ts).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../commands/errors.js';
import { openPlanFile, validatePlanTextFrom } from '../plan/open.js';
import { formatPlanError, type LoadOptions } from '../plan/read.js';
import type { Plan } from '../plan/schema.js';
import { DEFAULT_PLAN } from '../paths.js';
import { printable } from '../plan/printable.js';

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

/** The plan name and plan-text hash a journal's header (its first line) records; null when the
 * file has no readable header (reading the journal then says what is wrong with it). */
function journalHeaderPlan(journal: string): { plan: string; planHash: string } | null {
  let fd: number;
  try {
    fd = openSync(journal, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const nl = text.indexOf('\n');
    const entry = JSON.parse(nl >= 0 ? text.slice(0, nl) : text) as { event?: { type?: unknown; plan?: unknown; planHash?: unknown } };
    const e = entry.event;
    return e && e.type === 'journal.open' && typeof e.plan === 'string' && typeof e.planHash === 'string' ? { plan: e.plan, planHash: e.planHash } : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Why `journal` cannot be replayed with the plan that was loaded, in words that say which plan
 * file was read (the one given with --plan, or the default when none was) and what to pass; null
 * when its header records this very plan text (or has no header to compare with). */
export function journalPlanMismatch(journal: string, loaded: { planPath: string; plan: Plan; planText: string }, given: string | undefined): string | null {
  const h = journalHeaderPlan(journal);
  if (!h) return null;
  const hash = createHash('sha256').update(loaded.planText).digest('hex');
  if (h.plan === loaded.plan.metadata.name && h.planHash === hash) return null;
  const rel = relative(process.cwd(), loaded.planPath);
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : loaded.planPath;
  const which = given !== undefined ? `--plan ${given}` : `the default plan, ${shown} (no --plan was given)`;
  // The journal's plan name is the file's text (a tampered one can hold escapes): shown, not obeyed.
  const what =
    h.plan !== loaded.plan.metadata.name
      ? `${journal} is the journal of plan "${printable(h.plan)}", and ${which} is plan "${loaded.plan.metadata.name}"`
      : `${journal} was written with another plan file than ${which}: both are plan "${printable(h.plan)}", but the text differs (sha256 ${hash.slice(0, 12)}..., the journal's ${h.planHash.slice(0, 12)}...), and replaying with another plan would not give the rollout's state`;
  return `${what}; pass the plan file it ran with, unchanged: --plan <file>`;
}
