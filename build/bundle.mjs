// Builds dist/ straight from the TypeScript with esbuild (no tsc: the type check is `npm test`'s).
//   dist/canary.mjs        the bin (src/launcher.ts): yoga, and the V8 code cache it compiles
//                          the CLI with (src/code-cache.ts)
//   dist/canary-app.cjs    the CLI (src/cli.ts and everything it uses), one CommonJS script: a
//                          command's heavy part it does not run sits in it as functions never
//                          called (esbuild wraps each lazily loaded module), which with the code
//                          cache cost neither a parse nor a compile
//   dist/bench/*.js        the benchmark runner, its workers and floor programs (bench/), one file each
//   dist/.build-inputs.json every file the build read, for `--if-stale`
//   dist/.modules.json      which source files and packages went into each file of the CLI
//
//   node build/bundle.mjs              build
//   node build/bundle.mjs --if-stale   build only when a file the last build read (or this script,
//                                      package.json, the installed packages) changed since
//   node build/bundle.mjs --cli        the CLI only (no bench)
//
// Why one bundle and not tsc's ~300 files: Node 20's ESM loader spends ~0.7 s of a cold start
// opening and compiling small module files. Why a script and not ES modules split by command:
// Node 20 gives a code cache to scripts only, and with it the first frame comes about as soon as
// a bare Ink app's (the split ES modules: ~1.3x).
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { alwaysInputs, mtime, root, stampFile, upToDate } from './stale.mjs';

const dist = join(root, 'dist');

/** Node options of the bin (its #! line) and of `npm start` (package.json, kept equal by
 * test/perf.test.tsx). A young generation of at most 8 MB a semi-space (V8's default grows to
 * 16): the soak's RSS at the end 137 MB instead of 147, at no cost to the start. The lean heap
 * for the long run (--optimize-for-size) is turned on after the first frame (src/heap.ts): on the
 * command line it cost ~15% of the first frame. */
const NODE_FLAGS = ['--max-semi-space-size=8'];
const args = new Set(process.argv.slice(2));

if (args.has('--if-stale') && upToDate(!args.has('--cli'))) process.exit(0);

const { build } = await import('esbuild');
// Ink as build/patch-ink.mjs leaves it (npm install runs it; again here, so a pull that changed the
// patch needs no reinstall): idempotent, a few file reads when nothing changed.
spawnSync(process.execPath, [join(root, 'build', 'patch-ink.mjs')], { stdio: 'inherit' });

/** Names this build's validation logic: every source file under src/ and the zod and yaml
 * versions. src/plan/cache.ts keys cached plans by it, so a plan validated by an older canary is
 * validated again by a newer one. */
function buildId() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(e.name)) hash.update(rel).update('\0').update(readFileSync(join(root, rel))).update('\0');
    }
  };
  walk('src');
  for (const pkg of ['zod', 'yaml']) {
    try {
      hash.update(readFileSync(join(root, 'node_modules', pkg, 'package.json')));
    } catch {
      // not installed: the build fails below anyway
    }
  }
  return hash.digest('hex').slice(0, 16);
}

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  metafile: true,
  // React's production build: the development one checks and warns on every render (~25% slower).
  define: { 'process.env.NODE_ENV': '"production"', __CANARY_BUILD_ID__: JSON.stringify(buildId()) },
  // Less text for V8 to compile at start; identifiers are kept so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  // Ink imports react-devtools-core only when DEV=true; it is not installed, so link a stub.
  alias: { 'react-devtools-core': join(root, 'build/no-devtools.mjs') },
  // @kubernetes/client-node (and its node-fetch, openid-client, ws...) is loaded from
  // node_modules, and only by the Kubernetes commands (a dynamic import in src/kube/config.ts).
  // autocannon (CommonJS, with worker files of its own) is loaded from node_modules when a load
  // test starts. ws's optional native helpers (bufferutil, utf-8-validate) are required in a
  // try/catch: absent, ws uses its JavaScript code. blessed and blessed-contrib (CommonJS, large)
  // are loaded only by `canary wall`, with a dynamic import.
  external: ['@kubernetes/client-node', 'autocannon', 'bufferutil', 'utf-8-validate', 'blessed', 'blessed-contrib'],
  // Bundled CommonJS (ws, yaml's deps...) calls require(); give each output file one.
  banner: { js: "import { createRequire as __canaryRequire } from 'node:module'; const require = __canaryRequire(import.meta.url);" },
};

/** yoga-layout's wasm loader (Emscripten) asks `typeof fetch` before decoding the wasm it carries
 * as a data: URI, and then fetches that URI: Node's global fetch is a lazy getter that loads
 * undici, ~100-250 ms of every start (found in the start-up CPU profile). The other loading path
 * of the same file already checks for the data: URI first (`ua(H)`); this does the same here, so
 * the bytes are decoded directly, as Emscripten's newer glue does. Only that one expression of
 * that one file; a yoga-layout without it builds unchanged. */
