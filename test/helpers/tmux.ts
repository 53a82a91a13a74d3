// A real terminal for end-to-end tests: tmux sessions, their screens, and waiting for a screen.
import { execFileSync } from 'node:child_process';

export function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

export function screen(session: string): string {
  return tmux('capture-pane', '-p', '-t', session);
}

/** Polls the session's screen until `ok`; throws with `what` and the last screen seen. */
export async function waitFor(session: string, ok: (s: string) => boolean, what = 'the expected screen', ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    try {
      last = screen(session);
    } catch {
      // the session ended (the app exited); report what we saw last
      break;
    }
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the screen never showed ${what}; last screen:\n${last}`);
}
