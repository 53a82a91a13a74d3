// The console's memory over days, without paying for it at start.
//
// V8's --optimize-for-size keeps the heap it commits close to what is live: the soak (the whole
// seed plan, 6,000 pods, the console at 10 frames a second) ends at ~130 MB RSS with it and
// ~226 MB without, for ~37 MB live either way. Given on the command line it also slows the start:
// small young generation from the first allocation, more collections, less optimised code; the
// first frame took ~15% longer (bench: first_frame_ms, interleaved runs). So the bin starts with
// a bounded young generation only (--max-semi-space-size=8, build/bundle.mjs; no cost at start)
// and turns --optimize-for-size on here once the first frame is out: from then on V8's heap
// growing and reducing follow it (soak: ~137 MB at the end, goal 150).
//
// The same moment keeps the V8 code cache of the CLI when no console did at its first frame
// (src/code-cache.ts), and it must come first: the V8 flags are part of what a cached compilation
// must match, so code cached after the flag below changed would be refused by every later start.
//
// v8.setFlagsFromString after start is Node's documented way to change a V8 flag at run time;
// this one only steers heuristics (how much heap to keep, when to give it back), never what a
// program computes. Loaded lazily: node:v8 is not on the way to the first frame.
import { keepCompiledCode } from './code-cache.js';

/** Turns on --optimize-for-size `afterMs` from now (the timer never keeps the process alive),
 * after keeping the compiled code when the bin wants it. */
export function leanHeapSoon(afterMs = 1000): void {
  setTimeout(() => {
    keepCompiledCode('command', { last: true });
    void import('node:v8').then((v8) => v8.setFlagsFromString('--optimize-for-size'));
  }, afterMs).unref();
}