const yogaNoFetch = {
  name: 'yoga-no-fetch',
  setup(b) {
    b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      const from = 'return w||"function"!=typeof fetch?';
      return { contents: text.split(from).length === 2 ? text.replace(from, 'return w||ua(H)||"function"!=typeof fetch?') : text, loader: 'js' };
    });
  },
};

/** string-width answers a string of printable ASCII with its length without segmenting it into
 * graphemes; every frame's borders, sparklines and symbols (│ ▁▂▃ ✓ ● ·) went the slow way
 * (Intl.Segmenter and four Unicode regular expressions per grapheme: ~9 ms of the first frame's
 * profile). The same shortcut for the characters of build/narrow-chars.mjs, which are one column
 * and a grapheme each (test/ink-patch.test.tsx checks every one against string-width itself).
 * Only that one test of that one file; a string-width without it builds unchanged. */
const stringWidthNarrow = {
  name: 'string-width-narrow',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (a) => {
      const { NARROW_CLASS } = await import('./narrow-chars.mjs');
      const text = readFileSync(a.path, 'utf8');
      const from = 'if (/^[\\u0020-\\u007E]*$/.test(string)) {';
      return { contents: text.split(from).length === 2 ? text.replace(from, () => `if (/^[${NARROW_CLASS}]*$/.test(string)) {`) : text, loader: 'js' };
    });
  },
};

/** Ink's own files for the floors: each file build/patch-ink.mjs patched is loaded from the copy
 * it kept (output.canary-stock.js...). Without that copy the floors cannot be built honestly. */
const stockInk = {
  name: 'stock-ink',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/][a-z-]+\.js$/ }, async (a) => {
      const { PATCHES, stockPath } = await import('./patch-ink.mjs');
      const name = a.path.replace(/^.*[\\/]/, '');
      if (!(name in PATCHES)) return undefined;
      const text = readFileSync(a.path, 'utf8');
      if (!text.startsWith('/* patched by canary')) return { contents: text, loader: 'js' };
      try {
        return { contents: readFileSync(stockPath(a.path), 'utf8'), loader: 'js' };
      } catch {
        return { errors: [{ text: `${a.path} is patched and Ink's own copy (${stockPath(a.path)}) is missing: reinstall Ink (rm -rf node_modules/ink && npm install)` }] };
      }
    });
  },
};

const started = performance.now();
rmSync(join(dist, 'canary.mjs'), { force: true });
rmSync(join(dist, 'canary-app.cjs'), { force: true });
rmSync(join(dist, 'chunks'), { recursive: true, force: true }); // the split ESM build of before
mkdirSync(dist, { recursive: true });

/** What stays in node_modules and is loaded by import() (see `external`): in the script bundle such
 * a call becomes __canaryImport(), the bin's import() (src/launcher.ts: a script compiled with
 * cached data cannot import() itself). */
const IMPORTED = ['@kubernetes/client-node', 'autocannon', 'blessed', 'blessed-contrib'];

/** Ink's reconciler awaits two imports at its top level when DEV=true (React devtools, which are
 * not installed: build/no-devtools.mjs): a script cannot await there. Those two expressions
 * become what they give without DEV; Ink without them builds unchanged, and a new top-level await
 * fails the build with esbuild's own message. */
const inkNoTopLevelAwait = {
  name: 'ink-no-top-level-await',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8')
        .replace("await import('./devtools.js');", 'void 0;')
        .replace('? await loadPackageJson()', '? { name: undefined, version: undefined }');
      return { contents: text, loader: 'js' };
    });
  },
};

