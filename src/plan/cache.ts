// A validated plan, cached as JSON under the hash of its text and of the build that validated it.
// Parsing the 27 KB seed plan (YAML with positions, then zod) took ~100 ms of a cold start, a
// quarter of the first frame; reading the cached JSON takes ~2 ms. Only the bundled CLI caches
// (build/bundle.mjs defines the build's id: a new canary never trusts an older one's validation);
// run from source (the tests) every load validates. A cache file that cannot be read or parsed is
// ignored, and the plan is validated as if there were none; nothing here ever fails a load.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from './schema.js';

declare const __CANARY_BUILD_ID__: string | undefined;

/** How many plans are kept (each ~30 KB); the least recently written go first. */
const KEEP = 20;

function buildId(): string | null {
  return typeof __CANARY_BUILD_ID__ === 'string' && __CANARY_BUILD_ID__ ? __CANARY_BUILD_ID__ : null;
}

function fileFor(dir: string, text: string, id: string): string {
  return join(dir, `${createHash('sha256').update(id).update('\0').update(text).digest('hex').slice(0, 40)}.json`);
}

/** The plan validated earlier from exactly this text by this build, or null. `dir`: the cache
 * (src/env.ts planCacheDir: $XDG_CACHE_HOME/canary/plans), null when it is off. */
export function cachedPlan(text: string, dir: string | null): Plan | null {
  const id = buildId();
  if (!id || dir === null) return null;
  try {
    return JSON.parse(readFileSync(fileFor(dir, text, id), 'utf8')) as Plan;
  } catch {
    return null;
  }
}

/** Keeps a plan this build validated from `text`. */
export function cachePlan(text: string, plan: Plan, dir: string | null): void {
  const id = buildId();
  if (!id || dir === null) return;
  try {
    mkdirSync(dir, { recursive: true });
    const file = fileFor(dir, text, id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(plan));
    renameSync(tmp, file);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length > KEEP) {
      const byAge = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t);
      for (const { f } of byAge.slice(0, files.length - KEEP)) unlinkSync(join(dir, f));
    }
  } catch {
    // A cache that cannot be written is no cache: the next start validates again.
  }
}
