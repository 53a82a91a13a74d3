// 'yoga-layout' as the CLI bundle (dist/canary-app.cjs) sees it: the instance the bin
// (src/launcher.ts) loaded. yoga-layout initialises its WebAssembly with a top-level await, which
// a script (what V8 can cache, see src/code-cache.ts) cannot do. Without WebAssembly (node
// --jitless) the bin hands over why: Ink is loaded only by the commands that draw, and they stop
// here with one line; every other command runs.
import { UserError } from '../src/commands/errors.js';

const yoga = globalThis[Symbol.for('canary.yoga')];
if (!yoga) throw new Error('canary: dist/canary-app.cjs is loaded by dist/canary.mjs (the bin), not on its own');
if (yoga instanceof Error)
  throw new UserError(`this command draws in the terminal, and its layout engine (yoga) could not start: ${yoga.message}. Run it with a Node that has WebAssembly (without --jitless); run --headless, status and the other commands work without it`);
export default yoga;