// The CLI: src/cli.ts and everything it uses, one script (CommonJS format), which the bin
// compiles through V8's code cache (src/launcher.ts, src/code-cache.ts). One script, not chunks:
// a command's heavy part that it does not run (the war room for \`start\`, yaml and zod when the
// plan is cached) sits in the file as functions never called, which with the cache cost neither
// a parse nor a compile.
const cli = await build({
  ...common,
  format: 'cjs',
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: join(dist, 'canary-app.cjs'),
  // The bin's wrapper gives require, import.meta.url (its own, src/launcher.ts) and import().
  banner: {},
  define: { ...common.define, 'import.meta.url': '__canaryMetaUrl' },
  alias: { ...common.alias, 'yoga-layout': join(root, 'build/yoga-global.mjs') },
  // Plain ASCII (the default; the bin reads it as latin1).
  charset: 'ascii',
  plugins: [stringWidthNarrow, inkNoTopLevelAwait],
});
{
  const file = join(dist, 'canary-app.cjs');
  let text = readFileSync(file, 'latin1');
  // src/cli.ts's #! line: inside the bin's wrapper function it would be a syntax error.
  if (text.startsWith('#!')) text = `//${text}`;
  const calls = new RegExp(`\\bimport\\(("(?:${IMPORTED.map((m) => m.replace(/[/-]/g, '\\$&')).join('|')}|node:[a-z0-9_/]+)")\\)`, 'g');
  text = text.replace(calls, '__canaryImport($1)');
  const left = text.match(/\bimport\([^)]{0,60}/g);
  if (left) {
    process.stderr.write(
      `build: dist/canary-app.cjs still calls import() (${left.join(', ')}): a script compiled with V8's code cache cannot.\n` +
        '       Bundle that module, or add it to IMPORTED in build/bundle.mjs (then it is loaded from node_modules by the bin).\n',
    );
    process.exit(1);
  }
  if (/[^\x00-\x7f]/.test(text)) {
    process.stderr.write('build: dist/canary-app.cjs is not plain ASCII (esbuild charset), and the bin reads it as latin1\n');
    process.exit(1);
  }
  writeFileSync(file, text, 'latin1');
  const appHash = createHash('sha256').update(text).digest('hex');
  // The bin: yoga-layout, the code cache, and the script above. Its #! line carries the Node
  // options (env -S: coreutils 8.30+, BSD/macOS env).
  const bin = await build({
    ...common,
    entryPoints: [join(root, 'src/launcher.ts')],
    outfile: join(dist, 'canary.mjs'),
    define: { ...common.define, __CANARY_APP_HASH__: JSON.stringify(appHash) },
    banner: { js: `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}\n${common.banner.js}` },
    plugins: [yogaNoFetch],
  });
  for (const [out, meta] of Object.entries(bin.metafile.outputs)) cli.metafile.outputs[out] = meta;
  Object.assign(cli.metafile.inputs, bin.metafile.inputs);
  chmodSync(join(dist, 'canary.mjs'), 0o755);
}
// Each output file of the CLI and what went into it (esbuild's metafile, inputs only).
writeFileSync(
  join(dist, '.modules.json'),
  JSON.stringify(Object.fromEntries(Object.entries(cli.metafile.outputs).filter(([f]) => !f.endsWith('.map')).map(([f, o]) => [f, Object.keys(o.inputs)]))),
);
const metas = [cli.metafile];
if (!args.has('--cli')) {
  rmSync(join(dist, 'bench'), { recursive: true, force: true });
  const bench = await build({
    ...common,
    // Worker and floor programs sit beside run.js, which starts them by file name.
    entryPoints: ['run.tsx', 'warroom-viewers.ts', 'kube-servers.ts', 'floors/ws-clients.ts'].map((f) => ({ in: join(root, 'bench', f), out: f.replace(/^.*\//, '').replace(/\.tsx?$/, '') })),
    outdir: join(dist, 'bench'),
    // The console measured in process (frames, the soak) is built as the CLI's is.
    plugins: [yogaNoFetch, stringWidthNarrow],
    // autocannon and client-node stay in node_modules, as for the CLI.
  });
  metas.push(bench.metafile);
  // The Ink floors are stock Ink 6.8: Ink's own files, not the ones build/patch-ink.mjs patched
  // (kept beside them at install). A floor drawn by our patched output step would be our work
  // measured against itself.
  const floors = await build({
    ...common,
    entryPoints: ['floors/ink-app.tsx', 'floors/ink-fullscreen.tsx'].map((f) => ({ in: join(root, 'bench', f), out: f.replace(/^.*\//, '').replace(/\.tsx?$/, '') })),
    outdir: join(dist, 'bench'),
    plugins: [stockInk],
  });
  metas.push(floors.metafile);
}
const inputs = {};
const outputs = [];
for (const m of metas) {
  for (const file of Object.keys(m.inputs)) if (!file.includes('node_modules/')) inputs[file] = mtime(file);
  for (const file of Object.keys(m.outputs)) if (!file.endsWith('.map')) outputs.push(file);
}
for (const file of alwaysInputs) inputs[file] = mtime(file);
writeFileSync(stampFile, JSON.stringify({ bench: !args.has('--cli'), inputs, outputs }));
// A quick proof the entry runs (catches a broken split before a person or a test does).
// (No code cache: a build writes nothing outside dist/.)
const help = spawnSync(process.execPath, [...NODE_FLAGS, join(dist, 'canary.mjs'), 'help'], { encoding: 'utf8', env: { ...process.env, CANARY_CODE_CACHE: 'off' } });
if (help.status !== 0 || !help.stdout.includes('canary')) {
  process.stderr.write(`build: dist/canary.mjs help failed (exit ${help.status}):\n${help.stdout}${help.stderr}\n`);
  process.exit(1);
}
if (args.has('--verbose'))
  process.stderr.write(`build: ${outputs.map((o) => o).join(', ')} in ${Math.round(performance.now() - started)} ms\n`);
