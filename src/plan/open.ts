// Opening a plan to run it: the cached, already validated plan when there is one (no YAML parser,
// no schema: ./read.ts), else the whole validation, whose module (./loader.ts with yaml and zod) is
// loaded only then. `canary start` on an unchanged plan thereby compiles ~0.7 MB less.
import { cachedPlanFor, readPlanText, type LoadOptions, type LoadResult } from './read.js';

/** A plan opened to run, with the file's text as read (the journal records its hash). */
export type OpenResult = (Extract<LoadResult, { ok: true }> & { text: string }) | Extract<LoadResult, { ok: false }>;

/** Reads, then takes the plan from the cache or validates it (and caches it). */
export async function openPlanFile(path: string, opts: LoadOptions = {}): Promise<OpenResult> {
  const read = readPlanText(path);
  if (!read.ok) return read;
  const cached = cachedPlanFor(read.text, opts);
  if (cached) return { ok: true, plan: cached, file: path, text: read.text };
  const { validatePlanText } = await import('./loader.js');
  const r = validatePlanText(read.text, path, opts);
  return r.ok ? { ...r, text: read.text } : r;
}

/** Validates plan text that came from elsewhere (a war-room server); `from` names it in errors. */
export async function validatePlanTextFrom(text: string, from: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const { loadPlanText } = await import('./loader.js');
  return loadPlanText(text, from, opts);
}
