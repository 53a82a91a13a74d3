// The bin, dist/canary.mjs: loads the CLI (dist/canary-app.cjs, src/cli.ts bundled as one script)
// through V8's code cache (src/code-cache.ts says why and how it is kept safe).
//
// The bundle is a script, not an ES module, because Node 20 gives a code cache to scripts only
// (vm.Script's cachedData). What a script cannot do itself, this module does for it, through the
// parameters of the function the bundle is wrapped in:
//   - yoga-layout (Ink's layout engine) initialises its WebAssembly with a top-level await: it is
//     loaded here and handed over (the bundle's 'yoga-layout' is build/yoga-global.mjs). A Node
//     without WebAssembly (--jitless) hands over why instead: the commands that draw say so, the
//     others run;
//   - import() of what stays in node_modules (@kubernetes/client-node, autocannon, blessed): a
//     script compiled with cached data cannot import(), so the build turns those calls into
//     __canaryImport(), which is this module's import();
//   - import.meta.url is this file's URL, so the CLI finds the package root and knows it was
//     started (src/cli.ts, src/paths.ts) as when it was this file itself.
import { loadYoga } from 'yoga-layout/load';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { cacheFile, KeepPolicy, readCache, SAVE_CODE_CACHE, writeCache, type CacheScope, type SaveRequest } from './code-cache.js';
import { readEnv } from './env.js';

declare const __CANARY_APP_HASH__: string;

const self = fileURLToPath(import.meta.url);
const app = join(dirname(self), 'canary-app.cjs');
const env = readEnv();

/** Ends the process with one line (and the stack under CANARY_DEBUG=1): what a broken install or
 * a failure before the CLI's own handlers looks like. */
function fail(what: string, err: unknown): never {
  process.stderr.write(`canary: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
  if (env.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

(globalThis as Record<symbol, unknown>)[Symbol.for('canary.yoga')] =
  typeof WebAssembly === 'undefined'
    ? new Error('this Node runs without WebAssembly (--jitless?)')
    : await loadYoga().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

// What happened to the cache, on stderr under CANARY_DEBUG=1; once a console is on screen, at exit,
// after it left the alternate screen (a line written over it would scroll it and then be lost).
const said: string[] = [];
let onScreen = false;
const say = (line: string) => {
  if (!env.debug) return;
  if (onScreen) said.push(`canary: code cache ${line}\n`);
  else process.stderr.write(`canary: code cache ${line}\n`);
};
const dir = join(env.cacheHome, 'canary', 'code');
const on = env.codeCache;

/** The bundle compiled, with the cached code when there is a good one. In a function of its own so
 * that neither the file's text (the script keeps its own copy) nor the cached bytes stay alive. */
function compile(): { script: vm.Script; file: string; taken: CacheScope | null } {
  let source: string;
  let file: string;
  try {
    // The key names this very file (its size, time and inode besides the build's hash): V8 checks
    // only a source's length, so a bundle edited to the same length must not meet the old code.
    const st = statSync(app);
    file = cacheFile(dir, __CANARY_APP_HASH__, { version: process.version, arch: process.arch, execArgv: process.execArgv, nodeOptions: env.vars.NODE_OPTIONS, app: `${st.size}:${st.mtimeMs}:${st.ino}:${st.dev}` });
    // The bundle is plain ASCII (esbuild escapes the rest): latin1 reads it as it is, in half the time of utf8.
    source = readFileSync(app, 'latin1');
  } catch (err) {
    fail(`cannot read ${app} (npm install builds it; npm run build rebuilds it)`, err);
  }
  const cached = on ? readCache(file, dir) : { data: null, why: 'off (CANARY_CODE_CACHE=off)' };
  let script: vm.Script;
  try {
    script = new vm.Script(`(function (require, module, exports, __filename, __dirname, __canaryMetaUrl, __canaryImport) {${source}\n})`, {
      filename: app,
      ...(cached.data ? { cachedData: cached.data } : {}),
    });
  } catch (err) {
    fail(`${app} does not compile (npm run build rebuilds it)`, err);
  }
  const taken = cached.data !== null && !script.cachedDataRejected ? cached.scope : null;
  say(`${file}: ${taken ? 'used' : cached.data ? 'refused by V8 (another V8 or other flags): compiled from source' : `${cached.why}: compiled from source`}`);
  return { script, file, taken };
}
const { script, file, taken } = compile();

const policy = new KeepPolicy(taken);
/** Keeps the code compiled so far when the policy wants it (src/code-cache.ts keepCompiledCode: a
 * console right after its first frame; any command a second in, just before src/heap.ts changes a
 * V8 flag, after which nothing is kept; and the exit of a command that found no usable cache). */
function save(request: SaveRequest): void {
  if (request.scope === 'console' && !onScreen) {
    onScreen = true;
    // Registered now, after the console's own exit handler (src/commands/screen.ts altScreen): runs after it.
    if (env.debug) process.once('exit', () => process.stderr.write(said.join('')));
  }
  if (!on || !policy.wants(request)) return;
  const wrote = writeCache(file, dir, script.createCachedData(), request.scope);
  say(`${file}: ${typeof wrote === 'number' ? `written (${wrote} bytes, ${request.scope})` : `not written: ${wrote}`}`);
}
(globalThis as Record<symbol, unknown>)[SAVE_CODE_CACHE] = save;
if (on && !taken) process.once('exit', () => save({ scope: 'command' }));

let main: (...args: unknown[]) => void;
try {
  main = script.runInThisContext() as typeof main;
} catch (err) {
  fail(`${app} does not load (npm run build rebuilds it)`, err);
}
const module = { exports: {} };
try {
  main(createRequire(app), module, module.exports, app, dirname(app), import.meta.url, (specifier: string) => import(specifier));
} catch (err) {
  // Thrown while the CLI's modules load, before src/cli.ts has its own handlers.
  fail('internal error while loading', err);
}
