// The bin, dist/canary.mjs: loads the CLI (dist/canary-app.cjs, src/cli.ts bundled as one script)
// through V8's code cache (src/code-cache.ts says why and how it is kept safe).
//
// The bundle is a script, not an ES module, because Node 20 gives a code cache to scripts only
// (vm.Script's cachedData). What a script cannot do itself, this module does for it, through the
// parameters of the function the bundle is wrapped in:
//   - yoga-layout (Ink's layout engine) initialises its WebAssembly with a top-level await: it is
//     imported here and handed over (the bundle's 'yoga-layout' is build/yoga-global.mjs);
//   - import() of what stays in node_modules (@kubernetes/client-node, autocannon, blessed): a
//     script compiled with cached data cannot import(), so the build turns those calls into
//     __canaryImport(), which is this module's import();
//   - import.meta.url is this file's URL, so the CLI finds the package root and knows it was
//     started (src/cli.ts, src/paths.ts) as when it was this file itself.
import Yoga from 'yoga-layout';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { cacheFile, readCache, SAVE_CODE_CACHE, writeCache, type CacheScope } from './code-cache.js';
import { readEnv } from './env.js';

declare const __CANARY_APP_HASH__: string;

const self = fileURLToPath(import.meta.url);
const app = join(dirname(self), 'canary-app.cjs');
(globalThis as Record<symbol, unknown>)[Symbol.for('canary.yoga')] = Yoga;

const env = readEnv();
const say = env.debug ? (line: string) => process.stderr.write(`canary: code cache ${line}\n`) : () => undefined;
const dir = join(env.cacheHome, 'canary', 'code');
const file = cacheFile(dir, __CANARY_APP_HASH__, { version: process.version, arch: process.arch, execArgv: process.execArgv, nodeOptions: env.vars.NODE_OPTIONS });
const on = env.codeCache;

/** The bundle compiled, with the cached code when there is a good one. In a function of its own so
 * that neither the file's text (the script keeps its own copy) nor the cached bytes stay alive. */
function compile(): { script: vm.Script; taken: CacheScope | null } {
  const cached = on ? readCache(file, dir) : { data: null, why: 'off (CANARY_CODE_CACHE=off)' };
  // The bundle is plain ASCII (esbuild escapes the rest): latin1 reads it as it is, in half the time of utf8.
  const source = readFileSync(app, 'latin1');
  const script = new vm.Script(`(function (require, module, exports, __filename, __dirname, __canaryMetaUrl, __canaryImport) {${source}\n})`, {
    filename: app,
    ...(cached.data ? { cachedData: cached.data } : {}),
  });
  const taken = cached.data !== null && !script.cachedDataRejected ? cached.scope : null;
  say(`${file}: ${taken ? 'used' : cached.data ? 'refused by V8 (another V8 or other flags): compiled from source' : `${cached.why}: compiled from source`}`);
  return { script, taken };
}
const { script, taken } = compile();

let saved = false;
/** Keeps the code compiled so far, when there was no usable cache or a console was given another
 * command's (src/code-cache.ts keepCompiledCode: a console right after its first frame; any
 * command a second in, before src/heap.ts changes a V8 flag, the flags being part of what a cache
 * must match), and at the exit of a command that found no usable cache and ended sooner. */
function save(scope: CacheScope): void {
  if (saved || !on) return;
  if (taken && !(scope === 'console' && taken !== 'console')) return;
  saved = true;
  const wrote = writeCache(file, dir, script.createCachedData(), scope);
  say(`${file}: ${typeof wrote === 'number' ? `written (${wrote} bytes, ${scope})` : `not written: ${wrote}`}`);
}
(globalThis as Record<symbol, unknown>)[SAVE_CODE_CACHE] = save;
if (on && !taken) process.once('exit', () => save('command'));

const main = script.runInThisContext() as (...args: unknown[]) => void;
const module = { exports: {} };
main(createRequire(app), module, module.exports, app, dirname(app), import.meta.url, (specifier: string) => import(specifier));
