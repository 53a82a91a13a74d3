// Builds dist/ straight from the TypeScript with esbuild (no tsc: the type check is `npm test`'s).
//   dist/canary.mjs        the CLI (src/cli.ts) and what every command needs
//   dist/chunks/*.mjs      code split out of it: a command's heavy part, loaded by a dynamic
//                          import() only when that command runs (the war room and ws for
//                          serve/join, axios and the Prometheus client for --prometheus...), so
//                          `canary start` compiles only what it uses
//   dist/bench/*.js        the benchmark runner, its workers and floor programs (bench/), one file each
//   dist/.build-inputs.json every file the build read, for `--if-stale`
//   dist/.modules.json      which source files and packages went into each file of the CLI, for
//                           the test that `start` with a cached plan loads neither yaml nor zod
//
//   node build/bundle.mjs              build
//   node build/bundle.mjs --if-stale   build only when a file the last build read (or this script,
//                                      package.json, the installed packages) changed since
//   node build/bundle.mjs --cli        the CLI only (no bench)
//
// Why one bundle and not tsc's ~300 files: Node 20's ESM loader spends ~0.7 s of a cold start
// opening and compiling small module files. Why splitting: `start` never needs the war room, ws,
// axios or prom-client, and compiling them cost ~0.1 s of the first frame.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
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
rmSync(join(dist, 'chunks'), { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const cli = await build({
  ...common,
  entryPoints: [{ in: join(root, 'src/cli.ts'), out: 'canary' }],
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [yogaNoFetch, stringWidthNarrow],
});
// src/cli.ts runs main() only when it is the file Node was started with (import.meta.url equals
// argv[1]). With splitting, a module imported both by the entry and by a dynamically imported
// chunk moves into a shared chunk: if that ever happened to cli.tsx itself, `canary` would start,
// load, and do nothing. Refuse such a build rather than ship it.
const entry = cli.metafile.outputs['dist/canary.mjs'] ?? Object.entries(cli.metafile.outputs).find(([k]) => k.endsWith('dist/canary.mjs'))?.[1];
if (!entry || !Object.keys(entry.inputs).some((i) => i.endsWith('src/cli.ts'))) {
  process.stderr.write(
    'build: src/cli.ts was moved into a shared chunk (a dynamically imported module imports from it), so dist/canary.mjs would not run main().\n' +
      '       Move what that module imports from src/cli.ts (packageRoot, ...) into a module of its own.\n',
  );
  process.exit(1);
}
// The bin's #! line carries the Node options (env -S: coreutils 8.30+, BSD/macOS env).
{
  const file = join(dist, 'canary.mjs');
  const text = readFileSync(file, 'utf8');
  const body = text.startsWith('#!') ? text.slice(text.indexOf('\n') + 1) : text;
  writeFileSync(file, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}\n${body}`, { mode: 0o755 });
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
const help = spawnSync(process.execPath, [...NODE_FLAGS, join(dist, 'canary.mjs'), 'help'], { encoding: 'utf8' });
if (help.status !== 0 || !help.stdout.includes('canary')) {
  process.stderr.write(`build: dist/canary.mjs help failed (exit ${help.status}):\n${help.stdout}${help.stderr}\n`);
  process.exit(1);
}
if (args.has('--verbose'))
  process.stderr.write(`build: ${outputs.map((o) => o).join(', ')} in ${Math.round(performance.now() - started)} ms\n`);
