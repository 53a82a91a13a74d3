// Builds once before the tests that run the real binary (the tmux console test, the headless
// runner), exactly as `npm start` would: tsc, then the one-file bundle.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'inherit' });
}
