// 'yoga-layout' as the CLI bundle (dist/canary-app.cjs) sees it: the instance the bin
// (src/launcher.ts) imported. yoga-layout initialises its WebAssembly with a top-level await,
// which a script (what V8 can cache, see src/code-cache.ts) cannot do.
const yoga = globalThis[Symbol.for('canary.yoga')];
if (!yoga) throw new Error('canary: dist/canary-app.cjs is loaded by dist/canary.mjs (the bin), not on its own');
export default yoga;
