// Links tsc's output (dist/) into one file, dist/canary.mjs, so the CLI starts in ~0.2 s instead of
// ~1 s: Node 20's ESM loader spends most of a cold start opening and compiling ~300 small module
// files. tsc still does all the compiling and type checking; esbuild only concatenates JavaScript.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}/dist/src/cli.js`],
  outfile: `${root}/dist/canary.mjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  // React's production build: the development one checks and warns on every render (~25% slower).
  define: { 'process.env.NODE_ENV': '"production"' },
  // Less text for V8 to compile at start; identifiers are kept so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  // Ink imports react-devtools-core only when DEV=true; it is not installed, so link a stub.
  alias: { 'react-devtools-core': `${root}/build/no-devtools.mjs` },
  // @kubernetes/client-node (and its node-fetch, openid-client, ws...) is loaded from
  // node_modules, and only by the Kubernetes commands (a dynamic import in src/kube/config.ts):
  // the embedded world's first frame does not pay for compiling it.
  // autocannon (CommonJS, with worker files of its own) is loaded from node_modules when a load
  // test starts, not linked in: it costs the start-up nothing.
  // ws's optional native helpers (bufferutil, utf-8-validate) are required in a try/catch: absent,
  // ws uses its JavaScript code. blessed and blessed-contrib (CommonJS, large) are loaded only by
  // `canary wall`, with a dynamic import, so no other command pays for them.
  external: ['@kubernetes/client-node', 'autocannon', 'bufferutil', 'utf-8-validate', 'blessed', 'blessed-contrib'],
  banner: { js: "import { createRequire as __canaryRequire } from 'node:module'; const require = __canaryRequire(import.meta.url);" },
});
