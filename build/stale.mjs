// Is dist/ up to date? build/bundle.mjs records every file a build read (from esbuild's metafile)
// with its modification time in dist/.build-inputs.json; the build is stale when one of them (or
// the build scripts, package.json, the installed packages) changed, or an output is missing.
// Plain stat calls over ~100 files: ~2 ms, so `npm start` can ask every time.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const stampFile = join(root, 'dist', '.build-inputs.json');
/** Files whose change makes any build stale, besides the ones esbuild reports reading. */
export const alwaysInputs = ['build/bundle.mjs', 'build/stale.mjs', 'build/no-devtools.mjs', 'build/narrow-chars.mjs', 'build/patch-ink.mjs', 'package.json', 'node_modules/.package-lock.json'];

export function mtime(file, base = root) {
  try {
    return Math.floor(statSync(join(base, file)).mtimeMs); // to the ms: a copy or a restore keeps no more
  } catch {
    return -1;
  }
}

/** True when the last build's inputs are all unchanged and its outputs are there. `withBench`:
 * the last build must also have built the benchmarks. */
export function upToDate(withBench, at = { root, stampFile }) {
  let last;
  try {
    last = JSON.parse(readFileSync(at.stampFile, 'utf8'));
  } catch {
    return false;
  }
  if (withBench && !last.bench) return false;
  for (const out of last.outputs) if (mtime(out, at.root) < 0) return false;
  for (const [file, t] of Object.entries(last.inputs)) if (mtime(file, at.root) !== t) return false;
  return true;
}
