// A validated plan, cached as JSON under the hash of its text and of the build that validated it.
// Parsing the 27 KB seed plan (YAML with positions, then zod) took ~100 ms of a cold start, a
// quarter of the first frame; reading the cached JSON takes ~2 ms. Only the bundled CLI caches
// (build/bundle.mjs defines the build's id: a new canary never trusts an older one's validation);
// run from source (the tests) every load validates. A cache file that cannot be read or parsed, is
// not this user's alone, or does not match its checksum is ignored, and the plan is validated as
// if there were none (and cached again); nothing here ever fails a load.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Plan } from './schema.js';
import { keepNewest, readPrivate, writePrivate } from '../private-file.js';

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
 * (src/env.ts planCacheDir: $XDG_CACHE_HOME/canary/plans), null when it is off. The plan is used
 * without validating it again, so the file must be this user's alone (src/private-file.ts) and
 * its checksum must match: a flipped digit in a threshold would still be valid JSON. */
export function cachedPlan(text: string, dir: string | null): Plan | null {
  const id = buildId();
  if (!id || dir === null) return null;
  const read = readPrivate(fileFor(dir, text, id), dir);
  if (!read.data) return null;
  try {
    const body = read.data.toString('utf8');
    const nl = body.indexOf('\n');
    const json = body.slice(nl + 1);
    if (nl !== 64 || createHash('sha256').update(json).digest('hex') !== body.slice(0, 64)) return null;
    return JSON.parse(json) as Plan;
  } catch {
    return null;
  }
}

/** Keeps a plan this build validated from `text`: its SHA-256 on the first line, then the JSON. */
export function cachePlan(text: string, plan: Plan, dir: string | null): void {
  const id = buildId();
  if (!id || dir === null) return;
  const json = JSON.stringify(plan);
  // A cache that cannot be written is no cache: the next start validates again.
  if (writePrivate(fileFor(dir, text, id), dir, `${createHash('sha256').update(json).digest('hex')}\n${json}`) === null) keepNewest(dir, /^[0-9a-f]{40}\.json$/, KEEP);
}
