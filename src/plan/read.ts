// The part of loading a plan that needs neither YAML nor zod: reading the file (refusing one too
// big to be a plan), the validated-plan cache (./cache.ts), and how a problem is reported
// (`file:line:col: path: message`). `canary start` with a plan validated before goes no further
// than this: the parser and the schema (./loader.ts, ~0.7 MB of yaml and zod) are loaded only when
// the plan must be validated (./open.ts).
import { readFileSync, statSync } from 'node:fs';
import type { Plan } from './schema.js';
import { cachedPlan } from './cache.js';

/** Where the plan will run: `simulated` (its SLIs come from the embedded world) adds the checks
 * that world needs (every SLI says what it simulates). */
export interface LoadOptions {
  simulated?: boolean;
  /** The plan cache (src/env.ts planCacheDir); none when absent or null. */
  cacheDir?: string | null;
}

export interface PlanError {
  file: string;
  /** 1-based; 0 when the problem concerns the file as a whole (it cannot be read). */
  line: number;
  /** 1-based; 0 together with line 0. */
  col: number;
  /** Dotted key path such as `phases[1].steps[0].weight`; empty for syntax and file errors. */
  path: string;
  message: string;
}

export type LoadResult =
  /** `warnings`: legal, but probably not meant (a decision point that may never be asked), with positions. */
  | { ok: true; plan: Plan; file: string; warnings?: PlanError[] }
  /** `unreadable` is set when the file could not be read at all (missing, a directory, no access). */
  | { ok: false; errors: PlanError[]; unreadable?: true };

/** `file:line:col: path: message`; the path part is left out when empty, the position when 0. */
export function formatPlanError(e: PlanError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.col}` : e.file;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** Plans larger than this are refused before they are parsed (the reference plan is ~20 KB). */
export const MAX_PLAN_BYTES = 1024 * 1024;

export function tooBig(file: string, bytes: number): LoadResult & { ok: false } {
  return {
    ok: false,
    errors: [{ file, line: 0, col: 0, path: '', message: `the plan is ${(bytes / 1024 / 1024).toFixed(1)} MB; canary reads plans of at most ${MAX_PLAN_BYTES / 1024 / 1024} MB (is this the right file?)` }],
  };
}

/** A plan file's text, or why it cannot be had (one error with line 0). */
export function readPlanText(path: string): { ok: true; text: string } | (LoadResult & { ok: false }) {
  try {
    const size = statSync(path).size;
    if (size > MAX_PLAN_BYTES) return tooBig(path, size);
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, unreadable: true, errors: [{ file: path, line: 0, col: 0, path: '', message: `cannot read: ${message}` }] };
  }
}

/** The cache key of a plan's text: validated for the simulated world, a plan passes more checks. */
export function cacheKey(text: string, opts: LoadOptions): string {
  return opts.simulated ? `simulated\0${text}` : text;
}

/** The plan this build validated before from exactly this text (and for the same place to run),
 * or null: then it must be validated (see cache.ts). */
export function cachedPlanFor(text: string, opts: LoadOptions): Plan | null {
  return cachedPlan(cacheKey(text, opts), opts.cacheDir ?? null);
}
