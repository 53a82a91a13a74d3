// Builds once before the tests that run the real binary (the tmux console test, the headless
// runner), as `npm start` does: only when a file the last build read (or the build scripts,
// package.json, the installed packages) changed since (build/stale.mjs), so a fresh `npm install`
// (whose prepare step built dist/) or an unchanged tree does not pay for a second build.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  const root = new URL('..', import.meta.url).pathname;
  execFileSync(process.execPath, ['build/bundle.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
}
